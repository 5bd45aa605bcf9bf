"""Plain-English sentences: the words must match the numbers, and never reveal a 'c'."""

import math

import pandas as pd

from cpanalysis.narrative import compare_sentence, england_year, read_measure


def _frame(rows, geography="Council"):
    return pd.DataFrame(
        [
            {
                "time_period": y,
                "geography": geography,
                "measure": m,
                "breakdown": "Total",
                "value": v,
                "unit": "percent",
                "display": d,
            }
            for y, m, v, d in rows
        ]
    )


COUNCIL = _frame(
    [
        (2024, "placements_3plus_pct", 9.0, "9"),
        (2025, "placements_3plus_pct", 12.4, "12"),
        (2025, "long_term_stability_pct", math.nan, "c"),
    ]
)
ENGLAND = _frame(
    [
        (2024, "placements_3plus_pct", 11.0, "11"),
        (2025, "placements_3plus_pct", 10.0, "10"),
        (2025, "long_term_stability_pct", 69.0, "69"),
    ],
    geography="England",
)


def test_figures_round_half_up_like_the_dfe():
    # was "12%": this module used Python's round-half-even; the DfE (and the tables) round up
    frame = _frame([(2025, "placements_3plus_pct", 12.5, "13")])
    assert read_measure(frame, "placements_3plus_pct").display == "13%"
    days = _frame([(2025, "adoption_entry_to_order_days", 820.6, "821")]).assign(unit="days")
    assert read_measure(days, "adoption_entry_to_order_days").display == "821 days"
    count = _frame([(2025, "cla_31_march", 81770.0, "81770")]).assign(unit="count")
    assert read_measure(count, "cla_31_march").display == "81,770"


def test_read_measure_takes_latest_year_by_default():
    reading = read_measure(COUNCIL, "placements_3plus_pct")
    assert reading.time_period == 2025
    assert reading.display == "12%"
    assert read_measure(COUNCIL, "placements_3plus_pct", year=2024).display == "9%"
    assert read_measure(COUNCIL, "no_such_measure") is None


def test_sentence_states_council_year_before_and_england_and_judges_direction():
    text = compare_sentence(
        COUNCIL,
        ENGLAND,
        "placements_3plus_pct",
        what="of children had three or more placements",
        higher_is_better=False,
    )
    assert text == (
        "In 2024-25, **12%** of children had three or more placements. "
        "The year before (2023-24) it was 9%. "
        "England's figure for 2024-25 is 10%. That is worse than England."
    )


def test_suppressed_figure_is_explained_not_shown():
    text = compare_sentence(
        COUNCIL, ENGLAND, "long_term_stability_pct", what="stayed", higher_is_better=True
    )
    assert "withheld (shown as *c*)" in text
    assert "better" not in text and "worse" not in text
    assert "England's figure for 2024-25 is 69%." in text


def test_england_latest_year_used_when_council_year_is_newer():
    council = _frame([(2026, "placements_3plus_pct", 8.0, "8")])
    text = compare_sentence(
        council, ENGLAND, "placements_3plus_pct", what="x", higher_is_better=False
    )
    assert "England's figure for 2024-25 is 10%. That is better than England." in text


def test_england_year_same_year_when_published_else_latest_before_never_later():
    # England 2024 and 2025; a council year of 2025 uses 2025, 2026 uses 2025, 2024 uses 2024
    assert england_year(ENGLAND, "placements_3plus_pct", year=2025) == 2025
    assert england_year(ENGLAND, "placements_3plus_pct", year=2026) == 2025
    assert england_year(ENGLAND, "placements_3plus_pct", year=2024) == 2024
    assert england_year(ENGLAND, "placements_3plus_pct", year=2023) is None
    # a withheld England row is not published: the year before is used
    withheld = ENGLAND.assign(value=[11.0, math.nan, 69.0])
    assert england_year(withheld, "placements_3plus_pct", year=2025) == 2024
    # other areas in the comparators (a region) are never taken for England
    region = _frame([(2025, "placements_3plus_pct", 14.0, "14")], geography="North East")
    both = pd.concat([ENGLAND.iloc[[0]], region])
    assert england_year(both, "placements_3plus_pct", year=2025) == 2024


def test_sentence_for_an_earlier_year_uses_that_years_england_figure():
    text = compare_sentence(
        COUNCIL, ENGLAND, "placements_3plus_pct", what="x", higher_is_better=False, year=2024
    )
    # 9% against England's 11% in 2023-24, not England's later 10%
    assert "England's figure for 2023-24 is 11%. That is better than England." in text


def test_marked_suppressed_row_is_withheld_even_with_a_value():
    # a frame suppressed by hand that kept the value behind the c
    frame = COUNCIL.assign(suppressed=[False, True, True], display=["9", "c", "c"])
    reading = read_measure(frame, "placements_3plus_pct")
    assert reading.suppressed and reading.value is None and reading.display == "c"
    text = compare_sentence(frame, ENGLAND, "placements_3plus_pct", what="x")
    assert "withheld" in text and "12%" not in text


def test_not_available_figure_says_x_not_withheld():
    council = _frame([(2017, "a1_days_3yr", math.nan, "x")])
    text = compare_sentence(council, ENGLAND, "a1_days_3yr", what="x", higher_is_better=False)
    assert text.startswith("In 2016-17 the council's figure is not available (shown as *x*)")
    assert "withheld" not in text
