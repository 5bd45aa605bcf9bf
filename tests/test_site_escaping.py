"""Hostile council names and file names: shown as text on every page, never markup or YAML.

Issue 15 case 1: a council name of ``</script><script>alert(1)</script><img src=x
onerror=alert(11)>`` ran on every page; ``Council of "Testshire"`` broke the render; a name
adding ``include-before-body: "<path>"`` made Quarto publish a local file. Each name goes
through the files written for Quarto (front matter, ``_quarto.yml``, Markdown bodies) and a
smalldocs render of them.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
import yaml

from cpanalysis.analysis import CouncilAnalysis
from cpanalysis.escaping import front_matter, html_text, markdown_text, unescape_markdown
from cpanalysis.scorecard import build_scorecard
from cpanalysis.site.pages import SiteContext, write_project
from cpanalysis.site.render import render_project
from cpanalysis.suppression import suppress

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = "</script><script>alert(1)</script><img src=x onerror=alert(11)>"
QUOTED = 'Council of "Testshire"'
SECRET = "KEY-MATERIAL-5f0c2e-never-published"


def _include(path: Path) -> str:
    """A name that tries to close the title's quotes and add a key to the front matter."""
    return f'Testshire"\ninclude-before-body: "{path}"\nx: "'


def _measures() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "time_period": [2025, 2024],
            "geography": "Testshire",
            "measure": ["cla_31_march", "cla_31_march"],
            "breakdown": "Total",
            "numerator": pd.array([40, 38], dtype="Int64"),
            "denominator": pd.array([None, None], dtype="Int64"),
            "value": [40.0, 38.0],
            "unit": "count",
        }
    )


def _write(project: Path, name: str, file_name: str) -> None:
    manifest = {
        "council_name": name,
        "council_code": name,
        "input_files": [{"path": file_name, "sha256": "0" * 64}],
    }
    quality = {
        "balanced": True,
        "summary": [
            {
                "source": file_name,
                "table": "episodes",
                "year": 2025,
                "rows_read": 1,
                "rows_kept": 1,
                "rows_replaced": 0,
                "rows_set_aside": 0,
                "balanced": True,
            }
        ],  # fmt: skip
        "notes": [{"source": file_name, "message": f"read {file_name}"}],
    }
    write_project(
        project,
        template=ROOT / "_quarto.yml",
        ctx=SiteContext(name, False, [2024, 2025], manifest),
        scorecard=build_scorecard(suppress(_measures(), threshold=5), None, {}),
        quality=quality,
        notebooks=[],
        methodology=None,
        downloads={},
    )


def _front_and_body(page: Path) -> tuple[dict, str]:
    text = page.read_text("utf-8")
    match = re.match(r"---\n(.*?)\n---\n(.*)", text, re.S)
    assert match, page
    return yaml.safe_load(match.group(1)), match.group(2)


def _markdown_parts(body: str) -> str:
    """The Markdown of a page less its raw HTML blocks (checked separately)."""
    return re.sub(r"```\{=html\}\n.*?\n```", "", body, flags=re.S)


def _includes(node: object) -> list[tuple[str, object]]:
    """Every ``include-*`` setting of a YAML tree (what Quarto pastes into pages)."""
    if isinstance(node, dict):
        own = [(k, v) for k, v in node.items() if str(k).startswith("include-")]
        return own + [i for v in node.values() for i in _includes(v)]
    if isinstance(node, list):
        return [i for v in node for i in _includes(v)]
    return []


