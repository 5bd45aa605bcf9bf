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
Every file of the new site and processed folder is read (fonts and images excepted;
Parquet as tables, everything else as text, also after undoing HTML entities and JSON's
escaped slashes), so an identifier is found in a page, ``search.json``, a CSV download, the run
manifest, a notebook or a script alike.

* **child IDs** (``CHILD``), **UPNs** (``UPN``) and **social-worker IDs** (``SW_ID``) are
  taken in two spellings: the cleaning's own (:func:`cpanalysis.cleaning.normalise_ids`,
  the one spelling under which the pipeline treats a child as one child: BOM, NUL and
  zero-width characters removed, Excel's ``123456.0`` and ``1.23456E+5`` read as
  ``123456``, leading zeros of a child ID dropped) and the cell as the raw file wrote it
  (an ID the cleaning cannot know, ``1.5E+5``, is still looked for as written). Each is
  folded for comparing by :func:`normalise_id` (upper case, letters and digits only,
  leading zeros of an all-digit ID dropped) and compared with the text's **whole tokens**
  (``[A-Za-z0-9]+``, folded the same way; a number in Excel's exponent form with every
  digit shown, ``1.23456E+5``, is read as the whole number too), so ``12345`` is not found
  inside ``123456`` or ``x12345y``, while ``00123456``, ``123456.0``, ``1.23456E+5`` and
  ``zq123456`` in a page are the IDs ``123456`` and ``ZQ123456``.
  An ID with a letter is also compared with runs of two or three tokens joined by one
  ``-``, ``_``, ``.``, ``/`` or space (``ZQ_123456`` is ``ZQ123456``); purely numeric IDs
  are not (``12.3456`` in a chart is a number, not the ID ``123456``).

  *Short numeric IDs.* Purely numeric IDs shorter than :data:`MIN_NUMERIC_ID_DIGITS` (4)
  digits, and 4-digit IDs that read as a year (1900-2099), would be "found" in every count
  and year of the site, and cannot be linked to a child from a page; they are not searched
  in text, only by exact cell value in the processed Parquet tables, where a raw ID would
  mean the pseudonymisation failed. Every other ID is searched everywhere.
* **dates of birth** (``DOB``, ``MC_DOB``, read in any of the layouts returns use) are
  compared with every date in the text written day-month-year or year-month-day with
  ``/``, ``.`` or ``-`` (``17/5/2012``, ``17.05.2012``, ``2012/05/17``, ``2012-05-17``),
  with the month as a word (``17 May 2012``), or as 8 digits (``20120517``, ``17052012``),
  **except the first and last day of a month**: the site shows those days for reasons of
  its own (the month a coarsened date of birth falls in, month-end points of a monthly
  series, 31 March year ends), and with a few hundred children nearly every month-end is
  somebody's birthday. A date of birth on any other day (28 or 29 days in 30) is caught.
  Date *columns* of the processed Parquet files are not compared: by design (docs/design.md
  Contract 1) they hold the first day of the month of birth.
* **full postcodes** (``HOME_POST``, ``PL_POST``): every postcode-shaped pair in the text
  (``SO14 0AA``, ``so140aa``, ``SW1A-1AA``, ``SW1A_1AA``) is normalised (upper case, no
  separator) and compared. Postcode sectors (``SO14 0``), which the processed data keeps,
  do not match.

