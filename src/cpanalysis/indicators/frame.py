"""Measure frames (design.md Contract 2): the one shape every indicator returns.

Keeping every indicator in one tidy long shape means suppression, charts, the scorecard and
the CSV downloads each handle *one* kind of table, and a council figure can sit beside
England's published figure under the same measure id.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

__all__ = [
    "MEASURE_COLUMNS",
    "NOT_APPLICABLE",
    "NOT_AVAILABLE",
    "percent_row",
    "UNITS",
    "empty_measure_frame",
    "measure_frame",
    "year_start",
    "year_end",
]

#: Columns of a measure frame, in order; ``symbol`` is optional (``"z"``/``"x"``).
MEASURE_COLUMNS = [
    "time_period",
    "geography",
    "measure",
    "breakdown",
    "numerator",
    "denominator",
    "value",
    "unit",
]
UNITS = ("percent", "days", "count", "rate_per_10000", "per_child")
#: DfE symbols: ``z`` not applicable (nobody in the base, or not collected that year);
#: ``x`` not available (the data window or an input cannot support the figure).
NOT_APPLICABLE = "z"
NOT_AVAILABLE = "x"


def year_start(year: int | pd.Series) -> pd.Timestamp | pd.Series:
    """1 April that opens collection year ``year`` (2025 -> 1 April 2024)."""
    if isinstance(year, pd.Series):
        return pd.to_datetime((year - 1).astype(str) + "-04-01")
    return pd.Timestamp(int(year) - 1, 4, 1)


def year_end(year: int | pd.Series) -> pd.Timestamp | pd.Series:
    """31 March that closes collection year ``year`` (2025 -> 31 March 2025)."""
    if isinstance(year, pd.Series):
        return pd.to_datetime(year.astype(str) + "-03-31")
    return pd.Timestamp(int(year), 3, 31)


def percent_row(year: int, measure: str, numerator: int, denominator: int) -> dict:
    """One ``Total`` row of a percentage measure: numerator of denominator, as a percent.

    When the denominator is 0 there is nobody in the base: the value is NaN and the symbol
    ``z`` (not applicable), as the DfE shows a figure about no one. ``x`` (not available) is
    kept for figures the data cannot support (a look-back before the first return held).
    """
    row = dict(
        time_period=year,
        measure=measure,
        breakdown="Total",
        numerator=numerator,
        denominator=denominator,
        value=100.0 * numerator / denominator if denominator else float("nan"),
        unit="percent",
    )
    if not denominator:
        row["symbol"] = NOT_APPLICABLE
    return row


def empty_measure_frame() -> pd.DataFrame:
    """A measure frame with no rows but the right columns and types."""
    return measure_frame(pd.DataFrame(columns=MEASURE_COLUMNS))


def measure_frame(
    frame: pd.DataFrame | Iterable[dict],
    *,
    time_period: int | None = None,
    geography: str | None = None,
    measure: str | None = None,
    unit: str | None = None,
) -> pd.DataFrame:
    """Coerce rows into a Contract-2 measure frame (columns, order and types).

    Parameters
    ----------
    frame : DataFrame or iterable of dict
        Rows holding some of :data:`MEASURE_COLUMNS` (missing ones are filled with NA),
        optionally a ``symbol`` column (``"z"`` not applicable, ``"x"`` not available).
    time_period : int, optional
    geography, measure, unit : str, optional
        Values to fill in for every row when the column is absent.

    Returns
    -------
    DataFrame
        ``time_period`` int, ``numerator``/``denominator`` Int64, ``value`` float,
        strings elsewhere; ``symbol`` kept only if given.
    """
    out = pd.DataFrame(frame).copy()
    fills = {"time_period": time_period, "geography": geography, "measure": measure, "unit": unit}
    for name, fill in fills.items():
        if fill is not None and name not in out.columns:
            out[name] = fill
    for column in MEASURE_COLUMNS:
        if column not in out.columns:
            out[column] = pd.NA
    if "breakdown" in out.columns:
        out["breakdown"] = out["breakdown"].fillna("Total")
    columns = MEASURE_COLUMNS + (["symbol"] if "symbol" in out.columns else [])
    out = out[columns]
    out["time_period"] = out["time_period"].astype("int64")
    for column in ("geography", "measure", "breakdown", "unit"):
        out[column] = out[column].astype("string")
    for column in ("numerator", "denominator"):
        out[column] = pd.to_numeric(out[column]).round().astype("Int64")
    out["value"] = pd.to_numeric(out["value"]).astype("float64")
    out.loc[~np.isfinite(out["value"].to_numpy(dtype=float, na_value=np.nan)), "value"] = np.nan
    if "symbol" in out.columns:
        out["symbol"] = out["symbol"].astype("string")
    return out.reset_index(drop=True)
