"""Tests of cpanalysis.charts: theme, offline renderer, chart specs and wording.

Frames are hand-built Contract-2 measure frames of a made-up council "Newtown"; every
expected title, number and label below was worked out by hand from those frames.
"""

from __future__ import annotations

import json
import re

import altair as alt
import pandas as pd
import pytest

import cpanalysis.charts as charts
from cpanalysis.charts import offline
from cpanalysis.charts.wording import finding_title, source_caption
from cpanalysis.errors import InputError
from cpanalysis.narrative import compare_sentence

NAN = float("nan")


# ---------------------------------------------------------------- hand-built frames


def stability_frame() -> pd.DataFrame:
    """Newtown 3+ placements 2022-23 (suppressed: 4 of 100), 2023-24, 2024-25; England."""
    return pd.DataFrame(
        {
            "time_period": [2023, 2024, 2025, 2023, 2024, 2025],
            "geography": ["Newtown"] * 3 + ["England"] * 3,
            "measure": "placements_3plus_pct",
            "breakdown": "Total",
            "numerator": pd.array([4, 12, 15, 8860, 8860, 8500], dtype="Int64"),
            "denominator": pd.array([100, 110, 125, 80780, 83530, 81770], dtype="Int64"),
            # the suppressed row keeps no value (contract); 12/110 = 10.9%, 15/125 = 12%
            "value": [NAN, 10.909, 12.0, 11.0, 11.0, 10.0],
            "unit": "percent",
            "display": ["c", "11", "12", "11", "11", "10"],
            "suppressed": [True, False, False, False, False, False],
        }
    )


def age_frame() -> pd.DataFrame:
    """Children looked after by age group; "Under 1" is 3 children in both years -> c."""
    return pd.DataFrame(
        {
            "time_period": [2024, 2024, 2024, 2025, 2025, 2025],
            "geography": "Newtown",
            "measure": "cla_by_age_group",
            "breakdown": ["Under 1", "1 to 4", "Total", "Under 1", "1 to 4", "Total"],
            "numerator": pd.array([3, 20, 23, 3, 25, 28], dtype="Int64"),
            "denominator": pd.array([None] * 6, dtype="Int64"),
            "value": [NAN, 20.0, 23.0, NAN, 25.0, 28.0],
            "unit": "count",
            "display": ["c", "20", "23", "c", "25", "28"],
            "suppressed": [True, False, False, True, False, False],
        }
    )


def care_leaver_frame() -> pd.DataFrame:
    """EET % by age group, not suppressed (no display column: the chart formats values)."""
    return pd.DataFrame(
        {
            "time_period": [2024, 2025, 2024, 2025],
            "geography": "Newtown",
            "measure": "care_leavers_eet_pct",
            "breakdown": ["17 to 18 years"] * 2 + ["19 to 21 years"] * 2,
            "value": [60.0, 64.0, 50.0, 52.0],
            "unit": "percent",
        }
    )


def stage_frame() -> pd.DataFrame:
    """Mean days per adoption stage, 2024-25: Newtown 200+300+30+150 = 680, England 638."""
    stages = list(charts.STAGE_MEASURES)
    return pd.DataFrame(
        {
            "time_period": 2025,
            "geography": ["Newtown"] * 4 + ["England"] * 4,
            "measure": stages * 2,
            "breakdown": "Total",
            "value": [200.0, 300.0, 30.0, 150.0, 180.0, 290.0, 28.0, 140.0],
            "unit": "days",
        }
    )


def title_text(spec: dict, choice: str | None = None) -> str:
    """The title as drawn; for a title that follows a dropdown, the one for ``choice``
    (default: the choice shown first)."""
    text = spec["title"]["text"]
    if isinstance(text, dict):  # {"expr": "year_title[year]"}
        titles, param = text["expr"].rstrip("]").split("[")
        values = {p["name"]: p["value"] for p in spec["params"]}
        text = values[titles][choice or values[param]]
    return " ".join(text) if isinstance(text, list) else text


