"""Adoption timeliness on hand-built histories; day counts worked out with a calendar."""

from __future__ import annotations

import pandas as pd
import pytest

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
