"""The forecast chart: what happened, and what the model expects with its uncertainty.

Why a shaded band and a dashed line: a committee must see at a glance which years are
recorded and which are projected, and how wide the plausible range is, before anyone plans
placements around the central line. The back-test result (how far such forecasts missed in
past years) goes in the subtitle, beside the claim it qualifies.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from cpanalysis.charts.frames import check_columns
from cpanalysis.charts.frames import title as make_title
from cpanalysis.charts.theme import COUNCIL_COLOUR
from cpanalysis.errors import InputError
from cpanalysis.formatting import format_value, published_values
from cpanalysis.schema import year_label

__all__ = ["forecast_chart"]

_FORECAST_COLUMNS = ("period", "mean", "lower", "upper")


def _history_rows(history: pd.DataFrame | pd.Series) -> tuple[pd.DataFrame, str]:
    if isinstance(history, pd.Series):  # e.g. one column of forecast.monthly_counts()
        history = history.rename("value").rename_axis("period").reset_index()
    columns = getattr(history, "columns", ())
    period = "time_period" if "time_period" in columns else "period"
    check_columns(history, (period, "value"), "history", "needs time_period or period, and value")
    keys = [c for c in ("measure", "geography", "breakdown") if c in history.columns]
    if keys and len(history[keys].drop_duplicates()) > 1:
        raise InputError(
            "history holds several series: filter it to one measure, geography and "
            f"breakdown first (found {len(history[keys].drop_duplicates())})",
            column=keys[0],
        )
    unit = str(history["unit"].iloc[0]) if "unit" in history.columns and len(history) else "count"
    value = pd.to_numeric(history["value"], errors="coerce").astype(float)
    if "suppressed" in history.columns:
        value = value.mask(history["suppressed"].fillna(False).astype(bool))
    rows = pd.DataFrame({"period": history[period].to_numpy(), "value": value.to_numpy()})
    if "display" in history.columns:
        rows["display"] = history["display"].astype(str).to_numpy()
    else:
        rows["display"] = published_values(rows["value"], pd.Series(unit, index=rows.index))
        rows["display"] = rows["display"].fillna("x").astype(str)
    return rows.sort_values("period", kind="stable").reset_index(drop=True), unit


def _forecast_rows(forecast: pd.DataFrame, unit: str) -> pd.DataFrame:
    check_columns(forecast, _FORECAST_COLUMNS, "forecast", "needs period, mean, lower, upper")
    rows = forecast[list(_FORECAST_COLUMNS)].copy()
    for c in ("mean", "lower", "upper"):
        rows[c] = pd.to_numeric(rows[c], errors="coerce").astype(float)
    rows["display"] = [
        f"{format_value(m, unit)} ({format_value(lo, unit)} to {format_value(hi, unit)})"
        for m, lo, hi in zip(rows["mean"], rows["lower"], rows["upper"], strict=True)
    ]
    return rows.sort_values("period", kind="stable").reset_index(drop=True)


def forecast_chart(
    history: pd.DataFrame | pd.Series,
    forecast: pd.DataFrame,
    *,
    title: str | None = None,
    y_title: str | None = None,
    backtest: str | None = None,
    interval_label: str = "95% prediction interval",
    caption: str | None = None,
    unit_label: str | None = None,
) -> alt.LayerChart | alt.Chart:
    """Recorded values as a solid line, the forecast dashed inside its shaded interval.

    Parameters
    ----------
    history : DataFrame or Series
        One series: a Contract-2 frame filtered to one measure/geography/breakdown
        (``time_period``, ``value``, optional ``unit``/``display``/``suppressed``), a
        frame with ``period`` and ``value``, or a Series indexed by period (month ends).
    forecast : DataFrame
        ``period`` (int collection year, or dates, like the history), ``mean``, ``lower``,
        ``upper``.
    title : str, optional
        Default: "Forecast: about N in 2027-28 (95% prediction interval A to B)".
    y_title : str, optional
        Value-axis title with its unit (default "Value").
    backtest : str, optional
        A sentence on past accuracy, e.g. "Back-test: forecasts one year ahead missed by 6%
        on average", shown under the title.
    interval_label, caption : str
        Name of the band (legend and title) and an extra caption line.
    unit_label : str, optional
        What the numbers count, said after them in the default title ("children").
        Percentages carry their % already.

    An empty ``forecast`` draws the recorded values only (no forecast line): how a page
    shows the trend when the model did not beat a naive forecast in its back-test.

    Returns
    -------
    altair.LayerChart or altair.Chart
        x = ``label`` (year label) for int years, or ``period`` (temporal) for dates; a
        single line chart when there is no forecast.

    Examples
    --------
    >>> hist = m[(m.measure == "cla_31_march") & (m.breakdown == "Total")]
    >>> forecast_chart(hist, cpanalysis.forecast.forecast_measure(hist), y_title="Children")
    """
    past, unit = _history_rows(history)
    ahead = _forecast_rows(forecast, unit)
    yearly = pd.api.types.is_integer_dtype(past["period"]) and (
        ahead.empty or pd.api.types.is_integer_dtype(ahead["period"])
    )
    if ahead.empty:
        ahead = ahead.astype({"period": past["period"].dtype})
    # the dashed line starts at the last recorded value, so the two lines meet
    last = past.dropna(subset=["value"]).tail(1)
    bridge = pd.DataFrame(
        {
            "period": last["period"].to_numpy(),
            "mean": last["value"].to_numpy(),
            "lower": last["value"].to_numpy(),
            "upper": last["value"].to_numpy(),
            "display": last["display"].to_numpy(),
        }
    )
    ahead_line = pd.concat([bridge, ahead], ignore_index=True) if len(bridge) else ahead
    past = past.assign(series="Recorded")
    ahead_line = ahead_line.assign(series="Forecast")
    if yearly:
        for frame in (past, ahead_line):
            frame["label"] = frame["period"].astype(int).map(year_label)
        periods = pd.concat([past["period"], ahead["period"]]).dropna()
        # no published year at all (e.g. one return, its figure withheld): an empty axis
        domain = (
            [year_label(y) for y in range(int(periods.min()), int(periods.max()) + 1)]
            if len(periods)
            else []
        )
        x = alt.X("label:O", title="Collection year (1 April to 31 March)").scale(domain=domain)
        x = x.axis(labelAngle=0)
        when = alt.Tooltip("label:O", title="Year")
    else:
        x = alt.X("period:T", title="Month")
        when = alt.Tooltip("period:T", title="Month", format="%b %Y")
    y_title = y_title or "Value"
    if title is None and len(ahead):
        end = ahead.iloc[-1]
        at = (
            year_label(int(end["period"]))
            if yearly
            else pd.Timestamp(end["period"]).strftime("%B %Y")
        )
        counted = f" {unit_label}" if unit_label and unit != "percent" else ""
        title = (
            f"Forecast: about {format_value(end['mean'], unit)}{counted} in {at} "
            f"({interval_label} {format_value(end['lower'], unit)} to "
            f"{format_value(end['upper'], unit)})"
        )
    shaded = f"Shaded: {interval_label}." if len(ahead) else None
    captions = [c for c in (backtest, shaded, caption) if c]
    domain = ["Recorded", "Forecast"]
    legend = alt.Legend(symbolType="stroke", symbolSize=300, symbolStrokeWidth=3)
    series = alt.Color(
        "series:N",
        scale=alt.Scale(domain=domain, range=[COUNCIL_COLOUR, COUNCIL_COLOUR]),
        title=None,
        legend=legend,
    )
    dash = alt.StrokeDash(
        "series:N",
        scale=alt.Scale(domain=domain, range=[[1, 0], [6, 4]]),
        title=None,
        legend=legend,
    )
    band = (
        alt.Chart(
            ahead.assign(series=interval_label, label=ahead["period"].map(year_label))
            if yearly
            else ahead.assign(series=interval_label)
        )
        .mark_area(opacity=0.2, color=COUNCIL_COLOUR)
        .encode(
            x=x,
            y=alt.Y("lower:Q", title=y_title),
            y2="upper:Q",
            tooltip=[when, alt.Tooltip("display:N", title=f"Forecast ({interval_label})")],
        )
    )

    def line(data: pd.DataFrame, field: str, tip: str) -> alt.Chart:
        # the recorded and the forecast line differ only in data, value field and tooltip
        return (
            alt.Chart(data)
            .mark_line(point=True)
            .encode(
                strokeDash=dash,
                x=x,
                y=alt.Y(f"{field}:Q", title=y_title),
                color=series,
                tooltip=[when, alt.Tooltip("display:N", title=tip)],
            )
        )

    recorded = line(past, "value", y_title)
    if ahead.empty:  # the trend alone: no band, no forecast line
        title = title or f"{y_title}, as recorded: no forecast line is drawn"
        return recorded.properties(title=make_title(title, captions or None))
    projected = line(ahead_line, "mean", f"Forecast ({interval_label})")
    chart = alt.layer(band, recorded, projected)
    return chart.properties(title=make_title(title or "Forecast", captions or None))
