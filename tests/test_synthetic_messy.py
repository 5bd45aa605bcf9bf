"""Messy synthetic returns: the damage is logged, and cleaning undoes all but the invalid code."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from cpanalysis.synthetic import extract_return, simulate_council, write_demo_returns
from cpanalysis.synthetic.messy import INVALID_PROVIDER, damage_tables

DEMO = {"size": 30, "first_year": 2024, "last_year": 2025, "seed": 11}


def _tidy_tables() -> dict[str, pd.DataFrame]:
    return {
        "episodes": pd.DataFrame(
            {
                "CHILD": ["101", "102", "103"],
                "DECOM": ["01/04/2024", "15/05/2024", "31/12/2024"],
                "RNE": ["S", "S", "P"],
                "LS": ["C1", "V2", "C2"],
                "CIN": ["N1", "N1", "N4"],
                "PLACE": ["U6", "U1", "K2"],
                "PLACE_PROVIDER": ["PR1", "PR1", "PR4"],
                "DEC": ["", "", ""],
                "REC": ["", "", ""],
                "REASON_PLACE_CHANGE": ["", "", ""],
                "HOME_POST": ["SO14 0AA", "", "SO15 1AA"],
                "PL_POST": ["SO14 0AB", "", "SO16 1AB"],
                "URN": ["1000001", "", "1234567"],
            }
        )
    }


def test_damage_log_records_every_changed_cell():
    tidy = _tidy_tables()
    rng = np.random.Generator(np.random.PCG64(3))
    messy, log = damage_tables(tidy, rng, rate=0.5, year=2025)
    before, after = tidy["episodes"], messy["episodes"]
    duplicates = [e for e in log if e["defect"] == "duplicate_row"]
    assert len(after) == len(before) + len(duplicates) >= len(before) + 1
    # every cell that differs in the original rows is in the log, with its old and new value
    cells = {(e["row"], e["column"]): e for e in log if e["column"] is not None}
    top = after.iloc[: len(before)]
    for row in range(len(before)):
        for column in before.columns:
            old, new = before.iat[row, before.columns.get_loc(column)], top.at[row, column]
            if old != new:
                entry = cells[(row + 1, column)]
                assert (entry["original"], entry["damaged"]) == (old, new)
    # exactly one unrecoverable damage: the invalid provider code
    lost = [e for e in log if not e["recoverable"]]
    assert [(e["column"], e["damaged"]) for e in lost] == [("PLACE_PROVIDER", INVALID_PROVIDER)]


def test_messy_dates_still_mean_the_same_day():
    tidy = _tidy_tables()
    rng = np.random.Generator(np.random.PCG64(8))
    _, log = damage_tables(tidy, rng, rate=1.0, year=2025)
    dates = [e for e in log if e["column"] == "DECOM" and e["defect"] != "stray_spaces"]
    assert dates
    for entry in dates:
        want = pd.Timestamp(pd.to_datetime(entry["original"], format="%d/%m/%Y"))
        got = entry["damaged"]
        if entry["defect"] == "iso_date":
            assert pd.Timestamp(got) == want
        elif entry["defect"] == "excel_serial_date":
            assert pd.Timestamp(1899, 12, 30) + pd.Timedelta(days=int(got)) == want
        else:
            assert pd.to_datetime(got, format="%d/%m/%y") == want


def test_messy_files_have_the_file_level_defects(tmp_path):
    write_demo_returns(tmp_path, messy=True, messy_rate=0.05, **DEMO)
    log = json.loads((tmp_path / "damage_log.json").read_text(encoding="utf-8"))
    kinds = {e["defect"] for e in log}
    assert {"shuffled_columns", "extra_column", "blank_leading_row", "cp1252_encoding"} <= kinds
    assert {"iso_date", "excel_serial_date", "two_digit_year", "lower_case_code"} <= kinds
    assert {"id_as_float", "stray_spaces", "duplicate_row", "invalid_code"} <= kinds
    encoded = [e for e in log if e["defect"] == "cp1252_encoding"]
    raw = (tmp_path / encoded[0]["file"]).read_bytes()
    assert "Café".encode("cp1252") in raw
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    blank = [e for e in log if e["defect"] == "blank_leading_row"][0]
    first_line = (tmp_path / blank["file"]).read_bytes().split(b"\n")[0]
    assert first_line.strip(b",") == b""


def test_cleaning_messy_returns_gives_the_tidy_tables_but_the_invalid_codes(tmp_path):
    """Tidy and messy versions of one council clean to the same tables, except the cells
    holding the invalid codes, which the cleaner blanks (and reports)."""
    from cpanalysis.pipeline import clean_returns

    write_demo_returns(tmp_path / "tidy", **DEMO)
    write_demo_returns(tmp_path / "messy", messy=True, messy_rate=0.05, **DEMO)
    log = json.loads((tmp_path / "messy" / "damage_log.json").read_text(encoding="utf-8"))
    (tmp_path / "messy" / "damage_log.json").unlink()  # not a return
    lost = [e for e in log if not e["recoverable"]]
    assert len(lost) == 2  # one invalid code a year
    tidy = clean_returns(tmp_path / "tidy", tmp_path / "out_tidy" / "processed", is_demo=True)
    messy = clean_returns(tmp_path / "messy", tmp_path / "out_messy" / "processed", is_demo=True)
    assert sorted(tidy.tables) == sorted(messy.tables)
    lost_columns = {(e["table"], e["column"]) for e in lost}
    differing = 0
    for table, want in tidy.tables.items():
        got = messy.tables[table]
        assert list(got.columns) == list(want.columns), table
        assert len(got) == len(want), table
        for column in want.columns:
            a, b = want[column].astype(object), got[column].astype(object)
            same = (a == b).fillna(False).astype(bool) | (a.isna() & b.isna())
            if (table, column) in lost_columns:
                # the invalid code became missing; nothing else in the column changed
                assert b[~same].isna().all(), (table, column)
                differing += int((~same).sum())
            else:
                assert same.all(), (table, column, a[~same].head(3).tolist())
    # an invalid code may be overwritten by next year's copy of the same episode, never more
    assert differing <= len(lost)


def test_same_seed_gives_the_same_messy_files(tmp_path):
    a = write_demo_returns(tmp_path / "a", messy=True, **DEMO)
    b = write_demo_returns(tmp_path / "b", messy=True, **DEMO)
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]


def test_messy_xlsx_has_cell_defects_only(tmp_path):
    council = simulate_council(size=20, first_year=2025, last_year=2025, seed=4)
    tidy = extract_return(council, 2025)
    rng = np.random.Generator(np.random.PCG64(1))
    _, log = damage_tables(tidy, rng, 0.05, 2025)
    assert {e["defect"] for e in log}.isdisjoint({"shuffled_columns", "cp1252_encoding"})
    written = write_demo_returns(
        tmp_path, messy=True, size=20, first_year=2025, last_year=2025, seed=4, file_format="xlsx"
    )
    assert [p.suffix for p in written] == [".xlsx", ".json"]


def test_messy_xml_is_written_and_cleans_with_every_row_accounted(tmp_path):
    """XML nests records by child, so messy XML has cell defects but no duplicated rows."""
    from cpanalysis.pipeline import clean_returns

    raw = tmp_path / "raw"
    write_demo_returns(
        raw, size=40, first_year=2024, last_year=2025, seed=5, messy=True, file_format="xml"
    )
    log = json.loads((raw / "damage_log.json").read_text())
    assert log and not any(entry["defect"] == "duplicate_row" for entry in log)
    result = clean_returns(raw, tmp_path / "out", is_demo=True)
    assert result.report.summary()["balanced"].all()
    assert len(result.tables["episodes"]) > 0
