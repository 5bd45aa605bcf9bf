"""The data-quality report: an account of every raw row, from reading to the processed tables.

A council analyst has to be able to answer "where did row 812 of our episodes file go?" and
a committee has to trust that no child was dropped quietly. So every step that reads, repairs
or sets aside rows says so here, by *rule name*, and the report checks the books balance:
for every (source file, table), ``rows read = rows kept + rows set aside``.

Vocabulary
----------
source
    The input file relative to the raw folder (``"2024-25/episodes.csv"``; ``"#<sheet>"``
    appended for a workbook sheet). Never an absolute path: the report is published on the
    data-quality page, and a path can name a person or a network share.
row
    The row number a spreadsheet would show: header line = 1, first data row = 2, counting
    blank leading lines. For XML, the child's 1-based position in the file.
set aside
    A row that does not reach the processed tables (an exact duplicate, an episode with no
    child ID). Each row must be set aside by one rule only (the step that sets it aside
    removes it, so a later rule never sees it): counts are summed, not de-duplicated, because
    in XML all the records of one child share the child's row number.
flagged
    A value kept as it is but listed because it cannot be right together with another
    (an episode starting before the child's birth).
changed
    A value repaired or blanked in a row that is kept (``"1234.0"`` -> ``"1234"``, an
    unparseable date made missing).
note
    A finding about a whole file (its encoding, a year inferred from its dates).

Rows numbers are not personal data, so the first ten of each finding are kept as a sample to
help a council find them; cell values are never stored here unless the caller puts them in
the reason, and a reason quotes a value only when it is a code of the schema's lists or two
characters at most (:mod:`cpanalysis.quoting` states the rule); any other value is named by
its shape.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath

import numpy as np
import pandas as pd

__all__ = ["QualityReport", "SAMPLE_ROWS"]

#: How many row numbers each finding keeps as a sample.
SAMPLE_ROWS = 10

SUMMARY_COLUMNS = [
    "source",
    "table",
    "year",
    "rows_read",
    "rows_kept",
    "rows_replaced",
    "rows_set_aside",
    "balanced",
]
DETAIL_COLUMNS = ["source", "table", "rule", "column", "action", "count", "reason", "sample_rows"]
CSV_COLUMNS = [
    "section",
    "source",
    "table",
    "year",
    "rule",
    "column",
    "action",
    "count",
    "reason",
    "sample_rows",
]


@dataclass
class _Finding:
    """Accumulated rows of one (source, table, rule, column, action)."""

    reason: str
    count: int = 0
    sample: list[int] = field(default_factory=list)


@dataclass
class _TableBook:
    """The ledger of one (source, table): rows read and rows set aside."""

    year: int | None = None
    rows_read: int | None = None
    set_aside: int = 0
    replaced: int = 0
    kept: int | None = None


def _check_source(source: str) -> str:
    """Refuse absolute paths: sources are shown relative to the raw folder."""
    text = str(source)
    if PurePosixPath(text).is_absolute() or PureWindowsPath(text).is_absolute():
        raise ValueError(f"quality report sources must be relative to the raw folder, got {text!r}")
    return text


def _as_rows(rows: Sequence[int] | np.ndarray | pd.Series | pd.Index) -> np.ndarray:
    """Row numbers as a flat int64 array (accepts lists, arrays, Series, Index)."""
    arr = np.asarray(rows, dtype=np.int64).ravel()
    return arr


class QualityReport:
    """Accounts for every raw row, per (source, table): rows read = rows kept + rows replaced
    by a later return + rows set aside.

    Three outcomes, because they mean different things to a reader: a row *kept* reaches the
    processed tables; a row *replaced* is an earlier copy of a record that a later return
    sent again (each year's return repeats the episodes open at 31 March, and later returns
    correct earlier ones), so nothing is lost; a row *set aside* could not be used, and the
    rule that set it aside says why.

    The reader and cleaner fill it (``rows_read``, ``set_aside``, ``changed``, ``note``); the
    merge step adds what it sets aside; the pipeline writes it beside the processed tables
    with :meth:`write`, after :meth:`check_balanced`.

    Examples
    --------
    >>> r = QualityReport()
    >>> r.rows_read("2024-25/episodes.csv", "episodes", 2025, 3)
    >>> r.set_aside("2024-25/episodes.csv", "episodes", [4], "exact_duplicates", "same as row 3")
    >>> int(r.summary().loc[0, "rows_kept"])
    2
    """

    def __init__(self) -> None:
        self._books: dict[tuple[str, str], _TableBook] = {}
        self._findings: dict[tuple[str, str, str, str, str], _Finding] = {}
        self._notes: list[tuple[str, str]] = []

    # ----------------------------------------------------------------- recording
    def _book(self, source: str, table: str) -> _TableBook:
        key = (_check_source(source), table)
        if key not in self._books:
            self._books[key] = _TableBook()
        return self._books[key]

    def rows_read(self, source: str, table: str, year: int, n: int) -> None:
        """Record that ``n`` data rows of ``table`` (collection ``year``) were read from ``source``.

        Calling it again for the same (source, table) replaces the count: a table is read once.
        """
        if n < 0:
            raise ValueError(f"rows read cannot be negative ({source}, {table}: {n})")
        book = self._book(source, table)
        book.year = int(year)
        book.rows_read = int(n)

    def set_aside(
        self, source: str, table: str, rows: Sequence[int], rule: str, reason: str
    ) -> None:
        """Record rows that will not reach the processed tables, and why.

        Parameters
        ----------
        source, table : str
            Where the rows were read from.
        rows : sequence of int
            Spreadsheet row numbers (the ``_row`` column), one per row set aside (repeats
            allowed: XML records of one child share a row number). Set each row aside once.
        rule : str
            Name of the cleaning or merge rule (``"exact_duplicates"``).
        reason : str
            Plain-English reason, shown on the data-quality page.
        """
        arr = _as_rows(rows)
        if arr.size == 0:
            return
        book = self._book(source, table)
        book.set_aside += int(arr.size)
        self._add_finding(source, table, rule, None, "set aside", arr, reason)

    def replaced(
        self, source: str, table: str, rows: Sequence[int], rule: str, reason: str
    ) -> None:
        """Record rows superseded by the same record in a later return (nothing is lost).

        Parameters are as :meth:`set_aside`; the rows count as *replaced*, not set aside.
        """
        arr = _as_rows(rows)
        if arr.size == 0:
            return
        book = self._book(source, table)
        book.replaced += int(arr.size)
        self._add_finding(source, table, rule, None, "replaced by a later return", arr, reason)

    def changed(
        self,
        source: str,
        table: str,
        rule: str,
        rows: Sequence[int],
        column: str | None,
        reason: str,
    ) -> None:
        """Record values repaired or blanked in rows that are kept.

        Parameters
        ----------
        source, table : str
            Where the rows were read from.
        rule : str
            Name of the cleaning rule (``"id_from_float"``).
        rows : sequence of int
            Spreadsheet row numbers of the cells changed.
        column : str or None
            The column changed (None when the rule touches the whole row).
        reason : str
            Plain-English reason.
        """
        arr = _as_rows(rows)
        if arr.size == 0:
            return
        self._book(source, table)
        self._add_finding(source, table, rule, column, "changed", arr, reason)

    def flagged(
        self,
        source: str,
        table: str,
        rule: str,
        rows: Sequence[int],
        column: str | None,
        reason: str,
    ) -> None:
        """Record values that look wrong but are kept as they are (which one of two
        disagreeing dates is wrong cannot be told); parameters as :meth:`changed`."""
        arr = _as_rows(rows)
        if arr.size == 0:
            return
        self._book(source, table)
        self._add_finding(source, table, rule, column, "flagged", arr, reason)

    def kept(self, source: str, table: str, n: int) -> None:
        """Optionally record the rows actually kept, so :meth:`check_balanced` can verify them.

        Without it, rows kept is derived as rows read minus rows set aside. With it, the
        balance is a real check: a step that dropped rows without calling :meth:`set_aside`
        makes the report unbalanced.
        """
        self._book(source, table).kept = int(n)

    def note(self, source: str, message: str) -> None:
        """Record a finding about a whole file (encoding, year inferred, column ignored)."""
        self._notes.append((_check_source(source), str(message)))

    def _add_finding(
        self,
        source: str,
        table: str,
        rule: str,
        column: str | None,
        action: str,
        rows: np.ndarray,
        reason: str,
    ) -> None:
        key = (_check_source(source), table, rule, column or "", action)
        finding = self._findings.get(key)
        if finding is None:
            finding = self._findings[key] = _Finding(reason=reason)
        elif reason not in finding.reason.split(" | "):
            finding.reason = f"{finding.reason} | {reason}"
        finding.count += int(rows.size)
        if len(finding.sample) < SAMPLE_ROWS:
            merged = sorted(set(finding.sample) | set(np.sort(rows)[:SAMPLE_ROWS].tolist()))
            finding.sample = [int(r) for r in merged[:SAMPLE_ROWS]]

    # ----------------------------------------------------------------- reading
    @property
    def notes(self) -> list[tuple[str, str]]:
        """File-level findings as (source, message) pairs, in the order recorded."""
        return list(self._notes)

    def summary(self) -> pd.DataFrame:
        """One row per (source, table): year, rows read, kept, replaced, set aside, balanced.

        ``balanced`` is True when the table was read and ``rows_read == rows_kept +
        rows_replaced + rows_set_aside`` with no more rows removed than read (and, when
        :meth:`kept` was called, the recorded rows kept agree).
        """
        records = []
        for (source, table), book in sorted(self._books.items()):
            read = book.rows_read
            aside = book.set_aside
            replaced = book.replaced
            removed = aside + replaced
            kept = (
                book.kept if book.kept is not None else (None if read is None else read - removed)
            )
            balanced = (
                read is not None and kept is not None and kept >= 0 and read == kept + removed
            )
            records.append(
                {
                    "source": source,
                    "table": table,
                    "year": book.year,
                    "rows_read": read,
                    "rows_kept": kept,
                    "rows_replaced": replaced,
                    "rows_set_aside": aside,
                    "balanced": bool(balanced),
                }
            )
        frame = pd.DataFrame.from_records(records, columns=SUMMARY_COLUMNS)
        for col in ["year", "rows_read", "rows_kept", "rows_replaced", "rows_set_aside"]:
            frame[col] = frame[col].astype("Int64")
        frame["balanced"] = frame["balanced"].astype(bool)
        return frame

    def details(self) -> pd.DataFrame:
        """One row per (source, table, rule, column, action): count, reason, sample_rows.

        ``column`` is empty for whole-row findings; ``action`` is ``"set aside"``,
        ``"replaced by a later return"``, ``"changed"`` or ``"flagged"``; ``sample_rows`` is the
        first ten row numbers as text (``"2, 5, 9"``).
        """
        records = [
            {
                "source": source,
                "table": table,
                "rule": rule,
                "column": column or None,
                "action": action,
                "count": f.count,
                "reason": f.reason,
                "sample_rows": ", ".join(str(r) for r in f.sample),
            }
            for (source, table, rule, column, action), f in sorted(self._findings.items())
        ]
        frame = pd.DataFrame.from_records(records, columns=DETAIL_COLUMNS)
        frame["count"] = frame["count"].astype("Int64")
        return frame

    def rule_counts(self) -> pd.DataFrame:
        """Rows touched per rule over all sources: rule, action, count (methodology page)."""
        details = self.details()
        if details.empty:
            return pd.DataFrame({"rule": [], "action": [], "count": pd.array([], "Int64")})
        return details.groupby(["rule", "action"], as_index=False)["count"].sum()

    def check_balanced(self) -> None:
        """Raise AssertionError naming each (source, table) whose rows do not add up."""
        summary = self.summary()
        bad = summary[~summary["balanced"]]
        if bad.empty:
            return
        lines = []
        for row in bad.itertuples(index=False):
            read = "never read" if pd.isna(row.rows_read) else f"read {row.rows_read}"
            lines.append(
                f"{row.source} ({row.table}): {read}, kept {row.rows_kept}, "
                f"replaced {row.rows_replaced}, set aside {row.rows_set_aside}"
            )
        raise AssertionError("quality report does not balance: " + "; ".join(lines))

    # ----------------------------------------------------------------- writing
    def to_tidy(self) -> pd.DataFrame:
        """Summary, details and notes as one tidy table (one finding or count per row).

        ``section`` is ``summary`` (action = rows_read / rows_kept / rows_replaced /
        rows_set_aside), ``detail`` (action = set aside / replaced by a later return /
        changed) or ``note`` (reason = the message).
        """
        summary = self.summary()
        parts = []
        if not summary.empty:
            long = summary.melt(
                id_vars=["source", "table", "year"],
                value_vars=["rows_read", "rows_kept", "rows_replaced", "rows_set_aside"],
                var_name="action",
                value_name="count",
            )
            long["section"] = "summary"
            parts.append(long)
        details = self.details()
        if not details.empty:
            years = summary.set_index(["source", "table"])["year"]
            details = details.join(years, on=["source", "table"])
            details["section"] = "detail"
            parts.append(details)
        if self._notes:
            notes = pd.DataFrame(self._notes, columns=["source", "reason"])
            notes["section"] = "note"
            notes["action"] = "note"
            parts.append(notes)
        if not parts:
            return pd.DataFrame(columns=CSV_COLUMNS)
        tidy = pd.concat(parts, ignore_index=True).reindex(columns=CSV_COLUMNS)
        tidy["year"] = tidy["year"].astype("Int64")
        tidy["count"] = tidy["count"].astype("Int64")
        return tidy

    def write(self, out_dir: Path) -> list[Path]:
        """Write ``quality_report.csv`` (tidy) and ``quality_report.json`` into ``out_dir``.

        The CSV is for people (opens in Excel, one finding per row); the JSON holds
        ``summary``, ``details`` and ``notes`` for the site's data-quality page.

        Returns
        -------
        list of Path
            The two files written.
        """
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        csv_path = out_dir / "quality_report.csv"
        json_path = out_dir / "quality_report.json"
        # UTF-8 with a byte-order mark, as every published CSV (Excel on Windows reads a
        # file without one as its own code page), and "\n" line endings on every platform
        self.to_tidy().to_csv(csv_path, index=False, encoding="utf-8-sig", lineterminator="\n")

        def records(frame: pd.DataFrame) -> list[dict]:
            return json.loads(frame.to_json(orient="records"))

        payload = {
            "summary": records(self.summary()),
            "details": records(self.details()),
            "notes": [{"source": s, "message": m} for s, m in self._notes],
            "balanced": bool(self.summary()["balanced"].all()),
        }
        json_path.write_text(json.dumps(payload, indent=2), encoding="utf-8")
        return [csv_path, json_path]
