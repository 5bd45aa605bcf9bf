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


#: Tests that share state, so ``pytest -n`` (``make test``) must run each group on one
#: worker, in order: ``site`` — every test of the one demo site built per session (its
#: tests also rebuild it and break it on purpose, which no other worker may see half-way);
#: ``notebooks`` — nbval's cells (a notebook's cells run in order in one kernel, and all
#: four notebooks open the project's ``data/processed``, which the first may create).
_GROUPS = {"test_site_build.py": "site", "test_site_browser.py": "site"}


def _group(nodeid: str) -> str:
    """The scope a test is scheduled with: its group, else its file."""
    path = nodeid.split("::", 1)[0]
    if path.endswith(".ipynb"):
        return "notebooks"
    return _GROUPS.get(path.rsplit("/", 1)[-1], path)


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """pytest-xdist: hand out whole groups (``_group``) to the workers, one at a time.

    (xdist's own ``--dist loadgroup`` marks do not reach its scheduler with pytest 9.2, so
    the grouping is done here, with xdist's scope scheduler.)
    """
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _group(nodeid)

    return GroupScheduling(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under xdist, the two long groups first, so neither is left to the end of the run."""
    if not hasattr(config, "workerinput"):
        return
    rank = {"site": 0, "notebooks": 1}
    items.sort(key=lambda item: rank.get(_group(item.nodeid), 2))  # stable: order kept within
