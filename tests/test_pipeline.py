"""clean_returns end to end: hand-checked output, privacy, atomic writes, the CLI's errors.

The fixture (``tests/fixtures/pipeline/raw``) is two returns of a made-up council:

* 2019-20: episodes ZQ7734119 (open), B200 (closed E13), C300 (open); header for all three.
* 2020-21: ZQ7734119's first episode again, now closed X1 on 15/08/2020, then a K2 episode
  (open); D400 (open); a messy child ``88123456.0`` (Excel float ID, lower-case home
  postcode with a trailing space, impossible DOB 31/02/2010, UPN Z999888777666); header for
  ZQ7734119, D400 and 88123456.

Worked by hand: 7 episode rows read, ZQ7734119's 2019-20 copy is superseded (1 set aside),
6 kept. C300 is open in 2019-20 and absent from 2020-21, so rule 2 closes it on 31/03/2020.
Distances: SO14 0AA -> SO15 2JX = 1.0 mile (and back, for 88123456), SO14 0AA -> S1 1AA =
171.0 miles (grid refs in test_deidentify.py). Header keeps one row per child per year: 6
rows. All rows: 7 + 6 = 13 read, 12 kept, 1 set aside.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from cpanalysis.cli import main
from cpanalysis.config import Config
from cpanalysis.errors import InputError
from cpanalysis.pipeline import clean_returns
from cpanalysis.processed import load_processed

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "pipeline" / "raw"

PLANTED = {
    "child id": "ZQ7734119",
    "upn": "H815235813210",
    "dob": "17/03/2009",
    "dob iso": "2009-03-17",
    "home postcode": "SO14 0AA",
    "home postcode squashed": "SO140AA",
    "placement postcode": "SO15 2JX",
    "placement postcode squashed": "SO152JX",
    "float child id": "88123456",
    "impossible dob": "31/02/2010",
    "second upn": "Z999888777666",
}


#: A key long enough to be accepted (32 characters at least).
TEST_KEY = "test-key-of-at-least-32-characters"


def _config(root: Path) -> Config:
    return Config(root=root, council_name="Testshire", council_code="123", hash_key=TEST_KEY)


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return _config(tmp_path)


@pytest.fixture(scope="module")
def cleaned(tmp_path_factory):
    """One run shared by the read-only tests (each run costs about a second)."""
    root = tmp_path_factory.mktemp("clean")
    return clean_returns(FIXTURE, root / "processed", _config(root))


def test_hand_checked_tables(cleaned) -> None:
    episodes = cleaned.tables["episodes"]
    assert len(episodes) == 6
    assert sorted(episodes["YEAR"].tolist()) == [2020, 2020, 2021, 2021, 2021, 2021]
    repaired = episodes[episodes["REPAIR"].notna()]
    assert repaired["REPAIR"].tolist() == ["open_episode_child_left"]
    # C300 is open at 31 March 2020 in the 2019-20 return and missing from 2020-21: looked
    # after at 31 March 2020, care ended on an unknown date after it, so DEC = 1 April 2020
    # (was 31 March 2020, which made C300 leave care that day; issue 10)
    assert repaired["DEC"].tolist() == [pd.Timestamp("2020-04-01")]
    assert sorted(episodes["PL_DISTANCE"].dropna().tolist()) == [1.0, 1.0, 171.0]
    assert set(episodes["LA"]) == {"123"}
    assert len(cleaned.tables["header"]) == 6
    assert "UPN" not in cleaned.tables["header"]
    # the planted child keeps one pseudonym across years and tables
    header_ids = cleaned.tables["header"]["CHILD"]
    assert header_ids.str.fullmatch(r"C[0-9a-f]{12}").all()
    assert set(episodes["CHILD"]) == set(header_ids)


def test_report_balances_file_by_file(cleaned) -> None:
    summary = cleaned.report.summary().set_index(["source", "table"])
    assert summary.loc[("2019-20/episodes.csv", "episodes"), "rows_read"] == 3
    assert summary.loc[("2019-20/episodes.csv", "episodes"), "rows_kept"] == 2
    assert summary.loc[("2019-20/episodes.csv", "episodes"), "rows_replaced"] == 1
    assert summary.loc[("2019-20/episodes.csv", "episodes"), "rows_set_aside"] == 0
    assert summary.loc[("2020-21/episodes.csv", "episodes"), "rows_kept"] == 4
    assert summary["balanced"].all()
    text = cleaned.summary()
    assert "13 rows read" in text and "12 rows after merging" in text
    assert "1 were earlier copies of records a later return sent again" in text
    assert "0 were set aside" in text


def test_written_files_and_manifest(cleaned) -> None:
    out = cleaned.out_dir
    assert sorted(p.name for p in out.iterdir()) == [
        "clean_manifest.json",
        "episodes.parquet",
        "header.parquet",
        "quality_report.csv",
        "quality_report.json",
    ]
    manifest = json.loads((out / "clean_manifest.json").read_text())
    assert manifest["council"] == {"name": "Testshire", "code": "123"}
    assert manifest["collection_years"] == [2020, 2021]
    assert manifest["is_demo"] is False
    assert manifest["rows"] == {"header": 6, "episodes": 6}
    files = {f["file"]: f["sha256"] for f in manifest["input_files"]}
    assert sorted(files) == [
        "2019-20/episodes.csv",
        "2019-20/header.csv",
        "2020-21/episodes.csv",
        "2020-21/header.csv",
    ]
    expected = hashlib.sha256((FIXTURE / "2020-21/header.csv").read_bytes()).hexdigest()
    assert files["2020-21/header.csv"] == expected
    # no leftovers beside the output folder
    assert sorted(p.name for p in out.parent.iterdir() if p.name.startswith(".")) == []


def test_load_processed_round_trip(cleaned) -> None:
    data = load_processed(cleaned.out_dir)
    assert data.years == [2020, 2021]
    assert (data.la_code, data.council_name) == ("123", "Testshire")
    assert len(data.episodes) == 6
    assert str(data.episodes["DECOM"].dtype) == "datetime64[ns]"
    assert isinstance(data.episodes["PLACE"].dtype, pd.CategoricalDtype)
    assert data.reviews.empty and "REVIEW" in data.reviews.columns
    assert data.quality_summary["balanced"].all()


def _all_text(out: Path) -> str:
    """Every byte written under ``out`` as text, plus every Parquet cell as text."""
    chunks = []
    for path in sorted(out.rglob("*")):
        if not path.is_file():
            continue
        chunks.append(path.read_bytes().decode("latin-1"))
        if path.suffix == ".parquet":
            frame = pd.read_parquet(path)
            chunks.append(frame.astype(str).to_csv())
            for col in frame.columns:
                if pd.api.types.is_datetime64_any_dtype(frame[col]):
                    chunks.append(frame[col].dt.strftime("%d/%m/%Y").str.cat(sep=" "))
    return "\n".join(chunks)


def test_no_planted_identifier_reaches_the_output(cleaned) -> None:
    text = _all_text(cleaned.out_dir)
    assert "SO14 0" in text  # sanity: the scan sees cell values (the sector is kept)
    for what, value in PLANTED.items():
        assert value not in text, f"{what} {value!r} found in processed output"
    upper = text.upper()
    for what, value in PLANTED.items():
        assert value.upper() not in upper, what


def test_failure_leaves_the_previous_output_untouched(tmp_path: Path, config) -> None:
    out = tmp_path / "processed"
    clean_returns(FIXTURE, out, config)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    bad = tmp_path / "bad"
    shutil.copytree(FIXTURE, bad)
    (bad / "2020-21" / "episodes.csv").write_text("CHILD,WHAT\n1,2\n", encoding="utf-8")
    with pytest.raises(InputError):
        clean_returns(bad, out, config)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_row_lost_without_being_set_aside_stops_the_run(tmp_path: Path, config, monkeypatch):
    # The pipeline tells the report how many rows of each file reached the tables, so a
    # step that drops a row silently makes the books unbalanced and nothing is written.
    from cpanalysis import merge

    real = merge.merge_years

    def leaky(tables, table, report):
        return real(tables, table, report).iloc[1:]

    monkeypatch.setattr("cpanalysis.pipeline.merge_years", leaky)
    with pytest.raises(AssertionError, match="does not balance"):
        clean_returns(FIXTURE, tmp_path / "processed", config)
    assert not (tmp_path / "processed").exists()


def test_rerun_replaces_output_and_keeps_a_readme(tmp_path: Path, config) -> None:
    out = tmp_path / "processed"
    clean_returns(FIXTURE, out, config)
    (out / "README.md").write_text("kept")
    (out / "stale.parquet").write_bytes(b"old")
    clean_returns(FIXTURE, out, config)
    assert (out / "README.md").read_text() == "kept"
    assert not (out / "stale.parquet").exists()


def test_output_folder_inside_raw_or_with_other_files_is_refused(tmp_path: Path, config) -> None:
    raw = tmp_path / "raw"
    shutil.copytree(FIXTURE, raw)
    with pytest.raises(InputError, match="outside the raw data folder"):
        clean_returns(raw, raw / "out", config)
    other = tmp_path / "documents"
    other.mkdir()
    (other / "budget.xlsx").write_bytes(b"x")
    with pytest.raises(InputError, match="did not write"):
        clean_returns(raw, other, config)
    assert (other / "budget.xlsx").read_bytes() == b"x"


def test_demo_data_uses_the_documented_key(tmp_path: Path) -> None:
    a = clean_returns(FIXTURE, tmp_path / "a", Config(root=tmp_path), is_demo=True)
    b = clean_returns(FIXTURE, tmp_path / "b", Config(root=tmp_path / "elsewhere"), is_demo=True)
    assert a.tables["header"]["CHILD"].tolist() == b.tables["header"]["CHILD"].tolist()
    assert a.manifest["is_demo"] is True
    assert not (tmp_path / ".cpanalysis_key").exists()


# ----------------------------------------------------------------------------- CLI errors
def _bad_inputs(tmp_path: Path) -> dict[str, Path]:
    cases = {}
    empty = tmp_path / "empty"
    empty.mkdir()
    cases["empty folder"] = empty

    unreadable = tmp_path / "unreadable" / "2020-21"
    unreadable.mkdir(parents=True)
    (unreadable / "episodes.xlsx").write_bytes(b"this is not a workbook")
    cases["unreadable file"] = unreadable.parent

    missing = tmp_path / "missing_column" / "2020-21"
    shutil.copytree(FIXTURE / "2020-21", missing)
    lines = (missing / "episodes.csv").read_text().splitlines()
    dropped = [",".join(line.split(",")[:1] + line.split(",")[2:]) for line in lines]  # DECOM
    (missing / "episodes.csv").write_text("\n".join(dropped) + "\n")
    cases["missing column"] = missing.parent

    unknown_table = tmp_path / "unknown_table" / "2020-21"
    unknown_table.mkdir(parents=True)
    (unknown_table / "budget.csv").write_text("COST,CENTRE\n1,2\n")
    cases["unknown table"] = unknown_table.parent

    unknown_year = tmp_path / "unknown_year" / "1999-00"
    shutil.copytree(FIXTURE / "2020-21", unknown_year)
    cases["unknown year"] = unknown_year.parent
    return cases


def test_cli_bad_input_is_one_line_exit_2_and_no_output(tmp_path: Path, capsys) -> None:
    (tmp_path / "cpanalysis.toml").write_text(f'[privacy]\nhash_key = "{TEST_KEY}"\n')
    for case, raw in _bad_inputs(tmp_path).items():
        out = tmp_path / f"out_{raw.name}"
        code = main(["clean", str(raw), str(out), "--config-dir", str(tmp_path)])
        captured = capsys.readouterr()
        assert code == 2, f"{case}: exit {code}, stderr {captured.err!r}"
        lines = captured.err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("cpanalysis clean: error:"), case
        assert "Traceback" not in captured.err, case
        assert not out.exists(), case


def test_cli_prints_the_summary(tmp_path: Path, capsys) -> None:
    (tmp_path / "cpanalysis.toml").write_text(f'[privacy]\nhash_key = "{TEST_KEY}"\n')
    code = main(["clean", str(FIXTURE), str(tmp_path / "out"), "--config-dir", str(tmp_path)])
    assert code == 0
    assert "13 rows read" in capsys.readouterr().out


# ----------------------------------------------------------------------------- peer data
@pytest.fixture
def no_distance(monkeypatch) -> None:
    """Skip the postcode lookups: the peers' postcodes are made up (distance is tested
    in test_deidentify.py), and loading every letter of the directory costs seconds."""
    monkeypatch.setattr(
        "cpanalysis.deidentify.placement_distance_miles",
        lambda home, placement: pd.Series(float("nan"), index=home.index),
    )


def _read(result, source: str, table: str) -> int:
    summary = result.report.summary().set_index(["source", "table"])
    return int(summary.loc[(source, table), "rows_read"])


@pytest.mark.peers
def test_validator_fake_903_csv_folder(shared_dir: Path, tmp_path: Path, no_distance) -> None:
    # Counts from the files themselves (wc -l minus the header line; ssda903.md section 10).
    raw = tmp_path / "raw"
    raw.mkdir()
    for csv in (shared_dir / "data/peers/validator-fake-903").glob("*.csv"):
        shutil.copy(csv, raw / csv.name)
    result = clean_returns(raw, tmp_path / "out", _config(tmp_path), is_demo=True)
    assert _read(result, "episodes.csv", "episodes") == 5050
    assert _read(result, "header.csv", "header") == 2675
    assert _read(result, "reviews.csv", "reviews") == 12582
    assert result.report.summary()["balanced"].all()
    assert len(result.manifest["collection_years"]) == 1
    assert "sw_episodes" in result.tables


@pytest.mark.peers
def test_validator_fake_903_xml_alone(shared_dir: Path, tmp_path: Path, no_distance) -> None:
    # grep -c of the XML: 253 <CHILD>, 459 <EPISODE>, 1206 <AREVIEW> elements.
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(shared_dir / "data/peers/validator-fake-903/fake_903.xml", raw)
    result = clean_returns(raw, tmp_path / "out", _config(tmp_path), is_demo=True)
    assert _read(result, "fake_903.xml", "header") == 253
    assert _read(result, "fake_903.xml", "episodes") == 459
    assert _read(result, "fake_903.xml", "reviews") == 1206
    assert result.report.summary()["balanced"].all()


@pytest.mark.peers
def test_demand_model_samples_five_years(shared_dir: Path, tmp_path: Path, no_distance) -> None:
    # Episodes rows per file (wc -l minus header): 1460, 974, 648, 402, 253.
    raw = shared_dir / "data/peers/demand-model-samples"
    result = clean_returns(raw, tmp_path / "out", _config(tmp_path), is_demo=True)
    read = [_read(result, f"{y}-episodes.csv", "episodes") for y in range(2017, 2022)]
    assert read == [1460, 974, 648, 402, 253]
    years = result.manifest["collection_years"]
    assert len(years) == 5 and years == list(range(years[0], years[0] + 5))
    summary = result.report.summary()
    assert summary["balanced"].all()
    episodes = summary[summary["table"] == "episodes"]
    # consecutive returns overlap, so earlier files lose rows to later ones, the last none
    assert episodes.set_index("source").loc["2021-episodes.csv", "rows_replaced"] == 0
    assert (episodes["rows_replaced"].iloc[:4] > 0).all()
    kept = result.tables["episodes"]
    assert not kept.duplicated(["LA", "CHILD", "DECOM"]).any()
    assert len(kept) == int(episodes["rows_kept"].sum())
