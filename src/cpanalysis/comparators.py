"""England's published figures and the DfE's own tables, as measure frames to compare with.

A committee reads every headline against a yardstick: England, the council's region, and
councils it chooses. Two sources give those yardsticks:

* **built in**: England's headline figures for 2021-2025, typed once from the DfE's
  published files into ``reference/england_headlines.csv`` with the publication named in a
  ``source`` column, so a fresh clone (and the demo) always has England to compare with;
* **DfE tables**: a folder of Explore Education Statistics (EES) CSV downloads, which hold
  every region and council as well, read by :func:`load_ees_tables`.

Both come out in the Contract-2 measure-frame shape (``docs/design.md``) with the same
measure ids as the council's own indicators, so a chart can put them side by side without
any renaming.
"""

from __future__ import annotations

import importlib.resources
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cpanalysis.errors import InputError
from cpanalysis.indicators.frame import MEASURE_COLUMNS  # Contract-2 columns, in order

__all__ = [
    "DFE_SYMBOLS",
    "MEASURE_COLUMNS",
    "england_figures",
    "load_ees_tables",
    "read_ees_file",
    "comparators",
    "read_statistical_neighbours",
    "NEIGHBOUR",
    "COMPARATOR_COLUMNS",
    "years_months_to_days",
]

log = logging.getLogger(__name__)

#: Symbols the DfE puts in value cells instead of a number (EES data guidance): ``c``
#: confidential, ``z`` not applicable, ``x`` not available, ``k`` rounds to zero but is not
#: zero, ``low`` a low figure, ``u`` low reliability, ``:`` not available (older tables).
DFE_SYMBOLS = frozenset({"c", "z", "x", "k", "low", "u", ":"})

#: Extra columns every frame from DfE tables carries (where the figure comes from).
GEOGRAPHY_COLUMNS = ["geographic_level", "region_name", "old_la_code", "new_la_code"]

_REFERENCE_FILE = "england_headlines.csv"
_DAYS_PER_YEAR = 365.25
_DAYS_PER_MONTH = 30.44


# --------------------------------------------------------------------------- built in


def england_figures() -> pd.DataFrame:
    """England's published headline figures for 2021-2025, built into the library.

    WHY: the scorecard must always show England beside the council, also offline and for
    the demo, without anyone typing numbers into a notebook. The figures were taken from
    the DfE's published files (named, with a link, in ``source``) and checked against
    ``ssda903.md`` section 9; national numbers are rounded to the nearest 10 by the DfE and
    percentages are the DfE's whole-number percentages.

    Returns
    -------
    pandas.DataFrame
        Measure frame (``MEASURE_COLUMNS``) with ``geography == "England"`` plus
        ``source`` (publication name and URL) and ``note`` (e.g. the published
        years:months text of the adoption averages and how it was turned into days).
    """
    ref = importlib.resources.files("cpanalysis").joinpath("reference", _REFERENCE_FILE)
    with ref.open("r", encoding="utf-8") as handle:
        frame = pd.read_csv(
            handle,
            dtype={
                "time_period": "int64",
                "geography": "string",
                "measure": "string",
                "breakdown": "string",
                "numerator": "Int64",
                "denominator": "Int64",
                "value": "float64",
                "unit": "string",
                "source": "string",
                "note": "string",
            },
            keep_default_na=False,
            na_values={"numerator": [""], "denominator": [""], "value": [""]},
        )
    frame["note"] = frame["note"].replace("", pd.NA)
    return _as_measure_frame(frame, extra=["source", "note"])


# --------------------------------------------------------------------------- EES tables


def years_months_to_days(text: pd.Series) -> pd.Series:
    """Convert the DfE's ``"YY:MM"`` (years:months) averages into whole days.

    WHY: the CLA release publishes adoption-stage averages as years and months (``"02:03"``
    = 2 years 3 months) while our own adoption indicators are in days; one unit lets them
    share a chart. Days = years x 365.25 + months x 30.44, rounded to a whole day.

    Parameters
    ----------
    text : pandas.Series of str
        Values like ``"01:07"``; anything else (e.g. a DfE symbol) becomes NaN.

    Returns
    -------
    pandas.Series of float
        Days (NaN where the text is not ``YY:MM``).
    """
    parts = text.astype("string").str.strip().str.extract(r"^(\d+):(\d{1,2})$")
    years = pd.to_numeric(parts[0], errors="coerce")
    months = pd.to_numeric(parts[1], errors="coerce")
    return (years * _DAYS_PER_YEAR + months * _DAYS_PER_MONTH).round().astype("float64")


