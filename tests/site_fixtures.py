"""A small demo site built once per test session, shared by the site tests.

Building costs seconds (demo returns, cleaning, five notebook kernels), so the site tests
share one build of a temporary copy of the project: a small synthetic council (120 children,
collection years 2021 to 2026) and the project's notebooks when all five exist, else the
stand-ins in ``tests/fixtures/notebooks/site``.
"""

from __future__ import annotations

import posixpath
import shutil
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest

from cpanalysis.config import load_config
from cpanalysis.site.build import BuildResult, build_site
from cpanalysis.site.pages import NOTEBOOK_PAGES

ROOT = Path(__file__).resolve().parents[1]
FIXTURE_NOTEBOOKS = Path(__file__).resolve().parent / "fixtures" / "notebooks"
#: Every page of the site, as the navbar links them (the build and browser tests both check it).
SITE_PAGES = [
    "index.html",
    "overview.html",
    "placement_stability.html",
    "time_to_adoption.html",
    "care_leavers_neet.html",
    "health_and_support.html",
    "sufficiency.html",
    "methodology.html",
    "data_quality.html",
    "about.html",
    "downloads.html",
]

SMALL_DEMO = """[council]
name = "Demo council (synthetic data)"
code = "999"

[privacy]
suppression_threshold = 5

[demo]
seed = 903
size = 120
first_year = 2021
last_year = 2026
"""


@dataclass
class BuiltSite:
    """The temporary project and its first build."""

    root: Path
    result: BuildResult

    @property
    def site(self) -> Path:
        return self.root / "_site"


def notebooks_source() -> Path:
    """The project's notebooks when all five pages exist, else the test stand-ins."""
    project = ROOT / "notebooks"
    if all((project / name).is_file() for name in NOTEBOOK_PAGES):
        return project
    return FIXTURE_NOTEBOOKS / "site"


def make_project(root: Path) -> Path:
    """A copy of the project's site inputs in ``root`` (config, layout, notebooks)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "cpanalysis.toml").write_text(SMALL_DEMO, encoding="utf-8")
    shutil.copy(ROOT / "_quarto.yml", root / "_quarto.yml")
    if (ROOT / "methodology.qmd").is_file():
        shutil.copy(ROOT / "methodology.qmd", root / "methodology.qmd")
    shutil.copytree(notebooks_source(), root / "notebooks")
    for sub in ("raw", "processed"):
        (root / "data" / sub).mkdir(parents=True, exist_ok=True)
        (root / "data" / sub / "README.md").write_text(f"# data/{sub}\n", encoding="utf-8")
    return root


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.hrefs += [v for k, v in attrs if k == "href" and v]


def linked_pages(html: str) -> set[str]:
    """The site pages a page links to, whatever the renderer's markup.

    smalldocs writes ``href="overview.html"``, Quarto ``href="./overview.html"``; both mean
    the same page. Links to other hosts and in-page anchors are left out.
    """
    parser = _Links()
    parser.feed(html)
    pages = set()
    for href in parser.hrefs:
        if "://" in href or href.startswith(("#", "mailto:", "data:")):
            continue
        path = href.split("#", 1)[0].split("?", 1)[0]
        if path:
            pages.add(posixpath.normpath(path))
    return pages


_BUILT: dict[str, BuiltSite] = {}


def demo_site(factory: pytest.TempPathFactory) -> BuiltSite:
    """Build the small demo site once per session (cached across test modules)."""
    if "site" not in _BUILT:
        root = make_project(factory.mktemp("project"))
        result = build_site(load_config(root), workers=2)
        _BUILT["site"] = BuiltSite(root=root, result=result)
    return _BUILT["site"]
