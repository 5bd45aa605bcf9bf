"""Tests of collection years read from names and checked against dates."""

from __future__ import annotations

import pandas as pd
import pytest

from cpanalysis.years import (
    collection_year_of,
    dates_run_past_year_end,
    strict_dmy_dates,
    year_end,
    year_from_text,
    year_start,
)


@pytest.mark.parametrize(
    ("text", "year", "bare"),
    [
        ("2024-25", 2025, False),
        ("2024_25", 2025, False),
        ("202425", 2025, False),
        ("2425", 2025, False),
        ("1920", 2020, False),
        ("2019/20", 2020, False),
        ("21-22", 2022, False),
        ("2024-2025", 2025, False),
        ("1999-00", 2000, False),
        ("2025", 2025, True),
        ("2017-episodes.csv", 2017, True),
        ("SSDA903_2020_episodes", 2020, True),
    ],
)
def test_year_from_text(text: str, year: int, bare: bool) -> None:
    found = year_from_text(text)
    assert found is not None
    assert (found.year, found.bare) == (year, bare)


@pytest.mark.parametrize("text", ["episodes.csv", "999", "SSDA903 header", "E10000014"])
def test_names_without_a_year(text: str) -> None:
    assert year_from_text(text) is None


def test_year_bounds() -> None:
    assert year_start(2025) == pd.Timestamp("2024-04-01")
    assert year_end(2025) == pd.Timestamp("2025-03-31")


def test_collection_year_of_dates_either_side_of_1_april() -> None:
    dates = pd.Series(pd.to_datetime(["2025-03-31", "2025-04-01", None, "2024-02-29"]))
    assert collection_year_of(dates).tolist() == [2025, 2026, pd.NA, 2024]


def test_a_few_stray_dates_do_not_move_the_year() -> None:
    # 100 dates in 2016-17 plus 3 typos after 31 March 2017: max(3, 5% of 103 = 5.15) tolerated
    inside = pd.Series(pd.date_range("2016-04-01", periods=100, freq="D"))
    typos = pd.Series(pd.to_datetime(["2017-05-01", "2019-01-01", "2030-01-01"]))
    assert not dates_run_past_year_end(pd.concat([inside, typos]), 2017)
    # 10 after the year end (> 5.5 = 5% of 110) is a pattern, not typos
    late = pd.Series(pd.date_range("2017-04-02", periods=10, freq="D"))
    assert dates_run_past_year_end(pd.concat([inside, late]), 2017)


def test_no_dates_never_move_the_year() -> None:
    assert not dates_run_past_year_end(pd.Series([], dtype="datetime64[ns]"), 2017)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("29/02/2020", "2020-02-29"),  # leap year
        ("29/02/2000", "2000-02-29"),  # divisible by 400: leap
        ("31/12/1999", "1999-12-31"),
        ("01/01/1900", "1900-01-01"),
        ("31/12/2099", "2099-12-31"),
        ("29/02/2021", None),  # not a leap year: not rolled over into March
        ("29/02/1900", None),  # divisible by 100, not 400: not leap
        ("31/04/2024", None),  # April has 30 days
        ("00/01/2020", None),
        ("32/01/2020", None),
        ("01/00/2020", None),
        ("01/13/2020", None),
        ("01/01/1899", None),  # outside 1900-2099: left to the slower readings
        ("01/01/2100", None),
        ("1/1/2020", None),  # not exactly dd/mm/yyyy: left to the slower readings
        ("01-01-2020", None),
        ("01/01/2020 ", None),
        ("1a/01/2020", None),
        ("01/01/20\uff120", None),  # a full-width digit is not a digit here
        ("", None),
        (None, None),
    ],
)
def test_strict_dmy_dates_reads_only_real_dd_mm_yyyy(
    text: str | None, expected: str | None
) -> None:
    values = pd.Series(["01/02/2003", text, "04/05/2006"], dtype="string")
    out = strict_dmy_dates(values)
    assert out.iloc[0] == pd.Timestamp("2003-02-01")  # neighbours unaffected
    assert out.iloc[2] == pd.Timestamp("2006-05-04")
    if expected is None:
        assert pd.isna(out.iloc[1])
    else:
        assert out.iloc[1] == pd.Timestamp(expected)
    assert out.dtype == "datetime64[ns]"