@dataclass(frozen=True)
class _EesLayout:
    """How one known DfE file maps onto our measures."""

    name: str
    columns: frozenset[str]
    # a value that must appear in this filter column (tells apart files with
    # identical columns, e.g. the two care-leaver files)
    marker_column: str | None = None
    marker_value: str | None = None


_LAYOUTS = [
    # the OC2 health outcomes file: 2025 release columns, then the 2024 release's
    _EesLayout(
        "health_outcomes",
        frozenset({"characteristic", "breakdown", "children_count", "children_percent"}),
    ),
    _EesLayout(
        "health_outcomes",
        frozenset({"cla_group", "characteristic", "number", "percentage"}),
    ),
    _EesLayout(
        "cla_numbers",
        frozenset({"population_type", "population_estimate", "children_count", "rate_per_10000"}),
    ),
    _EesLayout(
        "placement_stability",
        frozenset({"cla_group", "placement_stability", "children_count", "children_percent"}),
    ),
    _EesLayout(
        "care_leavers_activity",
        frozenset({"care_leaver_age", "breakdown", "care_leaver_count", "care_leaver_percent"}),
        "breakdown",
        "Total in education, employment or training",
    ),
    _EesLayout(
        "care_leavers_accommodation",
        frozenset({"care_leaver_age", "breakdown", "care_leaver_count", "care_leaver_percent"}),
        "breakdown",
        "Accommodation considered suitable",
    ),
    _EesLayout(
        "adoption_stages",
        frozenset({"stage_of_adoption_process", "age_start_poc", "number"}),
    ),
]

_CLA_POPULATIONS = {
    "Children looked after on 31 March each year": ("cla_31_march", "cla_rate_per_10000"),
    "Children starting to be looked after each year": ("started", "started_rate_per_10000"),
    "Children ceasing to be looked after each year": ("ceased", "ceased_rate_per_10000"),
}
_STABILITY = {
    # (cla_group, placement_stability) -> measure; denominator = "Total children" of the group
    (
        "CLA on 31 March",
        "With 3 or more placements during the year",
    ): "placements_3plus_pct",
    (
        "CLA 2 years on 31 March",
        "With 3 or more placements during the previous 2 years",
    ): "placements_3plus_2yr_pct",
    (
        "Children looked after continuously for at least 2.5 years on 31 March aged under 16 years",
        "Living with the same carer for at least 2 years",
    ): "long_term_stability_pct",
}
_ACTIVITY = {
    "Total in education, employment or training": "care_leavers_eet_pct",
    "Total not in education, employment or training": "care_leavers_neet_pct",
    "Total information not known": "care_leavers_not_known_pct",
}
_NEET_REASONS = {
    "Not in education, training or employment, owing to illness or disability": (
        "illness or disability"
    ),
    "Not in education, training or employment, owing to other reasons": "other reasons",
    "Not in education, training or employment, owing to pregnancy or parenting": (
        "pregnancy or parenting"
    ),
}
_ADOPTION_STAGES = {
    "1": "adoption_entry_to_decision_days",
    "2": "adoption_decision_to_match_days",
    "3": "adoption_match_to_placed_days",
    "4": "adoption_entry_to_placed_days",
    "5": "adoption_placed_to_order_days",
    "6": "adoption_entry_to_order_days",
}


def _recognise(columns: set[str], frame: pd.DataFrame) -> _EesLayout | None:
    """The known layout whose columns (and marker value) the file has, or None."""
    for layout in _LAYOUTS:
        if not layout.columns <= columns:
            continue
        if layout.marker_column is None:
            return layout
        if frame[layout.marker_column].str.strip().eq(layout.marker_value).any():
            return layout
    return None


