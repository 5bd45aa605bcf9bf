"""A child whose episode is open at 31 March and who is missing from the next return.

Issue 10: the one return that covers that 31 March says the child was looked after at the
end of it (DEC blank), so every figure of that year counts the child as looked after at
31 March and counts no cessation; the care ended on an unknown date after it, so the next
year counts the child in none of its figures. The same for a child whose next period of
care (from a later return) starts after that 31 March.

A tiny council with three returns (2019-20, 2020-21, 2021-22) goes through the merge's
repair rules and then the indicators; every expected value is worked out by hand below.
"""

from __future__ import annotations

import pandas as pd
import pytest

from cpanalysis.histories import annotate_episodes, periods_of_care
from cpanalysis.indicators.population import population_measures
from cpanalysis.indicators.stability import stability_measures
from cpanalysis.merge import repair_episodes
from cpanalysis.quality import QualityReport

COLUMNS = ["CHILD", "DECOM", "RNE", "LS", "PLACE", "DEC", "REC", "YEAR"]

ROWS = [
    # M: in care since June 2019 (2019-20 and 2020-21 returns), one move in 2020-21,
    # open at 31 March 2021 in the 2020-21 return, and in no 2021-22 return
    ("M", "2019-06-01", "S", "C2", "U6", "2020-09-01", "X1", 2021),
    ("M", "2020-09-01", "P", "C2", "U4", None, "E13", 2021),  # a reason sent without a date
    # R: open at 31 March 2021 in the 2020-21 return, back in care from 1 August 2021 (a new
    # period, RNE S, in the 2021-22 return): left on an unknown date in April-July 2021
    ("R", "2020-05-01", "S", "V2", "U6", None, None, 2021),
    ("R", "2021-08-01", "S", "V2", "K2", None, None, 2022),
    # K: a child who really ceased on 31 March 2021 (recorded), as a contrast
    ("K", "2020-05-01", "S", "V2", "U6", "2021-03-31", "E4A", 2021),
    # L: looked after throughout, in every return (the latest return's open episode)
    ("L", "2019-01-01", "S", "C2", "U4", None, None, 2022),
]


def _episodes() -> pd.DataFrame:
    frame = pd.DataFrame(ROWS, columns=COLUMNS)
    out = pd.DataFrame(
        {
            "LA": pd.Series("999", index=frame.index, dtype="string"),
            "CHILD": frame["CHILD"].astype("string"),
            "DECOM": pd.to_datetime(frame["DECOM"]).astype("datetime64[ns]"),
            "RNE": frame["RNE"].astype("category"),
            "LS": frame["LS"].astype("category"),
            "CIN": pd.Series("N1", index=frame.index).astype("category"),
            "PLACE": frame["PLACE"].astype("category"),
            "PLACE_PROVIDER": pd.Series("PR1", index=frame.index).astype("category"),
            "DEC": pd.to_datetime(frame["DEC"]).astype("datetime64[ns]"),
            "REC": frame["REC"].astype("category"),
            "REASON_PLACE_CHANGE": pd.Series(pd.NA, index=frame.index, dtype="category"),
            "PL_POST": pd.Series(pd.NA, index=frame.index, dtype="string"),
            "URN": pd.Series(pd.NA, index=frame.index, dtype="string"),
            "YEAR": frame["YEAR"].astype("int64"),
            "_source": frame["YEAR"].map(lambda y: f"{y}/episodes.csv"),
        }
    )
    out["_row"] = out.groupby("_source").cumcount() + 2
    return out


@pytest.fixture(scope="module")
def repaired() -> tuple[pd.DataFrame, QualityReport]:
    raw = _episodes()
    report = QualityReport()
    for (source, year), g in raw.groupby(["_source", "YEAR"]):
        report.rows_read(source, "episodes", int(year), len(g))
    return repair_episodes(raw, report), report


@pytest.fixture(scope="module")
def figures(repaired) -> pd.DataFrame:
    ep, _ = repaired
    window = pd.Timestamp(2019, 4, 1)  # the first return held is 2019-20
    annotated = annotate_episodes(ep.drop(columns=["LA"]), window_start=window)
    header = pd.DataFrame(
        {
            "CHILD": ["M", "R", "K", "L"],
            "DOB": pd.to_datetime(["2012-01-01"] * 4),
            "SEX": ["1"] * 4,
            "YEAR": 2022,
        }
    )
    uasc = pd.DataFrame(columns=["CHILD", "DUC", "YEAR"])
    years = [2021, 2022]
    return pd.concat(
        [
            population_measures(annotated, header, uasc, years, geography="Demo"),
            stability_measures(annotated, header, years, geography="Demo", window_start=window),
        ]
    )


