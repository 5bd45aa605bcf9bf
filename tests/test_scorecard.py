"""Tests of cpanalysis.scorecard: every committee measure listed, direction, England, RAG."""

from __future__ import annotations

import pandas as pd
import pytest

from cpanalysis.scorecard import (
    NOT_FROM_RETURN,
    SCORECARD_COLUMNS,
    build_scorecard,
    compare_word,
    direction,
    published_number,
    rag,
    scorecard_summary,
)


def _frame(rows: list[tuple], geography: str = "Testshire") -> pd.DataFrame:
    """rows: (time_period, measure, breakdown, value, unit, display, suppressed)."""
    frame = pd.DataFrame(
        rows,
        columns=["time_period", "measure", "breakdown", "value", "unit", "display", "suppressed"],
    )
    frame.insert(1, "geography", geography)
    return frame


COUNCIL = _frame(
    [
        (2025, "placements_3plus_pct", "Total", 12.0, "percent", "12.0", False),
        (2024, "placements_3plus_pct", "Total", 9.0, "percent", "9.0", False),
        (2025, "care_leavers_eet_pct", "19 to 21 years", 60.0, "percent", "60.0", False),
        (2024, "care_leavers_eet_pct", "19 to 21 years", 50.0, "percent", "50.0", False),
        (2025, "long_term_stability_pct", "Total", 3.0, "percent", "c", True),
        (2024, "long_term_stability_pct", "Total", 70.0, "percent", "70.0", False),
        (2025, "cla_31_march", "Total", 120.0, "count", "120", False),
        (2024, "cla_31_march", "Total", 120.0, "count", "120", False),
        (2025, "adoption_entry_to_placed_days", "Total", 500.0, "days", "500", False),
        (2025, "sgo_granted", "Total", 9.0, "count", "9", False),
        (2025, "sgo_granted", "Q1", 2.0, "count", "c", True),
        (2025, "sgo_granted", "Q2", 7.0, "count", "c", True),  # secondary suppression
    ]
)
ENGLAND = _frame(
    [
        (2024, "placements_3plus_pct", "Total", 10.0, "percent", "10.0", False),
        (2023, "placements_3plus_pct", "Total", 11.0, "percent", "11.0", False),
        (2025, "care_leavers_eet_pct", "19 to 21 years", 56.0, "percent", "56.0", False),
        (2025, "long_term_stability_pct", "Total", 70.0, "percent", "70.0", False),
        (2025, "adoption_entry_to_placed_days", "Total", 440.0, "days", "440", False),
        (2026, "adoption_entry_to_placed_days", "Total", 100.0, "days", "100", False),
    ],
    geography="England",
)


def _line(card: pd.DataFrame, indicator: str) -> dict:
    rows = card.loc[card["indicator"].eq(indicator)]
    assert len(rows) >= 1, indicator
    return rows.iloc[0].to_dict()


@pytest.fixture(scope="module")
def card() -> pd.DataFrame:
    return build_scorecard(COUNCIL, ENGLAND, {"cla_31_march": 100.0})


def test_columns_and_year(card):
    assert list(card.columns) == SCORECARD_COLUMNS
    assert card.attrs["year"] == 2025
    assert card.attrs["last_year"] == 2024


def test_worse_than_england_by_2_points_is_amber_and_says_which_year(card):
    line = _line(card, "Children with 3 or more placements in the year (%)")
    # 12% this year, 9% last year: up, and for this measure up is worse
    assert line["this_year"] == "12.0"
    assert line["last_year"] == "9.0"
    assert line["direction"] == "↑ worse"
    # England has no 2025 figure: its latest (2023-24) is the yardstick; 12 - 10 = 2 <= 5
    assert line["england"] == "10.0"
    assert line["england_year"] == "2023-24"
    assert line["yardstick"] == "England 2023-24"
    assert line["rag"] == "amber"


def test_better_than_england_is_green(card):
    line = _line(card, "Care leavers aged 19 to 21 in education, employment or training (%)")
    assert (line["this_year"], line["direction"], line["rag"]) == ("60.0", "↑ better", "green")
    assert line["england"] == "56.0"


def test_suppressed_value_shows_c_with_no_mark_and_no_direction(card):
    line = _line(card, "Long-term placement stability (%)")
    assert line["this_year"] == "c"
    assert line["direction"] == ""
    assert line["rag"] == ""