def _parse_numbers(
    frame: pd.DataFrame, column: str, path: Path, *, years_months: bool = False
) -> tuple[pd.Series, pd.Series]:
    """Numbers of one EES value column, and the DfE symbol where there was one.

    Returns
    -------
    (values, symbols)
        ``values`` float (NaN for a symbol or a blank), ``symbols`` string (the symbol,
        else missing).

    Raises
    ------
    InputError
        A cell that is neither a number, blank nor a DfE symbol (naming file, row, column).
    """
    text = frame[column].astype("string").str.strip()
    cleaned = text.str.replace(",", "", regex=False)
    values = pd.to_numeric(cleaned, errors="coerce")
    is_symbol = text.str.lower().isin(DFE_SYMBOLS)
    blank = text.isna() | text.eq("")
    # years:months cells (adoption averages) are parsed by years_months_to_days
    is_years_months = text.str.fullmatch(r"\d+:\d{1,2}").fillna(False) & years_months
    bad = values.isna() & ~is_symbol & ~blank & ~is_years_months
    if bad.any():
        first = bad.to_numpy().nonzero()[0][0]
        raise InputError(
            f"{text.iloc[first]!r} is neither a number nor a DfE symbol "
            f"({', '.join(sorted(DFE_SYMBOLS))})",
            file=path,
            row=int(frame.index[first]) + 2,  # header is row 1
            column=column,
        )
    symbols = text.where(is_symbol).str.lower()
    return values.astype("float64"), symbols


def _geography(frame: pd.DataFrame) -> pd.DataFrame:
    """Our geography columns from the EES ones: National -> England, Regional -> region."""
    level = frame["geographic_level"].str.strip()
    out = pd.DataFrame(index=frame.index)
    for column in ("country_name", "region_name", "la_name", "old_la_code", "new_la_code"):
        out[column] = (
            frame[column].astype("string").str.strip().replace("", pd.NA)
            if column in frame
            else pd.Series(pd.NA, index=frame.index, dtype="string")
        )
    geography = pd.Series(pd.NA, index=frame.index, dtype="string")
    geography = geography.mask(level.eq("National"), out["country_name"].fillna("England"))
    geography = geography.mask(level.eq("Regional"), out["region_name"])
    geography = geography.mask(level.eq("Local authority"), out["la_name"])
    return pd.DataFrame(
        {
            "geography": geography,
            "geographic_level": level.astype("string"),
            "region_name": out["region_name"],
            "old_la_code": out["old_la_code"],
            "new_la_code": out["new_la_code"],
        },
        index=frame.index,
    )


def _time_period(frame: pd.DataFrame, path: Path) -> pd.Series:
    """Collection year ending from EES ``time_period`` (``2025``, or ``202425`` -> 2025)."""
    text = frame["time_period"].astype("string").str.strip()
    four = text.str.fullmatch(r"\d{4}").fillna(False)
    six = text.str.fullmatch(r"\d{6}").fillna(False)
    bad = ~(four | six)
    if bad.any():
        first = bad.to_numpy().nonzero()[0][0]
        raise InputError(
            f"time_period {text.iloc[first]!r} is not a year like 2025 or 202425",
            file=path,
            row=int(frame.index[first]) + 2,
            column="time_period",
        )
    years = pd.to_numeric(text.str[:4]).astype("int64")
    return years.where(four, years + 1)


def _rows(base: pd.DataFrame, mask: pd.Series, **columns: object) -> pd.DataFrame:
    """Rows of ``base`` selected by ``mask`` with ``columns`` set (scalars or Series)."""
    part = base.loc[mask].copy()
    for name, value in columns.items():
        part[name] = value.loc[mask] if isinstance(value, pd.Series) else value
    return part


