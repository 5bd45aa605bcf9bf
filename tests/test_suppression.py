"""Tests of suppression: small numbers hidden, totals cannot give them away, DfE symbols."""

from __future__ import annotations

import math

import pandas as pd

from cpanalysis.indicators.frame import measure_frame
from cpanalysis.suppression import suppress


def _counts(cells: list[tuple[str, int]], measure: str = "ceased_by_reason") -> pd.DataFrame:
    return measure_frame(
        [
            dict(
                time_period=2025,
                geography="Demo",
                measure=measure,
                breakdown=b,
                numerator=n,
                value=n,
                unit="count",
            )
            for b, n in cells
        ]
    )


def test_small_count_is_c_and_its_value_is_gone():
    out = suppress(_counts([("Total", 12)]))
    assert out["display"].tolist() == ["12"]
    out = suppress(_counts([("Total", 4)]))
    assert out["display"].tolist() == ["c"]
    assert out["suppressed"].tolist() == [True]
    assert math.isnan(out["value"][0])
    assert out["numerator"].isna().all()


def test_threshold_edges_zero_one_five_six():
    out = suppress(_counts([("a", 0), ("b", 1), ("c", 5), ("d", 6)]), threshold=5)
    assert out["display"].tolist() == ["0", "c", "c", "6"]


def test_secondary_suppression_hides_next_smallest_when_one_cell_hidden():
    # Total 30 = 3 + 7 + 20 + 0: hiding only the 3 lets 30 - 7 - 20 - 0 give it back,
    # so the next smallest non-zero cell (7) is hidden too; the zero is not chosen.
    out = suppress(_counts([("Total", 30), ("a", 3), ("b", 7), ("c", 20), ("d", 0)]))
    assert out["display"].tolist() == ["30", "c", "c", "20", "0"]
    assert out["suppressed"].tolist() == [False, True, True, False, False]


def test_no_secondary_when_two_cells_already_hidden_or_no_total():
    # 3 + 4 = 7 can be worked out from 30 - 23, but 7 is above the threshold of 5
    out = suppress(_counts([("Total", 30), ("a", 3), ("b", 4), ("c", 23)]))
    assert out["display"].tolist() == ["30", "c", "c", "23"]
    out = suppress(_counts([("a", 3), ("b", 7), ("c", 20)]))
    assert out["display"].tolist() == ["c", "7", "20"]


def test_percentage_on_small_denominator_or_numerator_is_c():
    frame = measure_frame(
        [
            dict(numerator=2, denominator=40, value=5.0),
            dict(numerator=0, denominator=4, value=0.0),
            dict(numerator=0, denominator=40, value=0.0),
            dict(numerator=27, denominator=40, value=67.5),
            dict(numerator=1000, denominator=400000, value=0.25),
        ],
        time_period=2025,
        geography="Demo",
        measure="placements_3plus_pct",
        unit="percent",
    ).assign(breakdown=["a", "b", "c", "d", "e"])
    out = suppress(frame)
    # 67.5 rounds half up to 68 (not to even); 0.25% rounds to zero but is not zero: k
    assert out["display"].tolist() == ["c", "c", "0", "68", "k"]
    assert out["denominator"].isna().tolist() == [True, True, False, False, False]


def test_symbols_z_and_x_and_days_and_per_child_formats():
    frame = measure_frame(
        [
            dict(measure="sw_changes_per_child", unit="per_child", symbol="z"),
            dict(measure="cla_rate_per_10000", unit="rate_per_10000", numerator=80),
            dict(measure="a1_days_3yr", unit="days", numerator=9, value=426.5),
            dict(measure="placements_per_child", unit="per_child", numerator=50, value=1.25),
        ],
        time_period=2025,
        geography="Demo",
    )
    out = suppress(frame)
    assert out["display"].tolist() == ["z", "x", "427", "1.3"]
    assert out["suppressed"].tolist() == [False, False, False, False]


def test_threshold_zero_switches_off_and_empty_frame_passes():
    out = suppress(_counts([("a", 3)]), threshold=0)
    assert out["display"].tolist() == ["3"]
    empty = suppress(_counts([]))
    assert list(empty.columns[-2:]) == ["display", "suppressed"]
    assert len(empty) == 0


def test_input_frame_is_not_changed():
    frame = _counts([("Total", 4)])
    suppress(frame)
    assert frame["value"].tolist() == [4.0]
