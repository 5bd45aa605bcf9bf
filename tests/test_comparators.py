"""Tests of cpanalysis.comparators: built-in England figures and the DfE EES loader.

The fixture files in tests/fixtures/ees are tiny, hand-made files in the EES layout with
made-up round numbers (so every expected value below can be checked by eye); their names
are deliberately not the DfE's, because files are recognised by their columns.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import pandas as pd
import pytest

from cpanalysis.comparators import (
    COMPARATOR_COLUMNS,
    MEASURE_COLUMNS,
    comparators,
    england_figures,
    load_ees_tables,
    read_ees_file,
    years_months_to_days,
)
from cpanalysis.errors import InputError

EES = Path(__file__).resolve().parent / "fixtures" / "ees"


def one(frame: pd.DataFrame, **where: object) -> pd.Series:
    """The single row of ``frame`` matching every column == value in ``where``."""
    mask = pd.Series(True, index=frame.index)
    for column, value in where.items():
        mask &= frame[column] == value
    rows = frame.loc[mask]
    assert len(rows) == 1, f"{len(rows)} rows match {where}"
    return rows.iloc[0]


@pytest.fixture(scope="module")
def tables() -> pd.DataFrame:
    return load_ees_tables(EES)


# --------------------------------------------------------------------------- built in


def test_england_figures_are_the_published_headlines() -> None:
    england = england_figures()
    assert list(england.columns) == [*MEASURE_COLUMNS, "source", "note"]
    assert set(england["geography"]) == {"England"}
    # figures as in ssda903.md section 9 (DfE 2025 release)
    cla = one(england, measure="cla_31_march", time_period=2025)
    assert cla["value"] == 81770
    assert one(england, measure="cla_31_march", time_period=2021)["value"] == 80780
    assert one(england, measure="cla_rate_per_10000", time_period=2025)["value"] == 67
    stab = one(england, measure="long_term_stability_pct", time_period=2025)
    assert (stab["value"], stab["numerator"], stab["denominator"]) == (69, 19680, 28710)
    eet = one(england, measure="care_leavers_eet_pct", time_period=2025, breakdown="19 to 21 years")
    assert (eet["value"], eet["numerator"], eet["denominator"]) == (54, 20760, 38440)
    accom = one(
        england,
        measure="care_leavers_suitable_accom_pct",
        time_period=2025,
        breakdown="19 to 21 years",
    )
    assert (accom["value"], accom["numerator"], accom["denominator"]) == (89, 33810, 38190)
    assert one(england, measure="adopted", time_period=2025)["value"] == 3040
    assert one(england, measure="placements_3plus_pct", time_period=2025)["numerator"] == 8500


def test_england_adoption_averages_are_days_with_published_text_in_note() -> None:
    england = england_figures()
    row = one(england, measure="adoption_entry_to_order_days", time_period=2025)
    # published "02:03": 2 x 365.25 + 3 x 30.44 = 730.5 + 91.32 = 821.82 -> 822 days
    assert row["value"] == 822
    assert row["unit"] == "days"
    assert "02:03" in row["note"] and "365.25" in row["note"]
    # 2021 entry to placed "01:04": 365.25 + 121.76 = 487.01 -> 487
    assert one(england, measure="adoption_entry_to_placed_days", time_period=2021)["value"] == 487


def test_england_figures_cover_every_headline_measure_and_name_a_source() -> None:
    england = england_figures()
    yearly = {
        "cla_31_march",
        "cla_rate_per_10000",
        "started",
        "started_rate_per_10000",
        "ceased",
        "ceased_rate_per_10000",
        "placements_3plus_pct",
        "placements_3plus_2yr_pct",
        "long_term_stability_pct",
        "adoption_entry_to_decision_days",
        "adoption_decision_to_match_days",
        "adoption_match_to_placed_days",
        "adoption_entry_to_placed_days",
        "adoption_placed_to_order_days",
        "adoption_entry_to_order_days",
    }
    for measure in yearly:
        years = set(england.loc[england["measure"] == measure, "time_period"])
        assert years == {2021, 2022, 2023, 2024, 2025}, measure
    for measure in (
        "care_leavers_eet_pct",
        "care_leavers_neet_pct",
        "care_leavers_not_known_pct",
        "care_leavers_suitable_accom_pct",
    ):
        rows = england.loc[england["measure"] == measure]
        assert set(rows["breakdown"]) == {"17 to 18 years", "19 to 21 years"}, measure
        assert len(rows) == 10, measure
    assert england["source"].str.contains("https://explore-education-statistics").all()
    assert not england.duplicated(["time_period", "measure", "breakdown"]).any()
    assert england["value"].notna().all()
    percent = england.loc[england["unit"] == "percent", "value"]
    assert percent.between(0, 100).all()


# --------------------------------------------------------------------------- EES loader


def test_years_months_to_days() -> None:
    text = pd.Series(["02:03", "01:07", "00:10", "k", ""])
    days = years_months_to_days(text)
    # 730.5 + 91.32 = 821.82; 365.25 + 213.08 = 578.33; 304.4
    assert days.iloc[:3].tolist() == [822.0, 578.0, 304.0]
    assert days.iloc[3:].isna().all()


def test_cla_numbers_file_gives_counts_and_rates_for_every_geography(tables) -> None:
    england = one(tables, measure="cla_31_march", geography="England", time_period=2025)
    assert england["value"] == 80000 and england["unit"] == "count"
    assert england["geographic_level"] == "National"
    rate = one(tables, measure="cla_rate_per_10000", geography="England", time_period=2025)
    assert (rate["value"], rate["numerator"], rate["unit"]) == (67, 80000, "rate_per_10000")
    assert pd.isna(rate["denominator"])
    started = one(tables, measure="started_rate_per_10000", geography="England")
    assert started["value"] == 25
    region = one(tables, measure="cla_31_march", geography="South West", time_period=2025)
    assert region["value"] == 6000 and region["geographic_level"] == "Regional"
    devon = one(tables, measure="cla_31_march", geography="Devon", time_period=2024)
    assert devon["value"] == 870
    assert (devon["old_la_code"], devon["new_la_code"]) == ("878", "E10000008")
    assert devon["region_name"] == "South West"


def test_dfe_symbols_become_nan_with_the_symbol_kept(tables) -> None:
    banes = one(
        tables,
        measure="cla_31_march",
        geography="Bath and North East Somerset",
        time_period=2025,
    )
    assert math.isnan(banes["value"]) and pd.isna(banes["numerator"])
    assert banes["symbol"] == "c"
    devon_3plus = one(tables, measure="placements_3plus_pct", geography="Devon")
    assert math.isnan(devon_3plus["value"]) and devon_3plus["symbol"] == "k"
    assert devon_3plus["denominator"] == 900  # the total row was a number
    devon_eet = one(tables, measure="care_leavers_eet_pct", geography="Devon")
    assert devon_eet["symbol"] == "z" and pd.isna(devon_eet["denominator"])
    adoption_2024 = one(tables, measure="adoption_match_to_placed_days", time_period=2024)
    assert adoption_2024["symbol"] == "k" and math.isnan(adoption_2024["value"])
    assert pd.isna(one(tables, measure="cla_31_march", geography="England")["symbol"])


def test_stability_file_uses_the_total_row_as_denominator(tables) -> None:
    long_term = one(tables, measure="long_term_stability_pct", geography="England")
    assert (long_term["value"], long_term["numerator"], long_term["denominator"]) == (
        70,
        700,
        1000,
    )
    three = one(tables, measure="placements_3plus_pct", geography="England")
    assert (three["value"], three["numerator"], three["denominator"]) == (10, 8000, 80000)
    assert three["breakdown"] == "Total"


def test_care_leaver_files_with_identical_columns_are_told_apart(tables) -> None:
    eet = one(tables, measure="care_leavers_eet_pct", geography="England")
    assert (eet["value"], eet["numerator"], eet["denominator"]) == (54, 540, 1000)
    assert eet["breakdown"] == "19 to 21 years"
    neet = one(tables, measure="care_leavers_neet_pct", geography="England")
    assert (neet["value"], neet["numerator"]) == (40, 400)
    unknown = one(tables, measure="care_leavers_not_known_pct", geography="England")
    assert unknown["value"] == 6
    reason = one(tables, measure="care_leavers_neet_reason", geography="England")
    assert reason["breakdown"] == "19 to 21 years: pregnancy or parenting"
    assert reason["value"] == 5
    region = one(tables, measure="care_leavers_eet_pct", geography="South West")
    assert (region["value"], region["denominator"]) == (45, 100)
    accom = one(tables, measure="care_leavers_suitable_accom_pct", geography="England")
    assert (accom["value"], accom["numerator"], accom["denominator"]) == (91, 910, 1000)
    assert accom["breakdown"] == "17 to 18 years"


def test_adoption_file_gives_days_for_all_ages_only(tables) -> None:
    rows = tables.loc[tables["measure"] == "adoption_entry_to_order_days"]
    assert len(rows) == 1  # the "Aged 1" row is a breakdown we do not map
    row = rows.iloc[0]
    assert (row["value"], row["unit"], row["geography"]) == (822, "days", "England")
    assert "02:03" in row["note"]
    assert one(tables, measure="adoption_match_to_placed_days", time_period=2025)["value"] == 30


def test_unknown_files_are_skipped_with_a_warning(caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="cpanalysis.comparators"):
        frame = load_ees_tables(EES)
    skipped = " ".join(r.getMessage() for r in caplog.records)
    assert "unknown_table.csv" in skipped and "readme_notes.csv" in skipped
    assert read_ees_file(EES / "unknown_table.csv") is None
    # every known fixture file contributed rows
    assert set(frame["source"].str.split().str[-1]) == {
        "adoption.csv",
        "cla_numbers.csv",
        "health_outcomes.csv",
        "leavers_a.csv",
        "leavers_b.csv",
        "stability_download.csv",
    }


def test_frame_has_contract_columns_and_types(tables) -> None:
    assert list(tables.columns[:8]) == MEASURE_COLUMNS
    assert tables["time_period"].dtype == "int64"
    assert str(tables["numerator"].dtype) == "Int64"
    assert str(tables["denominator"].dtype) == "Int64"
    assert tables["value"].dtype == "float64"
    assert {"symbol", "geographic_level", "region_name", "old_la_code", "new_la_code"} <= set(
        tables.columns
    )


def test_a_value_that_is_not_a_number_names_file_row_and_column() -> None:
    with pytest.raises(InputError) as info:
        load_ees_tables(EES / "bad")
    message = str(info.value)
    assert "cla_numbers.csv" in message
    assert "row 3" in message  # second data row; the header is row 1
    assert "children_count" in message and "about 30k" in message


def test_missing_or_empty_benchmark_folder_is_an_input_error(tmp_path) -> None:
    with pytest.raises(InputError, match="not found"):
        load_ees_tables(tmp_path / "nowhere")
    with pytest.raises(InputError, match="no DfE"):
        load_ees_tables(tmp_path)


def test_financial_year_time_period_is_the_year_ending(tmp_path) -> None:
    text = (EES / "cla_numbers.csv").read_text(encoding="utf-8-sig")
    (tmp_path / "x.csv").write_text(text.replace("\n2025,", "\n202425,"), encoding="utf-8")
    frame = load_ees_tables(tmp_path)
    assert set(frame["time_period"]) == {2025, 2024}


# --------------------------------------------------------------------------- comparators


def test_built_in_comparators_are_england_only() -> None:
    frame = comparators("878")
    assert set(frame["comparator"]) == {"England"}
    assert one(frame, measure="cla_31_march", time_period=2025)["value"] == 81770


def test_comparators_from_tables_add_region_and_chosen_councils() -> None:
    frame = comparators("878", EES, compare_with=["Bath and North East Somerset"])
    # England from the tables wins over the built-in figure ...
    england = one(frame, comparator="England", measure="cla_31_march", time_period=2025)
    assert england["value"] == 80000
    # ... and the built-in figures fill what the tables lack
    assert one(frame, comparator="England", measure="adopted", time_period=2025)["value"] == 3040
    filled = one(frame, comparator="England", measure="cla_31_march", time_period=2024)
    assert filled["value"] == 83530
    region = frame.loc[frame["comparator"] == "Region"]
    assert set(region["geography"]) == {"South West"}
    assert one(region, measure="cla_31_march")["value"] == 6000
    chosen = frame.loc[frame["comparator"] == "Chosen council"]
    assert set(chosen["geography"]) == {"Bath and North East Somerset"}
    assert "Devon" not in set(frame["geography"])  # the council itself is not a comparator


def test_comparator_columns_are_the_same_from_both_sources() -> None:
    built_in = comparators(None)
    tables = comparators("878", EES)
    assert list(built_in.columns) == list(tables.columns)
    assert list(tables.columns) == [*MEASURE_COLUMNS, *COMPARATOR_COLUMNS]
    assert set(built_in["geographic_level"]) == {"National"}


def test_london_borough_is_compared_with_its_sub_region_and_london() -> None:
    frame = comparators("202", EES)
    region = frame.loc[frame["comparator"] == "Region"]
    assert set(region["geography"]) == {"Inner London", "London"}
    assert one(region, geography="London", measure="cla_31_march")["value"] == 9000


def test_relative_benchmark_folder_is_resolved_against_the_project_root() -> None:
    frame = comparators("878", "ees", root=EES.parent)
    assert (
        one(frame, comparator="England", measure="cla_31_march", time_period=2025)["value"] == 80000
    )


def test_council_found_by_ons_code_too() -> None:
    frame = comparators("E10000008", EES, compare_with=["e06000022"])
    assert set(frame.loc[frame["comparator"] == "Region", "geography"]) == {"South West"}
    assert "Bath and North East Somerset" in set(frame["geography"])


def test_unknown_chosen_council_is_an_input_error() -> None:
    with pytest.raises(InputError, match="Nowhere"):
        comparators("878", EES, compare_with=["Nowhere"])


def test_council_not_in_tables_gives_no_region_and_a_warning(caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="cpanalysis.comparators"):
        frame = comparators("999", EES)
    assert set(frame["comparator"]) == {"England"}
    assert any("999" in r.getMessage() for r in caplog.records)


# --------------------------------------------------------------------------- real DfE files


@pytest.fixture(scope="module")
def real_tables(shared_dir) -> pd.DataFrame:
    """The DfE's own files in ../shared (read once for the tests below)."""
    return load_ees_tables(shared_dir / "data" / "dfe")


