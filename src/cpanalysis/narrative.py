"""Plain-English sentences that say what a figure means, for notebooks and the site.

A committee reads "In 2025-26, 12% of children ... England: 10% in 2024-25 ... worse than
England", not a table. The sentences are built from measure frames (docs/design.md,
Contract 2) so the words always match the numbers shown, and a suppressed figure is never
described by its value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from cpanalysis.formatting import format_value
from cpanalysis.schema import year_label

__all__ = ["Reading", "read_measure", "compare_sentence"]


@dataclass(frozen=True)
class Reading:
    """One figure read from a measure frame: its year, value, display text and unit."""

    time_period: int
    value: float | None
    display: str
    unit: str

    @property
    def suppressed(self) -> bool:
        """True when the figure is withheld (``c``) or otherwise not a number."""
        return self.value is None or (isinstance(self.value, float) and math.isnan(self.value))


def read_measure(
    measures: pd.DataFrame,
    measure: str,
    *,
    breakdown: str = "Total",
    geography: str | None = None,
    year: int | None = None,
) -> Reading | None:
    """The figure of ``measure`` for one year (default: the latest year present).

    Parameters
    ----------
    measures : DataFrame
        A measure frame; if it has a ``display`` column (suppressed), that text is used.
    measure, breakdown : str
        Which row to read.
    geography : str, optional
        Restrict to one geography (e.g. ``"England"``).
    year : int, optional
        Collection year; default the latest with a row for this measure.

    Returns
    -------
    Reading or None
        ``None`` when the frame holds no such row.
    """
    rows = measures[(measures["measure"] == measure) & (measures["breakdown"] == breakdown)]
    if geography is not None and "geography" in rows:
        rows = rows[rows["geography"] == geography]
    if year is not None:
        rows = rows[rows["time_period"] == year]
    if rows.empty:
        return None
    row = rows.sort_values("time_period").iloc[-1]
    value = row["value"]
    value = None if pd.isna(value) else float(value)
    unit = str(row.get("unit", ""))
    if value is not None:
        display = format_value(value, unit)
    else:  # withheld or missing: show the DfE symbol the suppression step chose
        symbol = row.get("display")
        display = symbol if isinstance(symbol, str) and symbol else "x"
    return Reading(int(row["time_period"]), value, display, unit)


def compare_sentence(
    council: pd.DataFrame,
    england: pd.DataFrame,
    measure: str,
    *,
    what: str,
    breakdown: str = "Total",
    higher_is_better: bool | None = True,
    year: int | None = None,
    threshold: int = 5,
    with_england: bool = True,
) -> str:
    """One paragraph: the council's latest figure, the year before, and England's.

    Parameters
    ----------
    council, england : DataFrame
        Measure frames (the council's suppressed figures; England's published figures).
    measure : str
        Measure id, e.g. ``"placements_3plus_pct"``.
    what : str
        What the figure counts, completing "<value> of/for ...", e.g.
        ``"of children looked after at 31 March had three or more placements in the year"``.
    higher_is_better : bool or None
        Direction used to say "better" or "worse" than England; ``None`` to not judge.
    year : int, optional
        The council's year to describe (default: its latest).
    threshold : int
        The suppression threshold, to explain a withheld figure.
    with_england : bool
        Compare with England; off for a council's own counts, which England's total
        cannot be compared with.

    Returns
    -------
    str
        Markdown text.
    """
    this = read_measure(council, measure, breakdown=breakdown, year=year)
    if this is None:
        return f"There is no figure for this measure ({measure}) in the data."
    label = year_label(this.time_period)
    if this.suppressed:
        sentence = (
            f"In {label} the council's figure is withheld (shown as *c*) because it rests "
            f"on {threshold} or fewer children."
        )
    else:
        sentence = f"In {label}, **{this.display}** {what}."
    before = read_measure(council, measure, breakdown=breakdown, year=this.time_period - 1)
    if before is not None and not before.suppressed and not this.suppressed:
        sentence += f" The year before ({year_label(before.time_period)}) it was {before.display}."
    if not with_england:
        return sentence
    # England for the same year when published, else England's latest figure
    eng = read_measure(england, measure, breakdown=breakdown, year=this.time_period)
    if eng is None:
        eng = read_measure(england, measure, breakdown=breakdown)
    if eng is None or eng.suppressed:
        return sentence + " No England figure is published for this measure."
    sentence += f" England's figure for {year_label(eng.time_period)} is {eng.display}."
    if this.suppressed or higher_is_better is None:
        return sentence
    council_value = round(this.value or 0.0)
    england_value = round(eng.value or 0.0)
    if council_value == england_value:
        return sentence + " The council is in line with England."
    better = (council_value > england_value) == higher_is_better
    verdict = "better" if better else "worse"
    return sentence + f" That is {verdict} than England."