def _map_cla_numbers(base: pd.DataFrame, raw: pd.DataFrame, path: Path) -> pd.DataFrame:
    count, count_symbol = _parse_numbers(raw, "children_count", path)
    rate, rate_symbol = _parse_numbers(raw, "rate_per_10000", path)
    population = raw["population_type"].str.strip()
    parts = []
    # each population gives a count and a rate, both counting the same children
    figures = (
        (0, count, "count", count_symbol),
        (1, rate, "rate_per_10000", rate_symbol.fillna(count_symbol)),
    )
    for label, measures in _CLA_POPULATIONS.items():
        mask = population.eq(label)
        for which, value, unit, symbol in figures:
            parts.append(
                _rows(
                    base,
                    mask,
                    measure=measures[which],
                    breakdown="Total",
                    numerator=count,
                    denominator=np.nan,
                    value=value,
                    unit=unit,
                    symbol=symbol,
                )
            )
    return pd.concat(parts)


def _with_denominator(
    base: pd.DataFrame,
    count: pd.Series,
    group_columns: list[pd.Series],
    is_total: pd.Series,
) -> pd.Series:
    """The count of the group's "total" row, aligned to every row of the group."""
    keys = pd.DataFrame(
        {
            "time_period": base["time_period"],
            "geography": base["geography"].fillna(""),
            "level": base["geographic_level"],
            **{f"g{i}": col.str.strip() for i, col in enumerate(group_columns)},
        }
    )
    totals = keys.loc[is_total].assign(_total=count.loc[is_total])
    key_names = list(keys.columns)
    totals = totals.drop_duplicates(subset=key_names, keep="first")
    merged = keys.merge(totals, on=key_names, how="left")
    return pd.Series(merged["_total"].to_numpy(), index=base.index)


def _map_stability(base: pd.DataFrame, raw: pd.DataFrame, path: Path) -> pd.DataFrame:
    count, count_symbol = _parse_numbers(raw, "children_count", path)
    percent, percent_symbol = _parse_numbers(raw, "children_percent", path)
    group = raw["cla_group"].str.strip()
    stability = raw["placement_stability"].str.strip()
    denominator = _with_denominator(base, count, [group], stability.eq("Total children"))
    parts = [
        _rows(
            base,
            group.eq(cla_group) & stability.eq(label),
            measure=measure,
            breakdown="Total",
            numerator=count,
            denominator=denominator,
            value=percent,
            unit="percent",
            symbol=percent_symbol.fillna(count_symbol),
        )
        for (cla_group, label), measure in _STABILITY.items()
    ]
    return pd.concat(parts)


def _map_care_leavers(
    base: pd.DataFrame, raw: pd.DataFrame, path: Path, measures: dict[str, str], total: str
) -> pd.DataFrame:
    count, count_symbol = _parse_numbers(raw, "care_leaver_count", path)
    percent, percent_symbol = _parse_numbers(raw, "care_leaver_percent", path)
    age = raw["care_leaver_age"].str.strip()
    label = raw["breakdown"].str.strip()
    denominator = _with_denominator(base, count, [age], label.eq(total))
    symbol = percent_symbol.fillna(count_symbol)
    parts = [
        _rows(
            base,
            label.eq(text),
            measure=measure,
            breakdown=age,
            numerator=count,
            denominator=denominator,
            value=percent,
            unit="percent",
            symbol=symbol,
        )
        for text, measure in measures.items()
    ]
    if total == "Total":  # the activity file also splits NEET by reason
        for text, reason in _NEET_REASONS.items():
            parts.append(
                _rows(
                    base,
                    label.eq(text),
                    measure="care_leavers_neet_reason",
                    breakdown=age + f": {reason}",
                    numerator=count,
                    denominator=denominator,
                    value=percent,
                    unit="percent",
                    symbol=symbol,
                )
            )
    return pd.concat(parts)


#: OC2 health outcomes: the line of the DfE's file (matched from its start, ignoring case)
#: -> our measure. The development-assessment wording is the DfE's as published for
#: 2024 and 2025; the others follow the release's own names for the indicators.
_HEALTH_ITEMS = {
    r"development assessments? up to date": "health_check_pct",
    r"health assessments? up to date": "health_assessment_pct",
    r"immuni[sz]ations? up to date": "immunisations_pct",
    r"teeth checked": "teeth_check_pct",
}


