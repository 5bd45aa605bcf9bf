"""Charts of Contract-2 measure frames: trends over years and breakdowns within a year.

Each function takes the published (suppressed) measure frame itself, so a notebook or the
site draws exactly the numbers the tables show, and an analyst reproduces a site chart in
two lines::

    m = cpanalysis.indicators.compute_all(cpanalysis.load_processed("data/processed"))
    cpanalysis.charts.trend_chart(cpanalysis.suppress(m), "placements_3plus_pct")

Suppressed rows (``value`` NaN, ``display`` ``"c"``) leave a gap in a line, are marked with
a "c" along the bottom of the plot, and every tooltip shows ``display``, never ``value``.
"""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import pandas as pd

from cpanalysis.charts.frames import choice_title, geography_style, measure_rows, title
from cpanalysis.charts.theme import CHART_HEIGHT
from cpanalysis.charts.wording import (
    axis_title,
    council_of,
    finding_title,
    source_caption,
    wording,
)
from cpanalysis.formatting import format_value
from cpanalysis.labels import breakdown_label
from cpanalysis.schema import year_label

__all__ = ["trend_chart", "breakdown_trend_chart", "age_group_trend_chart", "breakdown_chart"]

X_TITLE = "Collection year (1 April to 31 March)"


def _year_domain(rows: pd.DataFrame) -> list[str]:
    # every year between the first and last, so a missing return shows as a gap
    first, last = int(rows["time_period"].min()), int(rows["time_period"].max())
    return [year_label(y) for y in range(first, last + 1)]


def _tooltips(value_title: str, with_breakdown: bool = False) -> list[alt.Tooltip]:
    tips = [alt.Tooltip("geography:N", title="Area"), alt.Tooltip("year:O", title="Year")]
    if with_breakdown:
        tips.append(alt.Tooltip("breakdown:N", title="Group"))
    tips.append(alt.Tooltip("display:N", title=value_title))
    return tips


def _trend_layers(
    base: alt.Chart,
    rows: pd.DataFrame,
    council: str | None,
    y_title: str,
    with_breakdown: bool,
) -> alt.LayerChart:
    colour_scale, dash_scale, _ = geography_style(rows["geography"], council)
    x = alt.X("year:O", title=X_TITLE, scale=alt.Scale(domain=_year_domain(rows)))
    x = x.axis(labelAngle=0)
    y = alt.Y("value:Q", title=y_title)
    tips = _tooltips(y_title, with_breakdown)
    # one legend for colour and dash, drawn as line samples so "dashed = England" reads
    legend = alt.Legend(symbolType="stroke", symbolSize=300, symbolStrokeWidth=3)
    colour = alt.Color("geography:N", scale=colour_scale, title=None, legend=legend)
    lines = base.mark_line().encode(
        x=x,
        y=y,
        color=colour,
        strokeDash=alt.StrokeDash("geography:N", scale=dash_scale, title=None, legend=legend),
        tooltip=tips,
    )
    points = base.mark_point().encode(x=x, y=y, color=colour, tooltip=tips)
    # suppressed years: no point to hover, so a "c" sits on the x axis instead
    hidden = (
        base.transform_filter(~alt.expr.isValid(alt.datum.value))
        .mark_text(dy=-4, fontWeight="bold")
        .encode(
            x=x,
            y=alt.value(CHART_HEIGHT - 4),
            text="display:N",
            color=colour,
            tooltip=tips,
        )
    )
    return alt.layer(lines, points, hidden)


