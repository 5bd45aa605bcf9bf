"""Adoption timeliness on hand-built histories; day counts worked out with a calendar."""

from __future__ import annotations

import pandas as pd
import pytest

from cpanalysis.histories import annotate_episodes
from cpanalysis.indicators.adoption import (
    adoption_measures,
    adoption_timeline,
    adoption_waiting_survival,
    children_waiting_for_adoption,
)

COLUMNS = ["CHILD", "DECOM", "RNE", "LS", "PLACE", "DEC", "REC", "REASON_PLACE_CHANGE"]


def dated(frame: pd.DataFrame) -> pd.DataFrame:
    for column in frame.columns:
        if column.startswith("DATE") or column in ("DECOM", "DEC"):
            frame[column] = pd.to_datetime(frame[column])
    return frame


EPISODES = dated(
    pd.DataFrame(
        [
            # C: adopted by the foster carers she moved to in Nov 2022 (U4 -> A5, RNE T)
            ("C", "2022-05-01", "S", "C1", "U6", "2022-11-01", "X1", "CARPL"),
            ("C", "2022-11-01", "P", "C2", "U4", "2023-06-01", "X1", None),
            ("C", "2023-06-01", "L", "E1", "U4", "2023-09-01", "X1", "CARPL"),
            ("C", "2023-09-01", "T", "E1", "A5", "2024-06-01", "E11", None),
            # F: adopted in 2022-23 by new adopters, matched before the placement order
            ("F", "2021-04-01", "S", "C1", "U6", "2021-10-01", "X1", None),
            ("F", "2021-10-01", "L", "E1", "U6", "2022-01-01", "X1", "CARPL"),
            ("F", "2022-01-01", "P", "E1", "A6", "2022-07-01", "E11", None),
            # D: placed for adoption 181 days after entering care, not yet adopted
            ("D", "2023-01-01", "S", "C2", "U6", "2023-07-01", "X1", "CARPL"),
            ("D", "2023-07-01", "P", "E1", "A6", None, None, None),
            # E: decision made, still waiting at 31 March 2025
            ("E", "2023-01-01", "S", "C2", "U6", None, None, None),
            # G: decision reversed after 3 months, still looked after
            ("G", "2023-01-01", "S", "C2", "U6", None, None, None),
        ],
        columns=COLUMNS,
    )
)
AD1 = dated(
    pd.DataFrame(
        {
            "CHILD": ["C", "F"],
            "DATE_INT": ["2023-03-01", "2021-08-01"],
            "DATE_MATCH": ["2023-08-01", "2021-09-01"],
            "FOSTER_CARE": [1, 0],
            "YEAR": [2025, 2023],
        }
    )
)
PLACED_ADOPTION = dated(
    pd.DataFrame(
        {
            "CHILD": ["C", "D", "E", "G"],
            "DATE_PLACED": ["2023-03-01", "2023-03-01", "2023-06-01", "2023-02-01"],
            "DATE_PLACED_CEASED": [None, None, None, "2023-05-01"],
        }
    )
)


@pytest.fixture(scope="module")
def measures() -> pd.DataFrame:
    return adoption_measures(EPISODES, AD1, PLACED_ADOPTION, [2023, 2025], geography="Demo")


def value(frame: pd.DataFrame, measure: str, year: int) -> float:
    found = frame.loc[(frame["measure"] == measure) & (frame["time_period"] == year)]
    assert len(found) == 1
    return float(found["value"].iloc[0])


def test_timeline_milestones_of_a_foster_carer_adoption():
    tl = adoption_timeline(EPISODES, AD1, PLACED_ADOPTION).set_index("CHILD")
    c = tl.loc["C"]
    assert c["YEAR"] == 2025
    assert str(c["ENTERED"].date()) == "2022-05-01"
    assert str(c["DECISION"].date()) == "2023-03-01"
    assert str(c["PLACEMENT_ORDER"].date()) == "2023-06-01"
    assert str(c["PLACED"].date()) == "2023-09-01"
    assert str(c["MOVED_IN_WITH_ADOPTERS"].date()) == "2022-11-01"
    assert bool(c["FOSTER_CARER_ADOPTION"])
    f = tl.loc["F"]
    assert str(f["DECISION"].date()) == "2021-08-01"  # from AD1: no PlacedAdoption row
    assert not bool(f["FOSTER_CARER_ADOPTION"])
    assert sorted(tl.index) == ["C", "F"]


