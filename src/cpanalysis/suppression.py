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

from cpanalysis.formatting import published_values

__all__ = ["suppress", "GROUP_KEYS"]

#: Cells that add up to a ``"Total"`` row share these keys.
GROUP_KEYS = ["time_period", "geography", "measure"]


def _is_small(values: pd.Series, threshold: int) -> pd.Series:
    numbers = pd.to_numeric(values, errors="coerce").astype("float64")
    return ((numbers >= 1) & (numbers <= threshold)).fillna(False).astype(bool)


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

    Secondary suppression: within one (time_period, geography, measure) that has a
    ``"Total"`` breakdown, if exactly one other cell is suppressed, the next smallest
    unsuppressed cell (non-zero ones first) is suppressed too, so the hidden cell cannot be
    found by subtracting the others from the total.
    """
    out = frame.copy().reset_index(drop=True)
    if out.empty:
        out["display"] = pd.Series(dtype="string")
        out["suppressed"] = pd.Series(dtype=bool)
        return out
    unit = out["unit"].astype("string")
    numerator = pd.to_numeric(out["numerator"], errors="coerce").astype("float64")
    denominator = pd.to_numeric(out["denominator"], errors="coerce").astype("float64")
    value = pd.to_numeric(out["value"], errors="coerce").astype("float64")
    is_count = (unit == "count").fillna(False).to_numpy(dtype=bool)
    size = numerator.where(numerator.notna(), value.where(is_count))
    primary = (
        _is_small(size, threshold) | _is_small(denominator, threshold)
        if threshold > 0
        else pd.Series(False, index=out.index)
    )
    symbol = (
        out["symbol"].astype("string")
        if "symbol" in out.columns
        else pd.Series(pd.NA, index=out.index, dtype="string")
    )
    primary &= symbol.isna().to_numpy(dtype=bool)

    # plain numpy booleans: masks from string columns are pyarrow-backed in pandas 3
    is_total = pd.Series(
        (out["breakdown"].astype("string").fillna("Total") == "Total").to_numpy(dtype=bool),
        index=out.index,
    )
    keys = out[GROUP_KEYS].astype("string").fillna("").agg("|".join, axis=1)
    has_total = keys.isin(keys[is_total])
    n_suppressed = (primary & ~is_total).groupby(keys).transform("sum")
    eligible = (
        has_total & ~is_total & ~primary & symbol.isna() & (n_suppressed == 1) & size.notna()
    ).to_numpy(dtype=bool)
    candidates = pd.DataFrame({"_key": keys, "_zero": size.eq(0), "_size": size}).loc[eligible]
    secondary = pd.Series(False, index=out.index)
    if not candidates.empty:
        chosen = (
            candidates.sort_values(["_key", "_zero", "_size"], kind="stable")
            .groupby("_key", sort=False)
            .head(1)
            .index
        )
        secondary.loc[chosen] = True

    suppressed = (primary | secondary).astype(bool)
    display = published_values(value, unit)  # DfE rounding: cpanalysis.formatting
    display = display.mask(value.isna(), "x")
    display = display.mask(symbol.notna(), symbol)
    display = display.mask(suppressed, "c")
    out["value"] = value.mask(suppressed | symbol.notna())
    out["numerator"] = out["numerator"].mask(suppressed)
    out["denominator"] = out["denominator"].mask(suppressed)
    out["display"] = display.astype("string")
    out["suppressed"] = suppressed.to_numpy()
    return out
