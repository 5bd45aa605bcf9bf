"""Open the built demo site in headless Chromium as its readers would.

Served and from ``file://`` (a file share), on a laptop (1366x768) and a phone (390x844):
no errors, no outside request, every chart drawn and within its column, no page that
scrolls sideways, search that finds things from ``file://``, axe-core (WCAG 2.0-2.2 A and
AA rules) with no serious or critical violation, every page under 400 kB of HTML, the
scorecard on at most two A4 pages in print, and Quarto 1.7's module scripts working from
``file://`` once rewritten (on fixture pages of exactly the shape Quarto writes, as Quarto
cannot be installed here). With ``CPANALYSIS_SCREENSHOTS=1`` (``make screenshots``),
screenshots of every page at both sizes go to ``_build/screenshots`` for a person to look
at, beside the printed scorecard (always kept): a full-page picture is a second of
Chromium's time per page that no assertion reads, so the plain test run takes none.

Uses Debian's Chromium (``/usr/bin/chromium``) through Playwright; ``make browser`` (part of
``make test``) installs it. Never ``playwright install``: it downloads a browser and fails
offline. axe-core comes inside the ``axe-playwright-python`` wheel (a test dependency).
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from site_fixtures import SITE_PAGES, demo_site
from test_site_render import quarto_site

from cpanalysis.site.render import make_portable

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: Where the screenshots are kept for a person to look at.
SHOTS = Path(__file__).resolve().parents[1] / "_build" / "screenshots"
#: Take them (``make screenshots``); off in the plain test run.
SCREENSHOTS = os.environ.get("CPANALYSIS_SCREENSHOTS", "") not in ("", "0")


def _shoot(page, file_name: str) -> None:
    """A full-page screenshot into :data:`SHOTS`, when :data:`SCREENSHOTS` asks for it."""
    if SCREENSHOTS:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / file_name), full_page=True)


pytestmark = pytest.mark.browser


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep pytest's output clean
        pass


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The demo site served on 127.0.0.1 (a free port) for the module."""
    built = demo_site(tmp_path_factory)
    handler = functools.partial(_Quiet, directory=str(built.site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


#: Pages kept open, one per window size, and taken from one site page to the next by the
#: tests that only read what they open: a new page is a new Chromium renderer, about 0.6 s
#: of CPU, a third of what opening and drawing a page costs. The other tests (which click,
#: type or print) open pages of their own and close them.
_tabs: dict[tuple[int, int], Any] = {}
#: The listeners of the test that last used each kept page (taken off by the next).
_watching: dict[Any, list[tuple[str, Callable]]] = {}
#: What the sideways test saw loading a page (page, errors, outside requests), for the axe
#: test of the same page and size, which runs next on the same worker (tests/conftest.py
#: schedules the two together) and checks the same load instead of drawing it again.
_opened: dict[tuple[str, str], tuple] = {}


def _page(browser, viewport: dict, reuse: bool):
    """A new page, or (``reuse``) the kept page of this window size."""
    if not reuse:
        return browser.new_page(viewport=viewport)
    key = (viewport["width"], viewport["height"])
    page = _tabs.get(key)
    if page is None or page.is_closed():
        page = _tabs[key] = browser.new_page(viewport=viewport)
    return page


def _watch(page, handlers: dict[str, Callable]) -> None:
    """Listen to ``page`` with these handlers; on a kept page, the last test's come off."""
    kept = page in _tabs.values()
    for event, handler in _watching.pop(page, []) if kept else []:
        page.remove_listener(event, handler)
    for event, handler in handlers.items():
        page.on(event, handler)
    if kept:
        _watching[page] = list(handlers.items())


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}: run `make browser` "
            "(apt-get install -y chromium) and run the tests again"
        )
    from playwright.sync_api import sync_playwright

    # Playwright gives each launch a fresh, empty profile (its own --user-data-dir)
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        _opened.clear()
        _tabs.clear()
        _watching.clear()
        chromium.close()


