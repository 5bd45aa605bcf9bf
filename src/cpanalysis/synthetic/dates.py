"""Whole-day date arithmetic on numpy arrays, for the synthetic council.

The simulation keeps every date as an ``int64`` count of days since 1 January 1970 so that
a step of the life course (``entry + gamma draw``) is one numpy expression over all children
at once. These helpers turn calendar facts (a birthday, 31 March of a collection year) into
that day count and back.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "day",
    "year_start",
    "year_end",
    "add_years",
    "add_months",
    "age_years",
    "collection_year_of",
    "to_datetime",
    "format_dmy",
    "datetimes_to_days",
]

_EPOCH = np.datetime64("1970-01-01", "D")


def day(year: int, month: int, dom: int) -> int:
    """Days since 1970-01-01 of a calendar date."""
    return int((np.datetime64(f"{year:04d}-{month:02d}-{dom:02d}", "D") - _EPOCH).astype(int))


def year_start(collection_year: int) -> int:
    """1 April that opens ``collection_year`` (2025 -> 1 April 2024), in days."""
    return day(collection_year - 1, 4, 1)


def year_end(collection_year: int) -> int:
    """31 March that closes ``collection_year`` (2025 -> 31 March 2025), in days."""
    return day(collection_year, 3, 31)


def _parts(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    d = np.asarray(days, dtype="int64").astype("M8[D]")
    months = d.astype("M8[M]")
    year = months.astype("M8[Y]").astype("int64") + 1970
    month = months.astype("int64") % 12 + 1
    dom = (d - months.astype("M8[D]")).astype("int64") + 1
    return year, month, dom


def add_months(days: np.ndarray, months: np.ndarray | int) -> np.ndarray:
    """Same day of the month ``months`` later; a day past the month's end rolls forward.

    A 29 February birthday plus 12 months is 1 March in a common year, as in English law.
    """
    year, month, dom = _parts(days)
    total = (year - 1970) * 12 + (month - 1) + np.asarray(months, dtype="int64")
    month_start = total.astype("M8[M]").astype("M8[D]")
    return (month_start - _EPOCH).astype("int64") + dom - 1


def add_years(days: np.ndarray, years: np.ndarray | int) -> np.ndarray:
    """The anniversary ``years`` later (e.g. the 18th birthday from the date of birth)."""
    return add_months(days, np.asarray(years, dtype="int64") * 12)


def age_years(dob: np.ndarray, at: np.ndarray | int) -> np.ndarray:
    """Age in completed years on day ``at`` of someone born on ``dob``."""
    dob = np.asarray(dob, dtype="int64")
    at = np.broadcast_to(np.asarray(at, dtype="int64"), dob.shape)
    years = _parts(at)[0] - _parts(dob)[0]
    return years - (add_years(dob, years) > at)


def collection_year_of(days: np.ndarray) -> np.ndarray:
    """Collection year a date falls in: 1 April 2024 .. 31 March 2025 -> 2025."""
    year, month, _ = _parts(days)
    return year + (month >= 4)


def to_datetime(days: np.ndarray) -> pd.Series:
    """Day counts (``-1`` or NaN meaning unknown) as a ``datetime64`` Series with NaT."""
    values = np.asarray(days, dtype="float64")
    out = pd.to_datetime(np.where(np.isnan(values), np.nan, values), unit="D")
    return pd.Series(out)


def format_dmy(days: np.ndarray, missing: np.ndarray | None = None) -> np.ndarray:
    """Day counts as ``dd/mm/yyyy`` strings (the DfE's format); ``""`` where ``missing``.

    Vectorised: numpy writes ``yyyy-mm-dd`` for every day at once, and the characters are
    rearranged as fixed-width code points (no Python call per date).
    """
    days = np.asarray(days, dtype="int64")
    if missing is None:
        missing = np.zeros(days.shape, dtype=bool)
    missing = np.asarray(missing, dtype=bool)
    safe = np.where(missing, 0, days).astype("M8[D]")
    iso = np.datetime_as_string(safe, unit="D").astype("<U10")
    points = np.ascontiguousarray(iso).view(np.uint32).reshape(-1, 10)
    dmy = points[:, _DMY_ORDER]
    dmy[:, [2, 5]] = ord("/")
    text = np.ascontiguousarray(dmy).view("<U10").reshape(days.shape).astype(object)
    text[missing] = ""
    return text


#: Positions in ``yyyy-mm-dd`` of the characters of ``dd/mm/yyyy`` (slashes written after).
_DMY_ORDER = [8, 9, 4, 5, 6, 4, 0, 1, 2, 3]


def datetimes_to_days(values, missing: int) -> np.ndarray:
    """Datetimes (any unit, NaT allowed) as ``int64`` days since 1970; ``missing`` for NaT."""
    d = np.asarray(values).astype("M8[D]")
    out = d.view("int64").copy()
    out[np.isnat(d)] = missing
    return out
