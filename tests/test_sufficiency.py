"""The sufficiency page's forecast: costs, scenario, tables, charts and settings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cpanalysis import charts
from cpanalysis.config import load_config
from cpanalysis.errors import InputError
from cpanalysis.stock_flow import GROUPS
from cpanalysis.sufficiency import (
    TOTAL,
    WEEKS_PER_MONTH,
    Scenario,
    SufficiencyForecast,
    recorded_history,
    sufficiency_forecast,
)


def _history(months: int = 60):
    """10 children a month enter in-house foster care (U4, PR1) for two month ends, and 1
    a month an agency placement (U6, PR4) that has not ended: see test_stock_flow."""
    rows = []
    start = pd.Timestamp("2020-01-15")
    for m in range(months):
        decom = start + pd.DateOffset(months=m)
        for i in range(10):
            rows.append((f"c{m}-{i}", decom, decom + pd.DateOffset(months=2), "U4", "PR1"))
        rows.append((f"g{m}", decom, None, "U6", "PR4"))
    episodes = pd.DataFrame(rows, columns=["CHILD", "DECOM", "DEC", "PLACE", "PLACE_PROVIDER"])
    episodes["DEC"] = pd.to_datetime(episodes["DEC"])
    episodes["LS"] = "C2"
    episodes["RNE"] = "S"
    episodes["REC"] = np.where(episodes["DEC"].notna(), "E4A", None)
    header = pd.DataFrame({"CHILD": episodes["CHILD"], "DOB": pd.Timestamp("2015-01-01")})
    return episodes, header


COSTS = {"Fostering: in-house": 500.0, "Fostering: agency": 1000.0}


@pytest.fixture(scope="module")
def forecast():
    episodes, header = _history()
    return sufficiency_forecast(
        episodes,
        header,
        "2020-01-01",
        "2024-12-31",
        horizon_months=36,
        window_months=24,
        scenario=Scenario("More entries", entry_rate_change=0.1),
        unit_costs=COSTS,
        costs_are_examples=True,
        n_sims=200,
        with_ets=False,
    )


def test_costs_are_children_times_weekly_unit_costs(forecast):
    # at the last month end: 20 in-house (10 new, 10 in their second month) and 60 agency
    # children (one a month for five years, none left): 20 * 500 + 60 * 1000 a week
    now = forecast.costs[(forecast.costs["scenario"] == "Baseline")].iloc[0]
    assert now["months_ahead"] == 0
    assert now["weekly_cost"] == pytest.approx(20 * 500 + 60 * 1000)
    # a year on: the projected children of each group times its cost; in-house steady at
    # 20, agency up by nearly 12 (nobody has left it yet, but it borrows a small leaving
    # rate from everyone's: a dozen child-years are no proof that nobody ever leaves)
    year = forecast.costs[
        (forecast.costs["scenario"] == "Baseline") & (forecast.costs["months_ahead"] == 12)
    ].iloc[0]
    groups = forecast.at(12).query("scenario == 'Baseline'").set_index("group")["mean"]
    assert groups["Fostering: in-house"] == pytest.approx(20, abs=0.1)
    assert 66 < groups["Fostering: agency"] < 72
    assert year["weekly_cost"] == pytest.approx(
        500 * groups["Fostering: in-house"] + 1000 * groups["Fostering: agency"]
    )
    assert year["lower"] <= year["weekly_cost"] <= year["upper"]
    table = forecast.cost_table()
    assert table.loc[0, "Cost a week now"] == "£70,000"
    assert "EXAMPLE COSTS" in forecast.cost_note
    assert "Kinship fostering" in forecast.cost_note  # groups without a cost are named


def test_the_scenario_raises_the_projection_and_its_cost(forecast):
    at = forecast.at(36)
    total = at[at["group"] == TOTAL].set_index("scenario")["mean"]
    assert total["More entries"] > total["Baseline"]
    costs = forecast.costs[forecast.costs["months_ahead"] == 36].set_index("scenario")
    assert costs.loc["More entries", "weekly_cost"] > costs.loc["Baseline", "weekly_cost"]


def test_projection_by_group_and_age_band_sum_to_the_total(forecast):
    at = forecast.at(12)
    base = at[at["scenario"] == "Baseline"].set_index("group")["mean"]
    assert base.drop(TOTAL).sum() == pytest.approx(base[TOTAL])
    ages = forecast.by_age[
        (forecast.by_age["scenario"] == "Baseline") & (forecast.by_age["months_ahead"] == 12)
    ]
    assert ages.loc[ages["group"] == TOTAL, "mean"].sum() == pytest.approx(base[TOTAL])
    # intervals bracket the central line everywhere
    assert (forecast.projection["lower"] <= forecast.projection["mean"]).all()
    assert (forecast.projection["mean"] <= forecast.projection["upper"]).all()


def _three_agency_children(**options) -> SufficiencyForecast:
    """The council of :func:`_history` with only 3 agency children (g0, g1, g2, who stay).

    Each month end from March 2020 on: 20 in-house (10 new, 10 in their second month), 3
    agency, 23 in all (January: 10 + 1 = 11, February: 20 + 2 = 22).
    """
    episodes, header = _history(months=60)
    keep = ~episodes["CHILD"].str.startswith("g") | episodes["CHILD"].isin(["g0", "g1", "g2"])
    settings = dict(n_sims=50, with_ets=False) | options
    return sufficiency_forecast(episodes[keep], header, "2020-01-01", "2024-12-31", **settings)


def test_small_recorded_counts_are_withheld_with_a_second_group():
    # agency's 1, 2, 3 are primary; the total (11, 22, 23) minus in-house would give them
    # back, and in-house (10 or 20) is the only other non-zero group, so it is hidden too;
    # the total stays
    result = _three_agency_children()
    by_group = result.history.set_index(["group", "period"])
    agency, in_house = by_group.loc["Fostering: agency"], by_group.loc["Fostering: in-house"]
    assert agency["value"].isna().all() and (agency["display"] == "c").all()
    assert in_house["value"].isna().all() and in_house["suppressed"].all()
    total = by_group.loc[TOTAL, "value"]
    assert total.iloc[:3].tolist() == [11, 22, 23] and (total.iloc[2:] == 23).all()
    kinship = by_group.loc["Kinship fostering"]
    assert (kinship["display"] == "0").all()  # zeros are published as 0


def test_recorded_history_hides_the_smallest_other_group_and_keeps_the_total():
    # one month: 3 residential, 9 kinship, 11 agency, 0 elsewhere; total 23. The 3 is
    # primary; 23 - 9 - 11 would give it back, so the smallest other group (9) goes too:
    # 23 - 11 = 12 = 3 + 9 is all a reader learns. The next month (30 in-house) is clean.
    groups = list(GROUPS)
    month = np.zeros((2, len(groups)))
    month[0, groups.index("Residential")] = 3
    month[0, groups.index("Kinship fostering")] = 9
    month[0, groups.index("Fostering: agency")] = 11
    month[1, groups.index("Fostering: in-house")] = 30
    periods = pd.DatetimeIndex(["2025-01-31", "2025-02-28"])
    history = recorded_history(month, periods, threshold=5).set_index(["period", "group"])
    jan = history.loc[pd.Timestamp("2025-01-31"), "display"]
    assert jan[["Residential", "Kinship fostering", "Fostering: agency", TOTAL]].tolist() == [
        "c",
        "c",
        "11",
        "23",
    ]
    assert (history.loc[pd.Timestamp("2025-02-28"), "display"] != "c").all()
    assert history["suppressed"].sum() == 2


def test_a_31_march_the_overview_withholds_shows_only_the_total():
    # 31 March 2026: in-house 30, placed for adoption 11, other 4, total 45. Here the 4 is
    # primary and the 11 protects it; but say the Overview's placement types withhold a
    # figure that year (placed for adoption, the same 11 children, hidden there to protect
    # a 4 of its own): every group of that month end goes, the total (published there as
    # the number looked after) stays. February is this table's own business only.
    groups = list(GROUPS)
    month = np.zeros((2, len(groups)))
    month[:, groups.index("Fostering: in-house")] = 30
    month[:, groups.index("Placed for adoption")] = 11
    month[:, groups.index("Other")] = [9, 4]
    periods = pd.DatetimeIndex(["2026-02-28", "2026-03-31"])
    history = recorded_history(month, periods, 5, [pd.Timestamp("2026-03-31")])
    march = history[history["period"] == "2026-03-31"].set_index("group")
    assert (march.drop(TOTAL)["display"] == "c").all()
    assert march.loc[TOTAL, "display"] == "45"
    # the 4 and the 11 are this table's own protection; the rest is for the Overview
    assert march.loc[march["protected"], "display"].index.tolist() == [
        "Placed for adoption",
        "Other",
    ]
    february = history[history["period"] == "2026-02-28"].set_index("group")["display"]
    assert february[["Fostering: in-house", "Placed for adoption", "Other", TOTAL]].tolist() == [
        "30",
        "11",
        "9",
        "50",
    ]


def _published_outputs(forecast: SufficiencyForecast) -> list[object]:
    """What notebooks/sufficiency.ipynb publishes for ``forecast``: each code cell's last
    expression, the notebook's own code run on this forecast (the cells that open the
    council's data are replaced by it)."""
    import ast
    import json
    from pathlib import Path
    from types import SimpleNamespace

    from IPython.display import Markdown

    from cpanalysis.publish import published_table

    notebook = Path(__file__).resolve().parents[1] / "notebooks" / "sufficiency.ipynb"
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    space = dict(
        sufficiency=forecast,
        council=SimpleNamespace(threshold=forecast.threshold),
        charts=charts,
        published_table=published_table,
        Markdown=Markdown,
    )
    outputs = []
    for cell in cells:
        source = "".join(cell["source"])
        tags = cell.get("metadata", {}).get("tags", [])
        if cell["cell_type"] != "code" or "parameters" in tags or "open_analysis" in source:
            continue
        tree = ast.parse(source)
        *body, last = tree.body
        exec(compile(ast.Module(body, type_ignores=[]), "cell", "exec"), space)
        assert isinstance(last, ast.Expr), source  # every cell ends by showing something
        outputs.append(eval(compile(ast.Expression(last.value), "cell", "eval"), space))
    return outputs


