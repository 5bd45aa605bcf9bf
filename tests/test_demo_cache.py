"""The demo returns are reused only while the settings *and the generator* are unchanged.

The synthetic council is written once into ``data/demo/raw`` and reused by every later
build. Keyed on the ``[demo]`` settings alone, an upgrade that changed how the council is
generated would leave a site built on the old returns; the key now holds a digest of the
generator's code and of the packages it draws from (``cpanalysis.demo.generator_digest``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cpanalysis import demo
from cpanalysis.config import Config

SMALL = {"seed": 7, "size": 20, "first_year": 2025, "last_year": 2026}


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return Config(root=tmp_path, demo=dict(SMALL))


@pytest.fixture
def writes(monkeypatch) -> list[dict]:
    """Each call of the generator, recorded (and a marker file written in its place)."""
    calls: list[dict] = []

    def fake(raw: Path, councils: int = 1, **settings) -> list[Path]:
        calls.append(settings)
        raw.mkdir(parents=True, exist_ok=True)
        (raw / "marker.csv").write_text(str(len(calls)))
        return [raw / "marker.csv"]

    monkeypatch.setattr("cpanalysis.synthetic.write_demo_returns", fake)
    return calls


def test_same_settings_and_generator_reuse_the_returns(config, writes) -> None:
    first = demo.ensure_demo_returns(config)
    again = demo.ensure_demo_returns(config)
    assert first == again and len(writes) == 1
    stamp = json.loads((config.demo_dir / "demo_settings.json").read_text())
    assert stamp == {"settings": SMALL, "generator": demo.generator_digest()}


def test_a_changed_generator_regenerates_them(config, writes, monkeypatch) -> None:
    demo.ensure_demo_returns(config)
    monkeypatch.setattr(demo, "generator_digest", lambda: "0" * 64)  # an upgrade
    raw = demo.ensure_demo_returns(config)
    assert len(writes) == 2 and (raw / "marker.csv").read_text() == "2"


def test_a_stamp_of_the_settings_alone_is_stale(config, writes) -> None:
    # what earlier versions wrote: the settings only, with returns of an older generator
    raw = config.demo_dir / "raw"
    raw.mkdir(parents=True)
    (config.demo_dir / "demo_settings.json").write_text(json.dumps(SMALL, sort_keys=True))
    demo.ensure_demo_returns(config)
    assert len(writes) == 1


def test_an_unreadable_stamp_regenerates_instead_of_failing(config, writes) -> None:
    (config.demo_dir / "raw").mkdir(parents=True)
    (config.demo_dir / "demo_settings.json").write_text("{not json")
    demo.ensure_demo_returns(config)
    assert len(writes) == 1


def test_the_digest_follows_the_generators_code(tmp_path, monkeypatch) -> None:
    # a copy of the package's generator parts: one changed byte, another digest
    import shutil

    package = Path(demo.__file__).resolve().parent
    fake = tmp_path / "cpanalysis"
    for part in ("synthetic", "schema"):
        shutil.copytree(package / part, fake / part)
    monkeypatch.setattr(demo, "__file__", str(fake / "demo.py"))
    before = demo.generator_digest()
    assert before == demo.generator_digest()
    simulate = fake / "synthetic" / "simulate.py"
    simulate.write_text(simulate.read_text() + "\n# changed\n")
    assert demo.generator_digest() != before
    # the rest of the package is not the generator: changing it keeps the returns
    (fake / "merge.py").write_text("# not read\n")
    after = demo.generator_digest()
    (fake / "merge.py").write_text("# changed, still not read\n")
    assert demo.generator_digest() == after
