"""Tests of the cleaning rules, one by one, and of clean_table on small hand-made tables."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cpanalysis import cleaning as c
from cpanalysis.merge import concat_returns
from cpanalysis.quality import QualityReport
from cpanalysis.readers import RawTable, read_returns

NA = pd.NA


def s(*values: object) -> pd.Series:
    """A text column as the reader gives it (object, NA for blank)."""
    return pd.Series(list(values), dtype="object")


def lst(series: pd.Series) -> list:
    return [None if pd.isna(v) else v for v in series]


# ---------------------------------------------------------------- value rules
def test_trim_whitespace() -> None:
    out, changed = c.trim_whitespace(s(" 101", "102", "   ", NA, "T3 "))
    assert lst(out) == ["101", "102", None, None, "T3"]
    assert changed.tolist() == [True, False, False, False, True]


def test_upper_case_codes() -> None:
    out, changed = c.upper_case_codes(s("t3", "U4", NA, "pr1"))
    assert lst(out) == ["T3", "U4", None, "PR1"]
    assert changed.tolist() == [True, False, False, True]


def test_id_from_float() -> None:
    out, changed = c.id_from_float(s("1234.0", "1234", "12.5", "A12.0", "0012.00", NA))
    assert lst(out) == ["1234", "1234", "12.5", "A12.0", "0012", None]
    assert changed.tolist() == [True, False, False, False, True, False]


def test_postcode_format() -> None:
    out, changed = c.postcode_format(s("ab1  2cd", "AB1 2CD", NA))
    assert lst(out) == ["AB1 2CD", "AB1 2CD", None]
    assert changed.tolist() == [True, False, False]


def test_parse_dates_formats() -> None:
    values = s(
        "01/05/2024",  # standard
        "1/5/2024",  # no zero padding
        "2024-05-01",  # ISO
        "45413",  # Excel serial: 45413 days after 30/12/1899 = 01/05/2024
        "01/05/24",  # two-digit year, 24 <= 25 -> 2024
        "01/05/26",  # 26 > 25 (the 2024-25 collection year) -> 1926
        "05/13/2024",  # US order: never guessed
        "31/02/2024",  # no such day
        "12",  # a number far outside Excel's plausible range
        "01/05/2024 00:00:00",  # Excel's time part
        NA,
    )
    dates, variant, unreadable = c.parse_dates(values, 2025)
    expected = pd.to_datetime(
        ["2024-05-01"] * 5 + ["1926-05-01", None, None, None, "2024-05-01", None]
    )
    assert dates.tolist() == expected.tolist()
    assert str(dates.dtype) == "datetime64[ns]"
    assert variant.tolist() == [False, True, True, True, True, True] + [False] * 3 + [True, False]
    assert unreadable.tolist() == [False] * 6 + [True, True, True, False, False]


def test_date_zz() -> None:
    out, changed = c.date_zz(s("ZZ/ZZ/2015", "zz/06/2015", "14/ZZ/2015", "01/02/2015", NA))
    assert lst(out) == ["01/01/2015", "01/06/2015", "14/01/2015", "01/02/2015", None]
    assert changed.tolist() == [True, True, True, False, False]


def test_sex_code_mapped_both_ways() -> None:
    new = {"M": "Male", "F": "Female", "U": "Unknown"}
    out, changed = c.sex_code_mapped(s("1", "2", "M", "U", "MALE", NA), new)
    assert lst(out) == ["M", "F", "M", "U", "M", None]
    assert changed.tolist() == [True, True, False, False, True, False]
    old = {"1": "Male", "2": "Female"}
    out, changed = c.sex_code_mapped(s("M", "F", "1", "U"), old)
    assert lst(out) == ["1", "2", "1", "U"]  # U has no 1/2 twin: left for code_in_list
    assert changed.tolist() == [True, True, False, False]


def test_code_in_list_never_guesses() -> None:
    accom = {"0": "No information", "B1": "With parents - suitable"}
    out, repaired, invalid = c.code_in_list(s("B1", "0.0", "01", "B3", NA), accom)
    assert lst(out) == ["B1", "0", None, None, None]
    assert repaired.tolist() == [False, True, False, False, False]
    assert invalid.tolist() == [False, False, True, True, False]


def test_int_range() -> None:
    out, invalid = c.int_range(s("0", "40", "41", "-1", "12.0", "12.5", "x", NA), 0, 40)
    assert lst(out) == [0, 40, None, None, 12, None, None, None]
    assert invalid.tolist() == [False, False, True, True, False, True, True, False]


def test_flag_values() -> None:
    out, repaired, invalid = c.flag_values(s("0", "1", "1.0", "Y", "2", NA))
    assert lst(out) == [0, 1, 1, None, None, None]
    assert str(out.dtype) == "Int64"
    assert repaired.tolist() == [False, False, True, False, False, False]
    assert invalid.tolist() == [False, False, False, True, True, False]


# ---------------------------------------------------------------- row rules
def test_required_blank() -> None:
    frame = pd.DataFrame({"CHILD": ["1", None, "3"], "DECOM": [1, 2, None]})
    assert c.required_blank(frame, ["CHILD", "DECOM"]).tolist() == [False, True, True]


def test_exact_duplicates_keeps_first() -> None:
    frame = pd.DataFrame({"CHILD": ["1", "1", "1", "2"], "X": ["a", "a", "b", "a"]})
    assert c.exact_duplicates(frame, ["CHILD", "X"]).tolist() == [False, True, False, False]


def test_one_row_per_child_keeps_most_complete_then_last() -> None:
    frame = pd.DataFrame(
        {
            "CHILD": ["1", "1", "2", "2", "3"],
            "A": ["x", "x", "x", "y", "x"],
            "B": [None, "z", "z", "z", None],
        }
    )
    # child 1: row 2 has more filled cells; child 2: a tie, the later row wins
    assert c.one_row_per_child(frame, ["CHILD", "A", "B"]).tolist() == [
        True,
        False,
        True,
        False,
        False,
    ]


def test_rules_registry_names_every_rule_once() -> None:
    names = [rule.name for rule in c.RULES]
    assert len(names) == len(set(names))
    for expected in [
        "trim_whitespace",
        "upper_case_codes",
        "id_from_float",
        "parse_dates",
        "date_zz",
        "code_in_list",
        "int_range",
        "flag_values",
        "exact_duplicates",
        "required_blank",
        "one_row_per_child",
        "sex_code_mapped",
        "id_invisible_characters",
        "id_leading_zeros",
        "impossible_dates",
        "born_after_entering_care",
    ]:
        assert expected in names
    actions = ("changed", "set aside", "flagged")
    assert all(rule.description and rule.action in actions for rule in c.RULES)


# ---------------------------------------------------------------- clean_table
def raw(table: str, year: int, rows: list[dict], la: str | None = None) -> RawTable:
    frame = pd.DataFrame(rows, dtype="object")
    frame["_row"] = range(2, 2 + len(frame))
    return RawTable.from_frame(table, year, la, f"{year}/{table}.csv", frame)


EPISODE = {
    "CHILD": "101",
    "DECOM": "01/05/2024",
    "RNE": "S",
    "LS": "C2",
    "CIN": "N1",
    "PLACE": "U4",
    "PLACE_PROVIDER": "PR1",
    "DEC": NA,
    "REC": NA,
    "REASON_PLACE_CHANGE": NA,
    "HOME_POST": NA,
    "PL_POST": NA,
    "URN": NA,
}


def test_clean_episodes_types_and_accounts_for_every_row() -> None:
    rows = [
        dict(EPISODE, CHILD="101.0", PLACE="u4 "),  # row 2: ID and code repaired
        dict(EPISODE, CHILD="102", PLACE="H5", DEC="31/03/2025", REC="E13"),  # row 3: H5 gone
        dict(EPISODE, CHILD="102", PLACE="H5", DEC="31/03/2025", REC="E13"),  # row 4: copy
        dict(EPISODE, CHILD="103", DECOM="not a date"),  # row 5: no DECOM -> set aside
        dict(EPISODE, CHILD=NA),  # row 6: no CHILD -> set aside
    ]
    report = QualityReport()
    out = c.clean_table(raw("episodes", 2025, rows, la="999"), report)
    assert out["CHILD"].tolist() == ["101", "102"]
    assert out["_row"].tolist() == [2, 3]
    assert out["PLACE"].tolist()[0] == "U4"
    assert pd.isna(out["PLACE"].tolist()[1])  # H5 left the list in 2024-25
    assert out["DEC"].tolist()[1] == pd.Timestamp("2025-03-31")
    assert str(out["DECOM"].dtype) == "datetime64[ns]"
    assert isinstance(out["PLACE"].dtype, pd.CategoricalDtype)
    assert "K3" in out["PLACE"].cat.categories and "H5" not in out["PLACE"].cat.categories
    assert str(out["CHILD"].dtype) == "string"
    assert out["YEAR"].tolist() == [2025, 2025] and out["LA"].tolist() == ["999", "999"]
    assert out["_source"].tolist() == ["2025/episodes.csv"] * 2
    summary = report.summary().iloc[0]
    assert (summary["rows_read"], summary["rows_kept"], summary["rows_set_aside"]) == (5, 2, 3)
    report.check_balanced()
    details = report.details().set_index(["rule", "column"])
    assert details.loc[("id_from_float", "CHILD"), "sample_rows"] == "2"
    assert details.loc[("exact_duplicates", None), "sample_rows"] == "4"
    assert "'H5' (2)" in details.loc[("code_in_list", "PLACE"), "reason"]
    aside = report.details().query("rule == 'required_blank' and action == 'set aside'")
    # one finding per (rule, column, action): both reasons kept, joined
    assert aside["sample_rows"].tolist() == ["5, 6"]
    assert aside["reason"].tolist() == [
        "DECOM is blank, so the row cannot be used | CHILD is blank, so the row cannot be used"
    ]


def test_clean_header_one_row_per_child_and_sex_mapping() -> None:
    header = {"SEX": "1", "DOB": "01/02/2010", "ETHNIC": "WBRI", "UPN": "UN1"}
    rows = [
        dict(header, CHILD="1", MOTHER=NA, MC_DOB=NA),  # row 2: fewer cells -> set aside
        dict(header, CHILD="1", MOTHER="0", MC_DOB=NA),  # row 3: kept
        dict(header, CHILD="2", SEX="F", MOTHER=NA, MC_DOB=NA),  # row 4
    ]
    report = QualityReport()
    out = c.clean_table(raw("header", 2025, rows), report)
    assert out["_row"].tolist() == [3, 4]
    assert out["SEX"].tolist() == ["M", "F"]  # "1" sent in 2024-25 mapped to M
    assert out["MOTHER"].tolist()[0] == 0
    assert out["LA"].isna().all()
    details = report.details().set_index("rule")
    assert details.loc["one_row_per_child", "sample_rows"] == "2"
    assert details.loc["sex_code_mapped", "count"] == 2  # rows 2 and 3; row 2 later set aside
    report.check_balanced()


def test_clean_oc2_sdq_and_flags_and_prev_perm_zz() -> None:
    base = {"CHILD": "1", "DOB": "01/02/2010", "SDQ_REASON": NA}
    flags = {
        k: "0"
        for k in [
            "CONVICTED",
            "HEALTH_CHECK",
            "IMMUNISATIONS",
            "TEETH_CHECK",
            "HEALTH_ASSESSMENT",
            "SUBSTANCE_MISUSE",
            "INTERVENTION_RECEIVED",
            "INTERVENTION_OFFERED",
        ]
    }
    rows = [dict(base, **flags, SDQ_SCORE="41"), dict(base, **flags, CHILD="2", SDQ_SCORE="17")]
    rows[1]["TEETH_CHECK"] = "1.0"
    report = QualityReport()
    out = c.clean_table(raw("oc2", 2024, rows), report)
    assert lst(out["SDQ_SCORE"]) == [None, 17]
    assert out["TEETH_CHECK"].tolist() == [0, 1]
    perm = raw(
        "prev_perm",
        2024,
        [
            {
                "CHILD": "1",
                "DOB": "01/02/2010",
                "PREV_PERM": "P2",
                "LA_PERM": NA,
                "DATE_PERM": "ZZ/06/2015",
            }
        ],
    )
    out = c.clean_table(perm, report)
    assert out["DATE_PERM"].tolist() == [pd.Timestamp("2015-06-01")]
    assert set(report.details()["rule"]) >= {"int_range", "flag_values", "date_zz"}


def test_pii_values_never_in_reasons() -> None:
    rows = [dict(EPISODE)]
    header = raw(
        "header",
        2025,
        [{"CHILD": "1", "SEX": "M", "DOB": "31/31/2010", "ETHNIC": "WBRI", "UPN": "UN1"}],
    )
    report = QualityReport()
    c.clean_table(header, report)
    c.clean_table(raw("episodes", 2025, rows), report)
    reasons = " ".join(report.details()["reason"])
    assert "31/31/2010" not in reasons
    assert "not a date" in reasons


def test_empty_table_cleans_to_empty_typed_frame() -> None:
    frame = pd.DataFrame({k: pd.Series([], dtype="object") for k in EPISODE})
    frame["_row"] = pd.Series([], dtype="int64")
    report = QualityReport()
    out = c.clean_table(RawTable.from_frame("episodes", 2025, None, "e.csv", frame), report)
    assert out.empty and str(out["DECOM"].dtype) == "datetime64[ns]"
    assert report.summary().loc[0, "rows_read"] == 0


def test_sw_episodes_in_an_earlier_year_uses_the_first_year_collected() -> None:
    rows = [{"CHILD": "1", "DOB": "01/02/2010", "SW_ID": "SW1", "SW_DECOM": "01/05/2022"}]
    rows[0].update(SW_DEC=NA, SW_REASON="FCONTA")
    out = c.clean_table(raw("sw_episodes", 2023, rows), QualityReport())
    assert out["SW_REASON"].tolist() == ["FCONTA"] and out["YEAR"].tolist() == [2023]


def _files(table: str, year: int, files: dict[str, list[dict]], la: str | None) -> list[RawTable]:
    out = []
    for name, rows in files.items():
        frame = pd.DataFrame(rows, dtype="object")
        frame["_row"] = range(2, 2 + len(frame))
        out.append(RawTable.from_frame(table, year, la, name, frame))
    return out


def test_clean_tables_equals_one_clean_table_per_file() -> None:
    """Several files at once: same rows, and the report hears about each file on its own
    (duplicates and a child's extra rows only within a file, bad values named per file)."""
    header = {"SEX": "1", "DOB": "01/02/2010", "ETHNIC": "WBRI", "UPN": "UN1", "MOTHER": NA}
    files = {
        "801/h.csv": [
            dict(header, CHILD="1", MC_DOB=NA, ETHNIC="XX"),  # row 2: bad code, fewer cells
            dict(header, CHILD="1", MC_DOB="01/01/1990"),  # row 3: kept for child 1
            dict(header, CHILD=NA, MC_DOB=NA),  # row 4: no CHILD
            dict(header, CHILD="2", DOB=NA, MC_DOB=NA),  # row 5: no DOB, kept
        ],
        "802/h.csv": [
            dict(header, CHILD="1", MC_DOB="01/01/1990"),  # same as 801's row 3: kept
            dict(header, CHILD="1", MC_DOB="01/01/1990"),  # row 3: duplicate in its file
            dict(header, CHILD="3", MC_DOB=NA, ETHNIC="YY", DOB="1/2/2010"),  # row 4
        ],
        "803/h.csv": [],
    }
    one, many = QualityReport(), QualityReport()
    separate = [c.clean_table(t, one) for t in _files("header", 2025, files, None)]
    together = c.clean_tables(_files("header", 2025, files, None), many)
    # (concat_returns: the files' own categories of LA and _source, unioned)
    pd.testing.assert_frame_equal(together, concat_returns(separate))
    assert together["_source"].tolist() == ["801/h.csv", "801/h.csv", "802/h.csv", "802/h.csv"]
    pd.testing.assert_frame_equal(many.details(), one.details())
    pd.testing.assert_frame_equal(many.summary(), one.summary())
    details = many.details().set_index(["source", "rule", "action"])
    assert details.loc[("801/h.csv", "code_in_list", "changed"), "reason"].endswith("'XX' (1)")
    assert details.loc[("802/h.csv", "code_in_list", "changed"), "reason"].endswith("'YY' (1)")
    assert details.loc[("802/h.csv", "exact_duplicates", "set aside"), "sample_rows"] == "3"
    assert ("802/h.csv", "one_row_per_child", "set aside") not in details.index
    many.check_balanced()


def test_clean_tables_names_each_council() -> None:
    rows = [dict(EPISODE)]
    raws = [
        RawTable.from_frame(
            "episodes", 2025, "801", "801/e.csv", raw("episodes", 2025, rows).frame
        ),
        RawTable.from_frame("episodes", 2025, None, "e.csv", raw("episodes", 2025, rows).frame),
    ]
    out = c.clean_tables(raws, QualityReport())
    assert lst(out["LA"]) == ["801", None]
    assert out["_row"].tolist() == [2, 2]
    with pytest.raises(ValueError):
        c.clean_tables([raws[0], raw("header", 2025, [])], QualityReport())


# ---------------------------------------------------------------- peers
@pytest.mark.peers
@pytest.mark.parametrize("peer", ["validator-fake-903", "demand-model-samples"])
def test_peer_returns_read_clean_and_balance(shared_dir: Path, peer: str) -> None:
    report = QualityReport()
    tables = read_returns(shared_dir / "data" / "peers" / peer, report)
    cleaned = [c.clean_table(t, report) for t in tables]
    report.check_balanced()
    summary = report.summary().set_index("source")
    assert int(summary["rows_kept"].sum()) == sum(len(f) for f in cleaned)
    if peer == "validator-fake-903":
        assert summary.loc["episodes.csv", "rows_read"] == 5050
        # ACCOM "01" in OC3 is invalid (never read as 0 or 1) and reported with its value
        details = report.details()
        accom = details[(details["source"] == "oc3.csv") & (details["column"] == "ACCOM")]
        assert "'01' (1)" in accom["reason"].iloc[0]
    else:
        assert summary.loc["2017-episodes.csv", "rows_read"] == 1460
        assert summary.loc["2017-episodes.csv", "year"] == 2018


def test_invalid_code_reason_names_the_years_that_use_it() -> None:
    """E45 arrived in 2018-19 and H5 left after 2023-24: the reason says so, so an analyst
    can tell a return filed under the wrong year from a code typed wrong."""
    rows = [
        dict(EPISODE, CHILD="1", REC="E45", DEC="01/06/2017"),
        dict(EPISODE, CHILD="2", REC="E45", DEC="01/06/2017"),
        dict(EPISODE, CHILD="3", REC="Q9", DEC="01/06/2017"),  # no year has Q9
    ]
    report = QualityReport()
    c.clean_table(raw("episodes", 2018, rows), report)
    reason = report.details().set_index(["rule", "column"]).loc[("code_in_list", "REC"), "reason"]
    assert reason == (
        "not a 2017-18 REC code, made missing: 'E45' (2), 'Q9' (1) "
        "(E45 is valid only in 2018-19 to 2026-27)"
    )
    report = QualityReport()
    c.clean_table(raw("episodes", 2025, [dict(EPISODE, PLACE="H5")]), report)
    reason = report.details().set_index(["rule", "column"]).loc[("code_in_list", "PLACE"), "reason"]
    assert reason.endswith("(H5 is valid only in 2016-17 to 2023-24)")


def test_csv_and_workbook_files_of_one_year_clean_together(tmp_path: Path) -> None:
    """pyarrow's CSV reader gives ``string`` columns, the workbook and XML readers
    ``large_string``: files of both kinds in one year are cleaned in one batch."""
    csv_dir = tmp_path / "raw" / "801" / "2024-25"
    csv_dir.mkdir(parents=True)
    (csv_dir / "header.csv").write_text(
        "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB\n1,1,01/02/2010,WBRI,,,\n", encoding="utf-8"
    )
    report = QualityReport()
    from_csv = read_returns(tmp_path / "raw", report)[0]
    assert from_csv.data.column("CHILD").type == "string"
    from_workbook = raw("header", 2025, [dict(CHILD="2", SEX="2", DOB="03/04/2011")], la="802")
    assert from_workbook.data.column("CHILD").type == "large_string"
    out = c.clean_tables([from_csv, from_workbook], report)
    assert lst(out["CHILD"]) == ["1", "2"]
    assert lst(out["LA"]) == ["801", "802"]
    assert out["DOB"].tolist() == [pd.Timestamp("2010-02-01"), pd.Timestamp("2011-04-03")]
