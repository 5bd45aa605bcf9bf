"""De-identification: pseudonyms, month of birth, postcode sectors, distance, the key."""

from __future__ import annotations

import hashlib
import hmac

import numpy as np
import pandas as pd
import pytest

from cpanalysis.config import Config
from cpanalysis.deidentify import (
    DEMO_HASH_KEY,
    KEY_FILE_NAME,
    PseudonymMemo,
    deidentify,
    hash_key,
    month_of,
    placement_distance_miles,
    postcode_sector,
    pseudonymise,
)
from cpanalysis.errors import InputError

KEY = b"test-key"


def test_pseudonym_is_hmac_of_la_and_id() -> None:
    # Expected value computed from the contract's definition with the standard library.
    expected = "C" + hmac.new(KEY, b"999:1234", hashlib.sha256).hexdigest()[:12]
    ids = pd.Series(["1234", " 1234 ", None, "1234"], dtype="string")
    la = pd.Series(["999", "999", "999", "888"], dtype="string")
    out = pseudonymise(ids, la, KEY)
    assert out.iloc[0] == expected
    assert out.iloc[1] == expected  # stray spaces do not make a new child
    assert pd.isna(out.iloc[2])
    assert out.iloc[3] != expected  # same ID in another council is another child
    assert out.str.fullmatch(r"C[0-9a-f]{12}").fillna(True).all()
    assert str(out.dtype) == "string"


def test_social_worker_prefix() -> None:
    out = pseudonymise(pd.Series(["SW1"]), pd.Series(["999"]), KEY, prefix="W")
    assert out.iloc[0] == "W" + hmac.new(KEY, b"999:SW1", hashlib.sha256).hexdigest()[:12]


def test_memo_shared_across_tables_gives_the_same_pseudonyms() -> None:
    memo = PseudonymMemo()
    ids = pd.Series(["1234", "SW1"], dtype="string")
    la = pd.Series(["999", "999"], dtype="string")
    first = pseudonymise(ids, la, KEY, memo=memo)
    assert len(memo) == 2
    again = pseudonymise(ids, la, KEY, memo=memo)  # from the memo this time
    pd.testing.assert_series_equal(again, first)
    pd.testing.assert_series_equal(again, pseudonymise(ids, la, KEY))
    workers = pseudonymise(ids, la, KEY, prefix="W", memo=memo)  # prefix is part of the key
    assert workers.iloc[1] == "W" + hmac.new(KEY, b"999:SW1", hashlib.sha256).hexdigest()[:12]
    other = pseudonymise(ids, la, b"other-key", memo=memo)  # and so is the key
    assert other.iloc[0] != first.iloc[0]


def test_postcode_sector() -> None:
    codes = pd.Series(
        ["AB1 2CD", "sw1a 1aa", "M11AE", "EC1A1BB", "NOTAPC", None, "AB1", "B1\xa01AA"]
    )
    assert postcode_sector(codes).tolist() == [
        "AB1 2",
        "SW1A 1",
        "M1 1",
        "EC1A 1",
        pd.NA,
        pd.NA,
        pd.NA,
        "B1 1",  # a no-break space (from a spreadsheet) is a space too
    ]


def test_month_of_birth_keeps_dtype_and_leap_day() -> None:
    dob = pd.Series(pd.to_datetime(["2012-02-29", "2010-12-01", None])).astype("datetime64[ns]")
    out = month_of(dob)
    assert out.tolist()[:2] == [pd.Timestamp("2012-02-01"), pd.Timestamp("2010-12-01")]
    assert pd.isna(out.iloc[2])
    assert out.dtype == dob.dtype


