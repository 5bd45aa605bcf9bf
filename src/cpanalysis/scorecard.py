"""The corporate parenting scorecard: the committee's own measures of success, in one table.

The home page of the site. It follows the "how we will measure success" list of a council's
corporate parenting strategy (docs: /work/shared/docs/committee_measures.md), priority by
priority, and adds the DfE's headline measures. For each measure the SSDA903 return can
answer it shows this year, last year, the direction of travel and whether that is better or
worse, England's figure (saying which year), and a red/amber/green mark. Measures the return
cannot answer (staff training, events, surveys, foster-carer numbers, personal advisers,
Personal Education Plans) are listed as "not from the SSDA903 return" rather than dropped,
so the committee sees the whole strategy and knows where other figures must come from.

RAG rule (documented on the page too)
-------------------------------------
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
    "SCORECARD_COLUMNS",
    "rag",
    "direction",
    "build_scorecard",
]

NOT_FROM_RETURN = "not from the SSDA903 return"
#: Amber band for percentages: worse than the yardstick by at most this many points.
PERCENT_MARGIN = 5.0
#: Amber band for other units: worse by at most this share of the yardstick.
RELATIVE_MARGIN = 0.10
#: Changes smaller than this (in the unit shown) count as "no change" (→).
_TOLERANCE = 1e-9


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
    ScorecardItem(_HEAD, "Children with 3 or more placements in the year (%)",
                  "placements_3plus_pct", higher_is_better=False),
    ScorecardItem(_HEAD, "Long-term placement stability (%)", "long_term_stability_pct",
                  higher_is_better=True),
    ScorecardItem(_HEAD, "Days from entering care to moving in with adopters",
                  "adoption_entry_to_placed_days", higher_is_better=False),
    ScorecardItem(_HEAD, "Reviews held on time (%)", "reviews_on_time_pct",
                  higher_is_better=True),
)  # fmt: skip

#: Columns of the scorecard frame, in order.
SCORECARD_COLUMNS = [
    "priority",
    "indicator",
    "measure",
    "breakdown",
    "unit",
    "this_year",
    "last_year",
    "direction",
    "england",
    "england_year",
    "yardstick",
    "rag",
    "note",
    "source",
]


def direction(this: float | None, last: float | None, higher_is_better: bool | None) -> str:
    """Direction of travel as the committee reads it: an arrow and whether it is better.

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


def rag(
    value: float | None, yardstick: float | None, unit: str, higher_is_better: bool | None
) -> str:
    """Red/amber/green mark of a value against its yardstick (rule in the module docstring).

    Parameters
    ----------
    value : float or None
        This year's figure (None or NaN when withheld or missing: no mark).
    yardstick : float or None
        The council's target or England's figure (None: no mark).
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


def _published(rows: pd.DataFrame, unit: str) -> tuple[float | None, str]:
    """(value usable for comparison, string shown) of at most one row."""
    if rows.empty:
        return None, ""
    row = rows.iloc[0]
    if _suppressed(rows).iloc[0]:
        return None, str(row.get("display", "c")) or "c"
    value = row["value"]
    shown = str(row["display"]) if "display" in rows.columns and pd.notna(row["display"]) else ""
    return (None if pd.isna(value) else float(value)), shown or published_value(value, unit)


def build_scorecard(
    measures: pd.DataFrame,
    comparators: pd.DataFrame | None,
    targets: dict[str, float] | None,
    year: int | None = None,
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
        a frame without ``geography`` is taken as all England).
    targets : dict or None
        The council's own targets by measure id (``config.targets``); they replace England
        as the RAG yardstick.
    year : int, optional
        Collection year shown as "this year" (default: the latest in ``measures``).

    Returns
    -------
    DataFrame
        :data:`SCORECARD_COLUMNS`, all strings: ``this_year``/``last_year``/``england`` as
        published (``c`` when withheld), ``england_year`` as ``"2024-25"``, ``direction``
        (see :func:`direction`), ``yardstick`` (``"England 2024-25"`` or ``"council target
        (9)"``), ``rag`` (``green``/``amber``/``red``/empty), ``note`` (e.g. the quarters of
        SGOs), ``source`` (``"SSDA903 return"`` or :data:`NOT_FROM_RETURN`).
        ``frame.attrs`` holds ``year`` and ``last_year`` (int).
    """
    targets = dict(targets or {})
    if year is None:
        year = int(measures["time_period"].max()) if not measures.empty else None
    england = comparators
    if england is not None and not england.empty and "geography" in england.columns:
        england = england.loc[england["geography"].eq("England")]
    rows = []
    for item in SCORECARD_ITEMS:
        row = dict.fromkeys(SCORECARD_COLUMNS, "")
        row.update(priority=item.priority, indicator=item.label, breakdown=item.breakdown)
        if item.measure is None:
            row.update(source=NOT_FROM_RETURN, breakdown="")
            rows.append(row)
            continue
        row.update(measure=item.measure, source="SSDA903 return")
        own = _rows_of(measures, item.measure, item.breakdown)
        unit = str(own["unit"].iloc[0]) if "unit" in own and not own.empty else ""
        this_value, this_shown = _published(own.loc[own["time_period"].eq(year)], unit)
        last_value, last_shown = _published(own.loc[own["time_period"].eq(year - 1)], unit)
        # the same England year as the notebook sentences and chart titles
        when = england_year(england, item.measure, breakdown=item.breakdown, year=year)
        eng_value = None
        if when is not None:
            eng = _rows_of(england, item.measure, item.breakdown)
            latest = eng.loc[eng["time_period"].eq(when) & eng["value"].notna()]
            unit = unit or (str(latest["unit"].iloc[0]) if "unit" in latest else "")
            eng_value, eng_shown = _published(latest, unit)
            row.update(england=eng_shown, england_year=year_label(when))
        if item.measure in targets:
            yard_value = float(targets[item.measure])
            row["yardstick"] = f"council target ({published_value(yard_value, unit)})"
        elif eng_value is not None:
            yard_value = eng_value
            row["yardstick"] = f"England {row['england_year']}"
        else:
            yard_value = None
        row.update(
            unit=unit,
            this_year=this_shown or "x",
            last_year=last_shown or "x",
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
                f"{q} {_published(parts.loc[parts['breakdown'].eq(q)], 'count')[1]}"
                for q in parts["breakdown"]
            )
        rows.append(row)
    frame = pd.DataFrame(rows, columns=SCORECARD_COLUMNS).astype("string")
    frame.attrs["year"] = year
    frame.attrs["last_year"] = None if year is None else year - 1
    return frame
