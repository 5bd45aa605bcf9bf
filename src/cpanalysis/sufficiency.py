"""The sufficiency forecast a committee reads: placements, ages, costs and a scenario.

:mod:`cpanalysis.stock_flow` is the model; this module turns it into what the Sufficiency
page shows, with the evidence beside it:

* the back-test first (:func:`cpanalysis.stock_flow.backtest_stock_flow`), because the
  page shows a projection only with the sentence saying how it did against a naive "no
  change" forecast and exponential smoothing;
* the projection of children looked after by placement group (and in total) a year and
  three years ahead, with 95% intervals from simulated futures;
* the same by age band at 12 and 36 months;
* the weekly cost, where ``cpanalysis.toml`` gives unit costs (labelled as examples when
  ``[costs] examples = true``);
* a scenario (``[scenario]``: more entries, agency placements made in-house) projected
  beside the baseline.

Recorded month-end counts are children, so they go through :func:`cpanalysis.suppression.suppress`
like every published table: a placement group of 1 to the threshold at a month end is
withheld, and, because the groups add up to the total, a second group of that month too
(:func:`recorded_history`). Projections are model outputs, not counts of children, and are
published as they are; the one cost that is recorded children times unit costs (the cost a
week at the jump-off month) is withheld whenever a group of that month is, since with the
total it would give the withheld groups back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from cpanalysis import stock_flow as sf
from cpanalysis.errors import InputError
from cpanalysis.suppression import suppress

__all__ = [
    "Scenario",
    "SufficiencyForecast",
    "recorded_history",
    "sufficiency_forecast",
    "WEEKS_PER_MONTH",
]

#: Weeks in an average month (365.25 / 7 / 12), to turn weekly costs into monthly ones.
WEEKS_PER_MONTH = 365.25 / 7 / 12
BASELINE = "Baseline"
TOTAL = "All placements"


@dataclass(frozen=True)
class Scenario:
    """A change to the estimated rates, projected beside the baseline.

    Attributes
    ----------
    name : str
        How the page names it.
    entry_rate_change : float
        Relative change in entries a month (0.1 = 10% more).
    agency_to_in_house : float
        Share (0-1) of new agency fostering placements made with in-house carers instead.
    """

    name: str = "Scenario"
    entry_rate_change: float = 0.0
    agency_to_in_house: float = 0.0

    @classmethod
    def from_settings(cls, settings: dict[str, Any] | None) -> Scenario | None:
        """From ``Config.scenario``; None when it changes nothing."""
        if not settings:
            return None
        scenario = cls(
            name=str(settings.get("name", "Scenario")),
            entry_rate_change=float(settings.get("entry_rate_change", 0.0)),
            agency_to_in_house=float(settings.get("agency_to_in_house", 0.0)),
        )
        if scenario.entry_rate_change == 0 and scenario.agency_to_in_house == 0:
            return None
        return scenario

    def apply(self, rates: sf.Rates) -> sf.Rates:
        """The scenario's rates."""
        return rates.scaled(1 + self.entry_rate_change, self.agency_to_in_house)