def bound_param(spec: dict) -> dict:
    (param,) = [p for p in spec["params"] if "bind" in p]
    return param


def subtitle_text(spec: dict) -> str:
    return " ".join(spec["title"]["subtitle"])


def only_dataset(spec: dict) -> list[dict]:
    (rows,) = spec["datasets"].values()
    return rows


def layer_by_mark(spec: dict, mark: str) -> dict:
    hits = [
        layer
        for layer in spec["layer"]
        if (layer["mark"] if isinstance(layer["mark"], str) else layer["mark"]["type"]) == mark
    ]
    assert len(hits) == 1, f"expected one {mark} layer"
    return hits[0]


def tooltip_fields(layer: dict) -> dict[str, str]:
    return {t["field"]: t.get("title") for t in layer["encoding"]["tooltip"]}


# ---------------------------------------------------------------- theme and renderer


def test_importing_charts_enables_house_theme_and_offline_renderer():
    assert "cpanalysis" in alt.theme.names()
    assert alt.theme.active == "cpanalysis"
    assert alt.renderers.active == "cpanalysis_offline"
    config = alt.Chart(pd.DataFrame({"a": [1]})).mark_point().to_dict()["config"]
    assert config["font"].startswith("system-ui")
    assert config["title"]["anchor"] == "start"
    assert config["range"]["category"][0] == "#0072B2"  # council blue (Okabe-Ito)
    assert config["view"]["continuousWidth"] == 640


def _chart(name: str) -> alt.Chart:
    frame = pd.DataFrame({"x": [1, 2, 3], "y": [3, 1, 2]})
    return alt.Chart(frame).mark_line().encode(x="x:Q", y="y:Q").properties(title=name)


def test_page_carries_the_bundle_once_and_fetches_nothing(tmp_path):
    page = charts.page_html([_chart("First"), _chart("Second")], title="Two charts")
    marker = "window.vegaEmbed=$t6"  # the bundle's last statement, once per copy
    assert marker in offline.javascript_bundle()
    assert page.count(marker) == 1
    # the bundle is code: it must reach the page byte for byte (an escaping pass once broke
    # its regex literal /</g and no chart drew)
    assert offline.javascript_bundle() in page
    assert page.count('typeof window.vegaEmbed === "undefined"') == 1
    assert 'id="cpa-chart-1"' in page and 'id="cpa-chart-2"' in page
    assert "cpa-chart-3" not in page
    for external in ('src="http', 'href="http', "<script src", "cdn.jsdelivr", "unpkg"):
        assert external not in page
    # the div a script draws into comes before it, and each chart has its own script
    assert page.index('id="cpa-chart-1"') < page.index('var id = "cpa-chart-1"')
    assert page.count('var id = "cpa-chart-') == 2
    # no "Open in Vega Editor" (an external site); SVG output for a checkable page
    assert '"editor":false' in page and '"renderer":"svg"' in page
    # smoke: the page written to disk is whole, one document
    out = tmp_path / "page.html"
    out.write_text(page, encoding="utf-8")
    back = out.read_text(encoding="utf-8")
    assert back.startswith("<!DOCTYPE html>") and back.rstrip().endswith("</html>")
    assert back.count("<script data-cpa-bundle>") == 1  # the bundle, found by the site build
    assert back.count("<script>") == 2 and back.count("</script>") == 3  # + 2 charts
    # the chart runtime comes with the bundle, once
    assert page.count("window.cpaChart = function") == 1


def test_same_charts_give_byte_identical_html():
    first = charts.page_html([_chart("A"), _chart("B")])
    second = charts.page_html([_chart("A"), _chart("B")])
    assert first == second
    assert "uuid" not in first and "altair-viz" not in first


