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

__all__ = [
    "ENGLAND",
    "Reading",
    "Figures",
    "read_measure",
    "england_year",
    "read_figures",
    "same_shown",
    "compare_sentence",
]

ENGLAND = "England"


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


def _rows(
    measures: pd.DataFrame, measure: str, breakdown: str, geography: str | None = None
) -> pd.DataFrame:
    rows = measures[(measures["measure"] == measure) & (measures["breakdown"] == breakdown)]
    if geography is not None and "geography" in rows:
        rows = rows[rows["geography"] == geography]
    return rows


def _withheld(rows: pd.DataFrame) -> pd.Series:
    """Rows whose figure may not be described: no value, or marked ``suppressed``."""
    hidden = pd.to_numeric(rows["value"], errors="coerce").isna().to_numpy(dtype=bool)
    if "suppressed" in rows.columns:
        marked = rows["suppressed"].astype("boolean").fillna(False).to_numpy(dtype=bool)
        hidden = hidden | marked  # not |=: the arrays may be read-only views
    return pd.Series(hidden, index=rows.index)


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
        A measure frame; if it has a ``display`` column (suppressed), that text is used for
        a withheld figure, and a row marked ``suppressed`` is withheld even if it still
        holds a value.
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
    rows = _rows(measures, measure, breakdown, geography)
    if year is not None:
        rows = rows[rows["time_period"] == year]
    if rows.empty:
        return None
    rows = rows.sort_values("time_period").iloc[[-1]]
    row = rows.iloc[0]
    value = None if _withheld(rows).iloc[0] else float(row["value"])
    unit = str(row.get("unit", ""))
    if value is not None:
        display = format_value(value, unit)
    else:  # withheld or missing: show the DfE symbol the suppression step chose
        symbol = row.get("display")
        display = symbol if isinstance(symbol, str) and symbol else "x"
    return Reading(int(row["time_period"]), value, display, unit)


def england_year(
    england: pd.DataFrame | None, measure: str, *, breakdown: str = "Total", year: int
) -> int | None:
    """The England year to set beside a council's figure for collection year ``year``.

    England's figure for the **same year when it is published**, else **England's latest
    published figure before that year** (the DfE publishes England months after a council's
    own return is in); never a later year. A row without a value, or marked suppressed, is
    not published. The notebook sentence (:func:`compare_sentence`), the chart titles
    (:func:`cpanalysis.charts.finding_title`) and the scorecard all use this rule.

    Parameters
    ----------
    england : DataFrame or None
        Measure frame holding England's figures; rows of other geographies (regions,
        councils) are ignored, and a frame without ``geography`` is taken as all England.
    measure, breakdown : str
        Which figures.
    year : int
        The council's collection year.

    Returns
    -------
    int or None
        ``None`` when England has no published figure up to ``year``.

    Examples
    --------
    >>> e = pd.DataFrame({"time_period": [2024, 2025], "geography": "England",
    ...     "measure": "m", "breakdown": "Total", "value": [11.0, 10.0]})
    >>> england_year(e, "m", year=2025), england_year(e, "m", year=2026)
    (2025, 2025)
    """
    if england is None or england.empty:
        return None
    rows = _rows(england, measure, breakdown, ENGLAND)
    rows = rows[(rows["time_period"] <= year) & ~_withheld(rows)]
    return None if rows.empty else int(rows["time_period"].max())


@dataclass(frozen=True)
class Figures:
    """What is said about one measure: the council's figure, its year before, England's.

    Attributes
    ----------
    this : Reading
        The council's figure for the year described.
    before : Reading or None
        The council's figure for the year before (``None``: no row).
    england : Reading or None
        England's published figure for the year :func:`england_year` picks (``None``: none).
    """

    this: Reading
    before: Reading | None
    england: Reading | None


def read_figures(
    council: pd.DataFrame,
    england: pd.DataFrame | None,
    measure: str,
    *,
    breakdown: str = "Total",
    geography: str | None = None,
    year: int | None = None,
) -> Figures | None:
    """The figures a sentence or a chart title compares, read the same way for both.

    Parameters
    ----------
    council : DataFrame
        Measure frame with the council's figures (if it holds other areas too, name the
        council in ``geography``).
    england : DataFrame or None
        Measure frame with England's figures (may be the same frame as ``council``).
    measure, breakdown : str
        Which figures.
    geography : str, optional
        The council's geography name in ``council``.
    year : int, optional
        The council's year (default: its latest row, withheld or not).

    Returns
    -------
    Figures or None
        ``None`` when the council has no row for the year.
    """
    this = read_measure(council, measure, breakdown=breakdown, geography=geography, year=year)
    if this is None:
        return None
    before = read_measure(
        council, measure, breakdown=breakdown, geography=geography, year=this.time_period - 1
    )
    when = england_year(england, measure, breakdown=breakdown, year=this.time_period)
    eng = (
        None
        if when is None
        else read_measure(england, measure, breakdown=breakdown, geography=ENGLAND, year=when)
    )
    return Figures(this, before, eng)


def same_shown(a: Reading, b: Reading) -> bool:
    """True when two figures read the same once rounded as shown (e.g. 10.9% and 11%)."""
    return a.display == b.display


_NOT_SHOWN = {
    "x": "not available (shown as *x*): the returns held do not reach back far enough, or "
    "the data needed were not collected.",
    "z": "not applicable (shown as *z*): the measure does not apply to that year, or "
    "nobody was in its base.",
}


def _why_not_shown(symbol: str, threshold: int) -> str:
    """Why a figure is not shown, in words, from its DfE symbol (``c``, ``x``, ``z``)."""
    if symbol in _NOT_SHOWN:
        return _NOT_SHOWN[symbol]
    return (
        f"withheld (shown as *c*) because it rests on {threshold} or fewer children, or would "
        "let such a number be worked out."
    )


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

    England's figure is the one :func:`england_year` picks: the same year when published,
    else England's latest figure before it (the sentence names the year).

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
    figures = read_figures(council, england, measure, breakdown=breakdown, year=year)
    if figures is None:
        return f"There is no figure for this measure ({measure}) in the data."
    this, before, eng = figures.this, figures.before, figures.england
    label = year_label(this.time_period)
    if this.suppressed:
        sentence = f"In {label} the council's figure is " + _why_not_shown(this.display, threshold)
    else:
        sentence = f"In {label}, **{this.display}** {what}."
    if before is not None and not before.suppressed and not this.suppressed:
        sentence += f" The year before ({year_label(before.time_period)}) it was {before.display}."
    if not with_england:
        return sentence
    if eng is None:
        return sentence + " England's figure for this measure is not held on this site."
    sentence += f" England's figure for {year_label(eng.time_period)} is {eng.display}."
    if this.suppressed or higher_is_better is None:
        return sentence
    if same_shown(this, eng):
        return sentence + " The council is in line with England."
    better = ((this.value or 0.0) > (eng.value or 0.0)) == higher_is_better
    verdict = "better" if better else "worse"
    return sentence + f" That is {verdict} than England."