@dataclass(frozen=True)
class SufficiencyForecast:
    """Everything the Sufficiency page shows, and the back-test that qualifies it.

    Attributes
    ----------
    history : DataFrame
        Recorded month-end children by group (``period``, ``group`` incl. the total
        :data:`TOTAL`, ``value``, ``display``, ``suppressed``): counts of 1 to the
        threshold, and the cells hidden so that they cannot be worked out from the total,
        are NaN with ``display`` ``"c"`` (:func:`recorded_history`).
    projection : DataFrame
        ``scenario`` (``"Baseline"`` or the scenario's name), ``period`` (month end),
        ``months_ahead``, ``group`` (incl. :data:`TOTAL`), ``mean``, ``lower``, ``upper``
        (children; 95% interval).
    by_age : DataFrame
        ``scenario``, ``months_ahead`` (12 and the horizon), ``age_band``, ``group``,
        ``mean``, ``lower``, ``upper``.
    costs : DataFrame
        ``scenario``, ``period``, ``months_ahead``, ``weekly_cost`` with ``lower`` and
        ``upper`` (pounds a week at the month end); empty without unit costs.
    backtest : StockFlowBacktest or None
        Rolling-origin accuracy of the model, naive and exponential smoothing (None when
        the returns are too few to back-test).
    rates : Rates
        The baseline rates at the latest month end.
    unit_costs : dict
        Weekly cost by group (pounds).
    costs_are_examples : bool
        The unit costs are illustrative (``[costs] examples = true``).
    scenario : Scenario or None
        The scenario projected beside the baseline.
    threshold : int
        The suppression threshold the history was published with (the charts name it).
    """

    history: pd.DataFrame
    projection: pd.DataFrame
    by_age: pd.DataFrame
    costs: pd.DataFrame
    backtest: sf.StockFlowBacktest | None
    rates: sf.Rates
    unit_costs: dict[str, float] = field(default_factory=dict)
    costs_are_examples: bool = False
    scenario: Scenario | None = None
    threshold: int = 5

    @property
    def sentence(self) -> str:
        """The back-test in words: which forecast of the total won, and by how much."""
        if self.backtest is None:
            return (
                "Too few months of returns to test this projection against what happened "
                "(a back-test needs a year more than the estimation window): treat it as "
                "untested."
            )
        return self.backtest.sentence()

    def total(self, scenario: str = BASELINE) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(history, forecast) of the total, in the shape :func:`forecast_chart` takes."""
        hist = self.history[self.history["group"] == TOTAL][
            ["period", "value", "display", "suppressed"]
        ]
        ahead = self.projection[
            (self.projection["group"] == TOTAL) & (self.projection["scenario"] == scenario)
        ][["period", "mean", "lower", "upper"]]
        return hist.reset_index(drop=True), ahead.reset_index(drop=True)

    def at(self, months_ahead: int) -> pd.DataFrame:
        """Projected children by group (baseline and scenario) ``months_ahead`` months on."""
        rows = self.projection[self.projection["months_ahead"] == months_ahead]
        return rows.reset_index(drop=True)

    @property
    def horizon(self) -> int:
        """Months projected ahead."""
        return int(self.projection["months_ahead"].max())

    @property
    def beats_naive(self) -> bool:
        """The model's error on the total was below the naive forecast's in the back-test."""
        return self.backtest is not None and self.backtest.beats_naive

    def backtest_table(self, threshold: int = 5) -> pd.DataFrame:
        """The back-test by placement group, in display form (children, whole numbers).

        The average children of each group are recorded counts averaged over the
        back-test's target months, and they add up to the total's, so they are published
        like a breakdown (:func:`cpanalysis.suppression.suppress`): an average above 0 that
        rounds to at most ``threshold`` is ``c`` (an average of 0.4 says every month held
        a handful or none), and so is a second group, so the total minus the groups shown
        never gives it back. Empty without a back-test.
        """
        if self.backtest is None:
            return pd.DataFrame({"Back-test": ["Too few months of returns to back-test."]})
        t = self.backtest.summary.copy()
        is_total = t["series"].eq("Total")
        t["series"] = t["series"].replace({"Total": TOTAL})
        size = t["children"].round()
        # a positive average that rounds to 0 is a small count too: published as c
        size = size.mask((t["children"] > 0) & (size == 0), 1.0)
        published = suppress(
            pd.DataFrame(
                {
                    "time_period": 0,
                    "geography": "council",
                    "measure": "backtest_children",
                    "breakdown": t["series"].where(~is_total, "Total"),
                    "numerator": size,
                    "denominator": np.nan,
                    "value": size,
                    "unit": "count",
                }
            ),
            threshold=threshold,
        )
        shown = size.map(lambda v: f"{v:,.0f}").where(~published["suppressed"].to_numpy(), "c")
        return pd.DataFrame(
            {
                "Placement group": t["series"],
                "Children (average)": shown,
                "Placement-flow model": t["mae_stock_flow"].map(_children),
                "Exponential smoothing": t["mae_ets"].map(_children),
                "Naive (no change)": t["mae_naive"].map(_children),
                "MASE of the model": t["mase_stock_flow"].map(_ratio),
            }
        )

    def projection_table(self) -> pd.DataFrame:
        """Children by group 12 months and 3 years on, per scenario: "514 (487 to 545)"."""
        rows = []
        for ahead in sorted({12, self.horizon}):
            at = self.at(ahead)
            rows.append(at.assign(when=_months_label(ahead), shown=_interval_text(at)))
        both = pd.concat(rows, ignore_index=True)
        wide = both.pivot_table(
            index=["scenario", "group"], columns="when", values="shown", aggfunc="first", sort=False
        )
        out = wide.reset_index().rename(
            columns={"scenario": "Scenario", "group": "Placement group"}
        )
        out.columns.name = None
        return out

    def age_table(self, scenario: str = BASELINE) -> pd.DataFrame:
        """Children by age band and group a year and three years on (baseline)."""
        rows = self.by_age[self.by_age["scenario"] == scenario]
        rows = rows.assign(when=rows["months_ahead"].map(_months_label), shown=_interval_text(rows))
        wide = rows.pivot_table(
            index=["when", "age_band"], columns="group", values="shown", aggfunc="first", sort=False
        )
        out = wide.reset_index().rename(columns={"when": "Projected", "age_band": "Age band"})
        out.columns.name = None
        return out

    def cost_table(self) -> pd.DataFrame:
        """Weekly cost now and ahead, and the cost of the first and last projected year."""
        if self.costs.empty:
            return pd.DataFrame({"Cost": ["No unit costs are set ([costs] in cpanalysis.toml)."]})
        rows = []
        for name, c in self.costs.groupby("scenario", sort=False):
            c = c.set_index("months_ahead")
            year_one = c.loc[1:12, "weekly_cost"].sum() * WEEKS_PER_MONTH
            last = c.loc[self.horizon - 11 : self.horizon, "weekly_cost"].sum() * WEEKS_PER_MONTH
            now = "c" if self.jump_off_withheld else _pounds(c.loc[0, "weekly_cost"])
            row = {"Scenario": name, "Cost a week now": now}
            for ahead in sorted({12, self.horizon}):
                r = c.loc[ahead]
                row[f"Cost a week {_months_label(ahead)}"] = (
                    f"{_pounds(r['weekly_cost'])} ({_pounds(r['lower'])} to {_pounds(r['upper'])})"
                )
            row["Cost over the next 12 months"] = _pounds(year_one)
            row[f"Cost over months {self.horizon - 11} to {self.horizon}"] = _pounds(last)
            rows.append(row)
        return pd.DataFrame(rows)

    @property
    def withheld_at_jump_off(self) -> list[str]:
        """Placement groups whose recorded count at the jump-off month is withheld.

        WHY: the first projected months of such a group sit within a child or so of the
        withheld count (few children leave or arrive in a month: 11 placed for adoption is
        projected at 10.9, shown as 11, a month on), so the charts draw its projection from
        a year ahead only, as the tables publish it.
        """
        last = self.history[self.history["period"] == self.history["period"].max()]
        return last.loc[last["suppressed"] & last["group"].ne(TOTAL), "group"].tolist()

    @property
    def jump_off_withheld(self) -> bool:
        """A placement group's recorded count at the jump-off month is withheld.

        WHY: the cost a week now is those recorded children times the unit costs; with the
        total and the other groups it would give the withheld counts back, so it is
        withheld too (shown ``c``), and the cost chart starts a year ahead.
        """
        return bool(self.withheld_at_jump_off)

    @property
    def cost_note(self) -> str:
        """What the costs are: the council's, or examples; and which groups have none."""
        if not self.unit_costs:
            return "No unit costs are set in cpanalysis.toml ([costs]), so no cost is projected."
        missing = [g for g in sf.GROUPS if g not in self.unit_costs]
        text = (
            "EXAMPLE COSTS: the weekly unit costs are illustrative figures from "
            "cpanalysis.toml, not this council's; replace them ([costs]) to see its own."
            if self.costs_are_examples
            else "Weekly unit costs as set by the council in cpanalysis.toml ([costs])."
        )
        if missing:
            text += " No cost is set for: " + ", ".join(missing) + " (counted as zero)."
        if self.jump_off_withheld:
            text += (
                " The cost a week now is shown as c: it is the children recorded in each "
                "placement group this month times its cost, and some of those counts are "
                "not published (too small, or they would give a small one away)."
            )
        return text

    @property
    def rates_note(self) -> str:
        """The rates behind the projection, in words."""
        r = self.rates
        return (
            f"Rates from the last {r.entry_months} months: about {r.entries:.0f} children "
            "came into care each month (counted at month ends). Leaving rates are by age "
            "band, time in care and placement group; moves between placement groups use "
            "all the months held."
        )