def test_notebook_outputs_carry_bundle_only_in_the_first_chart():
    charts.reset_page()
    try:
        one = _chart("One")._repr_mimebundle_()
        two = _chart("Two")._repr_mimebundle_()
    finally:
        charts.reset_page()
    one = one[0] if isinstance(one, tuple) else one
    two = two[0] if isinstance(two, tuple) else two
    assert set(one) == {"text/html", "text/plain"}
    assert one["text/plain"] == "<Chart: One>"
    assert "window.vegaEmbed=$t6" in one["text/html"]
    assert "window.vegaEmbed=$t6" not in two["text/html"]
    assert 'id="cpa-chart-1"' in one["text/html"] and 'id="cpa-chart-2"' in two["text/html"]
    # the later chart waits for vegaEmbed instead of assuming it
    assert "setTimeout(draw, 50)" in two["text/html"]


def test_bundle_is_cached_on_disk_per_vl_convert_version(tmp_path, monkeypatch):
    import vl_convert

    calls = []
    fake = "var a = /</g;window.vegaEmbed=1;window.vegaLite=__default1;"

    def fake_bundle() -> str:
        calls.append(1)
        return fake

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(vl_convert, "javascript_bundle", fake_bundle)
    offline.javascript_bundle.cache_clear()
    try:
        assert offline.javascript_bundle() == fake
        cached = tmp_path / "cpanalysis" / f"vega-bundle-vl-convert-{vl_convert.__version__}.js"
        assert cached.read_text(encoding="utf-8") == fake
        offline.javascript_bundle.cache_clear()
        assert offline.javascript_bundle() == fake
        assert len(calls) == 1  # the second process-level call read the file
        cached.write_text(fake[:20], encoding="utf-8")  # a half-written copy is not used
        offline.javascript_bundle.cache_clear()
        assert offline.javascript_bundle() == fake
        assert len(calls) == 2
    finally:
        offline.javascript_bundle.cache_clear()


def test_text_that_would_close_the_script_is_escaped():
    html = charts.page_html([_chart("</script><b>x</b>")])
    body = html.split('var id = "cpa-chart-1"', 1)[1]
    assert "</script><b>" not in body
    assert "<\\/script><b>x<\\/b>" in body
    # the aria-label is HTML-escaped
    assert 'aria-label="&lt;/script&gt;&lt;b&gt;x&lt;/b&gt;"' in html


def test_to_svg_is_static_svg_with_the_title():
    svg = charts.to_svg(_chart("Placement moves"))
    assert svg.lstrip().startswith("<svg")
    assert "Placement moves" in svg


# ---------------------------------------------------------------- wording


def test_charts_format_value_is_the_one_formatter():
    # the public name stays; its cases are pinned in test_formatting.py
    assert charts.format_value(12.5, "percent") == "13%"
    assert charts.format_value(1.45, "per_child") == "1.5"  # was 1.4: f"{1.45:.1f}" (binary)


def test_finding_title_compares_with_england_in_the_same_year():
    title = finding_title(stability_frame(), "placements_3plus_pct")
    assert title == (
        "12% of children looked after had 3 or more placements in 2024-25, above England (10%)"
    )
    # 2023-24: 10.9% shows as 11%, the same as England's 11%
    assert finding_title(stability_frame(), "placements_3plus_pct", year=2024).endswith(
        "in 2023-24, the same as England (11%)"
    )


def test_finding_title_for_counts_compares_with_last_year():
    frame = pd.DataFrame(
        {
            "time_period": [2024, 2025, 2025],
            "geography": ["Newtown", "Newtown", "England"],
            "measure": "cla_31_march",
            "breakdown": "Total",
            "value": [140.0, 131.0, 81770.0],
            "unit": "count",
        }
    )
    assert finding_title(frame, "cla_31_march") == (
        "131 children were looked after at 31 March 2025, down from 140 in 2023-24"
    )


