"""Numbers as the site shows them: the one place that rounds and formats a measure's value.

Every figure a reader sees goes through here, so a table cell, a chart tooltip, a chart
title and a notebook sentence can never show the same figure two ways. The rules are the
DfE's (as in "Children looked after in England including adoptions"):

* values are rounded **half up** (12.5% -> 13%), not to even as Python's ``round()`` does;
  the value is first taken to 9 decimal places, so a figure such as 29/200 = 14.5%, which
  is 14.4999... in binary, still rounds up as it would on paper;
* percentages, days, counts and rates per 10,000 are whole numbers; ``per_child`` averages
  have one decimal place.

Two styles:

* :func:`published_values` / :func:`published_value` -- the *published* text of a table cell
  and of the open-data CSV: the bare number without thousands separators (``"12"``,
  ``"81770"``, ``"1.4"``) and ``k`` for a non-zero value that rounds to zero. This is the
  ``display`` column that :func:`cpanalysis.suppression.suppress` adds.
* :func:`format_value` -- the *text* of a sentence or a chart title: thousands separators
  and the unit in words (``"12%"``, ``"1,234 days"``, ``"81,770"``,
  ``"67 per 10,000 children"``, ``"1.4"``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "DECIMALS",
    "round_half_up",
    "decimals",
    "published_values",
    "published_value",
    "format_value",
]

#: Decimal places shown by Contract-2 unit; any other unit is shown as a whole number.
DECIMALS = {"percent": 0, "days": 0, "count": 0, "rate_per_10000": 0, "per_child": 1}

#: What follows the number in a sentence.
_SUFFIX = {"percent": "%", "days": " days", "rate_per_10000": " per 10,000 children"}

#: Decimal places a value is taken to before rounding (removes binary noise only).
_CLEAN = 9


def round_half_up(values: Any, decimals: int = 0) -> Any:
    """Round half up to ``decimals`` places: a float for a scalar, an array for an array.

    Examples
    --------
    >>> round_half_up(12.5), round_half_up(67.5), round_half_up(1.45, 1)
    (13.0, 68.0, 1.5)
    >>> round_half_up(29 / 200 * 100)  # 14.499999999999998 in binary, 14.5 on paper
    15.0
    """
    scale = 10.0**decimals
    scaled = np.round(np.asarray(values, dtype=float) * scale, _CLEAN)
    out = np.floor(scaled + 0.5) / scale
    return float(out) if np.ndim(out) == 0 else out


def decimals(unit: str | None) -> int:
    """Decimal places shown for ``unit`` (see :data:`DECIMALS`)."""
    return DECIMALS.get(str(unit), 0)


def published_values(values: pd.Series, units: pd.Series | str) -> pd.Series:
    """The published text of many values (vectorised): bare numbers, ``k``, ``<NA>``.

    Parameters
    ----------
    values : Series of float
        The numbers; missing ones give ``<NA>`` (the caller chooses the DfE symbol).
    units : Series of str, or str
        The Contract-2 unit of each value, or one unit for all.

    Returns
    -------
    Series of string, on the index of ``values``

    Examples
    --------
    >>> published_values(pd.Series([67.5, 0.25, 81770.0, 1.45]),
    ...                  pd.Series(["percent", "percent", "count", "per_child"])).tolist()
    ['68', 'k', '81770', '1.5']
    """
    index = values.index if isinstance(values, pd.Series) else None
    v = pd.to_numeric(pd.Series(values, index=index), errors="coerce").to_numpy(dtype=float)
    if isinstance(units, str):
        places = np.full(len(v), decimals(units))
    else:
        places = np.array([decimals(u) for u in pd.Series(units).astype("string").fillna("")])
    finite = np.isfinite(v)
    text = np.empty(len(v), dtype=object)
    rounded = np.zeros(len(v))
    for d in np.unique(places):  # one format per number of places, not per row
        mask = places == d
        rounded[mask] = round_half_up(v[mask], int(d))
        shown = mask & finite
        text[shown] = np.char.mod(f"%.{int(d)}f", rounded[shown])
    text[~finite] = None
    text[finite & (v != 0) & (rounded == 0)] = "k"
    return pd.Series(text, index=index, dtype="string")


def published_value(value: float | None, unit: str | None, missing: str = "x") -> str:
    """The published text of one value; ``missing`` (DfE ``x``: not available) when missing.

    Examples
    --------
    >>> published_value(12.345, "percent"), published_value(410.5, "days")
    ('12', '411')
    >>> published_value(None, "count")
    'x'
    """
    if value is None or pd.isna(value):
        return missing
    return str(published_values(pd.Series([float(value)]), str(unit)).iloc[0])


def format_value(value: float | None, unit: str | None, missing: str = "no figure") -> str:
    """A value as a sentence or chart title says it: ``12%``, ``691 days``, ``1,234``.

    Whole numbers with thousands separators for percentages, days, counts and rates (which
    read "per 10,000 children"); per-child figures one decimal place. ``missing`` is
    returned for a missing value.

    Examples
    --------
    >>> format_value(12.5, "percent"), format_value(1234.0, "days"), format_value(81770, "count")
    ('13%', '1,234 days', '81,770')
    >>> format_value(67.2, "rate_per_10000"), format_value(1.45, "per_child")
    ('67 per 10,000 children', '1.5')
    """
    if value is None or pd.isna(value):
        return missing
    places = decimals(unit)
    number = round_half_up(float(value), places) + 0.0  # + 0.0: never "-0"
    return f"{number:,.{places}f}" + _SUFFIX.get(str(unit), "")
