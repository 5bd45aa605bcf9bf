"""Rendering: Quarto's CDN shims are removed, and a page that would go online is refused."""

from __future__ import annotations

import pytest

from cpanalysis.errors import BuildError
from cpanalysis.site.render import check_offline, strip_cdn_shims

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