def test_the_notebook_publishes_no_recorded_small_group():
    # the council of three agency children, costed: run the notebook's own cells and look
    # at everything they publish (chart data and tooltips, tables and their CSVs, words)
    forecast = _three_agency_children(unit_costs=COSTS, scenario=Scenario("More", 0.1))
    outputs = _published_outputs(forecast)
    specs = [o.to_dict() for o in outputs if hasattr(o, "to_dict") and hasattr(o, "to_json")]
    tables = [o for o in outputs if hasattr(o, "csv")]
    words = " ".join(o.data for o in outputs if type(o).__name__ == "Markdown")
    assert len(specs) == 4 and len(tables) == 4  # total, groups, cost, scenario; 4 tables
    origin = pd.Timestamp("2024-12-31")
    hidden = {"Fostering: agency", "Fostering: in-house"}  # the 3, and the 20 protecting it
    rows = [r for spec in specs for data in spec.get("datasets", {}).values() for r in data]
    group_rows = [r for r in rows if r.get("group") in hidden]
    assert group_rows  # the groups are drawn (projected), so the check below checks
    for r in group_rows:
        when = pd.Timestamp(r["period"])
        if r["series"] == "Recorded":
            assert r["mean"] is None and r["shown"] == "c", r
        else:  # projected: only from a year ahead, where the tables publish it too
            assert when >= origin + pd.DateOffset(months=12), r
    # the cost chart starts a year ahead too (its first months are nearly 20 * 500 + 3 * 1000)
    cost = next(s for s in specs if "a week" in " ".join(s["title"]["text"]))
    drawn = [pd.Timestamp(r["period"]) for d in cost["datasets"].values() for r in d]
    assert drawn and min(drawn) == pd.Timestamp("2025-12-31")
    # the back-test's average children: agency (3) and in-house (20) are c, the total 23
    backtest = tables[0].display.set_index("Placement group")["Children (average)"]
    assert backtest[["Fostering: agency", "Fostering: in-house", TOTAL]].tolist() == [
        "c",
        "c",
        "23",
    ]
    # the cost now would be 20 * 500 + 3 * 1000 = 13,000: withheld, and said so
    costs = tables[3].display
    assert (costs["Cost a week now"] == "c").all()
    assert "£13,000" not in " ".join(t.csv + t.to_html() for t in tables)
    assert "cost a week now is shown as c" in words
    # the chart says in words what it leaves out
    groups = next(s for s in specs if "facet" in s)
    subtitle = " ".join(groups["title"]["subtitle"])
    assert "A gap in a recorded line" in subtitle
    assert "Fostering: in-house and Fostering: agency: the latest count" in subtitle