def test_distance_in_miles_from_postcode_grid_references() -> None:
    # ONS grid refs: SO14 0AA 442294/112126, SO15 2JX 441777/113644, S1 1AA 435732/387312.
    # SO14 0AA -> S1 1AA: hypot(6562, 275186) = 275264.2 m / 1609.3 = 171.05 -> 171.0
    # SO14 0AA -> SO15 2JX: hypot(517, 1518) = 1603.6 m / 1609.3 = 0.996 -> 1.0
    home = pd.Series(["SO14 0AA", "so140aa", "SO14 0AA", None, "ZZ99 9ZZ"])
    placement = pd.Series(["S1 1AA", "SO15 2JX", "SO14 0AA", "S1 1AA", "S1 1AA"])
    out = placement_distance_miles(home, placement)
    assert out.iloc[:3].tolist() == [171.0, 1.0, 0.0]
    assert np.isnan(out.iloc[3]) and np.isnan(out.iloc[4])


def test_deidentify_episodes() -> None:
    frame = pd.DataFrame(
        {
            "CHILD": pd.Series(["1234"], dtype="string"),
            "DECOM": pd.to_datetime(["2020-05-01"]),
            "HOME_POST": pd.Series(["SO14 0AA"], dtype="string"),
            "PL_POST": pd.Series(["SO15 2JX"], dtype="string"),
            "YEAR": [2021],
            "LA": pd.Series(["999"], dtype="string"),
            "_source": ["2021/episodes.csv"],
            "_row": [2],
        }
    )
    out = deidentify("episodes", frame, KEY)
    assert list(out.columns) == [
        "CHILD",
        "DECOM",
        "HOME_POST",
        "PL_POST",
        "YEAR",
        "LA",
        "PL_DISTANCE",
    ]
    assert out.loc[0, "PL_DISTANCE"] == 1.0
    assert out.loc[0, "HOME_POST"] == "SO14 0"
    assert out.loc[0, "PL_POST"] == "SO15 2"
    assert out.loc[0, "CHILD"] == "C" + hmac.new(KEY, b"999:1234", hashlib.sha256).hexdigest()[:12]
    assert frame.loc[0, "CHILD"] == "1234"  # input untouched


def test_deidentify_keeps_a_supplied_distance() -> None:
    frame = pd.DataFrame(
        {
            "CHILD": ["1"],
            "HOME_POST": ["SO14 0AA"],
            "PL_POST": ["S1 1AA"],
            "PL_DISTANCE": [12.5],
            "LA": ["999"],
        }
    )
    assert deidentify("episodes", frame, KEY).loc[0, "PL_DISTANCE"] == 12.5


def test_deidentify_header_drops_upn_and_coarsens_dates() -> None:
    frame = pd.DataFrame(
        {
            "CHILD": ["77"],
            "DOB": pd.to_datetime(["2011-07-23"]),
            "UPN": ["A123456789012"],
            "MC_DOB": pd.to_datetime(["2027-01-15"]),
            "SW_ID": ["SW42"],
            "LA": ["999"],
        }
    )
    out = deidentify("header", frame, KEY)
    assert "UPN" not in out
    assert out.loc[0, "DOB"] == pd.Timestamp("2011-07-01")
    assert out.loc[0, "MC_DOB"] == pd.Timestamp("2027-01-01")
    assert out.loc[0, "SW_ID"].startswith("W") and len(out.loc[0, "SW_ID"]) == 13
    assert "PL_DISTANCE" not in out


