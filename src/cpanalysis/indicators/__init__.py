"""DfE indicators from processed SSDA903 tables, as measure frames (design.md Contract 2).

One module per topic, each taking plain DataFrames so tests can build tiny histories
inline; :func:`compute_all` runs them all on a :class:`~cpanalysis.processed.ProcessedData`
and :func:`write_indicators` publishes the suppressed tables as DfE open-data style CSV.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cpanalysis.histories import annotate_episodes, window_start_of
from cpanalysis.indicators.adoption import adoption_measures
from cpanalysis.indicators.care_leavers import care_leaver_measures
from cpanalysis.indicators.common import shared_cohorts
from cpanalysis.indicators.frame import MEASURE_COLUMNS, empty_measure_frame, measure_frame
from cpanalysis.indicators.population import population_measures
from cpanalysis.indicators.scorecard_measures import scorecard_measures
from cpanalysis.indicators.stability import stability_measures
from cpanalysis.labels import breakdown_label, measure_name

if TYPE_CHECKING:  # pragma: no cover
    from cpanalysis.processed import ProcessedData

__all__ = [
    "MEASURE_COLUMNS",
    "MEASURE_TOPICS",
    "empty_measure_frame",
    "measure_frame",
    "compute_all",
    "write_indicators",
    "to_open_data",
]

log = logging.getLogger(__name__)

#: Topic (CSV file) of every measure id of design.md Contract 2.
MEASURE_TOPICS: dict[str, str] = {
    **dict.fromkeys(
        [
            "cla_31_march",
            "cla_rate_per_10000",
            "started",
            "started_rate_per_10000",
            "ceased",
            "ceased_rate_per_10000",
            "ceased_by_reason",
            "cla_by_legal_status",
            "cla_by_placement_type",
            "cla_by_age_group",
            "cla_by_sex",
            "uasc_31_march",
            "adopted",
        ],
        "population",
    ),
    **dict.fromkeys(
        [
            "placements_3plus_pct",
            "placements_3plus_2yr_pct",
            "long_term_stability_pct",
            "placements_per_child",
            "placement_moves",
            "placement_moves_by_type",
            "placed_within_20_miles_pct",
            "placed_within_50_miles_pct",
        ],
        "stability",
    ),
    **dict.fromkeys(
        [
            "adoption_entry_to_decision_days",
            "adoption_decision_to_match_days",
            "adoption_match_to_placed_days",
            "adoption_entry_to_placed_days",
            "adoption_placed_to_order_days",
            "adoption_entry_to_order_days",
            "a1_days_3yr",
            "a2_days_3yr",
            "a10_days_3yr",
            "a1_within_426_days_pct",
        ],
        "adoption",
    ),
    **dict.fromkeys(
        [
            "care_leavers_eet_pct",
            "care_leavers_neet_pct",
            "care_leavers_not_known_pct",
            "care_leavers_suitable_accom_pct",
            "care_leavers_in_touch_pct",
            "care_leavers_neet_reason",
        ],
        "care_leavers",
    ),
    **dict.fromkeys(
        [
            "sw_changes_per_child",
            "sgo_granted",
            "reviews_on_time_pct",
            "missing_children",
            "health_check_pct",
            "health_assessment_pct",
            "teeth_check_pct",
            "immunisations_pct",
            "sdq_completed_pct",
        ],
        "scorecard",
    ),
}


def _table(data: Any, name: str) -> pd.DataFrame:
    table = getattr(data, name, None)
    return table if isinstance(table, pd.DataFrame) else pd.DataFrame()


_TABLES = ("episodes", "header", "uasc", "reviews", "ad1", "placed_adoption", "oc2", "oc3")
_TABLES += ("missing", "sw_episodes")
_EPISODE_COLUMNS = ("LA", "CHILD", "DECOM", "DEC", "RNE", "LS", "CIN", "PLACE", "REC")
_EPISODE_COLUMNS += ("REASON_PLACE_CHANGE", "PL_DISTANCE", "REPAIR")


def _integer_children(data: Any) -> dict[str, pd.DataFrame]:
    """Every table with ``CHILD`` (and ``LA``) replaced by one integer per child.

    Indicators only ever count children, so the pseudonyms themselves are not needed; joining
    and sorting on integers instead of 13-character strings makes the national-size run
    several times faster. The same child gets the same integer in every table.
    """
    tables = {name: _table(data, name) for name in _TABLES}
    # only the episode columns indicators read: every row selection then moves less data
    tables["episodes"] = tables["episodes"][
        [c for c in _EPISODE_COLUMNS if c in tables["episodes"].columns]
    ]
    present = {k: t for k, t in tables.items() if "CHILD" in t.columns and len(t)}

    def key(t: pd.DataFrame) -> pd.Series:
        child = t["CHILD"].astype("string")
        return t["LA"].astype("string") + ":" + child if "LA" in t.columns else child

    if not present:
        return tables
    keys = {k: key(t) for k, t in present.items()}
    # one hashing pass over every table's keys: numbered in order of first appearance
    every_key = pd.concat(list(keys.values()), ignore_index=True)
    codes, _ = pd.factorize(every_key, use_na_sentinel=False)
    bounds = np.cumsum([0, *(len(k) for k in keys.values())])
    for (name, t), lo, hi in zip(present.items(), bounds[:-1], bounds[1:], strict=True):
        tables[name] = t.drop(columns=["LA"], errors="ignore").assign(CHILD=codes[lo:hi])
    return tables


def compute_all(
    data: ProcessedData,
    *,
    population: dict[int, int] | None = None,
    years: list[int] | None = None,
) -> pd.DataFrame:
    """Every indicator for one council as one measure frame (unsuppressed).

    Parameters
    ----------
    data : ProcessedData
        Output of :func:`cpanalysis.processed.load_processed` (any object with the table
        attributes ``episodes``, ``header``, ... and ``years``, ``council_name``).
    population : dict[int, int], optional
        ONS mid-year estimates of children aged 0-17 by collection year, for rates.
    years : list[int], optional
        Collection years to report (default: every year in the data).

    Returns
    -------
    DataFrame
        Contract-2 measure frame holding every measure id of :data:`MEASURE_TOPICS`,
        with a ``symbol`` column (``"x"`` not available, ``"z"`` not applicable). The
        data window starts on 1 April opening the earliest collection year of the
        episodes (their ``YEAR``; else ``data.years``): measures whose dates or look-back
        reach before it are ``x`` for the years concerned (``histories`` module).
        sorted by measure, time_period and breakdown. Pass it through
        :func:`cpanalysis.suppression.suppress` before publishing anything.
    """
    years = sorted(int(y) for y in (years if years is not None else getattr(data, "years", [])))
    geography = str(getattr(data, "council_name", None) or "Council")
    if _table(data, "episodes").empty or not years:
        return empty_measure_frame()
    window_start = window_start_of(_table(data, "episodes"), getattr(data, "years", None))
    tables = _integer_children(data)
    ep = annotate_episodes(tables["episodes"], window_start=window_start)
    header = tables["header"]
    with shared_cohorts():  # the 31 March cohorts are shared by four topics
        parts = [
            population_measures(
                ep, header, tables["uasc"], years, geography=geography, population=population
            ),
            stability_measures(ep, header, years, geography=geography, window_start=window_start),
            adoption_measures(
                ep,
                tables["ad1"],
                tables["placed_adoption"],
                years,
                geography=geography,
                window_start=window_start,
            ),
            care_leaver_measures(tables["oc3"], header, years, geography=geography, episodes=ep),
            scorecard_measures(
                ep,
                header=header,
                reviews=tables["reviews"],
                missing=tables["missing"],
                oc2=tables["oc2"],
                sw_episodes=tables["sw_episodes"],
                years=years,
                geography=geography,
                window_start=window_start,
            ),
        ]
    frame = pd.concat([p for p in parts if len(p)], ignore_index=True)
    frame = measure_frame(frame)
    return frame.sort_values(["measure", "time_period", "breakdown"], kind="stable").reset_index(
        drop=True
    )


def to_open_data(frame: pd.DataFrame, *, la_code: str | None, la_name: str) -> pd.DataFrame:
    """Re-shape a suppressed measure frame into DfE open-data (EES) style columns.

    Columns: ``time_period, time_identifier, geographic_level, la_name, old_la_code,
    new_la_code, measure, measure_name, breakdown, breakdown_label, numerator,
    denominator, value, unit, display``; ``measure_name`` and ``breakdown_label`` are the
    words for the id and the code (:mod:`cpanalysis.labels`).
    ``old_la_code`` is the DfE three-digit code; ``new_la_code`` (the ONS E06/E08/E09/E10
    code) is left empty because the returns do not carry it.
    """
    out = pd.DataFrame(
        {
            "time_period": frame["time_period"],
            "time_identifier": "Reporting year",
            "geographic_level": "Local authority",
            "la_name": la_name,
            "old_la_code": la_code or "",
            "new_la_code": "",
            "measure": frame["measure"],
            "measure_name": frame["measure"].astype(str).map(measure_name),
            "breakdown": frame["breakdown"],
            "breakdown_label": [
                breakdown_label(m, b)
                for m, b in zip(
                    frame["measure"].astype(str), frame["breakdown"].astype(str), strict=True
                )
            ],
            "numerator": frame["numerator"],
            "denominator": frame["denominator"],
            "value": frame["value"],
            "unit": frame["unit"],
            "display": frame["display"],
        }
    )
    return out


def write_indicators(
    processed_dir: Path,
    out_dir: Path,
    config: Any,
    *,
    measures: pd.DataFrame | None = None,
    published: pd.DataFrame | None = None,
    data: ProcessedData | None = None,
) -> list[Path]:
    """Compute, suppress and write every indicator as tidy CSV (``cpanalysis indicators``).

    Parameters
    ----------
    processed_dir : Path
        Output folder of ``cpanalysis clean`` (Contract 1).
    out_dir : Path
        Folder for the CSV files (created if needed).
    config : Config
        Gives ``population`` (for rates) and ``suppression_threshold``.
    measures : DataFrame, optional
        The indicators already computed (unsuppressed, :func:`compute_all`): the site build
        computes them once, with the demo council's population where it applies, so that
        the downloads show the same figures as the pages.
    published : DataFrame, optional
        ``measures`` already suppressed with the config's threshold (the build needs them
        for the scorecard too).
    data : ProcessedData, optional
        The processed tables already loaded from ``processed_dir``.

    Returns
    -------
    list of Path
        One CSV per topic (``indicators_<topic>.csv``) then ``indicators_all.csv``.
    """
    from cpanalysis.processed import load_processed
    from cpanalysis.suppression import suppress

    if data is None:
        data = load_processed(Path(processed_dir))
    frame = measures
    if frame is None:
        population = dict(getattr(config, "population", {}) or {}) or None
        frame = compute_all(data, population=population)
    if published is None:
        published = suppress(frame, threshold=int(getattr(config, "suppression_threshold", 5)))
    la_name = str(getattr(data, "council_name", None) or getattr(config, "council_name", ""))
    la_code = getattr(data, "la_code", None) or getattr(config, "council_code", None)
    table = to_open_data(published, la_code=la_code, la_name=la_name)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    topics = table["measure"].map(MEASURE_TOPICS).fillna("other")
    for topic in dict.fromkeys(MEASURE_TOPICS.values()):
        path = out_dir / f"indicators_{topic}.csv"
        # UTF-8 with a byte-order mark: Excel then reads the file as UTF-8
        table.loc[(topics == topic).to_numpy(dtype=bool)].to_csv(
            path, index=False, encoding="utf-8-sig"
        )
        written.append(path)
    path = out_dir / "indicators_all.csv"
    table.to_csv(path, index=False, encoding="utf-8-sig")
    written.append(path)
    log.info("wrote %d indicator tables to %s", len(written), out_dir)
    return written