def test_finding_title_and_notebook_sentence_use_the_same_england_year():
    # Newtown has 2025-26 (8%) before England publishes it: both name England's 2024-25 10%
    frame = pd.concat(
        [
            stability_frame(),
            pd.DataFrame(
                {
                    "time_period": [2026],
                    "geography": ["Newtown"],
                    "measure": "placements_3plus_pct",
                    "breakdown": "Total",
                    "value": [8.0],
                    "unit": "percent",
                    "display": ["8"],
                    "suppressed": [False],
                }
            ),
        ],
        ignore_index=True,
    )
    assert finding_title(frame, "placements_3plus_pct") == (
        "8% of children looked after had 3 or more placements in 2025-26, below England "
        "(10% in 2024-25)"
    )
    council, england = frame[frame.geography == "Newtown"], frame[frame.geography == "England"]
    sentence = compare_sentence(council, england, "placements_3plus_pct", what="x")
    assert "England's figure for 2024-25 is 10%." in sentence
    # and for a past year both use England's figure of that year
    assert finding_title(frame, "placements_3plus_pct", year=2024).endswith("England (11%)")
    past = compare_sentence(council, england, "placements_3plus_pct", what="x", year=2024)
    assert "England's figure for 2023-24 is 11%." in past


def test_finding_title_says_when_the_latest_figure_is_suppressed():
    frame = stability_frame()
    frame.loc[2, ["value", "display", "suppressed"]] = [NAN, "c", True]
    title = finding_title(frame, "placements_3plus_pct")
    assert "2024-25 figure is suppressed (c)" in title
    assert "12%" not in title


def test_source_caption_names_years_england_and_threshold():
    caption = source_caption(stability_frame(), suppression_threshold=10)
    assert caption == (
        "Source: Newtown SSDA903 returns, 2022-23 to 2024-25; England: DfE, Children looked "
        "after in England including adoptions. Counts of 1 to 10 are suppressed (c)."
    )


# ---------------------------------------------------------------- trend chart


def test_trend_chart_spec_title_encodings_and_suppressed_row():
    spec = charts.trend_chart(stability_frame(), "placements_3plus_pct").to_dict()
    assert title_text(spec) == (
        "12% of children looked after had 3 or more placements in 2024-25, above England (10%)"
    )
    assert "Counts of 1 to 5 are suppressed (c)." in subtitle_text(spec)
    line = layer_by_mark(spec, "line")
    assert line["encoding"]["x"]["field"] == "year"
    assert line["encoding"]["x"]["scale"]["domain"] == ["2022-23", "2023-24", "2024-25"]
    assert line["encoding"]["y"]["field"] == "value"
    assert line["encoding"]["y"]["title"] == "Children with 3 or more placements in the year (%)"
    assert line["encoding"]["color"]["scale"] == {
        "domain": ["Newtown", "England"],
        "range": ["#0072B2", "#3B3B3B"],
    }
    assert line["encoding"]["strokeDash"]["scale"]["range"] == [[1, 0], [6, 4]]
    tips = tooltip_fields(line)
    assert tips["display"] == "Children with 3 or more placements in the year (%)"
    assert "value" not in tips  # the tooltip shows the published text, never the raw value
    rows = only_dataset(spec)
    suppressed = [r for r in rows if r["geography"] == "Newtown" and r["time_period"] == 2023]
    assert suppressed == [
        {
            "time_period": 2023,
            "year": "2022-23",
            "geography": "Newtown",
            "breakdown": "Total",
            "value": None,
            "display": "c",
        }
    ]
    # privacy: the small numerator behind "c" never travels with the chart
    assert all(
        set(r) == {"time_period", "year", "geography", "breakdown", "value", "display"}
        for r in rows
    )
    # the suppressed year is marked with its display text on the axis
    text = layer_by_mark(spec, "text")
    assert text["encoding"]["text"]["field"] == "display"
    assert "isValid(datum.value)" in json.dumps(text["transform"])


