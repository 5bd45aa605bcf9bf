"""Load the processed tables (``data/processed/``) that every analysis starts from.

``cpanalysis clean`` writes one Parquet file per table over all collection years, the
data-quality report and ``clean_manifest.json`` (``docs/design.md``, Contract 1).
:func:`load_processed` reads them back into one :class:`ProcessedData` object, so a notebook
needs one line, and an absent table (a council that sent no missing-episodes file, the
social-worker table before 2023-24) is an empty frame with the right columns instead of an
``AttributeError`` halfway through a chart.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from cpanalysis import schema
from cpanalysis.errors import InputError

__all__ = [
    "TABLES",
    "MANIFEST_NAME",
    "ProcessedData",
    "load_processed",
    "processed_columns",
    "empty_table",
]

#: Every table key, in the order of the return (the newest tables last).
TABLES: tuple[str, ...] = (
    "header",
    "episodes",
    "uasc",
    "reviews",
    "ad1",
    "placed_adoption",
    "prev_perm",
    "oc2",
    "oc3",
    "missing",
    "sw_episodes",
    "dolo",
)

MANIFEST_NAME = "clean_manifest.json"

#: Schema column type -> dtype in processed data (Contract 1).
_DTYPES = {
    "date": "datetime64[ns]",
    "date_zz": "datetime64[ns]",  # ZZ parts read as the 1st / January by cleaning
    "code": "category",
    "flag": "Int64",
    "int": "Int64",
    "id": "string",
    "postcode": "string",
}
#: Columns the pipeline adds, by table (``None`` = every table).
_ADDED: dict[str | None, dict[str, str]] = {
    None: {"YEAR": "int64", "LA": "string"},
    "episodes": {"PL_DISTANCE": "float64", "REPAIR": "string"},
}
#: Columns removed by de-identification.
_DROPPED = {"UPN"}


def processed_columns(table: str) -> dict[str, str]:
    """Columns and dtypes of a processed table: DfE columns (no UPN) + YEAR, LA (+ episodes').

    Columns are those of the latest return that collects the table, which for SSDA903 has
    only ever added columns.
    """
    spec = None
    for year in reversed(schema.collection_years()):
        specs = schema.table_specs(year)
        if table in specs:
            spec = specs[table]
            break
    if spec is None:
        raise KeyError(f"unknown SSDA903 table {table!r}")
    columns = {
        name: _DTYPES.get(col.type, "string")
        for name, col in spec.columns.items()
        if name not in _DROPPED
    }
    columns.update(_ADDED[None])
    columns.update(_ADDED.get(table, {}))
    return columns


def empty_table(table: str) -> pd.DataFrame:
    """A processed table with no rows but every column, typed as in Contract 1."""
    return pd.DataFrame(
        {name: pd.Series(dtype=dtype) for name, dtype in processed_columns(table).items()}
    )


@dataclass
class ProcessedData:
    """All processed tables of one council, every collection year merged.

    Attributes
    ----------
    header, episodes, uasc, reviews, ad1, placed_adoption, prev_perm, oc2, oc3, missing,
    sw_episodes, dolo : DataFrame
        One frame per table (empty with the right columns when the returns had none).
    years : list[int]
        Collection years present (2025 = 2024-25), ascending.
    la_code, council_name : str
        From the manifest (the configured council).
    is_demo : bool
        True when the tables were made from synthetic returns.
    quality_summary : DataFrame
        Rows read, kept and set aside per input file and table (``quality_report.json``).
    manifest : dict
        The whole ``clean_manifest.json``.
    """

    header: pd.DataFrame = field(default_factory=lambda: empty_table("header"))
    episodes: pd.DataFrame = field(default_factory=lambda: empty_table("episodes"))
    uasc: pd.DataFrame = field(default_factory=lambda: empty_table("uasc"))
    reviews: pd.DataFrame = field(default_factory=lambda: empty_table("reviews"))
    ad1: pd.DataFrame = field(default_factory=lambda: empty_table("ad1"))
    placed_adoption: pd.DataFrame = field(default_factory=lambda: empty_table("placed_adoption"))
    prev_perm: pd.DataFrame = field(default_factory=lambda: empty_table("prev_perm"))
    oc2: pd.DataFrame = field(default_factory=lambda: empty_table("oc2"))
    oc3: pd.DataFrame = field(default_factory=lambda: empty_table("oc3"))
    missing: pd.DataFrame = field(default_factory=lambda: empty_table("missing"))
    sw_episodes: pd.DataFrame = field(default_factory=lambda: empty_table("sw_episodes"))
    dolo: pd.DataFrame = field(default_factory=lambda: empty_table("dolo"))
    years: list[int] = field(default_factory=list)
    la_code: str = ""
    council_name: str = ""
    is_demo: bool = False
    quality_summary: pd.DataFrame = field(default_factory=pd.DataFrame)
    manifest: dict[str, Any] = field(default_factory=dict)

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table by key, empty ones included."""
        return {key: getattr(self, key) for key in TABLES}


def _not_built(path: Path, what: str) -> InputError:
    return InputError(
        f"{what}: run `cpanalysis clean RAW_DIR {path}` (or `make site`) to create the "
        "processed tables first",
        file=path,
    )


def load_processed(path: str | Path) -> ProcessedData:
    """Read the output folder of ``cpanalysis clean`` into a :class:`ProcessedData`.

    Parameters
    ----------
    path : str or Path
        The processed folder (``data/processed``).

    Raises
    ------
    InputError
        If the folder or its manifest is missing (telling the user to run ``cpanalysis
        clean`` or ``make site``), or a file cannot be read.
    """
    path = Path(path)
    if not path.is_dir():
        raise _not_built(path, "processed data folder not found")
    manifest_path = path / MANIFEST_NAME
    if not manifest_path.is_file():
        raise _not_built(path, f"no {MANIFEST_NAME} in the processed data folder")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read the manifest ({exc})", file=manifest_path) from exc

    tables: dict[str, pd.DataFrame] = {}
    for key in TABLES:
        file = path / f"{key}.parquet"
        if not file.is_file():
            continue
        try:
            tables[key] = pd.read_parquet(file)
        except Exception as exc:  # pyarrow raises several types for a damaged file
            raise InputError(f"cannot read the table ({exc})", file=file) from exc

    quality = pd.DataFrame()
    quality_path = path / "quality_report.json"
    if quality_path.is_file():
        try:
            summary = json.loads(quality_path.read_text(encoding="utf-8")).get("summary", [])
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot read the report ({exc})", file=quality_path) from exc
        quality = pd.DataFrame.from_records(summary)

    council = manifest.get("council", {})
    return ProcessedData(
        **tables,
        years=sorted(int(y) for y in manifest.get("collection_years", [])),
        la_code=str(council.get("code", "")),
        council_name=str(council.get("name", "")),
        is_demo=bool(manifest.get("is_demo", False)),
        quality_summary=quality,
        manifest=manifest,
    )