def test_hash_key_order(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("CPANALYSIS_HASH_KEY", raising=False)
    config = Config(root=tmp_path, hash_key="from-config-" + "c" * 20)
    assert hash_key(config) == b"from-config-" + b"c" * 20
    monkeypatch.setenv("CPANALYSIS_HASH_KEY", "from-env-" + "e" * 23)
    assert hash_key(config) == b"from-env-" + b"e" * 23
    monkeypatch.delenv("CPANALYSIS_HASH_KEY")
    assert hash_key(Config(root=tmp_path), is_demo=True) == DEMO_HASH_KEY
    assert not (tmp_path / KEY_FILE_NAME).exists()


def test_real_data_key_is_created_once_and_reused(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("CPANALYSIS_HASH_KEY", raising=False)
    config = Config(root=tmp_path)
    first = hash_key(config)
    assert (tmp_path / KEY_FILE_NAME).exists()
    assert len(first) == 64  # 32 random bytes as hex
    assert hash_key(config) == first
    assert first != DEMO_HASH_KEY


def test_empty_key_file_is_an_input_error(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("CPANALYSIS_HASH_KEY", raising=False)
    (tmp_path / KEY_FILE_NAME).write_text("\n")
    with pytest.raises(InputError, match="empty"):
        hash_key(Config(root=tmp_path))


def test_deidentify_empty_episodes() -> None:
    frame = pd.DataFrame(
        {
            "CHILD": pd.Series([], dtype="string"),
            "HOME_POST": pd.Series([], dtype="string"),
            "PL_POST": pd.Series([], dtype="string"),
            "LA": pd.Series([], dtype="string"),
        }
    )
    out = deidentify("episodes", frame, KEY)
    assert out.empty and list(out.columns) == ["CHILD", "HOME_POST", "PL_POST", "LA", "PL_DISTANCE"]


def test_new_key_file_is_private_from_creation(tmp_path, monkeypatch) -> None:
    """Issue 15 case 8: the key file was written at 0644 and chmod-ed after."""
    import os
    import stat

    monkeypatch.delenv("CPANALYSIS_HASH_KEY", raising=False)
    modes = []
    real_open = os.open

    def watching_open(path, flags, mode=0o777, *args, **kwargs):
        fd = real_open(path, flags, mode, *args, **kwargs)
        if str(path).endswith(KEY_FILE_NAME):
            modes.append(stat.S_IMODE(os.fstat(fd).st_mode))  # mode the moment it exists
        return fd

    monkeypatch.setattr(os, "open", watching_open)
    old_umask = os.umask(0)  # even with no umask at all
    try:
        hash_key(Config(root=tmp_path))
    finally:
        os.umask(old_umask)
    assert modes == [0o600]
    assert stat.S_IMODE((tmp_path / KEY_FILE_NAME).stat().st_mode) == 0o600


def test_existing_key_file_is_never_overwritten(tmp_path, monkeypatch) -> None:
    from cpanalysis.deidentify import _create_private

    monkeypatch.delenv("CPANALYSIS_HASH_KEY", raising=False)
    (tmp_path / KEY_FILE_NAME).write_text("k" * 40)
    with pytest.raises(FileExistsError):
        _create_private(tmp_path / KEY_FILE_NAME, "other")
    assert hash_key(Config(root=tmp_path)) == b"k" * 40


@pytest.mark.parametrize("key", ["7", "abcd", "x" * 31])
@pytest.mark.parametrize("source", ["env", "config", "file"])
def test_short_key_is_refused_with_one_line(tmp_path, monkeypatch, key, source) -> None:
    """Issue 15 case 8: with key ``1`` every 6-digit ID was recovered from its pseudonym."""
    from cpanalysis.deidentify import MIN_KEY_LENGTH

    monkeypatch.delenv("CPANALYSIS_HASH_KEY", raising=False)
    config = Config(root=tmp_path, hash_key=key if source == "config" else None)
    if source == "env":
        monkeypatch.setenv("CPANALYSIS_HASH_KEY", key)
    if source == "file":
        (tmp_path / KEY_FILE_NAME).write_text(key + "\n")
    with pytest.raises(InputError) as info:
        hash_key(config)
    line = info.value.one_line()
    assert f"is {len(key)} character" in line
    assert f"must have at least {MIN_KEY_LENGTH}" in line
    assert "\n" not in str(info.value)
    assert f" {key} " not in f" {line} " and repr(key) not in line  # the key is not quoted


def test_short_key_stops_cpanalysis_clean_with_exit_2(tmp_path, monkeypatch, capsys) -> None:
    from cpanalysis.cli import main

    monkeypatch.setenv("CPANALYSIS_HASH_KEY", "1")
    raw = tmp_path / "raw" / "2024-25"
    raw.mkdir(parents=True)
    (raw / "header.csv").write_text("CHILD,SEX,DOB,ETHNIC\n123456,1,17/05/2012,WBRI\n")
    out = tmp_path / "out"
    code = main(["clean", str(tmp_path / "raw"), str(out), "--config-dir", str(tmp_path)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and "is 1 character long" in err[0]
    assert not out.exists()
