"""The corporate parenting scorecard: the committee's own measures of success, in one table.

The home page of the site. It follows the "how we will measure success" list of a council's
corporate parenting strategy (docs: /work/shared/docs/committee_measures.md), priority by
priority, and adds the DfE's headline measures. For each measure the SSDA903 return can
answer it shows the last five years as a small trend, this year, last year, the direction of
travel and whether that is better or worse, England's figure (saying which year), the
statistical neighbours' average when the council names them, and a red/amber/green mark.
Measures the return cannot answer (staff training, events, surveys, foster-carer numbers,
personal advisers, Personal Education Plans) are listed as "not from the SSDA903 return"
rather than dropped, so the committee sees the whole strategy and knows where other figures
must come from.

Every comparison (better, worse, the same; the mark) is made on the **published, rounded
figures** the reader sees: 94.2% and 94.07% are both published as 94, so the scorecard says
"no change", as the page of the measure does.

RAG rule (stated on the page too)
---------------------------------
The yardstick is the council's own target (``[targets]`` in ``cpanalysis.toml``) where one
is set, otherwise England's latest published figure up to the scorecard's year.

* **green**: at or better than the yardstick;
* **amber**: worse, by no more than the margin: 5 percentage points for percentages,
  10% of the yardstick for other units (days, rates, per child);
* **red**: worse by more than the margin;
* no mark when there is no yardstick, when this year's figure is withheld (``c``) or
  missing, or when neither higher nor lower is better (e.g. the number looked after).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from cpanalysis.formatting import published_value
from cpanalysis.narrative import england_year
from cpanalysis.schema import year_label

__all__ = [
    "ScorecardItem",
    "SCORECARD_ITEMS",
    "NOT_FROM_RETURN",
    "PERCENT_MARGIN",
    "RELATIVE_MARGIN",
    "TREND_YEARS",
    "SCORECARD_COLUMNS",
    "MEASURE_PAGES",
    "published_number",
    "rag",
    "direction",
    "compare_word",
    "build_scorecard",
    "scorecard_summary",
]

NOT_FROM_RETURN = "not from the SSDA903 return"
#: Amber band for percentages: worse than the yardstick by at most this many points.
PERCENT_MARGIN = 5.0
#: Amber band for other units: worse by at most this share of the yardstick.
RELATIVE_MARGIN = 0.10
#: Years drawn in each row's trend (the scorecard's year and the four before it).
TREND_YEARS = 5
#: Published figures are rounded to at most one decimal place: a smaller gap is no gap.
_TOLERANCE = 1e-9

#: The page of the site where each measure is shown in full (its trend, chart and table).
MEASURE_PAGES: dict[str, str] = {
    **dict.fromkeys(
        ["cla_31_march", "cla_rate_per_10000", "started", "started_rate_per_10000",
         "ceased", "ceased_rate_per_10000", "ceased_by_reason", "cla_by_legal_status",
         "cla_by_placement_type", "cla_by_age_group", "cla_by_sex", "uasc_31_march"],
        "overview.html",
    ),
    **dict.fromkeys(
        ["placements_3plus_pct", "placements_3plus_2yr_pct", "long_term_stability_pct",
         "placements_per_child", "placement_moves", "placement_moves_by_type",
         "placed_within_20_miles_pct", "placed_within_50_miles_pct"],
        "placement_stability.html",
    ),
    **dict.fromkeys(
        ["adopted", "adoption_entry_to_decision_days", "adoption_decision_to_match_days",
         "adoption_match_to_placed_days", "adoption_entry_to_placed_days",
         "adoption_placed_to_order_days", "adoption_entry_to_order_days", "a1_days_3yr",
         "a2_days_3yr", "a10_days_3yr", "a1_within_426_days_pct"],
        "time_to_adoption.html",
    ),
    **dict.fromkeys(
        ["care_leavers_eet_pct", "care_leavers_neet_pct", "care_leavers_not_known_pct",
         "care_leavers_suitable_accom_pct", "care_leavers_in_touch_pct",
         "care_leavers_neet_reason"],
        "care_leavers_neet.html",
    ),
    **dict.fromkeys(
        ["sw_changes_per_child", "sgo_granted", "reviews_on_time_pct", "missing_children",
         "health_check_pct", "health_assessment_pct", "teeth_check_pct",
         "immunisations_pct", "sdq_completed_pct"],
        "health_and_support.html",
    ),
}  # fmt: skip


@dataclass(frozen=True)
class ScorecardItem:
    """One line of the scorecard.

    Attributes
    ----------
    priority : str
        The strategy's priority it sits under (or "Headline DfE measures").
    label : str
        What the committee reads.
    measure : str or None
        Measure id (docs/design.md Contract 2); None when the return cannot answer it.
    breakdown : str
        Which breakdown of the measure is shown (``"Total"`` or an age group).
    higher_is_better : bool or None
        True/False for the RAG mark and "better/worse"; None when neither is better.
    """

    priority: str
    label: str
    measure: str | None
    breakdown: str = "Total"
    higher_is_better: bool | None = None


_P1 = "1. Safe and trusted relationships"
_P2 = "2. Understanding why they are in care"
_P3 = "3. Opportunities and education"
_P4 = "4. Healthy life"
_P5 = "5. Home and accommodation"
_P6 = "6. Doing it together"
_P7 = "7. Prepared and supported"
_HEAD = "Headline DfE measures"
_OLD, _YOUNG = "19 to 21 years", "17 to 18 years"

#: Every line of the scorecard, in the order shown.
SCORECARD_ITEMS: tuple[ScorecardItem, ...] = (
    ScorecardItem(_P1, "Social worker changes per child in the year", "sw_changes_per_child",
                  higher_is_better=False),
    ScorecardItem(_P1, "Personal advisers per care leaver in the year", None),
    ScorecardItem(_P1, "Placements per child in the year", "placements_per_child",
                  higher_is_better=False),
    ScorecardItem(_P1, "In-house foster carers", None),
    ScorecardItem(_P2, "Staff trained in the narrative model", None),
    ScorecardItem(_P2, "Strengths and Difficulties Questionnaires completed (%)",
                  "sdq_completed_pct", higher_is_better=True),
    ScorecardItem(_P3, "Personal Education Plans on time", None),
    ScorecardItem(_P3, "Events for looked-after children and care leavers, and attendance", None),
    ScorecardItem(_P4, "Health assessments up to date (%)", "health_assessment_pct",
                  higher_is_better=True),
    ScorecardItem(_P4, "Development checks up to date, children under 5 (%)",
                  "health_check_pct", higher_is_better=True),
    ScorecardItem(_P4, "Immunisations up to date (%)", "immunisations_pct",
                  higher_is_better=True),
    ScorecardItem(_P4, "Teeth checked by a dentist (%)", "teeth_check_pct",
                  higher_is_better=True),
    ScorecardItem(_P4, "Strengths and Difficulties Questionnaires completed (%)",
                  "sdq_completed_pct", higher_is_better=True),
    ScorecardItem(_P5, "In-house foster carers", None),
    ScorecardItem(_P5, "Placed within 20 miles of home (%)", "placed_within_20_miles_pct",
                  higher_is_better=True),
    ScorecardItem(_P5, "Placed within 50 miles of home (%)", "placed_within_50_miles_pct",
                  higher_is_better=True),
    ScorecardItem(_P5, "Care leavers aged 19 to 21 in suitable accommodation (%)",
                  "care_leavers_suitable_accom_pct", _OLD, True),
    ScorecardItem(_P5, "Special guardianship orders granted in the year (by quarter)",
                  "sgo_granted"),
    ScorecardItem(_P5, "Children who went missing from care in the year", "missing_children",
                  higher_is_better=False),
    ScorecardItem(_P6, "Children and care leavers at participation events", None),
    ScorecardItem(_P6, "Children and care leavers taking part in the Bright Spots survey", None),
    ScorecardItem(_P7, "Care leavers aged 17 to 18 in touch (%)", "care_leavers_in_touch_pct",
                  _YOUNG, True),
    ScorecardItem(_P7, "Care leavers aged 19 to 21 in touch (%)", "care_leavers_in_touch_pct",
                  _OLD, True),
    ScorecardItem(_P7, "Care leavers aged 17 to 18 in suitable accommodation (%)",
                  "care_leavers_suitable_accom_pct", _YOUNG, True),
    ScorecardItem(_P7, "Care leavers aged 19 to 21 in suitable accommodation (%)",
                  "care_leavers_suitable_accom_pct", _OLD, True),
    ScorecardItem(_P7, "Care leavers aged 17 to 18 in education, employment or training (%)",
                  "care_leavers_eet_pct", _YOUNG, True),
    ScorecardItem(_P7, "Care leavers aged 19 to 21 in education, employment or training (%)",
                  "care_leavers_eet_pct", _OLD, True),
    ScorecardItem(_HEAD, "Children looked after at 31 March", "cla_31_march"),
    ScorecardItem(_HEAD, "Children looked after per 10,000 children", "cla_rate_per_10000"),
    ScorecardItem(_HEAD, "Children starting to be looked after per 10,000 children",
                  "started_rate_per_10000"),
    ScorecardItem(_HEAD, "Children with 3 or more placements in the year (%)",
                  "placements_3plus_pct", higher_is_better=False),
    ScorecardItem(_HEAD, "Long-term placement stability (%)", "long_term_stability_pct",
                  higher_is_better=True),
    ScorecardItem(_HEAD, "Children adopted in the year", "adopted"),
    ScorecardItem(_HEAD, "Days from entering care to moving in with adopters",
                  "adoption_entry_to_placed_days", higher_is_better=False),
    ScorecardItem(_HEAD, "Reviews held on time (%)", "reviews_on_time_pct",
                  higher_is_better=True),
)  # fmt: skip

#: Measures whose England figure is a national count: not comparable with a council's.
_COUNTS_NOT_COMPARED = {"cla_31_march", "adopted", "sgo_granted", "missing_children"}

#: Columns of the scorecard frame, in order.
SCORECARD_COLUMNS = [
    "priority",
    "indicator",
    "measure",
    "breakdown",
    "unit",
    "page",
    "trend",
    "this_year",
    "last_year",
    "direction",
    "england",
    "england_year",
    "compared_with_england",
    "neighbours",
    "neighbours_year",
    "neighbours_note",
    "yardstick",
    "rag",
    "note",
    "source",
]


def published_number(text: object) -> float | None:
    """The number a published cell shows (``"12"`` -> 12.0), or None for a symbol or blank.

    ``k`` (rounds to zero but is not zero) reads as 0: it is shown as less than half the
    unit, so it compares as the zero it rounds to.

    Examples
    --------
    >>> published_number("94"), published_number("1.5"), published_number("c")
    (94.0, 1.5, None)
    """
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return None
    shown = str(text).strip().replace(",", "")
    if shown == "k":
        return 0.0
    try:
        number = float(shown)
    except ValueError:
        return None
    return None if math.isnan(number) else number


def direction(this: float | None, last: float | None, higher_is_better: bool | None) -> str:
    """Direction of travel as the committee reads it: an arrow and whether it is better.

    Pass the **published** (rounded) figures (:func:`published_number`), so two years that
    read the same are "no change".

    Returns ``"↑ better"``, ``"↓ worse"``, ``"→ no change"``, a bare ``"↑"``/``"↓"`` when
    neither direction is better, or ``""`` when either year is missing or withheld.
    """
    if this is None or last is None or pd.isna(this) or pd.isna(last):
        return ""
    change = float(this) - float(last)
    if abs(change) <= _TOLERANCE:
        return "→ no change"
    arrow = "↑" if change > 0 else "↓"
    if higher_is_better is None:
        return arrow
    better = (change > 0) == higher_is_better
    return f"{arrow} {'better' if better else 'worse'}"


def compare_word(value: float | None, other: float | None, higher_is_better: bool | None) -> str:
    """``"better"``, ``"worse"`` or ``"the same"`` of a published figure against another.

    ``""`` when either is missing or neither direction is better.
    """
    if higher_is_better is None or value is None or other is None:
        return ""
    if pd.isna(value) or pd.isna(other):
        return ""
    gap = float(value) - float(other)
    if abs(gap) <= _TOLERANCE:
        return "the same"
    return "better" if (gap > 0) == higher_is_better else "worse"


def rag(
    value: float | None, yardstick: float | None, unit: str, higher_is_better: bool | None
) -> str:
    """Red/amber/green mark of a value against its yardstick (rule in the module docstring).

    Parameters
    ----------
    value : float or None
        This year's published figure (None or NaN when withheld or missing: no mark).
    yardstick : float or None
        The council's target or England's published figure (None: no mark).
    unit : str
        ``percent`` uses a margin of :data:`PERCENT_MARGIN` points; other units
        :data:`RELATIVE_MARGIN` of the yardstick.
    higher_is_better : bool or None
        None: no mark.

    Returns
    -------
    str
        ``"green"``, ``"amber"``, ``"red"`` or ``""``.
    """
    if higher_is_better is None or value is None or yardstick is None:
        return ""
    if pd.isna(value) or pd.isna(yardstick):
        return ""
    shortfall = (yardstick - value) if higher_is_better else (value - yardstick)
    if shortfall <= _TOLERANCE:
        return "green"
    margin = PERCENT_MARGIN if unit == "percent" else RELATIVE_MARGIN * abs(float(yardstick))
    return "amber" if shortfall <= margin + _TOLERANCE else "red"


def _rows_of(frame: pd.DataFrame | None, measure: str, breakdown: str) -> pd.DataFrame:
    if frame is None or frame.empty:
        return pd.DataFrame(columns=["time_period", "value"])
    keep = frame["measure"].eq(measure) & frame["breakdown"].eq(breakdown)
    return frame.loc[keep]


def _suppressed(rows: pd.DataFrame) -> pd.Series:
    if "suppressed" in rows.columns:
        return rows["suppressed"].astype("boolean").fillna(False).astype(bool)
    return pd.Series(False, index=rows.index)


def _shown(rows: pd.DataFrame, unit: str) -> str:
    """The published text of at most one row (``""`` when there is no row)."""
    if rows.empty:
        return ""
    row = rows.iloc[0]
    if _suppressed(rows).iloc[0]:
        return str(row.get("display", "c")) or "c"
    if "display" in rows.columns and pd.notna(row["display"]) and str(row["display"]):
        return str(row["display"])
    symbol = row.get("symbol") if "symbol" in rows.columns else None
    if isinstance(symbol, str) and symbol:
        return symbol
    return published_value(row["value"], unit)


def _neighbour_average(
    neighbours: pd.DataFrame | None, measure: str, breakdown: str, unit: str, year: int
) -> tuple[str, str, str]:
    """(average shown, its year, note) of the statistical neighbours' published figures.

    The average is the plain mean of the neighbours' published figures for the latest year
    up to ``year`` in which any has one, as the DfE's LA Interactive Tool averages them;
    a withheld figure is left out and the note says of how many councils it is.
    """
    rows = _rows_of(neighbours, measure, breakdown)
    if rows.empty:
        return "", "", ""
    rows = rows.loc[rows["time_period"].le(year)]
    numbers = pd.Series(
        [published_number(_shown(rows.iloc[[i]], unit)) for i in range(len(rows))],
        index=rows.index,
        dtype="float64",
    )
    rows = rows.assign(_number=numbers).dropna(subset=["_number"])
    if rows.empty:
        return "", "", ""
    when = int(rows["time_period"].max())
    latest = rows.loc[rows["time_period"].eq(when)]
    councils = neighbours["geography"].nunique() if "geography" in neighbours else len(latest)
    note = f"average of {len(latest)} of {councils} council{'' if councils == 1 else 's'}"
    return published_value(float(latest["_number"].mean()), unit), year_label(when), note


def build_scorecard(
    measures: pd.DataFrame,
    comparators: pd.DataFrame | None,
    targets: dict[str, float] | None,
    year: int | None = None,
    *,
    neighbours: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The scorecard: one row per line of :data:`SCORECARD_ITEMS`.

    Parameters
    ----------
    measures : DataFrame
        The council's measure frame (docs/design.md Contract 2), after
        :func:`cpanalysis.suppression.suppress` (``display`` and ``suppressed`` columns;
        without them values are shown unsuppressed, so pass suppressed frames).
        Columns used: ``time_period``, ``measure``, ``breakdown``, ``value``, ``unit``.
    comparators : DataFrame or None
        England's figures, same measure ids (rows with ``geography == "England"`` are used;
        a frame without ``geography`` is taken as all England). Rows whose ``comparator``
        is ``"Statistical neighbour"`` are used as ``neighbours`` when that is not given.
    targets : dict or None
        The council's own targets by measure id (``config.targets``); they replace England
        as the RAG yardstick.
    year : int, optional
        Collection year shown as "this year" (default: the latest in ``measures``).
    neighbours : DataFrame, optional
        The statistical neighbours' published figures (one ``geography`` per council).

    Returns
    -------
    DataFrame
        :data:`SCORECARD_COLUMNS`, all strings: ``this_year``/``last_year``/``england`` as
        published (``c`` when withheld), ``page`` (the site page of the measure),
        ``trend`` (the published figures of the last :data:`TREND_YEARS` years, oldest
        first, joined by ``"; "``), ``england_year`` as ``"2024-25"``, ``direction`` (see
        :func:`direction`), ``compared_with_england`` (``better``/``worse``/``the same``,
        from the published figures), ``neighbours`` (their average, when given),
        ``yardstick`` (``"England 2024-25"`` or ``"council target (9)"``), ``rag``
        (``green``/``amber``/``red``/empty), ``note`` (e.g. the quarters of SGOs),
        ``source`` (``"SSDA903 return"`` or :data:`NOT_FROM_RETURN`). ``frame.attrs``
        holds ``year``, ``last_year`` (int), ``trend_years`` (list of int) and
        ``has_neighbours`` (bool: show the neighbours' column).
    """
    targets = dict(targets or {})
    if year is None:
        year = int(measures["time_period"].max()) if not measures.empty else None
    england = comparators
    if neighbours is None and comparators is not None and "comparator" in comparators:
        chosen = comparators["comparator"].eq("Statistical neighbour").fillna(False)
        neighbours = comparators.loc[chosen.to_numpy(dtype=bool)] if chosen.any() else None
    if england is not None and not england.empty and "geography" in england.columns:
        england = england.loc[england["geography"].eq("England")]
    trend_years = [] if year is None else list(range(year - TREND_YEARS + 1, year + 1))
    rows = []
    for item in SCORECARD_ITEMS:
        row = dict.fromkeys(SCORECARD_COLUMNS, "")
        row.update(priority=item.priority, indicator=item.label, breakdown=item.breakdown)
        if item.measure is None:
            row.update(source=NOT_FROM_RETURN, breakdown="")
            rows.append(row)
            continue
        row.update(
            measure=item.measure, source="SSDA903 return", page=MEASURE_PAGES.get(item.measure, "")
        )
        own = _rows_of(measures, item.measure, item.breakdown)
        unit = str(own["unit"].iloc[0]) if "unit" in own and not own.empty else ""
        by_year = {y: _shown(own.loc[own["time_period"].eq(y)], unit) for y in trend_years}
        this_shown = by_year.get(year, "") or "x"
        last_shown = _shown(own.loc[own["time_period"].eq(year - 1)], unit) or "x"
        this_value, last_value = published_number(this_shown), published_number(last_shown)
        row["trend"] = "; ".join(by_year[y] or "x" for y in trend_years)
        eng_value = None
        if item.measure not in _COUNTS_NOT_COMPARED:
            # the same England year as the notebook sentences and chart titles
            when = england_year(england, item.measure, breakdown=item.breakdown, year=year)
            if when is not None:
                eng = _rows_of(england, item.measure, item.breakdown)
                latest = eng.loc[eng["time_period"].eq(when) & eng["value"].notna()]
                unit = unit or (str(latest["unit"].iloc[0]) if "unit" in latest else "")
                eng_shown = _shown(latest, unit)
                eng_value = published_number(eng_shown)
                row.update(
                    england=eng_shown,
                    england_year=year_label(when),
                    compared_with_england=compare_word(
                        this_value, eng_value, item.higher_is_better
                    ),
                )
            shown, when_sn, note = _neighbour_average(
                neighbours, item.measure, item.breakdown, unit, year
            )
            row.update(neighbours=shown, neighbours_year=when_sn, neighbours_note=note)
        if item.measure in targets:
            yard_value = published_number(published_value(float(targets[item.measure]), unit))
            row["yardstick"] = f"council target ({published_value(yard_value, unit)})"
        elif eng_value is not None:
            yard_value = eng_value
            row["yardstick"] = f"England {row['england_year']}"
        else:
            yard_value = None
        row.update(
            unit=unit,
            this_year=this_shown,
            last_year=last_shown,
            direction=direction(this_value, last_value, item.higher_is_better),
            rag=rag(this_value, yard_value, unit, item.higher_is_better),
        )
        if item.measure == "sgo_granted":
            parts = measures.loc[
                measures["measure"].eq(item.measure)
                & measures["time_period"].eq(year)
                & measures["breakdown"].isin(["Q1", "Q2", "Q3", "Q4"])
            ].sort_values("breakdown")
            row["note"] = ", ".join(
                f"{q} {_shown(parts.loc[parts['breakdown'].eq(q)], 'count')}"
                for q in parts["breakdown"]
            )
        rows.append(row)
    frame = pd.DataFrame(rows, columns=SCORECARD_COLUMNS).astype("string")
    frame.attrs["year"] = year
    frame.attrs["last_year"] = None if year is None else year - 1
    frame.attrs["trend_years"] = trend_years
    frame.attrs["has_neighbours"] = bool(frame["neighbours"].fillna("").ne("").any())
    return frame