def trend_chart(
    measures: pd.DataFrame,
    measure: str,
    *,
    breakdown: str = "Total",
    council: str | None = None,
    comparators: pd.DataFrame | None = None,
    title: str | None = None,
    y_title: str | None = None,
    caption: str | None = None,
    suppression_threshold: int = 5,
    threshold_line: tuple[float, str] | None = None,
) -> alt.LayerChart:
    """The council's line over collection years, with England and other areas dashed.

    Parameters
    ----------
    measures : DataFrame
        Contract-2 measure frame (``time_period, geography, measure, breakdown, value,
        unit``; ``display``/``suppressed`` from ``suppress()``). May already hold England.
    measure : str
        Measure id, e.g. ``"placements_3plus_pct"``.
    breakdown : str
        Which breakdown to draw (``"Total"``, ``"19 to 21 years"``).
    council : str, optional
        The council's ``geography`` (default: the one non-England geography).
    comparators : DataFrame, optional
        More Contract-2 rows (England, regions, neighbours), drawn dashed.
    title, y_title, caption : str, optional
        Override the computed finding, the value-axis title and the source caption.
    suppression_threshold : int
        Named in the caption ("Counts of 1 to 5 are suppressed").
    threshold_line : tuple of (float, str), optional
        A published threshold drawn as a labelled horizontal rule, e.g.
        ``(426, "A1 threshold: 426 days")``, so a reader sees which side of it the council is.

    Returns
    -------
    altair.LayerChart
        x = ``year`` (``"2024-25"``), y = ``value``; tooltips Area, Year and ``display``.

    Examples
    --------
    >>> chart = trend_chart(suppress(m), "placements_3plus_pct")
    >>> chart.save("stability.html")
    """
    council = _own_geography(measures, council)
    rows = measure_rows(measures, measure, comparators=comparators, breakdowns=[breakdown])
    rows, council, y_title, caption = _prepare(
        rows, measure, council, y_title, caption, suppression_threshold
    )
    finding = title or finding_title(
        rows.assign(measure=measure), measure, breakdown=breakdown, council=council
    )
    data = rows.drop(columns="unit")
    chart = _trend_layers(alt.Chart(data), rows, council, y_title, False)
    if threshold_line is not None:
        # nest rather than flatten: the trend layers share data held at their top level
        chart = alt.layer(chart, *_threshold_layers(*threshold_line))
    return chart.properties(title=_with_caption(finding, caption))


def _threshold_layers(value: float, label: str) -> list[alt.Chart]:
    """A dotted horizontal rule at ``value`` with its label, for a published threshold."""
    frame = pd.DataFrame({"threshold": [float(value)], "label": [label]})
    base = alt.Chart(frame)
    rule = base.mark_rule(strokeDash=[2, 3], color="#D55E00").encode(
        y="threshold:Q", tooltip=[alt.Tooltip("label:N", title="Threshold")]
    )
    text = base.mark_text(align="left", dx=4, dy=-6, color="#D55E00").encode(
        x=alt.value(0), y="threshold:Q", text="label:N"
    )
    return [rule, text]


def _with_caption(text: str, caption: str, note: str | None = None) -> alt.Title:
    return title(text, [caption] if note is None else [caption, note])


