"""Tests of cpanalysis.forecast: monthly counts, forecasts, rolling-origin back-tests.

Every expected value is worked out by hand in the comments; the series are tiny.
"""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pandas as pd
import pytest

from cpanalysis.errors import InputError
from cpanalysis.forecast import (
    BacktestResult,
    backtest,
    describe_backtest,
    forecast_annual_share,
    forecast_monthly,
    monthly_counts,
)

NaT = pd.NaT


def episodes_frame(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["CHILD", "DECOM", "DEC", "RNE", "REC", "LS"])
    frame["DECOM"] = pd.to_datetime(frame["DECOM"])
    frame["DEC"] = pd.to_datetime(frame["DEC"])
    for column in ("RNE", "REC", "LS"):
        frame[column] = frame[column].astype("category")
    frame["CHILD"] = frame["CHILD"].astype("string")
    return frame


# --------------------------------------------------------------------------- monthly counts


def test_monthly_counts_hand_worked() -> None:
    episodes = episodes_frame(
        [
            # A: starts 15 Jan, placement change on 10 Mar (X1 continuation), still looked after
            ("A", "2024-01-15", "2024-03-10", "S", "X1", "C2"),
            ("A", "2024-03-10", NaT, "P", None, "C2"),
            # B: starts 1 Feb, returns home on 29 Feb (not looked after at the end of 29 Feb)
            ("B", "2024-02-01", "2024-02-29", "S", "E13", "V2"),
            # C: a short break (V3) - left out of every count
            ("C", "2024-01-05", "2024-01-08", "S", "E8", "V3"),
            # D: in care since December, goes home 15 Feb
            ("D", "2023-12-01", "2024-02-15", "S", "E4A", "C1"),
        ]
    )
    counts = monthly_counts(episodes, "2024-01-01", "2024-04-30")
    assert list(counts.index) == list(
        pd.to_datetime(["2024-01-31", "2024-02-29", "2024-03-31", "2024-04-30"])
    )
    # 31 Jan: A, D; 29 Feb: A (B ceased that day, D on 15 Feb); 31 Mar, 30 Apr: A
    assert counts["looked_after"].tolist() == [2, 1, 1, 1]
    # starts: A in Jan (C is a short break), B in Feb; A's March episode is not a start
    assert counts["started"].tolist() == [1, 1, 0, 0]
    # ceased: B and D in Feb; A's X1 in March does not end care
    assert counts["ceased"].tolist() == [0, 2, 0, 0]
    assert str(counts["looked_after"].dtype) == "Int64"


def test_monthly_counts_child_is_per_council() -> None:
    episodes = episodes_frame(
        [
            ("1", "2024-01-01", NaT, "S", None, "C2"),
            ("1", "2024-01-01", NaT, "S", None, "C2"),
        ]
    )
    episodes["LA"] = ["800", "801"]  # same local ID in two councils: two children
    counts = monthly_counts(episodes, "2024-01-01", "2024-01-31")
    assert counts["looked_after"].tolist() == [2]
    assert counts["started"].tolist() == [2]


def test_monthly_counts_missing_column_is_an_input_error() -> None:
    episodes = episodes_frame([("A", "2024-01-15", NaT, "S", None, "C2")]).drop(columns="LS")
    with pytest.raises(InputError, match="LS"):
        monthly_counts(episodes, "2024-01-01", "2024-02-29")


# --------------------------------------------------------------------------- forecasts


def test_annual_trend_forecasts_a_straight_line_exactly() -> None:
    series = pd.Series([40.0, 42.0, 44.0, 46.0, 48.0], index=[2019, 2020, 2021, 2022, 2023])
    forecast = forecast_annual_share(series, 3)
    assert forecast["period"].tolist() == [2024, 2025, 2026]
    # slope 2 points a year: 50, 52, 54, and no noise so no interval width
    np.testing.assert_allclose(forecast["mean"], [50.0, 52.0, 54.0], atol=1e-9)
    np.testing.assert_allclose(forecast["upper"] - forecast["lower"], 0.0, atol=1e-6)


def test_annual_trend_is_clipped_to_0_100() -> None:
    series = pd.Series([90.0, 94.0, 98.0], index=[2023, 2024, 2025])
    forecast = forecast_annual_share(series, 1)
    # the line reaches 102 in 2026; a percentage cannot
    assert forecast["mean"].tolist() == [100.0]