def test_days_margin_is_ten_percent_of_england_and_future_england_is_ignored(card):
    line = _line(card, "Days from entering care to moving in with adopters")
    # 500 vs 440 days: 60 worse, more than 10% of 440 (44): red; 2026's England not used
    assert line["england_year"] == "2024-25"
    assert line["rag"] == "red"
    assert line["last_year"] == "x"


def test_neutral_measure_has_arrow_but_no_mark_even_with_target(card):
    line = _line(card, "Children looked after at 31 March")
    assert line["direction"] == "→ no change"
    assert line["yardstick"] == "council target (100)"
    assert line["rag"] == ""


def test_sgos_show_the_quarters_with_suppression(card):
    line = _line(card, "Special guardianship orders granted in the year (by quarter)")
    assert line["this_year"] == "9"
    assert line["note"] == "Q1 c, Q2 c"


def test_measures_outside_the_return_are_listed_not_dropped(card):
    outside = card.loc[card["source"].eq(NOT_FROM_RETURN), "indicator"].tolist()
    for expected in [
        "Staff trained in the narrative model",
        "Personal advisers per care leaver in the year",
        "In-house foster carers",
        "Personal Education Plans on time",
        "Children and care leavers taking part in the Bright Spots survey",
    ]:
        assert expected in outside
    assert (card.loc[card["source"].eq(NOT_FROM_RETURN), "this_year"] == "").all()


def test_missing_measure_shows_x(card):
    line = _line(card, "Reviews held on time (%)")
    assert (line["this_year"], line["england"], line["rag"]) == ("x", "", "")


def test_council_target_replaces_england():
    card = build_scorecard(COUNCIL, ENGLAND, {"placements_3plus_pct": 12.0})
    line = _line(card, "Children with 3 or more placements in the year (%)")
    assert line["yardstick"] == "council target (12)"  # whole percent, as the DfE
    assert line["rag"] == "green"


@pytest.mark.parametrize(
    ("value", "yardstick", "unit", "higher", "mark"),
    [
        (60.0, 56.0, "percent", True, "green"),
        (56.0, 56.0, "percent", True, "green"),
        (51.0, 56.0, "percent", True, "amber"),
        (50.9, 56.0, "percent", True, "red"),
        (440.0, 400.0, "days", False, "amber"),
        (441.0, 400.0, "days", False, "red"),
        (None, 400.0, "days", False, ""),
        (10.0, None, "percent", True, ""),
        (10.0, 5.0, "percent", None, ""),
    ],
)
def test_rag_rule(value, yardstick, unit, higher, mark):
    assert rag(value, yardstick, unit, higher) == mark


def test_direction_without_preference_is_a_bare_arrow():
    assert direction(5.0, 4.0, None) == "↑"
    assert direction(3.0, 4.0, True) == "↓ worse"
    assert direction(3.0, None, True) == ""


def test_direction_and_england_come_from_the_published_rounded_figures():
    # 94.2% and 94.07% are both published as 94: no change, not "worse"; England's 94 the same
    council = _frame(
        [
            (2025, "placed_within_50_miles_pct", "Total", 94.2, "percent", "94", False),
            (2024, "placed_within_50_miles_pct", "Total", 94.07, "percent", "94", False),
            (2025, "health_assessment_pct", "Total", 89.6, "percent", "90", False),
        ]
    )
    england = _frame(
        [(2025, "health_assessment_pct", "Total", 90.4, "percent", "90", False)], "England"
    )
    card = build_scorecard(council, england, {})
    line = _line(card, "Placed within 50 miles of home (%)")
    assert line["direction"] == "→ no change"
    health = _line(card, "Health assessments up to date (%)")
    # 89.6 < 90.4 unrounded, but both read 90: the same as England, so green
    assert (health["compared_with_england"], health["rag"]) == ("the same", "green")


def test_each_row_has_five_years_of_trend_and_a_link_to_its_page(card):
    assert card.attrs["trend_years"] == [2021, 2022, 2023, 2024, 2025]
    line = _line(card, "Children with 3 or more placements in the year (%)")
    assert line["trend"] == "x; x; x; 9.0; 12.0"
    assert line["page"] == "placement_stability.html"
    stability = _line(card, "Long-term placement stability (%)")
    assert stability["trend"] == "x; x; x; 70.0; c"
    assert _line(card, "Reviews held on time (%)")["page"] == "health_and_support.html"
    assert _line(card, "Children adopted in the year")["page"] == "time_to_adoption.html"