def test_annual_stage_averages_for_the_child_adopted_in_2024_25(measures):
    assert value(measures, "adoption_entry_to_decision_days", 2025) == 304
    assert value(measures, "adoption_decision_to_match_days", 2025) == 153
    assert value(measures, "adoption_match_to_placed_days", 2025) == 31
    assert value(measures, "adoption_entry_to_placed_days", 2025) == 488
    assert value(measures, "adoption_placed_to_order_days", 2025) == 274  # 2024 leap year
    assert value(measures, "adoption_entry_to_order_days", 2025) == 762


def test_three_year_scorecard_a10_differs_from_a1_for_foster_carer_adoption(measures):
    # 2023-2025 adoptions: C (A1 488, A10 184 from moving in with the carers, A2 61)
    # and F (A1 = A10 = 275, matched before the order so A2 = 0)
    assert value(measures, "a1_days_3yr", 2025) == pytest.approx((488 + 275) / 2)
    assert value(measures, "a10_days_3yr", 2025) == pytest.approx((184 + 275) / 2)
    assert value(measures, "a2_days_3yr", 2025) == pytest.approx((61 + 0) / 2)
    assert value(measures, "a1_within_426_days_pct", 2025) == 50.0
    # in 2023 only F was adopted
    assert value(measures, "a1_days_3yr", 2023) == 275


def test_waiting_curve_counts_children_still_waiting_as_censored():
    curve = adoption_waiting_survival(
        EPISODES, PLACED_ADOPTION, as_at=pd.Timestamp("2025-03-31"), min_at_risk=1
    )
    # G censored at 120 days (decision reversed), D placed at 181, C at 488, E still
    # waiting at 820 days: S(181) = 1 - 1/3, S(488) = 2/3 x 1/2
    assert curve["days"].tolist() == [0, 181, 488]
    assert curve["survival"].tolist() == pytest.approx([1, 2 / 3, 1 / 3])
    assert curve["at_risk"].tolist() == [4, 3, 2]
    assert (curve["lower"] <= curve["survival"]).all()
    assert (curve["upper"] >= curve["survival"]).all()


def test_waiting_curve_hides_points_with_few_children():
    curve = adoption_waiting_survival(EPISODES, PLACED_ADOPTION, as_at=pd.Timestamp("2025-03-31"))
    assert curve.empty  # 4 children at most: below the default of 5


def test_children_still_waiting_by_band_counts_only():
    out = children_waiting_for_adoption(
        EPISODES, PLACED_ADOPTION, as_at=pd.Timestamp("2025-03-31"), geography="Demo"
    )
    counts = dict(zip(out["breakdown"], out["value"], strict=True))
    assert counts["18 months or more"] == 1  # E, waiting since June 2023
    assert counts["Total"] == 1  # G's decision was reversed; C and D were placed
    assert set(out["time_period"]) == {2025}
    assert "CHILD" not in out.columns


# Left truncation: the returns held start with 2021-22 (window opens 1 April 2021).
WINDOW = pd.Timestamp("2021-04-01")
TRUNCATED = dated(
    pd.DataFrame(
        [
            # P: first episode held is already the adoption placement, begun before the
            # window: entering care, placement order and placement are all unknown.
            # Adopted July 2021 (2021-22).
            ("P", "2021-02-01", "P", "E1", "A6", "2021-07-01", "E11", None),
            # B: first episode held (E1) begun before the window, not RNE S: entry and
            # placement order unknown; placed Aug 2021 (known). Adopted Feb 2022 (2021-22).
            ("B", "2021-01-01", "L", "E1", "U6", "2021-08-01", "X1", "CARPL"),
            ("B", "2021-08-01", "P", "E1", "A6", "2022-02-01", "E11", None),
            # T: entered before the window on an unknown date; order (June 2021) and
            # placement (Jan 2022) happened inside it. Adopted Sep 2022 (2022-23).
            ("T", "2020-10-01", "P", "C2", "U4", "2021-06-01", "X1", "CARPL"),
            ("T", "2021-06-01", "L", "E1", "U4", "2022-01-01", "X1", "CARPL"),
            ("T", "2022-01-01", "P", "E1", "A6", "2022-09-01", "E11", None),
            # K: entered in the window. Adopted June 2022 (2022-23).
            ("K", "2021-05-01", "S", "C2", "U6", "2021-09-01", "X1", "CARPL"),
            ("K", "2021-09-01", "L", "E1", "U6", "2021-12-01", "X1", "CARPL"),
            ("K", "2021-12-01", "P", "E1", "A6", "2022-06-01", "E11", None),
            # R: entered before the window but the first episode held is RNE S: known.
            # Adopted June 2023 (2023-24).
            ("R", "2020-06-01", "S", "C2", "U6", "2021-06-01", "X1", "CARPL"),
            ("R", "2021-06-01", "L", "E1", "U6", "2022-06-01", "X1", "CARPL"),
            ("R", "2022-06-01", "P", "E1", "A6", "2023-06-01", "E11", None),
            # N: entered on a placement order in June 2023 (order = entry, known).
            # Adopted July 2024 (2024-25).
            ("N", "2023-06-01", "S", "E1", "U6", "2024-01-01", "X1", "CARPL"),
            ("N", "2024-01-01", "P", "E1", "A6", "2024-07-01", "E11", None),
        ],
        columns=COLUMNS,
    )
)
TRUNCATED_AD1 = dated(
    pd.DataFrame(
        {
            "CHILD": ["B", "T", "K", "R", "N"],
            "DATE_INT": ["2021-05-01", None, None, None, None],
            "DATE_MATCH": ["2021-07-01", "2021-12-01", "2021-11-01", "2022-05-01", "2023-12-01"],
            "YEAR": [2022, 2023, 2023, 2024, 2025],
        }
    )
)
NO_DECISIONS = dated(pd.DataFrame({"CHILD": [], "DATE_PLACED": [], "DATE_PLACED_CEASED": []}))


