"""A small demo site built once per test run, shared by every test that needs one.

Building costs tens of seconds (demo returns, the DfE validator, cleaning, five notebook
kernels, rendering), so the whole run shares one build of a temporary copy of the project:
a small synthetic council (120 children, collection years 2021 to 2026) and the project's
notebooks when all five exist, else the stand-ins in ``tests/fixtures/notebooks/site``.
Under ``pytest -n`` the first worker to ask builds it, under a file lock, in the run's
shared temporary folder; the others wait for it and read the same files. Tests only read
that build; a test that rebuilds or breaks a project works on its own copy
(:func:`demo_site_copy`), and a new project can start with the build's caches of inputs
that do not change (:func:`seed_caches`), as a council's second build does.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import posixpath
import shutil
from collections.abc import Iterator
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


def make_project(root: Path, notebooks: Path | None = None) -> Path:
    """A copy of the project's site inputs in ``root`` (config, layout, notebooks).

    ``notebooks``: the folder of notebooks to copy (default :func:`notebooks_source`).
    """
    root.mkdir(parents=True, exist_ok=True)
    (root / "cpanalysis.toml").write_text(SMALL_DEMO, encoding="utf-8")
    shutil.copy(ROOT / "_quarto.yml", root / "_quarto.yml")
    if (ROOT / "methodology.qmd").is_file():
        shutil.copy(ROOT / "methodology.qmd", root / "methodology.qmd")
    shutil.copytree(notebooks or notebooks_source(), root / "notebooks")
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


def _run_dir(factory: pytest.TempPathFactory) -> Path:
    """A temporary folder of this run that every xdist worker shares.

    Each worker's base folder is ``<run>/popen-gwN``; without xdist it is the run's own.
    """
    base = factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (other workers wait), where the OS offers one."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock, and each worker builds in its own folder
        yield
        return
    with open(path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def demo_site(factory: pytest.TempPathFactory) -> BuiltSite:
    """The small demo site, built once per run (across test modules and xdist workers).

    Read it, never change it: other tests on other workers read the same files. A build
    that fails is not tried again by the next worker: it fails with the same line.
    """
    if "site" not in _BUILT:
        shared = _run_dir(factory)
        if os.name != "posix":
            shared = factory.getbasetemp()
        root, done = shared / "demo-site", shared / "demo-site.pickle"
        with _locked(shared / "demo-site.lock"):
            if not done.is_file():
                try:
                    if root.exists():
                        shutil.rmtree(root)
                    result = build_site(load_config(make_project(root)), workers=2)
                except Exception as exc:
                    done.write_bytes(pickle.dumps(f"the shared demo build failed: {exc!r}"))
                    raise
                done.write_bytes(pickle.dumps(result))
            result = pickle.loads(done.read_bytes())
        if isinstance(result, str):
            raise RuntimeError(result)
        _BUILT["site"] = BuiltSite(root=root, result=result)
    return _BUILT["site"]


def demo_site_copy(factory: pytest.TempPathFactory, dest: Path) -> BuiltSite:
    """A copy of the shared demo build in ``dest``, for a test that rebuilds or breaks it.

    The copy is the project as the build left it: site, processed data, the demo returns
    and the build's caches. Its ``result`` is the shared build's (its ``site_dir`` names the
    shared site; use ``.site`` for the copy's).
    """
    built = demo_site(factory)
    shutil.copytree(built.root, dest, symlinks=True)
    return BuiltSite(root=dest, result=built.result)


def seed_caches(factory: pytest.TempPathFactory, root: Path) -> Path:
    """Give the project ``root`` (made by :func:`make_project`) the shared build's caches.

    The demo returns of :data:`SMALL_DEMO` (``data/demo``, reused while its settings are
    unchanged) and the DfE validator's answers (``_build/validation``, keyed by the exact
    bytes of the returns and the runner): what a second build of the same demo council
    finds. A project whose settings differ simply does not match them, and makes its own.
    No site and no processed data are copied: the project's build still makes both.
    """
    built = demo_site(factory)
    shutil.copytree(built.root / "data" / "demo", root / "data" / "demo", dirs_exist_ok=True)
    validation = built.root / "_build" / "validation"
    if validation.is_dir():
        shutil.copytree(validation, root / "_build" / "validation", dirs_exist_ok=True)
    return root
