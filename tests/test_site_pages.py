"""Generated pages: a small count planted in the data reaches the scorecard page as c."""

from __future__ import annotations

import pandas as pd

from cpanalysis.scorecard import build_scorecard
from cpanalysis.site.pages import SiteContext, banner_html, scorecard_page
from cpanalysis.suppression import suppress


def _measures() -> pd.DataFrame:
    # 3 SGOs this year (a count from 1 to 5: confidential), 40 children looked after
    return pd.DataFrame(
        {
            "time_period": [2025, 2025, 2024],
            "geography": "Testshire",
            "measure": ["sgo_granted", "cla_31_march", "cla_31_march"],
            "breakdown": "Total",
            "numerator": pd.array([3, 40, 38], dtype="Int64"),
            "denominator": pd.array([None, None, None], dtype="Int64"),
            "value": [3.0, 40.0, 38.0],
            "unit": "count",
        }
    )


def test_planted_small_count_is_published_as_c():
    card = build_scorecard(suppress(_measures(), threshold=5), None, {})
    line = card.loc[card["measure"].eq("sgo_granted")].iloc[0]
    assert line["this_year"] == "c"
    ctx = SiteContext("Testshire", True, [2024, 2025], {})
    page = scorecard_page(card, ctx)
    row = page[page.index("Special guardianship orders") :].split("</tr>")[0]
    assert '<td class="cp-num">c</td>' in row
    assert ">3<" not in row
    # the count that is large enough is shown
    cla = page[page.index("Children looked after at 31 March") :].split("</tr>")[0]
    assert '<td class="cp-num">40</td><td class="cp-num">38</td><td>↑</td>' in cla


def test_banner_says_demo_or_real():
    demo = banner_html(SiteContext("Demo council", True, [2021, 2026], {}))
    real = banner_html(SiteContext("Testshire", False, [2025], {}))
    assert 'class="cp-data-banner cp-demo"' in demo
    assert "DEMO DATA: Built on synthetic demo data" in demo
    assert "collection years 2020-21 to 2025-26" in demo
    assert real == (
        '<div class="cp-data-banner cp-real" role="region" aria-label="Which data">'
        "REAL DATA: Built on Testshire&#x27;s "
        "SSDA903 returns, collection years 2024-25.</div>\n"
    )


def test_page_numbers_get_thousands_separators_but_symbols_do_not():
    from cpanalysis.site.pages import _thousands

    assert _thousands("81770") == "81,770"
    assert _thousands("506") == "506"
    assert _thousands("1.5") == "1.5"
    assert _thousands("c") == "c"
    assert _thousands("") == ""


def test_sparkline_draws_the_published_figures_with_a_text_alternative():
    from cpanalysis.site.sparkline import sparkline_svg

    svg = sparkline_svg("3+ placements (%)", [2022, 2023, 2024, 2025], ["10", "c", "12", "14"])
    assert svg.startswith('<svg class="cp-spark" role="img" aria-label="3+ placements (%), ')
    assert "2021-22 to 2024-25: 10, c, 12, 14" in svg
    assert "<title>3+ placements (%), 2021-22 to 2024-25: 10, c, 12, 14</title>" in svg
    # the withheld year breaks the line: 10 stands alone, 12 -> 14 is one line; x runs
    # from 4 to 96 in steps of 92 / 3; y from 24 (lowest, 10) to 4 (highest, 14)
    assert svg.count("<polyline") == 1
    assert 'points="65.3,14.0 96.0,4.0"' in svg
    assert '<circle cx="4.0" cy="24.0" r="1.5"' in svg
    assert '<circle cx="96.0" cy="4.0" r="3"' in svg  # the latest year stands out


def test_sparkline_of_a_flat_or_empty_series():
    from cpanalysis.site.sparkline import sparkline_svg

    flat = sparkline_svg("m", [2024, 2025], ["5", "5"])
    assert 'points="4.0,14.0 96.0,14.0"' in flat  # across the middle
    empty = sparkline_svg("m", [2024, 2025], ["c", "x"])
    assert "<polyline" not in empty and "<circle" not in empty
    assert 'aria-label="m, 2023-24 to 2024-25: c, x"' in empty