*Library code* (the renderer's scripts, styles and fonts, the Vega bundle inlined into the
chart pages) holds thousands of number literals and decimal fractions, of which some equal
a 6-digit child ID by chance (a 5,000-child council was refused on ``.4906146`` in the Vega
bundle). It cannot hold a child's record unless changed, so it is recognised by exact
content (:class:`Library`): a published file byte-identical to a file the renderer ships, and
each verbatim copy of the Vega bundle inside a page, are not searched; anything else around
or in them is. A number's digits after a decimal point (``0.123456``, ``.4906146``) and the
digits of a colour (``#333333``) are not read as a numeric ID either; an ID is written as a
whole number.

The build keeps its own numbers out of the gate's way by construction rather than by
exceptions here: no file size is published (the manifest and About page give SHA-256
digests), times are to the second, and the notebooks lose papermill's metadata (timings in
microseconds) before rendering (:func:`cpanalysis.site.pages.publishable_notebook`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from urllib.parse import unquote

import pandas as pd

from cpanalysis.errors import BuildError

__all__ = [
    "MIN_NUMERIC_ID_DIGITS",
    "Identifiers",
    "identifiers_from_returns",
    "identifiers_from_tables",
    "normalise_id",
    "Library",
    "known_library",
    "find_identifiers",
    "check_published",
]

#: Purely numeric IDs shorter than this are not searched in page text (see module docstring).
MIN_NUMERIC_ID_DIGITS = 4

_ID_COLUMNS = {"CHILD": "a child ID", "UPN": "a UPN", "SW_ID": "a social worker ID"}
_DOB_COLUMNS = ("DOB", "MC_DOB")
_POSTCODE_COLUMNS = ("HOME_POST", "PL_POST")
_TOKEN = re.compile(r"[A-Za-z0-9]+")
#: Tokens joined by one of these characters are also read as one (IDs with a letter only).
_JOINERS = set("-_./ ")
_DATE_DMY = re.compile(r"(?<![0-9A-Za-z])([0-9]{1,2})([/.\-])([0-9]{1,2})\2([0-9]{4})(?![0-9])")
_DATE_YMD = re.compile(r"(?<![0-9A-Za-z])([0-9]{4})([/.\-])([0-9]{1,2})\2([0-9]{1,2})(?![0-9])")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DATE_WORDS = re.compile(
    r"(?<![0-9])([0-9]{1,2})(?:st|nd|rd|th)?[\s-]+(" + "|".join(_MONTHS) + r")[a-z]*\.?,?[\s-]+"
    r"([0-9]{4})(?![0-9])",
    re.IGNORECASE,
)
_DATE_DIGITS = re.compile(r"(?<![0-9A-Za-z])[0-9]{8}(?![0-9A-Za-z])")
_POSTCODE = re.compile(
    r"(?<![A-Za-z0-9])([A-Za-z]{1,2}[0-9][A-Za-z0-9]?)[\s\-_.]*([0-9][A-Za-z]{2})(?![A-Za-z0-9])"
)
_FULL_POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}$")
#: Layouts in which a return may hold a date (the first that reads wins, day first).
_DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%Y/%m/%d", "%Y-%m-%d %H:%M:%S")
#: Files that are not text (fonts, images) are not scanned; Parquet is read as tables.
_BINARY_SUFFIXES = {".woff", ".woff2", ".ttf", ".eot", ".png", ".jpg", ".jpeg", ".gif", ".ico"}


@dataclass
class Identifiers:
    """The identifiers of the input, by kind, normalised for matching (see :func:`normalise_id`).

    Attributes
    ----------
    ids : dict
        Kind (``"a child ID"``, ``"a UPN"``, ``"a social worker ID"``) -> identifiers.
    dates_of_birth : set of str
        ISO ``yyyy-mm-dd`` strings (first and last days of months left out).
    postcodes : set of str
        Full postcodes without spaces (``SO140AA``).
    short_ids : int
        How many numeric IDs were too short (or too like a year) to search in page text.
    """

    ids: dict[str, set[str]] = field(default_factory=dict)
    dates_of_birth: set[str] = field(default_factory=set)
    postcodes: set[str] = field(default_factory=set)
    short_ids: int = 0

    def without(self, known: Iterable[object]) -> Identifiers:
        """These identifiers less ``known`` values the build itself publishes as figures.

        The council's population (from ``cpanalysis.toml``) is a 5-7 digit number on the
        About page and in the rates' downloads; were it also some child's ID, every build
        would be refused. A number the build writes from its own settings is not that
        child's record, so it is not searched (the price: that one ID is not caught when
        written exactly as that figure).
        """
        drop = {normalise_id(v) for v in known}
        return Identifiers(
            ids={kind: values - drop for kind, values in self.ids.items()},
            dates_of_birth=set(self.dates_of_birth),
            postcodes=set(self.postcodes),
            short_ids=self.short_ids,
        )

    def searchable_ids(self) -> dict[str, set[str]]:
        """IDs searched in page text: all but the short (or year-like) numeric ones."""
        return {
            kind: {v for v in values if not _is_short_numeric(v)}
            for kind, values in self.ids.items()
        }


def _is_short_numeric(value: str) -> bool:
    if not value.isdigit():
        return False
    return len(value) < MIN_NUMERIC_ID_DIGITS or (len(value) == 4 and 1900 <= int(value) <= 2099)