def _names(labels: Sequence[str]) -> str:
    """``"a"``, ``"a and b"``, ``"a, b and c"``."""
    labels = list(labels)
    if len(labels) <= 1:
        return "".join(labels)
    return ", ".join(labels[:-1]) + " and " + labels[-1]


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def scorecard_summary(card: pd.DataFrame) -> str:
    """The scorecard in one paragraph, computed from its rows: the 30-second answer.

    A measure shown under two priorities (e.g. SDQs) is counted once. Only measures where
    higher or lower is better are judged; only published figures are compared.

    Parameters
    ----------
    card : DataFrame
        From :func:`build_scorecard`.

    Returns
    -------
    str
        Plain text, e.g. ``"Of the 18 measures with a figure for 2025-26, 4 are worse than
        England and 9 better or the same; 5 are worse than last year and 8 better. Marks: 2
        red, 2 amber, 10 green. Red: Children with 3 or more placements in the year (%) and
        Reviews held on time (%)."``
    """
    year = card.attrs.get("year")
    rows = card.loc[card["source"].eq("SSDA903 return")].fillna("")
    rows = rows.drop_duplicates(subset=["measure", "breakdown"])
    shown = rows.loc[rows["this_year"].map(published_number).notna()]
    judged = shown.loc[shown["direction"].str.contains("better|worse|no change", regex=True)]
    if year is None or shown.empty:
        return "There are no figures for this year yet."
    parts = [f"Of the {_count(len(shown), 'measure')} with a figure for {year_label(year)}"]
    vs_england = shown["compared_with_england"]
    n_worse_e = int(vs_england.eq("worse").sum())
    n_ok_e = int(vs_england.isin(["better", "the same"]).sum())
    if n_worse_e + n_ok_e:
        parts.append(
            f", {n_worse_e} {'is' if n_worse_e == 1 else 'are'} worse than England and "
            f"{n_ok_e} better or the same"
        )
    n_worse = int(judged["direction"].str.endswith("worse").sum())
    n_better = int(judged["direction"].str.endswith("better").sum())
    n_same = int(judged["direction"].str.endswith("no change").sum())
    parts.append(
        f"; compared with last year, {n_worse} {'is' if n_worse == 1 else 'are'} worse, "
        f"{n_better} better and {n_same} unchanged."
    )
    marks = shown["rag"]
    counts = [(m, int(marks.eq(m).sum())) for m in ("red", "amber", "green")]
    if sum(n for _, n in counts):
        parts.append(" Marks: " + ", ".join(f"{n} {m}" for m, n in counts) + ".")
    red = shown.loc[marks.eq("red"), "indicator"].tolist()
    if red:
        parts.append(f" Red: {_names(red)}.")
    withheld = rows.loc[rows["this_year"].eq("c")]
    if len(withheld):
        parts.append(
            f" {_count(len(withheld), 'figure')} {'is' if len(withheld) == 1 else 'are'} "
            "withheld (c) because very few children are involved."
        )
    return "".join(parts)
