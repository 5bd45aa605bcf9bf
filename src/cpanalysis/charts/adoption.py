"""Adoption charts: how long children wait (Kaplan-Meier) and where the time goes (stages).

Why two charts: the DfE's mean days hide the children still waiting (a mean over children
*adopted* leaves out everyone not yet placed), so the survival curve shows the share still
waiting after each month, censoring those still waiting at the end of the data; the stage
bars then show which step of the journey (decision, match, moving in, order) is slow
compared with England.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from cpanalysis.charts.frames import check_columns, geography_style, measure_rows, title
from cpanalysis.charts.theme import COUNCIL_COLOUR, OKABE_ITO
from cpanalysis.charts.wording import ENGLAND, council_of, source_caption
from cpanalysis.errors import InputError
from cpanalysis.formatting import format_value
from cpanalysis.schema import year_label

__all__ = ["DAYS_PER_MONTH", "STAGE_MEASURES", "survival_chart", "stage_timeline_chart"]

#: mean length of a month (365.25 / 12), to show days as months
DAYS_PER_MONTH = 30.44

#: the four stages of the adoption journey, in order, with their labels
STAGE_MEASURES: dict[str, str] = {
    "adoption_entry_to_decision_days": "Entering care to decision to adopt",
    "adoption_decision_to_match_days": "Decision to match",
    "adoption_match_to_placed_days": "Match to moving in",
    "adoption_placed_to_order_days": "Moving in to adoption order",
}

_KM_COLUMNS = ("days", "survival", "lower", "upper")


def _km_rows(km: pd.DataFrame) -> pd.DataFrame:
    check_columns(km, _KM_COLUMNS, "the Kaplan-Meier table", "needs days, survival, lower, upper")
    rows = km[list(_KM_COLUMNS)].apply(pd.to_numeric, errors="coerce").astype(float)
    rows = rows.sort_values("days", kind="stable").reset_index(drop=True)
    # statsmodels gives proportions (0-1); a table already in percent has values above 1
    scale = 1.0 if (rows[["survival", "lower", "upper"]] > 1.0).any().any() else 100.0
    rows[["survival", "lower", "upper"]] *= scale
    if rows.empty or rows["days"].iloc[0] > 0:  # the curve starts with everyone waiting
        start = pd.DataFrame({"days": [0.0], "survival": 100.0, "lower": 100.0, "upper": 100.0})
        rows = pd.concat([start, rows], ignore_index=True)
    rows["months"] = rows["days"] / DAYS_PER_MONTH
    return rows


def survival_chart(
    km: pd.DataFrame,
    *,
    title: str | None = None,
    x_title: str = "Months since the decision that the child should be adopted",
    y_title: str = "% still waiting for an adoption placement",
    caption: str | None = None,
) -> alt.LayerChart:
    """Kaplan-Meier step curve of the share still waiting, with its confidence band.

    Parameters
    ----------
    km : DataFrame
        ``days`` (float, days since the start event), ``survival``, ``lower``, ``upper``
        (share still waiting and its interval; proportions 0-1 as statsmodels gives, or
        percentages 0-100). A starting row at day 0 (100%) is added when absent.
    title : str, optional
        Default: the median wait, e.g. "Half of the children were placed for adoption within
        6.6 months" (the first time the curve is at or below 50%).
    x_title, y_title, caption : str
        Axis titles (x in months = days / 30.44) and the caption under the title.

    Returns
    -------
    altair.LayerChart
        Band (``lower``..``upper``) and step line (``survival``) over ``months``.

    Examples
    --------
    >>> km = cpanalysis.forecast.adoption_wait_survival(data)  # days, survival, lower, upper
    >>> survival_chart(km)
    """
    rows = _km_rows(km)
    if title is None:
        half = rows[rows["survival"] <= 50.0]
        if half.empty:
            longest = rows["months"].max()
            title = f"More than half of the children were still waiting after {longest:.1f} months"
        else:
            title = (
                f"Half of the children were placed for adoption within "
                f"{half['months'].iloc[0]:.1f} months"
            )
    caption = caption or (
        "Kaplan-Meier estimate: children still waiting at the end of the data count until then. "
        "Shaded: 95% confidence interval."
    )
    x = alt.X("months:Q", title=x_title).scale(zero=True)
    tips = [
        alt.Tooltip("months:Q", title="Months", format=".1f"),
        alt.Tooltip("survival:Q", title="% still waiting", format=".0f"),
        alt.Tooltip("lower:Q", title="Lower 95%", format=".0f"),
        alt.Tooltip("upper:Q", title="Upper 95%", format=".0f"),
    ]
    base = alt.Chart(rows)
    band = base.mark_area(interpolate="step-after", opacity=0.2, color=COUNCIL_COLOUR).encode(
        x=x, y=alt.Y("lower:Q", title=y_title).scale(domain=[0, 100]), y2="upper:Q"
    )
    line = base.mark_line(interpolate="step-after", color=COUNCIL_COLOUR).encode(
        x=x, y=alt.Y("survival:Q", title=y_title), tooltip=tips
    )
    points = base.mark_point(opacity=0, size=80).encode(x=x, y="survival:Q", tooltip=tips)
    return alt.layer(band, line, points).properties(title=_title(title, caption))


def _title(text: str, caption: str) -> alt.Title:
    return title(text, caption)


def stage_timeline_chart(
    stages: pd.DataFrame,
    comparators: pd.DataFrame | None = None,
    *,
    year: int | None = None,
    council: str | None = None,
    title: str | None = None,
    caption: str | None = None,
    suppression_threshold: int = 5,
) -> alt.Chart:
    """The adoption journey as stacked bars of mean days per stage, council against England.

    Parameters
    ----------
    stages : DataFrame
        Contract-2 measure frame holding the :data:`STAGE_MEASURES` (``Total`` breakdown;
        other measures are ignored). ``value`` = mean days for children adopted in the year.
    comparators : DataFrame, optional
        The same measures for England or other areas.
    year : int, optional
        Collection year (default: the council's latest).
    council, title, caption, suppression_threshold
        As :func:`cpanalysis.charts.trend_chart`.

    Returns
    -------
    altair.Chart
        y = ``geography``, x = stacked ``value`` (days), colour = ``stage``.

    Examples
    --------
    >>> stage_timeline_chart(suppress(m), england)
    >>> stage_timeline_chart(suppress(m), england, year=2024)
    """
    present = (
        [
            s
            for s in STAGE_MEASURES
            if (stages["measure"] == s).any()
            or (comparators is not None and (comparators["measure"] == s).any())
        ]
        if "measure" in stages.columns
        else []
    )
    if not present:
        raise InputError(
            f"the frame holds none of the adoption stage measures {', '.join(STAGE_MEASURES)}",
            column="measure",
        )
    if council is None:  # the council is the area of ``stages``, not of the comparators
        council = council_of(stages, None)
    rows = pd.concat(
        [
            measure_rows(stages, s, comparators=comparators, breakdowns=["Total"]).assign(
                stage=STAGE_MEASURES[s], step=i
            )
            for i, s in enumerate(present, start=1)
        ],
        ignore_index=True,
    )
    council = council_of(rows, council)
    mine = rows[rows["geography"] == council] if council is not None else rows
    year = int(mine["time_period"].max()) if year is None else int(year)
    rows = _latest_up_to(rows, year, council)
    _, _, areas = geography_style(rows["geography"], council)
    if title is None:
        totals = _published_totals(stages, comparators, year, council)
        title = _journey_finding(rows, council, year, len(present), totals)
    caption = caption or (
        "Mean days per stage for children adopted in the year; each stage is averaged "
        "separately, so the stages need not add up to the average total time. "
        + source_caption(rows, council=council, suppression_threshold=suppression_threshold)
    )
    labels = [STAGE_MEASURES[s] for s in present]
    chart = (
        alt.Chart(rows.drop(columns="unit"))
        .mark_bar(height=28)
        .encode(
            y=alt.Y("geography:N", sort=areas, title=None).axis(labelLimit=260),
            x=alt.X("value:Q", title="Mean days", stack="zero"),
            color=alt.Color(
                "stage:N",
                sort=labels,
                scale=alt.Scale(domain=labels, range=list(OKABE_ITO[: len(labels)])),
                title=None,
            ),
            order=alt.Order("step:Q"),
            tooltip=[
                alt.Tooltip("geography:N", title="Area"),
                alt.Tooltip("year:O", title="Year"),
                alt.Tooltip("stage:N", title="Stage"),
                alt.Tooltip("display:N", title="Mean days"),
            ],
        )
        .properties(height=60 * max(len(areas), 1))
    )
    return chart.properties(title=_title(title, caption))


def _latest_up_to(rows: pd.DataFrame, year: int, council: str | None) -> pd.DataFrame:
    """The council's ``year``; for other areas their latest year up to it, named in the label.

    England's figures are published months after a council's own return is in, so the
    comparison bar uses the latest England year and says which ("England (2024-25)").
    """
    rows = rows[rows["time_period"] <= year]
    latest = rows.groupby("geography")["time_period"].transform("max")
    rows = rows[
        (rows["time_period"] == latest) & ((rows["geography"] != council) | (latest == year))
    ]
    rows = rows.copy()
    older = rows["time_period"] != year
    rows.loc[older, "geography"] = (
        rows.loc[older, "geography"] + " (" + rows.loc[older, "year"] + ")"
    )
    return rows


#: the published average of the whole journey, quoted in the title when it is supplied
TOTAL_MEASURE = "adoption_entry_to_order_days"


def _published_totals(
    stages: pd.DataFrame, comparators: pd.DataFrame | None, year: int, council: str | None
) -> pd.DataFrame | None:
    """The published average total time (entering care to order), as the bars are labelled.

    The stages are averaged one by one (and England's are published as years:months), so
    their sum is not the published total: England's stages add up to 882 days while its
    published total is 2 years 3 months (822 days). The title quotes the published total
    beside the stages so the page never shows two totals for one journey.
    """
    has = (stages["measure"] == TOTAL_MEASURE).any() if "measure" in stages.columns else False
    if not has and (comparators is None or not (comparators["measure"] == TOTAL_MEASURE).any()):
        return None
    rows = measure_rows(stages, TOTAL_MEASURE, comparators=comparators, breakdowns=["Total"])
    return _latest_up_to(rows, year, council)


def _journey_finding(
    rows: pd.DataFrame,
    council: str | None,
    year: int,
    n_stages: int,
    totals: pd.DataFrame | None = None,
) -> str:
    if totals is not None:
        quoted = _quoted_totals(totals, council, year)
        if quoted is not None:
            return quoted

    def total(area: str | None) -> tuple[float, str] | None:
        got = rows[rows["geography"] == area]
        if len(got) != n_stages or got["value"].isna().any():
            return None
        return float(got["value"].sum()), got["year"].iloc[0]

    head = f"Children adopted in {year_label(year)}"
    mine = total(council)
    if mine is None:
        return f"{head}: mean days at each stage of the adoption journey"
    days = format_value(mine[0], "days")
    # each stage is averaged on its own (over the children with both dates), so the bars
    # add up to the stages' sum, not to the published average total time; say "add up to"
    text = f"{head}: the stages of the adoption journey add up to {days} on average"
    if n_stages < len(STAGE_MEASURES):
        text = f"{head}: {days} on average over the stages shown"
    names = rows["geography"].drop_duplicates()
    england_names = names[names.str.startswith(ENGLAND)] if council != ENGLAND else names[:0]
    england = total(england_names.iloc[0]) if len(england_names) else None
    if england is not None:
        when = "" if england[1] == year_label(year) else f" in {england[1]}"
        text += f" (England's stages: {format_value(england[0], 'days')}{when})"
    return text


def _quoted_totals(totals: pd.DataFrame, council: str | None, year: int) -> str | None:
    """Title from the published totals: the council's year, England's latest up to it."""
    mine = totals[(totals["geography"] == council) & totals["value"].notna()]
    if mine.empty:
        return None
    head = f"Children adopted in {year_label(year)}"
    text = (
        f"{head}: {format_value(float(mine['value'].iloc[0]), 'days')} on average from "
        "entering care to the adoption order"
    )
    others = totals[totals["geography"].str.startswith(ENGLAND) & totals["value"].notna()]
    if council != ENGLAND and len(others):
        england = others.iloc[0]
        when = "" if england["time_period"] == year else f" in {england['year']}"
        text += f" (England {format_value(float(england['value']), 'days')}{when})"
    return text
