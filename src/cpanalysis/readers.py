"""Find SSDA903 returns in a folder and read them, untouched, into string tables.

The reader's one job is to turn whatever a council exported (CSV in any of the encodings Excel
produces, a workbook with a sheet per table, or the DfE's XML) into one :class:`RawTable` per
table and file, with DfE column names, every cell a string, and the spreadsheet row number of
each row, so the cleaner can repair values and the quality report can name the rows it
touched. Nothing is repaired here; a file we cannot make sense of raises
:class:`~cpanalysis.errors.InputError` naming the file (and row/column where one applies).

How a file is understood
------------------------
Table
    By its **headers**, never its name (councils name files anything): a table matches when
    all its schema columns are present, compared ignoring case, spaces, ``_`` and ``-``, with
    the XML names ``CHILDID`` (-> ``CHILD``) and ``PL`` (-> ``PLACE``) accepted. When no
    table matches fully, a table missing only columns the DfE allows to be blank is accepted
    and the missing columns added empty (noted in the report). Unknown extra columns are
    dropped and noted.
Collection year
    From the file name, else the nearest folder name (``2024-25``, ``2024_25``, ``202425``,
    ``2425``, ``1920``, ``2025``; see :mod:`cpanalysis.years`). A bare ``2025`` is checked
    against the dates: when the episode start dates (or, with no episodes file, the missing
    or review dates) of the return run past 31 March 2025 beyond a few stray errors, the
    files are the 2025-26 return (some tools name files by the year they start) and a note
    says so. All files in one folder named with the same year form one return and move
    together. With no year anywhere, the year of the latest episode start date (else review
    date) of the folder's return is used, and noted.
Council
    From the folder layout ``RAW/<council>/<year>/<file>`` when ``<council>`` looks like a
    code (three digits such as ``999``, an ONS code such as ``E10000014``, or 2-5 letters);
    else None (the pipeline then uses the configured council).
Row numbers
    As a spreadsheet shows them: header = the first non-blank line's number, first data row
    the next, blank leading lines counted. Fully empty rows (``,,,,``) hold no record; they
    are not returned and their number is noted. For XML, the row number of every record is
    the child's 1-based position in the file (a child's episodes share it).
Encodings
    UTF-8 with or without BOM, UTF-16 with BOM (or without, by its NUL bytes), else
    Windows-1252 (what Excel's "CSV" writes in England), else charset-normalizer's best
    guess. Anything but plain UTF-8 is noted.
Empty files
    A file with no header line raises InputError: a council sending an empty episodes file
    has almost certainly exported the wrong thing, and silently carrying on would publish a
    year with no children. A file with a header and no data rows is a valid empty table.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import os
import re
import stat
import xml.etree.ElementTree as ET
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cpanalysis import schema
from cpanalysis.errors import InputError
from cpanalysis.quality import QualityReport
from cpanalysis.quoting import describe, printable, quotable
from cpanalysis.years import (
    NamedYear,
    collection_year_of,
    dates_run_past_year_end,
    strict_dmy_dates,
    year_from_text,
)

__all__ = [
    "RawTable",
    "read_returns",
    "read_file",
    "find_return_files",
    "match_table",
    "DATA_SUFFIXES",
]

#: File types read as returns.
DATA_SUFFIXES = (".csv", ".xlsx", ".xlsm", ".xml")
#: Files in the raw folder that are expected and not returns.
_IGNORED_NAMES = re.compile(r"^(readme.*|\.gitkeep|\.ds_store|thumbs\.db)$", re.IGNORECASE)
#: Council folder names (``999``, ``E10000014``, ``BAR``).
_COUNCIL = re.compile(r"^(\d{3}|[EWSN]\d{8}|[A-Za-z]{2,5})$")
#: XML and legacy header names -> DfE CSV names.
HEADER_ALIASES = {"CHILDID": "CHILD", "PL": "PLACE"}
ROW = "_row"

#: Largest input file read (bytes). A council's biggest return file (a national extract of
#: reviews) is tens of MB; a bigger file is a wrong or damaged export, refused before it
#: is loaded rather than after minutes and gigabytes of memory.
MAX_FILE_BYTES = 1 << 30
#: Largest uncompressed content of a workbook (bytes), checked before opening it.
MAX_WORKBOOK_BYTES = 1 << 30
#: Widest sheet read: no SSDA903 table has more than a few dozen columns.
MAX_SHEET_COLUMNS = 1000
#: Most rows of one sheet (Excel's own limit).
MAX_SHEET_ROWS = 1_048_576


@dataclass
class RawTable:
    """One table of one return, as read: strings only, DfE column names.

    The cells are kept as the pyarrow table the CSV reader made (``data``): a national run
    reads thousands of files, and the cleaner works on arrow arrays, so a pandas frame per
    file would be built only to be taken apart again. ``frame`` gives the pandas view for
    exploring and for tests.

    Attributes
    ----------
    table : str
        Schema table key (``"episodes"``).
    year : int
        Collection year (year ending 31 March).
    la : str or None
        Council code when the folder layout names it, else None.
    source : str
        File relative to the raw folder, plus ``"#<sheet>"`` for a workbook sheet.
    data : pyarrow.Table
        The table's schema columns in DfE order, every cell a string or null (empty or
        whitespace-only cells are null), plus ``_row`` (int64, spreadsheet row number).
    """

    table: str
    year: int
    la: str | None
    source: str
    data: pa.Table

    @classmethod
    def from_frame(
        cls, table: str, year: int, la: str | None, source: str, frame: pd.DataFrame
    ) -> RawTable:
        """A raw table from a pandas frame of text cells and ``_row`` (blank cells -> null)."""
        return cls(table, year, la, source, _arrow_table(frame))

    def __len__(self) -> int:
        return self.data.num_rows

    @property
    def frame(self) -> pd.DataFrame:
        """The cells as a pandas frame: ``string[pyarrow]`` columns (NA for blank), ``_row``."""
        return _pandas_frame(self.data)


@dataclass
class _Parsed:
    """A table read from a file before its year is settled."""

    table: str
    source: str
    data: pa.Table
    path: Path
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- header matching
def _norm(name: object) -> str:
    """Header comparison key: upper case, no spaces/underscores/hyphens/BOM, aliases applied."""
    return _norm_text(str(name))


@cache
def _norm_text(name: str) -> str:
    # Cached: the same few dozen headers are compared against every table of every file.
    key = re.sub(r"[\s_\-\ufeff]", "", name.upper())
    return re.sub(r"[\s_\-]", "", HEADER_ALIASES.get(key, key))


@cache
def _table_columns() -> dict[str, tuple[tuple[str, ...], frozenset[str]]]:
    """Every table of any year: key -> (columns in DfE order, columns that may be blank).

    A table's columns are the same in every year it is collected, so matching against the
    union lets a file be recognised before its year is known.
    """
    tables: dict[str, tuple[tuple[str, ...], frozenset[str]]] = {}
    for year in schema.collection_years():
        for key, spec in schema.table_specs(year).items():
            blank = frozenset(c.name for c in spec.columns.values() if c.blank)
            tables.setdefault(key, (tuple(spec.column_names), blank))
    return tables


def match_table(headers: list[str], file: str) -> tuple[str, dict[str, str], list[str]]:
    """Which table a header row belongs to.

    Parameters
    ----------
    headers : list of str
        The header cells as written in the file.
    file : str
        The file (for messages).

    Returns
    -------
    table : str
        The schema table key.
    rename : dict
        Header as written -> DfE column name, for the columns of the table.
    missing : list of str
        Columns the DfE allows blank that the file lacks (to be added empty).

    Raises
    ------
    InputError
        ``unknown table`` naming the nearest table and its missing columns, or a required
        column missing from a file that is clearly that table.
    """
    try:
        table, rename, missing = _match_headers(tuple(headers))
    except InputError as exc:
        raise InputError(exc.message, file=file, column=exc.column) from None
    return table, dict(rename), list(missing)


@lru_cache(maxsize=1024)
def _match_headers(
    headers: tuple[str, ...],
) -> tuple[str, dict[str, str], tuple[str, ...]]:
    """:func:`match_table` of one header row, remembered: a national run has thousands of
    files but only a few dozen distinct header rows. Raises InputError without a file."""
    present: dict[str, str] = {}
    for h in headers:
        if h is None or pd.isna(h) or str(h).strip() == "":
            continue
        present.setdefault(_norm(h), str(h))
    scored = []
    for key, (columns, blank) in _table_columns().items():
        have = [c for c in columns if _norm(c) in present]
        lacking = [c for c in columns if _norm(c) not in present]
        scored.append((key, columns, blank, have, lacking))

    def rename_for(columns: tuple[str, ...]) -> dict[str, str]:
        return {present[_norm(c)]: c for c in columns if _norm(c) in present}

    full = [s for s in scored if not s[4]]
    if full:
        key, columns, *_ = max(full, key=lambda s: len(s[1]))
        return key, rename_for(columns), ()
    lenient = [s for s in scored if s[3] and all(c in s[2] for c in s[4])]
    if lenient:
        key, columns, _, _, lacking = max(lenient, key=lambda s: len(s[3]))
        return key, rename_for(columns), tuple(lacking)
    key, columns, blank, have, lacking = max(scored, key=lambda s: len(s[3]) / len(s[1]))
    required_lacking = [c for c in lacking if c not in blank]
    if "CHILD" in have and len(have) >= len(columns) / 2:
        raise InputError(
            f"required column {required_lacking[0]} is missing from this {key} table "
            f"(also missing: {', '.join(lacking[1:]) or 'nothing else'})",
            column=required_lacking[0],
        )
    raise InputError(
        f"unknown table: its headers ({_headers_shown(headers)}) match no SSDA903 table; "
        f"nearest is {key}, which also needs {', '.join(lacking)}",
    )


def _headers_shown(headers: tuple[str, ...] | list[str]) -> str:
    """Header cells for a message: SSDA903 column names as written, others only counted.

    A file without a header row has a child's record in its first line; quoting it would
    put an ID, a date of birth and postcodes into the log (:mod:`cpanalysis.quoting`).
    """
    cells = [str(h) for h in headers if h is not None and not pd.isna(h) and str(h).strip()]
    named = [h for h in cells if _norm(h) in _all_column_keys() or quotable(h.strip())]
    others = len(cells) - len(named)
    text = ", ".join(named[:30])
    if others:
        text += f"{' and ' if text else ''}{others} cell(s) that are not SSDA903 column names"
        if others > len(named):
            text += ", not shown: is the header row missing?"
        else:
            text += ", not shown"
    return text or "none"


# --------------------------------------------------------------------------- decoding
def _sniff(data: bytes, file: str) -> tuple[str, str]:
    """The codec to read ``data`` with, and a label for the report.

    Tries what councils' exports actually use: a BOM (UTF-8 or UTF-16), UTF-16 without a BOM
    (every other byte NUL), UTF-8, Windows-1252 (Excel's "CSV" in England), then
    charset-normalizer's best guess.
    """
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", "UTF-8 with BOM"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", "UTF-16"
    head = data[:4096]
    if head and not head.strip(b"\x00"):
        raise InputError(
            "the file starts with nothing but NUL bytes: not a text export (a damaged or "
            "placeholder file), not read",
            file=file,
        )
    if head and head.count(b"\x00") > len(head) // 4:
        codec = "utf-16-le" if head[1:2] == b"\x00" else "utf-16-be"
        return codec, codec.upper()
    for codec, label in (("utf-8", "UTF-8"), ("cp1252", "Windows-1252")):
        try:
            data.decode(codec)
        except UnicodeDecodeError:
            continue
        return codec, label
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise InputError("unreadable file: not text in any encoding tried", file=file)
    return best.encoding, best.encoding


#: The text type of raw tables: pyarrow-backed strings, ``pd.NA`` for blank.
TEXT = pd.StringDtype("pyarrow")


def _blank_to_null(values: pd.Series | pa.Array | pa.ChunkedArray) -> pa.Array:
    """One column as one arrow text array; empty or whitespace-only cells -> null, others
    untouched. Arrow text keeps its type; pandas values become ``large_string``."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    text = values if isinstance(values, pa.Array) else pa.array(values.astype(TEXT))
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    if not pa.types.is_string(text.type) and not pa.types.is_large_string(text.type):
        text = text.cast(pa.large_string())
    blank = pc.or_(pc.equal(text, ""), pc.utf8_is_space(text))
    if not pc.any(blank).as_py():  # nothing to blank (the usual case): no copy
        return text
    return pc.if_else(pc.fill_null(blank, False), pa.scalar(None, text.type), text)


def _arrow_table(frame: pd.DataFrame) -> pa.Table:
    """A frame of text cells and ``_row`` in the :class:`RawTable` layout (blank -> null)."""
    arrays = [
        pa.array(frame[ROW].to_numpy(dtype="int64"))
        if name == ROW
        else _blank_to_null(frame[name].astype("object"))
        for name in frame.columns
    ]
    return pa.Table.from_arrays(arrays, names=[str(c) for c in frame.columns])


def _pandas_frame(data: pa.Table) -> pd.DataFrame:
    """The :class:`RawTable` layout as pandas: ``string[pyarrow]`` text, int64 ``_row``."""
    out: dict[str, object] = {}
    for name, column in zip(data.column_names, data.columns, strict=True):
        if name == ROW:
            out[name] = column.to_numpy().astype("int64")
        else:
            out[name] = _pandas_text(column).array
    return pd.DataFrame(out, index=pd.RangeIndex(data.num_rows))


def _pandas_text(column: pa.ChunkedArray | pa.Array) -> pd.Series:
    """One raw column as a ``string[pyarrow]`` Series."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks else pa.array([], pa.large_string())
    return pd.Series(pd.arrays.ArrowStringArray(column.cast(pa.large_string())))


def _finish(
    headers: list[object],
    columns: list[pd.Series] | list[pa.ChunkedArray],
    rows: np.ndarray,
    file: str,
    notes: list[str],
) -> tuple[str, pa.Table, list[str]]:
    """Match the header, keep the table's columns in DfE order, add ``_row``.

    ``columns`` are the file's columns in order (under ``headers``), as pandas Series or
    arrow arrays; ``rows`` the spreadsheet row number of each line. The result is the
    :class:`RawTable` layout: text columns (``string`` from pyarrow's CSV reader, else
    ``large_string``), blank cells null, and ``_row``.
    """
    headers = [str(h).strip() if h is not None and not pd.isna(h) else "" for h in headers]
    table, rename, missing = match_table(headers, file)
    rows = np.asarray(rows, dtype="int64")
    n = len(rows)
    if len(columns) > 1 and all(isinstance(c, pa.ChunkedArray) for c in columns):
        # All of a file's columns go through one kernel call (then split back): a national
        # run reads thousands of small files, where the cost is per call, not per cell.
        whole = _blank_to_null(
            pa.chunked_array([ch for c in columns for ch in c.chunks], type=columns[0].type)
        )
        texts = [whole.slice(i * n, n) for i in range(len(columns))]
        if texts[0].null_count == 0:  # a row with its first cell filled is not empty
            empty = np.zeros(n, dtype=bool)
        else:
            nulls = pc.is_null(whole).to_numpy(zero_copy_only=False).reshape(len(columns), n)
            empty = nulls.all(axis=0)
    else:
        texts = [_blank_to_null(c) for c in columns]
        empty = np.ones(n, dtype=bool)
        for text in texts:
            empty &= pc.is_null(text).to_numpy(zero_copy_only=False)
    if empty.any():
        notes.append(
            f"{int(empty.sum())} fully empty row(s) ignored (rows "
            f"{', '.join(str(r) for r in rows[empty][:10])})"
        )
        keep = pa.array(~empty)
        texts = [pc.filter(t, keep) for t in texts]
        rows = rows[~empty]
    extra = [h for h in headers if h not in rename]
    extra_named = [h for h in extra if h]
    if extra_named:
        notes.append(
            f"column(s) not in the {table} table ignored: {_names_shown(extra_named, headers)}"
        )
    unnamed = [h for h in extra if not h]
    under_blank = [t for t, h in zip(texts, headers, strict=True) if h == ""]
    if unnamed and any(pc.any(pc.is_valid(t)).as_py() for t in under_blank):
        notes.append("cells under a blank header ignored")
    names = list(_table_columns()[table][0])
    arrays: list[pa.Array] = []
    for col in names:
        source_col = next((h for h, c in rename.items() if c == col), None)
        if source_col is None:
            arrays.append(pa.nulls(len(rows), texts[0].type if texts else pa.large_string()))
        else:
            at = [i for i, h in enumerate(headers) if h == source_col]
            if len(at) > 1:  # the same header twice: first one wins
                notes.append(f"column {source_col} appears twice; the first is used")
            arrays.append(texts[at[0]])
    if missing:
        notes.append(f"optional column(s) absent, read as blank: {', '.join(missing)}")
    arrays.append(pa.array(rows, type=pa.int64()))
    return table, pa.Table.from_arrays(arrays, names=[*names, ROW]), notes


def _names_shown(names: list[str], headers: list[str]) -> str:
    """Column names for a note, as written: the header row of a table that matched is the
    council's column names, not a child's record. A name shaped like a record value (a
    number, a date, a postcode) or longer than 40 characters is given by its position
    instead, so a value typed into the header row is never quoted."""
    shown = [n for n in names if _is_column_name(n)]
    hidden = [headers.index(n) + 1 for n in names if n not in shown]
    parts = [printable(n) for n in shown]
    if hidden:
        where = ", ".join(str(i) for i in hidden[:10])
        parts.append(f"{len(hidden)} other(s) at column position(s) {where} (name not shown)")
    return ", ".join(parts)


def _is_column_name(name: str) -> bool:
    if _norm(name) in _all_column_keys() or quotable(name):
        return True
    return len(name) <= 40 and describe(name).startswith("text of")


def _frame_columns(cells: pd.DataFrame) -> tuple[list[object], list[pd.Series]]:
    """A frame's headers and its columns by position (headers may repeat)."""
    return list(cells.columns), [cells.iloc[:, i] for i in range(cells.shape[1])]


# --------------------------------------------------------------------------- file readers
def _read_csv(path: Path, source: str) -> list[_Parsed]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"unreadable file ({exc.strerror})", file=source) from exc
    codec, label = _sniff(data, source)
    notes = [] if label == "UTF-8" else [f"read as {label}"]
    # Blank lines before the header: look at the start of the file only (4 kB, or 64 kB
    # when the header is not whole in the first 4 kB).
    for size in (4096, 65536):
        head_bytes = data[:size]
        try:
            head = head_bytes.decode(codec, errors="ignore")
        except LookupError as exc:
            raise InputError(f"unreadable file (unknown encoding {codec})", file=source) from exc
        lines = head.splitlines()
        blank_lead = 0
        for line in lines:
            if line.strip().strip(",;\t").strip() == "":
                blank_lead += 1
            else:
                break
        if len(data) <= size or blank_lead < len(lines) - 1:
            break
    if blank_lead == len(lines):
        if len(data) <= len(head_bytes):
            raise InputError("empty file: no header row found", file=source)
        raise InputError("no header row in the first 64 kB of the file", file=source)
    if blank_lead:
        notes.append(f"{blank_lead} blank line(s) before the header skipped")
    semicolon = _looks_semicolon(lines[blank_lead])
    header_line = lines[blank_lead]
    rows_from = blank_lead + 2  # the header's line number + 1
    if codec in ("utf-8", "utf-8-sig"):
        utf8: bytes | None = data
    else:
        # Other encodings: decoded to UTF-8 for pyarrow's reader, when the header is one
        # pandas would not rename (duplicate or blank cells); anything pyarrow cannot read
        # goes to pandas below, which reads (or rejects) it as it always has.
        header = next(csv.reader([header_line], delimiter=";" if semicolon else ","))
        plain = all(h != "" for h in header) and len(set(header)) == len(header)
        try:
            utf8 = data.decode(codec).encode("utf-8") if plain else None
        except (UnicodeError, LookupError):
            utf8 = None
    if utf8 is not None and re.search(rb"\n\r?\n", utf8.lstrip(b"\r\n")) is None:
        try:
            headers, columns = _read_csv_arrow(
                utf8, codec, blank_lead, header_line, semicolon, source
            )
        except InputError:
            if utf8 is data:
                raise
        except _NotForArrow:
            pass
        else:
            rows = np.arange(rows_from, rows_from + len(columns[0]) if columns else rows_from)
            table, text, notes = _finish(headers, columns, rows, source, notes)
            return [_Parsed(table, source, text, path, notes)]
    try:
        cells = pd.read_csv(
            io.BytesIO(data),
            encoding=codec,
            skiprows=blank_lead,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
            sep=";" if semicolon else ",",
        )
    except (pd.errors.ParserError, ValueError, UnicodeDecodeError) as exc:
        raise _plain_csv_error(exc, blank_lead, source) from None
    rows = np.arange(rows_from, rows_from + len(cells))
    table, text, notes = _finish(*_frame_columns(cells), rows, source, notes)
    return [_Parsed(table, source, text, path, notes)]


