"""Tests of cpanalysis.labels: names for measure ids and codes, breakdowns in reading order."""

from __future__ import annotations

from cpanalysis.labels import breakdown_label, breakdown_order, measure_name, unit_words


def test_reason_for_placement_change_codes_are_named_from_the_schema():
    assert breakdown_label("placement_moves", "CARPL") == "Change to/implementation of care plan"
    assert breakdown_label("placement_moves", "ALLEG") == "Allegation (s47)"
    assert (
        breakdown_label("placement_moves", "CREQB")
        == "Carer requests placement end due to child's behaviour"
    )
    assert (
        breakdown_label("placement_moves", "LAREQ")
        == "Responsible or area authority requests placement end"
    )
    # not a code: kept as it is
    assert breakdown_label("placement_moves", "Not recorded") == "Not recorded"


def test_placement_type_legal_status_and_reason_ceased_codes_are_named():
    assert breakdown_label("cla_by_placement_type", "K2") == (
        "Children's home subject to Children's Homes Regulations"
    )
    assert breakdown_label("cla_by_legal_status", "C2") == "Full care order"
    assert breakdown_label("ceased_by_reason", "E11") == "Adopted - application unopposed"
    # groups already in words pass through
    assert breakdown_label("cla_by_placement_type", "Foster placements") == "Foster placements"


def test_quarters_say_which_months():
    assert breakdown_label("sgo_granted", "Q4") == "Q4 (January to March)"
    assert breakdown_label("sgo_granted", "Total") == "Total"


def test_measure_names_not_ids():
    assert measure_name("ceased_by_reason") == "Children who ceased to be looked after, by reason"
    assert measure_name("a1_days_3yr").startswith("A1: entering care to moving in")


def test_age_bands_in_age_order_total_first():
    given = ["1 to 4 years", "10 to 15 years", "16 years and over", "5 to 9 years", "Total",
             "Under 1 year"]  # fmt: skip
    assert breakdown_order("cla_by_age_group", given) == [
        "Total",
        "Under 1 year",
        "1 to 4 years",
        "5 to 9 years",
        "10 to 15 years",
        "16 years and over",
    ]


def test_care_leaver_reasons_by_age_group_then_as_given():
    given = [
        "19 to 21 years: other reasons",
        "17 to 18 years: other reasons",
        "17 to 18 years: illness or disability",
        "19 to 21 years: illness or disability",
    ]
    assert breakdown_order("care_leavers_neet_reason", given) == [
        "17 to 18 years: other reasons",
        "17 to 18 years: illness or disability",
        "19 to 21 years: other reasons",
        "19 to 21 years: illness or disability",
    ]


def test_codes_in_code_list_order_then_the_rest():
    # the schema lists CARPL, CLOSE, ALLEG, ... in that order
    given = ["Not recorded", "ALLEG", "CARPL", "CLOSE", "Total"]
    assert breakdown_order("placement_moves", given) == [
        "Total",
        "CARPL",
        "CLOSE",
        "ALLEG",
        "Not recorded",
    ]


def test_units_in_words():
    assert unit_words("percent") == "%"
    assert unit_words("rate_per_10000") == "per 10,000 children"
    assert unit_words("weeks") == "weeks"
