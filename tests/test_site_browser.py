"""Open every page of the built demo site in headless Chromium: no errors, no outside
request, every chart drawn, every navbar link working.

Uses Debian's Chromium (``/usr/bin/chromium``) through Playwright; ``make browser`` (part of
``make test``) installs it. Never ``playwright install``: it downloads a browser and fails
offline.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest
from site_fixtures import SITE_PAGES, demo_site

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
        chromium.close()


def _open(browser, url: str):
    """Open a page; return (page, page errors, outside requests)."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    outside: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    def record(request) -> None:
        parsed = urlparse(request.url)
        if parsed.scheme in ("http", "https") and parsed.hostname != "127.0.0.1":
            outside.append(request.url)

    page.on("request", record)
    response = page.goto(url, wait_until="load")
    assert response is not None and response.status == 200, url
    return page, errors, outside


@pytest.mark.parametrize("name", SITE_PAGES)
def test_page_loads_offline_and_draws_its_charts(browser, served, name):
    page, errors, outside = _open(browser, served + name)
    try:
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
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / name.replace(".html", ".png")), full_page=True)
    finally:
        page.close()


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
        for href in hrefs:
            response = page.goto(href, wait_until="load")
            assert response is not None and response.status == 200, href
            assert page.title().strip(), href
        assert errors == []
        assert outside == []
    finally:
        page.close()
