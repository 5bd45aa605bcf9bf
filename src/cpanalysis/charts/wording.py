"""Words around the numbers: measure labels, finding titles and captions.

Why a module of its own: a chart's title should state the finding ("12% of children looked
after had 3 or more placements in 2024-25, above England (10%)"), computed from the data so
it can never disagree with the line below it, and the same sentence is useful to the
scorecard and the notebooks' text.
"""

from __future__ import annotations

import pandas as pd

from cpanalysis.errors import InputError
from cpanalysis.labels import MEASURE_WORDING, MeasureWording, wording
from cpanalysis.narrative import ENGLAND, read_figures, same_shown
from cpanalysis.schema import year_label

__all__ = [
    "MeasureWording",
    "MEASURE_WORDING",
    "wording",
    "axis_title",
    "finding_title",
    "source_caption",
    "council_of",
    "MEASURE_COLUMNS",
]

#: Contract-2 columns the charts read (``display``/``suppressed`` come from suppress()).
MEASURE_COLUMNS = ("time_period", "geography", "measure", "breakdown", "value", "unit")

ENGLAND_SOURCE = "DfE, Children looked after in England including adoptions"


_UNIT_AXIS = {
    "percent": "%",
    "days": "mean days",
    "rate_per_10000": "per 10,000 children",
    "per_child": "per child",
    "count": "number",
}


def axis_title(measure: str, unit: str) -> str:
    """A value-axis title naming the measure and its unit, e.g. ``"... (%)"``.

    Examples
    --------
    >>> axis_title("placements_3plus_pct", "percent")
    'Children with 3 or more placements in the year (%)'
    """
    return f"{wording(measure).label} ({_UNIT_AXIS.get(unit, unit)})"


def council_of(frame: pd.DataFrame, council: str | None = None) -> str | None:
    """The council's geography name in a measure frame: ``council``, or the one non-England name.

    Raises
    ------
    InputError
        When several non-England geographies are present and ``council`` was not given, or
        ``council`` is not in the frame.

    Examples
    --------
    >>> council_of(pd.DataFrame({"geography": ["Newtown", "England"]}))
    'Newtown'
    """
    names = list(dict.fromkeys(frame["geography"].dropna().astype(str)))
    if council is not None:
        if council not in names:
            raise InputError(
                f"council {council!r} is not in the measure frame (geographies: {names})",
                column="geography",
            )
        return council
    others = [n for n in names if n != ENGLAND]
    if len(others) > 1:
        raise InputError(
            f"the measure frame holds several geographies {others}: pass council=<name>",
            column="geography",
        )
    return others[0] if others else None