def breakdown_trend_chart(
    measures: pd.DataFrame,
    measure: str,
    *,
    breakdowns: Sequence[str] | None = None,
    initial: str | None = None,
    council: str | None = None,
    comparators: pd.DataFrame | None = None,
    title: str | None = None,
    y_title: str | None = None,
    caption: str | None = None,
    suppression_threshold: int = 5,
) -> alt.LayerChart:
    """A trend chart with a dropdown to choose the breakdown (age group, placement type ...).

    Parameters
    ----------
    measures, measure, council, comparators, title, y_title, caption, suppression_threshold
        As :func:`trend_chart`.
    breakdowns : sequence of str, optional
        The dropdown's choices, in order (default: every breakdown except ``"Total"``, in
        the frame's order).
    initial : str, optional
        The breakdown shown first (default: the first choice); the computed title speaks
        about it.

    Returns
    -------
    altair.LayerChart
        With a top-level parameter ``breakdown`` bound to a ``<select>``.

    Examples
    --------
    >>> breakdown_trend_chart(suppress(m), "care_leavers_eet_pct")  # 17-18 / 19-21 dropdown
    >>> breakdown_trend_chart(suppress(m), "care_leavers_eet_pct", initial="19 to 21 years")
    """
    council = _own_geography(measures, council)
    rows = measure_rows(measures, measure, comparators=comparators, breakdowns=breakdowns)
    # the rows name their breakdowns in words: so do the choices
    if breakdowns is not None:
        breakdowns = [breakdown_label(measure, b) for b in breakdowns]
    if initial is not None:
        initial = breakdown_label(measure, initial)
    if breakdowns is None:
        choices = [b for b in dict.fromkeys(rows["breakdown"]) if b != "Total"]
        choices = choices or ["Total"]
        rows = rows[rows["breakdown"].isin(choices)]
    else:
        choices = [b for b in breakdowns if b in set(rows["breakdown"])]
    initial = initial if initial is not None else choices[0]
    rows, council, y_title, caption = _prepare(
        rows, measure, council, y_title, caption, suppression_threshold
    )
    tagged = rows.assign(measure=measure)
    findings = {
        choice: title or finding_title(tagged, measure, breakdown=choice, council=council)
        for choice in choices  # a handful of groups, not data rows
    }
    pick = alt.param(
        name="breakdown",
        value=initial,
        bind=alt.binding_select(options=choices, name="Group: "),
    )
    base = alt.Chart(rows.drop(columns="unit")).transform_filter(alt.datum.breakdown == pick)
    chart = _trend_layers(base, rows, council, y_title, True)
    heading, titles = choice_title("breakdown", findings, caption)
    return chart.add_params(pick, titles).properties(title=heading)


def _own_geography(measures: pd.DataFrame, council: str | None) -> str | None:
    """The council: as given, else the geography of ``measures`` itself.

    Comparators (England, the region, chosen councils) come in a separate frame, so the
    council is the area of the frame the caller passed as ``measures``, even when the
    comparators add several other areas.
    """
    return council if council is not None else council_of(measures, None)


def _prepare(
    rows: pd.DataFrame,
    measure: str,
    council: str | None,
    value_title: str | None,
    caption: str | None,
    suppression_threshold: int,
) -> tuple[pd.DataFrame, str | None, str, str]:
    """The council, its comparable rows, the value-axis title and the source caption.

    Shared by every chart of this module, so each names its axis and sources the same way;
    a title or caption the caller gave is kept.
    """
    council = council_of(rows, council)
    rows = _comparable(rows, council)
    value_title = value_title or axis_title(measure, rows["unit"].iloc[0])
    caption = caption or source_caption(
        rows, council=council, suppression_threshold=suppression_threshold
    )
    return rows, council, value_title, caption


def _comparable(rows: pd.DataFrame, council: str | None) -> pd.DataFrame:
    """Drop other areas' rows for counts: England's 81,770 children would flatten the council's
    line to the axis, and a count says nothing about another area's size."""
    if council is None:
        return rows
    return rows[(rows["unit"] != "count") | (rows["geography"] == council)]


#: the care-leaver measures' breakdowns are age groups; the same chart under its plain name
age_group_trend_chart = breakdown_trend_chart


def _largest_finding(rows: pd.DataFrame, measure: str, council: str | None, year: int) -> str:
    words = wording(measure)
    mine = rows[(rows["geography"] == council) & (rows["time_period"] == year)]
    shown = mine.dropna(subset=["value"])
    if shown.empty:
        return f"{words.label}, {year_label(year)}"
    top = shown.loc[shown["value"].idxmax()]
    largest = f"the largest group is {top['breakdown']} ({format_value(top['value'], top['unit'])})"
    return f"{words.label}, {year_label(year)}: {largest}"


