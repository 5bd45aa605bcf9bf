"""Forecasts of children looked after and of care-leaver shares, with honest back-tests.

A committee asks "how many children will we look after next year?" and "will the NEET
share keep rising?". A projection is only worth showing if it has been better than the
simplest guess in the past, so every forecaster here can be back-tested: fit on the years
(or months) before each origin only, forecast ahead, and compare with what happened and
with a naive "no change" forecast. :func:`describe_backtest` turns the result into one
plain-English paragraph for the page.

* :func:`monthly_counts` - month-end stock, starters and leavers from episodes;
* :func:`forecast_monthly` - exponential smoothing (ETS, additive damped trend) or ARIMA;
* :func:`forecast_annual_share` - a straight-line trend for a handful of annual percents;
* :func:`backtest`, :func:`describe_backtest` - rolling-origin evaluation.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from cpanalysis.errors import InputError

__all__ = [
    "SHORT_BREAK_LEGAL_STATUSES",
    "BacktestResult",
    "monthly_counts",
    "forecast_monthly",
    "forecast_annual_share",
    "backtest",
    "describe_backtest",
]

log = logging.getLogger(__name__)

#: Legal statuses of agreed series of short breaks, excluded from published CLA counts.
SHORT_BREAK_LEGAL_STATUSES = frozenset({"V3", "V4"})

#: A forecaster takes the training series and a horizon, and returns a frame whose
#: ``mean`` column holds the forecasts for steps 1..horizon (as the functions here do).
Forecaster = Callable[[pd.Series, int], pd.DataFrame]

_FORECAST_COLUMNS = ["period", "mean", "lower", "upper"]


# --------------------------------------------------------------------------- monthly counts


def monthly_counts(
    episodes: pd.DataFrame,
    start: str | pd.Timestamp,
    end: str | pd.Timestamp,
) -> pd.DataFrame:
    """Children looked after at each month end, and children starting and ceasing each month.

    WHY: a year has one 31 March count, too few points to forecast from; month-end counts
    built from the same episodes give twelve points a year with the same definition
    (an episode open at the month end: ``DECOM <= month end < DEC``, as "looked after at
    31 March" is defined), so trend and seasonality can be modelled.

    Parameters
    ----------
    episodes : pandas.DataFrame
        Episodes as in Contract 1. Needs ``CHILD``, ``DECOM``, ``DEC`` (datetime, missing =
        still open), ``RNE``, ``REC``, ``LS``; ``LA`` if present (a child is ``(LA, CHILD)``).
        Episodes with legal status V3/V4 (short breaks) are left out, as in DfE figures.
    start, end : str or Timestamp
        First and last month to report (any day of the month).

    Returns
    -------
    pandas.DataFrame
        Indexed by month end (``DatetimeIndex`` named ``period``, frequency month end) with
        columns ``looked_after`` (children with an open episode at the month end),
        ``started`` (children with an ``RNE == "S"`` episode starting in the month) and
        ``ceased`` (children with a period-ending episode, ``REC`` not ``X1``, ending in
        the month); all counts of children (Int64).

    Raises
    ------
    InputError
        A needed column is missing, or ``end`` is before ``start``.
    """
    needed = {"CHILD", "DECOM", "DEC", "RNE", "REC", "LS"}
    missing = needed - set(episodes.columns)
    if missing:
        raise InputError(
            f"episodes lack the columns {sorted(missing)} needed for monthly counts",
            column=", ".join(sorted(missing)),
        )
    first = pd.Timestamp(start).to_period("M")
    last = pd.Timestamp(end).to_period("M")
    if last < first:
        raise InputError(f"forecast counts: end month {last} is before start month {first}")
    months = pd.period_range(first, last, freq="M")
    month_ends = months.to_timestamp(how="end").normalize()

    ls = episodes["LS"].astype("string").str.strip().str.upper()
    kept = episodes.loc[~ls.isin(SHORT_BREAK_LEGAL_STATUSES).fillna(False)]
    no_start = kept["DECOM"].isna()
    if no_start.any():
        log.warning(
            "monthly_counts: %d episodes without a start date (DECOM) are not counted",
            int(no_start.sum()),
        )
    child = kept["CHILD"].astype("string")
    if "LA" in kept:
        child = kept["LA"].astype("string").fillna("") + ":" + child
    decom = pd.to_datetime(kept["DECOM"]).to_numpy("datetime64[ns]")
    dec = pd.to_datetime(kept["DEC"]).to_numpy("datetime64[ns]")
    ends = month_ends.to_numpy("datetime64[ns]")

    # episodes x months: open at the month end? (an open DEC never closes)
    open_at_end = (decom[:, None] <= ends[None, :]) & (
        np.isnat(dec)[:, None] | (dec[:, None] > ends[None, :])
    )
    stock = pd.DataFrame(open_at_end, index=child.to_numpy()).groupby(level=0).any().sum()

    def children_per_month(mask: pd.Series, dates: pd.Series) -> pd.Series:
        events = pd.DataFrame(
            {"child": child[mask].to_numpy(), "month": dates[mask].dt.to_period("M")}
        ).drop_duplicates()
        return events.groupby("month").size().reindex(months, fill_value=0)

    rne = kept["RNE"].astype("string").str.strip().str.upper()
    rec = kept["REC"].astype("string").str.strip().str.upper()
    starts = children_per_month(rne.eq("S").fillna(False), pd.to_datetime(kept["DECOM"]))
    ends_care = (rec.notna() & rec.ne("X1")).fillna(False) & kept["DEC"].notna()
    ceases = children_per_month(ends_care, pd.to_datetime(kept["DEC"]))

    out = pd.DataFrame(
        {
            "looked_after": stock.to_numpy(),
            "started": starts.to_numpy(),
            "ceased": ceases.to_numpy(),
        },
        index=pd.DatetimeIndex(month_ends, name="period", freq="ME"),
    )
    return out.astype("Int64")


# --------------------------------------------------------------------------- forecasters


def _clean_series(series: pd.Series, what: str) -> pd.Series:
    """Float series without missing values; logs (never silently drops) removed points."""
    values = pd.to_numeric(series, errors="coerce").astype("float64")
    gaps = values.isna()
    if gaps.any():
        log.warning(
            "%s: %d missing or suppressed points left out of the fit: %s",
            what,
            int(gaps.sum()),
            [str(i) for i in values.index[gaps]],
        )
    return values.loc[~gaps]


def forecast_monthly(
    series: pd.Series,
    horizon_months: int,
    model: Literal["ets", "arima"] = "ets",
    *,
    damped: bool = True,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Forecast a monthly count (e.g. children looked after) with a 95% prediction interval.

    WHY: children-looked-after numbers drift with a trend that rarely continues for ever;
    exponential smoothing with an additive, damped trend (statsmodels ``ETSModel``) follows
    the recent level and lets the trend flatten, which suits a council's month-end stock.
    ``model="arima"`` gives an ARIMA(0,1,1) with drift as a second opinion.

    Parameters
    ----------
    series : pandas.Series
        Monthly values on a month-end ``DatetimeIndex`` (e.g. ``monthly_counts(...)
        ["looked_after"]``); at least 10 points.
    horizon_months : int
        Months ahead to forecast (>= 1).
    model : {"ets", "arima"}
        The model family.
    damped : bool
        Damp the ETS trend (default). A straight line is forecast exactly only undamped.
    alpha : float
        1 - coverage of the prediction interval (0.05 = 95%).

    Returns
    -------
    pandas.DataFrame
        ``period`` (month end), ``mean``, ``lower``, ``upper`` (children; never below 0).

    Raises
    ------
    InputError
        Too few points, a bad horizon or an unknown model.
    """
    if horizon_months < 1:
        raise InputError(f"forecast horizon must be at least 1 month, not {horizon_months}")
    values = _clean_series(series, "forecast_monthly")
    if len(values) < 10:
        raise InputError(f"a monthly forecast needs at least 10 months, not {len(values)}")
    index = pd.DatetimeIndex(values.index)
    months = index.to_period("M")
    gaps = months[1:][(months[1:] - months[:-1]) != pd.offsets.MonthEnd(1)]
    if len(gaps):
        # ETS treats points as consecutive; a hole would silently shift the seasons
        raise InputError(
            "a monthly forecast needs consecutive months; the series jumps before "
            + ", ".join(str(m) for m in gaps)
        )
    y = pd.Series(values.to_numpy(), index=pd.RangeIndex(len(values)))
    n = len(y)
    future = pd.date_range(
        index[-1] + pd.offsets.MonthEnd(1), periods=horizon_months, freq="ME"
    ).normalize()

    # imported here so `import cpanalysis` stays fast; imported before the warnings
    # block because statsmodels installs an "always" filter for its warnings on import
    from statsmodels.tsa.arima.model import ARIMA
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    if model not in ("ets", "arima"):
        raise InputError(f"unknown forecast model {model!r}: use 'ets' or 'arima'")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if model == "ets":
            fit = ETSModel(y, error="add", trend="add", damped_trend=damped).fit(disp=False)
            frame = fit.get_prediction(start=n, end=n + horizon_months - 1).summary_frame(
                alpha=alpha
            )
            mean, lower, upper = frame["mean"], frame["pi_lower"], frame["pi_upper"]
        else:
            fit = ARIMA(y, order=(0, 1, 1), trend="t").fit()
            prediction = fit.get_forecast(horizon_months)
            interval = prediction.conf_int(alpha=alpha)
            mean = prediction.predicted_mean
            lower, upper = interval.iloc[:, 0], interval.iloc[:, 1]
    # e.g. a noise-free series leaves the likelihood flat ("failed to converge") although
    # the fit is the line itself: worth a log line, not a warning on the committee page
    for warning in caught:
        log.info("forecast_monthly (%s): %s", model, warning.message)

    return pd.DataFrame(
        {
            "period": future,
            "mean": np.clip(np.asarray(mean, dtype=float), 0, None),
            "lower": np.clip(np.asarray(lower, dtype=float), 0, None),
            "upper": np.clip(np.asarray(upper, dtype=float), 0, None),
        }
    )


def forecast_annual_share(
    series: pd.Series,
    horizon_years: int,
    *,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Forecast an annual percentage (e.g. 19-21 NEET share) with a straight-line trend.

    WHY: a council has five to ten annual figures; anything cleverer than a straight line
    over-fits them. An OLS trend (statsmodels) gives prediction intervals for a new
    observation (``obs_ci``: trend uncertainty plus year-to-year noise), so the width
    honestly shows how little a few points say. Values are clipped to 0-100.

    Parameters
    ----------
    series : pandas.Series
        Percent (0-100) indexed by collection year (int); at least 3 years. Missing
        (suppressed) years are left out with a logged warning.
    horizon_years : int
        Years ahead to forecast (>= 1), from the last year in the series.
    alpha : float
        1 - coverage of the prediction interval (0.05 = 95%).

    Returns
    -------
    pandas.DataFrame
        ``period`` (int collection year), ``mean``, ``lower``, ``upper`` (percent).
    """
    # the two names it needs, not statsmodels.api (which imports every model, its datasets
    # and plots: a second of each notebook kernel's start)
    from statsmodels.regression.linear_model import OLS
    from statsmodels.tools.tools import add_constant

    if horizon_years < 1:
        raise InputError(f"forecast horizon must be at least 1 year, not {horizon_years}")
    values = _clean_series(series, "forecast_annual_share")
    if len(values) < 3:
        raise InputError(f"an annual trend needs at least 3 years of figures, not {len(values)}")
    years = np.asarray(values.index, dtype=float)
    future = np.arange(int(years.max()) + 1, int(years.max()) + 1 + horizon_years)
    fit = OLS(values.to_numpy(), add_constant(years)).fit()
    with warnings.catch_warnings():
        # a noise-free line has zero residual variance: intervals of width 0 are right
        warnings.simplefilter("ignore", RuntimeWarning)
        frame = fit.get_prediction(add_constant(future.astype(float), has_constant="add"))
        summary = frame.summary_frame(alpha=alpha)
    return pd.DataFrame(
        {
            "period": future.astype("int64"),
            "mean": np.clip(summary["mean"].to_numpy(), 0, 100),
            "lower": np.clip(summary["obs_ci_lower"].to_numpy(), 0, 100),
            "upper": np.clip(summary["obs_ci_upper"].to_numpy(), 0, 100),
        }
    )


# --------------------------------------------------------------------------- back-tests


@dataclass(frozen=True)
class BacktestResult:
    """How a forecaster did in a rolling-origin back-test.

    Attributes
    ----------
    mae_model, mae_naive : float
        Mean absolute error of the model's and of the naive forecasts (series units).
    mase : float
        Mean absolute scaled error: ``mae_model`` divided by the in-sample MAE of the
        one-step naive forecast (mean ``|y[t] - y[t-1]|`` over the series up to the last
        origin; Hyndman & Koehler 2006). Below 1: better than a one-step naive forecast
        on average. NaN when the series never changes.
    relative_mae : float
        ``mae_model / mae_naive`` on the same origins (below 1: the model beat naive).
    n_origins : int
        Number of forecast origins.
    horizon : int
        Steps ahead each forecast was judged at.
    beats_naive : bool
        ``mae_model < mae_naive`` (strictly: a tie is not a win).
    errors : pandas.DataFrame
        One row per origin: ``origin`` (last period used to fit), ``target`` (period
        forecast), ``actual``, ``model``, ``naive``.
    naive : str
        The yardstick used: ``"last"`` (no change) or ``"seasonal"`` (same as one season
        earlier).
    """

    mae_model: float
    mae_naive: float
    mase: float
    relative_mae: float
    n_origins: int
    horizon: int
    beats_naive: bool
    errors: pd.DataFrame
    naive: str = "last"


def backtest(
    series: pd.Series,
    forecaster: Forecaster,
    *,
    min_train: int,
    horizon: int = 1,
    naive: Literal["last", "seasonal"] = "last",
    season_length: int = 12,
) -> BacktestResult:
    """Rolling-origin back-test: fit on the past only, forecast ahead, compare with truth.

    WHY: a projection on a committee page must show how wrong it has been. For each
    origin ``t`` from ``min_train`` to ``n - horizon`` the forecaster sees
    ``series.iloc[:t]`` ONLY (nothing at or after the period it forecasts), forecasts
    ``horizon`` steps, and its ``horizon``-th forecast is compared with the actual value;
    the naive forecast is the last observed value (random walk) or, with
    ``naive="seasonal"``, the value one season earlier.

    Parameters
    ----------
    series : pandas.Series
        The history (annual or monthly), in time order.
    forecaster : callable
        ``forecaster(train, horizon) -> DataFrame`` with a ``mean`` column of ``horizon``
        rows, e.g. ``lambda s, h: forecast_annual_share(s, h)``.
    min_train : int
        Points in the first training window (>= 1).
    horizon : int
        Steps ahead to judge (>= 1).
    naive : {"last", "seasonal"}
        The yardstick: last value, or the value ``season_length`` steps back.
    season_length : int
        Season of the seasonal naive forecast (12 for months).

    Raises
    ------
    InputError
        The series is too short for even one origin.
    """
    values = _clean_series(series, "backtest")
    n = len(values)
    if min_train < 1 or horizon < 1:
        raise InputError("back-test needs min_train >= 1 and horizon >= 1")
    if naive == "seasonal" and min_train < season_length:
        raise InputError(f"a seasonal naive forecast needs min_train >= {season_length}")
    origins = range(min_train, n - horizon + 1)
    if len(origins) == 0:
        raise InputError(
            f"back-test needs more than {min_train + horizon - 1} points, the series has {n}"
        )
    rows = []
    # one fit per origin is inherent to a rolling-origin test (a handful of fits)
    for t in origins:
        train = values.iloc[:t]
        forecast = forecaster(train.copy(), horizon)
        target = t + horizon - 1
        if naive == "seasonal":
            steps_back = season_length * ((horizon - 1) // season_length + 1)
            naive_value = values.iloc[target - steps_back]
        else:
            naive_value = train.iloc[-1]
        rows.append(
            {
                "origin": values.index[t - 1],
                "target": values.index[target],
                "actual": values.iloc[target],
                "model": float(np.asarray(forecast["mean"])[horizon - 1]),
                "naive": float(naive_value),
            }
        )
    errors = pd.DataFrame(rows)
    mae_model = float((errors["model"] - errors["actual"]).abs().mean())
    mae_naive = float((errors["naive"] - errors["actual"]).abs().mean())
    in_sample = values.iloc[: origins[-1]].diff().abs().mean()
    mase = mae_model / in_sample if in_sample and in_sample > 0 else float("nan")
    relative = mae_model / mae_naive if mae_naive > 0 else float("nan")
    return BacktestResult(
        mae_model=mae_model,
        mae_naive=mae_naive,
        mase=float(mase),
        relative_mae=float(relative),
        n_origins=len(errors),
        horizon=horizon,
        beats_naive=bool(mae_model < mae_naive),
        errors=errors,
        naive=naive,
    )


_NUMBER_WORDS = {
    1: "one",
    2: "two",
    3: "three",
    4: "four",
    5: "five",
    6: "six",
    7: "seven",
    8: "eight",
    9: "nine",
    10: "ten",
    11: "eleven",
    12: "twelve",
}


def _periods(count: int, period: str) -> str:
    return f"{count} {period}" if count == 1 else f"{count} {period}s"


def describe_backtest(
    result: BacktestResult,
    unit: str = "percentage points",
    what: str = "NEET share",
    *,
    period: str = "year",
    decimals: int = 1,
) -> str:
    """Say in plain English how the forecast did in its back-test.

    WHY: a committee member should not need to know what MAE is to judge a projection;
    the sentence says the typical error in the figure's own units, how a "no change"
    guess did, and, when the model lost, that the projection is no better than that guess.

    Parameters
    ----------
    result : BacktestResult
        From :func:`backtest`.
    unit : str
        Unit of the errors as read aloud ("percentage points", "children").
    what : str
        What was forecast, used in the sentence ("NEET share").
    period : str
        "year" or "month": the step of the series.
    decimals : int
        Decimal places of the errors.

    Returns
    -------
    str
        E.g. "Over the last 6 years this model's average error one year ahead for the
        NEET share was 2.1 percentage points; a naive forecast (no change) was out by
        2.8. The model beat the naive forecast."
    """
    ahead = _NUMBER_WORDS.get(result.horizon, str(result.horizon))
    span = (
        f"the last {period}"
        if result.n_origins == 1
        else f"the last {_periods(result.n_origins, period)}"
    )
    step = f"{ahead} {period if result.horizon == 1 else period + 's'} ahead"
    if result.naive == "seasonal":
        yardstick = "a seasonal naive forecast (same as a year earlier)"
        lost = (
            " The model did not beat a seasonal naive forecast, so treat the projection as "
            "no better than assuming each month is like the same month a year earlier."
        )
    else:
        yardstick = "a naive forecast (no change)"
        lost = (
            " The model did not beat a naive 'no change' forecast, so treat the projection "
            f"as no better than assuming next {period} is like this one."
        )
    text = (
        f"Over {span} this model's average error {step} for the {what} was "
        f"{result.mae_model:.{decimals}f} {unit}; {yardstick} was out by "
        f"{result.mae_naive:.{decimals}f}."
    )
    if result.beats_naive:
        return text + " The model beat the naive forecast."
    return text + lost