def test_annual_intervals_widen_with_the_horizon() -> None:
    series = pd.Series(
        [30.0, 34.0, 31.0, 36.0, 33.0, 38.0], index=[2020, 2021, 2022, 2023, 2024, 2025]
    )
    forecast = forecast_annual_share(series, 4)
    width = (forecast["upper"] - forecast["lower"]).to_numpy()
    assert (np.diff(width) > 0).all()
    assert (forecast["lower"] < forecast["mean"]).all()
    assert (forecast["mean"] < forecast["upper"]).all()


def test_annual_trend_needs_three_years_and_logs_gaps(caplog) -> None:
    with pytest.raises(InputError, match="at least 3"):
        forecast_annual_share(pd.Series([50.0, 52.0], index=[2024, 2025]), 1)
    series = pd.Series([40.0, np.nan, 44.0, 46.0], index=[2020, 2021, 2022, 2023])
    forecast = forecast_annual_share(series, 1)
    np.testing.assert_allclose(forecast["mean"], [48.0], atol=1e-9)  # line 2 points/year
    assert "2021" in caplog.text


def monthly(values: np.ndarray, start: str = "2021-01-31") -> pd.Series:
    return pd.Series(values, index=pd.date_range(start, periods=len(values), freq="ME"))


def test_monthly_ets_forecasts_a_straight_line_exactly() -> None:
    series = monthly(100.0 + 2.0 * np.arange(36))  # 100, 102, ..., 170
    forecast = forecast_monthly(series, 6, damped=False)
    assert forecast["period"].tolist() == list(pd.date_range("2024-01-31", periods=6, freq="ME"))
    np.testing.assert_allclose(forecast["mean"], [172, 174, 176, 178, 180, 182], atol=1e-3)


@pytest.mark.parametrize("model", ["ets", "arima"])
def test_monthly_intervals_widen_with_the_horizon(model: str) -> None:
    noise = np.array([3, -2, 4, -5, 1, 2, -3, 5, -1, -4, 2, 0] * 3, dtype=float)
    series = monthly(200.0 + 1.5 * np.arange(36) + noise)
    forecast = forecast_monthly(series, 12, model=model)
    width = (forecast["upper"] - forecast["lower"]).to_numpy()
    assert (np.diff(width) > 0).all()
    assert (forecast["lower"] <= forecast["mean"]).all()
    assert (forecast["mean"] <= forecast["upper"]).all()


def test_monthly_forecast_of_a_noise_free_line_logs_instead_of_warning(caplog) -> None:
    series = monthly(50.0 + np.arange(24))
    caplog.set_level(logging.INFO, logger="cpanalysis.forecast")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning reaching the notebook fails the test
        forecast = forecast_monthly(series, 1, damped=False)
    assert forecast["mean"].iloc[0] == pytest.approx(74.0, abs=1e-3)
    assert "converge" in caplog.text  # statsmodels' flat-likelihood warning, as a log line


def test_monthly_forecast_refuses_a_hole_in_the_months() -> None:
    values = np.arange(24.0)
    values[5] = np.nan  # June 2021 suppressed: the months either side are not consecutive
    with pytest.raises(InputError, match="2021-07"):
        forecast_monthly(monthly(values), 3)


def test_monthly_forecast_rejects_short_series_and_unknown_model() -> None:
    with pytest.raises(InputError, match="at least 10"):
        forecast_monthly(monthly(np.arange(5.0)), 3)
    with pytest.raises(InputError, match="unknown forecast model"):
        forecast_monthly(monthly(np.arange(12.0)), 3, model="prophet")


# --------------------------------------------------------------------------- back-tests


def test_backtest_fits_only_on_data_before_each_origin() -> None:
    seen: list[int] = []

    def spy(train: pd.Series, horizon: int) -> pd.DataFrame:
        seen.append(int(train.index[-1]))
        return pd.DataFrame({"mean": [float(train.iloc[-1])] * horizon})

    series = pd.Series(np.arange(8.0), index=range(2018, 2026))
    result = backtest(series, spy, min_train=3, horizon=1)
    # origins after 3, 4, ..., 7 points: the spy saw up to 2020 ... 2024, never the target
    assert seen == [2020, 2021, 2022, 2023, 2024]
    assert result.errors["target"].tolist() == [2021, 2022, 2023, 2024, 2025]
    assert all(last < target for last, target in zip(seen, result.errors["target"], strict=True))
    assert result.n_origins == 5


