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
        '<div class="cp-data-banner cp-real" role="note">REAL DATA: Built on Testshire&#x27;s '
        "SSDA903 returns, collection years 2024-25.</div>\n"
    )


def test_page_numbers_get_thousands_separators_but_symbols_do_not():
    from cpanalysis.site.pages import _thousands

    assert _thousands("81770") == "81,770"
    assert _thousands("506") == "506"
    assert _thousands("1.5") == "1.5"
    assert _thousands("c") == "c"
    assert _thousands("") == ""