def test_trend_chart_never_shows_a_value_flagged_suppressed():
    frame = stability_frame()
    frame.loc[0, "value"] = 4.0  # a careless upstream frame left the value in
    rows = only_dataset(charts.trend_chart(frame, "placements_3plus_pct").to_dict())
    assert [r["value"] for r in rows if r["display"] == "c"] == [None]


def test_trend_chart_takes_comparators_from_a_separate_frame():
    frame = stability_frame()
    council = frame[frame.geography == "Newtown"]
    # England's published figures come without display/suppressed columns
    england = frame[frame.geography == "England"].drop(columns=["display", "suppressed"])
    england.loc[5, "value"] = 9.5  # shows as 10, like the DfE's rounding
    spec = charts.trend_chart(council, "placements_3plus_pct", comparators=england).to_dict()
    assert title_text(spec).endswith("above England (10%)")
    rows = only_dataset(spec)
    assert {r["geography"] for r in rows} == {"Newtown", "England"}
    assert [r["display"] for r in rows if r["geography"] == "England"] == ["11", "11", "10"]
    assert [r["display"] for r in rows if r["geography"] == "Newtown"] == ["c", "11", "12"]


def test_count_charts_leave_out_other_areas():
    frame = pd.DataFrame(
        {
            "time_period": [2024, 2025, 2024, 2025],
            "geography": ["Newtown", "Newtown", "England", "England"],
            "measure": "cla_31_march",
            "breakdown": "Total",
            "value": [140.0, 131.0, 83530.0, 81770.0],
            "unit": "count",
        }
    )
    spec = charts.trend_chart(frame, "cla_31_march").to_dict()
    assert {r["geography"] for r in only_dataset(spec)} == {"Newtown"}
    assert "England" not in subtitle_text(spec)


def test_trend_chart_accepts_a_caller_title_and_axis_title():
    spec = charts.trend_chart(
        stability_frame(), "placements_3plus_pct", title="Moves are up", y_title="%"
    ).to_dict()
    assert title_text(spec) == "Moves are up"
    assert layer_by_mark(spec, "line")["encoding"]["y"]["title"] == "%"


def test_chart_functions_explain_bad_input():
    with pytest.raises(InputError, match="no rows for measure 'nope'.*placements_3plus_pct"):
        charts.trend_chart(stability_frame(), "nope")
    with pytest.raises(InputError, match="has no breakdown 'Q1'; its breakdowns are: Total"):
        charts.trend_chart(stability_frame(), "placements_3plus_pct", breakdown="Q1")
    with pytest.raises(InputError, match="lacks columns unit"):
        charts.trend_chart(stability_frame().drop(columns="unit"), "placements_3plus_pct")
    two = pd.concat([stability_frame(), stability_frame().assign(geography="Oldtown")])
    with pytest.raises(InputError, match="pass council="):
        charts.trend_chart(two, "placements_3plus_pct")
    spec = charts.trend_chart(two, "placements_3plus_pct", council="Oldtown").to_dict()
    domain = layer_by_mark(spec, "line")["encoding"]["color"]["scale"]["domain"]
    assert domain == ["Oldtown", "England", "Newtown"]


# ---------------------------------------------------------------- breakdowns


def test_breakdown_chart_has_a_year_dropdown_and_leaves_out_total():
    spec = charts.breakdown_chart(age_frame(), "cla_by_age_group").to_dict()
    param = bound_param(spec)
    assert param["name"] == "year"
    assert param["value"] == "2024-25"
    assert param["bind"]["options"] == ["2023-24", "2024-25"]
    assert title_text(spec) == (
        "Children looked after by age group, 2024-25: the largest group is 1 to 4 (25)"
    )
    # the title follows the year chosen: 2023-24 had 20 aged 1 to 4 (and a c)
    assert spec["title"]["text"] == {"expr": "year_title[year]"}
    assert title_text(spec, "2023-24") == (
        "Children looked after by age group, 2023-24: the largest group is 1 to 4 (20)"
    )
    # so no sentence about the menu is drawn into the chart (or into a saved PNG)
    assert "choose another" not in subtitle_text(spec)
    # no comparator rows: no empty tick layer (vega would warn of an infinite extent)
    assert [layer["mark"]["type"] for layer in spec["layer"]] == ["bar", "text"]
    bars = layer_by_mark(spec, "bar")
    assert bars["encoding"]["y"]["field"] == "breakdown"
    assert bars["encoding"]["y"]["sort"] == ["Under 1", "1 to 4"]
    assert bars["encoding"]["x"]["field"] == "value"
    assert tooltip_fields(bars)["display"] == "Children looked after by age group (number)"
    rows = only_dataset(spec)
    assert "Total" not in {r["breakdown"] for r in rows}
    assert [r["display"] for r in rows if r["breakdown"] == "Under 1"] == ["c", "c"]
    assert [r["value"] for r in rows if r["breakdown"] == "Under 1"] == [None, None]