def _open(browser, url: str, reuse: bool = False):
    """Open a page; return (page, page errors, outside requests)."""
    page = _page(browser, {"width": 1280, "height": 900}, reuse)
    errors: list[str] = []
    outside: list[str] = []

    def record(request) -> None:
        parsed = urlparse(request.url)
        if parsed.scheme in ("http", "https") and parsed.hostname != "127.0.0.1":
            outside.append(request.url)

    _watch(page, {"pageerror": lambda exc: errors.append(str(exc)), "request": record})
    response = page.goto(url, wait_until="load")
    assert response is not None and response.status == 200, url
    return page, errors, outside


@pytest.mark.parametrize("name", SITE_PAGES)
def test_page_loads_offline_and_draws_its_charts(browser, served, name):
    page, errors, outside = _open(browser, served + name, reuse=True)
    charts = page.locator(".cpa-chart").count()
    if charts:
        page.wait_for_function(
            "n => document.querySelectorAll("
            "'.vega-embed svg.marks, .vega-embed canvas.marks').length >= n",
            arg=charts,
            timeout=20_000,
        )
    drawn = page.locator(".vega-embed svg.marks, .vega-embed canvas.marks").count()
    assert drawn >= charts
    assert errors == [], f"{name}: page errors {errors}"
    assert outside == [], f"{name}: requests to other hosts {outside}"
    assert page.title()
    assert "DEMO DATA" in page.locator(".cp-data-banner").inner_text()
    if name in ("index.html", "overview.html"):
        _shoot(page, name.replace(".html", ".png"))


def test_navbar_links_all_work(browser, served):
    page, errors, outside = _open(browser, served + "index.html")
    try:
        # the "About these figures" menu opens on a click and lists the reference pages
        page.click("#quarto-header a.dropdown-toggle")
        assert page.is_visible("#quarto-header a.dropdown-item")
        hrefs = page.eval_on_selector_all(
            "#quarto-header a.nav-link:not(.dropdown-toggle), #quarto-header a.dropdown-item",
            "els => els.map(e => e.href)",
        )
        assert len(hrefs) == len(SITE_PAGES)
        # each link is fetched, not drawn: every page is opened and drawn by the test above
        for href in hrefs:
            response = page.request.get(href)
            assert response.status == 200, href
            title = re.search(r"<title>(.*?)</title>", response.text(), re.S)
            assert title and title.group(1).strip(), href
        assert errors == []
        assert outside == []
    finally:
        page.close()


# ---------------------------------------------------------------- as the readers open it

LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
SIZES = {"laptop": LAPTOP, "phone": PHONE}
#: every WCAG 2.0, 2.1 and 2.2 rule at levels A and AA
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]},
    "resultTypes": ["violations"],
    # axe would re-read the stylesheets with XMLHttpRequest, which file:// refuses (and
    # logs as console errors); the styles the browser applied are what it checks anyway
    "preload": False,
}
MAX_HTML_BYTES = 400_000


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    return demo_site(tmp_path_factory).site


