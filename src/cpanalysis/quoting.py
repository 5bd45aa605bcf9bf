"""What a message may quote from a return: the rule that keeps a child's details out of logs.

The quality report is published (the Data quality page, ``quality_report.csv``, the site's
search index) and error messages go into the one line a scheduled job logs. A value a
council typed into the wrong column is exactly where a child's ID, date of birth, name or
postcode turns up. So:

**The rule.** A value read from a return is quoted only when

1. it is a code in one of the schema's code lists (in any year: ``E45``, ``H5``, ``K3``)
   or an SSDA903 column name, or
2. it has at most two characters (too short to be an ID, a date, a postcode or a name that
   points to one child).

Anything else is described by its shape -- ``a 6-digit number``, ``a date``, ``a
postcode``, ``text of 9 characters`` -- with the count and (in the report) the row numbers,
which is what an analyst needs to find the cell. File names are the council's own and are
shown as they are (with control characters and undecodable bytes escaped).
"""

from __future__ import annotations

import os
import re
from functools import cache

import pandas as pd

from cpanalysis import schema

__all__ = ["quotable", "describe", "shown", "shown_counts", "printable"]

_DIGITS = re.compile(r"^\d+$")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_DATE = re.compile(r"^\d{1,4}[/.\-\s]\d{1,2}[/.\-\s]\d{1,4}([ T][\d:.]+)?$")
_POSTCODE = re.compile(r"^[A-Z]{1,2}\d[A-Z\d]?[\s\-_]*\d[A-Z]{2}$", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@cache
def _known() -> frozenset[str]:
    """Every code of every code list in any year, and every column name."""
    names: set[str] = set()
    raw = schema._raw()
    for list_name in raw["code_lists"]:
        names.update(schema.all_codes(list_name))
    for year in schema.collection_years():
        for spec in schema.table_specs(year).values():
            names.update(spec.column_names)
            for column in spec.columns.values():
                names.update(column.codes or {})
    return frozenset(names)


def quotable(value: object) -> bool:
    """Whether ``value`` may be quoted in a message (module docstring, the rule)."""
    text = str(value)
    if _CONTROL.search(text):
        return False
    return len(text) <= 2 or text in _known() or text.upper() in _known()


def describe(value: object) -> str:
    """The shape of a value that may not be quoted: ``"a 6-digit number"``, ``"a date"``."""
    text = str(value)
    plain = text.strip()
    if _CONTROL.search(text):
        return "a value with control characters"
    if _DIGITS.match(plain):
        return f"a {len(plain)}-digit number"
    if _NUMBER.match(plain):
        return "a number"
    if _DATE.match(plain):
        return "a date"
    if _POSTCODE.match(plain):
        return "a postcode"
    return f"text of {len(plain)} characters"


def shown(value: object) -> str:
    """``'H5'`` for a value that may be quoted, else its shape (``a 6-digit number``)."""
    return repr(str(value)) if quotable(value) else describe(value)


def shown_counts(counts: pd.Series, limit: int = 5) -> str:
    """Value counts as a report reason: ``'H5' (2), a date (1)`` and how many more.

    Values that may not be quoted are grouped by shape, so ten different IDs read
    ``a 6-digit number (10)``.
    """
    labels = pd.Series([shown(v) for v in counts.index], dtype="object")
    grouped = (
        pd.Series(counts.to_numpy(), index=labels)
        .groupby(level=0, sort=False)
        .sum()
        .sort_values(ascending=False, kind="stable")
    )
    text = ", ".join(f"{label} ({n})" for label, n in grouped.head(limit).items())
    more = f" and {len(grouped) - limit} other kinds of value" if len(grouped) > limit else ""
    return text + more


def printable(text: object) -> str:
    """Text safe for a one-line message: control characters (a NUL) and bytes that were not
    valid UTF-8 in a file name are escaped (``\\x00``), so a log line is never broken."""
    value = str(text)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a file name with undecodable bytes (surrogate escapes)
        value = os.fsencode(value).decode("utf-8", "backslashreplace")
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", value)
