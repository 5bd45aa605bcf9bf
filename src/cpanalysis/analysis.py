"""One object per council for the notebooks: data, suppressed measures, comparators, words.

Every notebook starts the same way — find the cleaned data (building the demo council's if
there is none), compute the indicators, suppress small numbers, load England's figures —
and then asks for charts, tables, sentences and forecasts. Doing that here keeps the
notebooks thin (a parameters cell, then one call per chart) and guarantees that every
notebook applies the same suppression and compares with the same benchmark.

Opening is the slow part of a notebook (reading the tables, computing every indicator), and
``cpanalysis build`` runs several notebooks in one kernel (:mod:`cpanalysis.warm_kernel`), so
the tables and indicators are kept in the process and reused while the processed files, the
population and the years asked for are unchanged. Each caller gets its own copies.

Example
-------
>>> import cpanalysis
>>> council = cpanalysis.analysis.open_analysis("data/processed")  # doctest: +SKIP
>>> council.sentence("placements_3plus_pct", what="...", higher_is_better=False)  # doctest: +SKIP
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from IPython.display import Markdown

from cpanalysis import forecast as fc
from cpanalysis.comparators import comparators as load_comparators
from cpanalysis.config import Config
from cpanalysis.demo import ensure_processed
from cpanalysis.disclosure import publishable_survival
from cpanalysis.escaping import markdown_text
from cpanalysis.formatting import published_values
from cpanalysis.indicators import compute_all
from cpanalysis.indicators.adoption import (
    adoption_waiting_survival,
    children_waiting_for_adoption,
)
from cpanalysis.narrative import compare_sentence, read_measure
from cpanalysis.processed import ProcessedData, load_processed
from cpanalysis.publish import FiguresTable, PublishedTable, figures_table, published_table
from cpanalysis.schema import year_label
from cpanalysis.sufficiency import Scenario, SufficiencyForecast, sufficiency_forecast
from cpanalysis.suppression import suppress

__all__ = ["CouncilAnalysis", "ForecastResult", "open_analysis", "prime"]

#: Month ends a monthly forecast of children looked after is drawn from (two years of
#: returns): with fewer, the seasons cannot be told from the trend.
MIN_FORECAST_MONTHS = 24


@dataclass(frozen=True)
class ForecastResult:
    """A forecast with the evidence a reader needs to judge it.

    Attributes
    ----------
    history : DataFrame
        The recorded series (``period``, ``value``).
    forecast : DataFrame
        ``period``, ``mean``, ``lower``, ``upper`` (95% prediction interval).
    backtest : BacktestResult or None
        Rolling-origin accuracy against a naive forecast (None when the history is too short).
    text : str
        Plain-English summary of the back-test.
    """

    history: pd.DataFrame
    forecast: pd.DataFrame
    backtest: fc.BacktestResult | None
    text: str

    def summary(self) -> Markdown:
        """The back-test in words, for display under the chart."""
        return Markdown(self.text)

    @property
    def shown_forecast(self) -> pd.DataFrame:
        """The forecast to draw: only one that beat the naive forecast in its back-test.

        WHY: a line the text disowns invites planning on it. When the model did no better
        than "no change" (or could not be back-tested), the page shows the recorded trend
        and the back-test sentence, and no forecast line.
        """
        if self.backtest is not None and self.backtest.beats_naive:
            return self.forecast
        return self.forecast.iloc[0:0]


@dataclass
class CouncilAnalysis:
    """A council's cleaned data, its suppressed measures and its comparators.

    Attributes
    ----------
    data : ProcessedData
        The processed tables (child-level: never display them).
    council : str
        The council's name as shown on charts (the ``geography`` of its measures).
    measures : DataFrame
        Every indicator, suppressed (Contract 2 plus ``display`` and ``suppressed``).
    comparators : DataFrame
        England (and region/councils when DfE tables are supplied), same measure ids.
    threshold : int
        Suppression threshold (counts 1 to it are shown as ``c``).
    horizon : int
        Forecast horizon in years.
    """

    data: ProcessedData
    council: str
    measures: pd.DataFrame
    comparators: pd.DataFrame
    threshold: int
    horizon: int

    @property
    def england(self) -> pd.DataFrame:
        """England's rows of the comparators."""
        return self.comparators[self.comparators["geography"] == "England"]

    @property
    def years(self) -> list[int]:
        """Collection years shown, ascending."""
        return sorted(int(y) for y in self.measures["time_period"].unique())

    @property
    def latest_year(self) -> int:
        """The latest collection year shown."""
        return self.years[-1]

    def data_note(self) -> Markdown:
        """Which data the page shows: council, years, real or synthetic returns."""
        first, last = year_label(self.years[0]), year_label(self.years[-1])
        kind = (
            "**synthetic demo data** (a made-up council generated by cpanalysis; "
            "no real child's records)"
            if self.data.is_demo
            else "the council's SSDA903 returns"
        )
        return Markdown(
            f"This page shows {markdown_text(self.council)}, collection years {first} to {last}, "
            f"built from {kind}. Counts of 1 to {self.threshold} children, and percentages "
            "built on them, are shown as *c* to protect children's privacy."
        )

    def sentence(
        self,
        measure: str,
        *,
        what: str,
        breakdown: str = "Total",
        higher_is_better: bool | None = True,
        with_england: bool = True,
    ) -> Markdown:
        """The council's latest figure, the year before and England's, in words."""
        return Markdown(
            compare_sentence(
                self.measures,
                self.comparators,
                measure,
                what=what,
                breakdown=breakdown,
                higher_is_better=higher_is_better,
                threshold=self.threshold,
                with_england=with_england,
            )
        )

    def select(self, *measure_ids: str) -> pd.DataFrame:
        """The suppressed rows of the given measures (all breakdowns and years)."""
        return self.measures[self.measures["measure"].isin(measure_ids)]

    def table(self, *measure_ids: str, name: str, caption: str) -> FiguresTable:
        """ "The figures" of a page: the given measures as one wide, folded table with CSV.

        A row per measure and group in the order given, a column per year, the published
        (suppressed) figures; see :func:`cpanalysis.publish.figures_table`.
        """
        return figures_table(self.select(*measure_ids), name, caption=caption, measures=measure_ids)

    def neet_forecast(self, age_group: str = "19 to 21 years") -> ForecastResult:
        """Trend forecast of the care leavers' NEET share, back-tested against naive.

        Uses :func:`cpanalysis.forecast.forecast_annual_share` (a straight line, suited to a
        handful of annual points) and a one-year-ahead rolling-origin back-test from the
        third year on. Suppressed years are left out of the fit.
        """
        rows = self.measures[
            (self.measures["measure"] == "care_leavers_neet_pct")
            & (self.measures["breakdown"] == age_group)
        ].dropna(subset=["value"])
        series = pd.Series(
            rows["value"].to_numpy(float), index=rows["time_period"].astype(int).to_numpy()
        ).sort_index()
        # the unit travels with the history, so the chart's title says "about 39%"
        history = pd.DataFrame(
            {"period": series.index, "value": series.to_numpy(), "unit": "percent"}
        )
        if len(series) < 3:
            return ForecastResult(
                history,
                pd.DataFrame(columns=["period", "mean", "lower", "upper"]),
                None,
                "Too few years of published figures to forecast (at least three are needed).",
            )
        forecast = fc.forecast_annual_share(series, self.horizon)
        result = None
        text = "Too few years to back-test the forecast (at least five are needed)."
        if len(series) >= 5:
            result = fc.backtest(series, fc.forecast_annual_share, min_train=3, horizon=1)
            text = fc.describe_backtest(result, "percentage points", "NEET share")
        return ForecastResult(history, forecast, result, text)

    def looked_after_forecast(self) -> ForecastResult:
        """Exponential-smoothing forecast of month-end children looked after, back-tested.

        The month-end series comes from :func:`cpanalysis.forecast.monthly_counts` over the
        years shown; the back-test forecasts 12 months ahead from every origin after the
        last year of origins and compares with a naive "no change" forecast.
        """
        start = pd.Timestamp(self.years[0] - 1, 4, 1)
        end = pd.Timestamp(self.years[-1], 3, 31)
        counts = fc.monthly_counts(self.data.episodes, start, end)
        series = counts["looked_after"].astype(float)
        # the recorded month ends are published (chart data, tooltips): 1 to threshold
        # children looked after is withheld, as in every table (the model still sees it)
        small = series.between(1, self.threshold) if self.threshold > 0 else series < 0
        history = pd.DataFrame(
            {
                "period": series.index,
                "value": series.mask(small).to_numpy(),
                "suppressed": small.to_numpy(),
                "display": published_values(series, pd.Series("count", index=series.index))
                .where(~small, "c")
                .to_numpy(),
            }
        )
        if len(series) < MIN_FORECAST_MONTHS:
            no_forecast = pd.DataFrame(  # typed like a forecast, so the chart can draw it
                {
                    "period": pd.Series(dtype="datetime64[ns]"),
                    **{c: pd.Series(dtype=float) for c in ("mean", "lower", "upper")},
                }
            )
            return ForecastResult(
                history,
                no_forecast,
                None,
                "Too few month ends to forecast yet: a forecast needs at least two years of "
                f"returns ({len(series)} month ends so far).",
            )
        forecast = fc.forecast_monthly(series, self.horizon * 12)
        # twelve origins (the last year of history) keep the back-test to seconds; each
        # origin refits the model on the months before it only
        min_train = max(24, len(series) - 12 - 11)
        if len(series) < min_train + 12:  # one or two years of returns
            return ForecastResult(
                history,
                forecast,
                None,
                "Too few month ends to back-test the forecast yet: a year-ahead back-test "
                f"needs three years of returns ({len(series)} month ends so far), so how far "
                "wrong this method has been cannot be shown.",
            )
        result = fc.backtest(series, fc.forecast_monthly, min_train=min_train, horizon=12)
        text = fc.describe_backtest(
            result, "children", "number of children looked after", period="month", decimals=0
        )
        return ForecastResult(history, forecast, result, text)

    def sufficiency(
        self, settings: Config | None = None, *, n_sims: int = 400
    ) -> SufficiencyForecast:
        """Children looked after by placement group and age band ahead, with costs.

        The stock-and-flow model of :mod:`cpanalysis.stock_flow`, back-tested at rolling
        origins (twice a year) against a naive forecast and exponential smoothing, then
        projected ``12 * horizon`` months (at least a year) with 95% intervals. Unit costs
        and the scenario come from ``settings`` (``[costs]``, ``[scenario]`` of
        ``cpanalysis.toml``); without settings, no costs and no scenario. The placement
        groups of a 31 March whose placement types (:attr:`measures`) withhold a figure are
        not shown (:func:`cpanalysis.sufficiency.recorded_history`).
        """
        start = pd.Timestamp(self.years[0] - 1, 4, 1)
        end = pd.Timestamp(self.years[-1], 3, 31)
        # at 31 March the placement groups count the Overview's children by placement type
        types = self.measures[self.measures["measure"] == "cla_by_placement_type"]
        hidden_years = types.loc[types["suppressed"].astype(bool), "time_period"].unique()
        return sufficiency_forecast(
            self.data.episodes,
            self.data.header,
            start,
            end,
            horizon_months=max(12, 12 * self.horizon),
            scenario=Scenario.from_settings(settings.scenario if settings else None),
            unit_costs=settings.unit_costs if settings else None,
            costs_are_examples=bool(settings and settings.unit_costs_are_examples),
            threshold=self.threshold,
            n_sims=n_sims,
            withheld_months=[pd.Timestamp(int(year), 3, 31) for year in sorted(hidden_years)],
        )

    def adoption_survival(self) -> pd.DataFrame:
        """Kaplan-Meier curve of the wait from entering care to an adoption placement.

        Read by whole months, a step drawn only once more than ``threshold`` children have
        moved in and while more than ``threshold`` are followed
        (:func:`cpanalysis.disclosure.publishable_survival`), so the curve never reveals
        one child's wait.
        """
        exact = adoption_waiting_survival(
            self.data.episodes, self.data.placed_adoption, min_at_risk=0
        )
        return publishable_survival(exact, self.threshold)

    def children_waiting(self) -> PublishedTable:
        """Children still waiting for an adoption placement, by time waiting (suppressed)."""
        waiting = children_waiting_for_adoption(
            self.data.episodes, self.data.placed_adoption, geography=self.council
        )
        return published_table(
            suppress(waiting, threshold=self.threshold),
            "children_waiting_for_adoption",
            caption="Children with an adoption decision still waiting to move in with "
            "their adoptive family, by time since the decision",
        )

    def figure(self, measure: str, breakdown: str = "Total") -> str:
        """The latest display text of a measure (e.g. ``"12%"`` or ``"c"``)."""
        reading = read_measure(self.measures, measure, breakdown=breakdown)
        return "not available" if reading is None else reading.display


