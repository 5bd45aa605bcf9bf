"""Hostile and broken raw folders (issue 15, items 4, 5 and 7): each case is made here.

Every case runs ``cpanalysis clean`` over a raw folder built by the test (no committed
binaries), on top of a processed folder from an earlier good run, and checks: the exit
code, the one line on stderr (what it says, and that it quotes no identifier and holds
no NUL), and that the processed folder is exactly as it was. Cases that should be read
(a hidden stale sheet, mangled IDs, impossible dates) check what was read and reported.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook

from cpanalysis import readers
from cpanalysis.cli import main
from cpanalysis.config import Config
from cpanalysis.pipeline import clean_returns
from cpanalysis.quality import QualityReport
from cpanalysis.readers import read_returns

EPISODES = (
    "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN"
)
HEADER = "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB"
#: A child's details that must never reach a message: ID, DOB, postcodes, UPN.
CHILD_ID, DOB, HOME, PLACED, UPN = "700123", "17/05/2012", "SW1A 1AA", "SO15 2JX", "H815235813210"
SECRETS = (CHILD_ID, DOB, HOME, PLACED, UPN, "17/5/2012", "2012-05-17")


def _return(folder: Path) -> Path:
    """One good 2024-25 return (two children) in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "header.csv").write_text(
        f"{HEADER}\n{CHILD_ID},M,{DOB},WBRI,{UPN},,\n700124,F,01/02/2013,WBRI,UN2,,\n"
    )
    (folder / "episodes.csv").write_text(
        f"{EPISODES}\n{CHILD_ID},01/06/2024,S,C2,N1,U4,PR1,,,,{HOME},{PLACED},SC123456\n"
        "700124,01/07/2024,S,C1,N2,U6,PR1,,,,,,\n"
    )
    return folder


def _digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def project(tmp_path: Path) -> dict[str, Path]:
    """A project with a good processed folder from an earlier run, and an empty raw folder."""
    (tmp_path / "cpanalysis.toml").write_text(
        '[privacy]\nhash_key = "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"\n'
    )
    good = _return(tmp_path / "good" / "2024-25").parent
    processed = tmp_path / "data" / "processed"
    assert main(["clean", str(good), str(processed), "--config-dir", str(tmp_path)]) == 0
    raw = tmp_path / "data" / "raw"
    raw.mkdir(parents=True)
    return {"root": tmp_path, "raw": raw, "processed": processed}


