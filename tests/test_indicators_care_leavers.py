"""Care leavers (OC3) on a hand-built cohort; every expected value worked out by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from cpanalysis.indicators.care_leavers import care_leaver_cohort, care_leaver_measures

# collection year 2025: birthdays between 1 April 2024 and 31 March 2025
OC3 = pd.DataFrame(
    {
        "CHILD": ["a", "b", "c", "d", "e", "f", "g", "h"],
        "DOB": pd.to_datetime(
            [
                "2007-05-01",  # a: 17 in May 2024
                "2008-02-01",  # b: born Feb 2008 (a 29 Feb birthday in processed form): 17
                "2005-01-01",  # c: 20, died: excluded
                "2004-06-01",  # d: 20, not in touch
                "2003-03-01",  # e: 22 in March 2025: outside 17-21
                "2006-07-01",  # f: 18, returned home 6+ months (RHOM): excluded
                "2005-04-01",  # g: 19 on 1 April 2024
                "2004-09-01",  # h: 20
            ]
        ),
        "IN_TOUCH": ["YES", "YES", "DIED", "NO", "YES", "RHOM", "YES", "REFU"],
        "ACTIV": ["F2", "G5", "0", "0", "G4", "0", "G6", "0"],
        "ACCOM": ["B1", "D2", "0", "0", "U1", "0", "U1", "0"],
        "YEAR": 2025,
    }
)


def row(frame: pd.DataFrame, measure: str, breakdown: str) -> pd.Series:
    found = frame.loc[(frame["measure"] == measure) & (frame["breakdown"] == breakdown)]
    assert len(found) == 1, (measure, breakdown)
    return found.iloc[0]


def test_cohort_ages_from_month_of_birth_and_exclusions():
    cohort = care_leaver_cohort(OC3, pd.DataFrame(), 2025).set_index("CHILD")
    assert sorted(cohort.index) == ["a", "b", "d", "g", "h"]
    assert cohort["AGE"].to_dict() == {"a": 17, "b": 17, "d": 20, "g": 19, "h": 20}


def test_percentages_use_whole_cohort_including_not_known():
    m = care_leaver_measures(OC3, pd.DataFrame(), [2025], geography="Demo")
    young, old = "17 to 18 years", "19 to 21 years"
    # 17-18: a (F2, suitable, in touch), b (G5, unsuitable, in touch)
    assert (row(m, "care_leavers_eet_pct", young)[["numerator", "denominator"]] == [1, 2]).all()
    assert row(m, "care_leavers_neet_pct", young)["value"] == 50.0
    assert row(m, "care_leavers_suitable_accom_pct", young)["value"] == 50.0
    assert row(m, "care_leavers_in_touch_pct", young)["value"] == 100.0
    # 19-21: d (not known), g (G6, suitable, in touch), h (refuses contact, not known)
    assert row(m, "care_leavers_eet_pct", old)["value"] == 0.0
    assert row(m, "care_leavers_neet_pct", old)["numerator"] == 1
    assert row(m, "care_leavers_not_known_pct", old)["value"] == pytest.approx(200 / 3)
    assert row(m, "care_leavers_suitable_accom_pct", old)["denominator"] == 3
    assert row(m, "care_leavers_in_touch_pct", old)["value"] == pytest.approx(100 / 3)
    reason = row(m, "care_leavers_neet_reason", "19 to 21 years: Pregnancy or parenting")
    assert (reason["numerator"], reason["denominator"]) == (1, 3)


def test_dob_taken_from_header_when_oc3_has_none():
    header = OC3[["CHILD", "DOB"]].assign(YEAR=2025)
    m = care_leaver_measures(OC3.drop(columns=["DOB"]), header, [2025], geography="Demo")
    assert row(m, "care_leavers_eet_pct", "17 to 18 years")["denominator"] == 2


def test_no_rows_for_a_year_without_oc3():
    m = care_leaver_measures(OC3, pd.DataFrame(), [2024], geography="Demo")
    assert m.empty


def test_short_break_only_and_transferred_leavers_are_left_out_when_episodes_show_it():
    # The DfE leaves out care leavers who were only ever on short breaks and those whose
    # care was taken over by another council. From the episodes we hold:
    # a (17): only short breaks (V3) -> out; g (19): last period ended E3 (care taken over
    # by another council) -> out; b (17): ordinary care, left at 16 with E13 -> stays;
    # d and h have no episodes in the returns held -> the OC3 row stands.
    episodes = pd.DataFrame(
        {
            "CHILD": ["a", "a", "g", "g", "b"],
            "DECOM": pd.to_datetime(
                ["2019-01-05", "2019-03-01", "2015-01-01", "2020-06-01", "2020-02-01"]
            ),
            "RNE": ["S", "S", "S", "S", "S"],
            "LS": ["V3", "V3", "C2", "C2", "V2"],
            "PLACE": ["U6", "U6", "U4", "U4", "K2"],
            "DEC": pd.to_datetime(
                ["2019-01-07", "2019-03-03", "2019-01-01", "2021-09-01", "2024-03-01"]
            ),
            "REC": ["E13", "E13", "E4A", "E3", "E13"],
        }
    )
    m = care_leaver_measures(OC3, pd.DataFrame(), [2025], geography="Demo", episodes=episodes)
    # 17-18: only b is left (G5, unsuitable): EET 0 of 1
    young = row(m, "care_leavers_eet_pct", "17 to 18 years")
    assert (young["numerator"], young["denominator"]) == (0, 1)
    # 19-21: d, h (g left out): NEET 0 of 2, not known 2 of 2
    old = row(m, "care_leavers_not_known_pct", "19 to 21 years")
    assert (old["numerator"], old["denominator"]) == (2, 2)
    # without the episodes, the OC3 table alone: 2 and 3 (as above)
    plain = care_leaver_measures(OC3, pd.DataFrame(), [2025], geography="Demo")
    assert row(plain, "care_leavers_eet_pct", "19 to 21 years")["denominator"] == 3


def test_an_age_band_with_nobody_in_it_is_z():
    # Only a (17) and b (17) in the 2025 OC3 table: the 19-21 band has nobody in it. Its
    # percentages are "not applicable" (z), with a base of 0, not "not available" (x).
    m = care_leaver_measures(OC3.iloc[:2], pd.DataFrame(), [2025], geography="Demo")
    old = row(m, "care_leavers_eet_pct", "19 to 21 years")
    assert old["symbol"] == "z" and old["denominator"] == 0 and pd.isna(old["value"])
    reason = row(m, "care_leavers_neet_reason", "19 to 21 years: Illness or disability")
    assert reason["symbol"] == "z"
    young = row(m, "care_leavers_eet_pct", "17 to 18 years")
    assert pd.isna(young["symbol"]) and (young["numerator"], young["denominator"]) == (1, 2)