def _children(value: float) -> str:
    return "" if pd.isna(value) else f"{value:,.0f}"


def _ratio(value: float) -> str:
    return "" if pd.isna(value) else f"{value:.2f}"


def _pounds(value: float) -> str:
    return f"£{value:,.0f}"


def _months_label(months: int) -> str:
    if months % 12 == 0:
        years = months // 12
        return "in 1 year" if years == 1 else f"in {years} years"
    return f"in {months} months"


def _interval_text(rows: pd.DataFrame) -> pd.Series:
    return (
        rows["mean"].map(_children)
        + " ("
        + rows["lower"].map(_children)
        + " to "
        + rows["upper"].map(_children)
        + ")"
    )


def recorded_history(
    counts: np.ndarray,
    periods: pd.DatetimeIndex,
    threshold: int,
    withheld_months: Sequence[pd.Timestamp] = (),
) -> pd.DataFrame:
    """Recorded month-end children by placement group and in total, suppressed.

    Each month end is a breakdown of the total by placement group, published through
    :func:`cpanalysis.suppression.suppress` as one measure: a group of 1 to ``threshold``
    children is hidden, and then the smallest other group of that month, so that the total
    minus the groups shown never gives it back (the total itself stays).

    At the month ends of ``withheld_months`` every group is withheld and only the total is
    shown. WHY: at 31 March the groups count the same children as the Overview's
    placement types (placed for adoption is A3-A6 in both; residential is secure and
    children's homes plus residential schools; the total is the number looked after), so
    a group shown here could give back a placement type withheld there (2025-26 on the
    demo council: placed for adoption, 11, hidden there to protect 4 in other placements,
    and shown here). :meth:`cpanalysis.analysis.CouncilAnalysis.sufficiency` names the
    31 Marches whose placement types withhold anything.

    Parameters
    ----------
    counts : ndarray
        (months, groups) children at each month end, in the order of
        :data:`cpanalysis.stock_flow.GROUPS`.
    periods : DatetimeIndex
        The month ends of the rows of ``counts``.
    threshold : int
        The suppression threshold (0: nothing withheld, internal use only).
    withheld_months : sequence of Timestamp
        Month ends whose groups are all withheld (published elsewhere with cells hidden).

    Returns
    -------
    DataFrame
        ``period``, ``group`` (the groups, then :data:`TOTAL`), ``value`` (NaN where
        withheld), ``display`` (the count or ``"c"``), ``suppressed`` (shown ``c``) and
        ``protected`` (hidden by this table's own suppression: a small group or the one
        protecting it; not a month withheld for the Overview's sake).
    """
    names = [*sf.GROUPS, TOTAL]
    values = np.column_stack([counts, counts.sum(axis=1)])
    frame = pd.DataFrame(
        {
            "time_period": np.repeat(np.arange(len(periods)), len(names)),
            "geography": "council",
            "measure": "children_by_placement_group",
            "breakdown": np.tile([*sf.GROUPS, "Total"], len(periods)),
            "numerator": values.ravel(),
            "denominator": np.nan,
            "value": values.ravel(),
            "unit": "count",
        }
    )
    published = suppress(frame, threshold=threshold)
    period = np.repeat(periods, len(names))
    group = np.tile(names, len(periods))
    protected = published["suppressed"].to_numpy(dtype=bool)
    whole_month = pd.DatetimeIndex(period).isin(pd.DatetimeIndex(list(withheld_months))) & (
        group != TOTAL
    )
    suppressed = protected | whole_month
    return pd.DataFrame(
        {
            "period": period,
            "group": group,
            "value": published["value"].mask(suppressed).to_numpy(dtype=float),
            "display": published["display"].astype(str).mask(suppressed, "c").to_numpy(),
            "suppressed": suppressed,
            "protected": protected,
        }
    )


