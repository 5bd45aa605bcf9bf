"""open_analysis: tables and indicators opened once per process, handed out as copies."""

from __future__ import annotations

import os

import pandas as pd
import pytest

from cpanalysis import analysis
from cpanalysis.analysis import CouncilAnalysis
from cpanalysis.charts import forecast_chart
from cpanalysis.processed import ProcessedData


def _measures(value: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "time_period": [2025],
            "geography": ["Council"],
            "measure": ["cla_31_march"],
            "breakdown": ["Total"],
            "numerator": pd.array([40], dtype="Int64"),
            "denominator": pd.array([pd.NA], dtype="Int64"),
            "value": [value],
            "unit": ["count"],
        }
    )


@pytest.fixture
def processed(tmp_path, monkeypatch):
    """A processed folder whose loading and indicators are counted, not computed."""
    folder = tmp_path / "data" / "processed"
    folder.mkdir(parents=True)
    (folder / "clean_manifest.json").write_text("{}", encoding="utf-8")
    (folder / "episodes.parquet").write_bytes(b"first")
    calls = {"load": 0, "compute": []}

    def load(path):
        calls["load"] += 1
        return ProcessedData(council_name="Testshire", la_code="123", years=[2025])

    def compute(data, population=None, years=None):
        calls["compute"].append((population, years))
        return _measures(40.0)

    monkeypatch.setattr(analysis, "load_processed", load)
    monkeypatch.setattr(analysis, "compute_all", compute)
    monkeypatch.setattr(analysis, "_OPENED", {})
    monkeypatch.setattr(analysis, "_SUPPRESSED", {})
    return folder, calls


def test_a_second_notebook_on_the_same_data_reuses_the_tables_and_measures(processed):
    folder, calls = processed
    first = analysis.open_analysis(folder, population={2025: 1000})
    second = analysis.open_analysis(folder, population={2025: 1000}, suppression_threshold=3)
    assert calls == {"load": 1, "compute": [({2025: 1000}, None)]}
    # suppression and names still follow each call's own arguments
    assert (first.threshold, second.threshold) == (5, 3)
    assert list(second.measures["geography"]) == ["Testshire"]
    assert list(second.measures["display"]) == ["40"]


def test_callers_get_copies_that_cannot_change_each_other(processed):
    folder, _ = processed
    first = analysis.open_analysis(folder)
    first.measures.loc[:, "value"] = 99.0
    first.data.episodes["planted"] = 1
    second = analysis.open_analysis(folder)
    assert list(second.measures["value"]) == [40.0]
    assert "planted" not in second.data.episodes.columns


def test_new_files_population_or_years_are_computed_afresh(processed):
    folder, calls = processed
    analysis.open_analysis(folder)
    analysis.open_analysis(folder, population={2025: 1000})
    analysis.open_analysis(folder, population={2025: 1000}, collection_years=[2025])
    # re-cleaned data: same name, new size and time
    (folder / "episodes.parquet").write_bytes(b"second run")
    os.utime(folder / "episodes.parquet", ns=(1, 1))
    analysis.open_analysis(folder, population={2025: 1000}, collection_years=[2025])
    assert calls["load"] == 4
    assert calls["compute"] == [
        (None, None),
        ({2025: 1000}, None),
        ({2025: 1000}, [2025]),
        ({2025: 1000}, [2025]),
    ]


def _computed(tmp_path, value: float, display: str, threshold: int = 5):
    """A build's pickle of measures, with a suppressed copy that says ``display``."""
    suppressed = _measures(value).assign(geography="Testshire", display=display, suppressed=False)
    path = tmp_path / "measures.pickle"
    pd.to_pickle(
        {
            "measures": _measures(value),
            "suppressed": suppressed,
            "geography": "Testshire",
            "threshold": threshold,
        },
        path,
    )
    return path


def test_a_primed_kernel_uses_the_builds_measures_and_computes_nothing(processed, tmp_path):
    folder, calls = processed
    # 41 and "forty-one": only the build's copy says so; computing would give 40 and "40"
    analysis.prime(folder, _computed(tmp_path, 41.0, "forty-one"), population={2025: 1000})
    opened = analysis.open_analysis(folder, population={2025: 1000})
    assert calls["compute"] == []
    assert list(opened.measures["value"]) == [41.0]
    assert list(opened.measures["display"]) == ["forty-one"]


def test_priming_counts_only_for_the_same_population_years_and_threshold(processed, tmp_path):
    folder, calls = processed
    analysis.prime(folder, _computed(tmp_path, 41.0, "forty-one"), population={2025: 1000})
    other = analysis.open_analysis(folder, population={2025: 2000})  # another population
    assert calls["compute"] == [({2025: 2000}, None)]
    assert list(other.measures["display"]) == ["40"]
    analysis.prime(folder, _computed(tmp_path, 41.0, "forty-one", threshold=5))
    stricter = analysis.open_analysis(folder, suppression_threshold=50)
    # the build's measures (nothing computed again), suppressed afresh with this threshold
    assert len(calls["compute"]) == 1
    assert list(stricter.measures["display"]) == ["c"]
    named = analysis.open_analysis(folder, council_name="Othershire")
    assert list(named.measures["geography"]) == ["Othershire"]  # not the build's copy