def test_a_short_history_is_projected_but_says_it_is_untested():
    episodes, header = _history(months=18)
    result = sufficiency_forecast(
        episodes, header, "2020-01-01", "2021-06-30", n_sims=50, with_ets=False
    )
    assert result.backtest is None and not result.beats_naive
    assert "untested" in result.sentence
    assert len(result.at(36)) == len(result.at(12)) > 0


def test_the_sentence_names_the_winner_and_its_margin(forecast):
    # the naive forecast misses the agency group's growth of 12 a year; the model sees
    # the entries coming and misses only the few leavers it borrows (about 1 a year)
    total = forecast.backtest.total()
    assert total["mae_naive"] == pytest.approx(12)
    assert total["mae_stock_flow"] < 2
    cut = 1 - total["mae_stock_flow"] / total["mae_naive"]
    assert f"The placement-flow model won: its error was {cut:.0%} smaller" in forecast.sentence


def test_charts_carry_units_and_the_backtest_sentence(forecast):
    chart = charts.placement_forecast_chart(forecast).to_dict()
    assert "children" in " ".join(chart["title"]["text"])
    assert forecast.sentence.split(":")[0] in " ".join(chart["title"]["subtitle"])
    cost = charts.scenario_chart(forecast, measure="cost").to_dict()
    assert "a week" in " ".join(cost["title"]["text"])
    # costs are drawn in thousands: no six-digit whole number that could read as an ID
    values = [r["value"] for r in next(iter(cost["datasets"].values()))]
    assert max(values) < 1000
    kids = charts.scenario_chart(forecast).to_dict()
    assert "children" in " ".join(kids["title"]["text"])
    history, projected = forecast.total()
    total = charts.forecast_chart(history, projected, y_title="Children", unit_label="children")
    assert "children in" in " ".join(total.to_dict()["title"]["text"])


