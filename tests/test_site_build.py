"""The one-command build: pages, banner, downloads, manifest, repeatability, fail-safe swap."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from site_fixtures import (
    FIXTURE_NOTEBOOKS,
    ROOT,
    SITE_PAGES,
    BuiltSite,
    demo_site,
    demo_site_copy,
    linked_pages,
)

from cpanalysis.config import load_config
from cpanalysis.errors import BuildError
from cpanalysis.site.build import MAX_PAGE_BYTES, build_site, swap_in
from cpanalysis.site.privacy_gate import check_published, identifiers_from_returns
from cpanalysis.site.render import check_offline


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> BuiltSite:
    return demo_site(tmp_path_factory)


def _digests(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_every_navbar_page_is_built(built):
    assert sorted(built.result.pages) == sorted(SITE_PAGES)
    index = (built.site / "index.html").read_text("utf-8")
    assert set(SITE_PAGES) <= linked_pages(index)


def test_links_are_read_as_pages_in_either_renderers_markup():
    smalldocs = '<a class="nav-link" href="overview.html"><span>Overview</span></a>'
    quarto = (  # the shape Quarto 1.7 writes its navbar in
        '<li class="nav-item"><a class="nav-link active" href="./index.html" '
        'aria-current="page"><span class="menu-text">Scorecard</span></a></li>'
        '<a class="dropdown-item" href="./methodology.html#definitions">'
        '<a href="https://www.gov.uk/">GOV.UK</a><a href="#top">top</a>'
    )
    assert linked_pages(smalldocs) == {"overview.html"}
    assert linked_pages(quarto) == {"index.html", "methodology.html"}


def test_every_page_says_it_is_demo_data(built):
    for page in SITE_PAGES:
        text = (built.site / page).read_text("utf-8")
        assert 'class="cp-data-banner cp-demo"' in text, page
        assert "DEMO DATA: Built on synthetic demo data" in text, page
        assert "collection years 2020-21 to 2025-26" in text, page


def test_home_page_is_the_scorecard(built):
    text = (built.site / "index.html").read_text("utf-8")
    assert "corporate parenting scorecard" in text
    assert "This year (2025-26)" in text
    assert "not from the SSDA903 return" in text
    assert "Placements per child in the year" in text


def test_downloads_are_published_and_linked(built):
    names = sorted(p.name for p in (built.site / "downloads").glob("*.csv"))
    assert "scorecard.csv" in names
    assert "quality_report.csv" in names
    assert any(n.startswith("indicators_") for n in names)
    page = (built.site / "downloads.html").read_text("utf-8")
    for name in names:
        assert f"downloads/{name}" in linked_pages(page)
    # every one opens in Excel as UTF-8: a byte-order mark first
    for path in (built.site / "downloads").glob("*.csv"):
        assert path.read_bytes().startswith("\ufeff".encode()), path.name


def test_the_site_is_readable_by_a_file_shares_managers(built):
    # files 0644 and folders 0755 under the usual umask 022: whatever the umask allows, the
    # site grants (nothing left owner-only by a scratch folder, as data/processed is)
    import os
    import stat

    umask = os.umask(0)
    os.umask(umask)
    for path in [built.site, *built.site.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        wanted = (0o755 if path.is_dir() else 0o644) & ~umask
        assert mode & wanted == wanted, (path.relative_to(built.site).as_posix(), oct(mode))


def test_data_quality_page_shows_the_dfe_rules_or_why_not(built):
    page = (built.site / "data_quality.html").read_text("utf-8")
    assert "validation rules" in page and "csc-validator-be-903" in page
    if (built.site / "downloads" / "validation_summary.csv").is_file():
        assert "Rules the validator gets wrong" in page
        summary = pd.read_csv(built.site / "downloads" / "validation_summary.csv")
        assert "rows" not in summary.columns  # row numbers stay on the council's machine
    else:  # no validator environment here: one line says so
        assert "rules were not run" in page


def test_run_manifest_records_inputs_and_settings(built):
    manifest = json.loads((built.site / "run_manifest.json").read_text("utf-8"))
    assert manifest["data_kind"] == "demo (synthetic)"
    assert manifest["collection_years"] == [2021, 2022, 2023, 2024, 2025, 2026]
    assert manifest["demo_settings"] == {
        "seed": 903,
        "size": 120,
        "first_year": 2021,
        "last_year": 2026,
    }
    assert manifest["input_files"]
    assert all(re.fullmatch("[0-9a-f]{64}", f["sha256"]) for f in manifest["input_files"])
    assert manifest["parameters"]["suppression_threshold"] == 5
    assert manifest["renderer"] == built.result.renderer
    assert {"pandas", "papermill", "smalldocs"} <= set(manifest["packages"])
    # the temporary project has no uv.lock of its own: the checkout's lock installed the code
    lock = ROOT / "uv.lock"
    assert manifest["lock_file"] == {
        "path": lock.as_posix(),
        "sha256": hashlib.sha256(lock.read_bytes()).hexdigest(),
    }
    assert manifest["started"] <= manifest["finished"]


def test_summary_names_renderer_pages_size_and_time(built):
    summary = built.result.summary()
    assert built.result.renderer.split()[0] in ("smalldocs", "Quarto")
    assert f"with {built.result.renderer}: {len(SITE_PAGES)} pages, largest " in summary
    assert re.search(r"in \d+ s\.", summary)


def test_pages_are_small_and_offline(built):
    assert built.result.largest_page[1] < MAX_PAGE_BYTES
    check_offline(built.site)  # raises on any request to another host


def test_processed_data_swapped_in_with_readme_kept(built):
    processed = built.root / "data" / "processed"
    assert (processed / "clean_manifest.json").is_file()
    assert (processed / "episodes.parquet").is_file()
    assert (processed / "README.md").read_text("utf-8") == "# data/processed\n"
    assert not (built.root / "_build" / "staging").exists()


def test_privacy_gate_passes_on_the_build_and_refuses_a_planted_child_id(built, tmp_path):
    raw = built.root / "data" / "demo" / "raw"
    idents = identifiers_from_returns(raw)
    check_published([built.site, built.root / "data" / "processed"], idents)
    # plant one real child ID (of 5+ characters) of the input in a copy of a page
    child = sorted(i for i in idents.searchable_ids()["a child ID"])[0]
    site = tmp_path / "_site"
    site.mkdir()
    page = (built.site / "about.html").read_text("utf-8")
    (site / "about.html").write_text(page.replace("</main>", f"<p>{child}</p></main>"), "utf-8")
    with pytest.raises(BuildError) as info:
        check_published([site], idents)
    assert info.value.one_line().startswith("privacy gate: _site/about.html contains a child ID")
    assert child not in str(info.value)


def test_same_input_gives_the_same_site_and_a_broken_notebook_changes_nothing(
    tmp_path_factory, tmp_path
):
    # the shared build is the first build: its copy is built again from the same input
    built = demo_site_copy(tmp_path_factory, tmp_path / "project")
    before = _digests(built.site)
    processed_before = _digests(built.root / "data" / "processed")
    config = load_config(built.root)
    # 1. the same input again, in one notebook kernel instead of two: every file identical
    # but the manifest's times (nor does the number of kernels change a byte)
    build_site(config, workers=1)
    after = _digests(built.site)
    assert after.keys() == before.keys()
    changed = [name for name in after if after[name] != before[name]]
    assert changed in ([], ["run_manifest.json"])
    manifest = json.loads((built.site / "run_manifest.json").read_text("utf-8"))
    assert set(manifest) >= {"started", "finished"}
    # 2. a notebook that raises: BuildError naming it, the last good site left as it was
    before = _digests(built.site)
    with pytest.raises(BuildError) as info:
        build_site(config, notebooks_dir=FIXTURE_NOTEBOOKS / "broken", workers=1)
    assert info.value.one_line() == (
        "running the notebooks: notebook broken.ipynb failed at cell 4 "
        "(\"raise ValueError('planted failure')\"): ValueError: planted failure"
    )
    assert _digests(built.site) == before
    assert _digests(built.root / "data" / "processed") == processed_before


def test_swap_puts_the_old_folder_back_when_the_new_one_cannot_go_in(tmp_path):
    target = tmp_path / "_site"
    target.mkdir()
    (target / "index.html").write_text("old", "utf-8")
    with pytest.raises(OSError):
        swap_in(tmp_path / "missing", target)
    assert (target / "index.html").read_text("utf-8") == "old"


def test_swap_replaces_and_keeps_readme(tmp_path):
    target, new = tmp_path / "processed", tmp_path / "new"
    target.mkdir()
    new.mkdir()
    (target / "README.md").write_text("keep", "utf-8")
    (target / "old.parquet").write_text("old", "utf-8")
    (new / "episodes.parquet").write_text("new", "utf-8")
    swap_in(new, target)
    assert sorted(p.name for p in target.iterdir()) == ["README.md", "episodes.parquet"]
    assert not new.exists()
    assert not (tmp_path / "processed.previous").exists()