@pytest.fixture(scope="module")
def truncated() -> pd.DataFrame:
    return adoption_measures(
        TRUNCATED,
        TRUNCATED_AD1,
        NO_DECISIONS,
        [2022, 2023, 2024, 2025, 2026],
        geography="Demo",
        window_start=WINDOW,
    )


def cell(frame: pd.DataFrame, measure: str, year: int) -> pd.Series:
    found = frame.loc[(frame["measure"] == measure) & (frame["time_period"] == year)]
    assert len(found) == 1
    return found.iloc[0]


def is_x(frame: pd.DataFrame, measure: str, year: int) -> bool:
    r = cell(frame, measure, year)
    return r["symbol"] == "x" and pd.isna(r["value"]) and pd.isna(r["numerator"])


def test_timeline_marks_milestones_dated_by_a_truncated_first_episode():
    tl = adoption_timeline(
        annotate_episodes(TRUNCATED, window_start=WINDOW), TRUNCATED_AD1, NO_DECISIONS
    ).set_index("CHILD")
    assert tl["ENTERED_KNOWN"].to_dict() == {
        "P": False, "B": False, "T": False, "K": True, "R": True, "N": True
    }  # fmt: skip
    assert tl["PLACEMENT_ORDER_KNOWN"].to_dict() == {
        "P": False, "B": False, "T": True, "K": True, "R": True, "N": True
    }  # fmt: skip
    assert tl["PLACED_KNOWN"].to_dict() == {
        "P": False, "B": True, "T": True, "K": True, "R": True, "N": True
    }  # fmt: skip


def test_entry_based_averages_are_x_while_a_child_counted_entered_on_an_unknown_date(truncated):
    for measure in (
        "adoption_entry_to_decision_days",  # 2021-22: B (decision May 2021, entry unknown)
        "adoption_entry_to_placed_days",
        "adoption_entry_to_order_days",
    ):
        assert is_x(truncated, measure, 2022), measure
    assert is_x(truncated, "adoption_entry_to_order_days", 2023)  # T
    # 2023-24: R entered 1 June 2020 with RNE S, known though before the window:
    # 1 June 2020 -> 1 June 2023 = 365 + 365 + 365
    assert cell(truncated, "adoption_entry_to_order_days", 2024)["value"] == 1095
    # 2024-25: N, 1 June 2023 -> 1 July 2024 = 366 (29 Feb 2024) + 30
    assert cell(truncated, "adoption_entry_to_order_days", 2025)["value"] == 396


def test_placement_dates_of_a_truncated_first_episode_are_unknown_too(truncated):
    # 2021-22: P was already placed when the window opened -> placed to order is x
    assert is_x(truncated, "adoption_placed_to_order_days", 2022)
    # match to placed: only B counts (P has no match date): 1 July -> 1 Aug 2021 = 31
    r = cell(truncated, "adoption_match_to_placed_days", 2022)
    assert (r["value"], r["numerator"]) == (31, 1)
    # 2022-23: T's placement (Jan 2022) is inside the window though its entry is not:
    # T 1 Jan -> 1 Sep 2022 = 243, K 1 Dec 2021 -> 1 Jun 2022 = 182
    assert cell(truncated, "adoption_placed_to_order_days", 2023)["value"] == 212.5
    # decision to match uses no episode date: B 1 May -> 1 July 2021 = 61
    assert cell(truncated, "adoption_decision_to_match_days", 2022)["value"] == 61