def test_real_dfe_files_give_published_figures(real_tables) -> None:
    tables = real_tables
    england = tables.loc[tables["geography"] == "England"]
    assert one(england, measure="cla_31_march", time_period=2025)["value"] == 81770
    assert one(england, measure="long_term_stability_pct", time_period=2025)["value"] == 69
    eet = one(england, measure="care_leavers_eet_pct", time_period=2025, breakdown="19 to 21 years")
    assert eet["value"] == 54
    # EES release text: Blackpool has the highest rate, 184 per 10,000 (2025)
    blackpool = one(tables, measure="cla_rate_per_10000", geography="Blackpool", time_period=2025)
    assert blackpool["value"] == 184 and blackpool["old_la_code"] == "890"
    assert set(tables["geographic_level"]) == {"National", "Regional", "Local authority"}


def test_built_in_figures_agree_with_the_real_files(real_tables) -> None:
    real = real_tables.loc[real_tables["geography"] == "England"]
    key = ["time_period", "measure", "breakdown"]
    both = england_figures().merge(real, on=key, suffixes=("_built_in", "_real"))
    assert len(both) >= 140  # everything but the adoption count is in the files
    for column in ("value", "numerator", "denominator"):
        left, right = both[f"{column}_built_in"], both[f"{column}_real"]
        same = (left == right).fillna(False) | (left.isna() & right.isna())
        assert same.all(), both.loc[~same, [*key, f"{column}_built_in", f"{column}_real"]]


