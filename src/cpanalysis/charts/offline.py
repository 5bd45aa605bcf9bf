"""Draw Altair charts with no network: the vega libraries and a small runtime, once per page.

Why: Altair's default renderer loads vega, vega-lite and vega-embed from a CDN, so on a
council network, or in a page e-mailed to a committee member, every chart shows "Error
loading script". Altair's ``html`` renderer with ``template="inline"`` draws only the first
chart of a page (the second fails with ``Identifier 'spec' has already been declared``).

This renderer therefore emits, per chart, a ``<div>`` and one ``<script>``:

* the **first** chart of a page (a notebook kernel, or :func:`page_html`) also carries
  ``vl_convert.javascript_bundle()`` (vega + vega-lite + vega-embed, ~0.9 MB) and the chart
  runtime (``site_assets/charts.js``), in one ``<script data-cpa-bundle>``, run inside a
  function scope and guarded by ``typeof window.vegaEmbed`` so a second copy (a re-run cell
  after a kernel restart) neither re-declares nor re-loads anything. The site build moves
  that script into one file in ``site_libs`` (:func:`cpanalysis.site.render.share_vega_bundle`),
  so a page carries only its own charts;
* every chart's script waits until the runtime exists, then draws with the SVG renderer
  (crisp, and checkable in a browser test as ``.vega-embed svg.marks``) and with only the
  export actions (vega-embed's "Open in Vega Editor" would send the data to an external
  site);
* the runtime fits each chart to its column (container width; title, legend and long
  labels laid out again on a phone), puts the dropdowns in the chart's own controls box
  outside the picture, and gives only the drawn picture ``role="img"``, named by the title
  as drawn (it follows the year or group a reader chooses);
* div ids come from a counter (``cpa-chart-1``, ``cpa-chart-2``, ...), not a random uuid,
  so the same notebook run twice gives byte-identical HTML (``pytest --nbval`` and the
  site's change detection rely on that).

Scripts in one HTML page run in document order, so the first output carrying the bundle is
enough for a rendered notebook; the wait loop covers JupyterLab, where outputs can be
re-rendered in another order.
"""

from __future__ import annotations

import html
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import altair as alt

__all__ = [
    "RENDERER_NAME",
    "EMBED_OPTIONS",
    "javascript_bundle",
    "bundle_script",
    "chart_runtime",
    "BUNDLE_ATTRIBUTE",
    "chart_html",
    "page_html",
    "reset_page",
    "offline_renderer",
    "use_offline_renderer",
    "to_svg",
]

RENDERER_NAME = "cpanalysis_offline"
ID_PREFIX = "cpa-chart-"
#: marks the one script of a page that defines vegaEmbed (the site build moves it to a file)
BUNDLE_ATTRIBUTE = "data-cpa-bundle"
#: the bundle's last statement (vl-convert 1.x), used to recognise a complete cached copy
_BUNDLE_END = "window.vegaLite=__default1;"

#: vega-embed options: SVG output; export to PNG/SVG only (a data URL, no network).
EMBED_OPTIONS: dict[str, Any] = {
    "renderer": "svg",
    "actions": {"export": True, "source": False, "compiled": False, "editor": False},
}


@dataclass
class _PageState:
    """What the current page (kernel, or one :func:`page_html` call) has already emitted."""

    charts: int = 0
    bundle_emitted: bool = False


_PAGE = _PageState()


def _cache_dir() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "cpanalysis"


@cache
def javascript_bundle() -> str:
    """The vega + vega-lite + vega-embed bundle shipped inside the vl-convert wheel.

    vl-convert assembles the bundle on each call, which takes seconds; every notebook's
    first chart needs it, so it is kept in memory and in the user's cache folder
    (``$XDG_CACHE_HOME/cpanalysis``, else ``~/.cache/cpanalysis``), one file per
    vl-convert version. A cache that cannot be read or written is simply skipped.

    Returns
    -------
    str
        JavaScript (~0.9 MB) that defines ``window.vegaEmbed``, ``window.vega`` and
        ``window.vegaLite``.

    Examples
    --------
    >>> "window.vegaEmbed" in javascript_bundle()
    True
    """
    import vl_convert

    cached = _cache_dir() / f"vega-bundle-vl-convert-{vl_convert.__version__}.js"
    try:
        code = cached.read_text(encoding="utf-8")
        if code.rstrip().endswith(_BUNDLE_END):  # a whole file, not a half-written one
            return code
    except OSError:
        pass
    code = vl_convert.javascript_bundle()
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(code, encoding="utf-8")
        partial.replace(cached)  # atomic: a parallel notebook never reads half a file
    except OSError:
        pass
    return code


