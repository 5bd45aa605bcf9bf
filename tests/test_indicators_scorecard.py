"""Scorecard extras on a hand-built council (collection year 2025 = 2024-25)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cpanalysis.indicators.scorecard_measures import review_timeliness, scorecard_measures


def dated(frame: pd.DataFrame) -> pd.DataFrame:
    for column in frame.columns:
        if column in ("DECOM", "DEC", "REVIEW", "MIS_START", "SW_DECOM", "DOB"):
            frame[column] = pd.to_datetime(frame[column])
    return frame


EPISODES = dated(
    pd.DataFrame(
        [
            ("R1", "2024-01-01", "S", "C2", "U4", None, None),
            ("R2", "2024-06-01", "S", "C2", "U4", None, None),
            ("R3", "2023-01-01", "S", "C2", "U4", None, None),
            ("R4", "2025-03-10", "S", "V2", "U6", None, None),  # under 28 days at 31 March
            ("R5", "2023-05-01", "S", "C2", "U3", "2024-05-15", "E45"),  # SGO in Q1
            ("R6", "2023-01-01", "S", "C2", "U1", "2025-01-20", "E47"),  # SGO in Q4
        ],
        columns=["CHILD", "DECOM", "RNE", "LS", "PLACE", "DEC", "REC"],
    )
)
REVIEWS = dated(
    pd.DataFrame(
        {
            "CHILD": ["R1", "R1", "R1", "R2", "R3", "R3", "R3", "R3"],
            "REVIEW": [
                "2024-01-20",  # due by 29 Jan (28 days): on time
                "2024-04-15",  # due by 20 Apr (3 months): on time
                "2024-10-10",  # due by 15 Oct (6 months); next due 10 Apr 2025
                "2024-07-05",  # first review due by 29 June: late
                "2023-01-20",
                "2023-04-10",
                "2023-10-01",
                "2024-03-20",  # next due 20 Sep 2024: none held, overdue at 31 March
            ],
        }
    )
)
MISSING = dated(
    pd.DataFrame(
        {
            "CHILD": ["R1", "R1", "R2", "R3"],
            "MISSING": ["M", "M", "A", "M"],
            "MIS_START": ["2024-05-01", "2024-06-01", "2024-07-01", "2024-03-30"],
        }
    )
)
SW = dated(
    pd.DataFrame(
        {
            "CHILD": ["R1", "R1", "R1", "R2", "R3", "R3", "R3"],
            "SW_DECOM": [
                "2024-01-01",
                "2024-08-01",
                "2025-01-01",
                "2024-06-01",
                "2023-01-01",
                "2024-03-01",
                "2024-12-01",
            ],
        }
    )
)
OC2 = dated(
    pd.DataFrame(
        {
            "CHILD": ["R1", "R3", "R7"],
            "DOB": ["2021-01-01", "2012-01-01", "2008-06-01"],
            "HEALTH_CHECK": [1, pd.NA, pd.NA],
            "HEALTH_ASSESSMENT": [1, 1, 0],
            "TEETH_CHECK": [1, 0, 0],
            "IMMUNISATIONS": [1, 1, 1],
            "SDQ_SCORE": [np.nan, 12, np.nan],
            "YEAR": 2025,
        }
    )
)


@pytest.fixture(scope="module")
def measures() -> pd.DataFrame:
    return scorecard_measures(
        EPISODES,
        header=pd.DataFrame(),
        reviews=REVIEWS,
        missing=MISSING,
        oc2=OC2,
        sw_episodes=SW,
        years=[2023, 2025],
        geography="Demo",
    )


def row(frame: pd.DataFrame, measure: str, year: int = 2025, breakdown: str = "Total"):
    found = frame.loc[
        (frame["measure"] == measure)
        & (frame["time_period"] == year)
        & (frame["breakdown"] == breakdown)
    ]
    assert len(found) == 1, (measure, year, breakdown)
    return found.iloc[0]


def test_review_due_dates():
    rv = review_timeliness(EPISODES, REVIEWS)
    r1 = rv.loc[rv["CHILD"] == "R1"]
    assert r1["DUE"].dt.strftime("%Y-%m-%d").tolist() == ["2024-01-29", "2024-04-20", "2024-10-15"]
    assert r1["ON_TIME"].tolist() == [True, True, True]
    assert rv.loc[rv["CHILD"] == "R2", "ON_TIME"].tolist() == [False]


def test_reviews_on_time_all_in_year_and_none_overdue(measures):
    r = row(measures, "reviews_on_time_pct")
    assert (r["numerator"], r["denominator"]) == (1, 3)  # R1 only; R4 in care < 28 days


def test_sgo_by_quarter_of_the_collection_year(measures):
    assert row(measures, "sgo_granted", breakdown="Q1")["value"] == 1
    assert row(measures, "sgo_granted", breakdown="Q2")["value"] == 0
    assert row(measures, "sgo_granted", breakdown="Q3")["value"] == 0
    assert row(measures, "sgo_granted", breakdown="Q4")["value"] == 1
    assert row(measures, "sgo_granted")["value"] == 2


def test_missing_children_counts_children_not_incidents(measures):
    assert row(measures, "missing_children")["value"] == 1  # R1 twice; R2 was 'away'


def test_social_worker_changes_and_not_collected_before_2023_24(measures):
    # at 31 March 2025: R1 (2 changes), R2 (0), R3 (1 in the year), R4 (0) -> 3 / 4
    r = row(measures, "sw_changes_per_child")
    assert r["value"] == pytest.approx(0.75)
    assert r["numerator"] == 4
    old = row(measures, "sw_changes_per_child", year=2023)
    assert old["symbol"] == "z"
    assert pd.isna(old["value"])


def test_oc2_health_measures_with_age_limited_bases(measures):
    assert row(measures, "health_assessment_pct")["value"] == pytest.approx(200 / 3)
    assert row(measures, "teeth_check_pct")["value"] == pytest.approx(100 / 3)
    assert row(measures, "immunisations_pct")["value"] == 100.0
    hc = row(measures, "health_check_pct")  # under 5 at 31 March: R1 only
    assert (hc["numerator"], hc["denominator"]) == (1, 1)
    sdq = row(measures, "sdq_completed_pct")  # aged 5-16: R3 (scored) and R7 (not)
    assert (sdq["numerator"], sdq["denominator"]) == (1, 2)
    assert row(measures, "immunisations_pct", year=2023)["symbol"] == "x"


# W: in care since October 2022; the returns held start with 2023-24 (window 1 April
# 2023), so reviews before then are missing and the first one held is not W's first.
WINDOW = pd.Timestamp("2023-04-01")
W_EPISODES = dated(
    pd.DataFrame(
        [("W", "2022-10-01", "S", "C2", "U4", None, None)],
        columns=["CHILD", "DECOM", "RNE", "LS", "PLACE", "DEC", "REC"],
    )
)
W_REVIEWS = dated(
    pd.DataFrame({"CHILD": "W", "REVIEW": ["2024-03-01", "2024-08-15", "2025-02-01"]})
)


def test_reviews_of_a_period_begun_before_the_window_follow_the_six_month_rule():
    rv = review_timeliness(W_EPISODES, W_REVIEWS, window_start=WINDOW)
    assert rv["NTH"].tolist() == [2, 3, 4]
    # the first held has no known previous review; then 1 Mar + 6 months = 1 Sep 2024
    # (not 1 Jun, the 3-month rule of a second review) and 15 Aug + 6 months
    assert rv["DUE"].dt.strftime("%Y-%m-%d").fillna("").tolist() == [
        "",
        "2024-09-01",
        "2025-02-15",
    ]
    assert rv["ON_TIME"].tolist() == [False, True, True]


def test_reviews_on_time_is_x_in_the_first_year_of_data():
    out = scorecard_measures(
        W_EPISODES,
        header=pd.DataFrame(),
        reviews=W_REVIEWS,
        missing=MISSING.iloc[0:0],
        oc2=OC2.iloc[0:0],
        sw_episodes=SW.iloc[0:0],
        years=[2024, 2025],
        geography="Demo",
        window_start=WINDOW,
    )
    first = row(out, "reviews_on_time_pct", year=2024)
    assert first["symbol"] == "x"
    assert pd.isna(first["value"])
    # 2024-25: 15 Aug 2024 and 1 Feb 2025 on time; next due 1 Aug 2025, not overdue
    r = row(out, "reviews_on_time_pct", year=2025)
    assert (r["numerator"], r["denominator"]) == (1, 1)