def test_years_months_text_is_only_accepted_in_the_adoption_averages(tmp_path) -> None:
    text = (EES / "cla_numbers.csv").read_text(encoding="utf-8-sig")
    bad = text.replace("12000000,80000,67", "12000000,02:03,67")
    (tmp_path / "cla.csv").write_text(bad, encoding="utf-8")
    with pytest.raises(InputError, match="children_count"):
        load_ees_tables(tmp_path)


# --------------------------------------------------------------------------- neighbours


def _model_file(path: Path) -> Path:
    """A tiny copy of the DfE's model in its layout: two rows of letters/numbers, a header."""
    rows = [
        ["A", "B", "C", "D", "E", 3, 4, 5, 6],
        [1, 2, 3, 4, 5, 6, 7, 8, 9],
        ["LA num", "LA Name", "LA number", "GOInd", "GOReg", "SN1", "SNP", "SN2", "SNP"],
        [878, "Devon", 878, 7, "South West", 800, "Close", 202, "Somewhat close"],
        [800, "Bath and North East Somerset", 800, 7, "South West", 878, "Close", None, None],
    ]
    pd.DataFrame(rows).to_excel(path, header=False, index=False, sheet_name="LA SN Groups")
    return path


def test_statistical_neighbours_are_read_from_the_dfe_model(tmp_path) -> None:
    from cpanalysis.comparators import read_statistical_neighbours

    model = _model_file(tmp_path / "sn.xlsx")
    assert read_statistical_neighbours(model, "878") == ["800", "202"]
    assert read_statistical_neighbours(model, "bath and north east somerset") == ["878"]
    with pytest.raises(InputError, match="'999' is not in the statistical-neighbour model"):
        read_statistical_neighbours(model, "999")