def _json_script_safe(text: str) -> str:
    # "</script" or "<!--" inside a JSON string would end or confuse the inline script;
    # "\/" and "\!" read back as "/" and "!" in a JavaScript string literal
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


def _bundle_script_safe(code: str) -> str:
    # Code, not JSON: a blanket "</" replacement would corrupt regex literals such as
    # /</g, so only the sequence that ends an inline script is escaped (absent in 1.9).
    return re.sub(r"</(script)", r"<\\/\1", code, flags=re.IGNORECASE)


@cache
def chart_runtime() -> str:
    """The chart runtime (``site_assets/charts.js``): fits, names and redraws each chart.

    Examples
    --------
    >>> "window.cpaChart" in chart_runtime()
    True
    """
    return resources.files("cpanalysis.site_assets").joinpath("charts.js").read_text("utf-8")


def bundle_script() -> str:
    """The ``<script>`` defining vegaEmbed and the runtime once per page, whatever copies run.

    The bundle declares top-level ``const`` names; wrapping it in a function keeps them out
    of the global scope, so a second copy on the page cannot clash with the first.

    Examples
    --------
    >>> s = bundle_script()
    >>> s.startswith("<script data-cpa-bundle>") and "typeof window.vegaEmbed" in s
    True
    """
    return (
        f"<script {BUNDLE_ATTRIBUTE}>\n"
        'if (typeof window.vegaEmbed === "undefined") {\n'
        "(function () {\n"
        f"{_bundle_script_safe(javascript_bundle())}\n"
        "})();\n"
        "}\n"
        f"{_bundle_script_safe(chart_runtime())}\n"
        "</script>"
    )


def _spec_of(chart: alt.TopLevelMixin | dict[str, Any]) -> dict[str, Any]:
    return chart if isinstance(chart, dict) else chart.to_dict()


def _lines_text(text: Any) -> str:
    if isinstance(text, list):
        return " ".join(str(t) for t in text)
    return str(text) if text else ""


def _title_text(spec: dict[str, Any]) -> str:
    """The chart's title as one line: its accessible name before the runtime has drawn it.

    A title that follows a dropdown (``{"expr": "year_title[year]"}``) is looked up in its
    parameters, for the choice shown first.
    """
    title = spec.get("title")
    if isinstance(title, dict):
        title = title.get("text")
    if isinstance(title, dict) and isinstance(title.get("expr"), str):
        found = re.fullmatch(r"\s*(\w+)\[(\w+)\]\s*", title["expr"])
        params = {p.get("name"): p.get("value") for p in spec.get("params", [])}
        titles = params.get(found.group(1)) if found else None
        choice = params.get(found.group(2)) if found else None
        title = titles.get(choice) if isinstance(titles, dict) else None
    return _lines_text(title) or "Chart"


def _draw_script(div_id: str, spec: dict[str, Any]) -> str:
    # sort_keys + fixed separators: the same spec always gives the same bytes
    spec_json = _json_script_safe(json.dumps(spec, sort_keys=True, separators=(",", ":")))
    opts_json = json.dumps(EMBED_OPTIONS, sort_keys=True, separators=(",", ":"))
    return (
        "<script>\n"
        "(function () {\n"
        f'  var id = "{div_id}";\n'
        f"  var spec = {spec_json};\n"
        f"  var opts = {opts_json};\n"
        "  var me = document.currentScript;\n"
        "  var prev = me && me.previousElementSibling;\n"
        "  var all = document.querySelectorAll('[id=\"' + id + '\"]');\n"
        "  var el = prev && prev.id === id ? prev : all[all.length - 1];\n"
        "  var tries = 0;\n"
        "  function draw() {\n"
        '    if (typeof window.cpaChart === "function") {\n'
        "      window.cpaChart(el, spec, opts).catch(function (err) {\n"
        '        el.querySelector(".cpa-chart-view").textContent = '
        '"This chart could not be drawn: " + err;\n'
        "      });\n"
        "    } else if (tries++ < 200) {\n"
        "      setTimeout(draw, 50);\n"
        "    } else {\n"
        '      el.querySelector(".cpa-chart-view").textContent = "The chart library did not '
        'load: re-run the first chart cell of this notebook.";\n'
        "    }\n"
        "  }\n"
        "  draw();\n"
        "})();\n"
        "</script>"
    )


