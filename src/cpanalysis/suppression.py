"""Suppression: the one gate every published table goes through.

A council's figures are small numbers about identifiable children: "2 children adopted by
their foster carers" can name a family. The DfE publishes local-authority figures unrounded
but replaces small counts, and percentages or averages built on them, with ``c``
(confidential), and then suppresses a second cell where a total would let the first be
recovered. We follow the DfE's symbols (GSS standard, as in the EES data guidance of the
"Children looked after" and "Stability measures" releases):

* ``c`` confidential: a count from 1 to ``threshold``, or a percentage/mean/rate whose
  numerator or denominator is from 1 to ``threshold``; or a second cell suppressed so the
  first cannot be worked out from the total;
* ``z`` not applicable (e.g. social-worker changes before the 2023-24 return collected them);
* ``x`` not available (e.g. a rate when no population estimate was given);
* ``k`` rounds to zero but is not zero (e.g. a percentage below 0.5).

Zero is shown as ``0``: the DfE shows zero only when the submitted figure was zero, which is
what our counts are.
"""

from __future__ import annotations

import pandas as pd

from cpanalysis.disclosure import find_links, protect, recoverable
from cpanalysis.formatting import published_values

__all__ = ["suppress", "disclosure_check", "GROUP_KEYS"]

#: Cells that add up to a ``"Total"`` row share these keys (:mod:`cpanalysis.disclosure`).
GROUP_KEYS = ["time_period", "geography", "measure"]


def _is_small(values: pd.Series, threshold: int) -> pd.Series:
    numbers = pd.to_numeric(values, errors="coerce").astype("float64")
    return ((numbers >= 1) & (numbers <= threshold)).fillna(False).astype(bool)


def _parts(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Children in each row (numerator, else a count's value), denominator, DfE symbol."""
    unit = frame["unit"].astype("string")
    numerator = pd.to_numeric(frame["numerator"], errors="coerce").astype("float64")
    denominator = pd.to_numeric(frame["denominator"], errors="coerce").astype("float64")
    value = pd.to_numeric(frame["value"], errors="coerce").astype("float64")
    is_count = (unit == "count").fillna(False).to_numpy(dtype=bool)
    size = numerator.where(numerator.notna(), value.where(is_count))
    symbol = (
        frame["symbol"].astype("string")
        if "symbol" in frame.columns
        else pd.Series(pd.NA, index=frame.index, dtype="string")
    )
    return size, denominator, symbol


def disclosure_check(
    frame: pd.DataFrame, published: pd.DataFrame, threshold: int = 5
) -> pd.DataFrame:
    """Hidden cells of ``published`` a reader could work out (none, if suppression worked).

    Parameters
    ----------
    frame : DataFrame
        The measure frame before suppression (its true figures).
    published : DataFrame
        :func:`suppress` of ``frame`` (same rows, same order).
    threshold : int, default 5

    Returns
    -------
    DataFrame
        :func:`cpanalysis.disclosure.recoverable` with ``measure``, ``breakdown`` and
        ``time_period`` of each row added.
    """
    true = frame.reset_index(drop=True)
    size, _, symbol = _parts(true)
    links = find_links(true, size, symbol.notna().to_numpy(dtype=bool))
    shown = published.reset_index(drop=True)
    hidden_row = shown["suppressed"].to_numpy(dtype=bool)
    gone = shown["numerator"].isna().to_numpy(dtype=bool) & true["numerator"].notna().to_numpy(
        dtype=bool
    )
    gone_base = shown["denominator"].isna().to_numpy(dtype=bool) & true[
        "denominator"
    ].notna().to_numpy(dtype=bool)
    found = recoverable(links, hidden_row, gone, gone_base, threshold)
    where = true.loc[found["row"].to_numpy(dtype=int), ["time_period", "measure", "breakdown"]]
    return pd.concat([found.reset_index(drop=True), where.reset_index(drop=True)], axis=1)


def suppress(frame: pd.DataFrame, threshold: int = 5) -> pd.DataFrame:
    """Suppress small numbers in a measure frame and add its published text.

    Parameters
    ----------
    frame : DataFrame
        A Contract-2 measure frame: ``time_period, geography, measure, breakdown,
        numerator, denominator, value, unit``; optionally ``symbol`` (``"z"`` or ``"x"``)
        for rows that are not applicable or not available.
    threshold : int, default 5
        Counts from 1 to ``threshold`` are confidential. ``0`` switches suppression off
        (for internal, unpublished use only).

    Returns
    -------
    DataFrame
        A copy with two columns added: ``display`` (str: the formatted value or a DfE
        symbol ``c``, ``z``, ``x``, ``k``) and ``suppressed`` (bool: shown as ``c``).
        Where suppressed, ``value``, ``numerator`` and ``denominator`` are set to missing,
        so no chart or download made from the result can leak them.

    Notes
    -----
    Primary suppression: a row whose ``numerator`` (the count itself for counts, the
    children counted for percentages and means) or ``denominator`` is 1..threshold. For a
    count row without a numerator the value is tested.

    Secondary suppression considers the whole frame at once (so pass it the whole
    published set, as :func:`cpanalysis.indicators.compute_all` gives it): rows that add up
    to a ``"Total"``, the same children published under two measures (adopted and the
    "Adopted" reason of ceasing, SGOs by quarter and the SGO reason, a rate and its count,
    a mean's numerator and the children adopted), the three-year adoption measures and the
    three years they sum, and care leavers' EET + NEET + not known = the cohort. No such
    link may have exactly one hidden cell, and the hidden parts of a link with a shown total
    may not sum to 1..threshold (:mod:`cpanalysis.disclosure` states the rule). A row hidden
    to protect another is shown as ``c`` too; where only a mean's numerator or a
    percentage's denominator gives the count away, only that number is removed.
    """
    out = frame.copy().reset_index(drop=True)
    if out.empty:
        out["display"] = pd.Series(dtype="string")
        out["suppressed"] = pd.Series(dtype=bool)
        return out
    unit = out["unit"].astype("string")
    value = pd.to_numeric(out["value"], errors="coerce").astype("float64")
    size, denominator, symbol = _parts(out)
    primary = (
        _is_small(size, threshold) | _is_small(denominator, threshold)
        if threshold > 0
        else pd.Series(False, index=out.index)
    )
    primary &= symbol.isna().to_numpy(dtype=bool)

    links = find_links(out, size, symbol.notna().to_numpy(dtype=bool))
    hidden_row, hidden_numerator, hidden_denominator = protect(
        links, primary.to_numpy(dtype=bool), threshold
    )
    secondary = pd.Series(hidden_row & ~primary.to_numpy(dtype=bool), index=out.index)

    suppressed = (primary | secondary).astype(bool)
    display = published_values(value, unit)  # DfE rounding: cpanalysis.formatting
    display = display.mask(value.isna(), "x")
    display = display.mask(symbol.notna(), symbol)
    display = display.mask(suppressed, "c")
    out["value"] = value.mask(suppressed | symbol.notna())
    out["numerator"] = out["numerator"].mask(suppressed | hidden_numerator)
    out["denominator"] = out["denominator"].mask(suppressed | hidden_denominator)
    out["display"] = display.astype("string")
    out["suppressed"] = suppressed.to_numpy()
    return out