def _plain_csv_error(exc: Exception, blank_lead: int, source: str) -> InputError:
    """pandas' reason a CSV cannot be read, without quoting any of its text."""
    found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
    if found:
        expected, line, saw = (int(g) for g in found.groups())
        return InputError(
            f"unreadable CSV: this row has {saw} cells where the header has {expected}",
            file=source,
            row=line + blank_lead,
        )
    if isinstance(exc, UnicodeDecodeError):
        return InputError(
            f"unreadable CSV: not valid {exc.encoding} text (at byte {exc.start})", file=source
        )
    return InputError(f"unreadable CSV ({type(exc).__name__})", file=source)


def _read_csv_arrow(
    data: bytes, codec: str, blank_lead: int, header_line: str, semicolon: bool, source: str
) -> tuple[list[str], list[pa.ChunkedArray]]:
    """The fast path for UTF-8 text without empty lines: pyarrow's CSV reader, all text.

    (pyarrow skips empty lines, which would shift row numbers, hence the condition.) The
    header is parsed separately so duplicate or blank header cells survive as they are.
    Returns the header cells and the columns, as arrow arrays.
    """
    import pyarrow.csv as pacsv

    sep = ";" if semicolon else ","
    header = next(csv.reader([header_line], delimiter=sep))
    if codec == "utf-8-sig":
        data = data[len(codecs.BOM_UTF8) :]
    read, parse, convert = _csv_options(len(header), blank_lead + 1, sep)
    try:
        table = pacsv.read_csv(
            pa.py_buffer(data), read_options=read, parse_options=parse, convert_options=convert
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        # pyarrow's message quotes the offending line (a child's record) or speaks of
        # "straddling objects"; say what is wrong in our words, or let pandas read it
        ragged = _ragged_row(data, len(header), blank_lead, sep)
        if ragged is not None:
            row, cells = ragged
            raise InputError(
                f"unreadable CSV: this row has {cells} cells where the header has {len(header)}",
                file=source,
                row=row,
            ) from None
        raise _NotForArrow from exc
    return header, table.columns


class _NotForArrow(Exception):
    """pyarrow could not read a file that has no ragged row (quoted line breaks): pandas
    reads it instead."""


def _ragged_row(data: bytes, width: int, blank_lead: int, sep: str) -> tuple[int, int] | None:
    """The first data row whose number of cells differs from the header's, as (row, cells).

    Only run when pyarrow has refused a file, so the Python loop costs nothing otherwise.
    """
    text = data.decode("utf-8", errors="replace")
    reader = csv.reader(io.StringIO(text), delimiter=sep)
    try:
        for cells in reader:
            if reader.line_num <= blank_lead + 1 or not cells:
                continue
            if len(cells) != width:
                return reader.line_num, len(cells)
    except csv.Error:
        return None  # pandas reads it, or says why in its own plain words
    return None


@lru_cache(maxsize=64)
def _csv_options(width: int, skip_rows: int, sep: str) -> tuple[object, object, object]:
    """pyarrow's CSV options for ``width`` text columns (made once per shape of file)."""
    import pyarrow.csv as pacsv

    names = [f"c{i}" for i in range(width)]
    return (
        pacsv.ReadOptions(skip_rows=skip_rows, column_names=names),
        pacsv.ParseOptions(delimiter=sep),
        pacsv.ConvertOptions(
            column_types={n: pa.string() for n in names},
            strings_can_be_null=True,  # empty (or "") cells -> null, nothing else
            null_values=[""],
            quoted_strings_can_be_null=True,
        ),
    )


def _looks_semicolon(header_line: str) -> bool:
    """Some European Excel settings write ``;``-separated "CSV"."""
    return header_line.count(";") > header_line.count(",")


def _excel_cell(value: object) -> object:
    """A workbook cell as text the cleaner understands.

    Dates become ISO ``yyyy-mm-dd`` (the date rule reads it); integers stay whole; floats
    keep their ``.0`` so the ID rule can see and report what Excel did to an ID.
    """
    if value is None:
        return pd.NA
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def _check_workbook(path: Path, source: str) -> None:
    """Refuse a workbook whose content would not fit in memory, before opening it.

    A workbook is a zip file: its members' uncompressed sizes are listed up front, so a
    file that unpacks to gigabytes (a zip bomb, or a sheet of millions of empty styled
    cells) is refused in milliseconds instead of failing minutes later out of memory.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except zipfile.BadZipFile:
        raise InputError("unreadable workbook (not an .xlsx zip file)", file=source) from None
    except OSError as exc:
        raise InputError(f"unreadable workbook ({exc.strerror})", file=source) from None
    if unpacked > MAX_WORKBOOK_BYTES:
        raise InputError(
            f"workbook unpacks to {_size(unpacked)}, more than the {_size(MAX_WORKBOOK_BYTES)} "
            "an SSDA903 return can need: not read (re-save it, or export the tables as CSV)",
            file=source,
        )


def _sheet_rows(sheet: object, sheet_source: str) -> list[list[object]]:
    """The cells of a sheet, row by row, as text; bounded whatever the sheet claims.

    A sheet states its own size (``A1:XFD1048576``), and openpyxl pads every row to it:
    a claim of 16,384 columns by a million rows fills memory with empty cells. The claim is
    dropped, so only the cells the sheet holds are read, and a sheet holding values beyond
    :data:`MAX_SHEET_COLUMNS` columns or :data:`MAX_SHEET_ROWS` rows is refused.
    """
    sheet.reset_dimensions()
    grid: list[list[object]] = []
    for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
        if number > MAX_SHEET_ROWS:
            raise InputError(
                f"sheet has more than {MAX_SHEET_ROWS:,} rows: not an SSDA903 table",
                file=sheet_source,
            )
        if len(row) > MAX_SHEET_COLUMNS:
            if any(v is not None and str(v).strip() for v in row[MAX_SHEET_COLUMNS:]):
                raise InputError(
                    f"sheet has values beyond column {MAX_SHEET_COLUMNS:,}: not an SSDA903 table",
                    file=sheet_source,
                    row=number,
                )
            row = row[:MAX_SHEET_COLUMNS]
        grid.append([_excel_cell(v) for v in row])
    width = max((len(r) for r in grid), default=0)
    return [r + [pd.NA] * (width - len(r)) for r in grid]


def _read_xlsx(path: Path, source: str) -> list[_Parsed]:
    from openpyxl import load_workbook

    _check_workbook(path, source)
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except OSError as exc:
        raise InputError(f"unreadable workbook ({exc.strerror})", file=source) from None
    except Exception as exc:  # openpyxl raises many types for a damaged workbook
        raise InputError(
            f"unreadable workbook ({printable(exc) or type(exc).__name__})", file=source
        ) from None
    parsed: list[_Parsed] = []
    file_notes: list[str] = []
    hidden_tables: list[str] = []
    try:
        for sheet in workbook.worksheets:
            sheet_source = f"{source}#{sheet.title}"
            state = getattr(sheet, "sheet_state", "visible") or "visible"
            if state != "visible":
                # a hidden sheet is often a stale copy (last year's, a working draft):
                # read, it would compete with the visible table for the same children
                file_notes.append(
                    f"sheet {sheet.title!r} is {'very ' if state == 'veryHidden' else ''}hidden "
                    "and was not read (only visible sheets are read: unhide it to include it)"
                )
                hidden_tables.append(sheet.title)
                continue
            grid = _sheet_rows(sheet, sheet_source)
            nonblank = [
                i
                for i, row in enumerate(grid)
                if any(not pd.isna(v) and str(v).strip() for v in row)
            ]
            if not nonblank:
                file_notes.append(f"sheet {sheet.title!r} is empty and was skipped")
                continue
            first = nonblank[0]
            header = [v if not pd.isna(v) else "" for v in grid[first]]
            if not any(_norm(h) in _all_column_keys() for h in header if str(h).strip()):
                file_notes.append(f"sheet {sheet.title!r} holds no SSDA903 table and was skipped")
                continue
            width = len(header)
            body = [(row + [pd.NA] * width)[:width] for row in grid[first + 1 :]]
            cells = pd.DataFrame(body, columns=range(width), dtype="object")
            rows = np.arange(first + 2, first + 2 + len(cells))
            notes = [f"{first} blank row(s) before the header skipped"] if first else []
            columns = [cells.iloc[:, i] for i in range(width)]
            table, text, notes = _finish(header, columns, rows, sheet_source, notes)
            parsed.append(_Parsed(table, sheet_source, text, path, notes))
    finally:
        workbook.close()
    if not parsed:
        hint = (
            f" on a visible sheet ({len(hidden_tables)} hidden sheet(s) not read: unhide the "
            "one to use)"
            if hidden_tables
            else ""
        )
        raise InputError(f"workbook holds no SSDA903 table{hint}", file=source)
    by_table: dict[str, list[str]] = defaultdict(list)
    for p in parsed:
        by_table[p.table].append(p.source.rsplit("#", 1)[-1])
    for table, titles in by_table.items():
        if len(titles) > 1:  # e.g. this year's and a stale copy: both are read, and said
            file_notes.append(
                f"sheets {', '.join(repr(t) for t in titles)} all hold the {table} table: each "
                "is read as its own file (remove a stale copy if one is)"
            )
    parsed[0].notes = file_notes + parsed[0].notes
    return parsed


@cache
def _all_column_keys() -> frozenset[str]:
    return frozenset(_dfe_names())


@cache
def _dfe_names() -> dict[str, str]:
    """Comparison key -> DfE column name, over every table of every year."""
    return {_norm(c): c for cols, _ in _table_columns().values() for c in cols}


def _xml_name(tag: str) -> str:
    """An XML element name as the DfE CSV column name (``CHILDID`` -> ``CHILD``)."""
    return _dfe_names().get(_norm(tag), tag)


# XML: which HEADER children make up each child-level table.
_XML_HEADER = ["CHILD", "UPN", "SEX", "DOB", "ETHNIC", "MOTHER", "MC_DOB"]
_XML_UASC = ["CHILD", "SEX", "DOB", "DUC"]
_XML_AD1 = ["DATE_INT", "DATE_MATCH", "FOSTER_CARE", "NB_ADOPTR", "SEX_ADOPTR", "LS_ADOPTR"]
_XML_OC3 = ["IN_TOUCH", "ACTIV", "ACCOM"]
# Repeating groups inside HEADER (or CHILD): element -> table.
_XML_GROUPS = {
    "AMISSING": "missing",
    "AREVIEW": "reviews",
    "PERMANENCE": "prev_perm",
    "OC2": "oc2",
    "AD_PLACED": "placed_adoption",
    "EPISODE": "episodes",
    "SWEPISODE": "sw_episodes",
    "SW_EPISODE": "sw_episodes",
}
_TRUE = {"1", "TRUE", "Y", "YES"}


def _xml_text(element: ET.Element | None) -> object:
    if element is None or element.text is None or not element.text.strip():
        return pd.NA
    return element.text


def _read_xml(path: Path, source: str) -> list[_Parsed]:
    """Read the DfE XML (root ``EXPSSDA903``, one ``CHILD`` per child) into tables."""
    records: dict[str, list[dict[str, object]]] = defaultdict(list)
    unknown: set[str] = set()
    position = 0
    try:
        for _, element in ET.iterparse(path, events=("end",)):
            if element.tag != "CHILD" or element.find("HEADER") is None:
                continue
            position += 1
            header = element.find("HEADER")
            fields = {_xml_name(c.tag): _xml_text(c) for c in header if len(c) == 0}
            fields["_row"] = position
            base = {"CHILD": fields.get("CHILD", pd.NA), "DOB": fields.get("DOB", pd.NA)}
            records["header"].append({c: fields.get(c, pd.NA) for c in [*_XML_HEADER, "_row"]})
            if str(fields.get("UASC", "")).strip().upper() in _TRUE:
                records["uasc"].append({c: fields.get(c, pd.NA) for c in [*_XML_UASC, "_row"]})
            if any(not pd.isna(fields.get(c, pd.NA)) for c in _XML_AD1):
                records["ad1"].append({**base, **{c: fields.get(c, pd.NA) for c in _XML_AD1}})
                records["ad1"][-1]["_row"] = position
            if any(not pd.isna(fields.get(c, pd.NA)) for c in _XML_OC3):
                records["oc3"].append({**base, **{c: fields.get(c, pd.NA) for c in _XML_OC3}})
                records["oc3"][-1]["_row"] = position
            known = set(_XML_HEADER) | set(_XML_UASC) | set(_XML_AD1) | set(_XML_OC3)
            unknown |= {k for k in fields if k not in known | {"UASC", "_row"}}
            for group in [*header, *element]:
                table = _XML_GROUPS.get(group.tag)
                if table is None:
                    if group is not header and len(group):
                        unknown.add(group.tag)
                    continue
                row = {k: v for k, v in base.items() if k in _table_columns()[table][0]}
                row.update({_xml_name(c.tag): _xml_text(c) for c in group})
                row["_row"] = position
                records[table].append(row)
            element.clear()
    except ET.ParseError as exc:
        raise InputError(f"unreadable XML ({exc})", file=source) from exc
    except OSError as exc:
        raise InputError(f"unreadable file ({exc.strerror})", file=source) from exc
    if position == 0:
        raise InputError("XML holds no CHILD records (is the root EXPSSDA903?)", file=source)
    parsed = []
    for table, rows in records.items():
        columns = _table_columns()[table][0]
        frame = pd.DataFrame.from_records(rows)
        extra = sorted(set(frame.columns) - set(columns) - {ROW})
        frame = frame.reindex(columns=[*columns, ROW])
        notes = (
            [f"{table}: element(s) not in the table ignored: {_tags_shown(extra)}"] if extra else []
        )
        parsed.append(_Parsed(table, source, _arrow_table(frame), path, notes))
    parsed.sort(key=lambda p: list(_table_columns()).index(p.table))
    parsed[0].notes.insert(0, f"XML with {position} children; row numbers are child positions")
    if unknown:
        parsed[0].notes.append(f"XML element(s) not read: {_tags_shown(sorted(unknown))}")
    return parsed


def _tags_shown(tags: list[str]) -> str:
    """XML element names for a note: those of the schema as written, others counted."""
    shown = [t for t in tags if _norm(t) in _all_column_keys() or quotable(t) or t in _XML_KNOWN]
    others = len(tags) - len(shown)
    return ", ".join(shown) + (f"{' and ' if shown else ''}{others} other(s)" if others else "")


_XML_KNOWN = frozenset({"EXPSSDA903", "CHILD", "HEADER", "EPISODE", "UASC", *_XML_GROUPS})


def _size(n: int) -> str:
    """Bytes in words: ``"2.0 GB"``, ``"512 MB"``."""
    if n >= 1 << 30:
        return f"{n / (1 << 30):.1f} GB"
    return f"{max(n, 0) / (1 << 20):.0f} MB"


def _check_file(path: Path, source: str) -> None:
    """Refuse, before reading a byte, a file too big to be a return or mostly holes.

    A 2 GB file (or a "sparse" one: long, but with almost nothing stored on disk, as a
    damaged copy or a planted file can be) would otherwise be loaded whole, then decoded,
    and fail minutes later out of memory.
    """
    try:
        info = path.stat()
    except OSError as exc:
        raise InputError(f"unreadable file ({exc.strerror})", file=source) from None
    if info.st_size > MAX_FILE_BYTES:
        raise InputError(
            f"file is {_size(info.st_size)}, more than the {_size(MAX_FILE_BYTES)} an SSDA903 "
            "return can be: not read (is it the right file?)",
            file=source,
        )
    stored = getattr(info, "st_blocks", None)
    if stored is not None and info.st_size > (1 << 20) and stored * 512 < info.st_size // 8:
        raise InputError(
            f"file is sparse ({_size(info.st_size)} long, {_size(stored * 512)} stored on "
            "disk): not a council's export, not read",
            file=source,
        )


def read_file(path: Path, source: str) -> list[_Parsed]:
    """Read one CSV, workbook or XML file into tables (year not yet settled)."""
    _check_file(path, source)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_csv(path, source)
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path, source)
    if suffix == ".xml":
        return _read_xml(path, source)
    raise InputError(f"not a CSV, workbook or XML file ({suffix})", file=source)


# --------------------------------------------------------------------------- years, council
def _named_year(relative: Path) -> NamedYear | None:
    """The year in the file name, else the nearest folder name that holds one."""
    for part in [relative.stem, *reversed(relative.parent.parts)]:
        found = year_from_text(part)
        if found is not None:
            return found
    return None


def _council(relative: Path) -> str | None:
    """Council code from ``<council>/<year>/<file>``: the folder just above the year folder."""
    parts = relative.parent.parts
    for i, part in enumerate(parts):
        if year_from_text(part) is not None and i > 0 and _COUNCIL.match(parts[i - 1]):
            return parts[i - 1]
    return None


_DATE_COLUMNS = {"episodes": "DECOM", "missing": "MIS_START", "reviews": "REVIEW"}


def _dates(parsed: list[_Parsed], table: str) -> pd.Series:
    """Parsed start dates of ``table`` across a return's files (dd/mm/yyyy or ISO)."""
    column = _DATE_COLUMNS[table]
    values = [p.data.column(column) for p in parsed if p.table == table]
    if not values:
        return pd.Series(dtype="datetime64[ns]")
    whole = pa.chunked_array([v.cast(pa.large_string()) for v in values], pa.large_string())
    text = _pandas_text(whole).dropna().str.strip()
    dates = strict_dmy_dates(text)
    rest = dates.isna()
    if rest.any():  # ISO dates, as a workbook's date cells are read
        dates[rest] = pd.to_datetime(text[rest], format="%Y-%m-%d", errors="coerce")
    return dates.dropna()


def _settle_year(
    parsed: list[_Parsed],
    named: NamedYear | None,
    where: str,
    report: QualityReport | _OncePerSource,
) -> int:
    """The collection year of one return (one folder, one named year)."""
    if named is not None and not named.bare:
        return named.year
    evidence = None
    for table in ("episodes", "missing", "reviews"):
        dates = _dates(parsed, table)
        if not dates.empty:
            evidence = (table, dates)
            break
    if named is not None and not named.bare:
        return named.year
    if named is not None:
        if evidence is not None and dates_run_past_year_end(evidence[1], named.year):
            table, dates = evidence
            year = named.year + 1
            for p in parsed:
                report.note(
                    p.source,
                    f"named {named.text}, but its return's {table} dates run past 31 March "
                    f"{named.year} (latest in {dates.max():%B %Y}): read as the "
                    f"{schema.year_label(year)} return, as the file was named by the year "
                    "it starts",
                )
            return year
        return named.year
    if evidence is None:
        raise InputError(
            "no collection year in the file or folder name, and no episode, missing or "
            "review dates to infer one from; put the files in a folder named like 2024-25",
            file=where,
        )
    table, dates = evidence
    # The latest date that is not a stray typo (dates after today cannot be real).
    plausible = dates[dates <= pd.Timestamp.today().normalize()]
    latest = (plausible if not plausible.empty else dates).max()
    year = int(collection_year_of(pd.Series([latest])).iloc[0])
    for p in parsed:
        report.note(
            p.source,
            f"no year in the name: read as the {schema.year_label(year)} return, from the "
            f"latest {table} date, in {latest:%B %Y}",
        )
    return year


# --------------------------------------------------------------------------- finding files
_KINDS = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
)