def _open_file(browser, path: Path, viewport: dict, reuse: bool = False):
    """Open a page from file:// (as from a file share); return (page, console errors, outside).

    ``reuse``: in the kept page of this window size (for a test that only reads the page).
    """
    page = _page(browser, viewport, reuse)
    errors: list[str] = []
    outside: list[str] = []
    _watch(
        page,
        {
            "pageerror": lambda exc: errors.append(str(exc)),
            "console": lambda msg: errors.append(msg.text) if msg.type == "error" else None,
            "request": lambda req: (
                outside.append(req.url) if not req.url.startswith(("file:", "data:")) else None
            ),
        },
    )
    page.goto(path.as_uri(), wait_until="load")
    charts = page.locator(".cpa-chart").count()
    if charts:
        # drawn and named: the runtime names each chart once vega has drawn it, and then
        # hides the marks inside the picture (before, a fixed 200 ms wait stood for this)
        page.wait_for_function(
            "n => document.querySelectorAll("
            "'.cpa-chart svg.marks[aria-hidden=\"true\"]').length >= n",
            arg=charts,
            timeout=20_000,
        )
    return page, errors, outside


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", SITE_PAGES)
def test_no_page_scrolls_sideways_and_every_chart_fits(browser, site, name, size):
    # the laptop too: a navbar with one page more once pushed every page 102 px sideways
    page, errors, outside = _open_file(browser, site / name, SIZES[size], reuse=True)
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{name}: the page scrolls {overflow} px sideways ({size})"
    too_wide = page.evaluate(
        """() => [...document.querySelectorAll('.cpa-chart')].map(c => {
             const drawn = c.querySelector('svg.marks').getBoundingClientRect();
             const box = c.parentElement.getBoundingClientRect();
             return [c.id, Math.round(drawn.left - box.left),
                     Math.round(drawn.right - box.right)];
           }).filter(([, left, right]) => left < -1 || right > 1)"""
    )
    assert too_wide == [], f"{name}: charts drawn outside their column {too_wide}"
    # the dropdowns and the save menu are outside the picture, which has a name
    nested = page.evaluate(
        """() => [...document.querySelectorAll('.cpa-chart [role=img]')].filter(img =>
             img.querySelector('select, details, summary, a, button, input')
             || !img.getAttribute('aria-label')).length"""
    )
    assert nested == 0
    assert errors == []
    _opened[(name, size)] = (page, errors, outside)  # for the axe test, next


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", SITE_PAGES)
def test_every_page_passes_axe_from_file_with_no_error_or_outside_request(
    browser, site, name, size
):
    from axe_playwright_python.sync_playwright import Axe

    # the load the sideways test (just before) checked, still showing; else load it again
    kept = _opened.pop((name, size), None)
    if kept is None or kept[0].is_closed() or kept[0].url != (site / name).as_uri():
        kept = _open_file(browser, site / name, SIZES[size], reuse=True)
    page, errors, outside = kept
    assert errors == [], f"{name} ({size}): console errors {errors}"
    assert outside == [], f"{name} ({size}): requests leaving the site {outside}"
    found = Axe().run(page, options=AXE_OPTIONS).response["violations"]
    bad = [
        f"{v['id']} ({v['impact']}): {v['nodes'][0]['target']} {v['help']}"
        for v in found
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], f"{name} ({size}): {bad}"
    _shoot(page, f"{name[:-5]}-{size}.png")


def test_the_chart_title_and_its_name_follow_the_chosen_year(browser, site):
    page, errors, _ = _open_file(browser, site / "overview.html", LAPTOP)
    try:
        chart = page.locator(".cpa-chart:has(select[name=year])").first
        picture = chart.locator("[role=img]")
        shown = chart.locator("select[name=year]").input_value()
        first = picture.get_attribute("aria-label")
        assert shown in first
        other = next(y for y in chart.locator("option").all_inner_texts() if y != shown)
        chart.locator("select[name=year]").select_option(other)
        page.wait_for_function(
            "([el, y]) => el.getAttribute('aria-label').includes(y)",
            arg=[picture.element_handle(), other],
            timeout=5_000,
        )
        drawn = chart.locator("svg.marks .role-title-text").first.text_content()
        assert other in drawn and shown not in picture.get_attribute("aria-label")
        # no sentence about the menu is drawn into the picture (it would be in a saved PNG)
        assert "choose another" not in chart.locator("svg.marks").first.text_content()
        assert errors == []
    finally:
        page.close()


def test_search_from_file_shows_results(browser, site):
    page, errors, _ = _open_file(browser, site / "index.html", LAPTOP)
    try:
        box = page.locator("#quarto-search input, .smalldocs-search input").first
        box.click()
        box.press_sequentially("placement", delay=30)
        results = page.locator(".search-result")
        results.first.wait_for(state="visible", timeout=5_000)
        assert results.count() >= 1
        assert "placement" in results.first.inner_text().lower()
        assert errors == []
    finally:
        page.close()


