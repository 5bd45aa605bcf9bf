"""Tests of the distinct-value helpers: codes and values out, the same rows back."""

from __future__ import annotations

import pandas as pd

from cpanalysis.distinct import spread_text, text_codes


def test_text_codes_of_text_and_of_categories() -> None:
    codes, distinct = text_codes(pd.Series(["b", None, "a", "b"], dtype="string"))
    assert codes.tolist() == [0, -1, 1, 0]
    assert distinct.tolist() == ["b", "a"]
    cats = pd.Series(pd.Categorical(["y", None, "x"], categories=["x", "y"]))
    codes, distinct = text_codes(cats)
    assert codes.tolist() == [1, -1, 0]  # the column's own codes
    assert distinct.tolist() == ["x", "y"]


def test_spread_text_puts_the_distinct_results_back_on_the_rows() -> None:
    values = pd.Series(["ab1 2cd", None, "ab1 2cd", "m1 1ae"], index=[10, 11, 12, 13])
    codes, distinct = text_codes(values)
    out = spread_text(distinct.str.upper(), codes, values.index)
    assert out.tolist() == ["AB1 2CD", pd.NA, "AB1 2CD", "M1 1AE"]
    assert out.index.tolist() == [10, 11, 12, 13]
    assert str(out.dtype) == "string"