def test_three_year_measures_need_three_years_in_the_window_and_known_dates(truncated):
    # 2021-22 and 2022-23: the three years reach before April 2021
    for year in (2022, 2023):
        for measure in ("a1_days_3yr", "a2_days_3yr", "a10_days_3yr", "a1_within_426_days_pct"):
            assert is_x(truncated, measure, year), (measure, year)
    # 2023-24 (2021-22..2023-24): A1 x (B, T entered on unknown dates), A2 x (B's order)
    assert is_x(truncated, "a1_days_3yr", 2024)
    assert is_x(truncated, "a1_within_426_days_pct", 2024)
    assert is_x(truncated, "a2_days_3yr", 2024)
    # 2024-25 (2022-23..2024-25): T's entry unknown -> A1, A10 x; every order known:
    # A2 = T 1 Jun -> 1 Dec 2021 183, K 1 Sep -> 1 Nov 2021 61,
    # R 1 Jun 2021 -> 1 May 2022 334, N 1 Jun -> 1 Dec 2023 183
    assert is_x(truncated, "a1_days_3yr", 2025)
    assert is_x(truncated, "a10_days_3yr", 2025)
    a2 = cell(truncated, "a2_days_3yr", 2025)["value"]
    assert a2 == pytest.approx((183 + 61 + 334 + 183) / 4)
    # 2025-26 (2023-24..2025-26): R and N, all known.
    # A1 = R 1 Jun 2020 -> 1 Jun 2022 730, N 1 Jun 2023 -> 1 Jan 2024 214
    a1 = cell(truncated, "a1_days_3yr", 2026)
    assert (a1["value"], a1["numerator"]) == ((730 + 214) / 2, 2)
    assert pd.isna(a1["symbol"])
    assert cell(truncated, "a10_days_3yr", 2026)["value"] == (730 + 214) / 2
    assert cell(truncated, "a2_days_3yr", 2026)["value"] == (334 + 183) / 2
    assert cell(truncated, "a1_within_426_days_pct", 2026)["value"] == 50.0  # N only


def test_window_start_taken_from_the_episodes_collection_years():
    # the first return held is 2021-22 (YEAR 2022): the same window as above
    with_year = TRUNCATED.assign(YEAR=2022)
    out = adoption_measures(with_year, TRUNCATED_AD1, NO_DECISIONS, [2023], geography="Demo")
    assert is_x(out, "adoption_entry_to_order_days", 2023)


def test_waiting_curve_leaves_out_children_who_entered_care_on_an_unknown_date():
    decisions = dated(
        pd.DataFrame(
            {
                "CHILD": ["T", "K"],
                "DATE_PLACED": ["2021-08-01", "2021-08-15"],
                "DATE_PLACED_CEASED": [None, None],
            }
        )
    )
    curve = adoption_waiting_survival(
        annotate_episodes(TRUNCATED, window_start=WINDOW),
        decisions,
        as_at=pd.Timestamp("2026-03-31"),
        min_at_risk=1,
    )
    # only K is followed: entered 1 May 2021, placed 1 Dec 2021 = 214 days
    assert curve["days"].tolist() == [0, 214]
    assert curve["at_risk"].tolist() == [1, 1]


def test_a2_with_nobody_in_its_base_is_z_not_x():
    # Only child N was adopted in 2022-23 .. 2024-25, and with no placement order (V2, placed
    # with consent, A4): A2 (order -> match) has nobody in its base. That is "not
    # applicable" (z); x (not available) is for figures the data window cannot support.
    # A1 still has N: entered 1 May 2023, placed 1 December 2023 = 214 days.
    ep = dated(
        pd.DataFrame(
            [
                ("N", "2023-05-01", "S", "V2", "U6", "2023-12-01", "X1", "CARPL"),
                ("N", "2023-12-01", "P", "V2", "A4", "2024-09-01", "E11", None),
            ],
            columns=COLUMNS,
        )
    )
    ep["YEAR"] = 2025
    ad1 = dated(
        pd.DataFrame(
            {
                "CHILD": ["N"],
                "DATE_INT": ["2023-08-01"],
                "DATE_MATCH": ["2023-10-01"],
                "FOSTER_CARE": [0],
                "YEAR": [2025],
            }
        )
    )
    out = adoption_measures(
        ep,
        ad1,
        PLACED_ADOPTION.iloc[0:0],
        [2025],
        geography="Demo",
        window_start=pd.Timestamp("2020-04-01"),
    )
    a2 = out.loc[out["measure"] == "a2_days_3yr"].iloc[0]
    assert a2["symbol"] == "z" and pd.isna(a2["value"]) and a2["numerator"] == 0
    assert value(out, "a1_days_3yr", 2025) == 214