def _map_health(base: pd.DataFrame, raw: pd.DataFrame, path: Path) -> pd.DataFrame:
    """The OC2 health outcomes file: share of children looked after 12 months with each check.

    The 2025 release names the group in ``characteristic`` and the line in ``breakdown``;
    the 2024 release the group in ``cla_group`` and the line in ``characteristic``. The
    denominator is the group's line that begins "Total".
    """
    new = "breakdown" in raw.columns
    group = (raw["characteristic"] if new else raw["cla_group"]).astype("string").str.strip()
    item = (raw["breakdown"] if new else raw["characteristic"]).astype("string").str.strip()
    count, count_symbol = _parse_numbers(raw, "children_count" if new else "number", path)
    percent, percent_symbol = _parse_numbers(raw, "children_percent" if new else "percentage", path)
    is_total = item.str.lower().str.startswith("total").fillna(False)
    denominator = _with_denominator(base, count, [group], is_total)
    parts = [
        _rows(
            base,
            item.str.lower().str.match(pattern).fillna(False),
            measure=measure,
            breakdown="Total",
            numerator=count,
            denominator=denominator,
            value=percent,
            unit="percent",
            symbol=percent_symbol.fillna(count_symbol),
        )
        for pattern, measure in _HEALTH_ITEMS.items()
    ]
    return pd.concat(parts)


def _map_adoption(base: pd.DataFrame, raw: pd.DataFrame, path: Path) -> pd.DataFrame:
    _, symbol = _parse_numbers(raw, "number", path, years_months=True)
    days = years_months_to_days(raw["number"])
    stage = raw["stage_of_adoption_process"].str.strip().str.extract(r"^(\d)\.", expand=False)
    total = raw["age_start_poc"].str.strip().eq("Total")
    parts = [
        _rows(
            base,
            total & stage.eq(number),
            measure=measure,
            breakdown="Total",
            numerator=np.nan,
            denominator=np.nan,
            value=days,
            unit="days",
            symbol=symbol,
            note="published as years:months "
            + raw["number"].str.strip()
            + "; days = years x 365.25 + months x 30.44, rounded",
        )
        for number, measure in _ADOPTION_STAGES.items()
    ]
    return pd.concat(parts)


def _as_measure_frame(frame: pd.DataFrame, extra: Sequence[str] = ()) -> pd.DataFrame:
    """Columns in contract order with contract types."""
    out = frame.reindex(columns=[*MEASURE_COLUMNS, *extra]).copy()
    out["time_period"] = out["time_period"].astype("int64")
    for column in ("geography", "measure", "breakdown", "unit"):
        out[column] = out[column].astype("string")
    for column in ("numerator", "denominator"):
        out[column] = pd.to_numeric(out[column], errors="coerce").round().astype("Int64")
    out["value"] = pd.to_numeric(out["value"], errors="coerce").astype("float64")
    for column in extra:
        out[column] = out[column].astype("string")
    return out.reset_index(drop=True)