def test_the_real_dfe_model_names_ten_neighbours(shared_dir) -> None:
    from cpanalysis.comparators import read_statistical_neighbours

    model = shared_dir / "data" / "dfe" / "sn_may_2025.xlsx"
    # sn_may_2025.xlsx: Barnsley (370) is "very close" to 372, 384, 357 ... 394
    neighbours = read_statistical_neighbours(model, "370")
    assert len(neighbours) == 10
    assert neighbours[:3] == ["372", "384", "357"] and neighbours[-1] == "394"


def test_named_neighbours_are_comparators_of_their_own_kind() -> None:
    frame = comparators("878", EES, statistical_neighbours=["800", "Camden"])
    sn = frame.loc[frame["comparator"] == "Statistical neighbour"]
    assert set(sn["geography"]) == {"Bath and North East Somerset", "Camden"}
    with pytest.raises(InputError, match="statistical_neighbours: council 'Nowhere'"):
        comparators("878", EES, statistical_neighbours=["Nowhere"])


def test_neighbours_from_the_model_file_in_the_benchmark_folder(tmp_path, caplog) -> None:
    import shutil

    folder = tmp_path / "dfe"
    shutil.copytree(EES, folder)
    _model_file(folder / "sn_may_2025.xlsx")
    with caplog.at_level(logging.WARNING):
        frame = comparators("878", folder, statistical_neighbours=["sn_may_2025.xlsx"])
    sn = frame.loc[frame["comparator"] == "Statistical neighbour"]
    # 800 and 202 are both in the tables' council rows
    assert set(sn["old_la_code"]) == {"800", "202"}