def _council() -> CouncilAnalysis:
    # NEET share of care leavers aged 19 to 21: 40, 38, 36, 34% in four years
    measures = pd.DataFrame(
        {
            "time_period": [2022, 2023, 2024, 2025],
            "geography": "Testshire",
            "measure": "care_leavers_neet_pct",
            "breakdown": "19 to 21 years",
            "value": [40.0, 38.0, 36.0, 34.0],
            "unit": "percent",
            "display": ["40", "38", "36", "34"],
            "suppressed": False,
        }
    )
    return CouncilAnalysis(
        data=None, council="Testshire", measures=measures, comparators=measures.iloc[0:0],
        threshold=5, horizon=1,
    )  # fmt: skip


def test_neet_forecast_title_names_its_unit():
    neet = _council().neet_forecast()
    assert neet.history["unit"].eq("percent").all()
    chart = forecast_chart(neet.history, neet.forecast, y_title="% NEET")
    title = chart.to_dict()["title"]
    text = " ".join(title["text"]) if isinstance(title, dict) else str(title)
    # a straight line through 40, 38, 36, 34 reaches 32 in 2025-26: "about 32%", not "about 32"
    assert "Forecast: about 32% in 2025-26" in text


def test_neet_forecast_with_no_published_year_still_draws():
    # one return whose NEET figure is withheld: nothing to fit, and the chart must not fail
    council = _council()
    council.measures = council.measures.iloc[0:0]
    neet = council.neet_forecast()
    assert neet.history.empty and neet.forecast.empty
    chart = forecast_chart(neet.history, neet.forecast, y_title="% NEET")
    assert "$schema" in chart.to_dict()  # before the fix: ValueError, NaN to integer


def test_the_recorded_month_ends_of_the_looked_after_forecast_withhold_small_counts():
    # two collection years (April 2024 to March 2026: a forecast, too short to back-test);
    # one child comes into care on the 15th of each month from April 2024 and stays: 1, 2,
    # 3, ... looked after at the month ends. April to August (1 to 5 children) are
    # published as c and have no value in the chart's data; September's 6 has.
    from types import SimpleNamespace

    episodes = pd.DataFrame(
        {
            "CHILD": [f"C{i:012x}" for i in range(24)],
            "DECOM": pd.date_range("2024-04-01", periods=24, freq="MS") + pd.Timedelta(14, "D"),
            "DEC": pd.Series([pd.NaT] * 24, dtype="datetime64[ns]"),
            "RNE": "S",
            "REC": None,
            "LS": "C2",
        }
    )
    council = CouncilAnalysis(
        data=SimpleNamespace(episodes=episodes, is_demo=True),
        council="Testshire",
        measures=pd.DataFrame({"time_period": [2025, 2026], "measure": "cla_31_march"}),
        comparators=pd.DataFrame(),
        threshold=5,
        horizon=1,
    )
    result = council.looked_after_forecast()
    first = result.history.iloc[:6]
    assert first["display"].tolist() == ["c", "c", "c", "c", "c", "6"]
    assert first["value"].isna().tolist() == [True] * 5 + [False]
    spec = forecast_chart(result.history, result.forecast).to_dict()
    recorded = [
        r for rows in spec["datasets"].values() for r in rows if r.get("series") == "Recorded"
    ]
    assert [r["display"] for r in recorded[:6]] == ["c"] * 5 + ["6"]
    assert [r["value"] for r in recorded[:6]] == [None] * 5 + [6]


def test_the_sufficiency_page_is_told_the_31_marches_whose_placement_types_withhold(
    monkeypatch,
):
    # placement types withhold a figure in 2024 and 2026, none in 2025 (where only the
    # adopted count is withheld): the Sufficiency page hears of 31 March 2024 and 2026 only
    from types import SimpleNamespace

    seen = {}
    monkeypatch.setattr(analysis, "sufficiency_forecast", lambda *a, **k: seen.update(k))
    measures = pd.DataFrame(
        {
            "time_period": [2024, 2024, 2025, 2026, 2025],
            "measure": ["cla_by_placement_type"] * 4 + ["adopted"],
            "suppressed": [True, False, False, True, True],
        }
    )
    council = CouncilAnalysis(
        data=SimpleNamespace(episodes=None, header=None, is_demo=True),
        council="Testshire",
        measures=measures,
        comparators=pd.DataFrame(),
        threshold=5,
        horizon=1,
    )
    council.sufficiency()
    assert seen["withheld_months"] == [pd.Timestamp(2024, 3, 31), pd.Timestamp(2026, 3, 31)]
