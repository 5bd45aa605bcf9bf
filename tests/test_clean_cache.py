"""clean_or_reuse: the last cleaned tables are reused only when nothing they depend on changed."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest

from cpanalysis import clean_cache
from cpanalysis.clean_cache import STAMP, clean_or_reuse, inputs_digest
from cpanalysis.config import Config

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "pipeline" / "raw"


def _config(root: Path, **changes) -> Config:
    settings = {"council_name": "Testshire", "council_code": "123", "hash_key": "k" * 40}
    return Config(root=root, **{**settings, **changes})


def _digests(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.is_file()
    }


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    return Path(shutil.copytree(FIXTURE, tmp_path / "raw"))


@pytest.fixture
def cleaned(tmp_path: Path, raw: Path) -> Path:
    """A first clean, as the last build left it in data/processed."""
    out = tmp_path / "processed"
    assert clean_or_reuse(raw, out, _config(tmp_path)) is False
    return out


def test_same_inputs_reuse_the_tables_and_give_the_same_files_as_cleaning(
    tmp_path, raw, cleaned, monkeypatch
):
    fresh = tmp_path / "fresh"
    clean_or_reuse(raw, fresh, _config(tmp_path))  # cleans again: no previous given
    calls = []
    monkeypatch.setattr("cpanalysis.pipeline.clean_returns", lambda *a, **k: calls.append(a))
    reused = tmp_path / "reused"
    assert clean_or_reuse(raw, reused, _config(tmp_path), previous=cleaned) is True
    assert calls == []
    assert _digests(reused) == _digests(fresh) == _digests(cleaned)
    assert STAMP in _digests(reused)


def test_the_stamp_holds_a_digest_only(cleaned):
    stamp = json.loads((cleaned / STAMP).read_text("utf-8"))
    assert len(stamp["inputs_sha256"]) == 64
    assert "ZQ7734119" not in (cleaned / STAMP).read_text("utf-8")  # a child ID of the fixture


def test_a_readme_of_the_previous_folder_is_not_carried_as_a_table(tmp_path, raw, cleaned):
    (cleaned / "README.md").write_text("# data/processed\n", encoding="utf-8")
    reused = tmp_path / "reused"
    assert clean_or_reuse(raw, reused, _config(tmp_path), previous=cleaned) is True
    assert not (reused / "README.md").exists()


@pytest.mark.parametrize(
    "change",
    ["a return's contents", "a new file", "the settings", "the key", "synthetic or not"],
)
def test_any_change_cleans_afresh(tmp_path, raw, change, monkeypatch):
    monkeypatch.delenv("CPANALYSIS_HASH_KEY", raising=False)  # the key comes from the config
    config, is_demo = _config(tmp_path), False
    before = inputs_digest(raw, config, is_demo=False)
    if change == "a return's contents":
        victim = next(p for p in sorted(raw.rglob("*.csv")))
        victim.write_text(victim.read_text("utf-8") + "\n", encoding="utf-8")
    elif change == "a new file":
        (next(p for p in raw.iterdir() if p.is_dir()) / "notes.txt").write_text("x\n")
    elif change == "the settings":
        config = _config(tmp_path, council_name="Othershire")
    elif change == "the key":
        config = _config(tmp_path, hash_key="another key " * 4)
    else:
        is_demo = True
    assert inputs_digest(raw, config, is_demo=is_demo) != before


def test_a_change_of_code_cleans_afresh(tmp_path, raw, cleaned, monkeypatch):
    monkeypatch.setattr(clean_cache, "_code", lambda: "another version of the rules")
    assert clean_or_reuse(raw, tmp_path / "again", _config(tmp_path), previous=cleaned) is False


def test_a_symlink_among_the_returns_is_never_reused(tmp_path, raw):
    os.symlink(next(raw.rglob("*.csv")), raw / "link.csv")
    assert inputs_digest(raw, _config(tmp_path), is_demo=False) is None


def test_a_previous_folder_without_stamp_is_cleaned_afresh(tmp_path, raw, cleaned):
    (cleaned / STAMP).unlink()
    assert clean_or_reuse(raw, tmp_path / "again", _config(tmp_path), previous=cleaned) is False
