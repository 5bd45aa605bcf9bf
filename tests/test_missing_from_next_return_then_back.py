"""A child open at 31 March, missing from the next return, back in a later one.

liiatools' rule 1 closes an open episode at the next episode's start with X1 whenever the
next episode is not a new start (RNE S). When the next return exists but does not hold
the child and the next episode starts after that return's year, X1 would count the child
as looked after throughout a year whose own return says nothing of them. Each year's
figures come from its own return (issue 10): the child was looked after at the 31 March
of the return that holds them, left on an unknown date (DEC 1 April, unknown end) and, back
later, starts again. X1 stays right when the next episode starts inside the following year
(a later return correcting it), when the following return holds the child (header), or
when the council sent no following return.

A council with three returns, 2019-20, 2020-21 and 2021-22 (YEAR 2020, 2021, 2022), and
four children; every expected figure is worked out by hand in the comments.
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

# Episodes as merged (each from the latest return holding it).
ROWS = [
    # A: open at 31 March 2020 in the 2019-20 return; not in the 2020-21 return at all;
    # back in the 2021-22 return from 1 September 2021 (RNE P, not a new start), moving
    # once more in January 2022.
    ("A", "2019-06-01", "S", "C2", "U6", None, None, 2020),
    ("A", "2021-09-01", "P", "C2", "K2", "2022-01-01", "X1", 2022),
    ("A", "2022-01-01", "P", "C2", "U4", None, None, 2022),
    # B: open in 2019-20, missing from the 2020-21 return, but the 2021-22 return holds an
    # episode that started on 1 November 2020, inside 2020-21 (a late correction): X1.
    ("B", "2019-07-01", "S", "C2", "U6", None, None, 2020),
    ("B", "2020-11-01", "P", "C2", "K2", None, None, 2022),
    # C: open in 2019-20; the 2020-21 return holds C (header) though none of its episodes
    # survived; the next episode starts on 1 June 2021, after 2020-21: still X1.
    ("C", "2019-05-01", "S", "C2", "U6", None, None, 2020),
    ("C", "2021-06-01", "P", "C2", "K2", None, None, 2022),
    # D: in every return, four placements: U6, U4, K2 (all in 2019-20), then U6.
    ("D", "2019-04-10", "S", "C2", "U6", "2019-08-01", "X1", 2020),
    ("D", "2019-08-01", "P", "C2", "U4", "2020-01-01", "X1", 2020),
    ("D", "2020-01-01", "P", "C2", "K2", "2020-10-01", "X1", 2021),
    ("D", "2020-10-01", "P", "C2", "U6", None, None, 2022),
]

#: Which children each return's header holds.
HELD = {2020: ["A", "B", "C", "D"], 2021: ["C", "D"], 2022: ["A", "B", "C", "D"]}


def _episodes(rows: list[tuple], la: str = "999") -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=COLUMNS)
    n = frame.index
    out = pd.DataFrame(
        {
            "LA": pd.Series(la, index=n, dtype="string"),
            "CHILD": frame["CHILD"].astype("string"),
            "DECOM": pd.to_datetime(frame["DECOM"]).astype("datetime64[ns]"),
            "RNE": frame["RNE"].astype("category"),
            "LS": frame["LS"].astype("category"),
            "CIN": pd.Series("N1", index=n).astype("category"),
            "PLACE": frame["PLACE"].astype("category"),
            "PLACE_PROVIDER": pd.Series("PR1", index=n).astype("category"),
            "DEC": pd.to_datetime(frame["DEC"]).astype("datetime64[ns]"),
            "REC": frame["REC"].astype("category"),
            "REASON_PLACE_CHANGE": pd.Series(pd.NA, index=n, dtype="category"),
            "PL_POST": pd.Series(pd.NA, index=n, dtype="string"),
            "URN": pd.Series(pd.NA, index=n, dtype="string"),
            "YEAR": frame["YEAR"].astype("int64"),
            "_source": frame["YEAR"].map(lambda y: f"{la}/{y}/episodes.csv"),
        }
    )
    out["_row"] = out.groupby("_source").cumcount() + 2
    return out


def _header(held: dict[int, list[str]], la: str = "999") -> pd.DataFrame:
    pairs = [(year, child) for year, children in held.items() for child in children]
    return pd.DataFrame(
        {
            "LA": pd.Series([la] * len(pairs), dtype="string"),
            "CHILD": pd.Series([c for _, c in pairs], dtype="string"),
            "DOB": pd.Timestamp("2012-01-01"),
            "SEX": "1",
            "YEAR": pd.Series([y for y, _ in pairs], dtype="int64"),
        }
    )


def _report_for(raw: pd.DataFrame) -> QualityReport:
    report = QualityReport()
    for (source, year), g in raw.groupby(["_source", "YEAR"]):
        report.rows_read(source, "episodes", int(year), len(g))
    return report


@pytest.fixture(scope="module")
def repaired() -> tuple[pd.DataFrame, QualityReport]:
    raw = _episodes(ROWS)
    report = _report_for(raw)
    return repair_episodes(raw, report, header=_header(HELD)), report


def _figures(ep: pd.DataFrame) -> pd.DataFrame:
    window = pd.Timestamp(2019, 4, 1)  # the first return held is 2019-20
    annotated = annotate_episodes(ep.drop(columns=["LA"]), window_start=window)
    header = _header({2022: ["A", "B", "C", "D"]}).drop(columns=["LA"])
    uasc = pd.DataFrame(columns=["CHILD", "DUC", "YEAR"])
    years = [2020, 2021, 2022]
    return pd.concat(
        [
            population_measures(annotated, header, uasc, years, geography="Demo"),
            stability_measures(annotated, header, years, geography="Demo", window_start=window),
        ]
    )


@pytest.fixture(scope="module")
def figures(repaired) -> pd.DataFrame:
    return _figures(repaired[0])


def value(frame: pd.DataFrame, measure: str, year: int, column: str = "value") -> float:
    found = frame.loc[
        (frame["measure"] == measure)
        & (frame["time_period"] == year)
        & (frame["breakdown"] == "Total")
    ]
    assert len(found) == 1, (measure, year)
    return found.iloc[0][column]


def first_episode(ep: pd.DataFrame, child: str) -> pd.Series:
    return ep[ep["CHILD"] == child].sort_values("DECOM").iloc[0]


def test_which_rule_closes_each_open_episode(repaired) -> None:
    ep, _ = repaired
    a, b, c = (first_episode(ep, x) for x in "ABC")
    # A: the 2020-21 return exists and does not hold A, and A's next episode starts
    # after 31 March 2021: looked after at 31 March 2020, left on an unknown date
    assert a["REPAIR"] == "open_episode_missing_from_next_return"
    assert a["DEC"] == pd.Timestamp("2020-04-01") and pd.isna(a["REC"])
    # B: next episode inside 2020-21; C: the 2020-21 return holds C
    assert (b["REPAIR"], b["DEC"], b["REC"]) == (
        "open_episode_continued",
        pd.Timestamp("2020-11-01"),
        "X1",
    )
    assert (c["REPAIR"], c["DEC"], c["REC"]) == (
        "open_episode_continued",
        pd.Timestamp("2021-06-01"),
        "X1",
    )
    assert ep.loc[ep["CHILD"] == "D", "REPAIR"].isna().all()


def test_the_quality_report_names_the_rule(repaired) -> None:
    _, report = repaired
    d = report.details()
    counts = d.groupby(["rule", "action", "column"])["count"].sum().to_dict()
    assert counts[("open_episode_missing_from_next_return", "changed", "DEC")] == 1
    assert counts[("open_episode_continued", "changed", "DEC")] == 2  # B and C
    assert counts[("open_episode_continued", "changed", "REC")] == 2
    assert ("open_episode_missing_from_next_return", "changed", "REC") not in counts
    notes = dict(report.notes)
    assert notes["999/2020/episodes.csv"].startswith(
        "1 child looked after at 31 March 2020 in this return (2019-20) is missing"
    )


def test_a_comes_back_in_a_new_period(repaired) -> None:
    periods = periods_of_care(repaired[0].drop(columns=["LA"]))
    a = periods[periods["CHILD"] == "A"].set_index("START")
    assert list(a.index) == [pd.Timestamp("2019-06-01"), pd.Timestamp("2021-09-01")]
    assert not a.loc[pd.Timestamp("2019-06-01"), "END_KNOWN"]
    assert (periods["CHILD"] == "B").sum() == 1 and (periods["CHILD"] == "C").sum() == 1


def test_looked_after_at_31_march(figures) -> None:
    # 31/03/2020: A, B, C, D. 31/03/2021: B (K2 since Nov 2020), C (held by 2020-21),
    # D; not A (was 4 when X1 carried A through 2020-21). 31/03/2022: all four.
    assert [value(figures, "cla_31_march", y) for y in (2020, 2021, 2022)] == [4, 3, 4]


def test_started_and_ceased(figures) -> None:
    # 2019-20: all four started. 2021-22: A starts again on 1 September 2021 (was 0:
    # one period from 2019). A's end is unknown: no cessation in any year.
    assert [value(figures, "started", y) for y in (2020, 2021, 2022)] == [4, 0, 1]
    assert [value(figures, "ceased", y) for y in (2020, 2021, 2022)] == [0, 0, 0]


def test_three_or_more_placements(figures) -> None:
    # 2019-20: D had U6, U4, K2 -> 1 of 4. 2020-21: B 2, C 1, D 2 (K2, U6) -> 0 of 3.
    # 2021-22: A's new period holds K2 and U4 (2); with X1 it also held the U6 from 2019,
    # 3 placements -> the figure was 1 of 4; C 2, B 1, D 1 -> 0 of 4.
    got = [
        (
            value(figures, "placements_3plus_pct", y, "numerator"),
            value(figures, "placements_3plus_pct", y, "denominator"),
        )
        for y in (2020, 2021, 2022)
    ]
    assert got == [(1, 4), (0, 3), (0, 4)]


def test_without_the_header_the_episodes_say_who_is_held() -> None:
    # The episodes alone: the 2020-21 return holds D only (D's K2 episode), so C is now
    # missing from it too, and C's next episode starts after 31 March 2021.
    raw = _episodes(ROWS)
    ep = repair_episodes(raw, _report_for(raw))
    assert first_episode(ep, "C")["REPAIR"] == "open_episode_missing_from_next_return"
    assert first_episode(ep, "B")["REPAIR"] == "open_episode_continued"


def test_no_following_return_keeps_x1() -> None:
    # Council 222 sent 2019-20 and 2021-22 but no 2020-21 return: nothing says E left,
    # so the open episode continues into the next one (X1), as before.
    rows = [
        ("E", "2019-06-01", "S", "C2", "U6", None, None, 2020),
        ("E", "2021-09-01", "P", "C2", "K2", None, None, 2022),
    ]
    raw = _episodes(rows, la="222")
    header = _header({2020: ["E"], 2022: ["E"]}, la="222")
    ep = repair_episodes(raw, _report_for(raw), header=header)
    e = first_episode(ep, "E")
    assert (e["REPAIR"], e["DEC"], e["REC"]) == (
        "open_episode_continued",
        pd.Timestamp("2021-09-01"),
        "X1",
    )


def test_a_reason_sent_without_a_date_is_cleared() -> None:
    rows = [(*ROWS[0][:6], "E13", 2020), *ROWS[1:]]
    raw = _episodes(rows)
    report = _report_for(raw)
    ep = repair_episodes(raw, report, header=_header(HELD))
    assert pd.isna(first_episode(ep, "A")["REC"])
    d = report.details()
    hit = d[(d["rule"] == "open_episode_missing_from_next_return") & (d["column"] == "REC")]
    assert int(hit["count"].sum()) == 1


# ------------------------------------------------------------------ through the pipeline
_EPISODE_HEAD = "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE"
_RETURNS = {
    # folder: (episode rows, children in the header)
    "2019-20": (
        ["A1,01/06/2019,S,C2,N1,U6,PR1,,,", "C1,01/05/2019,S,C2,N1,U6,PR1,,,"]
        + ["D1,10/04/2019,S,C2,N1,U6,PR1,,,"],
        ["A1", "C1", "D1"],
    ),
    "2020-21": (["D1,10/04/2019,S,C2,N1,U6,PR1,,,"], ["C1", "D1"]),
    "2021-22": (
        ["A1,01/09/2021,P,C2,N1,K2,PR1,,,", "C1,01/06/2021,P,C2,N1,K2,PR1,,,"]
        + ["D1,10/04/2019,S,C2,N1,U6,PR1,,,"],
        ["A1", "C1", "D1"],
    ),
}


def test_the_pipeline_reads_who_each_return_holds_from_its_header(tmp_path) -> None:
    # A1 is in no 2020-21 file; C1 is in the 2020-21 header only (no episode there).
    from cpanalysis.config import Config
    from cpanalysis.pipeline import clean_returns

    raw = tmp_path / "raw"
    for folder, (rows, children) in _RETURNS.items():
        (raw / folder).mkdir(parents=True)
        (raw / folder / "episodes.csv").write_text("\n".join([_EPISODE_HEAD, *rows]) + "\n")
        header = ["CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB"]
        header += [f"{c},1,01/01/2012,WBRI,UN1,," for c in children]
        (raw / folder / "header.csv").write_text("\n".join(header) + "\n")
    config = Config(root=tmp_path, council_name="T", council_code="123", hash_key="k" * 40)
    result = clean_returns(raw, tmp_path / "out", config)
    ep = result.tables["episodes"].set_index("DECOM")
    a, c = ep.loc[pd.Timestamp("2019-06-01")], ep.loc[pd.Timestamp("2019-05-01")]
    assert (a["REPAIR"], a["DEC"]) == (
        "open_episode_missing_from_next_return",
        pd.Timestamp("2020-04-01"),
    )
    assert (c["REPAIR"], c["DEC"], c["REC"]) == (
        "open_episode_continued",
        pd.Timestamp("2021-06-01"),
        "X1",
    )


@pytest.mark.peers
def test_the_demand_model_samples_never_meet_the_case(shared_dir, tmp_path, monkeypatch) -> None:
    # Read from the files themselves (pandas, outside the library): of the 24 episodes
    # left open in a file that no later file repeats, none is followed by an episode
    # other than a new start (RNE S): none has a later episode at all. So neither X1 nor
    # the new rule applies; 23 end as open_episode_child_left, and one is set aside as a
    # stale copy of its neighbour (open_episode_duplicate).
    from cpanalysis.config import Config
    from cpanalysis.pipeline import clean_returns

    monkeypatch.setattr(
        "cpanalysis.deidentify.placement_distance_miles",
        lambda home, placement: pd.Series(float("nan"), index=home.index),
    )
    raw = shared_dir / "data/peers/demand-model-samples"
    config = Config(root=tmp_path, council_name="T", council_code="123", hash_key="k" * 40)
    rules = clean_returns(raw, tmp_path / "out", config, is_demo=True).tables["episodes"]
    counts = rules["REPAIR"].value_counts().to_dict()
    assert counts.get("open_episode_missing_from_next_return", 0) == 0
    assert counts.get("open_episode_continued", 0) == 0
    assert counts["open_episode_child_left"] == 23
