"""Tests of the reader: encodings, layouts, header matching, XML, years and bad input."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook

from cpanalysis.errors import InputError
from cpanalysis.quality import QualityReport
from cpanalysis.readers import RawTable, read_returns

RETURNS = Path(__file__).resolve().parent / "fixtures" / "returns"

EPISODE_HEADER = (
    "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN"
)


def _by_table(tables: list[RawTable]) -> dict[str, RawTable]:
    return {t.table: t for t in tables}


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding=encoding)
    return path


# ---------------------------------------------------------------- encodings and layout
def test_utf8_bom_utf16_and_cp1252_files_of_one_return() -> None:
    report = QualityReport()
    tables = _by_table(read_returns(RETURNS / "encodings", report))
    assert set(tables) == {"header", "episodes", "uasc"}
    assert {t.year for t in tables.values()} == {2025}
    # the BOM is not glued to the first header: CHILD is read
    assert tables["header"].frame["CHILD"].tolist() == ["101", "102"]
    # UTF-16: both episodes, every cell a string, blank cells missing
    episodes = tables["episodes"].frame
    assert episodes["DECOM"].tolist() == ["01/05/2024", "10/06/2024"]
    assert episodes.loc[0, "DEC"] is pd.NA
    # Windows-1252: the accented letter survives, the extra column is dropped and noted
    uasc = tables["uasc"].frame
    assert uasc["CHILD"].tolist() == ["AÉ7"]
    assert list(uasc.columns) == ["CHILD", "SEX", "DOB", "DUC", "_row"]
    notes = dict(report.notes)
    assert notes["2024-25/episodes.csv"] == "read as UTF-16"
    assert notes["2024-25/header.csv"] == "read as UTF-8 with BOM"
    assert ("2024-25/uasc.csv", "column(s) not in the uasc table ignored: Comment") in (
        report.notes
    )


def test_council_folder_shuffled_columns_blank_rows_and_row_numbers() -> None:
    report = QualityReport()
    [episodes] = read_returns(RETURNS / "layout", report)
    assert (episodes.table, episodes.year, episodes.la) == ("episodes", 2025, "999")
    assert episodes.source == "999/2024-25/eps.csv"
    frame = episodes.frame
    # DfE order whatever the file's order; "child" and "Place Provider" matched loosely
    assert list(frame.columns[:7]) == [
        "CHILD",
        "DECOM",
        "RNE",
        "LS",
        "CIN",
        "PLACE",
        "PLACE_PROVIDER",
    ]
    assert frame["CHILD"].tolist() == ["201", "202"]
    assert frame["PLACE_PROVIDER"].tolist() == ["PR1", "PR4"]
    # two blank lines, header on line 3, data on 4, an empty row 5, data on 6
    assert frame["_row"].tolist() == [4, 6]
    messages = [m for _, m in report.notes]
    assert "2 blank line(s) before the header skipped" in messages
    assert "1 fully empty row(s) ignored (rows 5)" in messages
    assert "column(s) not in the episodes table ignored: Worker name" in messages


def test_xml_return_gives_the_csv_tables() -> None:
    report = QualityReport()
    tables = _by_table(read_returns(RETURNS / "xml", report))
    assert set(tables) == {"header", "episodes", "uasc", "reviews", "prev_perm", "oc3", "missing"}
    assert {t.year for t in tables.values()} == {2024}
    episodes = tables["episodes"].frame
    # PL -> PLACE, CHILDID -> CHILD, both episodes carry child 301's position as row number
    assert episodes["PLACE"].tolist() == ["U4", "U6"]
    assert episodes["CHILD"].tolist() == ["301", "301"]
    assert episodes["_row"].tolist() == [1, 1]
    # UASC only for the child flagged 1; OC3 and missing for child 2, with CHILD and DOB
    assert tables["uasc"].frame["CHILD"].tolist() == ["301"]
    assert tables["oc3"].frame[["CHILD", "DOB", "ACCOM", "_row"]].values.tolist() == [
        ["302", "07/08/2006", "B1", 2]
    ]
    assert tables["missing"].frame["MIS_START"].tolist() == ["03/10/2023"]
    assert len(tables["reviews"].frame) == 2


def test_xlsx_one_sheet_per_table_with_excel_dates_and_floats(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "Header"
    ws.append([])  # a blank first row
    ws.append(["CHILD", "SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB"])
    ws.append([1234.0, "M", dt.datetime(2010, 2, 1), "WBRI", "UN1", 1.5, None])
    notes = wb.create_sheet("Notes")
    notes.append(["Exported by the case system"])
    (tmp_path / "2024-25").mkdir()
    wb.save(tmp_path / "2024-25" / "return.xlsx")
    report = QualityReport()
    [header] = read_returns(tmp_path, report)
    assert header.source == "2024-25/return.xlsx#Header"
    # openpyxl stores a whole float as an integer (so 1234.0 reads back as 1234); a true
    # float keeps its decimals for the cleaner to judge; a date cell becomes ISO text
    cells = header.frame.loc[0, ["CHILD", "DOB", "MOTHER"]].tolist()
    assert cells == ["1234", "2010-02-01", "1.5"]
    assert header.frame["_row"].tolist() == [3]
    assert any("'Notes' holds no SSDA903 table" in m for _, m in report.notes)


# ---------------------------------------------------------------- years
def test_bare_year_named_by_its_start_moves_on_a_year(tmp_path: Path) -> None:
    # "2017": episodes start April 2017 - March 2018, so this is the 2017-18 return (2018)
    rows = "\n".join(
        f"{i},0{(i % 9) + 1}/0{(i % 3) + 4}/2017,S,C2,N1,U4,PR1,,,,,," for i in range(6)
    )
    _write(tmp_path / "2017-episodes.csv", EPISODE_HEADER + "\n" + rows + "\n")
    _write(
        tmp_path / "2017-header.csv",
        "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB\n1,1,01/01/2010,WBRI,UN1,,\n",
    )
    report = QualityReport()
    tables = read_returns(tmp_path, report)
    assert {t.year for t in tables} == {2018}  # the header file moves with its episodes
    assert any("read as the 2017-18 return" in m for s, m in report.notes if s == "2017-header.csv")


def test_bare_year_kept_when_dates_fit(tmp_path: Path) -> None:
    _write(
        tmp_path / "2017" / "episodes.csv", EPISODE_HEADER + "\n1,01/05/2016,S,C2,N1,U4,PR1,,,,,,\n"
    )
    [episodes] = read_returns(tmp_path, QualityReport())
    assert episodes.year == 2017


def test_no_year_anywhere_is_inferred_from_latest_decom(tmp_path: Path) -> None:
    _write(
        tmp_path / "episodes.csv",
        EPISODE_HEADER + "\n1,01/05/2022,S,C2,N1,U4,PR1,,,,,,\n2,15/01/2023,S,C2,N1,U4,PR1,,,,,,\n",
    )
    report = QualityReport()
    [episodes] = read_returns(tmp_path, report)
    assert episodes.year == 2023
    assert report.notes == [
        (
            "episodes.csv",
            "no year in the name: read as the 2022-23 return, "
            "from the latest episodes date, in January 2023",
        )
    ]


def test_no_year_and_no_dates_names_the_file(tmp_path: Path) -> None:
    _write(
        tmp_path / "header.csv",
        "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB\n1,1,01/01/2010,WBRI,UN1,,\n",
    )
    with pytest.raises(InputError, match=r"^header.csv: no collection year"):
        read_returns(tmp_path, QualityReport())


def test_unknown_year(tmp_path: Path) -> None:
    _write(tmp_path / "2010-11" / "episodes.csv", EPISODE_HEADER + "\n")
    with pytest.raises(
        InputError, match=r"2010-11/episodes.csv: a return for an unknown year \(2010-11\)"
    ):
        read_returns(tmp_path, QualityReport())


def test_sw_episodes_before_2024_is_read_and_noted(tmp_path: Path) -> None:
    _write(
        tmp_path / "2022-23" / "sw.csv",
        "CHILD,DOB,SW_ID,SW_DECOM,SW_DEC,SW_REASON\n1,01/01/2010,SW1,01/05/2022,,\n",
    )
    report = QualityReport()
    [sw] = read_returns(tmp_path, report)
    assert (sw.table, sw.year) == ("sw_episodes", 2023)
    assert any("did not collect it" in m for _, m in report.notes)


# ---------------------------------------------------------------- bad input
def test_unknown_table_names_file_and_nearest_table(tmp_path: Path) -> None:
    _write(tmp_path / "2024-25" / "stuff.csv", "CHILD,FAVOURITE_COLOUR\n1,blue\n")
    with pytest.raises(InputError) as err:
        read_returns(tmp_path, QualityReport())
    message = str(err.value)
    assert message.startswith("2024-25/stuff.csv: unknown table")
    assert "nearest is" in message


def test_required_column_missing_names_file_and_column(tmp_path: Path) -> None:
    header = EPISODE_HEADER.replace("DECOM,", "")
    _write(tmp_path / "2024-25" / "episodes.csv", header + "\n")
    with pytest.raises(InputError) as err:
        read_returns(tmp_path, QualityReport())
    assert err.value.file == "2024-25/episodes.csv"
    assert err.value.column == "DECOM"
    assert "required column DECOM is missing" in str(err.value)


def test_optional_column_missing_is_added_blank_and_noted(tmp_path: Path) -> None:
    header = EPISODE_HEADER.replace(",URN", "")
    _write(tmp_path / "2024-25" / "episodes.csv", header + "\n1,01/05/2024,S,C2,N1,U4,PR1,,,,,\n")
    report = QualityReport()
    [episodes] = read_returns(tmp_path, report)
    assert episodes.frame["URN"].isna().all()
    assert ("2024-25/episodes.csv", "optional column(s) absent, read as blank: URN") in report.notes


def test_empty_file_is_an_error(tmp_path: Path) -> None:
    _write(tmp_path / "2024-25" / "episodes.csv", "\n\n")
    with pytest.raises(InputError, match=r"2024-25/episodes.csv: empty file"):
        read_returns(tmp_path, QualityReport())


def test_empty_folder_and_missing_folder(tmp_path: Path) -> None:
    _write(tmp_path / "README.md", "put returns here")
    with pytest.raises(InputError, match="no SSDA903 returns found in"):
        read_returns(tmp_path, QualityReport())
    with pytest.raises(InputError, match="raw data folder not found"):
        read_returns(tmp_path / "nope", QualityReport())


def test_broken_xml_names_the_file(tmp_path: Path) -> None:
    _write(tmp_path / "2024-25.xml", "<EXPSSDA903><CHILD><HEADER>")
    with pytest.raises(InputError, match=r"^2024-25.xml: unreadable XML"):
        read_returns(tmp_path, QualityReport())


# ---------------------------------------------------------------- peers
PEER_ROWS = {
    "header.csv": 2675,
    "episodes.csv": 5050,
    "reviews.csv": 12582,
    "oc2.csv": 2675,
    "oc3.csv": 53,
    "ad1.csv": 29,
    "placed_for_adoption.csv": 29,
    "missing.csv": 43,
    "uasc.csv": 132,
    "sw_episodes.csv": 1,
    "previous_permanence.csv": 2675,
}


@pytest.mark.peers
def test_validator_fake_csv_row_counts(shared_dir: Path, tmp_path: Path) -> None:
    peer = shared_dir / "data" / "peers" / "validator-fake-903"
    for name in PEER_ROWS:  # a folder of the CSVs only (the XML is the same data again)
        shutil.copyfile(peer / name, tmp_path / name)  # links in the raw folder are refused
    tables = read_returns(tmp_path, QualityReport())
    assert {t.source: len(t.frame) for t in tables} == PEER_ROWS
    assert {t.year for t in tables} == {2018}


@pytest.mark.peers
def test_validator_fake_xml_row_counts(shared_dir: Path, tmp_path: Path) -> None:
    shutil.copyfile(
        shared_dir / "data/peers/validator-fake-903/fake_903.xml", tmp_path / "fake_903.xml"
    )
    tables = {t.table: len(t.frame) for t in read_returns(tmp_path, QualityReport())}
    assert tables == {
        "header": 253,
        "episodes": 459,
        "reviews": 1206,
        "prev_perm": 253,
        "oc2": 253,
        "uasc": 12,
        "missing": 6,
        "oc3": 6,
        "ad1": 3,
        "placed_adoption": 3,
    }
