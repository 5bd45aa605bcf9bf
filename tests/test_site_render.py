"""Rendering: Quarto's CDN shims are removed, a page that would go online is refused, and
the fixes that make the site work from ``file://`` (shared vega bundle, search index as a
script, Quarto's module scripts made classic) do what they say on pages of Quarto's shape."""

from __future__ import annotations

import pytest

from cpanalysis.errors import BuildError
from cpanalysis.site.render import (
    SKIP_LINK,
    accessible_pages,
    check_offline,
    classic_module_scripts,
    share_vega_bundle,
    ship_search_index,
    strip_cdn_shims,
)

# what Quarto writes into the head of a notebook page with HTML outputs
QUARTO_HEAD = (
    '<head><script src="https://cdn.jsdelivr.net/npm/requirejs@2.3.6/require.min.js" '
    'integrity="sha384-x" crossorigin="anonymous"></script>\n'
    '<script src="https://cdn.jsdelivr.net/npm/jquery@3.5.1/dist/jquery.min.js" '
    'integrity="sha384-y" crossorigin="anonymous" data-relocate-top="true"></script>\n'
    "<script type=\"application/javascript\">define('jquery', [],function() "
    "{return window.jQuery;})</script>\n"
    '<script src="site_libs/quarto.js"></script></head>'
)


def test_quarto_shims_are_stripped_and_local_scripts_kept(tmp_path):
    (tmp_path / "page.html").write_text(QUARTO_HEAD, encoding="utf-8")
    assert strip_cdn_shims(tmp_path) == 1
    assert (tmp_path / "page.html").read_text("utf-8") == (
        '<head><script src="site_libs/quarto.js"></script></head>'
    )
    check_offline(tmp_path)


def test_unstripped_page_is_refused(tmp_path):
    (tmp_path / "page.html").write_text(QUARTO_HEAD, encoding="utf-8")
    with pytest.raises(BuildError, match=r"page.html would load https://cdn.jsdelivr.net/"):
        check_offline(tmp_path)


@pytest.mark.parametrize(
    "html",
    [
        '<link rel="stylesheet" href="https://fonts.googleapis.com/css?family=Lato">',
        '<img src="//tiles.example.org/1.png">',
    ],
)
def test_fetches_from_other_hosts_are_refused(tmp_path, html):
    (tmp_path / "p.html").write_text(html, encoding="utf-8")
    with pytest.raises(BuildError, match="must work offline"):
        check_offline(tmp_path)


def test_links_a_reader_clicks_are_fine(tmp_path):
    (tmp_path / "p.html").write_text(
        '<a href="https://explore-education-statistics.service.gov.uk/">DfE</a>'
        '<link rel="canonical" href="https://example.org/p.html">',
        encoding="utf-8",
    )
    check_offline(tmp_path)


def test_stylesheet_importing_a_web_font_is_refused(tmp_path):
    (tmp_path / "theme.css").write_text(
        '@import url("https://fonts.googleapis.com/css2?family=Lato");', "utf-8"
    )
    with pytest.raises(BuildError, match="theme.css imports"):
        check_offline(tmp_path)


# ----------------------------------------------------- file:// fixes after rendering

BUNDLE_CODE = 'if (typeof window.vegaEmbed === "undefined") {window.vegaEmbed = 1;}'


def _chart_page(title: str) -> str:
    return (
        f"<html><head><title>{title}</title></head><body><h1>{title}</h1>"
        f"<script data-cpa-bundle>\n{BUNDLE_CODE}\n</script>\n"
        '<div id="cpa-chart-1" class="cpa-chart"></div><script>draw(1)</script>'
        "</body></html>"
    )


