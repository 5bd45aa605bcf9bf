"""The schema as data: base plus per-year changes give each year's code lists."""

import pytest

from cpanalysis import schema


def test_years_run_from_2016_17_to_2026_27():
    assert schema.collection_years()[0] == 2017
    assert schema.collection_years()[-1] == 2027
    assert schema.year_label(2025) == "2024-25"


@pytest.mark.parametrize(
    ("list_name", "year", "present", "absent"),
    [
        ("sex", 2024, {"1", "2"}, {"M", "F"}),
        ("sex", 2025, {"M", "F", "U"}, {"1", "2"}),
        ("place", 2024, {"H5", "P2", "Z1"}, {"K3"}),
        ("place", 2025, {"K3", "Z1"}, {"H5", "P2"}),
        ("place", 2026, {"Z11", "Z12", "Z13", "Z14", "K3"}, {"Z1"}),
        ("activ", 2021, {"F3", "P3"}, {"F4", "F5", "P4", "P5"}),
        ("activ", 2022, {"F4", "F5", "P4", "P5", "0"}, {"F3", "P3"}),
        ("rec", 2018, {"E43", "E44"}, {"E45"}),
        ("rec", 2019, {"E45", "E46", "E47", "E48"}, {"E43", "E44"}),
        ("reason_place_change", 2018, {"CARPL"}, {"CUSTOD"}),
        ("reason_place_change", 2019, {"CUSTOD"}, set()),
    ],
)
def test_code_changes_take_effect_in_their_year(list_name, year, present, absent):
    codes = set(schema.code_list(list_name, year))
    assert present <= codes
    assert not (absent & codes)


def test_social_worker_episodes_start_in_2023_24():
    assert "sw_episodes" not in schema.table_specs(2023)
    spec = schema.table_spec("sw_episodes", 2024)
    assert spec.columns["SW_ID"].pii == "direct"
    with pytest.raises(KeyError, match="2022-23"):
        schema.table_spec("sw_episodes", 2023)


def test_episode_columns_types_and_blanks():
    spec = schema.table_spec("episodes", 2020)
    assert spec.column_names[:3] == ["CHILD", "DECOM", "RNE"]
    assert spec.columns["DEC"].blank is True
    assert spec.columns["DECOM"].blank is False
    assert spec.columns["HOME_POST"].pii == "direct"
    assert spec.unique_key == ("CHILD", "DECOM")
    assert "DEC" not in spec.required_columns


def test_one_row_per_child_tables():
    one_row = {k for k, s in schema.table_specs(2024).items() if s.one_row_per_child}
    assert one_row == {"header", "uasc", "ad1", "prev_perm", "oc2", "oc3"}


def test_labels_cover_retired_codes():
    assert schema.code_description("place", "H5").startswith("Semi-independent")
    assert schema.code_description("place", "K3") == "Registered supported accommodation"
    assert schema.code_description("place", "??") == "??"


def test_year_outside_schema_is_refused():
    with pytest.raises(ValueError, match="outside the schema"):
        schema.code_list("sex", 2010)
