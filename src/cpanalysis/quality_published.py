"""The cleaning report as the site publishes it: small numbers of records withheld.

Why a published copy: every SSDA903 table is about children, and several hold one row per
child (UASC, AD1, OC2, OC3), so "rows read: 3" in a council's ``uasc.csv`` says that three
children were unaccompanied asylum seekers: a count of children with a characteristic, which
the DfE would suppress. The report in ``data/processed/`` stays exact for the analyst; the
Data quality page and its download show ``c`` instead.

The rule, chosen so that nothing withheld can be worked back:

* a file in which any count is 1 to the threshold has **every** count withheld (its rows
  read, kept, replaced and set aside balance, and each finding's count: they add up to one
  another, so hiding one alone would not hide it), with the findings' sample row numbers
  (ten or fewer numbers would give the count away);
* a rule's total over files is withheld where any of its counts is;
* in the notes, a number of children (or "N more") from 1 to the threshold reads
  "1 to N" (the merge's note on children missing from the next return counts children).
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["WITHHELD", "published_quality", "write_published_csv"]

#: What a withheld count shows, as in every published table.
WITHHELD = "c"
_SUMMARY_COUNTS = ("rows_read", "rows_kept", "rows_replaced", "rows_set_aside")
_SMALL_IN_WORDS = re.compile(r"\b(\d+)( children| child| more)\b")


def _small(value: Any, threshold: int) -> bool:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return False
    return 1 <= number <= threshold


def _withheld_sources(summary: pd.DataFrame, details: pd.DataFrame, threshold: int) -> set[str]:
    """The files with any count from 1 to the threshold."""
    sources: set[str] = set()
    if not summary.empty:
        small = pd.Series(False, index=summary.index)
        for column in _SUMMARY_COUNTS:
            if column in summary:
                small |= summary[column].map(lambda v: _small(v, threshold))
        sources |= set(summary.loc[small, "source"])
    if not details.empty and "count" in details:
        small = details["count"].map(lambda v: _small(v, threshold))
        sources |= set(details.loc[small, "source"])
    return sources


def _note_in_words(message: str, threshold: int) -> str:
    def words(match: re.Match[str]) -> str:
        number, noun = int(match.group(1)), match.group(2)
        if not 1 <= number <= threshold:
            return match.group(0)
        return f"1 to {threshold}{' children' if noun == ' child' else noun}"

    text = _SMALL_IN_WORDS.sub(words, message)
    if text != message:
        text = text.replace(" is missing from the next return", " are missing from the next return")
    return text


def published_quality(quality: dict[str, Any], threshold: int = 5) -> dict[str, Any]:
    """The report's JSON (``summary``, ``details``, ``notes``) with small counts withheld.

    Parameters
    ----------
    quality : dict
        Content of ``quality_report.json``.
    threshold : int
        Counts from 1 to this are withheld (the project's suppression threshold).

    Returns
    -------
    dict
        A copy: withheld counts are ``"c"``, their sample rows empty, notes reworded.
    """
    out = copy.deepcopy(quality)
    summary = pd.DataFrame(out.get("summary", []))
    details = pd.DataFrame(out.get("details", []))
    hidden = _withheld_sources(summary, details, threshold)
    for row in out.get("summary", []):
        if row.get("source") in hidden:
            for column in _SUMMARY_COUNTS:
                if column in row:
                    row[column] = WITHHELD
    for row in out.get("details", []):
        if row.get("source") in hidden:
            row["count"] = WITHHELD
            if "sample_rows" in row:
                row["sample_rows"] = ""
    for note in out.get("notes", []):
        if isinstance(note.get("message"), str):
            note["message"] = _note_in_words(note["message"], threshold)
    return out


def write_published_csv(source: Path, dest: Path, threshold: int = 5) -> Path:
    """Write the published copy of ``quality_report.csv`` (see the module docstring).

    The same rule as :func:`published_quality`, on the tidy CSV: one row per count or
    finding, ``section`` summary / detail / note.
    """
    tidy = pd.read_csv(source, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    counts = tidy["count"].map(lambda v: _small(v, threshold))
    counted = tidy["section"].isin(["summary", "detail"])
    hidden = set(tidy.loc[counts & counted, "source"])
    withheld = counted & tidy["source"].isin(hidden)
    tidy.loc[withheld, "count"] = WITHHELD
    tidy.loc[withheld, "sample_rows"] = ""
    notes = tidy["section"] == "note"
    tidy.loc[notes, "reason"] = tidy.loc[notes, "reason"].map(
        lambda m: _note_in_words(m, threshold)
    )
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tidy.to_csv(dest, index=False, encoding="utf-8-sig", lineterminator="\n")
    return dest
