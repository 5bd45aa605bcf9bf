"""Cohorts shared by several indicators: who was looked after when, and how old they were.

Every published figure starts from one of a few cohorts (children looked after at
31 March, children looked after during the year), so they are defined once here and every
indicator module asks for them rather than re-deriving them slightly differently.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import numpy as np
import pandas as pd

from cpanalysis.histories import child_keys
from cpanalysis.indicators.frame import year_end, year_start

__all__ = [
    "latest_per_child",
    "age_at",
    "age_at_birthday_in_year",
    "looked_after_at",
    "looked_after_during",
    "in_year",
    "rows_for_year",
    "shared_cohorts",
]

#: Cohorts already found while :func:`shared_cohorts` is active: (id of episodes, date).
_COHORTS: ContextVar[dict | None] = ContextVar("cpanalysis_cohorts", default=None)


@contextmanager
def shared_cohorts() -> Iterator[None]:
    """Within the block, each topic asking for the same 31 March cohort gets it computed once.

    :func:`cpanalysis.indicators.compute_all` runs every topic on one annotated episodes
    frame that nothing modifies, and four topics each want the children looked after at
    31 March of every year. Outside this block nothing is remembered.
    """
    token = _COHORTS.set({})
    try:
        yield
    finally:
        _COHORTS.reset(token)


def latest_per_child(table: pd.DataFrame) -> pd.DataFrame:
    """The latest row per child (highest ``YEAR``): a child's latest demographics.

    Contract 1 keeps one row per child per collection year in single-row tables; a later
    return may correct an earlier one, so the latest wins.
    """
    if table.empty:
        return table
    keys = child_keys(table)
    order = [*keys, "YEAR"] if "YEAR" in table.columns else keys
    return table.sort_values(order, kind="stable").drop_duplicates(keys, keep="last")


def age_at(dob: pd.Series, when: pd.Timestamp | pd.Series) -> pd.Series:
    """Age in whole years on date ``when`` (nullable Int64; missing where DOB is missing).

    A birthday counts from the day itself; a 29 February birthday counts from 1 March in a
    year without a 29 February (the law in England). In processed data DOB is the first of
    the month of birth, so ages are exact except within the birth month itself.
    """
    dob = pd.to_datetime(dob)
    when = pd.to_datetime(when)
    if isinstance(when, pd.Timestamp):
        wy, wm, wd = when.year, when.month, when.day
    else:
        wy, wm, wd = when.dt.year, when.dt.month, when.dt.day
    before_birthday = (wm * 100 + wd) < (dob.dt.month * 100 + dob.dt.day)
    age = wy - dob.dt.year - before_birthday.astype("Int64")
    return age.astype("Int64")


def age_at_birthday_in_year(dob: pd.Series, year: int) -> pd.Series:
    """Age reached at the birthday falling in collection year ``year`` (1 Apr - 31 Mar).

    Needs only the month of birth: a birthday in April-December falls in calendar year
    ``year - 1``, one in January-March in ``year``. This is the care leavers' age (OC3).
    """
    dob = pd.to_datetime(dob)
    calendar_year = np.where(dob.dt.month >= 4, year - 1, year)
    return (pd.Series(calendar_year, index=dob.index) - dob.dt.year).astype("Int64")


def looked_after_at(episodes: pd.DataFrame, when: pd.Timestamp) -> pd.DataFrame:
    """Episodes open at the end of day ``when``, short breaks (V3/V4) left out.

    "Looked after at 31 March" means an episode started on or before 31 March and not
    ceased by then: ``DECOM <= when`` and (``DEC`` missing or ``DEC > when``). A child
    whose care ceased *on* 31 March is not looked after at 31 March; one who started on
    31 March is. One row per child (the latest such episode).

    Parameters
    ----------
    episodes : DataFrame
        Annotated episodes (:func:`cpanalysis.histories.annotate_episodes`).
    when : Timestamp
        The date (normally 31 March of the collection year).
    """
    cache = _COHORTS.get()
    if cache is not None:
        key = (id(episodes), pd.Timestamp(when))
        found = cache.get(key)
        if found is not None and found[0] is episodes:
            return found[1]
        at = _looked_after_at(episodes, when)
        cache[key] = (episodes, at)  # holds the frame, so its id is not reused meanwhile
        return at
    return _looked_after_at(episodes, when)


def _looked_after_at(episodes: pd.DataFrame, when: pd.Timestamp) -> pd.DataFrame:
    mask = _started_by(episodes, when) & ~_ended_by(episodes, when, inclusive=True)
    rows = np.flatnonzero(mask & ~episodes["SHORT_BREAK"].to_numpy(dtype=bool))
    # the latest open episode per child, found on the key columns before any other
    # column is touched: the rows are then taken once
    keys = child_keys(episodes)
    repeated = episodes[keys].iloc[rows].duplicated(keep="last").to_numpy(dtype=bool)
    return episodes.iloc[rows[~repeated]]


def _dates(column: pd.Series) -> np.ndarray | pd.Series:
    """A date column as numpy datetime64 when it is one (comparisons then skip pandas)."""
    plain = isinstance(column.dtype, np.dtype) and column.dtype.kind == "M"
    return column.to_numpy() if plain else column


def _started_by(episodes: pd.DataFrame, when: pd.Timestamp) -> np.ndarray:
    """``DECOM <= when`` as a bool array (missing ``DECOM``: False)."""
    decom = _dates(episodes["DECOM"])
    if isinstance(decom, np.ndarray):
        return decom <= np.datetime64(when)
    return (decom <= when).fillna(False).to_numpy(dtype=bool)


def _ended_by(episodes: pd.DataFrame, when: pd.Timestamp, *, inclusive: bool) -> np.ndarray:
    """``DEC <= when`` (``inclusive``) or ``DEC < when`` as a bool array (open: False)."""
    dec = _dates(episodes["DEC"])
    if isinstance(dec, np.ndarray):
        bound = np.datetime64(when)
        return (dec <= bound) if inclusive else (dec < bound)
    ended = (dec <= when) if inclusive else (dec < when)
    return ended.fillna(False).to_numpy(dtype=bool)


def looked_after_during(episodes: pd.DataFrame, year: int) -> pd.DataFrame:
    """Episodes overlapping collection year ``year``, short breaks left out.

    An episode that ended on 1 April (a recorded end) was open that day, so it overlaps the
    year 1 April opens. One whose end is unknown (``DEC_KNOWN`` False: the merge set its
    ``DEC`` to the 1 April after the last 31 March a return showed the child looked after)
    is known only up to that 31 March, so it does not overlap the next year: the child is
    in none of that year's figures (``cpanalysis.merge`` docstring).
    """
    start, end = year_start(year), year_end(year)
    ended = _ended_by(episodes, start, inclusive=False)
    if "DEC_KNOWN" in episodes.columns:
        unknown = ~episodes["DEC_KNOWN"].to_numpy(dtype=bool)
        ended = ended | (unknown & _ended_by(episodes, start, inclusive=True))
    mask = _started_by(episodes, end) & ~ended
    return episodes.loc[mask & ~episodes["SHORT_BREAK"].to_numpy(dtype=bool)]


def in_year(dates: pd.Series, year: int) -> pd.Series:
    """Whether each date falls in collection year ``year`` (1 April - 31 March inclusive)."""
    out = (dates >= year_start(year)) & (dates <= year_end(year))
    return out.fillna(False).astype(bool)


def rows_for_year(table: pd.DataFrame, year: int) -> pd.DataFrame:
    """Rows of a per-year table (OC2, OC3) from the return of collection year ``year``."""
    if table.empty or "YEAR" not in table.columns:
        return table.iloc[0:0]
    return table.loc[(table["YEAR"] == year).fillna(False).to_numpy(dtype=bool)]