def _refused(project: dict[str, Path], capsys, *expected: str) -> str:
    """Run ``clean``; assert exit 2, one plain line naming ``expected``, nothing changed."""
    before = _digest(project["processed"])
    capsys.readouterr()
    code = main(
        [
            "clean",
            str(project["raw"]),
            str(project["processed"]),
            "--config-dir",
            str(project["root"]),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cpanalysis clean: error:"), err
    assert "\x00" not in err and "Traceback" not in err
    for text in expected:
        assert text in lines[0], lines[0]
    for secret in SECRETS:
        assert secret not in lines[0], f"{secret!r} quoted in {lines[0]!r}"
    assert _digest(project["processed"]) == before
    return lines[0]


# ---------------------------------------------------------------- nothing skipped quietly
def test_unreadable_year_folder_stops_the_run(project, capsys, monkeypatch) -> None:
    year = _return(project["raw"] / "2024-25")
    year.chmod(0)
    real = os.scandir

    def scandir(path):  # root reads a chmod 000 folder anyway: refuse as the OS would
        if Path(path) == year:
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(readers.os, "scandir", scandir)
    try:
        _refused(project, capsys, "2024-25: folder cannot be read (Permission denied)")
    finally:
        year.chmod(0o755)


def test_symlinked_year_folder_is_not_followed(project, capsys, tmp_path: Path) -> None:
    elsewhere = _return(tmp_path / "elsewhere" / "2024-25")
    (project["raw"] / "2024-25").symlink_to(elsewhere, target_is_directory=True)
    _refused(project, capsys, "2024-25: a symbolic link (to outside the raw folder)")


def test_symlink_to_a_file_outside_is_not_read_or_quoted(project, capsys, tmp_path) -> None:
    secret = tmp_path / "passwords.csv"
    secret.write_text("root:s3cr3t-line\n")
    _return(project["raw"] / "2024-25")
    (project["raw"] / "2024-25" / "uasc.csv").symlink_to(secret)
    line = _refused(project, capsys, "2024-25/uasc.csv: a symbolic link (to outside")
    assert "s3cr3t" not in line


def test_fifo_is_refused_without_opening_it(project, capsys) -> None:
    _return(project["raw"] / "2024-25")
    os.mkfifo(project["raw"] / "2024-25" / "reviews.csv")  # opening it would hang
    _refused(project, capsys, "2024-25/reviews.csv: not a file but a named pipe (FIFO)")


def test_non_utf8_file_name_is_one_plain_line(project, capsys) -> None:
    year = _return(project["raw"] / "2024-25")
    name = os.fsdecode(b"epis\xf6des.csv")  # Latin-1 o-umlaut: not UTF-8
    (year / name).write_text("x\n")
    _refused(project, capsys, "epis\\xf6des.csv: file or folder name is not valid UTF-8")


def test_hidden_and_lock_files_are_reported_not_read(tmp_path: Path) -> None:
    year = _return(tmp_path / "2024-25")
    (year / ".episodes.csv").write_text("stale\n")
    (year / "~$header.xlsx").write_bytes(b"lock")
    (year / "notes.docx").write_bytes(b"doc")
    report = QualityReport()
    tables = read_returns(tmp_path, report)
    assert sorted(t.source for t in tables) == ["2024-25/episodes.csv", "2024-25/header.csv"]
    assert set(report.notes) >= {
        ("2024-25/.episodes.csv", "hidden file: not read"),
        ("2024-25/~$header.xlsx", "Excel's lock file of an open workbook: not read"),
        ("2024-25/notes.docx", "not a CSV, workbook or XML file: not read"),
    }


def _workbook(sheets: list[tuple[str, list[list[object]], str]]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for title, rows, state in sheets:
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
        sheet.sheet_state = state
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_hidden_stale_sheet_sorting_first_is_not_read(tmp_path: Path) -> None:
    # The stale hidden sheet ("A old") holds last year's placements (K2) for the same
    # children; before, it won and every visible episode was set aside as its duplicate.
    columns = EPISODES.split(",")
    visible = [columns, ["700123", "01/06/2024", "S", "C2", "N1", "U4", "PR1"]]
    stale = [columns, ["700123", "01/06/2024", "S", "C2", "N1", "K2", "PR4"]]
    year = tmp_path / "2024-25"
    year.mkdir()
    (year / "return.xlsx").write_bytes(
        _workbook([("A old", stale, "hidden"), ("Episodes", visible, "visible")])
    )
    report = QualityReport()
    [episodes] = read_returns(tmp_path, report)
    assert episodes.source == "2024-25/return.xlsx#Episodes"
    assert episodes.frame["PLACE"].tolist() == ["U4"]
    assert (
        "2024-25/return.xlsx#Episodes",  # a workbook's notes go with its first table read
        "sheet 'A old' is hidden and was not read (only visible sheets are read: unhide it "
        "to include it)",
    ) in report.notes


def test_two_visible_sheets_of_one_table_are_both_read_and_noted(tmp_path: Path) -> None:
    columns = EPISODES.split(",")
    rows = [columns, ["700123", "01/06/2024", "S", "C2", "N1", "U4", "PR1"]]
    year = tmp_path / "2024-25"
    year.mkdir()
    (year / "return.xlsx").write_bytes(
        _workbook([("Episodes", rows, "visible"), ("Episodes copy", rows, "visible")])
    )
    report = QualityReport()
    tables = read_returns(tmp_path, report)
    assert [t.source for t in tables] == [
        "2024-25/return.xlsx#Episodes",
        "2024-25/return.xlsx#Episodes copy",
    ]
    assert (
        "2024-25/return.xlsx#Episodes",
        "sheets 'Episodes', 'Episodes copy' all hold the episodes table: each is read as its "
        "own file (remove a stale copy if one is)",
    ) in report.notes


def test_workbook_with_only_hidden_tables_says_so(project, capsys) -> None:
    year = project["raw"] / "2024-25"
    year.mkdir()
    rows = [EPISODES.split(","), [CHILD_ID, "01/06/2024", "S", "C2", "N1", "U4", "PR1"]]
    notes = [["These tables are for the committee"]]
    (year / "return.xlsx").write_bytes(
        _workbook([("Notes", notes, "visible"), ("Episodes", rows, "veryHidden")])
    )
    _refused(project, capsys, "return.xlsx: workbook holds no SSDA903 table on a visible sheet")


# ---------------------------------------------------------------- hostile sizes and bytes
def test_sheet_claiming_an_enormous_dimension_reads_only_its_cells(tmp_path: Path) -> None:
    # The sheet says A1:XFD1048576 (16,384 x 1,048,576 cells); openpyxl would pad every
    # row to that and run out of memory (8.6 GB). Only the two real rows are read.
    rows = [EPISODES.split(","), ["700123", "01/06/2024", "S", "C2", "N1", "U4", "PR1"]]
    original = _workbook([("Episodes", rows, "visible")])
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(original)) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename.startswith("xl/worksheets/sheet"):
                data = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD1048576"', data)
                assert b"XFD1048576" in data
            dst.writestr(item, data)
    year = tmp_path / "2024-25"
    year.mkdir()
    (year / "episodes.xlsx").write_bytes(out.getvalue())
    [episodes] = read_returns(tmp_path, QualityReport())
    assert episodes.frame["CHILD"].tolist() == ["700123"]


def test_workbook_unpacking_to_too_much_is_refused_before_opening(
    project, capsys, monkeypatch
) -> None:
    year = project["raw"] / "2024-25"
    year.mkdir()
    rows = [EPISODES.split(","), [CHILD_ID, "01/06/2024", "S", "C2", "N1", "U4", "PR1"]]
    (year / "episodes.xlsx").write_bytes(_workbook([("Episodes", rows, "visible")]))
    monkeypatch.setattr(readers, "MAX_WORKBOOK_BYTES", 1000)  # a real bomb takes GBs to make
    _refused(project, capsys, "episodes.xlsx: workbook unpacks to", "not read")


def test_huge_sparse_file_is_refused_before_loading(project, capsys) -> None:
    year = _return(project["raw"] / "2024-25")
    with open(year / "reviews.csv", "wb") as f:
        f.truncate(2 << 30)  # 2 GB of holes: no disk used, made in a millisecond
    _refused(project, capsys, "reviews.csv: file is 2.0 GB, more than the 1.0 GB")


def test_sparse_file_below_the_size_limit_is_refused(project, capsys) -> None:
    year = _return(project["raw"] / "2024-25")
    with open(year / "reviews.csv", "wb") as f:
        f.truncate(64 << 20)
    if os.stat(year / "reviews.csv").st_blocks * 512 >= 8 << 20:
        pytest.skip("this file system does not make sparse files")
    _refused(project, capsys, "reviews.csv: file is sparse (64 MB long, 0 MB stored")


def test_file_of_nul_bytes_gives_no_nul_in_the_message(project, capsys) -> None:
    year = _return(project["raw"] / "2024-25")
    (year / "reviews.csv").write_bytes(b"\x00" * 10_000)
    _refused(project, capsys, "reviews.csv: the file starts with nothing but NUL bytes")


def test_ragged_row_is_named_without_quoting_it(project, capsys) -> None:
    year = _return(project["raw"] / "2024-25")
    (year / "episodes.csv").write_text(
        f"{EPISODES}\n700124,01/07/2024,S,C1,N2,U6,PR1,,,,,,\n"
        f"{CHILD_ID},01/06/2024,S,C2,N1,U4,PR1,,,,{HOME},{PLACED},SC123456,{DOB}\n"
    )
    _refused(
        project,
        capsys,
        "2024-25/episodes.csv, row 3: unreadable CSV: this row has 14 cells where the header "
        "has 13",
    )


def test_quoted_line_breaks_pyarrow_cannot_split_are_read(tmp_path: Path) -> None:
    # pyarrow refuses a value with a line break inside quotes (its message quotes the row
    # or talks of "straddling objects"); the file is valid CSV and is read.
    year = _return(tmp_path / "2024-25")
    (year / "episodes.csv").write_text(
        f'{EPISODES}\n{CHILD_ID},01/06/2024,S,C2,N1,U4,PR1,,,,"{HOME}\nflat 2",{PLACED},SC1\n'
    )
    tables = {t.table: t for t in read_returns(tmp_path, QualityReport())}
    assert tables["episodes"].frame["HOME_POST"].tolist() == [f"{HOME}\nflat 2"]


def test_row_longer_than_pyarrows_block_is_read_not_reported_as_straddling(tmp_path) -> None:
    # A row longer than pyarrow's 1 MB block gives "straddling object straddles two block
    # boundaries (try to increase block size?)": pandas reads the file instead.
    year = _return(tmp_path / "2024-25")
    long_note = "x" * (1 << 21)
    (year / "episodes.csv").write_text(
        f"{EPISODES}\n{CHILD_ID},01/06/2024,S,C2,N1,U4,PR1,,,,{long_note},{PLACED},SC1\n"
    )
    tables = {t.table: t for t in read_returns(tmp_path, QualityReport())}
    assert tables["episodes"].frame["HOME_POST"].str.len().tolist() == [1 << 21]


def test_internal_error_line_holds_no_raw_nul(tmp_path: Path, capsys, monkeypatch) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("bad\x00byte in epis" + os.fsdecode(b"\xf6") + "des")

    monkeypatch.setattr("cpanalysis.pipeline.clean_returns", broken)
    code = main(["clean", str(_return(tmp_path / "raw" / "2024-25").parent), str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 3
    assert "bad\\x00byte in epis\\xf6des" in err and "\x00" not in err


def test_headerless_file_does_not_quote_its_first_record(project, capsys) -> None:
    year = _return(project["raw"] / "2024-25")
    (year / "extra.csv").write_text(f"{CHILD_ID},{DOB},{HOME},{PLACED},{UPN}\n1,2,3,4,5\n")
    line = _refused(project, capsys, "2024-25/extra.csv: unknown table", "header row missing")
    assert "5 cell(s) that are not SSDA903 column names" in line


# ---------------------------------------------------------------- what is read, and said
def _clean(tmp_path: Path, header: str, episodes: str):
    year = tmp_path / "raw" / "2024-25"
    year.mkdir(parents=True)
    (year / "header.csv").write_text(header, encoding="utf-8")
    (year / "episodes.csv").write_text(episodes, encoding="utf-8")
    config = Config(root=tmp_path, council_name="T", council_code="123", hash_key="k" * 32)
    return clean_returns(tmp_path / "raw", tmp_path / "out", config)


def _findings(result) -> pd.DataFrame:
    return result.report.details().set_index(["table", "rule", "column"])


def test_one_child_however_excel_wrote_the_id_and_each_repair_counted(tmp_path: Path) -> None:
    # 100168 as Excel and exports mangle it: leading zeros, a byte-order mark, a trailing
    # NUL, Excel's exponent notation, a float. All five episodes are one child's.
    header = f"{HEADER}\n100168,M,01/05/2012,WBRI,UN1,,\n"
    episodes = EPISODES + "".join(
        f"\n{child},{start},P,C2,N1,U4,PR1,,,,,,"
        for child, start in [
            ("00100168", "01/04/2024"),
            ("\ufeff100168", "01/05/2024"),
            ("100168\x00", "01/06/2024"),
            ("1.00168E+5", "01/07/2024"),
            ("100168.0", "01/08/2024"),
        ]
    )
    result = _clean(tmp_path, header, episodes + "\n")
    assert result.tables["episodes"]["CHILD"].nunique() == 1
    assert set(result.tables["episodes"]["CHILD"]) == set(result.tables["header"]["CHILD"])
    found = _findings(result)["count"]
    assert found[("episodes", "id_leading_zeros", "CHILD")] == 1
    assert found[("episodes", "id_invisible_characters", "CHILD")] == 2
    assert found[("episodes", "id_from_float", "CHILD")] == 2  # exponent and .0


def test_excel_exponent_that_lost_digits_is_not_guessed(tmp_path: Path) -> None:
    header = f"{HEADER}\n123456789,M,01/05/2012,WBRI,UN1,,\n"
    episodes = f"{EPISODES}\n1.23457E+8,01/04/2024,S,C2,N1,U4,PR1,,,,,,\n"
    result = _clean(tmp_path, header, episodes)
    assert result.tables["episodes"].empty  # 123457000 would be another child
    details = result.report.details()
    reasons = details.loc[details["rule"] == "id_from_float", "reason"].tolist()
    assert reasons == [
        "Excel's 1.2E+5 notation with digits lost: the ID cannot be known, made missing"
    ]
    aside = details.loc[details["rule"] == "required_blank", "count"].tolist()
    assert aside == [1]


def test_impossible_dates_are_made_missing_and_counted(tmp_path: Path) -> None:
    # 2024-25 return: DOB 1900 (124 years old) and 2099 (not born); DECOM 2099; child
    # 700125 starts care in 2010 but was born in 2012 (flagged, both dates kept).
    header = (
        f"{HEADER}\n700123,M,01/01/1900,WBRI,UN1,,\n700124,F,01/01/2099,WBRI,UN1,,\n"
        "700125,F,01/01/2012,WBRI,UN1,,\n"
    )
    episodes = (
        f"{EPISODES}\n700123,01/06/2024,S,C2,N1,U4,PR1,,,,,,\n"
        "700124,01/01/2099,S,C2,N1,U4,PR1,,,,,,\n700125,01/06/2010,S,C2,N1,U4,PR1,,,,,,\n"
    )
    result = _clean(tmp_path, header, episodes)
    found = _findings(result)
    assert found.loc[("header", "impossible_dates", "DOB"), "count"] == 2
    assert found.loc[("header", "impossible_dates", "DOB"), "sample_rows"] == "2, 3"
    assert found.loc[("episodes", "impossible_dates", "DECOM"), "count"] == 1
    flagged = found.loc[("episodes", "born_after_entering_care", "DECOM")]
    assert (flagged["count"], flagged["action"], flagged["sample_rows"]) == (1, "flagged", "4")
    assert result.tables["header"]["DOB"].isna().sum() == 2
    assert len(result.tables["episodes"]) == 2  # the 2099 episode set aside, reported


def test_quality_report_quotes_no_identifier_typed_into_code_columns(tmp_path: Path) -> None:
    # The plants: dates of birth in three spellings, a 4-digit child ID, postcodes,
    # a staff-like ID and a name, typed into code columns. The report says what they look
    # like and where, and still quotes a real code sent in the wrong year.
    plants = ["17/5/2012", "17.05.2012", "2012/05/17", "4821", "SW1A-1AA", "ZQ_123456", "Jo Bloggs"]
    header = HEADER + "".join(f"\n7001{i},M,01/05/2012,{p},UN1,,\n" for i, p in enumerate(plants))
    episodes = f"{EPISODES}\n700100,01/06/2024,S,C2,N1,U4,PR1,01/07/2024,E43,,,,\n"
    result = _clean(tmp_path, header.replace("\n\n", "\n"), episodes)
    text = (tmp_path / "out" / "quality_report.csv").read_text()
    text += (tmp_path / "out" / "quality_report.json").read_text()
    for plant in plants:
        assert plant not in text, plant
    reason = _findings(result).loc[("header", "code_in_list", "ETHNIC"), "reason"]
    assert reason == (
        "not a 2024-25 ETHNIC code, made missing: a date (3), text of 9 characters (2), "
        "a 4-digit number (1), a postcode (1)"
    )
    rec = _findings(result).loc[("episodes", "code_in_list", "REC"), "reason"]
    assert "'E43' (1)" in rec  # a code of the schema's lists may be quoted


# ---------------------------------------------------------------- nothing published
@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A copy of the shared demo build (these builds must not touch the one others read)."""
    from site_fixtures import demo_site_copy

    return demo_site_copy(tmp_path_factory, tmp_path_factory.mktemp("hostile") / "project")


@pytest.mark.parametrize("case", ["fifo", "link outside", "headerless record"])
def test_a_hostile_raw_folder_publishes_nothing(built, case, tmp_path, capsys) -> None:
    # The last good site and processed data stay exactly as they were.
    raw = built.root / "data" / "raw"
    site_before = _digest(built.site)
    processed_before = _digest(built.root / "data" / "processed")
    year = _return(raw / "2024-25")
    try:
        if case == "fifo":
            os.mkfifo(year / "reviews.csv")
        elif case == "link outside":
            (tmp_path / "secret.csv").write_text("root:s3cr3t\n")
            (year / "uasc.csv").symlink_to(tmp_path / "secret.csv")
        else:
            (year / "extra.csv").write_text(f"{CHILD_ID},{DOB},{HOME},{PLACED},{UPN}\n")
        capsys.readouterr()
        code = main(["build", "--config-dir", str(built.root)])
        err = capsys.readouterr().err
    finally:
        for path in sorted(year.iterdir()):
            path.unlink()
        year.rmdir()
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "2024-25/" in lines[0], err
    for secret in (*SECRETS, "s3cr3t"):
        assert secret not in err
    assert _digest(built.site) == site_before
    assert _digest(built.root / "data" / "processed") == processed_before
