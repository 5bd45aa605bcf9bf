"""The project's one configuration file, ``cpanalysis.toml``, read into a typed object.

Everything a council changes lives here (its name and code, the suppression threshold, its
own targets for the scorecard) so that neither the library nor the notebooks carry a
council's settings in code. Paths are resolved against the folder of the file, never against
the current directory, so the scheduled job and an analyst in Jupyter see the same project.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cpanalysis.errors import InputError

__all__ = ["Config", "load_config", "CONFIG_NAME", "HASH_KEY_ENV", "COST_KEYS"]

CONFIG_NAME = "cpanalysis.toml"
#: Environment variable holding the key for pseudonymising child IDs (wins over the file).
HASH_KEY_ENV = "CPANALYSIS_HASH_KEY"
#: ``[costs]`` keys and the sufficiency placement groups they price
#: (:data:`cpanalysis.stock_flow.GROUPS`).
COST_KEYS = {
    "fostering_in_house": "Fostering: in-house",
    "fostering_agency": "Fostering: agency",
    "kinship_fostering": "Kinship fostering",
    "residential": "Residential",
    "semi_independent": "Semi-independent",
    "placed_for_adoption": "Placed for adoption",
    "other": "Other",
}
_SCENARIO_KEYS = {"name", "entry_rate_change", "agency_to_in_house"}


@dataclass(frozen=True)
class Config:
    """Settings of one project (one council).

    Attributes
    ----------
    root : Path
        The project folder (where ``cpanalysis.toml`` is).
    council_name, council_code : str
        The council's name and DfE three-digit code (``"999"`` for the demo council).
    suppression_threshold : int
        Counts from 1 to this value are published as ``c`` (DfE symbol for confidential).
    forecast_horizon : int
        How many years ahead annual forecasts go (months ahead = 12 times this).
    benchmark_source : str
        ``"built-in"`` (England's published figures shipped with the library) or a folder
        of DfE Explore Education Statistics CSV files.
    compare_with : tuple[str, ...]
        Other councils (names or codes) to compare with when DfE tables are supplied.
    statistical_neighbours : tuple[str, ...]
        The councils whose average the scorecard shows beside England (names or codes, as
        the DfE spells them), or one file name: the DfE's statistical-neighbour model
        (e.g. ``sn_may_2025.xlsx``, looked for in the benchmark folder, then the project
        folder), from which the council's ten neighbours are read. Needs DfE tables.
    population : dict[int, int]
        ONS mid-year estimate of children aged 0-17 in the council, by collection year,
        for rates per 10,000 (optional).
    targets : dict[str, float]
        The council's own targets by measure id; they replace England as the RAG yardstick.
    demo : dict[str, Any]
        Settings of the synthetic council (seed, size, years) used when ``data/raw`` is empty.
    hash_key : str | None
        Key for pseudonymising child IDs, from the environment or the file (never committed
        for real data: see :func:`cpanalysis.deidentify.hash_key`).
    unit_costs : dict[str, float]
        Weekly cost of a placement in pounds by sufficiency placement group (``[costs]``,
        keys as in :data:`COST_KEYS`); empty when the file gives none.
    unit_costs_are_examples : bool
        ``[costs] examples = true``: the costs are illustrative, and every page showing
        them says so.
    scenario : dict[str, Any]
        ``[scenario]``: ``name``, ``entry_rate_change`` (e.g. 0.1 = 10% more entries) and
        ``agency_to_in_house`` (share of new agency fostering placements made in-house).
    """

    root: Path
    council_name: str = "Demo council (synthetic data)"
    council_code: str = "999"
    suppression_threshold: int = 5
    forecast_horizon: int = 3
    benchmark_source: str = "built-in"
    compare_with: tuple[str, ...] = ()
    statistical_neighbours: tuple[str, ...] = ()
    population: dict[int, int] = field(default_factory=dict)
    targets: dict[str, float] = field(default_factory=dict)
    demo: dict[str, Any] = field(default_factory=dict)
    hash_key: str | None = None
    unit_costs: dict[str, float] = field(default_factory=dict)
    unit_costs_are_examples: bool = False
    scenario: dict[str, Any] = field(default_factory=dict)

    @property
    def raw_dir(self) -> Path:
        """Where a council puts its real returns."""
        return self.root / "data" / "raw"

    @property
    def processed_dir(self) -> Path:
        """Where cleaned, de-identified tables are written."""
        return self.root / "data" / "processed"

    @property
    def demo_dir(self) -> Path:
        """Where synthetic returns are generated when ``data/raw`` holds none (git-ignored)."""
        return self.root / "data" / "demo"


def load_config(root: str | Path | None = None) -> Config:
    """Read ``cpanalysis.toml`` from ``root`` (default: the current folder).

    A missing file gives the defaults, so a fresh clone runs on the demo council.

    Raises
    ------
    InputError
        If the file is not valid TOML or a value has the wrong type.
    """
    root = Path(root or Path.cwd()).resolve()
    path = root / CONFIG_NAME
    data: dict[str, Any] = {}
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise InputError(f"not valid TOML ({exc})", file=path) from exc
    council = data.get("council", {})
    privacy = data.get("privacy", {})
    analysis = data.get("analysis", {})
    try:
        population = {int(k): int(v) for k, v in data.get("population", {}).items()}
        targets = {str(k): float(v) for k, v in data.get("targets", {}).items()}
        threshold = int(privacy.get("suppression_threshold", 5))
        neighbours = analysis.get("statistical_neighbours", [])
        neighbours = (neighbours,) if isinstance(neighbours, str) else tuple(neighbours)
        if not all(isinstance(n, str | int) for n in neighbours):
            raise TypeError("statistical_neighbours must be council names or codes, or a file")
        horizon = int(analysis.get("forecast_horizon", 3))
    except (TypeError, ValueError) as exc:
        raise InputError(f"a value has the wrong type ({exc})", file=path) from exc
    costs, examples = _costs(data.get("costs", {}), path)
    scenario = _scenario(data.get("scenario", {}), path)
    return Config(
        root=root,
        council_name=str(council.get("name", Config.council_name)),
        council_code=str(council.get("code", Config.council_code)),
        suppression_threshold=threshold,
        forecast_horizon=horizon,
        benchmark_source=str(analysis.get("benchmark_source", "built-in")),
        compare_with=tuple(str(x) for x in analysis.get("compare_with", [])),
        statistical_neighbours=tuple(str(n) for n in neighbours),
        population=population,
        targets=targets,
        demo=dict(data.get("demo", {})),
        hash_key=os.environ.get(HASH_KEY_ENV) or privacy.get("hash_key"),
        unit_costs=costs,
        unit_costs_are_examples=examples,
        scenario=scenario,
    )


def _costs(section: dict[str, Any], path: Path) -> tuple[dict[str, float], bool]:
    """``[costs]``: weekly unit costs (pounds, >= 0) by group, and the examples flag."""
    unknown = set(section) - set(COST_KEYS) - {"examples"}
    if unknown:
        raise InputError(
            f"[costs] has unknown keys {sorted(unknown)}; use {sorted(COST_KEYS)} and examples",
            file=path,
        )
    costs = {}
    for key, group in COST_KEYS.items():
        if key not in section:
            continue
        value = section[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise InputError(
                f"[costs] {key} must be a weekly cost in pounds (a number, 0 or more), "
                f"not {value!r}",
                file=path,
            )
        costs[group] = float(value)
    examples = section.get("examples", False)
    if not isinstance(examples, bool):
        raise InputError(f"[costs] examples must be true or false, not {examples!r}", file=path)
    return costs, examples


def _scenario(section: dict[str, Any], path: Path) -> dict[str, Any]:
    """``[scenario]``: a name, an entry-rate change (> -1) and an agency shift (0 to 1)."""
    unknown = set(section) - _SCENARIO_KEYS
    if unknown:
        raise InputError(
            f"[scenario] has unknown keys {sorted(unknown)}; use {sorted(_SCENARIO_KEYS)}",
            file=path,
        )
    out: dict[str, Any] = {"name": str(section.get("name", "Scenario"))}
    for key, low, high in (("entry_rate_change", -1.0, 10.0), ("agency_to_in_house", 0.0, 1.0)):
        value = section.get(key, 0.0)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not (low <= value <= high)
        ):
            raise InputError(
                f"[scenario] {key} must be a number from {low:g} to {high:g}, not {value!r}",
                file=path,
            )
        out[key] = float(value)
    return out
