"""The analysis notebooks stay thin, parameterised and free of outputs.

The notebooks are executed by ``pytest --nbval-lax`` (configured in pyproject.toml) on the
demo data; these tests check their shape without running them.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
# docs/design.md, Contract 3: the same parameter names in every notebook
PARAMETERS = {
    "processed_dir",
    "council_name",
    "council_code",
    "collection_years",
    "suppression_threshold",
    "forecast_horizon",
    "benchmark_source",
    "compare_with",
    "population",
}
# child-level tables a notebook must never touch directly (it could display a child's rows)
CHILD_LEVEL = {"episodes", "header", "oc2", "oc3", "reviews", "missing", "sw_episodes", "uasc"}


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _source(cell: dict) -> str:
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


def test_the_five_notebooks_exist():
    assert {p.stem for p in NOTEBOOKS} == {
        "overview",
        "placement_stability",
        "time_to_adoption",
        "care_leavers_neet",
        "sufficiency",
    }


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_front_matter_then_one_parameters_cell(path):
    cells = _cells(path)
    assert cells[0]["cell_type"] == "raw"
    front = _source(cells[0])
    assert front.startswith("---\ntitle: ") and "echo: false" in front
    tagged = [i for i, c in enumerate(cells) if "parameters" in c["metadata"].get("tags", [])]
    assert tagged == [1], "exactly one parameters cell, right after the front matter"
    tree = ast.parse(_source(cells[1]))
    names = {t.id for node in tree.body for t in node.targets}  # only assignments allowed
    assert names == PARAMETERS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_without_outputs(path):
    for cell in _cells(path):
        if cell["cell_type"] == "code":
            assert cell["outputs"] == []
            assert cell["execution_count"] is None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_function_or_class_is_defined_in_a_notebook(path):
    for cell in _cells(path):
        if cell["cell_type"] != "code":
            continue
        for node in ast.walk(ast.parse(_source(cell))):
            assert not isinstance(
                node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda
            ), f"{path.name} defines {type(node).__name__}: logic belongs in the library"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebooks_never_touch_child_level_tables(path):
    for cell in _cells(path):
        if cell["cell_type"] != "code":
            continue
        for node in ast.walk(ast.parse(_source(cell))):
            if isinstance(node, ast.Attribute):
                assert node.attr not in CHILD_LEVEL | {"data"}, (
                    f"{path.name} reads .{node.attr}: show only suppressed measures"
                )


def test_a_notebook_defining_a_function_would_fail(tmp_path):
    """The check above can fail: a cell with a def is caught."""
    tree = ast.parse("def helper():\n    return 1\n")
    assert any(isinstance(n, ast.FunctionDef) for n in ast.walk(tree))