def finding_title(
    measures: pd.DataFrame,
    measure: str,
    *,
    breakdown: str = "Total",
    council: str | None = None,
    year: int | None = None,
) -> str:
    """A title that states the finding for the council's latest (or given) year.

    Compares with England where England's figure is comparable (percentages, rates, days),
    otherwise with the council's previous year. England's figure is the one
    :func:`cpanalysis.narrative.england_year` picks, as in the notebook sentences: the same
    year when published, else England's latest figure before it, whose year the title then
    names ("above England (10% in 2023-24)").

    Parameters
    ----------
    measures : DataFrame
        Contract-2 measure frame (council rows, optionally England rows), needs
        ``time_period, geography, measure, breakdown, value, unit``; ``suppressed`` is used
        when present.
    measure, breakdown : str
        Which rows to speak about.
    council : str, optional
        The council's geography name (default: the one non-England geography).
    year : int, optional
        Collection year (default: the latest year the council has a row for).

    Returns
    -------
    str
        e.g. ``"12% of children looked after had 3 or more placements in 2024-25, above
        England (10%)"``.

    Examples
    --------
    >>> m = pd.DataFrame({"time_period": [2025, 2025], "geography": ["Newtown", "England"],
    ...     "measure": "placements_3plus_pct", "breakdown": "Total", "value": [12.0, 10.0],
    ...     "unit": "percent"})
    >>> finding_title(m, "placements_3plus_pct")
    '12% of children looked after had 3 or more placements in 2024-25, above England (10%)'
    """
    words = wording(measure)
    name = council_of(measures, council)
    mine = (measures["measure"] == measure) & (measures["breakdown"] == breakdown)
    if name is None or not (mine & (measures["geography"] == name)).any():
        return words.label
    england = measures if words.compare_england and name != ENGLAND else None
    figures = read_figures(
        measures, england, measure, breakdown=breakdown, geography=name, year=year
    )
    if figures is None:
        return f"{words.label}: no figure for {year_label(int(year))}"
    this = figures.this
    label = year_label(this.time_period)
    if this.suppressed:
        return (
            f"{words.label}: the {label} figure is suppressed (c) because it involves very "
            "few children"
        )
    aged = "" if breakdown == "Total" else f" aged {breakdown}"
    sentence = f"{this.display} " + words.phrase.format(
        year=label, march=f"31 March {this.time_period}", aged=aged
    )
    eng = figures.england
    if eng is not None:
        when = "" if eng.time_period == this.time_period else f" in {year_label(eng.time_period)}"
        if same_shown(this, eng):
            return sentence + f", the same as England ({eng.display}{when})"
        word = "above" if (this.value or 0.0) > (eng.value or 0.0) else "below"
        return sentence + f", {word} England ({eng.display}{when})"
    before = figures.before
    if before is None or before.suppressed:
        return sentence
    then = year_label(before.time_period)
    if same_shown(this, before):
        return sentence + f", the same as in {then} ({before.display})"
    word = "up from" if (this.value or 0.0) > (before.value or 0.0) else "down from"
    return sentence + f", {word} {before.display} in {then}"


def source_caption(
    measures: pd.DataFrame,
    *,
    council: str | None = None,
    suppression_threshold: int = 5,
) -> str:
    """The caption naming the data and the suppression rule.

    Examples
    --------
    >>> m = pd.DataFrame({"time_period": [2017, 2026], "geography": "Newtown"})
    >>> source_caption(m)
    'Source: Newtown SSDA903 returns, 2016-17 to 2025-26. Counts of 1 to 5 are suppressed (c).'
    """
    name = council_of(measures, council)
    parts = []
    if name is not None:
        years = measures.loc[measures["geography"] == name, "time_period"]
        first, last = year_label(int(years.min())), year_label(int(years.max()))
        span = first if first == last else f"{first} to {last}"
        parts.append(f"Source: {name} SSDA903 returns, {span}")
    if (measures["geography"] == ENGLAND).any():
        parts.append(f"England: {ENGLAND_SOURCE}" if parts else f"Source: {ENGLAND_SOURCE}")
    rule = (
        f"Counts of 1 to {suppression_threshold} are suppressed (c)."
        if suppression_threshold > 1
        else "Counts of 1 are suppressed (c)."
    )
    if name is not None and _not_available(measures.loc[measures["geography"] == name]):
        rule += (
            " x: not available (the returns held do not reach back far enough, or the data "
            "needed were not collected)."
        )
    if name is not None and _shows(measures.loc[measures["geography"] == name], "z"):
        rule += " z: not applicable (nobody in the figure's base that year)."
    return "; ".join(parts) + ". " + rule


def _shows(rows: pd.DataFrame, symbol: str) -> bool:
    """Whether ``rows`` carry the DfE ``symbol`` (as the published text or the symbol)."""
    for column in ("display", "symbol"):
        if column in rows.columns and rows[column].astype("string").eq(symbol).fillna(False).any():
            return True
    return False


def _not_available(rows: pd.DataFrame) -> bool:
    """Whether a chart of ``rows`` shows an ``x``: a missing figure that is not withheld."""
    missing = pd.to_numeric(rows["value"], errors="coerce").isna()
    if "symbol" in rows.columns:
        missing |= rows["symbol"].astype("string").eq("x").fillna(False)
    if "display" in rows.columns:
        shown = rows["display"].astype("string")
        missing &= shown.isna() | shown.eq("x").fillna(False)
    elif "suppressed" in rows.columns:
        missing &= ~rows["suppressed"].fillna(False).astype(bool)
    return bool(missing.any())