def test_breakdown_chart_draws_england_as_ticks():
    england = care_leaver_frame().assign(geography="England", value=[64.0, 64.0, 54.0, 54.0])
    spec = charts.breakdown_chart(care_leaver_frame(), "care_leavers_eet_pct").to_dict()
    assert [layer["mark"]["type"] for layer in spec["layer"]] == ["bar", "text"]
    spec = charts.breakdown_chart(
        care_leaver_frame(), "care_leavers_eet_pct", comparators=england
    ).to_dict()
    tick = layer_by_mark(spec, "tick")
    assert tick["encoding"]["color"]["scale"]["domain"] == ["Newtown", "England"]
    assert tick["encoding"]["color"]["scale"]["range"] == ["#0072B2", "#3B3B3B"]
    assert title_text(spec) == (
        "Care leavers in education, employment or training, 2024-25: the largest group is "
        "17 to 18 years (64%)"
    )


def test_breakdown_chart_static_year():
    spec = charts.breakdown_chart(
        age_frame(), "cla_by_age_group", year=2024, interactive_year=False
    ).to_dict()
    assert "params" not in spec
    assert title_text(spec).endswith("2023-24: the largest group is 1 to 4 (20)")


def test_breakdown_trend_chart_has_an_age_group_dropdown():
    spec = charts.age_group_trend_chart(care_leaver_frame(), "care_leavers_eet_pct").to_dict()
    param = bound_param(spec)
    assert param["name"] == "breakdown"
    assert param["value"] == "17 to 18 years"
    assert param["bind"]["options"] == ["17 to 18 years", "19 to 21 years"]
    assert title_text(spec) == (
        "64% of care leavers aged 17 to 18 years were in education, employment or training "
        "in 2024-25, up from 60% in 2023-24"
    )
    assert title_text(spec, "19 to 21 years") == (
        "52% of care leavers aged 19 to 21 years were in education, employment or training "
        "in 2024-25, up from 50% in 2023-24"
    )
    assert "choose another" not in subtitle_text(spec)
    line = layer_by_mark(spec, "line")
    assert tooltip_fields(line)["breakdown"] == "Group"
    # no display column in: the chart formats one as suppress() would (whole numbers)
    assert {r["display"] for r in only_dataset(spec)} == {"60", "64", "50", "52"}
    spec19 = charts.breakdown_trend_chart(
        care_leaver_frame(), "care_leavers_eet_pct", initial="19 to 21 years"
    ).to_dict()
    assert title_text(spec19).startswith("52% of care leavers aged 19 to 21 years")


# ---------------------------------------------------------------- adoption and forecasts


