"""The build's own numbers stay off reader pages and out of the gate's way, by construction.

Issue 15 case 4: a 5,000-child council was refused because a file size on the About page
(``"bytes": 124751``) equalled a 6-digit child ID, and with real Quarto 2 builds in 5 were
refused because papermill's timings (microseconds, durations) are copied into pages as
``data-quarto-private-1="{...}"`` attributes. The Quarto case is tested on notebooks of the
shape papermill writes, since Quarto cannot be installed here.
"""

from __future__ import annotations

import json
import re

import nbformat
import pandas as pd
import pytest
from site_fixtures import BuiltSite, demo_site

from cpanalysis.site.manifest import file_digests
from cpanalysis.site.pages import SiteContext, about_page, publishable_notebook
from cpanalysis.site.privacy_gate import find_identifiers, identifiers_from_tables


def _papermill_notebook() -> nbformat.NotebookNode:
    """An executed notebook as papermill and nbclient leave it (timings in every cell)."""
    timing = {
        "duration": 0.123457,
        "end_time": "2026-12-01T21:42:49.056248+00:00",
        "exception": False,
        "start_time": "2026-12-01T21:42:48.932791+00:00",
        "status": "completed",
    }
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python", "version": "3.11.9"},
        "papermill": {
            **timing,
            "parameters": {"processed_dir": "/x/_build/staging-ab12cd/processed"},
            "input_path": "/x/notebooks/overview.ipynb",
            "output_path": "/x/_build/staging-ab12cd/notebooks/overview.ipynb",
            "environment_variables": {},
            "version": "2.7.0",
        },
    }
    raw = nbformat.v4.new_raw_cell('---\ntitle: "Overview"\n---', metadata={"papermill": timing})
    params = nbformat.v4.new_code_cell(
        "processed_dir = None",
        metadata={"tags": ["parameters"], "papermill": timing},
        execution_count=1,
    )
    chart = nbformat.v4.new_code_cell(
        "council.summary()",
        metadata={
            "papermill": timing,
            "execution": {
                "iopub.execute_input": "2026-12-01T21:42:48.933102Z",
                "iopub.status.busy": "2026-12-01T21:42:48.932791Z",
                "iopub.status.idle": "2026-12-01T21:42:49.056248Z",
                "shell.execute_reply": "2026-12-01T21:42:49.055937Z",
            },
        },
        execution_count=2,
        outputs=[nbformat.v4.new_output("display_data", {"text/markdown": "12 children"})],
    )
    nb.cells = [raw, params, chart]
    return nb


def test_notebooks_lose_the_runs_metadata_before_rendering(tmp_path):
    source = tmp_path / "run" / "overview.ipynb"
    source.parent.mkdir()
    nbformat.write(_papermill_notebook(), source)
    published = publishable_notebook(source, tmp_path / "overview.ipynb")
    text = published.read_text("utf-8")
    nb = nbformat.reads(text, as_version=4)
    assert set(nb.metadata) == {"kernelspec", "language_info"}
    assert [c.metadata for c in nb.cells] == [{}, {"tags": ["parameters"]}, {}]
    assert nb.cells[2].outputs[0].data == {"text/markdown": "12 children"}
    assert nb.cells[0].source == '---\ntitle: "Overview"\n---'
    assert not re.search(r"[0-9]{5,}", text)  # no timing, no staging path left for a page
    assert "staging" not in text and "papermill" not in text
    nbformat.validate(nb)
    # nothing is left for Quarto to copy into a data-quarto-private attribute
    source.unlink()
    idents = identifiers_from_tables([pd.DataFrame({"CHILD": ["123457", "932791", "56248"]})])
    assert find_identifiers(tmp_path, idents) == []


def test_no_file_size_on_the_about_page_or_in_the_manifest(tmp_path):
    (tmp_path / "2025").mkdir()
    (tmp_path / "2025" / "header.csv").write_bytes(b"x" * 124751)
    digests = file_digests(tmp_path)
    assert [set(d) for d in digests] == [{"path", "sha256"}]
    # even a manifest that carries sizes (an older one) shows none on the page
    manifest = {"input_files": [{"path": "2025/header.csv", "sha256": "ab" * 32, "bytes": 124751}]}
    page = about_page(SiteContext("Testshire", False, [2025], manifest))
    assert "124751" not in page and "Bytes" not in page


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> BuiltSite:
    return demo_site(tmp_path_factory)


def test_about_page_and_manifest_hold_no_number_of_the_builds_own(built):
    """Every number of 5+ digits there is a SHA-256 digest or the configured population."""
    manifest = json.loads((built.site / "run_manifest.json").read_text("utf-8"))
    population = {str(v) for v in (manifest["parameters"].get("population") or {}).values()}
    for name in ("about.html", "run_manifest.json"):
        text = re.sub(r"\b[0-9a-f]{64}\b", "", (built.site / name).read_text("utf-8"))
        big = set(re.findall(r"(?<![0-9])[0-9]{5,}(?![0-9])", text))
        assert big <= population, (name, sorted(big - population)[:5])
    for page in built.site.glob("*.html"):  # what Quarto copies from cell metadata
        private = re.findall(r'data-quarto-private-[0-9]+="([^"]*)"', page.read_text("utf-8"))
        assert not [p for p in private if re.search("papermill|start_time|execution", p)], page.name
