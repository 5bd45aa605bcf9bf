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