#: Tables and unsuppressed measures opened in this process, by _cache_key (newest only: a
#: kernel works on one council's data at a time).
_OPENED: dict[tuple, tuple[ProcessedData, pd.DataFrame]] = {}
#: The suppressed measures of the _OPENED entry, by (key, geography, threshold).
_SUPPRESSED: dict[tuple, pd.DataFrame] = {}


def prime(
    processed_dir: str | Path,
    measures_file: str | Path,
    *,
    population: dict[int, int] | None = None,
    collection_years: list[int] | None = None,
    suppression_threshold: int = 5,
) -> None:
    """Hand this process the indicators a build has already computed for these tables.

    WHY: ``cpanalysis build`` computes every indicator once (for the downloads and the
    scorecard) and each notebook kernel would compute the same again. The build writes them
    (``pandas.to_pickle``: an exact copy, dtypes and all) with their suppressed version and
    primes each kernel with them before its notebooks; :func:`open_analysis` then finds
    them, for the same folder, population and years only (the cache key), and computes
    afresh for anything else.

    Parameters
    ----------
    processed_dir : str or Path
        The cleaned tables the measures were computed from.
    measures_file : str or Path
        A pickle of ``{"measures": unsuppressed, "suppressed": suppressed, "geography": str,
        "threshold": int}`` written by the build.
    population, collection_years, suppression_threshold
        As the notebooks pass them to :func:`open_analysis`.
    """
    folder = Path(processed_dir)
    population = {int(y): int(n) for y, n in (population or {}).items()} or None
    key = _cache_key(folder, population, collection_years)
    computed = pd.read_pickle(measures_file)
    _OPENED.clear()
    _SUPPRESSED.clear()
    _OPENED[key] = (load_processed(folder), computed["measures"])
    if int(computed["threshold"]) == int(suppression_threshold):
        _SUPPRESSED[(key, computed["geography"], int(suppression_threshold))] = computed[
            "suppressed"
        ]