def read_ees_file(path: Path) -> pd.DataFrame | None:
    """Read one DfE EES CSV into a measure frame, or None if the layout is not one we know.

    Parameters
    ----------
    path : Path
        A CSV in the EES layout (UTF-8, with or without a byte-order mark): ``time_period``,
        ``time_identifier``, ``geographic_level``, ``country_*``, ``region_*``,
        ``old_la_code``, ``la_name``, ``new_la_code``, then filter and indicator columns.

    Returns
    -------
    pandas.DataFrame or None
        Measure frame plus ``symbol`` (DfE symbol of a suppressed value, else missing),
        ``geographic_level``, ``region_name``, ``old_la_code``, ``new_la_code``, ``source``
        (the file name); ``note`` for the adoption averages. None for unknown layouts.
    """
    path = Path(path)
    try:
        raw = pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"cannot read as a DfE CSV file ({exc})", file=path) from exc
    raw.columns = [str(c).strip() for c in raw.columns]
    missing = {"time_period", "geographic_level"} - set(raw.columns)
    if missing:
        log.warning("skipped %s: not in the DfE EES layout (no %s)", path, sorted(missing))
        return None
    layout = _recognise(set(raw.columns), raw)
    if layout is None:
        log.warning("skipped %s: a DfE table whose columns cpanalysis does not know", path)
        return None
    base = _geography(raw)
    base.insert(0, "time_period", _time_period(raw, path))
    unknown_level = base["geography"].isna()
    if unknown_level.any():
        levels = sorted(base.loc[unknown_level, "geographic_level"].dropna().unique())
        log.info("%s: %d rows at other levels %s not used", path, unknown_level.sum(), levels)
    if layout.name == "cla_numbers":
        mapped = _map_cla_numbers(base, raw, path)
    elif layout.name == "placement_stability":
        mapped = _map_stability(base, raw, path)
    elif layout.name == "care_leavers_activity":
        mapped = _map_care_leavers(base, raw, path, _ACTIVITY, "Total")
    elif layout.name == "care_leavers_accommodation":
        mapped = _map_care_leavers(
            base,
            raw,
            path,
            {"Accommodation considered suitable": "care_leavers_suitable_accom_pct"},
            "Suitability total",
        )
    elif layout.name == "health_outcomes":
        mapped = _map_health(base, raw, path)
    else:
        mapped = _map_adoption(base, raw, path)
    mapped = mapped.loc[mapped["geography"].notna()]
    mapped["source"] = f"DfE Explore Education Statistics file {path.name}"
    if "note" not in mapped:
        mapped["note"] = pd.NA
    extra = ["symbol", *GEOGRAPHY_COLUMNS, "source", "note"]
    log.info("%s: read as %s, %d measure rows", path, layout.name, len(mapped))
    return _as_measure_frame(mapped, extra=extra)


