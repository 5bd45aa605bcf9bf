"""The last check before publishing: no child's identifier may be in the new site.

The pipeline pseudonymises child IDs, coarsens dates of birth to the month, cuts postcodes
to the sector and drops UPNs, and every published count is suppressed. This gate does not
trust any of that: after the site is rendered and before it replaces the last good one, it
reads the identifiers straight from the raw returns (with :func:`cpanalysis.readers.
read_returns`) and looks for each of them in every file of the new site and of the new
processed folder. One hit and the build stops with :class:`~cpanalysis.errors.BuildError`
naming the file and the *kind* of identifier (never the value, which would put it in a log).

What is looked for, and how
---------------------------
* **child IDs** (``CHILD``), **UPNs** (``UPN``) and **social-worker IDs** (``SW_ID``):
  text is cut into alphanumeric tokens (``[A-Za-z0-9]+``) and each token is compared,
  upper-cased, with the set of identifiers. Matching whole tokens means ``12345`` is not
  found inside ``123456`` or ``x12345y``.

  *Short numeric IDs.* A council whose child IDs are 1-4 digit numbers would see them
  "found" in every count, year and percentage of the site (``417`` children, ``2024``), and
  a 1-4 digit number on a page cannot be linked to a child by anyone. So purely numeric IDs
  shorter than :data:`MIN_NUMERIC_ID_DIGITS` digits are not searched in page text; they are
  still searched, by exact cell value, in every text column of the processed Parquet
  tables, where a raw ID would mean the pseudonymisation failed. IDs with a letter, and
  numeric IDs of 5 digits or more, are searched everywhere.
* **dates of birth** (``DOB``, ``MC_DOB``): every ``dd/mm/yyyy`` and ``yyyy-mm-dd`` date in
  the text is compared with the children's dates of birth, **except the first and last day
  of a month**. The site shows those days for reasons of its own (the month a coarsened date
  of birth falls in, month-end points of a monthly series, 31 March year ends), and with a
  few hundred children nearly every month-end is somebody's birthday, so matching them would
  stop every build. A date of birth on any other day (28 or 29 days in 30) is caught. Date
  *columns* of the processed Parquet files are not compared either: by design
  (docs/design.md Contract 1) they hold the first day of the month of birth.
* **full postcodes** (``HOME_POST``, ``PL_POST``): every postcode-shaped pair in the text
  (``SO14 0AA``, ``so140aa``) is normalised (upper case, no space) and compared. Postcode
  sectors (``SO14 0``), which the processed data keeps, do not match.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cpanalysis.errors import BuildError

__all__ = [
    "MIN_NUMERIC_ID_DIGITS",
    "Identifiers",
    "identifiers_from_returns",
    "identifiers_from_tables",
    "find_identifiers",
    "check_published",
]

#: Purely numeric IDs shorter than this are not searched in page text (see module docstring).
MIN_NUMERIC_ID_DIGITS = 5

_ID_COLUMNS = {"CHILD": "a child ID", "UPN": "a UPN", "SW_ID": "a social worker ID"}
_DOB_COLUMNS = ("DOB", "MC_DOB")
_POSTCODE_COLUMNS = ("HOME_POST", "PL_POST")
_TOKEN = re.compile(r"[A-Za-z0-9]+")
_DATE_DMY = re.compile(r"(?<![0-9/])([0-9]{2})/([0-9]{2})/([0-9]{4})(?![0-9/])")
_DATE_ISO = re.compile(r"(?<![0-9-])([0-9]{4})-([0-9]{2})-([0-9]{2})(?![0-9])")
_POSTCODE = re.compile(
    r"(?<![A-Za-z0-9])([A-Za-z]{1,2}[0-9][A-Za-z0-9]?)\s*([0-9][A-Za-z]{2})(?![A-Za-z0-9])"
)
_FULL_POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}$")
#: Files that are not text (fonts, images) are not scanned; Parquet is read as tables.
_BINARY_SUFFIXES = {".woff", ".woff2", ".ttf", ".eot", ".png", ".jpg", ".jpeg", ".gif", ".ico"}


@dataclass
class Identifiers:
    """The identifiers of the input, by kind, normalised for matching (upper case).

    Attributes
    ----------
    ids : dict
        Kind (``"a child ID"``, ``"a UPN"``, ``"a social worker ID"``) -> identifiers.
    dates_of_birth : set of str
        ISO ``yyyy-mm-dd`` strings (first and last days of months left out).
    postcodes : set of str
        Full postcodes without spaces (``SO140AA``).
    short_ids : int
        How many numeric IDs were too short to search in page text.
    """

    ids: dict[str, set[str]] = field(default_factory=dict)
    dates_of_birth: set[str] = field(default_factory=set)
    postcodes: set[str] = field(default_factory=set)
    short_ids: int = 0

    def searchable_ids(self) -> dict[str, set[str]]:
        """IDs searched in page text: all but the short numeric ones."""
        return {
            kind: {v for v in values if not _is_short_numeric(v)}
            for kind, values in self.ids.items()
        }


def _is_short_numeric(value: str) -> bool:
    return value.isdigit() and len(value) < MIN_NUMERIC_ID_DIGITS


def _clean_ids(values: pd.Series) -> set[str]:
    text = values.dropna().astype(str).str.strip().str.upper()
    # Excel turns numeric IDs into floats: 123456.0 is the child 123456
    text = text.str.replace(r"^([0-9]+)\.0+$", r"\1", regex=True)
    return set(text[text.ne("")])


def _clean_dates(values: pd.Series) -> set[str]:
    text = values.dropna().astype(str).str.strip()
    dates = pd.to_datetime(text, format="%d/%m/%Y", errors="coerce")
    dates = dates.dropna()
    ordinary = dates.dt.day.gt(1) & ~dates.dt.is_month_end  # see the module docstring
    return set(dates[ordinary].dt.strftime("%Y-%m-%d"))


def _clean_postcodes(values: pd.Series) -> set[str]:
    text = values.dropna().astype(str).str.upper().str.replace(r"\s+", "", regex=True)
    return set(text[text.str.match(_FULL_POSTCODE.pattern)])


def identifiers_from_tables(frames: Iterable[pd.DataFrame]) -> Identifiers:
    """Collect the identifiers of raw tables (DfE column names, cells as read).

    Needs any of the columns ``CHILD``, ``UPN``, ``SW_ID`` (ids), ``DOB``, ``MC_DOB``
    (``dd/mm/yyyy`` text) and ``HOME_POST``, ``PL_POST`` (full postcodes).
    """
    found = Identifiers(ids={kind: set() for kind in _ID_COLUMNS.values()})
    for frame in frames:
        for column, kind in _ID_COLUMNS.items():
            if column in frame.columns:
                found.ids[kind] |= _clean_ids(frame[column])
        for column in _DOB_COLUMNS:
            if column in frame.columns:
                found.dates_of_birth |= _clean_dates(frame[column])
        for column in _POSTCODE_COLUMNS:
            if column in frame.columns:
                found.postcodes |= _clean_postcodes(frame[column])
    # UPN codes UN1-UN5 ("no UPN: reason") are not identifiers
    found.ids["a UPN"] -= {f"UN{i}" for i in range(1, 6)}
    found.short_ids = sum(1 for v in found.ids["a child ID"] if _is_short_numeric(v))
    return found


def identifiers_from_returns(raw_dir: Path) -> Identifiers:
    """Read the raw returns under ``raw_dir`` and collect their identifiers."""
    from cpanalysis.quality import QualityReport
    from cpanalysis.readers import read_returns

    tables = read_returns(Path(raw_dir), QualityReport())
    return identifiers_from_tables(t.frame for t in tables)


def _text_hits(text: str, idents: Identifiers, searchable: dict[str, set[str]]) -> list[str]:
    """Kinds of identifier present in a text (each kind once)."""
    kinds = []
    if any(searchable.values()):
        tokens = {t.upper() for t in _TOKEN.findall(text)}
        kinds += [kind for kind, values in searchable.items() if tokens & values]
    if idents.dates_of_birth:
        dates = {f"{y}-{m}-{d}" for d, m, y in _DATE_DMY.findall(text)}
        dates |= {f"{y}-{m}-{d}" for y, m, d in _DATE_ISO.findall(text)}
        if dates & idents.dates_of_birth:
            kinds.append("a date of birth")
    if idents.postcodes:
        codes = {(a + b).upper() for a, b in _POSTCODE.findall(text)}
        if codes & idents.postcodes:
            kinds.append("a full postcode")
    return kinds


def _parquet_hits(path: Path, idents: Identifiers) -> list[str]:
    """Kinds of identifier found as whole cell values in the text columns of a Parquet file."""
    frame = pd.read_parquet(path)
    kinds: list[str] = []
    for column in frame.columns:
        values = frame[column]
        if isinstance(values.dtype, pd.CategoricalDtype):
            values = values.astype("string")
        if not (pd.api.types.is_string_dtype(values) or values.dtype == object):
            continue  # numbers and dates: see the module docstring
        cells = set(values.dropna().astype(str).str.strip().str.upper())
        for kind, ids in idents.ids.items():
            if cells & ids and kind not in kinds:
                kinds.append(kind)
        squeezed = {c.replace(" ", "") for c in cells}
        if squeezed & idents.postcodes and "a full postcode" not in kinds:
            kinds.append("a full postcode")
    return kinds


def find_identifiers(folder: Path, idents: Identifiers) -> list[tuple[Path, str]]:
    """Every (file, kind of identifier) found under ``folder``, in file order."""
    searchable = idents.searchable_ids()
    hits: list[tuple[Path, str]] = []
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        suffix = path.suffix.lower()
        if suffix in _BINARY_SUFFIXES:
            continue
        if suffix == ".parquet":
            kinds = _parquet_hits(path, idents)
        else:
            kinds = _text_hits(path.read_bytes().decode("utf-8", "ignore"), idents, searchable)
        hits += [(path, kind) for kind in kinds]
    return hits


def check_published(folders: Iterable[Path], idents: Identifiers) -> None:
    """Refuse to publish when any identifier of the input is in the new site or data.

    Parameters
    ----------
    folders : iterable of Path
        The new site folder and the new processed folder (before they are swapped in).
    idents : Identifiers
        From :func:`identifiers_from_returns`.

    Raises
    ------
    BuildError
        ``privacy gate: <file> contains a date of birth from the input (and N other
        findings); nothing was published`` -- the file and kind, never the value.
    """
    hits: list[tuple[Path, str]] = []
    for folder in folders:
        hits += [(p.relative_to(folder.parent), k) for p, k in find_identifiers(folder, idents)]
    if hits:
        path, kind = hits[0]
        more = f" (and {len(hits) - 1} other findings)" if len(hits) > 1 else ""
        raise BuildError(
            f"privacy gate: {path.as_posix()} contains {kind} from the input returns{more}; "
            "nothing was published and the previous site is unchanged"
        )