def _checked_name(relative: str) -> str:
    """A path for the report; refused when its name is not valid UTF-8 text.

    Such a name (bytes from another system's encoding) cannot be written to the quality
    report or a log line, so the file would otherwise end the run as an internal error.
    """
    try:
        relative.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(
            "file or folder name is not valid UTF-8 (bad bytes shown escaped): rename it",
            file=printable(relative),
        ) from None
    return relative


def _refuse_link(path: Path, raw_dir: Path, relative: str) -> None:
    """A symbolic link is never followed (module docs of :func:`find_return_files`)."""
    try:
        inside = path.resolve().is_relative_to(raw_dir.resolve())
    except (OSError, RuntimeError):
        inside = False
    raise InputError(
        f"a symbolic link ({'within' if inside else 'to outside'} the raw folder): links are "
        "not followed; copy the files themselves into the raw folder",
        file=relative,
    )


def find_return_files(raw_dir: Path, report: QualityReport) -> list[Path]:
    """Every file under ``raw_dir`` that is a return; everything else reported or refused.

    Nothing in the raw folder is passed over in silence, because a return that is skipped
    quietly publishes a year with no children in it:

    * a folder that cannot be listed (no permission) stops the run: its returns are unknown;
    * a symbolic link (to a file or folder, inside or outside the raw folder) is not
      followed and stops the run: following it could read any file on the machine, and
      quote it, and ignoring it would lose the return it stands for -- copy the files in;
    * a named pipe, socket or device stops the run (opening a pipe would wait forever);
    * a file or folder name that is not valid UTF-8 stops the run (it cannot be reported);
    * hidden files and folders (``.name``), Excel's lock files (``~$name``) and files that
      are not CSV, workbook or XML are not read, and each is noted in the report (apart from
      ``README``, ``.gitkeep``, ``.DS_Store`` and ``Thumbs.db``).

    Returns
    -------
    list of Path
        The CSV, workbook and XML files, sorted.
    """
    raw_dir = Path(raw_dir)
    files: list[Path] = []
    folders = [raw_dir]
    while folders:  # a walk over folders, not over rows
        folder = folders.pop()
        where = _checked_name(folder.relative_to(raw_dir).as_posix())
        prefix = "" if where == "." else where + "/"
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as exc:
            raise InputError(
                f"folder cannot be read ({exc.strerror}): the returns in it would be left "
                "out, so nothing was built; fix its permissions or move it out of the raw "
                "folder",
                file=where,
            ) from None
        for entry in entries:
            relative = _checked_name(prefix + entry.name)
            hidden = entry.name.startswith(".")
            # the entry's type comes with the listing: no call to the disk per file
            if entry.is_symlink():
                _refuse_link(Path(entry.path), raw_dir, relative)
            if entry.is_dir(follow_symlinks=False):
                if hidden:
                    report.note(relative, "hidden folder: not read")
                else:
                    folders.append(Path(entry.path))
                continue
            if not entry.is_file(follow_symlinks=False):
                try:
                    mode = entry.stat(follow_symlinks=False).st_mode
                except OSError as exc:
                    raise InputError(f"cannot be read ({exc.strerror})", file=relative) from None
                kind = next((label for test, label in _KINDS if test(mode)), "not a file")
                raise InputError(
                    f"not a file but {kind}: not read; remove it from the raw folder",
                    file=relative,
                )
            if _IGNORED_NAMES.match(entry.name):
                continue
            if hidden:
                report.note(relative, "hidden file: not read")
            elif entry.name.startswith("~$"):
                report.note(relative, "Excel's lock file of an open workbook: not read")
            elif os.path.splitext(entry.name)[1].lower() in DATA_SUFFIXES:
                files.append(Path(entry.path))
            else:
                report.note(relative, "not a CSV, workbook or XML file: not read")
    return sorted(files)