def test_scorecard_page_opens_with_the_summary_then_the_table_with_trends_and_links():
    measures = pd.DataFrame(
        {
            "time_period": [2025, 2024, 2025],
            "geography": "Testshire",
            "measure": ["placements_3plus_pct", "placements_3plus_pct", "cla_31_march"],
            "breakdown": "Total",
            "numerator": pd.array([12, 9, 100], dtype="Int64"),
            "denominator": pd.array([100, 100, None], dtype="Int64"),
            "value": [12.0, 9.0, 100.0],
            "unit": ["percent", "percent", "count"],
        }
    )
    england = pd.DataFrame(
        {
            "time_period": [2025],
            "geography": "England",
            "measure": ["placements_3plus_pct"],
            "breakdown": "Total",
            "value": [10.0],
            "unit": "percent",
        }
    )
    card = build_scorecard(suppress(measures), england, {})
    page = scorecard_page(card, SiteContext("Testshire", True, [2024, 2025], {}))
    body = page.split("---\n", 2)[2]
    summary = "Of the 2 measures with a figure for 2024-25, 1 is worse than England"
    assert body.index(summary) < body.index("<table")
    assert '<a href="placement_stability.html">Children with 3 or more placements' in page
    assert 'aria-label="Children with 3 or more placements in the year (%), 2020-21 to ' in page
    assert "Statistical neighbours" not in page  # no neighbours set: no column
    # the rule is stated on the page, and no file or setting name is
    assert "## How the marks are set" in page
    assert "5 percentage points" in page
    assert "cpanalysis.toml" not in page and ".md" not in page
    row = page[page.index("Children with 3 or more placements") :].split("</tr>")[0]
    assert '<span class="cp-rag cp-rag-amber">amber</span>' in row
    assert "against England 2024-25" in row


def test_health_and_support_page_shows_the_measures_no_other_page_shows():
    from cpanalysis.site.pages import health_and_support_page

    measures = suppress(
        pd.DataFrame(
            {
                "time_period": [2025, 2024, 2025, 2025],
                "geography": "Testshire",
                "measure": [
                    "teeth_check_pct",
                    "teeth_check_pct",
                    "missing_children",
                    "immunisations_pct",
                ],  # fmt: skip
                "breakdown": "Total",
                "numerator": pd.array([45, 40, 12, 3], dtype="Int64"),
                "denominator": pd.array([50, 50, None, 50], dtype="Int64"),
                "value": [90.0, 80.0, 12.0, 6.0],
                "unit": ["percent", "percent", "count", "percent"],
            }
        )
    )
    page = health_and_support_page(measures, None, SiteContext("T", True, [2025], {}))
    assert "### Children whose teeth were checked" in page
    # 45 of 50 = 90%, 40 of 50 = 80% the year before
    assert "In 2024-25, **90%** of children looked after for 12 months or more had their " in page
    assert "The year before (2023-24) it was 80%." in page
    assert "**12** children went missing from care during the year." in page
    # 3 of 50 immunised: withheld, and said why, never shown as 6%
    assert "6%" not in page
    assert '<details class="cp-figures">' in page
    assert "teeth_check_pct" not in page.split("base64,")[0]


def test_every_download_csv_gets_the_byte_order_mark_once(tmp_path):
    # the build writes its validation summary without the mark; the copy into downloads/
    # adds it (Excel on Windows reads "é" right only then), and never twice
    from cpanalysis.site.pages import copy_download

    bare, marked, page = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.json"
    bare.write_bytes("rule,description\n202,café\n".encode())
    marked.write_bytes("\ufeffrule\n393\n".encode())
    page.write_bytes(b'{"a": 1}')
    out = tmp_path / "downloads"
    out.mkdir()
    assert copy_download(bare, out / "a.csv").read_bytes() == (
        "\ufeffrule,description\n202,café\n".encode()
    )
    assert copy_download(marked, out / "b.csv").read_bytes() == "\ufeffrule\n393\n".encode()
    assert copy_download(page, out / "c.json").read_bytes() == b'{"a": 1}'