def load_ees_tables(folder: Path) -> pd.DataFrame:
    """Read every DfE EES CSV file in ``folder`` into one measure frame.

    WHY: councils download the DfE's tables themselves (they are public) to compare with
    their region and neighbours; this turns whatever they downloaded into our measure ids.
    Files are recognised by their columns, never by their names (downloads get renamed);
    a file we do not know is skipped with a logged warning.

    Parameters
    ----------
    folder : Path
        Folder of ``*.csv`` files (not searched recursively).

    Returns
    -------
    pandas.DataFrame
        Measure frame for all geographies (``"England"``, region names, council names) with
        ``symbol``, ``geographic_level``, ``region_name``, ``old_la_code``,
        ``new_la_code``, ``source`` and ``note`` columns; sorted by measure, geography,
        breakdown and time_period.

    Raises
    ------
    InputError
        The folder does not exist, holds no file we know, or a value cell is not a number
        or DfE symbol.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("benchmark folder of DfE tables not found", file=folder)
    frames = [
        frame for path in sorted(folder.glob("*.csv")) if (frame := read_ees_file(path)) is not None
    ]
    if not frames:
        raise InputError(
            "no DfE Explore Education Statistics table that cpanalysis knows is in this folder",
            file=folder,
        )
    tables = pd.concat(frames, ignore_index=True)
    return tables.sort_values(
        ["measure", "geographic_level", "geography", "breakdown", "time_period"],
        kind="stable",
        ignore_index=True,
    )


# --------------------------------------------------------------------------- comparators


def _matches_council(tables: pd.DataFrame, council: str) -> pd.Series:
    """LA rows whose old code, new code or name is ``council`` (case-insensitive)."""
    wanted = str(council).strip().lower()
    is_la = tables["geographic_level"].eq("Local authority")
    hit = (
        tables["old_la_code"].str.lower().eq(wanted)
        | tables["new_la_code"].str.lower().eq(wanted)
        | tables["geography"].str.lower().eq(wanted)
    )
    return (is_la & hit).fillna(False)


#: The ``comparator`` of a statistical neighbour's rows.
NEIGHBOUR = "Statistical neighbour"
_MODEL_SUFFIXES = (".xlsx", ".xls", ".csv")


def _model_table(path: Path) -> pd.DataFrame:
    """The DfE's statistical-neighbour model as a table of text, with its own header row.

    The DfE's file (``sn_may_2025.xlsx``, sheet "LA SN Groups") has two rows of column
    letters and numbers above the header ``LA num | LA Name | LA number | GOInd | GOReg |
    SN1 | SNP | SN2 | SNP ...``; the header row is found by its ``LA number`` cell so a
    copy saved without those rows reads the same.
    """
    try:
        if path.suffix.lower() == ".csv":
            raw = pd.read_csv(path, header=None, dtype=str, encoding="utf-8-sig")
        else:
            raw = pd.read_excel(path, header=None, dtype=str)
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read the statistical-neighbour model ({exc})", file=path) from exc
    cells = raw.fillna("").map(lambda v: str(v).strip())
    for row in range(min(len(cells), 10)):
        names = cells.iloc[row].tolist()
        if "la number" in {n.lower() for n in names}:
            table = cells.iloc[row + 1 :].copy()
            table.columns = names
            return table
    raise InputError(
        "no header row with 'LA number' in the first 10 rows: not the DfE's "
        "statistical-neighbour model",
        file=path,
    )


def read_statistical_neighbours(path: Path, council: str) -> list[str]:
    """The council's statistical neighbours from the DfE's model file, closest first.

    WHY: the DfE's model names, for every council, the ten councils most like it (on
    deprivation, population and the like); committees compare with them as well as with
    England. The file is the council's own download; it is read, never shipped.

    Parameters
    ----------
    path : Path
        The DfE's model (``.xlsx`` as published, or the same table as ``.csv``).
    council : str
        The council's three-digit DfE code or its name as the DfE spells it.

    Returns
    -------
    list of str
        The neighbours' three-digit codes (columns ``SN1`` ... ``SN10``).

    Raises
    ------
    InputError
        The file cannot be read, has no ``LA number`` header row, or does not hold the
        council (naming the file and the row searched).
    """
    path = Path(path)
    table = _model_table(path)
    wanted = str(council).strip().lower()
    code_columns = [c for c in table.columns if c.lower() in ("la number", "la num")]
    name_columns = [c for c in table.columns if c.lower() == "la name"]
    hit = pd.Series(False, index=table.index)
    for column in code_columns + name_columns:
        hit |= table[column].str.lower().eq(wanted)
    if not hit.any():
        raise InputError(
            f"council {council!r} is not in the statistical-neighbour model "
            "(give its three-digit code or its name as the DfE spells it)",
            file=path,
            column="LA number",
        )
    row = table.loc[hit].iloc[0]
    sn = [c for c in table.columns if re.fullmatch(r"SN\d+", c)]
    sn.sort(key=lambda c: int(c[2:]))
    return [code.removesuffix(".0") for code in (row[c] for c in sn) if code]


def _neighbour_list(
    names: Sequence[str], council: str | None, folder: Path, root: Path | None
) -> tuple[list[str], bool]:
    """(the neighbours, whether each must be in the tables) from the setting's value."""
    names = [str(n) for n in names]
    if len(names) == 1 and names[0].lower().endswith(_MODEL_SUFFIXES):
        model = Path(names[0])
        if not model.is_absolute():
            beside = folder / model
            model = beside if beside.exists() or root is None else Path(root) / model
        if council is None:
            raise InputError("statistical_neighbours from the DfE's model needs the council's code")
        # the model may name councils since reorganised: those are skipped with a warning
        return read_statistical_neighbours(model, council), False
    return names, True


#: Columns :func:`comparators` adds to the measure frame.
COMPARATOR_COLUMNS = ["comparator", "symbol", *GEOGRAPHY_COLUMNS, "source", "note"]
# London boroughs sit in "Inner London" / "Outer London" in the LA rows; London as a whole
# is its own regional row and is the region a committee expects to see as well.
_PARENT_REGION = {"Inner London": "London", "Outer London": "London"}