def _summarise(mean: np.ndarray, sims: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The expected values, and the 2.5 and 97.5 percentiles of the simulated futures.

    The central line is the exact expectation (:func:`cpanalysis.stock_flow.project`);
    the band comes from the simulations, widened where sampling left it short of the line.
    """
    lower = np.percentile(sims, 2.5, axis=0)
    upper = np.percentile(sims, 97.5, axis=0)
    return mean, np.minimum(lower, mean), np.maximum(upper, mean)


def sufficiency_forecast(
    episodes: pd.DataFrame,
    header: pd.DataFrame,
    start: str | pd.Timestamp,
    end: str | pd.Timestamp,
    *,
    horizon_months: int = 36,
    window_months: int = 36,
    scenario: Scenario | None = None,
    unit_costs: dict[str, float] | None = None,
    costs_are_examples: bool = False,
    threshold: int = 5,
    n_sims: int = 400,
    seed: int = 903,
    backtest_step: int = 6,
    with_ets: bool = True,
    withheld_months: Sequence[pd.Timestamp] = (),
) -> SufficiencyForecast:
    """Back-test, then project the stock by group and age band, with costs and a scenario.

    Parameters
    ----------
    episodes, header : DataFrame
        Contract 1 tables (child level: only aggregates leave this function).
    start, end : str or Timestamp
        First and last month of the data (the projection starts at ``end``'s month end).
    horizon_months : int
        Months ahead to project (36: three years).
    window_months : int
        Estimation window of entries and leaving (see
        :func:`cpanalysis.stock_flow.estimate_rates`).
    scenario : Scenario, optional
        Projected beside the baseline.
    unit_costs : dict, optional
        Weekly cost by group of :data:`cpanalysis.stock_flow.GROUPS`; groups left out cost
        nothing and are named in ``missing_costs``.
    costs_are_examples : bool
        The costs are illustrative (the page says so).
    threshold : int
        Recorded counts from 1 to this are withheld from the history.
    n_sims, seed : int
        Simulated futures for the intervals, and their seed (same seed, same page). 400
        keep the 95% band's edges within about four children of 2,000 futures' on the
        demo (a band about 60 wide a year on, 100 three years on), at about the cost 500
        had before each future drew its own rates.
    backtest_step : int
        Months between back-test origins.
    withheld_months : sequence of Timestamp
        Month ends whose placement groups are all withheld (:func:`recorded_history`).
    with_ets : bool
        Back-test exponential smoothing of the total too.
    """
    if horizon_months < 12:
        raise InputError(
            f"the sufficiency forecast looks at least 12 months ahead, not {horizon_months}"
        )
    unknown = set(unit_costs or {}) - set(sf.GROUPS)
    if unknown:
        raise InputError(f"unit costs for unknown placement groups: {sorted(unknown)}")
    origin = int(sf.month_number(pd.DatetimeIndex([pd.Timestamp(end)]))[0])
    first = int(sf.month_number(pd.DatetimeIndex([pd.Timestamp(start)]))[0])
    # a council with only a year or two of returns gets a shorter window (and, below four
    # years, no back-test: the page then says so instead of quoting one)
    window_months = min(window_months, origin - first)
    backtest = None
    if origin - first >= window_months + 12:
        backtest = sf.backtest_stock_flow(
            episodes,
            header,
            start,
            end,
            horizon=12,
            window_months=window_months,
            origin_step=backtest_step,
            with_ets=with_ets,
        )
    panel = sf.monthly_states(episodes, header, start, end)
    rates = sf.estimate_rates(panel, origin, window_months)
    stock = sf.stock_at(panel, origin)
    origin_end = pd.Timestamp(end).to_period("M").to_timestamp(how="end").normalize()
    periods = pd.date_range(origin_end, periods=horizon_months + 1, freq="ME").normalize()
    names = [*sf.GROUPS, TOTAL]

    # history: recorded month-end counts by group, suppressed as a published table
    months = np.arange(first, origin + 1)
    counts = np.zeros((len(months), len(sf.GROUPS)))
    np.add.at(counts, (panel["month"].to_numpy() - first, panel["group"].to_numpy()), 1)
    history_periods = pd.date_range(
        pd.Timestamp(start).to_period("M").to_timestamp(how="end").normalize(),
        periods=len(months),
        freq="ME",
    ).normalize()
    history = recorded_history(counts, history_periods, threshold, withheld_months)

    projections, ages, costs = [], [], []
    cost_vector = np.array([float((unit_costs or {}).get(g, 0.0)) for g in sf.GROUPS])
    runs = [(BASELINE, rates)]
    if scenario is not None:
        runs.append((scenario.name, scenario.apply(rates)))
    for name, run_rates in runs:
        path = sf.project(stock, run_rates, horizon_months)
        sims = sf.simulate(stock, run_rates, horizon_months, n_sims=n_sims, seed=seed)
        mean_groups = sf.group_totals(path)  # (months + 1, 7)
        sim_groups = sims.sum(axis=2)  # (n, months + 1, 7)
        mean = np.column_stack([mean_groups, mean_groups.sum(axis=1)])
        sim = np.concatenate([sim_groups, sim_groups.sum(axis=2, keepdims=True)], axis=2)
        mean, lower, upper = _summarise(mean, sim)
        steps = np.arange(horizon_months + 1)
        projections.append(
            pd.DataFrame(
                {
                    "scenario": name,
                    "period": np.repeat(periods, len(names)),
                    "months_ahead": np.repeat(steps, len(names)),
                    "group": np.tile(names, len(steps)),
                    "mean": mean.ravel(),
                    "lower": lower.ravel(),
                    "upper": upper.ravel(),
                }
            ).loc[lambda f: f["months_ahead"] > 0]
        )
        for ahead in sorted({12, horizon_months}):
            band_mean = sf.by_band(path[ahead])  # (5, 7)
            band_sims = sims[:, ahead]  # (n, 5, 7)
            labels = [b for b, _, _ in sf.AGE_BANDS]
            m = np.column_stack([band_mean, band_mean.sum(axis=1)])
            s = np.concatenate([band_sims, band_sims.sum(axis=2, keepdims=True)], axis=2)
            m, lo, hi = _summarise(m, s)
            ages.append(
                pd.DataFrame(
                    {
                        "scenario": name,
                        "months_ahead": ahead,
                        "age_band": np.repeat(labels, len(names)),
                        "group": np.tile(names, len(labels)),
                        "mean": m.ravel(),
                        "lower": lo.ravel(),
                        "upper": hi.ravel(),
                    }
                )
            )
        if unit_costs:
            weekly = mean_groups @ cost_vector
            weekly_sims = sim_groups @ cost_vector
            _, lo, hi = _summarise(weekly[:, None], weekly_sims[..., None])
            costs.append(
                pd.DataFrame(
                    {
                        "scenario": name,
                        "period": periods,
                        "months_ahead": np.arange(horizon_months + 1),
                        "weekly_cost": weekly,
                        "lower": lo[:, 0],
                        "upper": hi[:, 0],
                    }
                )
            )
    return SufficiencyForecast(
        history=history,
        projection=pd.concat(projections, ignore_index=True),
        by_age=pd.concat(ages, ignore_index=True),
        costs=pd.concat(costs, ignore_index=True) if costs else pd.DataFrame(),
        backtest=backtest,
        rates=rates,
        unit_costs=dict(unit_costs or {}),
        costs_are_examples=costs_are_examples,
        scenario=scenario,
        threshold=threshold,
    )