def value(frame: pd.DataFrame, measure: str, year: int, breakdown: str = "Total") -> pd.Series:
    found = frame.loc[
        (frame["measure"] == measure)
        & (frame["time_period"] == year)
        & (frame["breakdown"] == breakdown)
    ]
    assert len(found) == 1, (measure, year, breakdown)
    return found.iloc[0]


def test_the_merge_ends_them_on_1_april_with_no_reason(repaired) -> None:
    ep, report = repaired
    last = ep.drop_duplicates("CHILD", keep="first").set_index("CHILD")
    m = ep[ep["CHILD"] == "M"].iloc[-1]
    r = ep[ep["CHILD"] == "R"].iloc[0]
    # the first day no return shows them in care; M's stray reason E13 is cleared
    assert m["DEC"] == pd.Timestamp("2021-04-01") and pd.isna(m["REC"])
    assert m["REPAIR"] == "open_episode_child_left"
    assert r["DEC"] == pd.Timestamp("2021-04-01") and pd.isna(r["REC"])
    assert r["REPAIR"] == "open_episode_left_before_new_period"
    assert pd.isna(last.loc["K", "REPAIR"]) and pd.isna(last.loc["L", "DEC"])
    notes = dict(report.notes)
    assert notes["2021/episodes.csv"].startswith(
        "2 children looked after at 31 March 2021 in this return (2020-21) are missing"
    )
    assert "short break" not in notes["2021/episodes.csv"]  # neither M nor R is one


def test_periods_end_on_an_unknown_date(repaired) -> None:
    periods = periods_of_care(repaired[0].drop(columns=["LA"])).set_index(["CHILD", "START"])
    assert not periods.loc[("M", pd.Timestamp("2019-06-01")), "END_KNOWN"]
    assert not periods.loc[("R", pd.Timestamp("2020-05-01")), "END_KNOWN"]
    assert periods.loc[("R", pd.Timestamp("2021-08-01")), "END_KNOWN"]
    assert periods.loc[("K", pd.Timestamp("2020-05-01")), "END_KNOWN"]


def test_looked_after_at_31_march_of_their_return(figures) -> None:
    # 31 March 2021: M, R, L (K ceased ON 31 March 2021, so is not looked after then).
    # Before issue 10, M and R were closed on 31 March 2021 and the count was 1 (L).
    assert value(figures, "cla_31_march", 2021)["value"] == 3
    assert value(figures, "cla_by_legal_status", 2021, "Full care order")["value"] == 2
    # and they are in the year's 3+ placements base: M (2 placements: U6, U4), R, L
    r = value(figures, "placements_3plus_pct", 2021)
    assert (r["numerator"], r["denominator"]) == (0, 3)


def test_no_cessation_in_that_year_or_the_next(figures) -> None:
    # 2020-21: only K ceased (E4A). M and R would have been two more (reason not known).
    assert value(figures, "ceased", 2021)["value"] == 1
    assert (
        value(figures, "ceased_by_reason", 2021, "Returned home to parents or relatives")["value"]
        == 1
    )
    # 2021-22: M and R left on unknown dates: not counted; nobody else ceased
    assert value(figures, "ceased", 2022)["value"] == 0


def test_in_no_figure_of_the_next_year(figures) -> None:
    # 31 March 2022: R (back since 1 August 2021) and L. M is gone.
    assert value(figures, "cla_31_march", 2022)["value"] == 2
    # R's new period is a start in 2021-22; M's care is in no figure of the year
    assert value(figures, "started", 2022)["value"] == 1
    # looked after during 2021-22: R (new period only) and L = 2 children, 1 placement
    # each. Had M's and R's old episodes (ending "1 April 2021") counted as looked after
    # on 1 April, the base would be 3 (M with 0 placements in the year).
    r = value(figures, "placements_per_child", 2022)
    assert r["numerator"] == 2
    assert r["value"] == pytest.approx(1.0)
