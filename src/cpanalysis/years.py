"""Collection years: reading them from folder and file names, and checking them against dates.

Councils name their returns every way there is: ``2024-25``, ``2024_25``, ``202425``,
``2425``, ``1920``, ``2019/20`` or a bare ``2025``. A *collection year* is always stored as
the year the return **ends** (``2025`` = 2024-25, 1 April 2024 to 31 March 2025).

A bare four-digit year is ambiguous in practice: the DfE and liiatools mean the year ending,
but some tools (the demand model's samples) name a file by the year it *starts*. So a bare
year is only a first guess, and :func:`dates_run_past_year_end` lets the reader check it
against the episode dates in the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "NamedYear",
    "year_from_text",
    "year_start",
    "year_end",
    "collection_year_of",
    "dates_run_past_year_end",
    "STRAY_SHARE",
    "STRAY_MIN",
    "strict_dmy_dates",
    "strict_dmy_array",
]

#: Dates past the year end tolerated as typing errors before a bare year is moved on a year:
#: at most this share of the dated rows ...
STRAY_SHARE = 0.05
#: ... or this many rows, whichever is larger.
STRAY_MIN = 3


@dataclass(frozen=True)
class NamedYear:
    """A collection year read from a name.

    Attributes
    ----------
    year : int
        The collection year (year ending 31 March).
    bare : bool
        True when the name held a single four-digit year (``2025``), which may name the year
        the return starts rather than ends and so should be checked against the dates.
    text : str
        The part of the name the year was read from (for messages).
    """

    year: int
    bare: bool
    text: str


def _consecutive(first: int, second: int) -> bool:
    """True when two-digit ``second`` follows two-digit ``first`` (``99 -> 00`` included)."""
    return (first + 1) % 100 == second % 100


# Order matters: the longest, least ambiguous forms first.
_LONG_PAIR = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*[-_/]\s*(\d{2}|\d{4})(?!\d)")  # 2024-25
_SIX = re.compile(r"(?<!\d)((?:19|20)\d{2})(\d{2})(?!\d)")  # 202425
_SHORT_PAIR = re.compile(r"(?<!\d)(\d{2})\s*[-_/]\s*(\d{2})(?!\d)")  # 24-25
_FOUR = re.compile(r"(?<!\d)(\d{2})(\d{2})(?!\d)")  # 2425, 1920 or a bare 2025


def year_from_text(text: str) -> NamedYear | None:
    """Read a collection year from a folder or file name, or None when it holds none.

    Parameters
    ----------
    text : str
        A file or folder name (``"SSDA903_2024-25_episodes.csv"``), or a label such as
        ``"2019/20"``.

    Returns
    -------
    NamedYear or None
        Pairs (``2024-25``, ``2024_25``, ``202425``, ``24-25``, ``2425``, ``1920``, ``2019/20``)
        give the second year; a bare ``2025`` gives 2025 with ``bare=True``. Four digits that
        are both a pair and a plausible bare year (``2021`` = 20-21 or 2021) are read as bare:
        both readings give 2021, and the bare reading gets the date check.

    Examples
    --------
    >>> year_from_text("2024-25").year, year_from_text("1920").year, year_from_text("2425").year
    (2025, 2020, 2025)
    >>> year_from_text("2017-episodes.csv")
    NamedYear(year=2017, bare=True, text='2017')
    >>> year_from_text("SSDA903 episodes.csv") is None
    True
    """
    for m in _LONG_PAIR.finditer(text):
        first, second = int(m.group(1)), m.group(2)
        second_two = int(second[-2:])
        if _consecutive(first % 100, second_two) and (len(second) == 2 or int(second) == first + 1):
            return NamedYear(first + 1, False, m.group(0))
    for m in _SIX.finditer(text):
        first, second = int(m.group(1)), int(m.group(2))
        if _consecutive(first % 100, second):
            return NamedYear(first + 1, False, m.group(0))
    for m in _SHORT_PAIR.finditer(text):
        first, second = int(m.group(1)), int(m.group(2))
        if _consecutive(first, second):
            return NamedYear(2000 + second, False, m.group(0))
    for m in _FOUR.finditer(text):
        value = int(m.group(0))
        if 1990 <= value <= 2099:
            return NamedYear(value, True, m.group(0))
        first, second = int(m.group(1)), int(m.group(2))
        if _consecutive(first, second):
            return NamedYear(2000 + second, False, m.group(0))
    return None


def year_start(year: int) -> pd.Timestamp:
    """First day of collection ``year``: 1 April of the year before."""
    return pd.Timestamp(year - 1, 4, 1)


def year_end(year: int) -> pd.Timestamp:
    """Last day of collection ``year``: 31 March."""
    return pd.Timestamp(year, 3, 31)


def collection_year_of(dates: pd.Series) -> pd.Series:
    """The collection year each date falls in (``Int64``; missing where the date is).

    1 April 2024 to 31 March 2025 -> 2025.
    """
    dates = pd.to_datetime(dates)
    years = dates.dt.year + (dates.dt.month >= 4).astype("Int64")
    return years.astype("Int64")


def dates_run_past_year_end(dates: pd.Series, year: int) -> bool:
    """True when more than a few stray ``dates`` fall after 31 March of ``year``.

    Used to spot a file named by the year its return *starts*: a 2017 file whose episodes
    begin after 31 March 2017 is the 2017-18 return. A handful of late dates is a typing
    error, not a different year, so the test needs more than ``max(STRAY_MIN, STRAY_SHARE *
    dated rows)`` of them.

    Parameters
    ----------
    dates : Series of datetime64
        Episode start dates (DECOM), review dates or missing-incident start dates.
    year : int
        The collection year the file name suggests.
    """
    dates = pd.Series(dates).dropna()
    if dates.empty:
        return False
    past = int(np.count_nonzero(dates > year_end(year)))
    return past > max(STRAY_MIN, STRAY_SHARE * len(dates))


_DMY = r"^\d{2}/\d{2}/(19|20)\d{2}$"


def strict_dmy_dates(values: pd.Series) -> pd.Series:
    """Dates written exactly ``dd/mm/yyyy`` (years 1900-2099), fast; NaT for anything else.

    The fast path of date reading for millions of episode rows: pyarrow parses the text in
    C++, and a round trip back to text rejects impossible dates (``31/02/2024``), which
    pyarrow would otherwise roll over into March. Everything not matched is left to the
    slower, more forgiving :func:`cpanalysis.cleaning.parse_dates` fallbacks.

    Parameters
    ----------
    values : Series of str
        Text (trimmed), missing allowed.

    Returns
    -------
    Series of datetime64[ns], same index.
    """
    import pyarrow as pa

    text = pa.array(values.astype("string[pyarrow]"))
    return pd.Series(strict_dmy_array(text), index=values.index, dtype="datetime64[ns]")


def strict_dmy_array(text: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """:func:`strict_dmy_dates` on a pyarrow string array: ``datetime64[ns]``, NaT if not a date.

    For callers that already hold the text as arrow (the cleaner), so no pandas round trip.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    shaped = pc.fill_null(pc.match_substring_regex(text, _DMY), False)
    text = pc.if_else(shaped, text, pa.scalar(None, text.type))
    parsed = pc.strptime(text, format="%d/%m/%Y", unit="s", error_is_null=True)
    # pyarrow rolls 31/02 over into March: keep only dates whose day and month are as written
    day = pc.cast(pc.utf8_slice_codeunits(text, 0, 2), pa.int64())
    month = pc.cast(pc.utf8_slice_codeunits(text, 3, 5), pa.int64())
    same = pc.and_(pc.equal(pc.day(parsed), day), pc.equal(pc.month(parsed), month))
    parsed = pc.if_else(pc.fill_null(same, False), parsed, pa.scalar(None, parsed.type))
    return np.asarray(
        parsed.cast(pa.timestamp("ns")).to_numpy(zero_copy_only=False), dtype="datetime64[ns]"
    )