# --------------------------------------------------------------------------- entry point
class _OncePerSource:
    """Pass notes to the report once per (source, message): an XML file yields many tables."""

    def __init__(self, report: QualityReport) -> None:
        self._report = report
        self._seen: set[tuple[str, str]] = set()

    def note(self, source: str, message: str) -> None:
        if (source, message) not in self._seen:
            self._seen.add((source, message))
            self._report.note(source, message)


def read_returns(raw_dir: Path, report: QualityReport) -> list[RawTable]:
    """Read every SSDA903 return under ``raw_dir`` into raw string tables.

    Parameters
    ----------
    raw_dir : Path
        Folder of returns, in any layout: ``2024-25/episodes.csv``,
        ``999/2024-25/episodes.csv`` (several councils), ``SSDA903_2025.xml``, a workbook
        per year, or files named by year in one folder.
    report : QualityReport
        Receives file-level notes (encoding, year inferred, columns ignored).

    Returns
    -------
    list of RawTable
        One per table per file (per sheet for workbooks), sorted by year, council, source.

    Raises
    ------
    InputError
        Naming the file (and row/column where one applies): missing folder, no returns,
        unreadable file, unknown table, missing column, unknown year.
    """
    raw_dir = Path(raw_dir)
    if not raw_dir.is_dir():
        raise InputError("raw data folder not found", file=raw_dir)
    files = find_return_files(raw_dir, report)
    if not files:
        raise InputError(f"no SSDA903 returns found in {raw_dir}", file=raw_dir)

    # One return = the files of one folder named with the same year.
    groups: dict[tuple[str, int | None, bool], list[_Parsed]] = defaultdict(list)
    named_years: dict[tuple[str, int | None, bool], NamedYear | None] = {}
    for path in files:
        relative = path.relative_to(raw_dir)
        source = relative.as_posix()
        named = _named_year(relative)
        key = (
            relative.parent.as_posix(),
            None if named is None else named.year,
            bool(named and named.bare),
        )
        named_years[key] = named
        for parsed in read_file(path, source):
            groups[key].append(parsed)

    tables: list[RawTable] = []
    valid_years = schema.collection_years()
    report = _OncePerSource(report)
    for key, parsed in groups.items():
        named = named_years[key]
        year = _settle_year(parsed, named, parsed[0].source, report)
        if year not in valid_years:
            raise InputError(
                f"a return for an unknown year ({schema.year_label(year)}); this tool knows "
                f"{schema.year_label(valid_years[0])} to {schema.year_label(valid_years[-1])}",
                file=parsed[0].source,
            )
        for p in parsed:
            for message in p.notes:
                report.note(p.source, message)
            if p.table not in schema.table_specs(year):
                first = next(y for y in valid_years if p.table in schema.table_specs(y))
                report.note(
                    p.source,
                    f"a {p.table} table in the {schema.year_label(year)} return, which did not "
                    f"collect it (first collected {schema.year_label(first)}): read with "
                    f"{schema.year_label(first)}'s columns",
                )
            tables.append(
                RawTable(p.table, year, _council(p.path.relative_to(raw_dir)), p.source, p.data)
            )
    tables.sort(key=lambda t: (t.year, t.la or "", t.source))
    return tables