def test_backtest_cannot_see_a_jump_before_it_happens() -> None:
    # flat at 10, jumps to 50 in 2023; "forecast the largest value seen" would be exact
    # at the jump only if it were shown the future
    series = pd.Series([10.0, 10, 10, 10, 10, 50, 50], index=range(2018, 2025))

    def largest(train: pd.Series, horizon: int) -> pd.DataFrame:
        return pd.DataFrame({"mean": [train.max()] * horizon})

    result = backtest(series, largest, min_train=3)
    errors = result.errors.set_index("target")
    assert errors.loc[2023, "model"] == 10.0 and errors.loc[2023, "actual"] == 50.0
    assert errors.loc[2024, "model"] == 50.0


def test_backtest_errors_of_a_linear_trend_and_naive() -> None:
    series = pd.Series([1.0, 2, 3, 4, 5, 6], index=range(2020, 2026))
    result = backtest(series, forecast_annual_share, min_train=3, horizon=1)
    # origins t=3,4,5: the trend is exact; "no change" is 1 out every time
    assert result.n_origins == 3
    assert result.mae_model == pytest.approx(0.0, abs=1e-9)
    assert result.mae_naive == pytest.approx(1.0)
    assert result.errors["naive"].tolist() == [3.0, 4.0, 5.0]
    assert result.mase == pytest.approx(0.0, abs=1e-9)
    assert result.beats_naive is True

    two_ahead = backtest(series, forecast_annual_share, min_train=3, horizon=2)
    # origins t=3,4: targets 2024 (5) and 2025 (6); naive 3 and 4 -> out by 2 each
    assert two_ahead.errors["target"].tolist() == [2024, 2025]
    assert two_ahead.mae_naive == pytest.approx(2.0)


def test_backtest_seasonal_naive_and_scaled_error() -> None:
    series = pd.Series([1.0, 5, 3, 7, 1, 5, 3, 7, 1, 5])

    def flat(train: pd.Series, horizon: int) -> pd.DataFrame:
        return pd.DataFrame({"mean": [4.0] * horizon})

    result = backtest(series, flat, min_train=4, naive="seasonal", season_length=4)
    # origins t=4..9 (6); same-season-last-cycle is exact; flat 4 is out by 3,1,1,3,3,1
    assert result.n_origins == 6
    assert result.mae_naive == 0.0
    assert result.mae_model == pytest.approx(2.0)
    assert result.beats_naive is False
    # in-sample one-step naive MAE over the first 9 points: (4+2+4+6) x 2 / 8 = 4
    assert result.mase == pytest.approx(2.0 / 4.0)


def test_backtest_too_short_is_an_input_error() -> None:
    with pytest.raises(InputError, match="more than"):
        backtest(pd.Series([1.0, 2.0, 3.0]), forecast_annual_share, min_train=3)


def make_result(mae_model: float, mae_naive: float, n: int, horizon: int) -> BacktestResult:
    return BacktestResult(
        mae_model=mae_model,
        mae_naive=mae_naive,
        mase=float("nan"),
        relative_mae=mae_model / mae_naive,
        n_origins=n,
        horizon=horizon,
        beats_naive=mae_model < mae_naive,
        errors=pd.DataFrame(columns=["origin", "target", "actual", "model", "naive"]),
    )


def test_describe_backtest_when_the_model_wins() -> None:
    text = describe_backtest(make_result(2.1, 2.8, 6, 1))
    assert text == (
        "Over the last 6 years this model's average error one year ahead for the NEET "
        "share was 2.1 percentage points; a naive forecast (no change) was out by 2.8. "
        "The model beat the naive forecast."
    )


def test_describe_backtest_when_the_model_loses() -> None:
    text = describe_backtest(
        make_result(3.04, 2.5, 12, 3),
        unit="children",
        what="number of children looked after",
        period="month",
    )
    assert text == (
        "Over the last 12 months this model's average error three months ahead for the "
        "number of children looked after was 3.0 children; a naive forecast (no change) "
        "was out by 2.5. The model did not beat a naive 'no change' forecast, so treat "
        "the projection as no better than assuming next month is like this one."
    )