def test_neighbours_without_dfe_tables_are_ignored_with_a_warning(caplog) -> None:
    with caplog.at_level(logging.WARNING):
        frame = comparators("878", statistical_neighbours=["800"])
    assert set(frame["comparator"]) == {"England"}
    assert "statistical_neighbours ['800'] ignored" in caplog.text


def test_health_outcomes_file_gives_the_oc2_health_measures(tables) -> None:
    # England: 5,580 of 6,360 under-5s with development assessments up to date (88%, the
    # DfE's 2025 figure); health assessments 60,000 of 66,000 (90%); teeth 50,000 (75%)
    dev = one(tables, measure="health_check_pct", geography="England")
    assert (dev["numerator"], dev["denominator"], dev["value"]) == (5580, 6360, 88)
    health = one(tables, measure="health_assessment_pct", geography="England")
    assert (health["numerator"], health["denominator"], health["value"]) == (60000, 66000, 90)
    assert one(tables, measure="teeth_check_pct", geography="England")["value"] == 75
    devon = one(tables, measure="health_check_pct", geography="Devon")
    assert math.isnan(devon["value"]) and devon["symbol"] == "c" and devon["denominator"] == 40


def test_health_outcomes_file_in_the_2024_layout(tmp_path) -> None:
    text = (
        "time_period,time_identifier,geographic_level,country_code,country_name,region_code,"
        "region_name,old_la_code,la_name,new_la_code,cla_group,characteristic,number,percentage\n"
        "2024,Reporting year,National,E92000001,England,,,,,,Development assessments: Children "
        "looked after ages 0 to 4 years,Development assessments up to date,5980,88\n"
        "2024,Reporting year,National,E92000001,England,,,,,,Development assessments: Children "
        "looked after ages 0 to 4 years,Total ages 0 to 4 years,6820,100\n"
    )
    (tmp_path / "health_2024.csv").write_text(text, encoding="utf-8")
    row = one(read_ees_file(tmp_path / "health_2024.csv"), measure="health_check_pct")
    assert (row["time_period"], row["numerator"], row["denominator"], row["value"]) == (
        2024, 5980, 6820, 88,
    )  # fmt: skip


def test_england_development_checks_are_built_in() -> None:
    england = england_figures()
    rows = england.loc[england["measure"] == "health_check_pct"].set_index("time_period")
    assert rows["value"].to_dict() == {2024: 88.0, 2025: 88.0}
    assert rows.loc[2025, "denominator"] == 6360
    assert rows["source"].str.contains("explore-education-statistics").all()