def test_survival_chart_in_months_and_percent():
    km = pd.DataFrame(
        {
            "days": [304.4, 608.8],
            "survival": [0.6, 0.25],
            "lower": [0.5, 0.1],
            "upper": [0.7, 0.4],
        }
    )
    spec = charts.survival_chart(km).to_dict()
    rows = only_dataset(spec)
    # a day-0 row with everyone waiting is added; 304.4 days = 10 months, 608.8 = 20
    assert [r["months"] for r in rows] == pytest.approx([0.0, 10.0, 20.0])
    assert [r["survival"] for r in rows] == pytest.approx([100.0, 60.0, 25.0])
    assert title_text(spec) == "Half of the children were placed for adoption within 20.0 months"
    line = layer_by_mark(spec, "line")
    assert line["mark"]["interpolate"] == "step-after"
    assert line["encoding"]["y"]["title"] == "% still waiting for an adoption placement"
    band = layer_by_mark(spec, "area")
    assert band["encoding"]["y"]["field"] == "lower" and band["encoding"]["y2"]["field"] == "upper"
    with pytest.raises(InputError, match="lacks columns upper"):
        charts.survival_chart(km.drop(columns="upper"))


def test_stage_timeline_chart_stacks_stages_council_first():
    spec = charts.stage_timeline_chart(stage_frame()).to_dict()
    assert title_text(spec) == (
        "Children adopted in 2024-25: the stages of the adoption journey add up to 680 days "
        "on average (England's stages: 638 days)"
    )
    enc = spec["encoding"]
    assert enc["y"]["sort"] == ["Newtown", "England"]
    assert enc["x"]["field"] == "value" and enc["x"]["stack"] == "zero"
    assert enc["color"]["scale"]["domain"] == [
        "Entering care to decision to adopt",
        "Decision to match",
        "Match to moving in",
        "Moving in to adoption order",
    ]
    assert {t["field"] for t in enc["tooltip"]} == {"geography", "year", "stage", "display"}
    # England publishes later: a 2025-26 council return meets England's 2024-25 figures
    later = stage_frame()
    later.loc[later.geography == "Newtown", "time_period"] = 2026
    spec = charts.stage_timeline_chart(later).to_dict()
    assert spec["encoding"]["y"]["sort"] == ["Newtown", "England (2024-25)"]
    assert title_text(spec).endswith("(England's stages: 638 days in 2024-25)")
    with pytest.raises(InputError, match="none of the adoption stage measures"):
        charts.stage_timeline_chart(stability_frame())


def test_forecast_chart_joins_history_to_a_dashed_forecast():
    history = stability_frame().query("geography == 'Newtown'")
    forecast = pd.DataFrame(
        {"period": [2026, 2027], "mean": [12.5, 13.0], "lower": [9.0, 8.0], "upper": [16.0, 18.0]}
    )
    spec = charts.forecast_chart(
        history, forecast, y_title="%", backtest="Back-test: off by 2 points"
    ).to_dict()
    assert title_text(spec) == "Forecast: about 13% in 2026-27 (95% prediction interval 8% to 18%)"
    assert subtitle_text(spec).startswith("Back-test: off by 2 points")
    line_layers = [layer for layer in spec["layer"] if layer["mark"]["type"] == "line"]
    assert len(line_layers) == 2
    datasets = {json.dumps(rows[0], sort_keys=True): rows for rows in spec["datasets"].values()}
    forecast_rows = [rows for rows in datasets.values() if rows[0].get("series") == "Forecast"]
    # the dashed line starts at the last recorded value (2024-25, 12%)
    assert [(r["label"], r["mean"]) for r in forecast_rows[0]] == [
        ("2024-25", 12.0),
        ("2025-26", 12.5),
        ("2026-27", 13.0),
    ]
    with pytest.raises(InputError, match="forecast lacks columns lower"):
        charts.forecast_chart(history, forecast.drop(columns="lower"))


def test_every_chart_renders_offline_to_svg_with_its_title():
    chart = charts.trend_chart(stability_frame(), "placements_3plus_pct")
    svg = charts.to_svg(chart)
    assert re.search(r"12% of children looked after had 3 or more placements", svg)
    assert "Newtown" in svg and "England" in svg