def test_without_a_forecast_the_chart_shows_the_trend_only():
    history = pd.DataFrame({"period": [2022, 2023, 2024], "value": [40.0, 42.0, 41.0]})
    empty = pd.DataFrame(columns=["period", "mean", "lower", "upper"])
    spec = charts.forecast_chart(
        history, empty, y_title="% NEET", backtest="The model did not beat naive."
    ).to_dict()
    assert "layer" not in spec  # one recorded line: no band, no dashed forecast
    assert "no forecast line" in " ".join(spec["title"]["text"])
    assert spec["title"]["subtitle"] == ["The model did not beat naive."]


def test_costs_and_scenario_settings_are_read_and_checked(tmp_path):
    (tmp_path / "cpanalysis.toml").write_text(
        "[costs]\nexamples = true\nresidential = 5000\nfostering_agency = 900.5\n"
        '[scenario]\nname = "Plus ten"\nentry_rate_change = 0.1\n',
        encoding="utf-8",
    )
    config = load_config(tmp_path)
    assert config.unit_costs == {"Residential": 5000.0, "Fostering: agency": 900.5}
    assert config.unit_costs_are_examples is True
    scenario = Scenario.from_settings(config.scenario)
    assert scenario == Scenario("Plus ten", 0.1, 0.0)
    (tmp_path / "cpanalysis.toml").write_text("[costs]\nresidential = -1\n", encoding="utf-8")
    with pytest.raises(InputError, match="residential must be a weekly cost"):
        load_config(tmp_path)
    (tmp_path / "cpanalysis.toml").write_text("[costs]\nhomes = 1\n", encoding="utf-8")
    with pytest.raises(InputError, match="unknown keys"):
        load_config(tmp_path)
    (tmp_path / "cpanalysis.toml").write_text(
        "[scenario]\nagency_to_in_house = 2\n", encoding="utf-8"
    )
    with pytest.raises(InputError, match="agency_to_in_house must be a number from 0 to 1"):
        load_config(tmp_path)
    # a scenario that changes nothing is no scenario
    assert Scenario.from_settings({"name": "Same", "entry_rate_change": 0.0}) is None


