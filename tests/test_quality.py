"""Tests of the data-quality report: every raw row accounted for, by rule."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from cpanalysis.quality import QualityReport

EPI = "2024-25/episodes.csv"


def test_rows_kept_is_read_minus_rows_set_aside() -> None:
    r = QualityReport()
    r.rows_read(EPI, "episodes", 2025, 10)
    r.set_aside(EPI, "episodes", [3, 4], "exact_duplicates", "same as the row above")
    # XML: two episodes of the child at position 9 share row number 9; both count (10 - 4 = 6)
    r.set_aside(EPI, "episodes", [9, 9], "required_blank", "no DECOM")
    s = r.summary()
    assert s.loc[0, ["rows_read", "rows_kept", "rows_set_aside"]].tolist() == [10, 6, 4]
    assert bool(s.loc[0, "balanced"])
    r.check_balanced()


def test_details_one_row_per_rule_column_action_with_sample() -> None:
    r = QualityReport()
    r.rows_read(EPI, "episodes", 2025, 30)
    r.changed(EPI, "episodes", "parse_dates", list(range(25, 2, -1)), "DECOM", "not a date")
    r.changed(EPI, "episodes", "parse_dates", [30], "DECOM", "not a date")
    r.changed(EPI, "episodes", "parse_dates", [5], "DEC", "not a date")
    d = r.details()
    assert len(d) == 2
    decom = d[d["column"] == "DECOM"].iloc[0]
    assert decom["count"] == 24  # 23 rows (3..25) + row 30
    assert decom["sample_rows"] == "3, 4, 5, 6, 7, 8, 9, 10, 11, 12"
    assert decom["action"] == "changed"
    # nothing set aside, so all 30 kept
    assert r.summary().loc[0, "rows_kept"] == 30


def test_check_balanced_names_the_table_when_more_set_aside_than_read() -> None:
    r = QualityReport()
    r.rows_read(EPI, "episodes", 2025, 1)
    r.set_aside(EPI, "episodes", [2, 3], "exact_duplicates", "dup")
    with pytest.raises(AssertionError, match=r"2024-25/episodes.csv \(episodes\)"):
        r.check_balanced()


def test_set_aside_for_a_table_never_read_is_unbalanced() -> None:
    r = QualityReport()
    r.set_aside("x.csv", "header", [2], "rule", "reason")
    with pytest.raises(AssertionError, match="never read"):
        r.check_balanced()


def test_kept_recorded_must_agree() -> None:
    r = QualityReport()
    r.rows_read(EPI, "episodes", 2025, 5)
    r.set_aside(EPI, "episodes", [2], "exact_duplicates", "dup")
    r.kept(EPI, "episodes", 3)  # 3 + 1 != 5: a row vanished silently
    with pytest.raises(AssertionError, match="kept 3"):
        r.check_balanced()
    r.kept(EPI, "episodes", 4)
    r.check_balanced()


def test_absolute_sources_are_refused() -> None:
    r = QualityReport()
    with pytest.raises(ValueError, match="relative"):
        r.rows_read("/home/analyst/raw/episodes.csv", "episodes", 2025, 1)
    with pytest.raises(ValueError, match="relative"):
        r.note("C:\\Users\\me\\episodes.csv", "hello")


def test_write_csv_and_json(tmp_path) -> None:
    r = QualityReport()
    r.rows_read(EPI, "episodes", 2025, 4)
    r.set_aside(EPI, "episodes", [5], "exact_duplicates", "same as row 4")
    r.note(EPI, "read as Windows-1252")
    paths = r.write(tmp_path / "out")
    assert [p.name for p in paths] == ["quality_report.csv", "quality_report.json"]
    tidy = pd.read_csv(paths[0], dtype={"sample_rows": str})
    summary = tidy[tidy["section"] == "summary"].set_index("action")["count"]
    assert summary.to_dict() == {
        "rows_read": 4,
        "rows_kept": 3,
        "rows_replaced": 0,
        "rows_set_aside": 1,
    }
    detail = tidy[tidy["section"] == "detail"].iloc[0]
    assert (detail["rule"], detail["count"], str(detail["sample_rows"])) == (
        "exact_duplicates",
        1,
        "5",
    )
    assert tidy[tidy["section"] == "note"]["reason"].tolist() == ["read as Windows-1252"]
    payload = json.loads(paths[1].read_text())
    assert payload["summary"][0]["rows_kept"] == 3
    assert payload["details"][0]["rule"] == "exact_duplicates"
    assert payload["notes"] == [{"source": EPI, "message": "read as Windows-1252"}]
    assert payload["balanced"] is True


def test_the_csv_has_a_byte_order_mark_like_every_published_csv(tmp_path) -> None:
    # Excel on Windows reads a CSV without the mark in its own code page ("Ã©" for "é")
    r = QualityReport()
    r.rows_read(EPI, "episodes", 2025, 1)
    r.note(EPI, "Nuneaton & Bedworth: café")
    csv, _ = r.write(tmp_path)
    data = csv.read_bytes()
    assert data.startswith("\ufeffsection,".encode())
    assert b"\r\n" not in data  # the same bytes on every platform
    assert "café" in data.decode("utf-8-sig")


def test_empty_report_writes_empty_tables(tmp_path) -> None:
    r = QualityReport()
    r.check_balanced()
    assert r.summary().empty and r.details().empty
    csv, _ = r.write(tmp_path)
    assert pd.read_csv(csv).empty


def test_rule_counts_sum_over_sources() -> None:
    r = QualityReport()
    r.rows_read("a.csv", "header", 2025, 5)
    r.rows_read("b.csv", "header", 2024, 5)
    r.changed("a.csv", "header", "id_from_float", [2, 3], "CHILD", "1234.0 -> 1234")
    r.changed("b.csv", "header", "id_from_float", [4], "CHILD", "1234.0 -> 1234")
    counts = r.rule_counts()
    assert counts.to_dict("records") == [{"rule": "id_from_float", "action": "changed", "count": 3}]


def test_rows_replaced_by_a_later_return_balance_without_being_set_aside():
    r = QualityReport()
    r.rows_read("2019-20/episodes.csv", "episodes", 2020, 5)
    r.replaced("2019-20/episodes.csv", "episodes", [3, 4], "superseded_by_later_return", "later")
    r.set_aside("2019-20/episodes.csv", "episodes", [6], "exact_duplicates", "same as row 5")
    row = r.summary().iloc[0]
    # 5 read = 2 kept + 2 replaced + 1 set aside
    assert (row.rows_kept, row.rows_replaced, row.rows_set_aside) == (2, 2, 1)
    assert bool(row.balanced)
    actions = set(r.details()["action"])
    assert actions == {"replaced by a later return", "set aside"}