_EXCEL_FLOAT = re.compile(r"^([0-9]+)\.0+$")
_EXCEL_EXPONENT = re.compile(r"^[0-9](?:\.[0-9]+)?E\+?[0-9]+$")
_NOT_ALNUM = re.compile(r"[^A-Z0-9]+")


def normalise_id(value: object) -> str:
    """An identifier folded as the gate compares it: ``" 00123-456 "``, ``123456.0`` ->
    ``123456``.

    The IDs themselves are taken in the cleaning's spelling as well as as written
    (:func:`_clean_ids`); this fold makes the forms a page may carry compare equal: upper
    case; Excel's floats (``123456.0``, ``1.23456E+5``) read as the whole number they stand
    for; every character but letters and digits removed (BOM, NUL, spaces, ``-``, ``_``);
    leading zeros of an all-digit ID dropped (for any kind of ID: a page's ``00123`` is
    looked at as ``123`` too, so the fold may find more, never less).
    """
    text = str(value).strip().strip("\ufeff\x00").strip().upper()
    text = _EXCEL_FLOAT.sub(r"\1", text)
    if _EXCEL_EXPONENT.match(text):
        try:
            number = Decimal(text)
        except InvalidOperation:
            number = None
        if number is not None and number == number.to_integral_value():
            text = str(int(number))
    text = _NOT_ALNUM.sub("", text)
    if text.isdigit():
        text = text.lstrip("0") or "0"
    return text


def _clean_ids(values: pd.Series, *, child: bool) -> set[str]:
    """Every form in which the IDs of a raw column are looked for, folded by
    :func:`normalise_id`: the cleaning's spelling of each (:func:`cpanalysis.cleaning.
    normalise_ids`, trimmed first as the cleaning trims every cell; ``child`` drops
    leading zeros as it does for ``CHILD`` only) and the cell as written."""
    from cpanalysis.cleaning import normalise_ids

    written = pd.Series(values.dropna().astype(str).unique(), dtype="string")
    cleaned, _ = normalise_ids(written.str.strip(), child=child)
    forms = {normalise_id(v) for v in cleaned.dropna()}
    forms |= {normalise_id(v) for v in written}
    forms.discard("")
    return forms


def _clean_dates(values: pd.Series) -> set[str]:
    text = values.dropna().astype(str).str.strip()
    dates = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    for fmt in _DATE_FORMATS:
        missing = dates.isna()
        if not missing.any():
            break
        dates[missing] = pd.to_datetime(text[missing], format=fmt, errors="coerce")
    dates = dates.dropna()
    ordinary = dates.dt.day.gt(1) & ~dates.dt.is_month_end  # see the module docstring
    return set(dates[ordinary].dt.strftime("%Y-%m-%d"))


def _clean_postcodes(values: pd.Series) -> set[str]:
    text = values.dropna().astype(str).str.upper().str.replace(r"[^A-Z0-9]+", "", regex=True)
    return set(text[text.str.match(_FULL_POSTCODE.pattern)])


def identifiers_from_tables(frames: Iterable[pd.DataFrame]) -> Identifiers:
    """Collect the identifiers of raw tables (DfE column names, cells as read).

    Needs any of the columns ``CHILD``, ``UPN``, ``SW_ID`` (ids), ``DOB``, ``MC_DOB``
    (dates as text, any layout of :data:`_DATE_FORMATS`) and ``HOME_POST``, ``PL_POST``
    (full postcodes).
    """
    found = Identifiers(ids={kind: set() for kind in _ID_COLUMNS.values()})
    for frame in frames:
        for column, kind in _ID_COLUMNS.items():
            if column in frame.columns:
                found.ids[kind] |= _clean_ids(frame[column], child=column == "CHILD")
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


#: A number in Excel's exponent form, as a page might quote a raw cell: ``1.23456E+5``.
_TEXT_EXPONENT = re.compile(
    r"(?<![0-9A-Za-z.])([0-9])\.([0-9]+)[eE]\+?([0-9]{1,2})(?![0-9A-Za-z.])"
)


