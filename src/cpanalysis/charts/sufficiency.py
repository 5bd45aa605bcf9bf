"""Sufficiency charts: children by placement group ahead, and a scenario beside the baseline.

Why small multiples: seven placement groups differ a hundredfold in size (hundreds in
foster care, a handful placed for adoption), so one shared axis would flatten the small
groups that cost the most; each group gets its own panel and axis. Why the back-test in
the subtitle: the projection must never be read without how such projections did before.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from cpanalysis.charts.frames import title as make_title
from cpanalysis.charts.theme import COUNCIL_COLOUR, OTHER_COLOURS
from cpanalysis.errors import InputError
from cpanalysis.stock_flow import GROUPS
from cpanalysis.sufficiency import BASELINE, TOTAL, SufficiencyForecast

__all__ = ["placement_forecast_chart", "scenario_chart"]


def _recent(history: pd.DataFrame, months_back: int) -> pd.DataFrame:
    last = history["period"].max()
    return history[history["period"] > last - pd.DateOffset(months=months_back)]


def placement_forecast_chart(
    forecast: SufficiencyForecast,
    *,
    scenario: str = BASELINE,
    months_back: int = 36,
) -> alt.FacetChart:
    """Children looked after in each placement group: recorded, then projected with a band.

    Parameters
    ----------
    forecast : SufficiencyForecast
        From :func:`cpanalysis.sufficiency.sufficiency_forecast`.
    scenario : str
        Which projection to draw (the baseline by default).
    months_back : int
        Months of recorded history shown before the projection.
    """
    ahead = forecast.projection[forecast.projection["scenario"] == scenario]
    if ahead.empty:
        raise InputError(f"no projection named {scenario!r}")
    ahead = ahead[ahead["group"].isin(GROUPS)]
    # a group withheld at the jump-off: its first projected months would show the count
    hidden_now = forecast.withheld_at_jump_off
    ahead = ahead[~(ahead["group"].isin(hidden_now) & (ahead["months_ahead"] < 12))]
    past = _recent(forecast.history[forecast.history["group"].isin(GROUPS)], months_back)
    # the dashed line starts at the last recorded month end, so the two lines meet;
    # withheld counts stay in the data as gaps (no value), never as numbers
    last = past[past["period"] == past["period"].max()].dropna(subset=["value"])
    bridge = pd.DataFrame(
        {
            "period": last["period"],
            "group": last["group"],
            "mean": last["value"],
            "lower": last["value"],
            "upper": last["value"],
        }
    )
    rows = pd.concat(
        [
            past.assign(series="Recorded", mean=past["value"], lower=np.nan, upper=np.nan)[
                ["period", "group", "series", "mean", "lower", "upper"]
            ],
            pd.concat([bridge, ahead[["period", "group", "mean", "lower", "upper"]]]).assign(
                series="Projected"
            ),
        ],
        ignore_index=True,
    )
    for column in ("mean", "lower", "upper"):
        rows[column] = pd.to_numeric(rows[column], errors="coerce").astype("float64")
    rows["shown"] = rows["mean"].round().astype("Int64").astype("string").fillna("c")
    x = alt.X("period:T", title="Month end")
    y_title = "Children looked after"
    colour = alt.Color(
        "series:N",
        scale=alt.Scale(domain=["Recorded", "Projected"], range=[COUNCIL_COLOUR] * 2),
        title=None,
    )
    dash = alt.StrokeDash(
        "series:N",
        scale=alt.Scale(domain=["Recorded", "Projected"], range=[[1, 0], [6, 4]]),
        title=None,
    )
    band = (
        alt.Chart()
        .transform_filter(alt.datum.series == "Projected")
        .mark_area(opacity=0.2, color=COUNCIL_COLOUR)
        .encode(x=x, y=alt.Y("lower:Q", title=y_title), y2="upper:Q")
    )
    line = (
        alt.Chart()
        .mark_line()
        .encode(
            x=x,
            y=alt.Y("mean:Q", title=y_title),
            color=colour,
            strokeDash=dash,
            tooltip=[
                alt.Tooltip("group:N", title="Placement group"),
                alt.Tooltip("period:T", title="Month end", format="%b %Y"),
                alt.Tooltip("series:N", title="Recorded or projected"),
                alt.Tooltip("shown:N", title="Children"),
            ],
        )
    )
    chart = (
        alt.layer(band, line, data=rows)
        .properties(width=280, height=140)
        .facet(
            facet=alt.Facet("group:N", sort=list(GROUPS), title=None),
            columns=2,
        )
        .resolve_scale(y="independent")
    )
    horizon = forecast.horizon
    total = forecast.at(horizon)
    total = total[(total["group"] == TOTAL) & (total["scenario"] == scenario)].iloc[0]
    when = pd.Timestamp(total["period"]).strftime("%B %Y")
    heading = (
        f"Children looked after by placement group: about {total['mean']:,.0f} children "
        f"in all by {when} (95% interval {total['lower']:,.0f} to {total['upper']:,.0f})"
    )
    captions = [
        forecast.sentence,
        "Solid: recorded at each month end. Dashed: projected. Shaded: 95% interval. "
        "Each panel has its own scale.",
        *_withheld_captions(forecast, past),
    ]
    return chart.properties(title=make_title(heading, captions))


def _withheld_captions(forecast: SufficiencyForecast, past: pd.DataFrame) -> list[str]:
    """What the reader is not shown, in words: gaps in the recorded lines, late starts."""
    out = []
    if past["protected"].any():
        out.append(
            "A gap in a recorded line is a month whose count is not published: "
            f"1 to {forecast.threshold} children, or a count that would give such a small "
            "group away."
        )
    withheld = past.loc[past["suppressed"] & ~past["protected"], "period"]
    if len(withheld):
        out.append(
            "Gaps at 31 March: the Overview's placement types count the same children and "
            "withhold a figure that year, so only the total is shown then."
        )
    hidden_now = forecast.withheld_at_jump_off
    if len(hidden_now) == len(GROUPS):
        out.append(
            "The latest counts by group are not published, so the projections are drawn "
            "from a year ahead (their first months would give the counts away)."
        )
    elif hidden_now:
        out.append(
            f"{_names(hidden_now)}: the latest count is not published, so the projection "
            "is drawn from a year ahead (its first months would give the count away)."
        )
    return out


def _names(groups: list[str]) -> str:
    return groups[0] if len(groups) == 1 else ", ".join(groups[:-1]) + " and " + groups[-1]


def _note(text: str) -> alt.Chart:
    """A chart-sized note where there is nothing to draw (no costs, no scenario)."""
    return (
        alt.Chart(pd.DataFrame({"note": [text]}))
        .mark_text(align="left", fontSize=14)
        .encode(text="note:N")
        .properties(height=40, title=make_title(text))
    )


def scenario_chart(
    forecast: SufficiencyForecast,
    *,
    measure: str = "children",
    months_back: int = 24,
) -> alt.LayerChart | alt.Chart:
    """The baseline and the scenario side by side: children in all, or the weekly cost.

    Parameters
    ----------
    forecast : SufficiencyForecast
        With a scenario (``forecast.scenario``).
    measure : {"children", "cost"}
        Children looked after in all, or the weekly cost of their placements (needs unit
        costs).
    months_back : int
        Months of recorded history shown (children only; costs are not recorded).
    """
    if measure == "cost" and forecast.costs.empty:
        return _note("No unit costs are set ([costs] in cpanalysis.toml), so no cost is shown.")
    if forecast.scenario is None:
        return _note("No scenario is set ([scenario] in cpanalysis.toml).")
    names = [BASELINE, forecast.scenario.name]
    colours = [COUNCIL_COLOUR, OTHER_COLOURS[0]]
    if measure == "children":
        ahead = forecast.projection[forecast.projection["group"] == TOTAL]
        ahead = ahead.rename(columns={"mean": "value"})
        past = _recent(forecast.history[forecast.history["group"] == TOTAL], months_back)
        y_title = "Children looked after at month end"
        unit = "children"
        fmt = ",.0f"
    elif measure == "cost":
        # in thousands of pounds: a cost written as a six-digit whole number in the chart's
        # data could read as a child's ID (the privacy gate refuses the page)
        # with a group withheld at the jump-off, the first months' cost (nearly its
        # recorded children times unit costs) would give it back: start a year ahead
        first = 12 if forecast.withheld_at_jump_off else 1
        ahead = forecast.costs[forecast.costs["months_ahead"] >= first].rename(
            columns={"weekly_cost": "value"}
        )
        ahead = ahead.assign(**{c: ahead[c] / 1000 for c in ("value", "lower", "upper")})
        past = pd.DataFrame(columns=["period", "value"])
        y_title = "Cost of placements a week (£ thousands)"
        unit = "a week"
        fmt = ",.1f"
    else:
        raise InputError(f"scenario_chart measure must be 'children' or 'cost', not {measure!r}")
    rows = ahead[["scenario", "period", "value", "lower", "upper"]]
    # month and year on every label: a cost drawn from a year ahead spans two years only,
    # where the axis would otherwise name months alone ("April", "August")
    x = alt.X("period:T", title="Month end", axis=alt.Axis(format="%b %Y", labelOverlap=True))
    colour = alt.Color(
        "scenario:N", scale=alt.Scale(domain=names, range=colours), title=None, sort=names
    )
    band = (
        alt.Chart(rows)
        .mark_area(opacity=0.15)
        .encode(x=x, y=alt.Y("lower:Q", title=y_title), y2="upper:Q", color=colour)
    )
    lines = (
        alt.Chart(rows)
        .mark_line(strokeDash=[6, 4])
        .encode(
            x=x,
            y=alt.Y("value:Q", title=y_title),
            color=colour,
            tooltip=[
                alt.Tooltip("scenario:N", title="Scenario"),
                alt.Tooltip("period:T", title="Month end", format="%b %Y"),
                alt.Tooltip("value:Q", title=y_title, format=fmt),
            ],
        )
    )
    layers = [band, lines]
    if len(past):
        layers.append(
            alt.Chart(past.assign(scenario="Recorded"))
            .mark_line(color="#3B3B3B")
            .encode(x=x, y=alt.Y("value:Q", title=y_title))
        )
    end = ahead[ahead["months_ahead"] == ahead["months_ahead"].max()].set_index("scenario")
    base, alt_value = end.loc[names[0], "value"], end.loc[names[1], "value"]
    money = measure == "cost"
    shown = (lambda v: f"£{v * 1000:,.0f} {unit}") if money else (lambda v: f"{v:,.0f} {unit}")
    when = pd.Timestamp(end["period"].iloc[0]).strftime("%B %Y")
    heading = (
        f"{forecast.scenario.name}: {shown(alt_value)} by {when} against "
        f"{shown(base)} on current rates"
    )
    captions = [
        forecast.sentence,
        "Grey: recorded. Dashed: projected. Shaded: 95% interval of each projection.",
    ]
    if money:
        captions.append(forecast.cost_note)
        if forecast.withheld_at_jump_off:
            captions.append(
                "The cost is drawn from a year ahead: this month's counts of some placement "
                "groups are not published, and the first months' cost would give them away."
            )
    return alt.layer(*layers).properties(title=make_title(heading, captions))