class _Scripts(HTMLParser):
    """Every script's text and every event-handler attribute of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self.handlers: list[str] = []
        self.in_script = False
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.in_script = tag == "script"
        if self.in_script:
            self.scripts.append("")
        self.handlers += [f"{k}={v}" for k, v in attrs if k.startswith("on")]

    def handle_endtag(self, tag):
        if tag == "script":
            self.in_script = False

    def handle_data(self, data):
        if self.in_script:
            self.scripts[-1] += data
        else:
            self.text.append(data)


def test_markdown_text_reads_back_as_the_same_text():
    for name in (SCRIPT, QUOTED, "St. Helens [x](javascript:alert(1)) *a* `b` $c$ @d #e"):
        escaped = markdown_text(name)
        assert unescape_markdown(escaped) == name
        assert "<" not in escaped and "](" not in escaped
    assert markdown_text("a\n# b") == "a \\# b"  # no line break: no heading can start
    assert html_text(SCRIPT).startswith("&lt;/script&gt;&lt;script&gt;")


def test_front_matter_cannot_gain_a_key(tmp_path):
    name = _include(tmp_path / "secret")
    front = yaml.safe_load(front_matter(name).strip("-\n"))
    assert set(front) == {"title"}
    assert unescape_markdown(front["title"]) == " ".join(name.split())


@pytest.mark.parametrize("kind", ["script", "quoted", "include"])
def test_hostile_names_in_the_files_written_for_quarto(tmp_path, kind):
    secret = tmp_path / ".cpanalysis_key"
    secret.write_text(SECRET, "utf-8")
    name = {"script": SCRIPT, "quoted": QUOTED, "include": _include(secret)}[kind]
    project = tmp_path / "project"
    _write(project, name, file_name=f"2025/{SCRIPT}.csv")
    shown = " ".join(name.split())
    pages = sorted(project.glob("*.qmd"))
    assert [p.name for p in pages] == [
        "about.qmd", "data_quality.qmd", "downloads.qmd", "index.qmd", "methodology.qmd"
    ]  # fmt: skip
    for page in pages:
        front, body = _front_and_body(page)
        assert set(front) <= {"title", "page-layout"}, page.name
        markdown = _markdown_parts(body)
        assert "<script" not in markdown and "<img" not in markdown, page.name
        for block in re.findall(r"```\{=html\}\n(.*?)\n```", body, re.S):
            assert "<script" not in block and "<img" not in block, page.name
    index_front, _ = _front_and_body(project / "index.qmd")
    assert unescape_markdown(index_front["title"]) == f"{shown}: corporate parenting scorecard"
    _, about_body = _front_and_body(project / "about.qmd")
    assert f"{shown}'s own SSDA903 returns" in unescape_markdown(about_body)
    quarto = yaml.safe_load((project / "_quarto.yml").read_text("utf-8"))
    template = yaml.safe_load((ROOT / "_quarto.yml").read_text("utf-8"))
    assert _includes(quarto) == _includes(template)  # only the banner, as in the template
    footer = unescape_markdown(quarto["website"]["page-footer"]["center"])
    assert footer.startswith(f"Built on {shown}'s SSDA903 returns")


@pytest.mark.parametrize("kind", ["script", "quoted", "include"])
def test_hostile_names_render_as_text_with_smalldocs(tmp_path, kind):
    secret = tmp_path / ".cpanalysis_key"
    secret.write_text(SECRET, "utf-8")
    name = {"script": SCRIPT, "quoted": QUOTED, "include": _include(secret)}[kind]
    project = tmp_path / "project"
    _write(project, name, file_name=f"2025/{SCRIPT}.csv")
    site = render_project(project, "smalldocs").site_dir
    shown = " ".join(name.split())
    pages = sorted(site.glob("*.html"))
    assert len(pages) == 5
    for page in pages:
        text = page.read_text("utf-8")
        assert SECRET not in text, page.name
        parser = _Scripts()
        parser.feed(text)
        assert not [s for s in parser.scripts if "alert(" in s], page.name
        assert parser.handlers == [], page.name
        seen = " ".join(" ".join(parser.text).split())
        # the footer (every page) shows the name as the characters it is
        assert f"Built on {shown}'s SSDA903 returns" in seen.replace("’", "'"), page.name
    index = _Scripts()
    index.feed((site / "index.html").read_text("utf-8"))
    assert f"{shown}: corporate parenting scorecard" in " ".join(index.text)


def test_council_name_in_a_notebook_note_is_text():
    council = CouncilAnalysis(
        data=SimpleNamespace(is_demo=False),
        council=SCRIPT,
        measures=_measures(),
        comparators=pd.DataFrame(),
        threshold=5,
        horizon=3,
    )
    note = council.data_note().data
    assert "<script" not in note and "<img" not in note
    assert unescape_markdown(note).startswith(f"This page shows {SCRIPT}, collection years")


def test_validator_unavailable_reason_is_text():
    from cpanalysis.validation.page import validation_section

    page = validation_section({"unavailable": f"cannot read {SCRIPT}.csv"}, None)
    assert "<script" not in page and "<img" not in page
    assert f"cannot read {SCRIPT}.csv" in unescape_markdown(page)