def _suppressed(
    folder: Path,
    population: dict[int, int] | None,
    years: list[int] | None,
    measures: pd.DataFrame,
    council: str,
    threshold: int,
) -> pd.DataFrame:
    """``suppress`` of the council's measures, kept in the process like the measures."""
    key = (_cache_key(folder, population, years), council, int(threshold))
    if key not in _SUPPRESSED:
        _SUPPRESSED.clear()
        _SUPPRESSED[key] = suppress(measures.assign(geography=council), threshold=threshold)
    return _SUPPRESSED[key].copy(deep=True)


def _cache_key(folder: Path, population: dict[int, int] | None, years: list[int] | None) -> tuple:
    """What the tables and measures depend on: the processed files (name, size, time), the
    population and the years. A re-cleaned folder has new files, so the key changes."""
    files = tuple(
        (p.name, p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(Path(folder).iterdir())
        if p.is_file()
    )
    return (
        str(Path(folder).resolve()),
        files,
        tuple(sorted(population.items())) if population else None,
        None if years is None else tuple(int(y) for y in years),
    )


def _tables_and_measures(
    folder: Path, population: dict[int, int] | None, years: list[int] | None
) -> tuple[ProcessedData, pd.DataFrame]:
    """The processed tables and every (unsuppressed) indicator: computed once per process
    for the same inputs, and handed out as copies so no caller can change another's."""
    key = _cache_key(folder, population, years)
    if key not in _OPENED:
        data = load_processed(folder)
        measures = compute_all(data, population=population, years=years)
        _OPENED.clear()
        _OPENED[key] = (data, measures)
    data, measures = _OPENED[key]
    return copy.deepcopy(data), measures.copy(deep=True)


def open_analysis(
    processed_dir: str | Path | None = None,
    *,
    council_name: str | None = None,
    council_code: str | None = None,
    collection_years: list[int] | None = None,
    suppression_threshold: int = 5,
    forecast_horizon: int = 3,
    benchmark_source: str = "built-in",
    compare_with: tuple[str, ...] | list[str] = (),
    population: dict[int, int] | None = None,
) -> CouncilAnalysis:
    """Load (or first build) the cleaned data and compute the council's suppressed measures.

    The arguments are the notebooks' parameters (docs/design.md, Contract 3), so a notebook
    passes them straight through.

    Parameters
    ----------
    processed_dir : str or Path, optional
        Output of ``cpanalysis clean``; when it holds no cleaned data yet, the demo council
        (or ``data/raw``) is cleaned into it first.
    council_name, council_code : str, optional
        Override the names in the processed manifest.
    collection_years : list[int], optional
        Years to show (default: all).
    suppression_threshold : int
        Counts from 1 to this are shown as ``c``.
    forecast_horizon : int
        Years ahead for forecasts.
    benchmark_source : str
        ``"built-in"`` or a folder of DfE Explore Education Statistics CSV files.
    compare_with : sequence of str
        Other councils to show (needs DfE tables).
    population : dict[int, int], optional
        Children aged 0-17 by collection year, for rates per 10,000 (``cpanalysis run``
        passes the council's ``[population]``, or the demo council's). Without it, rates
        are not available (``x``).
    """
    folder = ensure_processed(processed_dir)
    population = {int(y): int(n) for y, n in (population or {}).items()} or None
    data, measures = _tables_and_measures(folder, population, collection_years)
    council = council_name or data.council_name or "Council"
    suppressed = _suppressed(
        folder, population, collection_years, measures, council, suppression_threshold
    )
    root = Path(folder).resolve().parent.parent
    comparison = load_comparators(
        council_code or data.la_code or None,
        benchmark_source,
        tuple(compare_with),
        root=root,
    )
    return CouncilAnalysis(
        data=data,
        council=council,
        measures=suppressed,
        comparators=comparison,
        threshold=suppression_threshold,
        horizon=forecast_horizon,
    )