def test_every_page_is_under_400_kb_and_the_vega_bundle_is_shared(site):
    sizes = {name: (site / name).stat().st_size for name in SITE_PAGES}
    assert all(size < MAX_HTML_BYTES for size in sizes.values()), sizes
    bundles = list((site / "site_libs" / "cpanalysis").glob("vega-*.js"))
    assert len(bundles) == 1 and "window.vegaEmbed" in bundles[0].read_text("utf-8")
    for name in SITE_PAGES:
        assert "window.vegaEmbed=" not in (site / name).read_text("utf-8"), name


def _pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf))


def test_the_printed_scorecard_fits_two_a4_pages_without_navigation(browser, site):
    page, errors, _ = _open_file(browser, site / "index.html", LAPTOP)
    try:
        page.emulate_media(media="print")
        hidden = page.evaluate(
            """() => ['#quarto-header', '.nav-footer', '.cp-skip-link', '.cp-download']
                 .flatMap(s => [...document.querySelectorAll(s)])
                 .filter(el => getComputedStyle(el).display !== 'none').length"""
        )
        assert hidden == 0, "navigation, links to download or buttons would print"
        # a mark keeps its meaning in black and white: the word, and a black border
        marks = page.evaluate(
            """() => [...document.querySelectorAll('.cp-rag')].map(el => {
                 const s = getComputedStyle(el);
                 return [el.textContent.trim(), s.color, s.borderTopColor, s.backgroundColor];
               })"""
        )
        assert marks, "the scorecard shows no marks"
        for word, colour, border, background in marks:
            assert word, "a mark with no word depends on colour alone"
            assert colour == border == "rgb(0, 0, 0)" and background == "rgba(0, 0, 0, 0)"
        pdf = page.pdf(format="A4", print_background=False)
        SHOTS.mkdir(parents=True, exist_ok=True)
        (SHOTS / "scorecard-print.pdf").write_bytes(pdf)
        assert 1 <= _pdf_pages(pdf) <= 2, f"the scorecard prints on {_pdf_pages(pdf)} A4 pages"
        assert errors == []
    finally:
        page.close()


# ------------------------------------------- Quarto 1.7's pages, made to work from file://


def test_quarto_pages_work_from_file_after_the_rewrite(browser, tmp_path):
    site = quarto_site(tmp_path)
    # what quarto-search.js does: refuse file://, then fetch search.json and show results
    search = site / "site_libs" / "quarto-search" / "quarto-search.js"
    search.parent.mkdir(parents=True)
    search.write_text(
        """
let shownWarning = false;
function offsetURL(url) { return url; }
async function readSearchData() {
  if (window.location.protocol === "file:" && !shownWarning) {
    window.alert("Search requires JavaScript features disabled when running in file://...");
    shownWarning = true;
    return;
  }
  const response = await fetch(offsetURL("search.json"));
  return response.json();
}
window.document.addEventListener("DOMContentLoaded", function () {
  readSearchData().then(function (docs) {
    document.getElementById("results").textContent = (docs || []).map(d => d.title).join("|");
  });
});
""",
        "utf-8",
    )
    (site / "search.json").write_text(
        json.dumps([{"objectID": "index.html", "title": "Placement stability"}]), "utf-8"
    )
    for page in (site / "index.html", site / "sub" / "page.html"):
        prefix = "../" if page.parent.name == "sub" else ""
        text = page.read_text("utf-8").replace(
            "</head>",
            f'<script src="{prefix}site_libs/quarto-search/quarto-search.js"></script></head>',
        )
        page.write_text(text.replace("<body>", '<body><div id="results"></div>'), "utf-8")
    make_portable(site)
    for page_path in (site / "index.html", site / "sub" / "page.html"):
        page, errors, outside = _open_file(browser, page_path, LAPTOP)
        try:
            page.wait_for_function("document.body.getAttribute('data-tabsets')", timeout=5_000)
            assert page.evaluate("document.body.getAttribute('data-tabsets')") == (
                "quarto-persistent-tabsets-data"
            )  # quarto.js ran, and called the tabsets code it imports
            page.wait_for_function("document.getElementById('results').textContent", timeout=5_000)
            assert page.locator("#results").inner_text() == "Placement stability"
            assert errors == [] and outside == []
        finally:
            page.close()