def comparators(
    council_code: str | None,
    benchmark_source: str | Path = "built-in",
    compare_with: Sequence[str] = (),
    *,
    root: Path | None = None,
    statistical_neighbours: Sequence[str] = (),
) -> pd.DataFrame:
    """The figures a council is compared with: England, its region and chosen councils.

    WHY: every headline on the scorecard is shown against England; when the council has
    downloaded the DfE tables it also sees its region and the councils it chose (e.g. its
    statistical neighbours), taken from the same published source.

    Parameters
    ----------
    council_code : str or None
        The council's DfE three-digit code (``old_la_code``), nine-character ONS code
        (``new_la_code``) or name; used to find its region in the DfE tables.
    benchmark_source : str or Path
        ``"built-in"`` (England only, from :func:`england_figures`) or a folder of DfE EES
        CSV files (:func:`load_ees_tables`), as in ``Config.benchmark_source``.
    compare_with : sequence of str
        Councils (codes or names as the DfE spells them) to add; needs DfE tables.
    root : Path, optional
        Folder a relative ``benchmark_source`` is resolved against (``Config.root``).
    statistical_neighbours : sequence of str
        ``Config.statistical_neighbours``: councils (codes or names), or one file name of
        the DfE's model (:func:`read_statistical_neighbours`), looked for in the
        benchmark folder and then in ``root``. Needs DfE tables.

    Returns
    -------
    pandas.DataFrame
        Measure frame plus ``comparator`` (``"England"``, ``"Region"``,
        ``"Chosen council"`` or ``"Statistical neighbour"``), ``symbol`` (DfE symbol of a
        suppressed value),
        ``geographic_level``, ``region_name``, ``old_la_code``, ``new_la_code``,
        ``source`` and ``note``. England comes from the DfE tables when supplied; measures
        and years the tables lack are filled from the built-in figures. A London borough's
        region is both "Inner/Outer London" and "London".

    Raises
    ------
    InputError
        The folder cannot be read, or a council in ``compare_with`` is not in the tables.
    """
    built_in = england_figures().assign(comparator="England", geographic_level="National")
    if str(benchmark_source) == "built-in":
        for setting, value in (("compare_with", compare_with),
                               ("statistical_neighbours", statistical_neighbours)):  # fmt: skip
            if value:
                log.warning(
                    "%s %s ignored: comparing with other councils needs a folder of "
                    "DfE tables as benchmark_source",
                    setting,
                    list(value),
                )
        return _as_measure_frame(built_in, extra=COMPARATOR_COLUMNS)

    folder = Path(benchmark_source)
    if root is not None and not folder.is_absolute():
        folder = Path(root) / folder
    tables = load_ees_tables(folder)
    england = tables.loc[tables["geographic_level"].eq("National")].assign(comparator="England")
    have = pd.MultiIndex.from_frame(england[["measure", "time_period"]])
    extra_england = built_in.loc[
        ~pd.MultiIndex.from_frame(built_in[["measure", "time_period"]]).isin(have)
    ]
    parts = [england, extra_england]

    if council_code is not None:
        own = tables.loc[_matches_council(tables, council_code)]
        regions = set(own["region_name"].dropna())
        regions |= {_PARENT_REGION[r] for r in regions if r in _PARENT_REGION}
        if not regions:
            log.warning(
                "council %s is not in the DfE tables in %s: no regional comparison",
                council_code,
                folder,
            )
        is_region = tables["geographic_level"].eq("Regional") & tables["region_name"].isin(regions)
        parts.append(tables.loc[is_region].assign(comparator="Region"))

    for council in compare_with:
        chosen = tables.loc[_matches_council(tables, council)]
        if chosen.empty:
            raise InputError(
                f"compare_with: council {council!r} is not in the DfE tables "
                "(use its three-digit code, ONS code or name as the DfE spells it)",
                file=folder,
            )
        parts.append(chosen.assign(comparator="Chosen council"))

    if statistical_neighbours:
        neighbours, strict = _neighbour_list(statistical_neighbours, council_code, folder, root)
        for council in neighbours:
            rows = tables.loc[_matches_council(tables, council)]
            if rows.empty:
                message = f"statistical_neighbours: council {council!r} is not in the DfE tables"
                if strict:
                    raise InputError(
                        message + " (use its three-digit code, ONS code or name as the DfE "
                        "spells it)",
                        file=folder,
                    )
                log.warning("%s: left out of the neighbours' average", message)
                continue
            parts.append(rows.assign(comparator=NEIGHBOUR))

    result = pd.concat(parts, ignore_index=True)
    result = result.drop_duplicates(subset=["comparator", *MEASURE_COLUMNS[:4]], keep="first")
    return _as_measure_frame(result, extra=COMPARATOR_COLUMNS)
