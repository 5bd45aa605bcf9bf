"""The synthetic council: returns laid out like real extracts, valid codes, reproducible."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from cpanalysis.schema import table_spec
from cpanalysis.synthetic import (
    FILE_NAMES,
    extract_return,
    simulate_council,
    write_demo_returns,
)

DATE = re.compile(r"^\d{2}/\d{2}/\d{4}$")
CLASSIC = {
    "header.csv",
    "episodes.csv",
    "uasc.csv",
    "reviews.csv",
    "ad1.csv",
    "placed_for_adoption.csv",
    "previous_permanence.csv",
    "oc2.csv",
    "oc3.csv",
    "missing.csv",
}


@pytest.fixture(scope="module")
def small_council():
    """A small council over all ten years (shared by the tests that only read it)."""
    return simulate_council(size=120, first_year=2017, last_year=2026, seed=7)


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def test_demo_writes_one_folder_per_year_with_the_dfe_files(tmp_path):
    written = write_demo_returns(tmp_path, size=40, first_year=2023, last_year=2025, seed=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2022-23", "2023-24", "2024-25"]
    assert {p.name for p in (tmp_path / "2022-23").iterdir()} == CLASSIC
    # social-worker episodes are collected from 2023-24
    assert {p.name for p in (tmp_path / "2023-24").iterdir()} == CLASSIC | {"sw_episodes.csv"}
    assert len(written) == 10 + 11 + 11
    for key, name in FILE_NAMES.items():
        path = tmp_path / "2024-25" / name
        frame = _read(path)
        assert list(frame.columns) == table_spec(key, 2025).column_names
        path.read_bytes().decode("utf-8")  # UTF-8, no BOM needed to read it
    episodes = _read(tmp_path / "2024-25" / "episodes.csv")
    assert len(episodes) > 0
    assert episodes["DECOM"].str.match(DATE).all()
    assert episodes["DEC"].pipe(lambda s: s[s != ""]).str.match(DATE).all()


def test_several_councils_get_their_own_three_digit_folders(tmp_path):
    write_demo_returns(tmp_path, councils=2, size=20, first_year=2025, last_year=2025, seed=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["801", "802"]
    assert (tmp_path / "802" / "2024-25" / "episodes.csv").exists()
    one = (tmp_path / "801" / "2024-25" / "header.csv").read_bytes()
    two = (tmp_path / "802" / "2024-25" / "header.csv").read_bytes()
    assert one != two


def test_pool_of_two_writes_the_same_bytes_as_one_process(tmp_path):
    args = {"councils": 2, "size": 30, "first_year": 2024, "last_year": 2025, "seed": 9}
    pooled = write_demo_returns(tmp_path / "pool", processes=2, **args)
    serial = write_demo_returns(tmp_path / "serial", processes=1, **args)
    assert [p.relative_to(tmp_path / "pool") for p in pooled] == [
        p.relative_to(tmp_path / "serial") for p in serial
    ]
    assert len(pooled) == 2 * 2 * 11  # two councils, two years, sw_episodes from 2023-24
    for a, b in zip(pooled, serial, strict=True):
        assert a.read_bytes() == b.read_bytes(), a


def test_csv_text_is_what_pandas_writes():
    from cpanalysis.synthetic.writers import csv_text

    frames = [
        pd.DataFrame({"A": ["1", ""], "B": ["AB1 2CD", "x y"]}),
        pd.DataFrame({"A": ["a,b", "c"], "B": ['say "hi"', ""]}),  # needs quoting
        pd.DataFrame({"A": ["a", None], "B": [1, 2]}),  # not all strings
        pd.DataFrame({"A": pd.Series([], dtype=str), "B": pd.Series([], dtype=str)}),
        pd.DataFrame({"A": ["", "z"]}),  # one column: a blank cell is quoted
    ]
    for frame in frames:
        assert csv_text(frame) == frame.to_csv(index=False, lineterminator="\n")


def test_dates_are_formatted_like_strftime():
    import numpy as np

    from cpanalysis.synthetic.dates import format_dmy

    days = np.arange(-25_000, 60_000, 7)
    missing = days % 5 == 0
    expected = pd.Series(pd.to_datetime(days, unit="D")).dt.strftime("%d/%m/%Y").to_numpy()
    expected[missing] = ""
    assert (format_dmy(days, missing) == expected).all()


def test_same_seed_gives_byte_identical_files(tmp_path):
    first = write_demo_returns(tmp_path / "a", size=40, first_year=2024, last_year=2025, seed=5)
    second = write_demo_returns(tmp_path / "b", size=40, first_year=2024, last_year=2025, seed=5)
    assert [p.relative_to(tmp_path / "a") for p in first] == [
        p.relative_to(tmp_path / "b") for p in second
    ]
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
    other = write_demo_returns(tmp_path / "c", size=40, first_year=2024, last_year=2025, seed=6)
    assert other[1].read_bytes() != first[1].read_bytes()


def test_every_cell_passes_that_years_code_list(small_council):
    for year in small_council.years:
        for key, frame in extract_return(small_council, year).items():
            spec = table_spec(key, year)
            assert list(frame.columns) == spec.column_names
            for column in spec.columns.values():
                values = frame[column.name]
                if not column.blank:
                    assert (values != "").all(), (year, key, column.name)
                if column.type == "code":
                    used = set(values[values != ""])
                    assert used <= set(column.codes), (year, key, column.name, used)
                if column.type == "date":
                    filled = values[values != ""]
                    assert filled.str.match(DATE).all(), (year, key, column.name)


def test_year_specific_codes_appear_in_the_right_years(small_council):
    def codes(year, table, column):
        return set(extract_return(small_council, year)[table][column])

    assert codes(2024, "header", "SEX") == {"1", "2"}
    assert codes(2025, "header", "SEX") <= {"M", "F", "U"}
    assert "K3" in codes(2025, "episodes", "PLACE") | codes(2026, "episodes", "PLACE")
    assert "H5" in codes(2024, "episodes", "PLACE") | codes(2023, "episodes", "PLACE")


def test_episode_open_at_31_march_reappears_next_year(small_council):
    this = extract_return(small_council, 2024)["episodes"]
    following = extract_return(small_council, 2025)["episodes"]
    open_ = this.loc[this["DEC"] == "", ["CHILD", "DECOM"]]
    assert len(open_) > 0
    assert (this.loc[this["DEC"] == "", "REC"] == "").all()
    again = open_.merge(following, on=["CHILD", "DECOM"], how="left", indicator=True)
    assert (again["_merge"] == "both").all()
    # some of them closed during 2024-25 and now carry their end date and reason
    closed = again.loc[again["DEC"] != ""]
    assert len(closed) > 0
    assert (closed["REC"] != "").all()


def test_episodes_of_a_return_are_those_open_during_the_year(small_council):
    episodes = extract_return(small_council, 2023)["episodes"]
    decom = pd.to_datetime(episodes["DECOM"], format="%d/%m/%Y")
    dec = pd.to_datetime(episodes["DEC"].replace("", None), format="%d/%m/%Y")
    assert (decom <= pd.Timestamp(2023, 3, 31)).all()
    assert (dec.isna() | (dec >= pd.Timestamp(2022, 4, 1))).all()
    assert (dec.dropna() <= pd.Timestamp(2023, 3, 31)).all()


def test_xlsx_is_one_workbook_a_year_with_a_sheet_per_table(tmp_path, small_council):
    args = {"size": 30, "first_year": 2025, "last_year": 2025, "seed": 3}
    first = write_demo_returns(tmp_path / "a", file_format="xlsx", **args)
    second = write_demo_returns(tmp_path / "b", file_format="xlsx", **args)
    assert [p.name for p in first] == ["SSDA903_2024-25.xlsx"]
    assert first[0].read_bytes() == second[0].read_bytes()  # no timestamps inside
    sheets = pd.read_excel(first[0], sheet_name=None, dtype=str, keep_default_na=False)
    assert list(sheets) == [name.removesuffix(".csv") for name in FILE_NAMES.values()]
    csv = write_demo_returns(tmp_path / "c", **args)
    episodes = _read(next(p for p in csv if p.name == "episodes.csv"))
    pd.testing.assert_frame_equal(sheets["episodes"], episodes)


def test_xml_follows_the_dfe_layout(tmp_path):
    import xml.etree.ElementTree as ET

    args = {"size": 30, "first_year": 2025, "last_year": 2025, "seed": 3}
    (path,) = write_demo_returns(tmp_path / "xml", file_format="xml", **args)
    csv = {p.name: _read(p) for p in write_demo_returns(tmp_path / "csv", **args)}
    root = ET.parse(path).getroot()
    assert root.tag == "EXPSSDA903"
    children = root.findall("CHILD")
    assert len(children) == len(csv["header.csv"])
    assert [c.findtext("HEADER/CHILDID") for c in children] == list(csv["header.csv"]["CHILD"])
    assert len(root.findall("CHILD/EPISODE")) == len(csv["episodes.csv"])
    assert len(root.findall("CHILD/HEADER/AREVIEW")) == len(csv["reviews.csv"])
    first = children[0].find("EPISODE")
    assert [e.tag for e in first][:5] == ["DECOM", "RNE", "LS", "CIN", "PL"]
    uasc = {c.findtext("HEADER/CHILDID") for c in children if c.findtext("HEADER/UASC") == "1"}
    assert uasc == set(csv["uasc.csv"]["CHILD"])