def _tokens(text: str) -> set[str]:
    """Whole tokens of ``text``, normalised; plus runs of 2-3 tokens with a letter, joined;
    plus the whole number of each exponent-form number with every digit shown."""
    found: set[str] = set()
    for lead, fraction, power in _TEXT_EXPONENT.findall(text):
        if len(fraction) == int(power):  # 1.23456E+5 = 123456, as the cleaning reads it
            found.add((lead + fraction).lstrip("0") or "0")
    run: list[str] = []  # the tokens of the current run, joined by one joiner each
    last_end = -1
    for match in _TOKEN.finditer(text):
        token = match.group().upper()
        start = match.start()
        if token.isdigit() and start and _not_an_id(text, start, len(token)):
            last_end, run = match.end(), []
            continue
        found.add((token.lstrip("0") or "0") if token.isdigit() else token)
        if run and start == last_end + 1 and text[last_end] in _JOINERS:
            run = [*run[-2:], token]
        else:
            run = [token]
        for size in (2, 3):
            if len(run) >= size:
                joined = "".join(run[-size:])
                if not joined.isdigit():
                    found.add(joined)
        last_end = match.end()
    return found


def _not_an_id(text: str, start: int, length: int) -> bool:
    """Digits after a decimal point (``0.123456``, ``.49``) or of a colour (``#333333``)."""
    before = text[start - 1]
    if before == ".":
        return start < 2 or not text[start - 2].isalpha()
    return before == "#" and length in (3, 6, 8)


def _valid_date(year: str, month: str, day: str) -> str | None:
    try:
        y, m, d = int(year), int(month), int(day)
        return dt.date(y, m, d).isoformat() if 1900 <= y <= 2099 else None
    except ValueError:
        return None


def _dates(text: str) -> set[str]:
    """Every date written in ``text`` in a usual layout, as ISO ``yyyy-mm-dd``."""
    found = {_valid_date(y, m, d) for d, _, m, y in _DATE_DMY.findall(text)}
    found |= {_valid_date(y, m, d) for y, _, m, d in _DATE_YMD.findall(text)}
    found |= {
        _valid_date(y, str(_MONTHS.index(m.lower()[:3]) + 1), d)
        for d, m, y in _DATE_WORDS.findall(text)
    }
    for digits in _DATE_DIGITS.findall(text):
        found.add(_valid_date(digits[:4], digits[4:6], digits[6:]))
        found.add(_valid_date(digits[4:], digits[2:4], digits[:2]))
    found.discard(None)
    return found


def _readable(text: str) -> str:
    """The text as written plus as a reader or a script would see it.

    HTML entities, JSON's ``\\/`` and URL encoding (``%2F``) undone.
    """
    plain = html.unescape(text).replace("\\/", "/")
    if "%" in plain:  # URL-encoded (a link, a CSS data URL): %2F is /, %23 is #
        plain = unquote(plain)
    return plain  # undoing them removes no digit or letter an identifier is made of


def _text_hits(text: str, idents: Identifiers, searchable: dict[str, set[str]]) -> list[str]:
    """Kinds of identifier present in a text (each kind once)."""
    text = _readable(text)
    kinds = []
    if any(searchable.values()):
        tokens = _tokens(text)
        kinds += [kind for kind, values in searchable.items() if tokens & values]
    if idents.dates_of_birth and _dates(text) & idents.dates_of_birth:
        kinds.append("a date of birth")
    if idents.postcodes:
        codes = {(a + b).upper() for a, b in _POSTCODE.findall(text)}
        if codes & idents.postcodes:
            kinds.append("a full postcode")
    return kinds


def _parquet_hits(path: Path, idents: Identifiers, searchable: dict[str, set[str]]) -> list[str]:
    """Kinds of identifier in the text columns of a Parquet file.

    Whole cells are compared with every ID (short ones included), and the cells' text is
    searched as page text is (tokens, dates, postcodes).
    """
    frame = pd.read_parquet(path)
    kinds: list[str] = []
    texts: list[str] = []
    for column in frame.columns:
        values = frame[column]
        if isinstance(values.dtype, pd.CategoricalDtype):
            values = values.astype("string")
        if not (pd.api.types.is_string_dtype(values) or values.dtype == object):
            continue  # numbers and dates: see the module docstring
        distinct = values.dropna().astype(str).unique()
        cells = {normalise_id(c) for c in distinct}
        for kind, ids in idents.ids.items():
            if cells & ids and kind not in kinds:
                kinds.append(kind)
        texts += list(distinct)
    for kind in _text_hits("\n".join(texts), idents, searchable):
        if kind not in kinds:
            kinds.append(kind)
    return kinds


