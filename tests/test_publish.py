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
    name = "Children with 3 or more placements in the year"
    assert to_open_data_csv(_suppressed_frame()) == (
        "\ufefftime_period,time_identifier,geographic_level,la_name,measure,measure_name,"
        "breakdown,breakdown_label,unit,value\n"
        f"2024,Reporting year,Local authority,Testshire,placements_3plus_pct,{name},Total,"
        "Total,percent,24.0\n"
        f"2025,Reporting year,Local authority,Testshire,placements_3plus_pct,{name},Total,"
        "Total,percent,c\n"
        f"2025,Reporting year,National,,placements_3plus_pct,{name},Total,Total,percent,10.0\n"
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
    prefix = 'href="data:text/csv;charset=utf-8;base64,'
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


def _topic_frame() -> pd.DataFrame:
    # two years of a total measure and an age breakdown; 2024's 1-4 group is withheld
    rows = [
        (2025, "cla_31_march", "Total", 120, "count", "120", False),
        (2024, "cla_31_march", "Total", 110, "count", "110", False),
        (2025, "cla_by_age_group", "10 to 15 years", 50, "count", "50", False),
        (2025, "cla_by_age_group", "Under 1 year", 10, "count", "10", False),
        (2025, "cla_by_age_group", "1 to 4 years", 20, "count", "20", False),
        (2024, "cla_by_age_group", "1 to 4 years", None, "count", "c", True),
        (2025, "placement_moves", "CARPL", 30, "count", "30", False),
    ]
    frame = pd.DataFrame(
        rows,
        columns=["time_period", "measure", "breakdown", "value", "unit", "display", "suppressed"],
    )
    frame.insert(1, "geography", "Testshire")
    return frame


def test_wide_table_has_years_as_columns_names_not_ids_and_ages_in_order():
    from cpanalysis.publish import wide_frame

    wide = wide_frame(_topic_frame(), measures=["cla_31_march", "cla_by_age_group"])
    assert list(wide.columns) == [
        "measure", "measure_name", "breakdown", "breakdown_label", "unit", "2023-24", "2024-25",
    ]  # fmt: skip
    assert wide["breakdown"].tolist() == [
        "Total", "Under 1 year", "1 to 4 years", "10 to 15 years", "CARPL",
    ]  # fmt: skip
    assert wide.loc[0].tolist() == [
        "cla_31_march", "Children looked after at 31 March", "Total", "Total", "number",
        "110", "120",
    ]  # fmt: skip
    # withheld stays c; a year with no row for the group is x (not available)
    assert wide.loc[2, ["2023-24", "2024-25"]].tolist() == ["c", "20"]
    assert wide.loc[1, "2023-24"] == "x"
    assert wide.loc[4, "breakdown_label"] == "Change to/implementation of care plan"


def test_figures_table_is_folded_and_its_csv_has_a_bom_and_labels():
    from cpanalysis.publish import figures_table

    table = figures_table(_topic_frame(), "Overview figures", caption="Children looked after")
    page = table.to_html()
    assert page.startswith('<details class="cp-figures"><summary>')
    assert "<details open" not in page
    assert "(5 rows, 2023-24 to 2024-25)" in page
    # the page names measures and groups, never ids or codes
    assert "cla_by_age_group" not in page.split('href="')[0]
    assert ">CARPL<" not in page
    assert "<td>Change to/implementation of care plan</td>" in page
    # a measure with only a total shows no group
    assert "<td>Children looked after at 31 March</td><td></td><td>number</td>" in page
    csv = table.csv
    assert csv.startswith("\ufeffmeasure,measure_name,breakdown,breakdown_label,unit,2023-24,")
    assert "placement_moves,Children who moved placement" not in csv  # label is the measure's
    assert ",CARPL,Change to/implementation of care plan,number,x,30\n" in csv
    encoded = page[page.index("base64,") + 7 : page.index('"', page.index("base64,"))]
    assert base64.b64decode(encoded).decode("utf-8") == csv


def test_wide_table_refuses_unsuppressed_or_several_areas():
    from cpanalysis.publish import wide_frame

    with pytest.raises(ValueError, match="has not been suppressed"):
        wide_frame(_topic_frame().drop(columns="display"))
    two = _topic_frame()
    two.loc[0, "geography"] = "England"
    with pytest.raises(ValueError, match="one area"):
        wide_frame(two)