def chart_html(
    chart: alt.TopLevelMixin | dict[str, Any], *, include_bundle: bool | None = None
) -> str:
    """The HTML fragment that draws one chart offline, advancing the page's chart counter.

    Parameters
    ----------
    chart : altair chart or dict
        The chart, or its Vega-Lite spec (``chart.to_dict()``).
    include_bundle : bool, optional
        Force the vega bundle in (True) or out (False). By default it is included only in the
        first chart of the page (see :func:`reset_page`).

    Returns
    -------
    str
        ``<div id="cpa-chart-N" class="cpa-chart">`` holding the picture (``role="img"``,
        named by the title) and a box for its dropdowns, followed by the scripts.

    Examples
    --------
    >>> reset_page(); html = chart_html(alt.Chart().mark_point())
    >>> 'id="cpa-chart-1"' in html
    True
    """
    spec = _spec_of(chart)
    _PAGE.charts += 1
    div_id = f"{ID_PREFIX}{_PAGE.charts}"
    if include_bundle is None:
        include_bundle = not _PAGE.bundle_emitted
    parts = []
    if include_bundle:
        parts.append(bundle_script())
        _PAGE.bundle_emitted = True
    label = html.escape(_title_text(spec), quote=True)
    parts.append(
        f'<div id="{div_id}" class="cpa-chart" data-label="{label}">'
        f'<div class="cpa-chart-view" role="img" aria-label="{label}"></div>'
        '<div class="cpa-chart-controls"></div></div>'
    )
    parts.append(_draw_script(div_id, spec))
    return "\n".join(parts)


def reset_page() -> None:
    """Start a new page: the next chart gets id ``cpa-chart-1`` and carries the bundle again.

    Call it when the HTML that follows goes to a different page (a new notebook run does
    this implicitly: a fresh kernel starts with a fresh counter).

    Examples
    --------
    >>> reset_page(); 'id="cpa-chart-1"' in chart_html(alt.Chart().mark_point())
    True
    """
    _PAGE.charts = 0
    _PAGE.bundle_emitted = False


def page_html(charts: Iterable[alt.TopLevelMixin | dict[str, Any]], *, title: str = "") -> str:
    """A complete, self-contained HTML page drawing the charts with no network.

    Starts a new page (:func:`reset_page`), so the result depends only on the charts.

    Examples
    --------
    >>> page = page_html([alt.Chart().mark_point()], title="Demo")
    >>> page.count("window.vegaEmbed=") == 1
    True
    """
    reset_page()
    body = "\n".join(chart_html(c) for c in charts)
    reset_page()
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def offline_renderer(spec: dict[str, Any], **metadata: Any) -> dict[str, str]:
    """Altair renderer: a Jupyter mimebundle with offline ``text/html`` and ``text/plain``.

    ``text/plain`` names the chart for consoles and for readers that cannot run scripts.

    Examples
    --------
    >>> bundle = offline_renderer(alt.Chart().mark_point().to_dict())
    >>> sorted(bundle)
    ['text/html', 'text/plain']
    """
    return {
        "text/html": chart_html(spec),
        "text/plain": f"<Chart: {_title_text(spec)}>",
    }


alt.renderers.register(RENDERER_NAME, offline_renderer)


def use_offline_renderer() -> None:
    """Make Altair draw every chart offline (done on ``import cpanalysis.charts``).

    Examples
    --------
    >>> use_offline_renderer(); alt.renderers.active
    'cpanalysis_offline'
    """
    alt.renderers.enable(RENDERER_NAME)


def to_svg(chart: alt.TopLevelMixin | dict[str, Any]) -> str:
    """A static SVG of the chart, drawn by vl-convert in-process (no browser, no network).

    For thumbnails, tests and documents that cannot run scripts; it has no tooltips.

    Examples
    --------
    >>> svg = to_svg(alt.Chart().mark_point().properties(title="Hello"))
    >>> svg.startswith("<svg") and "Hello" in svg
    True
    """
    import vl_convert

    return vl_convert.vegalite_to_svg(_spec_of(chart))
