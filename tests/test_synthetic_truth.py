"""Known truth of the synthetic council: hand-checked definitions, plausible figures."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from cpanalysis.synthetic import (
    SyntheticCouncil,
    extract_return,
    simulate_council,
    truth_indicators,
)
from cpanalysis.synthetic.dates import add_years, age_years, day

T = pd.Timestamp
NAT = pd.NaT


def _tiny_council() -> SyntheticCouncil:
    """Five children, collection year 2025 (1 April 2024 - 31 March 2025).

    A: in care since 2020, aged 9, same carers since June 2022 -> long-term stable.
    B: left in April 2024, came back in May 2024, then moved -> 3 placements in the year.
    C: adopted by her foster carers on 1 Dec 2024, 1,051 days after entering care.
    D: short breaks only (V3) -> counted nowhere.
    E: aged 13, in care since 2021, moved in January 2024 -> not long-term stable.
    """
    children = pd.DataFrame(
        {
            "CHILD": ["A", "B", "C", "D", "E"],
            "DOB": [T(2015, 6, 1), T(2008, 1, 10), T(2020, 2, 1), T(2012, 1, 1), T(2012, 3, 1)],
        }
    )
    periods = pd.DataFrame(
        {
            "PERIOD": [0, 4, 1, 2, 3, 5],
            "CHILD": ["A", "B", "B", "C", "D", "E"],
            "START": [T(2020, 1, 1), T(2023, 1, 1), T(2024, 5, 1), T(2022, 1, 15)]
            + [T(2024, 6, 1), T(2021, 1, 1)],
            "END": [NAT, T(2024, 4, 10), NAT, T(2024, 12, 1), T(2024, 6, 3), NAT],
            "REC": ["", "E4A", "", "E11", "E13", ""],
            "SHORT_BREAK": [False, False, False, False, True, False],
        }
    )
    placements = pd.DataFrame(
        {
            "PLACEMENT": range(9),
            "PERIOD": [0, 0, 4, 1, 1, 2, 2, 5, 5],
            "CHILD": ["A", "A", "B", "B", "B", "C", "C", "E", "E"],
            "START": [T(2020, 1, 1), T(2022, 6, 1), T(2023, 1, 1), T(2024, 5, 1), T(2024, 8, 1)]
            + [T(2022, 1, 15), T(2023, 10, 1), T(2021, 1, 1), T(2024, 1, 1)],
            "END": [T(2022, 6, 1), NAT, T(2024, 4, 10), T(2024, 8, 1), NAT]
            + [T(2023, 10, 1), T(2024, 12, 1), T(2024, 1, 1), NAT],
            "PLACE": ["U6", "U4", "U6", "K2", "U6", "U6", "A5", "U6", "U6"],
            "CARER": [1, 2, 3, 4, 5, 6, 6, 7, 8],
        }
    )
    adoptions = pd.DataFrame(
        {"CHILD": ["C"], "PERIOD": [2], "ENTRY": [T(2022, 1, 15)], "ADOPTED": [T(2024, 12, 1)]}
    )
    care_leavers = pd.DataFrame(
        {
            "CHILD": ["X", "Y", "Z", "W", "V", "T", "S", "R"],
            "AGE": [19, 20, 21, 20, 18, 21, 19, 19],
            "YEAR": [2025, 2025, 2025, 2025, 2025, 2025, 2025, 2024],
            "IN_TOUCH": ["YES", "YES", "NO", "DIED", "YES", "RHOM", "YES", "YES"],
            "ACTIV": ["F5", "G5", "0", "0", "F2", "0", "P4", "F1"],
            "ACCOM": ["U1", "S2", "0", "0", "Z1", "0", "D1", "U1"],
        }
    )
    empty = pd.DataFrame()
    return SyntheticCouncil(
        la_code="999",
        home_area="E06000045",
        seed=0,
        size=5,
        first_year=2025,
        last_year=2025,
        children=children,
        periods=periods,
        placements=placements,
        temporary_moves=empty,
        legal_statuses=empty,
        episodes=empty,
        adoptions=adoptions,
        care_leavers=care_leavers,
        reviews=empty,
        missing=empty,
        health=empty,
        prev_perm=empty,
        social_workers=empty,
    )


def test_truth_indicators_on_a_hand_built_council():
    truth = truth_indicators(_tiny_council(), 2025)
    assert truth["cla_31_march"] == 3  # A, B, E (C adopted, D short breaks)
    assert truth["started"] == 1  # B in May 2024
    assert truth["ceased"] == 2  # B in April 2024, C adopted
    assert truth["adopted"] == 1
    # B: the placement she was in on 1 April, then K2 and U6 after coming back
    assert (truth["placements_3plus_num"], truth["placements_3plus_den"]) == (1, 3)
    assert truth["placements_3plus_pct"] == pytest.approx(100 / 3)
    # A and E are under 16 and in care 30 months+; only A has had 2 years with her carers
    assert (truth["long_term_stability_num"], truth["long_term_stability_den"]) == (1, 2)
    assert truth["long_term_stability_pct"] == pytest.approx(50.0)
    # 19-21 in 2025: X, Y, Z, S (W died, T returned home, V is 18, R is last year's)
    assert truth["care_leavers_19_21_den"] == 4
    assert truth["care_leavers_19_21_eet_pct"] == pytest.approx(50.0)  # X (F5), S (P4)
    assert truth["care_leavers_19_21_suitable_pct"] == pytest.approx(50.0)  # U1, D1
    # 15 Jan 2022 -> 1 Dec 2024: 730 days to 15 Jan 2024, then 321 (a leap year)
    assert truth["entry_to_adoption_days"] == pytest.approx(1051.0)


def test_truth_with_nobody_adopted_gives_nan_not_an_error():
    council = _tiny_council()
    council.adoptions = council.adoptions.iloc[0:0]
    assert math.isnan(truth_indicators(council, 2025)["entry_to_adoption_days"])


def test_date_helpers_handle_leap_day_birthdays():
    born = np.array([day(2008, 2, 29)])
    assert add_years(born, 18)[0] == day(2026, 3, 1)  # no 29 Feb in 2026
    assert age_years(born, day(2026, 2, 28))[0] == 17
    assert age_years(born, day(2026, 3, 1))[0] == 18
    assert add_years(born, 16)[0] == day(2024, 2, 29)


@pytest.fixture(scope="module")
def default_council() -> SyntheticCouncil:
    return simulate_council(size=500, first_year=2017, last_year=2026, seed=903)


@pytest.fixture(scope="module")
def default_truth(default_council) -> pd.DataFrame:
    years = default_council.years
    return pd.DataFrame([truth_indicators(default_council, y) for y in years], index=years)


def test_default_council_looks_like_england_2025(default_truth):
    t = default_truth.loc[2025]
    assert 430 <= t["cla_31_march"] <= 580
    assert 0.3 <= t["started"] / t["cla_31_march"] <= 0.5  # England: 32,270 / 81,770
    assert 6 <= t["placements_3plus_pct"] <= 15
    assert 60 <= t["long_term_stability_pct"] <= 78
    assert 40 <= t["care_leavers_19_21_eet_pct"] <= 68
    assert 80 <= t["care_leavers_19_21_suitable_pct"] <= 96
    assert 600 <= t["entry_to_adoption_days"] <= 1050
    assert 8 <= t["adopted"] <= 40


def test_default_council_moves_gently_over_the_years(default_truth):
    cla = default_truth["cla_31_march"]
    assert cla.nunique() > 5  # not flat
    assert (cla.pct_change().dropna().abs() < 0.15).all()  # no jumps
    assert default_truth["started"].std() > 0
    assert default_truth["care_leavers_19_21_eet_pct"].std() > 0


def test_extract_agrees_with_the_truth_on_children_looked_after(default_council):
    """Episodes open at 31 March in the return, short breaks aside, are the true count."""
    episodes = extract_return(default_council, 2025)["episodes"]
    open_ = episodes.loc[(episodes["DEC"] == "") & ~episodes["LS"].isin(["V3", "V4"])]
    assert open_["CHILD"].nunique() == truth_indicators(default_council, 2025)["cla_31_march"]
    # one open episode per child looked after, never two
    assert not open_["CHILD"].duplicated().any()


def test_temporary_moves_return_to_the_same_carers(default_council):
    moves = default_council.temporary_moves
    placements = default_council.placements.set_index("PLACEMENT")
    parent = placements.loc[moves["PLACEMENT"]]
    assert len(moves) > 0
    assert moves["PLACE"].isin(["T0", "T1", "T2", "T3", "T4"]).all()
    assert (moves["START"].to_numpy() > parent["START"].to_numpy()).all()
    # the child is back with the carers before the placement ends (if it has ended)
    closed = parent["END"].notna().to_numpy()
    assert (moves["END"].to_numpy()[closed] < parent["END"].to_numpy()[closed]).all()


def test_adoption_stages_are_in_order(default_council):
    done = default_council.adoptions.dropna(subset=["ADOPTED"])
    assert len(done) > 20
    assert (done["ENTRY"] < done["DECISION"]).all()
    by_order = done.loc[~done["CONSENT"]]
    assert (by_order["DECISION"] < by_order["PLACEMENT_ORDER"]).all()
    assert done.loc[done["CONSENT"], "PLACEMENT_ORDER"].isna().all()  # placed with consent
    assert (done["MATCH"] < done["PLACED"]).all()
    assert ((done["ADOPTED"] - done["PLACED"]).dt.days >= 70).all()  # ten weeks at least


def test_some_adoptions_are_with_consent_and_no_placement_order(default_council):
    """A3/A4 (consent) on V2 or a care order, A5/A6 (placement order) on E1."""
    ep = default_council.episodes
    ad = default_council.adoptions
    done = ad.dropna(subset=["ADOPTED"])
    assert 0.03 <= done["CONSENT"].mean() <= 0.15  # most adoptions are by placement order
    consent = ep.loc[ep["PLACE"].isin(["A3", "A4"])]
    order = ep.loc[ep["PLACE"].isin(["A5", "A6"])]
    assert {"A3", "A4"} <= set(consent["PLACE"])
    assert set(consent["LS"]) == {"V2", "C2"}
    assert set(order["LS"]) == {"E1"}
    consent_periods = ep["PERIOD"].isin(ad.loc[ad["CONSENT"], "PERIOD"])
    assert not (consent_periods & (ep["LS"] == "E1")).any()
    assert set(ep.loc[consent_periods & (ep["REC"] != "") & (ep["REC"] != "X1"), "REC"]) <= {
        "E11",  # unopposed
        "E45",  # a plan that turned into special guardianship, or a leaver
        "E46",
        "E47",
        "E48",
        "E4A",
        "E13",
        "E17",
        "E5",
        "E6",
        "E8",
    }
    # adopted by the foster carers: A3 like A5 counts as foster care in AD1
    placed = ep.loc[ep["PLACE"].isin(["A3", "A5"])].drop_duplicates("PERIOD")["PERIOD"]
    assert (ad.loc[ad["PERIOD"].isin(placed), "FOSTER_CARE"] == 1).all()


def test_short_break_agreements_are_one_v4_episode(default_council):
    ep = default_council.episodes
    periods = default_council.periods.set_index("PERIOD")
    v3, v4 = ep.loc[ep["LS"] == "V3"], ep.loc[ep["LS"] == "V4"]
    assert len(v4) >= 1
    assert len(v3) > 5 * len(v4)  # most councils record each break
    assert not v4["CHILD"].duplicated().any()  # the whole agreement is one period
    assert set(v4["CHILD"]).isdisjoint(v3["CHILD"])
    assert periods.loc[v4["PERIOD"], "SHORT_BREAK"].all()
    length = (v4["DEC"].fillna(pd.Timestamp(2026, 3, 31)) - v4["DECOM"]).dt.days
    assert (length > 60).all()  # months, not the few days of one break
