"""Shared test fixtures.

``../shared`` (the peer data sets and the DfE tables) sits beside the project in CI; tests
that read it use the ``shared_dir`` fixture, which skips with a reason when it is absent so
a fresh clone without it still passes (the same checks run on our own small fixtures).
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The ``../shared`` folder, or a skip when this clone has none beside it."""
    if not (SHARED / "data").is_dir():
        pytest.skip("../shared is not beside this clone (it is in CI)")
    return SHARED


#: Scheduling under ``pytest -n`` (``make test``). Tests of the one demo site build read a
#: build shared by the whole run (``site_fixtures.demo_site``: the first worker to ask builds
#: it, the other waits), and tests that change a project work on their own copy, so only the
#: notebooks need a worker of their own: nbval's cells run in order in one kernel, and all
#: four notebooks open the project's ``data/processed``, which the first may create.
#: Everything else is handed out one scope at a time, in the order of ``_RANKS``: the longest
#: first, what needs the shared site after the site is started, and many short ones last so
#: both workers finish together.
#: Files whose every test is a scope of its own (each is long, or there are many).
_SPLIT = {"test_site_build_safety.py", "test_site_browser.py"}
#: Where a scope goes in the queue (a lower rank is handed out first).
_RANKS = {
    # the shared demo build starts at once, on the first worker
    "test_site_build.py": 0,
    # the notebooks (nbval) and the longest tests that do not need the shared site
    "notebooks": 1,
    "test_site_build_safety.py::test_a_council_with_one_or_two_years_of_returns_gets_a_site": 2,
    "test_validation.py": 2,
    "test_notebook_runner.py": 2,
    # tests of copies or caches of the shared build, once it has started
    "test_site_build_safety.py::test_two_overlapping_builds_leave_one_correct_site": 4,
    "test_site_build_safety.py::test_full_disk_is_exit_2_with_one_line": 4,
    "test_hostile_inputs.py": 4,
    "test_site_gate_construction.py": 4,
    # the browser tests last: about 75 scopes of a few seconds each even out the end
    "test_site_browser.py": 5,
}
_OTHER = 3


#: Tests of one page at one size that share the opened page (the first only reads it).
_PAIRED = (
    "test_no_page_scrolls_sideways_and_every_chart_fits",
    "test_every_page_passes_axe_from_file_with_no_error_or_outside_request",
)


def _group(nodeid: str) -> str:
    """The scope a test is scheduled with: ``notebooks``, the test itself, or its file."""
    path = nodeid.split("::", 1)[0]
    if path.endswith(".ipynb"):
        return "notebooks"
    if path.rsplit("/", 1)[-1] in _SPLIT:
        function, _, params = nodeid.split("::", 1)[1].partition("[")
        if function in _PAIRED:
            return f"{path}::[{params}"
        return nodeid
    return path


def _rank(nodeid: str) -> int:
    """Where the scope of ``nodeid`` goes in the queue (see ``_RANKS``)."""
    if nodeid.split("::", 1)[0].endswith(".ipynb"):
        return _RANKS["notebooks"]
    name = nodeid.rsplit("/", 1)[-1]
    function = name.split("[", 1)[0]
    for key in (function, name.split("::", 1)[0]):
        if key in _RANKS:
            return _RANKS[key]
    return _OTHER


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """pytest-xdist: hand out whole scopes (``_group``) to the workers, in collection order.

    (xdist's own ``--dist loadgroup`` marks do not reach its scheduler with pytest 9.2, so
    the grouping is done here, with xdist's scope scheduler; its reordering of scopes by
    their number of tests is turned off: ``pytest_collection_modifyitems`` orders them.)
    """
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _group(nodeid)

    config.option.loadscopereorder = False
    return GroupScheduling(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Each scope's tests together (in file order); under xdist, scopes as ``_RANKS`` says.

    The xdist scheduler hands out the scopes in this order. Without xdist only the paired
    browser tests move, so a page kept open for the next test is closed soon after.
    """
    xdist = hasattr(config, "workerinput")
    first: dict[str, int] = {}
    for index, item in enumerate(items):
        first.setdefault(_group(item.nodeid), index)

    def key(item: pytest.Item) -> tuple[int, int]:
        return (_rank(item.nodeid) if xdist else 0, first[_group(item.nodeid)])

    items.sort(key=key)  # stable: file order kept within a scope
