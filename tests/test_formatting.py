"""Tests of cpanalysis.formatting: DfE half-up rounding, units, the published and text styles."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cpanalysis.formatting import format_value, published_value, published_values, round_half_up

NAN = float("nan")


def test_round_half_up_not_to_even_and_not_fooled_by_binary():
    assert round_half_up(12.5) == 13.0  # round() gives 12
    assert round_half_up(0.5) == 1.0
    assert round_half_up(12.4999) == 12.0
    assert round_half_up(1.45, 1) == 1.5  # 1.4499.. in binary, 1.45 on paper
    assert round_half_up(29 / 200 * 100) == 15.0  # 14.499999999999998 -> 14.5 -> 15
    assert round_half_up(np.array([2.5, 3.5, NAN])).tolist()[:2] == [3.0, 4.0]


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [(12.5, "percent", "13%"), (10.909, "percent", "11%"), (12.4, "percent", "12%"),
     (690.5, "days", "691 days"), (1234.0, "days", "1,234 days"), (1234.0, "count", "1,234"),
     (81770, "count", "81,770"), (67.2, "rate_per_10000", "67 per 10,000 children"),
     (1.45, "per_child", "1.5"), (1.44, "per_child", "1.4"), (0.0, "percent", "0%"),
     (NAN, "percent", "no figure"), (None, "days", "no figure")],
)  # fmt: skip
def test_format_value_text_style(value, unit, shown):
    assert format_value(value, unit) == shown


def test_format_value_missing_text_can_be_named():
    assert format_value(NAN, "percent", missing="not available") == "not available"


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [(12.0, "count", "12"), (12.345, "percent", "12"), (67.5, "percent", "68"),
     (1.256, "per_child", "1.3"), (81770.0, "count", "81770"), (410.6, "days", "411"),
     (0.25, "percent", "k"), (0.0, "percent", "0"), (None, "count", "x"),
     (NAN, "days", "x")],
)  # fmt: skip
def test_published_value_bare_numbers_and_dfe_symbols(value, unit, shown):
    assert published_value(value, unit) == shown


def test_published_values_vectorised_keeps_index_and_missing():
    values = pd.Series([5.0, NAN, 1.04, 0.04], index=[10, 11, 12, 13])
    units = pd.Series(["percent", "count", "per_child", "per_child"], index=[0, 1, 2, 3])
    out = published_values(values, units)
    assert out.index.tolist() == [10, 11, 12, 13]
    assert out.iloc[0] == "5" and out.iloc[2] == "1.0" and out.iloc[3] == "k"
    assert out.isna().tolist() == [False, True, False, False]
    assert published_values(pd.Series([2.5]), "days").tolist() == ["3"]


def test_the_two_styles_agree_on_the_number():
    for value in [0.5, 12.5, 67.5, 99.49, 14.5, 1234.5]:
        for unit in ["percent", "days", "count", "per_child"]:
            text = format_value(value, unit).replace(",", "").split(" ")[0].rstrip("%")
            assert text == published_value(value, unit), (value, unit)
