"""Named cleaning rules: raw string tables -> typed tables, every change on the record.

Each rule is a small function of one column (or one table) that returns the cleaned values
and a mask of the rows it touched; :func:`clean_table` applies them in a fixed order, types
the columns as ``docs/design.md`` Contract 1 says, and tells the
:class:`~cpanalysis.quality.QualityReport` how many rows each rule touched and which ones.
:data:`RULES` lists them with a one-line description for the methodology and data-quality
pages.

Principles
----------
* **Never guess.** A value that cannot be read unambiguously becomes missing and is
  reported: quoted only when it is a code of the schema or two characters at most, else
  named by its shape (``a 6-digit number``, ``a date``; :mod:`cpanalysis.quoting`).
  ``05/13/2020`` is not read as 13 May: councils write dd/mm/yyyy, and a date that only
  parses in US order is more likely a typing error than an American.
* **Harmless variants are accepted and reported**: ``1234.0`` for an ID Excel turned into a
  number, ``1.0`` for the code ``1``, ``m`` for ``M``, ISO dates, Excel serial day numbers,
  ``1``/``2`` for sex in a year that uses ``M``/``F`` (the mapping is one-to-one).
* **No row disappears quietly.** Rows are set aside only by ``required_blank``,
  ``exact_duplicates`` and ``one_row_per_child``, each row by one rule, and the report
  balances rows read against rows kept plus rows set aside.
* Vectorised: each rule is a handful of ``Series.str`` / ``to_datetime`` calls over the
  whole column, with the slower fallbacks run only on the values the fast path missed.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cpanalysis import schema
from cpanalysis.quality import QualityReport
from cpanalysis.quoting import shown_counts
from cpanalysis.readers import ROW, RawTable
from cpanalysis.years import strict_dmy_array

__all__ = [
    "Rule",
    "RULES",
    "clean_table",
    "clean_tables",
    "trim_whitespace",
    "upper_case_codes",
    "id_from_float",
    "normalise_ids",
    "ID_RULES",
    "postcode_format",
    "parse_dates",
    "date_zz",
    "impossible_dates",
    "sex_code_mapped",
    "code_in_list",
    "int_range",
    "flag_values",
    "required_blank",
    "exact_duplicates",
    "one_row_per_child",
    "spec_for",
    "flag_born_after_entering_care",
]


@dataclass(frozen=True)
class Rule:
    """A named cleaning rule, as listed on the methodology and data-quality pages.

    Attributes
    ----------
    name : str
        The rule's name, as in the quality report (``"parse_dates"``).
    description : str
        One line saying what the rule does.
    action : str
        ``"changed"`` (values repaired or blanked, row kept) or ``"set aside"``.
    """

    name: str
    description: str
    action: str


_CHANGED, _ASIDE = "changed", "set aside"
RULES: list[Rule] = [
    Rule(
        "trim_whitespace", "Spaces around a value are removed; a blank cell is missing.", _CHANGED
    ),
    Rule(
        "upper_case_codes", "Codes are upper-cased (t3 -> T3), as the DfE validator does.", _CHANGED
    ),
    Rule(
        "id_invisible_characters",
        "Invisible characters in an ID (a NUL, a byte-order mark, zero-width spaces) are removed.",
        _CHANGED,
    ),
    Rule(
        "id_from_float",
        "An ID Excel made a number (1234.0, 1.00168E+5) is read as the whole number; one whose "
        "digits Excel lost (1.23457E+8) is made missing.",
        _CHANGED,
    ),
    Rule(
        "id_leading_zeros",
        "Leading zeros of a child ID are removed (00123 and 123 are one child: Excel drops them).",
        _CHANGED,
    ),
    Rule("postcode_format", "Postcodes are upper-cased with single spaces.", _CHANGED),
    Rule(
        "parse_dates",
        "Dates are read as dd/mm/yyyy; ISO yyyy-mm-dd, Excel day numbers, d/m/yyyy and dd/mm/yy "
        "are accepted and reported; anything else (including US mm/dd order) is made missing.",
        _CHANGED,
    ),
    Rule(
        "impossible_dates",
        "A date of birth more than 30 years before the end of the return's year or after it, "
        "and an episode start after it or before 14/10/1991, are impossible: made missing "
        "(an episode without its start is then set aside).",
        _CHANGED,
    ),
    Rule(
        "born_after_entering_care",
        "An episode starting before the child's date of birth is flagged (kept: which of the "
        "two dates is wrong cannot be told).",
        "flagged",
    ),
    Rule(
        "date_zz",
        "A ZZ day or month in DATE_PERM (allowed by the DfE) is read as the 1st / January.",
        _CHANGED,
    ),
    Rule(
        "sex_code_mapped",
        "Sex sent in the other generation's codes (1/2 vs M/F) is mapped to that year's code.",
        _CHANGED,
    ),
    Rule(
        "code_in_list",
        "Codes are checked against that year's code list; 1.0 is read as 1; any other invalid "
        "code is made missing and reported with its value, never guessed.",
        _CHANGED,
    ),
    Rule(
        "int_range",
        "Whole numbers are checked against their range (SDQ score 0-40); others made missing.",
        _CHANGED,
    ),
    Rule(
        "flag_values",
        "Yes/no flags must be 0 or 1 (1.0 and 0.0 accepted); others are made missing.",
        _CHANGED,
    ),
    Rule(
        "required_blank",
        "A row missing a key field (an episode with no CHILD or DECOM) is set aside; other "
        "required fields left blank are reported and the row kept.",
        _ASIDE,
    ),
    Rule("exact_duplicates", "A row identical to an earlier row of its file is set aside.", _ASIDE),
    Rule(
        "one_row_per_child",
        "In Header, UASC, AD1, PrevPerm, OC2 and OC3, a child with several rows keeps the most "
        "complete row (most filled cells, then the last); the others are set aside.",
        _ASIDE,
    ),
]

#: The Excel day numbers accepted as dates: 1 Jan 1950 to 31 Dec 2099 (days since 1899-12-30).
EXCEL_SERIAL_RANGE = (18264, 73050)
EXCEL_EPOCH = pd.Timestamp("1899-12-30")

_FLOAT_ID = re.compile(r"^(\d+)\.0+$")


# --------------------------------------------------------------------------- value rules
#: The text type every value rule works in: pyarrow-backed strings (fast ``.str`` methods)
#: with ``pd.NA`` for missing.
TEXT = pd.StringDtype("pyarrow")

# Each rule has an arrow kernel (``_k_<rule>``) that takes and returns pyarrow string arrays
# and numpy bool masks; :func:`clean_table` chains the kernels over a column without a
# pandas round trip per rule, and the public ``Series`` functions wrap the same kernels.


def _text(values: pd.Series) -> pd.Series:
    """Values as :data:`TEXT` (a no-op when they already are)."""
    return values if values.dtype == TEXT else values.astype(TEXT)


def _arrow(values: pd.Series) -> pa.Array:
    """Values as one pyarrow string array (nulls for missing)."""
    return pa.array(_text(values))


def _series(text: pa.Array, index: pd.Index) -> pd.Series:
    """A pyarrow string array as a :data:`TEXT` Series."""
    return pd.Series(pd.arrays.ArrowStringArray(text), index=index)


def _np(mask: pa.Array) -> np.ndarray:
    """An arrow boolean array as a numpy bool array, null -> False."""
    return np.asarray(pc.fill_null(mask, False).to_numpy(zero_copy_only=False), dtype=bool)


def _null(text: pa.Array) -> pa.Scalar:
    return pa.scalar(None, text.type)


def _bool(mask: pd.Series) -> pd.Series:
    """A nullable boolean mask as plain bool, missing -> False."""
    return mask.fillna(False).astype(bool)


def _lengths(text: pa.Array) -> np.ndarray:
    """Byte length of each cell; -1 for a missing cell."""
    return np.asarray(pc.fill_null(pc.binary_length(text), -1).to_numpy(), dtype=np.int64)


def _k_trim(text: pa.Array) -> tuple[pa.Array, np.ndarray]:
    # Trimming only ever shortens a cell, so lengths tell what changed (cheaper than
    # comparing the text); a cell left empty becomes missing, uncounted.
    stripped = pc.utf8_trim_whitespace(text)
    before, after = _lengths(text), _lengths(stripped)
    blank = after == 0
    if blank.any():
        stripped = pc.if_else(blank, _null(stripped), stripped)
    return stripped, (before != after) & (after > 0)


def _k_upper(text: pa.Array) -> tuple[pa.Array, np.ndarray]:
    upper = pc.utf8_upper(text)
    return upper, _np(pc.not_equal(upper, text))


def _k_id_from_float(text: pa.Array) -> tuple[pa.Array, np.ndarray]:
    changed = _np(pc.match_substring_regex(text, _FLOAT_ID.pattern))
    if changed.any():  # the replace only on the few values that need it
        fixed = pc.replace_substring_regex(text, r"\.0+$", "")
        text = pc.if_else(changed, fixed, text)
    return text, changed


#: Characters no ID holds and no reader shows: control characters (a NUL), a byte-order
#: mark, zero-width spaces and joiners.
_INVISIBLE = r"[\x00-\x1f\x7f\x{feff}\x{200b}-\x{200d}\x{2060}]"
#: Excel's scientific notation of a whole number: ``1.00168E+5`` (or ``E+05``).
_EXPONENT = r"^(?P<lead>\d)(?:\.(?P<frac>\d+))?[eE]\+?(?P<exp>\d{1,2})$"

#: What :func:`normalise_ids` does, by quality-report rule: (mask key, reason).
ID_RULES = {
    "invisible": ("id_invisible_characters", "invisible character (NUL, BOM, zero-width) removed"),
    "float": ("id_from_float", "number with .0 (from Excel) read as a whole ID"),
    "exponent": ("id_from_float", "Excel's 1.2E+5 notation with every digit shown, read in full"),
    "lost_digits": (
        "id_from_float",
        "Excel's 1.2E+5 notation with digits lost: the ID cannot be known, made missing",
    ),
    "leading_zeros": ("id_leading_zeros", "leading zeros removed (00123 is the child 123)"),
}


def _k_id_values(text: pa.Array, child: bool) -> tuple[pa.Array, dict[str, np.ndarray]]:
    """:func:`normalise_ids` on distinct values (an ID repeats over a child's rows)."""
    masks: dict[str, np.ndarray] = {}
    invisible = _np(pc.match_substring_regex(text, _INVISIBLE))
    masks["invisible"] = invisible
    if invisible.any():
        cleaned = pc.utf8_trim_whitespace(pc.replace_substring_regex(text, _INVISIBLE, ""))
        cleaned = pc.if_else(pc.equal(cleaned, ""), _null(text), cleaned)
        text = pc.if_else(invisible, cleaned, text)
    text, masks["float"] = _k_id_from_float(text)
    exponent = np.zeros(len(text), dtype=bool)
    lost = np.zeros(len(text), dtype=bool)
    maybe = _np(pc.match_substring(text, "E", ignore_case=True))
    if maybe.any():
        parts = pc.extract_regex(text, _EXPONENT)
        shaped = _np(pc.is_valid(parts)) & maybe
        if shaped.any():
            frac = pc.struct_field(parts, "frac")
            power = pc.cast(pc.if_else(shaped, pc.struct_field(parts, "exp"), "0"), pa.int64())
            whole = _np(pc.equal(pc.utf8_length(frac), power))
            exponent, lost = shaped & whole, shaped & ~whole
            digits = pc.binary_join_element_wise(
                pc.struct_field(parts, "lead"), frac, pa.scalar("", text.type)
            )
            text = pc.if_else(exponent, digits, text)
            if lost.any():
                text = pc.if_else(lost, _null(text), text)
    masks["exponent"], masks["lost_digits"] = exponent, lost
    zeros = np.zeros(len(text), dtype=bool)
    if child:
        zeros = _np(pc.match_substring_regex(text, r"^0\d+$"))
        if zeros.any():
            text = pc.if_else(zeros, pc.replace_substring_regex(text, r"^0+(\d)", r"\1"), text)
    masks["leading_zeros"] = zeros
    return text, masks


def _k_ids(text: pa.Array, child: bool) -> tuple[pa.Array, dict[str, np.ndarray]]:
    """:func:`normalise_ids` as a kernel. Almost every ID is plain letters and digits (not
    starting with 0, for a child's): one cheap test finds them, and the rules run on the
    few others only."""
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    masks = {kind: np.zeros(len(text), dtype=bool) for kind in ID_RULES}
    plain = pc.utf8_is_alnum(text)
    if child:
        plain = pc.and_(plain, pc.invert(pc.starts_with(text, "0")))
    todo = ~_np(plain) & _np(pc.is_valid(text))
    if not todo.any():
        return text, masks
    fixed, found = _k_id_values(pc.filter(text, pa.array(todo)), child)
    for kind, mask in found.items():
        masks[kind][todo] = mask
    if any(mask.any() for mask in found.values()):
        text = pc.replace_with_mask(text, pa.array(todo), fixed.cast(text.type))
    return text, masks


def normalise_ids(
    values: pd.Series, *, child: bool = True
) -> tuple[pd.Series, dict[str, pd.Series]]:
    """One spelling per ID, however Excel or an export mangled it.

    The same child must not become two children because one file wrote ``\ufeff100168``
    (a byte-order mark), ``100168\x00`` (a NUL), ``00100168``, ``100168.0`` or
    ``1.00168E+5``. Applied to every ID column of every table (leading zeros only to
    ``CHILD``, ``child=True``), so every table and year agree; each change is counted in the
    quality report under :data:`ID_RULES`. Excel's exponent notation is read only when
    every digit is shown (``1.00168E+5``); ``1.23457E+8`` has lost digits and is made
    missing, never guessed.

    Returns
    -------
    ids : Series of str
        The normalised IDs (NA where none can be known).
    masks : dict[str, Series of bool]
        ``invisible``, ``float``, ``exponent``, ``lost_digits``, ``leading_zeros``.
    """
    text, masks = _k_ids(_arrow(values), child)
    return _series(text, values.index), {k: _mask(m, values.index) for k, m in masks.items()}


def _k_postcode(text: pa.Array) -> tuple[pa.Array, np.ndarray]:
    tidy = pc.utf8_upper(text)
    spaced = _np(pc.match_substring_regex(tidy, r"\s\s|[\t\r\n]"))
    if spaced.any():
        tidy = pc.if_else(spaced, pc.replace_substring_regex(tidy, r"\s+", " "), tidy)
    return tidy, _np(pc.not_equal(tidy, text))


def _k_date_zz(text: pa.Array) -> tuple[pa.Array, np.ndarray]:
    upper = pc.utf8_upper(text)
    changed = _np(pc.match_substring(upper, "ZZ"))
    if changed.any():
        fixed = pc.replace_substring_regex(upper, r"^ZZ/", "01/")
        fixed = pc.replace_substring_regex(fixed, r"^(\d{1,2})/ZZ/", r"\1/01/")
        text = pc.if_else(changed, fixed, text)
    return text, changed


def _k_sex(text: pa.Array, valid: dict[str, str]) -> tuple[pa.Array, np.ndarray]:
    mapping = _SEX_TO_LETTER if "M" in valid else _SEX_TO_NUMBER
    keys = pa.array(list(mapping), type=text.type)
    changed = ~_np(pc.is_in(text, value_set=pa.array(list(valid), type=text.type)))
    changed &= _np(pc.is_in(text, value_set=keys))
    if changed.any():
        mapped = pa.array(list(mapping.values()), type=text.type).take(
            pc.index_in(text, value_set=keys)
        )
        text = pc.if_else(changed, mapped, text)
    return text, changed


def _k_codes(text: pa.Array, valid: dict[str, str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Category codes (index into ``list(valid)``, -1 = missing), repaired and invalid masks."""
    codes = pa.array(list(valid), type=text.type)
    index = pc.index_in(text, value_set=codes)
    rest = _np(pc.and_(pc.is_valid(text), pc.is_null(index)))
    repaired = np.zeros(len(text), dtype=bool)
    if rest.any():  # the few values not already valid: try the x.0 spelling
        numeric = pc.if_else(
            pc.match_substring_regex(text, _FLOAT_ID.pattern),
            pc.replace_substring_regex(text, r"\.0+$", ""),
            _null(text),
        )
        numeric_index = pc.index_in(numeric, value_set=codes)
        repaired = rest & _np(pc.is_valid(numeric_index))
        index = pc.if_else(repaired, numeric_index, index)
    invalid = rest & ~repaired
    return np.asarray(pc.fill_null(index, -1).to_numpy(), dtype=np.int32), repaired, invalid


def _k_flags(text: pa.Array) -> tuple[pd.arrays.IntegerArray, np.ndarray, np.ndarray]:
    one = _np(pc.is_in(text, value_set=pa.array(["1", "1.0"], type=text.type)))
    zero = _np(pc.is_in(text, value_set=pa.array(["0", "0.0"], type=text.type)))
    flags = pd.arrays.IntegerArray(one.astype(np.int64), ~(one | zero))
    repaired = _np(pc.is_in(text, value_set=pa.array(["0.0", "1.0"], type=text.type)))
    invalid = _np(pc.is_valid(text)) & ~one & ~zero
    return flags, repaired, invalid


def _mask(mask: np.ndarray, index: pd.Index) -> pd.Series:
    return pd.Series(mask, index=index, dtype=bool)


def trim_whitespace(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Remove spaces around values; whitespace-only cells become missing.

    Returns the trimmed text and a mask of the non-blank cells that changed (surrounding
    spaces removed). A cell of spaces only becomes missing without being counted: the
    reader already treats it as blank.
    """
    text, changed = _k_trim(_arrow(values))
    return _series(text, values.index), _mask(changed, values.index)


def upper_case_codes(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Upper-case codes (``t3`` -> ``T3``); mask of cells that changed."""
    text, changed = _k_upper(_arrow(values))
    return _series(text, values.index), _mask(changed, values.index)


def id_from_float(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """``1234.0`` -> ``1234``: an ID that Excel stored as a number.

    Only a run of digits followed by ``.0`` is repaired; ``12.5`` or ``A12.0`` are left as
    they are (not a number Excel made, so not ours to change).
    """
    text, changed = _k_id_from_float(_arrow(values))
    return _series(text, values.index), _mask(changed, values.index)


def postcode_format(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Upper-case postcodes and collapse inner spaces (``ab1  2cd`` -> ``AB1 2CD``)."""
    text, changed = _k_postcode(_arrow(values))
    return _series(text, values.index), _mask(changed, values.index)


def _two_digit_century(yy: pd.Series, year: int) -> pd.Series:
    """``yy`` -> four-digit year: above the collection year's last two digits means 19yy."""
    yy = yy.astype("int64")
    return pd.Series(np.where(yy > year % 100, 1900 + yy, 2000 + yy), index=yy.index)


def _fallback_dates(text: pd.Series, year: int) -> pd.Series:
    """The slower readings, for the few values that are not plain dd/mm/yyyy."""
    # Drop an Excel time, unify d/m/y separators.
    rest = text.str.replace(r"[ T]00:00(:00(\.0+)?)?$", "", regex=True)
    dmy = rest.str.replace(r"^(\d{1,2})[-.](\d{1,2})[-.](\d{2,4})$", r"\1/\2/\3", regex=True)
    found = pd.to_datetime(dmy, format="%d/%m/%Y", errors="coerce")
    iso = pd.to_datetime(rest, format="%Y-%m-%d", errors="coerce")
    found = found.fillna(iso)
    numeric = pd.to_numeric(rest, errors="coerce")
    lo, hi = EXCEL_SERIAL_RANGE
    serial_ok = numeric.between(lo, hi) & (numeric == np.floor(numeric))
    serial = EXCEL_EPOCH + pd.to_timedelta(numeric.where(serial_ok), unit="D")
    found = found.fillna(serial)
    parts = dmy.str.extract(r"^(\d{1,2})/(\d{1,2})/(\d{2})$").dropna()
    if not parts.empty:
        yyyy = _two_digit_century(parts[2], year).astype(str)
        rebuilt = parts[0].astype(str) + "/" + parts[1].astype(str) + "/" + yyyy
        short = pd.to_datetime(rebuilt, format="%d/%m/%Y", errors="coerce")
        found = found.fillna(short.reindex(found.index))
    return found.astype("datetime64[ns]")


def _k_dates(text: pa.Array, year: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    # A return repeats a few thousand distinct dates over hundreds of thousands of cells:
    # each distinct text is read once and the results spread back.
    encoded = pc.dictionary_encode(text)
    if len(encoded.dictionary) * 2 > len(text):
        return _k_distinct_dates(text, year)
    at = np.asarray(pc.fill_null(encoded.indices, -1).to_numpy(), dtype=np.int64)
    dates, variant, unreadable = _k_distinct_dates(encoded.dictionary, year)
    return (
        np.append(dates, np.datetime64("NaT", "ns"))[at],
        np.append(variant, False)[at],
        np.append(unreadable, False)[at],
    )


def _k_distinct_dates(text: pa.Array, year: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Dates of ``text``; masks of the cells read another way than dd/mm/yyyy and of the
    cells that are not dates at all."""
    present = _np(pc.is_valid(text))
    dates = strict_dmy_array(text)
    standard = ~np.isnat(dates)
    todo = present & ~standard
    if todo.any():
        rest = _series(pc.filter(text, todo), pd.RangeIndex(int(todo.sum())))
        dates[todo] = _fallback_dates(rest, year).to_numpy(dtype="datetime64[ns]")
    found = ~np.isnat(dates)
    return dates, present & found & ~standard, present & ~found


def parse_dates(values: pd.Series, year: int) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Read dates: dd/mm/yyyy first, then the harmless variants councils send.

    Accepted, in order: ``dd/mm/yyyy`` (also ``d/m/yyyy``, ``-`` or ``.`` separators, and a
    ``00:00:00`` time part as Excel writes); ISO ``yyyy-mm-dd``; Excel serial day numbers
    (days since 30 Dec 1899, only 1950-2099, ``EXCEL_SERIAL_RANGE``); ``dd/mm/yy`` with the
    century from the collection year (``yy`` above its last two digits -> 19yy: in 2024-25
    ``26`` -> 1926, ``25`` -> 2025). US order (``05/13/2020``) is never tried.

    The plain ``dd/mm/yyyy`` values are parsed in one pass (pyarrow); the slower readings
    run only on the values that pass missed.

    Parameters
    ----------
    values : Series of str
        Trimmed text, NA for blank.
    year : int
        Collection year (for the two-digit-year pivot).

    Returns
    -------
    dates : Series of datetime64[ns]
        NaT where blank or unreadable.
    variant : Series of bool
        Read, but not written dd/mm/yyyy (reported so a council can fix its export).
    unreadable : Series of bool
        Not blank and not a date: made missing.
    """
    dates, variant, unreadable = _k_dates(_arrow(values), year)
    index = values.index
    return (
        pd.Series(dates, index=index, dtype="datetime64[ns]"),
        _mask(variant, index),
        _mask(unreadable, index),
    )


#: The 1989 Children Act came into force on 14 October 1991: no episode starts before it
#: (DfE validator rule 353).
CHILDREN_ACT = np.datetime64("1991-10-14", "ns")
#: Columns whose impossible dates are made missing: (oldest age or earliest date, reason).
IMPOSSIBLE_DATES = {
    "DOB": "a date of birth more than 30 years before the end of the return's year, or "
    "after it: impossible, made missing",
    "DECOM": "an episode starting after the end of the return's year, or before the "
    "Children Act 1989 came into force (14/10/1991): impossible, made missing (the row is "
    "then set aside)",
}


def impossible_dates(
    dates: np.ndarray, column: str, year: int
) -> tuple[np.ndarray, np.ndarray, str]:
    """Dates no return can hold, made missing rather than published as a child's age or start.

    A date of birth in 1900 makes a 125-year-old child, one in 2099 a child not yet born;
    an episode starting in 2099 is in no year's figures. Such dates are typing errors; kept,
    they would move a child into the wrong age band or out of the figures silently.

    Parameters
    ----------
    dates : ndarray of datetime64[ns]
        The column as parsed (NaT for missing).
    column : str
        ``"DOB"`` or ``"DECOM"`` (:data:`IMPOSSIBLE_DATES`).
    year : int
        Collection year of the return: its end (31 March) is the latest possible date;
        a date of birth may be at most 30 years before it (care leavers are at most 25).

    Returns
    -------
    dates : ndarray
        With impossible dates made NaT.
    impossible : ndarray of bool
        The cells made missing.
    reason : str
        The quality report's reason.
    """
    end = np.datetime64(f"{year}-03-31", "ns")
    earliest = np.datetime64(f"{year - 30}-04-01", "ns") if column == "DOB" else CHILDREN_ACT
    known = ~np.isnat(dates)
    impossible = known & ((dates > end) | (dates < earliest))
    if impossible.any():
        dates = dates.copy()
        dates[impossible] = np.datetime64("NaT", "ns")
    return dates, impossible, IMPOSSIBLE_DATES[column]


def date_zz(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """PrevPerm ``DATE_PERM``: a ``ZZ`` day or month (unknown, allowed by the DfE) -> 01.

    ``ZZ/ZZ/2015`` -> ``01/01/2015``; ``ZZ/06/2015`` -> ``01/06/2015``. Returns text for
    :func:`parse_dates` and the mask of values repaired.
    """
    text, changed = _k_date_zz(_arrow(values))
    return _series(text, values.index), _mask(changed, values.index)


_SEX_TO_LETTER = {"1": "M", "2": "F", "1.0": "M", "2.0": "F", "MALE": "M", "FEMALE": "F"}
_SEX_TO_NUMBER = {"M": "1", "F": "2", "MALE": "1", "FEMALE": "2", "1.0": "1", "2.0": "2"}


def sex_code_mapped(values: pd.Series, valid: dict[str, str]) -> tuple[pd.Series, pd.Series]:
    """Map sex codes of the other generation to this year's (1/2 up to 2023-24, M/F/U after).

    A council often sends last year's codes; ``1``/``M`` and ``2``/``F`` mean the same, so
    the mapping is unambiguous (``MALE``/``FEMALE`` too). ``U`` has no numeric twin and is
    left for :func:`code_in_list` to reject in years before 2024-25.

    Parameters
    ----------
    values : Series of str
        Upper-cased sex codes.
    valid : dict
        This year's sex code list (``schema.code_list("sex", year)``).
    """
    text, changed = _k_sex(_arrow(values), valid)
    return _series(text, values.index), _mask(changed, values.index)


def code_in_list(
    values: pd.Series, valid: dict[str, str]
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Check codes against that year's list: ``1.0`` -> ``1``; anything else invalid -> missing.

    Only the harmless numeric spelling is repaired. ``01`` is *not* read as ``0`` or ``1``
    (ACCOM ``01`` could mean either), and no code is matched to a "nearest" valid one.

    Returns
    -------
    codes : Series of str
        Valid codes, NA where blank or invalid.
    repaired : Series of bool
        ``x.0`` read as ``x``.
    invalid : Series of bool
        Not blank and not a code of that year: made missing.
    """
    text = _arrow(values)
    index, repaired, invalid = _k_codes(text, valid)
    codes = pa.array(list(valid), type=text.type).take(pa.array(index, mask=index < 0))
    index_ = values.index
    return _series(codes, index_), _mask(repaired, index_), _mask(invalid, index_)


def int_range(
    values: pd.Series, minimum: int | None, maximum: int | None
) -> tuple[pd.Series, pd.Series]:
    """Whole numbers within ``[minimum, maximum]`` (``12.0`` accepted); others -> missing.

    Returns the ``Int64`` values and the mask of non-blank values made missing.
    """
    text = _text(values)
    numbers = pd.to_numeric(text, errors="coerce").astype("float64")
    ok = _bool(numbers.notna() & (numbers == np.floor(numbers)))
    if minimum is not None:
        ok &= numbers >= minimum
    if maximum is not None:
        ok &= numbers <= maximum
    invalid = _bool(text.notna()) & ~ok
    return numbers.where(ok).astype("Int64"), invalid


def flag_values(values: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Yes/no flags: ``0``/``1`` (and ``0.0``/``1.0``, reported); anything else -> missing.

    ``Y``/``N``, ``TRUE``/``FALSE`` are *not* accepted: the DfE specifies 0/1, and our XLSX
    reader already turns Excel's own booleans into 1/0, so a text Y/N is hand-typed and
    worth a council's attention.

    Returns
    -------
    flags : Series of Int64
    repaired : Series of bool
        ``1.0`` read as ``1``.
    invalid : Series of bool
        Not blank and not a flag: made missing.
    """
    flags, repaired, invalid = _k_flags(_arrow(values))
    index = values.index
    return pd.Series(flags, index=index), _mask(repaired, index), _mask(invalid, index)


# --------------------------------------------------------------------------- row rules
def _group_codes(values: object) -> tuple[np.ndarray, int]:
    """Integer codes of a column's values (equal values, equal codes; missing -> -1) and how
    many distinct codes there are, for finding equal rows without comparing the values."""
    if isinstance(values, pd.arrays.ArrowStringArray):
        values = pa.array(values)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if isinstance(values, pa.Array):
        encoded = pc.dictionary_encode(values)
        codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False)
        return np.asarray(codes, dtype=np.int64), len(encoded.dictionary)
    if isinstance(values, pd.Categorical):
        return values.codes.astype(np.int64), len(values.categories)
    codes, uniques = pd.factorize(values)
    return codes.astype(np.int64, copy=False), len(uniques)


def _take(values: object, positions: np.ndarray) -> object:
    """The values of a typed column (numpy or pandas array) at ``positions``."""
    return values[positions] if isinstance(values, np.ndarray) else values.take(positions)


def _duplicate_rows(
    columns: list[Callable[[np.ndarray], tuple[np.ndarray, int]]], n: int
) -> np.ndarray:
    """True for each of ``n`` rows equal, on every column, to an earlier row.

    ``columns`` each give a column's integer codes (missing -1) and their number, for the
    rows at the positions asked. The columns are looked at in turn, and rows whose values
    so far are shared by no other row leave the search: they can be neither a duplicate
    nor the first of one. Put first, a column that tells rows apart (the child's ID, a
    date) spares encoding the other columns for almost every row.
    """
    duplicate = np.zeros(n, dtype=bool)
    candidates = np.arange(n)
    key = np.zeros(n, dtype=np.int64)
    for codes_at in columns:
        if candidates.size == 0:
            return duplicate
        codes, size = codes_at(candidates)
        key = key * (size + 1) + (codes + 1)  # -1 (missing) -> 0
        key, _ = pd.factorize(key)  # dense, numbered in order of first appearance
        shared = np.bincount(key)[key] > 1
        candidates, key = candidates[shared], key[shared]
    if candidates.size:
        # Numbers rise at each group's first row (leaving whole groups out keeps that).
        seen = np.maximum.accumulate(key)
        first = np.r_[True, key[1:] > seen[:-1]]
        duplicate[candidates[~first]] = True
    return duplicate


def _not_most_complete(child: np.ndarray, filled: np.ndarray) -> np.ndarray:
    """True for each row but the one kept per child: most ``filled``, then the last."""
    position = np.arange(len(child))
    order = np.lexsort((position, filled, child))
    grouped = child[order]
    last = np.ones(len(order), dtype=bool)
    last[:-1] = grouped[1:] != grouped[:-1]
    extra = np.ones(len(child), dtype=bool)
    extra[order[last]] = False
    return extra


def required_blank(frame: pd.DataFrame, key_columns: list[str]) -> pd.Series:
    """Rows that cannot be used because a key field is blank after cleaning.

    Parameters
    ----------
    frame : DataFrame
        Cleaned table.
    key_columns : list of str
        Columns identifying a row (``CHILD`` and the table's key, e.g. ``DECOM`` for episodes).

    Returns
    -------
    Series of bool
        True where any key column is missing (set these rows aside).
    """
    blank = np.zeros(len(frame), dtype=bool)
    for name in key_columns:
        blank |= frame[name].isna().to_numpy()
    return pd.Series(blank, index=frame.index)


def exact_duplicates(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    """Rows identical (on ``columns``, after cleaning) to an earlier row: True = set aside."""
    codes = [
        lambda at, values=frame[name].array: _group_codes(_take(values, at)) for name in columns
    ]
    return pd.Series(_duplicate_rows(codes, len(frame)), index=frame.index)


def one_row_per_child(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    """Extra rows of a child in a one-row-per-child table: True = set aside.

    The row kept for each ``CHILD`` is the most complete (most non-missing cells among
    ``columns``), and among equally complete rows the last in the file, on the view that a
    later line is a correction.
    """
    filled = np.zeros(len(frame), dtype=np.int64)
    for name in columns:
        filled += frame[name].notna().to_numpy()
    child, _ = _group_codes(frame["CHILD"].array)
    return pd.Series(_not_most_complete(child, filled), index=frame.index)


# --------------------------------------------------------------------------- table
def spec_for(table: str, year: int) -> schema.TableSpec:
    """The table's spec in ``year``, or in the nearest year that collected it.

    A social-worker episodes file sent with a 2022-23 return is read with 2023-24's columns
    (the reader notes it) rather than rejected.
    """
    try:
        return schema.table_spec(table, year)
    except KeyError:
        years = [y for y in schema.collection_years() if table in schema.table_specs(y)]
        nearest = min(years, key=lambda y: abs(y - year))
        return schema.table_spec(table, nearest)


def _shown(counts: pd.Series, limit: int = 5) -> str:
    """Value counts as the report shows them: ``'H5' (2), a 6-digit number (1)`` and how
    many more. Only codes of the schema and values of two characters are quoted
    (:mod:`cpanalysis.quoting` states the rule); others are named by their shape."""
    return shown_counts(counts, limit)


@functools.cache
def _code_years(table: str, column: str) -> dict[str, tuple[int, ...]]:
    """Each code of ``table.column`` in any year -> the collection years that list it."""
    years: dict[str, list[int]] = {}
    for year in schema.collection_years():
        spec = schema.table_specs(year).get(table)
        if spec is None or column not in spec.columns:
            continue
        for code in spec.columns[column].codes or {}:
            years.setdefault(code, []).append(year)
    return {code: tuple(found) for code, found in years.items()}


def _year_span(years: tuple[int, ...]) -> str:
    """``(2017, 2018, 2019)`` -> ``"2016-17 to 2018-19"`` (runs of years joined by "and")."""
    runs: list[list[int]] = []
    for year in years:
        if runs and year == runs[-1][-1] + 1:
            runs[-1].append(year)
        else:
            runs.append([year])
    return " and ".join(
        schema.year_label(run[0])
        if len(run) == 1
        else f"{schema.year_label(run[0])} to {schema.year_label(run[-1])}"
        for run in runs
    )


def _valid_in_other_years(table: str, column: str, codes: pd.Index) -> str:
    """For invalid ``codes`` (commonest first) that other years' returns use, say which
    years: the commonest cause is a return filed under the wrong year, or a code used
    before its time."""
    years = _code_years(table, column)
    by_span: dict[str, list[str]] = {}
    for code in codes:
        if code in years:
            by_span.setdefault(_year_span(years[code]), []).append(code)
    known = [
        f"{codes[0]} is valid only in {span}"
        if len(codes) == 1
        else f"{', '.join(codes[:-1])} and {codes[-1]} are valid only in {span}"
        for span, codes in by_span.items()
    ]
    return f" ({'; '.join(known)})" if known else ""


def _string(text: pa.Array) -> pd.api.extensions.ExtensionArray:
    """A pyarrow string array as pandas ``string`` (no copy when that is arrow-backed)."""
    array = pd.arrays.ArrowStringArray(text)
    return array if array.dtype == pd.StringDtype() else array.astype("string")


@functools.cache
def _category_type(codes: tuple[str, ...]) -> pd.CategoricalDtype:
    return pd.CategoricalDtype(list(codes))


def _categories(valid: dict[str, str]) -> pd.CategoricalDtype:
    """The category type of a code list (made once per list)."""
    return _category_type(tuple(valid))


def _arrow_column(raw: RawTable, name: str) -> pa.Array:
    """A raw column as one pyarrow text array; an absent column is all null."""
    if name not in raw.data.column_names:
        return pa.nulls(len(raw), pa.large_string())
    text = raw.data.column(name)
    return text.combine_chunks() if text.num_chunks != 1 else text.chunk(0)


def _per_file(values: list[str | None], file_of: np.ndarray) -> pd.Categorical:
    """One value per file, spread over the rows of each file, as ``category`` (None -> NA)."""
    codes, uniques = pd.factorize(pd.Series(values, dtype="object"), use_na_sentinel=True)
    dtype = pd.CategoricalDtype(list(uniques))
    return pd.Categorical.from_codes(codes[file_of], dtype=dtype, validate=False)


def _batched(kernel: object, arrays: list[pa.Array], *args: object) -> list[tuple]:
    """``kernel`` (elementwise, returning a tuple of arrays) run once over several columns of
    one length, concatenated; its results split back per column."""
    if len(arrays) < 2:
        return [kernel(a, *args) for a in arrays]
    n = len(arrays[0])
    result = kernel(pa.concat_arrays(arrays), *args)
    return [
        tuple(
            r.slice(i * n, n) if isinstance(r, pa.Array) else r[i * n : (i + 1) * n] for r in result
        )
        for i in range(len(arrays))
    ]


def clean_table(raw: RawTable, report: QualityReport) -> pd.DataFrame:
    """Apply the cleaning rules to one raw table and type its columns.

    Parameters
    ----------
    raw : RawTable
        From :func:`cpanalysis.readers.read_returns`: string cells, DfE columns, ``_row``.
    report : QualityReport
        Receives rows read, every value changed and every row set aside, by rule.

    Returns
    -------
    DataFrame
        The table's schema columns for ``raw.year`` in DfE order, typed as Contract 1 says
        (dates ``datetime64[ns]``; codes ``category`` of str with that year's codes as
        categories; flags and ints ``Int64``; ids and postcodes ``string``), plus ``YEAR``
        (int64), ``LA`` (category, NA when the folder named no council), ``_source`` (category)
        and ``_row`` (int64). Rows set aside are removed; the index is reset.

    Notes
    -----
    Each column is taken out as one pyarrow array and the rules' kernels run on it in turn,
    with masks as numpy arrays; the values a rule names in its reason are only gathered
    when the rule fired.
    """
    return clean_tables([raw], report)


def clean_tables(raws: list[RawTable], report: QualityReport) -> pd.DataFrame:
    """:func:`clean_table` of several files of one table and one collection year, at once.

    The result is the files' cleaned frames one after the other (in the order given), and
    the report receives exactly what one :func:`clean_table` call per file would give it:
    every finding is recorded per source file, duplicates and a child's extra rows are
    looked for within each file only. A national run reads thousands of small files; one
    call per (table, year) pays the fixed cost of the kernels once instead of per file.

    Parameters
    ----------
    raws : list of RawTable
        Tables of the same ``table`` and ``year`` (any councils).
    report : QualityReport
        As :func:`clean_table`.

    Returns
    -------
    DataFrame
        As :func:`clean_table`, the rows of each file in turn.
    """
    if not raws:
        raise ValueError("clean_tables needs at least one table")
    table, year = raws[0].table, raws[0].year
    if any(r.table != table or r.year != year for r in raws):
        raise ValueError("clean_tables cleans files of one table and one collection year")
    spec = spec_for(table, year)
    lengths = np.array([len(r) for r in raws], dtype=np.int64)
    ends = np.cumsum(lengths)
    starts = ends - lengths
    n = int(ends[-1])
    for r in raws:
        report.rows_read(r.source, table, year, len(r))
    row_parts = [np.asarray(r.data.column(ROW).to_numpy(), dtype=np.int64) for r in raws]
    rows = row_parts[0] if len(raws) == 1 else np.concatenate(row_parts)
    index = pd.RangeIndex(n)
    label = schema.year_label(year)

    def by_file(mask: np.ndarray) -> list[tuple[int, np.ndarray]]:
        """(file number, positions) of the rows in ``mask``, file by file."""
        if len(raws) == 1:
            return [(0, np.flatnonzero(mask))] if mask.any() else []
        hits = np.flatnonzero(mask)
        if hits.size == 0:
            return []
        files = np.searchsorted(ends, hits, side="right")
        cuts = np.flatnonzero(np.diff(files)) + 1
        firsts = files[np.r_[0, cuts]]
        return list(zip(firsts.tolist(), np.split(hits, cuts), strict=True))

    def record(rule: str, mask: np.ndarray, column: str | None, reason: object) -> None:
        """``report.changed`` per file; ``reason`` a text or a function of the file number."""
        for i, at in by_file(mask):
            text = reason(i, mask) if callable(reason) else reason
            report.changed(raws[i].source, table, rule, rows[at], column, text)

    def set_aside(positions: np.ndarray, rule: str, reason: str) -> None:
        mask = np.zeros(n, dtype=bool)
        mask[positions] = True
        for i, at in by_file(mask):
            report.set_aside(raws[i].source, table, rows[at], rule, reason)

    def counts(text: pa.Array, i: int, mask: np.ndarray) -> pd.Series:
        """How often each value flagged in ``mask`` appears in file ``i``, commonest first."""
        start, length = int(starts[i]), int(lengths[i])
        part = _series(text.slice(start, length), pd.RangeIndex(length))
        return part[mask[start : start + length]].astype(str).value_counts()

    def sample(text: pa.Array, i: int, mask: np.ndarray) -> str:
        return _shown(counts(text, i, mask))

    def invalid_codes(text: pa.Array, i: int, mask: np.ndarray, name: str) -> str:
        found = counts(text, i, mask)
        return _shown(found) + _valid_in_other_years(table, name, found.index)

    def column_text(name: str) -> pa.Array:
        parts = [_arrow_column(r, name) for r in raws]
        if len({part.type for part in parts}) > 1:  # CSV files beside a workbook or XML
            parts = [part.cast(pa.large_string()) for part in parts]
        whole = parts[0] if len(parts) == 1 else pa.chunked_array(parts).combine_chunks()
        return whole.cast(pa.large_string())

    # The rules that do not depend on the column run once over all the columns they apply
    # to (concatenated, then split back): a table of a few hundred rows costs a few kernel
    # calls instead of a few per column.
    columns = spec.columns
    trimmed = dict(
        zip(
            columns,
            _batched(_k_trim, [column_text(name) for name in columns]),
            strict=True,
        )
    )
    zz = {
        name: _k_date_zz(trimmed[name][0]) for name, col in columns.items() if col.type == "date_zz"
    }

    def run(kernel: object, kinds: tuple[str, ...], *args: object) -> dict[str, tuple]:
        names = [name for name, col in columns.items() if col.type in kinds]
        texts = [zz[name][0] if name in zz else trimmed[name][0] for name in names]
        return dict(zip(names, _batched(kernel, texts, *args), strict=True))

    ids = {
        name: _k_ids(trimmed[name][0], name == "CHILD")
        for name, col in columns.items()
        if col.type == "id"
    }
    uppers = run(_k_upper, ("code",))
    parsed = run(_k_dates, ("date", "date_zz"), year)
    flagged = run(_k_flags, ("flag",))

    out: dict[str, object] = {}
    missing: dict[str, np.ndarray] = {}
    for name, col in columns.items():
        values, changed = trimmed[name]
        record("trim_whitespace", changed, name, "spaces around the value removed")
        if col.type == "id":
            values, id_masks = ids[name]
            for kind, (rule, reason) in ID_RULES.items():
                record(rule, id_masks[kind], name, reason)
            out[name], missing[name] = _string(values), _np(pc.is_null(values))
        elif col.type == "postcode":
            values, changed = _k_postcode(values)
            record("postcode_format", changed, name, "postcode upper-cased / spaces tidied")
            out[name], missing[name] = _string(values), _np(pc.is_null(values))
        elif col.type in ("date", "date_zz"):
            if col.type == "date_zz":
                values, changed = zz[name]
                record("date_zz", changed, name, "ZZ day or month read as the 1st / January")
            dates, variant, unreadable = parsed[name]
            record("parse_dates", variant, name, "date not written dd/mm/yyyy, read as a date")
            if name in IMPOSSIBLE_DATES:
                dates, impossible, reason = impossible_dates(dates, name, year)
                record("impossible_dates", impossible, name, reason)
            if unreadable.any():
                record(
                    "parse_dates",
                    unreadable,
                    name,
                    lambda i, m, values=values: f"not a date, made missing: {sample(values, i, m)}",
                )
            out[name], missing[name] = dates, np.isnat(dates)
        elif col.type == "code":
            values, changed = uppers[name]
            record("upper_case_codes", changed, name, "code upper-cased")
            valid = col.codes or {}
            if col.code_list == "sex":
                values, changed = _k_sex(values, valid)
                record(
                    "sex_code_mapped",
                    changed,
                    name,
                    f"sex sent in the other generation's codes, mapped to {label}'s "
                    f"({'/'.join(valid)})",
                )
            codes, repaired, invalid = _k_codes(values, valid)
            record("code_in_list", repaired, name, "numeric code written x.0, read as x")
            if invalid.any():
                record(
                    "code_in_list",
                    invalid,
                    name,
                    lambda i, m, values=values, name=name: (
                        f"not a {label} {name} code, made missing: "
                        f"{invalid_codes(values, i, m, name)}"
                    ),
                )
            out[name] = pd.Categorical.from_codes(codes, dtype=_categories(valid), validate=False)
            missing[name] = codes < 0
        elif col.type == "flag":
            flags, repaired, invalid = flagged[name]
            record("flag_values", repaired, name, "flag written 1.0/0.0, read as 1/0")
            if invalid.any():
                record(
                    "flag_values",
                    invalid,
                    name,
                    lambda i, m, values=values: f"not 0 or 1, made missing: {sample(values, i, m)}",
                )
            out[name], missing[name] = flags, flags.isna()
        elif col.type == "int":
            text = _series(values, index)
            numbers, invalid_series = int_range(text, col.minimum, col.maximum)
            invalid = invalid_series.to_numpy(dtype=bool)
            if invalid.any():
                record(
                    "int_range",
                    invalid,
                    name,
                    lambda i, m, values=values, col=col: (
                        f"not a whole number from {col.minimum} to {col.maximum}, made "
                        f"missing: {sample(values, i, m)}"
                    ),
                )
            out[name], missing[name] = numbers.array, numbers.isna().to_numpy()
        else:  # pragma: no cover - the schema test pins the set of types
            raise ValueError(f"unknown column type {col.type!r} for {table}.{name}")

    # Row rules, on the typed columns as arrays: each row is set aside by one rule at most
    # (it leaves ``alive`` before the next rule looks), and the frame is built once at the end.
    # Rows are compared within their own file only (the file number is part of every key).
    alive = np.ones(n, dtype=bool)
    keys = list(dict.fromkeys(["CHILD", *spec.unique_key]))
    blank = np.zeros((len(keys), n), dtype=bool)
    for i, key in enumerate(keys):
        blank[i] = missing[key]
    blank_key = blank.any(axis=0)
    if blank_key.any():
        # Name each row's first blank key so the reason is specific, in the order the
        # file first shows each one.
        first_blank = np.full(n, -1, dtype=np.int64)
        first_blank[blank_key] = blank[:, blank_key].argmax(axis=0)
        for f, at in by_file(blank_key):
            for i in pd.unique(first_blank[at]):
                report.set_aside(
                    raws[f].source,
                    table,
                    rows[at[first_blank[at] == i]],
                    "required_blank",
                    f"{keys[i]} is blank, so the row cannot be used",
                )
        alive &= ~blank_key
    for name in [c for c in spec.required_columns if c not in keys]:
        mask = missing[name] & alive
        if mask.any():
            record(
                "required_blank",
                mask,
                name,
                "required value blank (or made missing above); row kept",
            )
    columns = list(spec.columns)  # from here on, the names in order
    live = np.flatnonzero(alive)
    file_of = np.repeat(np.arange(len(raws), dtype=np.int64), lengths)

    def codes_of(name: str) -> Callable[[np.ndarray], tuple[np.ndarray, int]]:
        return lambda at: _group_codes(_take(out[name], live[at]))

    # The child and the dates first: they tell rows apart soonest. The child's codes are
    # kept for the one-row-per-child rule.
    child_codes, child_size = codes_of("CHILD")(np.arange(len(live)))
    dates = [c for c in columns if spec.columns[c].type in ("date", "date_zz")]
    others = [c for c in columns if c != "CHILD" and c not in dates]
    compared = [
        lambda at: (child_codes[at], child_size),
        *[codes_of(name) for name in dates + others],
    ]
    if len(raws) > 1:
        compared.insert(0, lambda at: (file_of[live[at]], len(raws)))
    dup = _duplicate_rows(compared, len(live))
    if dup.any():
        set_aside(live[dup], "exact_duplicates", "identical to an earlier row of the same file")
        alive[live[dup]] = False
        live = live[~dup]
        child_codes = child_codes[~dup]
    if spec.one_row_per_child:
        filled = np.zeros(len(live), dtype=np.int64)
        for name in columns:
            filled += ~missing[name][live]
        child = file_of[live] * (child_size + 1) + child_codes
        extra = _not_most_complete(child, filled)
        if extra.any():
            set_aside(
                live[extra],
                "one_row_per_child",
                "another row for the same child in this return is more complete (or later)",
            )
            alive[live[extra]] = False
            live = live[~extra]

    out["YEAR"] = np.full(n, year, dtype=np.int64)
    # Where each row came from, as categories (one per file, or council): the merge sorts
    # and groups on these, and a string per row would be hashed over and over.
    out["LA"] = _per_file([r.la for r in raws], file_of)
    out["_source"] = _per_file([r.source for r in raws], file_of)
    out[ROW] = rows
    clean = pd.DataFrame(out, index=index)
    if not alive.all():
        clean = clean.iloc[live].reset_index(drop=True)
    return clean


def _child_keys(
    first: pd.DataFrame, second: pd.DataFrame, keys: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """One integer per (council, child) shared by two tables, from their category codes
    (no string of a national run's millions of rows is hashed)."""
    out = [np.zeros(len(first), dtype=np.int64), np.zeros(len(second), dtype=np.int64)]
    for key in keys:
        a, b = (
            f[key] if isinstance(f[key].dtype, pd.CategoricalDtype) else f[key].astype("category")
            for f in (first, second)
        )
        categories = a.cat.categories.union(b.cat.categories)
        for i, column in enumerate((a, b)):
            codes = column.cat.set_categories(categories).cat.codes.to_numpy(dtype=np.int64)
            out[i] = out[i] * (len(categories) + 1) + codes + 1
    return out[0], out[1]


def flag_born_after_entering_care(
    header: pd.DataFrame, episodes: pd.DataFrame, report: QualityReport
) -> int:
    """List episodes that start before the child was born (``born_after_entering_care``).

    The two dates are in different tables, so this runs on the merged years: each episode's
    ``DECOM`` against the child's latest ``DOB`` (same council and child). Nothing is
    changed, since either date may be the wrong one; the rows are flagged in the report.

    Parameters
    ----------
    header, episodes : DataFrame
        Merged tables with ``LA``, ``CHILD``, ``_source``, ``_row`` and ``DOB`` / ``DECOM``.
    report : QualityReport
        Receives one ``flagged`` finding per episodes file with such rows.

    Returns
    -------
    int
        Episodes flagged.
    """
    needed = {"CHILD", "DOB", "YEAR"}
    if header.empty or episodes.empty or not needed <= set(header.columns):
        return 0
    keys = [k for k in ("LA", "CHILD") if k in header.columns and k in episodes.columns]
    born_key, start_key = _child_keys(header, episodes, keys)
    # the latest return's date of birth of each child
    order = np.argsort(header["YEAR"].to_numpy(), kind="stable")
    births = pd.Series(header["DOB"].to_numpy()[order], index=born_key[order])
    births = births[births.notna().to_numpy()]
    births = births[~births.index.duplicated(keep="last")]
    at = births.index.get_indexer(start_key)
    dob = np.where(
        at >= 0, births.to_numpy(dtype="datetime64[ns]")[at.clip(0)], np.datetime64("NaT")
    )
    early = episodes.loc[(episodes["DECOM"].to_numpy() < dob), ["_source", "_row"]]
    for source, rows in early.groupby("_source", observed=True, sort=True)["_row"]:
        report.flagged(
            str(source),
            "episodes",
            "born_after_entering_care",
            rows.to_numpy(),
            "DECOM",
            "episode starts before the child's date of birth (in the header): one of the two "
            "dates is wrong; kept as sent",
        )
    return len(early)