def test_vega_bundle_is_one_shared_classic_script(tmp_path):
    (tmp_path / "overview.html").write_text(_chart_page("Overview"), "utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "deep.html").write_text(_chart_page("Deep"), "utf-8")
    (tmp_path / "about.html").write_text("<html><body>no charts</body></html>", "utf-8")
    (written,) = share_vega_bundle(tmp_path)
    assert written.parent == tmp_path / "site_libs" / "cpanalysis"
    assert written.read_text("utf-8") == BUNDLE_CODE + "\n"
    rel = written.relative_to(tmp_path).as_posix()
    top = (tmp_path / "overview.html").read_text("utf-8")
    deep = (tmp_path / "sub" / "deep.html").read_text("utf-8")
    assert BUNDLE_CODE not in top and BUNDLE_CODE not in deep
    # a classic script (no type="module", no async): it runs before the chart after it
    assert f'<script src="{rel}"></script>\n<div id="cpa-chart-1"' in top
    assert f'<script src="../{rel}"></script>' in deep
    assert (tmp_path / "about.html").read_text("utf-8") == "<html><body>no charts</body></html>"
    # a second pass changes nothing
    assert share_vega_bundle(tmp_path) == []
    assert (tmp_path / "overview.html").read_text("utf-8") == top


SEARCH_INDEX = [{"href": "index.html", "title": "Scorecard", "text": "Placement moves \u2028"}]
# the file:// test quarto-search.js makes before it fetches search.json
QUARTO_SEARCH_JS = """async function readSearchData() {
  if (window.location.protocol === "file:" && !shownWarning) {
    window.alert("Search requires JavaScript features disabled when running in file://...");
    shownWarning = true;
    return;
  }
  const response = await fetch(offsetURL("search.json"));
}
"""


def test_search_index_is_shipped_as_a_script_on_every_page(tmp_path):
    import json

    (tmp_path / "search.json").write_text(json.dumps(SEARCH_INDEX), "utf-8")
    (tmp_path / "index.html").write_text("<html><head><title>S</title></head></html>", "utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "p.html").write_text("<html><head></head><body></body></html>", "utf-8")
    search_js = tmp_path / "site_libs" / "quarto-search" / "quarto-search.js"
    search_js.parent.mkdir(parents=True)
    search_js.write_text(QUARTO_SEARCH_JS, "utf-8")
    script = ship_search_index(tmp_path)
    assert script == tmp_path / "site_libs" / "cpanalysis" / "search-index.js"
    code = script.read_text("utf-8")
    assert '"title":"Scorecard"' in code and "\\u2028" in code and "\u2028" not in code
    assert 'window.location.protocol !== "file:"' in code  # served over http: untouched
    index = (tmp_path / "index.html").read_text("utf-8")
    assert index.endswith(
        '<script src="site_libs/cpanalysis/search-index.js"></script></head></html>'
    )
    assert '<script src="../site_libs/cpanalysis/search-index.js">' in (
        tmp_path / "sub" / "p.html"
    ).read_text("utf-8")
    patched = search_js.read_text("utf-8")
    assert 'protocol === "file:"' not in patched and "if (false /* cpanalysis" in patched
    assert 'fetch(offsetURL("search.json"))' in patched
    # idempotent: no second tag
    ship_search_index(tmp_path)
    assert (tmp_path / "index.html").read_text("utf-8") == index


def test_no_search_index_no_script(tmp_path):
    (tmp_path / "index.html").write_text("<html><head></head></html>", "utf-8")
    assert ship_search_index(tmp_path) is None
    assert not (tmp_path / "site_libs").exists()


# exactly the shape Quarto 1.7 writes: both scripts as modules, quarto.js importing tabsets
QUARTO_PAGE = (
    '<html><head><script src="site_libs/quarto-nav/quarto-nav.js"></script>\n'
    '<script src="site_libs/quarto-html/quarto.js" type="module"></script>\n'
    '<script src="site_libs/quarto-html/tabsets/tabsets.js" type="module"></script>\n'
    "</head><body></body></html>"
)
QUARTO_JS = (
    'import * as tabsets from "./tabsets/tabsets.js";\n'
    "const sectionChanged = 1;\n"
    'window.document.addEventListener("DOMContentLoaded", function () {\n'
    "  tabsets.init();\n"
    "});\n"
)
TABSETS_JS = (
    "const tabsetsKey = 'quarto-persistent-tabsets-data';\n"
    "export function init() {\n"
    '  document.body.setAttribute("data-tabsets", tabsetsKey);\n'
    "}\n"
)


def quarto_site(root):
    """A site folder of the shape Quarto 1.7 writes (for the module rewrite)."""
    libs = root / "site_libs" / "quarto-html"
    (libs / "tabsets").mkdir(parents=True)
    (libs / "quarto.js").write_text(QUARTO_JS, "utf-8")
    (libs / "tabsets" / "tabsets.js").write_text(TABSETS_JS, "utf-8")
    (root / "site_libs" / "quarto-nav").mkdir()
    (root / "site_libs" / "quarto-nav" / "quarto-nav.js").write_text("var nav = 1;\n", "utf-8")
    (root / "index.html").write_text(QUARTO_PAGE, "utf-8")
    (root / "sub").mkdir()
    (root / "sub" / "page.html").write_text(
        QUARTO_PAGE.replace('src="site_libs/', 'src="../site_libs/'), "utf-8"
    )
    return root


def test_quarto_module_scripts_become_one_deferred_classic_script(tmp_path):
    site = quarto_site(tmp_path)
    assert classic_module_scripts(site) == 2
    page = (site / "index.html").read_text("utf-8")
    assert 'type="module"' not in page
    assert '<script src="site_libs/quarto-html/quarto.js" defer></script>' in page
    assert "tabsets.js" not in page  # its code is inside quarto.js now
    assert '<script src="site_libs/quarto-nav/quarto-nav.js"></script>' in page
    sub = (site / "sub" / "page.html").read_text("utf-8")
    assert '<script src="../site_libs/quarto-html/quarto.js" defer></script>' in sub
    code = (site / "site_libs" / "quarto-html" / "quarto.js").read_text("utf-8")
    assert "import" not in code and "export" not in code
    assert code.splitlines()[1:3] == ["(function () {", '"use strict";']
    assert "const tabsets = (function () {" in code
    assert "return { init: init };" in code
    assert code.rstrip().endswith("})();")
    # a second pass leaves everything as it is
    assert classic_module_scripts(site) == 0
    assert (site / "site_libs" / "quarto-html" / "quarto.js").read_text("utf-8") == code


def test_module_forms_the_rewrite_does_not_know_fail_the_build(tmp_path):
    site = quarto_site(tmp_path)
    (site / "site_libs" / "quarto-html" / "quarto.js").write_text(
        'import { init } from "./tabsets/tabsets.js";\ninit();\n', "utf-8"
    )
    with pytest.raises(BuildError, match="quarto.js: an import form the file:// rewrite"):
        classic_module_scripts(site)


def test_smalldocs_pages_have_no_modules_to_rewrite(tmp_path):
    page = '<html><head><script src="site_libs/smalldocs.js" defer></script></head></html>'
    (tmp_path / "index.html").write_text(page, "utf-8")
    assert classic_module_scripts(tmp_path) == 0
    assert (tmp_path / "index.html").read_text("utf-8") == page


def test_pages_get_a_skip_link_a_named_navbar_and_tables_that_scroll(tmp_path):
    page = (
        '<html><body class="nav-fixed"><div class="cp-data-banner">DEMO</div>'
        '<header id="quarto-header"><nav class="navbar navbar-expand-lg">menu</nav></header>'
        '<nav id="TOC" role="doc-toc">toc</nav>'
        '<main class="content" id="quarto-document-content">'
        '<table class="cp-table"><caption>Scorecard: <b>this</b> year &amp; last</caption>'
        "<tr><td>1</td></tr></table><table><tr><td>2</td></tr></table></main></body></html>"
    )
    (tmp_path / "index.html").write_text(page, "utf-8")
    assert accessible_pages(tmp_path) == 1
    out = (tmp_path / "index.html").read_text("utf-8")
    # the skip link comes first in the body and points at the main content
    assert out.startswith(f'<html><body class="nav-fixed">{SKIP_LINK}<div class="cp-data-banner">')
    assert 'href="#quarto-document-content"' in SKIP_LINK
    assert '<nav aria-label="Site" class="navbar navbar-expand-lg">' in out
    assert '<nav id="TOC" role="doc-toc">' in out  # the table of contents is left alone
    # each table in a keyboard-scrollable box named by its caption
    assert (
        '<div class="cp-scroll" role="region" tabindex="0" '
        'aria-label="Table: Scorecard: this year &amp; last"><table class="cp-table">'
    ) in out
    assert '<div class="cp-scroll" role="region" tabindex="0" aria-label="Table"><table>' in out
    assert out.count("</table></div>") == 2
    # a second pass changes nothing
    assert accessible_pages(tmp_path) == 0


def test_a_page_without_main_content_gets_no_skip_link(tmp_path):
    (tmp_path / "p.html").write_text("<html><body><p>x</p></body></html>", "utf-8")
    assert accessible_pages(tmp_path) == 0