def test_measures_that_were_on_no_page_are_on_the_card(card):
    shown = set(card["measure"].dropna())
    for measure in ["missing_children", "teeth_check_pct", "immunisations_pct",
                    "health_check_pct", "started_rate_per_10000", "adopted"]:  # fmt: skip
        assert measure in shown


def test_national_counts_are_not_set_beside_the_councils(card):
    # England's 81,770 children looked after says nothing about a council's 120
    line = _line(card, "Children looked after at 31 March")
    assert (line["england"], line["compared_with_england"]) == ("", "")


def test_compared_with_england_says_better_or_worse(card):
    assert (
        _line(card, "Children with 3 or more placements in the year (%)")["compared_with_england"]
        == "worse"
    )
    eet = "Care leavers aged 19 to 21 in education, employment or training (%)"
    assert _line(card, eet)["compared_with_england"] == "better"


def test_summary_paragraph_is_counted_from_the_card(card):
    # worked by hand from COUNCIL and ENGLAND: figures for 2024-25 on 5 measures (3+
    # placements 12, EET 60, looked after 120, days to adopters 500, SGOs 9); long-term
    # stability withheld. Against England: 3+ placements (12 v 10) and days (500 v 440)
    # worse, EET (60 v 56) better. On last year: 3+ worse, EET better, looked after the same.
    assert scorecard_summary(card) == (
        "Of the 5 measures with a figure for 2024-25, 2 are worse than England and 1 better "
        "or the same; compared with last year, 1 is worse, 1 better and 1 unchanged. Marks: "
        "1 red, 1 amber, 1 green. Red: Days from entering care to moving in with adopters. "
        "1 figure is withheld (c) because very few children are involved."
    )


def test_statistical_neighbours_average_their_published_figures():
    neighbours = _frame(
        [
            (2025, "placements_3plus_pct", "Total", 10.0, "percent", "10", False),
            (2025, "placements_3plus_pct", "Total", 12.0, "percent", "12", False),
            (2025, "placements_3plus_pct", "Total", None, "percent", "c", True),
        ]
    )
    neighbours["geography"] = ["Aton", "Beton", "Ceton"]
    card = build_scorecard(COUNCIL, ENGLAND, {}, neighbours=neighbours)
    line = _line(card, "Children with 3 or more placements in the year (%)")
    # (10 + 12) / 2 = 11: the withheld figure is left out, and the note says so
    assert (line["neighbours"], line["neighbours_year"]) == ("11", "2024-25")
    assert line["neighbours_note"] == "average of 2 of 3 councils"
    assert card.attrs["has_neighbours"] is True
    assert _line(card, "Reviews held on time (%)")["neighbours"] == ""


def test_no_neighbours_column_unless_given(card):
    assert card.attrs["has_neighbours"] is False


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("94", 94.0),
        ("1.5", 1.5),
        ("81,770", 81770.0),
        ("k", 0.0),
        ("c", None),
        ("x", None),
        ("", None),
        (None, None),
    ],  # fmt: skip
)
def test_published_number(text, number):
    assert published_number(text) == number


def test_compare_word():
    assert compare_word(12.0, 10.0, False) == "worse"
    assert compare_word(12.0, 10.0, True) == "better"
    assert compare_word(10.0, 10.0, True) == "the same"
    assert compare_word(10.0, None, True) == ""
    assert compare_word(10.0, 9.0, None) == ""


def test_neighbours_are_taken_from_the_comparators_frame():
    england = ENGLAND.assign(comparator="England")
    neighbour = _frame(
        [(2025, "placements_3plus_pct", "Total", 14.0, "percent", "14", False)], "Aton"
    ).assign(comparator="Statistical neighbour")
    card = build_scorecard(COUNCIL, pd.concat([england, neighbour]), {})
    line = _line(card, "Children with 3 or more placements in the year (%)")
    assert (line["england"], line["neighbours"]) == ("10.0", "14")
    assert line["neighbours_note"] == "average of 1 of 1 council"