def test_trend_chart_draws_a_labelled_threshold_rule():
    frame = pd.DataFrame(
        {
            "time_period": [2024, 2025],
            "geography": ["Demo", "Demo"],
            "measure": ["a1_days_3yr", "a1_days_3yr"],
            "breakdown": ["Total", "Total"],
            "numerator": pd.array([30, 31], dtype="Int64"),
            "denominator": pd.array([pd.NA, pd.NA], dtype="Int64"),
            "value": [480.0, 450.0],
            "unit": ["days", "days"],
            "display": ["480", "450"],
            "suppressed": [False, False],
        }
    )
    spec = charts.trend_chart(
        frame, "a1_days_3yr", threshold_line=(426, "A1 threshold: 426 days")
    ).to_dict()
    rules = [layer for layer in spec["layer"] if layer.get("mark", {}).get("type") == "rule"]
    assert len(rules) == 1
    values = spec["datasets"][rules[0]["data"]["name"]]
    assert values == [{"threshold": 426.0, "label": "A1 threshold: 426 days"}]
    # the council's line keeps its data: the trend layers are nested with their own data
    trend = spec["layer"][0]
    line_values = spec["datasets"][trend["data"]["name"]]
    assert [row["value"] for row in line_values] == [480.0, 450.0]
    assert not any(
        layer["mark"]["type"] == "rule"
        for layer in charts.trend_chart(frame, "a1_days_3yr").to_dict()["layer"]
    )


def test_council_is_the_measures_own_area_when_comparators_add_a_region():
    """With DfE tables supplied, comparators hold England and the region: no ambiguity."""

    def rows(geography, values):
        return pd.DataFrame(
            {
                "time_period": [2024, 2025],
                "geography": [geography, geography],
                "measure": ["placements_3plus_pct"] * 2,
                "breakdown": ["Total", "Total"],
                "numerator": pd.array([10, 12], dtype="Int64"),
                "denominator": pd.array([100, 100], dtype="Int64"),
                "value": values,
                "unit": ["percent", "percent"],
            }
        )

    council = rows("Newtown", [10.0, 12.0]).assign(display=["10", "12"], suppressed=False)
    comparators = pd.concat([rows("England", [11.0, 10.0]), rows("South East", [9.0, 9.0])])
    spec = charts.trend_chart(council, "placements_3plus_pct", comparators=comparators).to_dict()
    shown = {row["geography"] for data in spec["datasets"].values() for row in data}
    assert shown == {"Newtown", "England", "South East"}
    assert "12% of children" in title_text(spec)


def test_source_caption_explains_x_when_a_year_is_not_available():
    frame = stability_frame()
    assert "x: not available" not in source_caption(frame)
    frame.loc[0, ["value", "display", "suppressed"]] = [NAN, "x", False]  # Newtown 2022-23
    assert source_caption(frame).endswith(
        "Counts of 1 to 5 are suppressed (c). x: not available (the returns held do not reach "
        "back far enough, or the data needed were not collected)."
    )
    frame.loc[0, "display"] = "c"  # withheld, not unavailable: the c rule already says it
    assert "x: not available" not in source_caption(frame)


def test_dropdowns_sit_outside_the_picture_and_the_name_follows_the_choice():
    chart = charts.breakdown_chart(age_frame(), "cla_by_age_group")
    charts.reset_page()
    try:
        html = charts.chart_html(chart, include_bundle=False)
    finally:
        charts.reset_page()
    name = "Children looked after by age group, 2024-25: the largest group is 1 to 4 (25)"
    # role="img" is on the box the picture is drawn in; the dropdowns get a box beside it
    assert (
        f'<div id="cpa-chart-1" class="cpa-chart" data-label="{name}">'
        f'<div class="cpa-chart-view" role="img" aria-label="{name}"></div>'
        '<div class="cpa-chart-controls"></div></div>'
    ) in html
    runtime = offline.chart_runtime()
    assert "bind: controls" in runtime  # vega-embed puts the <select> in the controls box
    assert "addSignalListener" in runtime  # and the name is read again after a choice