@dataclass
class Library:
    """Code and assets published unchanged from their source, recognised by exact content.

    Attributes
    ----------
    digests : set of str
        SHA-256 of files as the renderer ships them (a published file with one of these
        digests is not searched).
    blobs : list of str
        Texts inlined verbatim into pages (the Vega bundle); each copy is cut out of a page
        before it is searched.
    """

    digests: set[str] = field(default_factory=set)
    blobs: list[str] = field(default_factory=list)

    def strip(self, text: str) -> str:
        """``text`` less every verbatim copy of a blob."""
        for blob in self.blobs:
            if blob in text:
                text = text.replace(blob, "\n")
        return text


def _digest_files(paths: Iterable[Path]) -> set[str]:
    digests = set()
    for path in paths:
        try:
            digests.add(hashlib.sha256(path.read_bytes()).hexdigest())
        except OSError:
            continue
    return digests


def _quarto_share() -> Path | None:
    """Quarto's resource folder (``quarto --paths``, second line), when Quarto is installed."""
    import shutil
    import subprocess

    if not shutil.which("quarto"):
        return None
    done = subprocess.run(["quarto", "--paths"], capture_output=True, text=True, check=False)
    lines = [ln.strip() for ln in done.stdout.splitlines() if ln.strip()]
    return Path(lines[1]) if len(lines) >= 2 and Path(lines[1]).is_dir() else None


def known_library(site_dir: Path | None = None) -> Library:
    """The libraries a build publishes: Vega bundle, smalldocs' assets, Quarto's resources.

    Quarto's resource folder is large, so only its files named like a file under
    ``site_dir/site_libs`` are read.
    """
    blobs: list[str] = []
    try:
        from cpanalysis.charts import offline

        code = offline.javascript_bundle()
        blobs = sorted({code, offline._bundle_script_safe(code)}, key=len, reverse=True)
        digests = {hashlib.sha256(code.encode("utf-8")).hexdigest()}
    except Exception:  # no vl-convert: no bundle on the pages either
        digests = set()
    try:
        from importlib import resources

        assets = Path(str(resources.files("smalldocs") / "assets"))
        if assets.is_dir():
            digests |= _digest_files(p for p in assets.rglob("*") if p.is_file())
    except (ImportError, TypeError):
        pass
    share = _quarto_share()
    if share is not None and site_dir is not None and (Path(site_dir) / "site_libs").is_dir():
        names = {p.name for p in (Path(site_dir) / "site_libs").rglob("*") if p.is_file()}
        digests |= _digest_files(p for p in share.rglob("*") if p.name in names and p.is_file())
    return Library(digests=digests, blobs=[b for b in blobs if b])


def find_identifiers(
    folder: Path, idents: Identifiers, library: Library | None = None
) -> list[tuple[Path, str]]:
    """Every (file, kind of identifier) found under ``folder``, in file order.

    ``library``: code published unchanged from its source (see :class:`Library`); none by
    default, so every byte is searched.
    """
    searchable = idents.searchable_ids()
    library = library or Library()
    hits: list[tuple[Path, str]] = []
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        suffix = path.suffix.lower()
        if suffix in _BINARY_SUFFIXES:
            continue
        if suffix == ".parquet":
            kinds = _parquet_hits(path, idents, searchable)
        else:
            data = path.read_bytes()
            if library.digests and hashlib.sha256(data).hexdigest() in library.digests:
                continue  # byte for byte the library as shipped: holds nothing of the data
            text = library.strip(data.decode("utf-8", "ignore"))
            kinds = _text_hits(text, idents, searchable)
        hits += [(path, kind) for kind in kinds]
    return hits


def check_published(
    folders: Iterable[Path], idents: Identifiers, library: Library | None = None
) -> None:
    """Refuse to publish when any identifier of the input is in the new site or data.

    Parameters
    ----------
    folders : iterable of Path
        The new site folder and the new processed folder (before they are swapped in).
    idents : Identifiers
        From :func:`identifiers_from_returns`.
    library : Library, optional
        Library code published unchanged (:func:`known_library`); default: none.

    Raises
    ------
    BuildError
        ``privacy gate: <file> contains a date of birth from the input (and N other
        findings); nothing was published`` -- the file and kind, never the value.
    """
    hits: list[tuple[Path, str]] = []
    for folder in folders:
        found = find_identifiers(folder, idents, library)
        hits += [(p.relative_to(folder.parent), k) for p, k in found]
    if hits:
        path, kind = hits[0]
        more = f" (and {len(hits) - 1} other findings)" if len(hits) > 1 else ""
        raise BuildError(
            f"privacy gate: {path.as_posix()} contains {kind} from the input returns{more}; "
            "nothing was published and the previous site is unchanged"
        )