def test_the_project_file_labels_its_costs_as_examples():
    from pathlib import Path

    config = load_config(Path(__file__).resolve().parents[1])
    assert config.unit_costs and config.unit_costs_are_examples
    assert config.scenario["entry_rate_change"] == pytest.approx(0.1)
    assert WEEKS_PER_MONTH == pytest.approx(4.348, abs=1e-3)


def test_a_percentage_forecast_title_carries_its_percent_sign():
    history = pd.DataFrame(
        {"period": [2022, 2023, 2024], "value": [40.0, 42.0, 41.0], "unit": "percent"}
    )
    ahead = pd.DataFrame({"period": [2025], "mean": [43.0], "lower": [34.0], "upper": [52.0]})
    spec = charts.forecast_chart(history, ahead, y_title="% NEET").to_dict()
    assert "about 43% in 2024-25" in " ".join(spec["title"]["text"])


def test_a_single_recorded_year_without_a_forecast_still_draws():
    history = pd.DataFrame({"period": [2026], "value": [41.0], "unit": "percent"})
    empty = pd.DataFrame(columns=["period", "mean", "lower", "upper"])
    spec = charts.forecast_chart(history, empty, y_title="% NEET").to_dict()
    assert spec["encoding"]["x"]["scale"]["domain"] == ["2025-26"]


def test_every_group_withheld_at_the_jump_off_is_charted_from_a_year_ahead():
    # the last month end (December 2024) withheld whole, as a 31 March would be for the
    # Overview's sake: a month on, placed-for-adoption-like groups are projected within a
    # child of their count, so no group is drawn before December 2025, and the cost now
    # and the cost chart's first year go too; the total is still drawn from the start
    forecast = _three_agency_children(
        unit_costs=COSTS, withheld_months=[pd.Timestamp("2024-12-31")]
    )
    assert forecast.withheld_at_jump_off == list(GROUPS)
    spec = charts.placement_forecast_chart(forecast).to_dict()
    rows = [r for data in spec["datasets"].values() for r in data]
    projected = [pd.Timestamp(r["period"]) for r in rows if r["series"] == "Projected"]
    assert min(projected) == pd.Timestamp("2025-12-31")
    assert "The latest counts by group are not published" in " ".join(spec["title"]["subtitle"])
    assert (forecast.cost_table()["Cost a week now"] == "c").all()
    history, ahead = forecast.total()
    assert ahead["period"].min() == pd.Timestamp("2025-01-31")
    assert history["display"].iloc[-1] == "23"
