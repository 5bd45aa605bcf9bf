"""The published cleaning report: files with a count of 1-5 records show no count at all."""

from __future__ import annotations

import pandas as pd

from cpanalysis.quality_published import published_quality, write_published_csv
from cpanalysis.site.pages import _quality_tables

NOTE_SMALL = (
    "3 children looked after at 31 March 2020 in this return (2019-20) are missing from the "
    "next return (2 more on a short break, counted in no published figure either way)"
)
NOTE_ONE = (
    "1 child looked after at 31 March 2021 in this return (2020-21) is missing from the next return"
)
NOTE_BIG = "12 children looked after at 31 March 2022 in this return are missing"


def _report() -> dict:
    return {
        "summary": [
            # three unaccompanied children: a count of children with a characteristic
            {"source": "2020/uasc.csv", "table": "uasc", "year": 2020, "rows_read": 3,
             "rows_kept": 3, "rows_replaced": 0, "rows_set_aside": 0, "balanced": True},
            {"source": "2020/episodes.csv", "table": "episodes", "year": 2020, "rows_read": 100,
             "rows_kept": 60, "rows_replaced": 40, "rows_set_aside": 0, "balanced": True},
            # 48 + 2 = 50: the 2 set aside would be read - kept if either were shown
            {"source": "2021/episodes.csv", "table": "episodes", "year": 2021, "rows_read": 50,
             "rows_kept": 48, "rows_replaced": 0, "rows_set_aside": 2, "balanced": True},
        ],
        "details": [
            {"source": "2020/episodes.csv", "table": "episodes", "rule": "superseded",
             "column": None, "action": "replaced", "count": 40, "reason": "later return",
             "sample_rows": "2, 3"},
            {"source": "2021/episodes.csv", "table": "episodes", "rule": "superseded",
             "column": None, "action": "replaced", "count": 9, "reason": "later return",
             "sample_rows": "4, 5"},
            {"source": "2021/episodes.csv", "table": "episodes", "rule": "bad_date",
             "column": "DECOM", "action": "set aside", "count": 2, "reason": "no date",
             "sample_rows": "7, 8"},
        ],
        "notes": [
            {"source": "2020/episodes.csv", "message": NOTE_SMALL},
            {"source": "2021/episodes.csv", "message": NOTE_ONE},
            {"source": "2022/episodes.csv", "message": NOTE_BIG},
        ],
        "balanced": True,
    }  # fmt: skip


def test_a_file_with_a_small_count_shows_none_of_its_counts():
    out = published_quality(_report(), threshold=5)
    uasc, big, small = out["summary"]
    counts = ("rows_read", "rows_kept", "rows_replaced", "rows_set_aside")
    assert [uasc[c] for c in counts] == ["c"] * 4  # 3 read: all four (0s too: 3 = 3 + 0 + 0)
    assert [big[c] for c in counts] == [100, 60, 40, 0]  # nothing small: as it was
    assert [small[c] for c in counts] == ["c"] * 4
    # its findings too, the 9 with the 2 (50 - 48 - 9 ... would add up), and their rows
    assert [(d["count"], d["sample_rows"]) for d in out["details"]] == [
        (40, "2, 3"),
        ("c", ""),
        ("c", ""),
    ]
    assert _report()["summary"][0]["rows_read"] == 3  # the input is not changed


def test_small_numbers_of_children_in_notes_read_as_a_range():
    notes = [n["message"] for n in published_quality(_report(), threshold=5)["notes"]]
    assert notes[0] == (
        "1 to 5 children looked after at 31 March 2020 in this return (2019-20) are missing "
        "from the next return (1 to 5 more on a short break, counted in no published figure "
        "either way)"
    )
    assert notes[1] == (
        "1 to 5 children looked after at 31 March 2021 in this return (2020-21) are missing "
        "from the next return"
    )
    assert notes[2] == NOTE_BIG  # 12: shown; and years, dates and 31 March untouched


def test_the_page_withholds_a_rules_total_when_any_of_its_counts_is_withheld():
    html = _quality_tables(published_quality(_report(), threshold=5))
    by_rule = html.split("Rows set aside and values changed, by rule", 1)[1].split("</table>")[0]
    # superseded: 40 shown + 9 withheld, so its total (49) would give the 9 back
    assert '<td>superseded</td><td>replaced</td><td class="cp-num">c</td>' in by_rule
    assert '<td>bad_date</td><td>set aside</td><td class="cp-num">c</td>' in by_rule
    assert "49" not in html and ">2<" not in html and ">3<" not in html


def test_the_published_csv_follows_the_same_rule(tmp_path):
    rows = [
        ("summary", "2020/uasc.csv", "uasc", "2020", "", "", "rows_read", "3", "", ""),
        ("summary", "2020/uasc.csv", "uasc", "2020", "", "", "rows_kept", "3", "", ""),
        ("summary", "2020/ep.csv", "episodes", "2020", "", "", "rows_read", "100", "", ""),
        ("detail", "2020/ep.csv", "episodes", "2020", "superseded", "", "replaced", "40",
         "later return", "2, 3"),
        ("detail", "2021/ep.csv", "episodes", "2021", "bad_date", "DECOM", "set aside", "2",
         "no date", "7, 8"),
        ("summary", "2021/ep.csv", "episodes", "2021", "", "", "rows_read", "50", "", ""),
        ("note", "2021/ep.csv", "", "", "", "", "note", "", NOTE_ONE, ""),
    ]  # fmt: skip
    columns = ["section", "source", "table", "year", "rule", "column", "action", "count",
               "reason", "sample_rows"]  # fmt: skip
    private = tmp_path / "private.csv"
    pd.DataFrame(rows, columns=columns).to_csv(private, index=False, encoding="utf-8-sig")
    out = write_published_csv(private, tmp_path / "site" / "quality_report.csv", threshold=5)
    assert out.read_bytes().startswith("\ufeff".encode())
    shown = pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert list(shown["count"]) == ["c", "c", "100", "40", "c", "c", ""]
    assert list(shown["sample_rows"]) == ["", "", "", "2, 3", "", "", ""]
    assert shown["reason"].iloc[-1].startswith("1 to 5 children looked after")
    assert private.read_text("utf-8-sig").count(",3,") == 2  # the private copy keeps all
