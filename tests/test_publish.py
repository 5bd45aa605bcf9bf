"""Tests of cpanalysis.publish: open-data CSV and accessible tables with a CSV link."""

from __future__ import annotations

import base64

import pandas as pd
import pytest

from cpanalysis.publish import published_table, to_open_data_csv


def _suppressed_frame() -> pd.DataFrame:
    # a council figure withheld (3 children) and England's figure
    return pd.DataFrame(
        {
            "time_period": [2025, 2025, 2024],
            "geography": ["Testshire", "England", "Testshire"],
            "measure": ["placements_3plus_pct"] * 3,
            "breakdown": ["Total"] * 3,
            "numerator": pd.array([3, 8000, 12], dtype="Int64"),
            "denominator": pd.array([40, 80000, 50], dtype="Int64"),
            "value": [7.5, 10.0, 24.0],
            "unit": ["percent"] * 3,
            "display": ["c", "10.0", "24.0"],
            "suppressed": [True, False, False],
        }
    )


def test_open_data_csv_is_dfe_shaped_and_keeps_suppression():
    assert to_open_data_csv(_suppressed_frame()) == (
        "time_period,time_identifier,geographic_level,la_name,measure,breakdown,unit,value\n"
        "2024,Reporting year,Local authority,Testshire,placements_3plus_pct,Total,percent,24.0\n"
        "2025,Reporting year,Local authority,Testshire,placements_3plus_pct,Total,percent,c\n"
        "2025,Reporting year,National,,placements_3plus_pct,Total,percent,10.0\n"
    )


def test_unsuppressed_measure_frame_is_refused():
    with pytest.raises(ValueError, match="has not been suppressed"):
        to_open_data_csv(_suppressed_frame().drop(columns="display"))


def test_published_table_link_carries_the_same_rows():
    table = published_table(_suppressed_frame(), "Stability: 3+ placements", caption="3+")
    assert table.name == "stability_3_placements"
    html = table._repr_html_()
    assert "<caption>3+</caption>" in html
    assert '<th scope="col">Year</th>' in html
    # the withheld figure shows as c, never 7.5 (nor the count 3)
    assert '<td class="cp-num">c</td>' in html
    assert "7.5" not in html
    prefix = 'href="data:text/csv;base64,'
    start = html.index(prefix) + len(prefix)
    encoded = html[start : html.index('"', start)]
    assert base64.b64decode(encoded).decode() == to_open_data_csv(_suppressed_frame())
    assert 'download="stability_3_placements.csv"' in html


def test_table_cells_are_escaped():
    frame = pd.DataFrame({"Name": ["<script>"]})
    html = published_table(frame, "x", caption="a & b").to_html()
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "<caption>a &amp; b</caption>" in html