def breakdown_chart(
    measures: pd.DataFrame,
    measure: str,
    *,
    year: int | None = None,
    council: str | None = None,
    comparators: pd.DataFrame | None = None,
    include_total: bool = False,
    interactive_year: bool = True,
    title: str | None = None,
    x_title: str | None = None,
    caption: str | None = None,
    suppression_threshold: int = 5,
) -> alt.LayerChart:
    """Horizontal bars of the council's breakdowns for one year, England as black ticks.

    Parameters
    ----------
    measures, measure, council, comparators, caption, suppression_threshold
        As :func:`trend_chart`.
    year : int, optional
        Collection year shown first (default: the council's latest).
    include_total : bool
        Also draw the ``"Total"`` bar (off: the total dwarfs its parts).
    interactive_year : bool
        Add a dropdown (top-level parameter ``year``) to choose another year; otherwise only
        ``year`` is drawn.
    title, x_title : str, optional
        Override the computed title ("..., 2024-25: the largest group is ...") and the value
        axis title.

    Returns
    -------
    altair.LayerChart
        y = ``breakdown``, x = ``value``; tooltips Area, Year, Group and ``display``.

    Examples
    --------
    >>> breakdown_chart(suppress(m), "cla_by_placement_type")
    >>> breakdown_chart(suppress(m), "ceased_by_reason", year=2025, interactive_year=False)
    """
    council = _own_geography(measures, council)
    rows = measure_rows(measures, measure, comparators=comparators)
    if not include_total and (rows["breakdown"] != "Total").any():
        rows = rows[rows["breakdown"] != "Total"]
    rows, council, x_title, caption = _prepare(
        rows, measure, council, x_title, caption, suppression_threshold
    )
    mine = rows[rows["geography"] == council] if council is not None else rows
    year = int(mine["time_period"].max()) if year is None else int(year)
    colour_scale, _, _ = geography_style(rows["geography"], council)
    order = list(dict.fromkeys(mine["breakdown"]))
    order += [b for b in dict.fromkeys(rows["breakdown"]) if b not in order]
    data = rows.drop(columns="unit")
    base = alt.Chart(data)
    params: list[alt.Parameter] = []
    if interactive_year:
        years = [year_label(y) for y in sorted(mine["time_period"].unique())]
        pick = alt.param(
            name="year",
            value=year_label(year),
            bind=alt.binding_select(options=years, name="Year: "),
        )
        base = base.transform_filter(alt.datum.year == pick)
        params.append(pick)
    else:
        base = base.transform_filter(alt.datum.time_period == year)
    y = alt.Y("breakdown:N", sort=order, title=None).axis(labelLimit=260)
    x = alt.X("value:Q", title=x_title)
    tips = _tooltips(x_title, with_breakdown=True)
    colour = alt.Color("geography:N", scale=colour_scale, title=None)
    is_council = alt.datum.geography == (council or "")
    bars = base.transform_filter(is_council).mark_bar().encode(x=x, y=y, color=colour, tooltip=tips)
    ticks = (
        base.transform_filter(~is_council)
        .mark_tick(thickness=3, size=22)
        .encode(x=x, y=y, color=colour, tooltip=tips)
    )
    hidden = (
        base.transform_filter(is_council & ~alt.expr.isValid(alt.datum.value))
        .mark_text(align="left", dx=4, fontWeight="bold")
        .encode(x=alt.value(0), y=y, text="display:N", tooltip=tips)
    )
    # a tick layer with no comparator rows would only make vega warn of an empty extent
    has_others = (rows["geography"] != council).any()
    chart = alt.layer(bars, ticks, hidden) if has_others else alt.layer(bars, hidden)
    if not params:
        finding = title or _largest_finding(rows, measure, council, year)
        return chart.properties(title=_with_caption(finding, caption))
    # the title follows the year chosen in the dropdown
    findings = {
        year_label(y): title or _largest_finding(rows, measure, council, int(y))
        for y in sorted(mine["time_period"].unique())  # a few years, not data rows
    }
    heading, titles = choice_title("year", findings, caption)
    return chart.add_params(*params, titles).properties(title=heading)
