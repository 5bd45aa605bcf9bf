"""Plain-English names for what the site shows: measure names and breakdown labels.

Why a module of its own, outside the charts: the same words are needed by the charts, the
tables and their CSV downloads, the scorecard and the notebooks' sentences, and a reader
must meet one name for one thing everywhere. A measure id (``a1_days_3yr``) or a code from
the return (``CARPL``) is never what a reader sees: :func:`measure_name` and
:func:`breakdown_label` give the words, from the SSDA903 schema's code lists for codes, and
:func:`breakdown_order` puts age bands in age order rather than alphabetical order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from cpanalysis.schema import all_codes

__all__ = [
    "MeasureWording",
    "MEASURE_WORDING",
    "CODE_LISTS",
    "wording",
    "measure_name",
    "breakdown_label",
    "breakdown_order",
    "UNIT_WORDS",
    "unit_words",
]


@dataclass(frozen=True)
class MeasureWording:
    """How to speak about one measure.

    Attributes
    ----------
    label : str
        Short name for legends, axis titles and fallback titles.
    phrase : str
        Completes "<value> ..." into a finding, with ``{year}`` (``"2024-25"``), ``{march}``
        (``"31 March 2025"``) and ``{aged}`` (``" aged 19 to 21 years"`` or ``""``).
    compare_england : bool
        False for counts, where England's number is not comparable with a council's.
    """

    label: str
    phrase: str
    compare_england: bool = True


_CL = "of care leavers{aged}"
_ADOPT = "on average {what}, for children adopted in {year}"
_A3YR = "on average {what} ({code}, 3 years to {march})"
_OC2 = "of children looked after for 12 months or more {what} in {year}"

MEASURE_WORDING: dict[str, MeasureWording] = {
    # population
    "cla_31_march": MeasureWording(
        "Children looked after at 31 March", "children were looked after at {march}", False
    ),
    "cla_rate_per_10000": MeasureWording(
        "Children looked after per 10,000 children", "were looked after at {march}"
    ),
    "started": MeasureWording(
        "Children who started to be looked after",
        "children started to be looked after in {year}",
        False,
    ),
    "started_rate_per_10000": MeasureWording(
        "Children starting care per 10,000 children", "started to be looked after in {year}"
    ),
    "ceased": MeasureWording(
        "Children who ceased to be looked after",
        "children ceased to be looked after in {year}",
        False,
    ),
    "ceased_rate_per_10000": MeasureWording(
        "Children leaving care per 10,000 children", "ceased to be looked after in {year}"
    ),
    "ceased_by_reason": MeasureWording(
        "Children who ceased to be looked after, by reason",
        "children ceased to be looked after in {year}",
        False,
    ),
    "cla_by_legal_status": MeasureWording(
        "Children looked after by legal status", "children were looked after at {march}", False
    ),
    "cla_by_placement_type": MeasureWording(
        "Children looked after by placement type", "children were looked after at {march}", False
    ),
    "cla_by_age_group": MeasureWording(
        "Children looked after by age group", "children were looked after at {march}", False
    ),
    "cla_by_sex": MeasureWording(
        "Children looked after by sex", "children were looked after at {march}", False
    ),
    "uasc_31_march": MeasureWording(
        "Unaccompanied asylum-seeking children looked after",
        "unaccompanied asylum-seeking children were looked after at {march}",
        False,
    ),
    "adopted": MeasureWording("Children adopted", "children were adopted in {year}", False),
    # stability
    "placements_3plus_pct": MeasureWording(
        "Children with 3 or more placements in the year",
        "of children looked after had 3 or more placements in {year}",
    ),
    "placements_3plus_2yr_pct": MeasureWording(
        "Children with 3 or more placements in 2 years",
        "of children looked after for 2 years had 3 or more placements in the 2 years to {march}",
    ),
    "long_term_stability_pct": MeasureWording(
        "Long-term placement stability",
        "of children under 16 looked after for 2.5 years or more had lived with the same carer "
        "for 2 years at {march}",
    ),
    "placements_per_child": MeasureWording(
        "Placements per child looked after", "placements per child looked after in {year}"
    ),
    "placement_moves": MeasureWording("Placement moves", "placement moves in {year}", False),
    "placement_moves_by_type": MeasureWording(
        "Placement moves by placement type", "placement moves in {year}", False
    ),
    "placed_within_20_miles_pct": MeasureWording(
        "Children placed within 20 miles of home",
        "of children looked after were placed within 20 miles of home at {march}",
    ),
    "placed_within_50_miles_pct": MeasureWording(
        "Children placed within 50 miles of home",
        "of children looked after were placed within 50 miles of home at {march}",
    ),
    # adoption
    "adoption_entry_to_decision_days": MeasureWording(
        "Entering care to decision to adopt",
        _ADOPT.format(what="from entering care to the decision to adopt", year="{year}"),
    ),
    "adoption_decision_to_match_days": MeasureWording(
        "Decision to adopt to match",
        _ADOPT.format(what="from the decision to adopt to the match", year="{year}"),
    ),
    "adoption_match_to_placed_days": MeasureWording(
        "Match to moving in",
        _ADOPT.format(what="from the match to moving in with the adopters", year="{year}"),
    ),
    "adoption_entry_to_placed_days": MeasureWording(
        "Entering care to moving in with adopters",
        _ADOPT.format(what="from entering care to moving in with the adopters", year="{year}"),
    ),
    "adoption_placed_to_order_days": MeasureWording(
        "Moving in to adoption order",
        _ADOPT.format(what="from moving in to the adoption order", year="{year}"),
    ),
    "adoption_entry_to_order_days": MeasureWording(
        "Entering care to adoption order",
        _ADOPT.format(what="from entering care to the adoption order", year="{year}"),
    ),
    "a1_days_3yr": MeasureWording(
        "A1: entering care to moving in with adopters (3-year average)",
        _A3YR.format(
            what="from entering care to moving in with the adoptive family",
            code="A1",
            march="{march}",
        ),
    ),
    "a2_days_3yr": MeasureWording(
        "A2: court authority to match (3-year average)",
        _A3YR.format(what="from court authority to place to the match", code="A2", march="{march}"),
    ),
    "a10_days_3yr": MeasureWording(
        "A10: entering care to moving in, adjusted for foster-carer adoptions (3-year average)",
        _A3YR.format(
            what="from entering care to moving in with the adoptive family, adjusted for "
            "foster-carer adoptions",
            code="A10",
            march="{march}",
        ),
    ),
    "a1_within_426_days_pct": MeasureWording(
        "Children moving in with adopters within 14 months of entering care",
        "of children adopted moved in with their adoptive family within 14 months (426 days) "
        "of entering care, {year}",
    ),
    # care leavers
    "care_leavers_eet_pct": MeasureWording(
        "Care leavers in education, employment or training",
        _CL + " were in education, employment or training in {year}",
    ),
    "care_leavers_neet_pct": MeasureWording(
        "Care leavers not in education, employment or training",
        _CL + " were not in education, employment or training in {year}",
    ),
    "care_leavers_not_known_pct": MeasureWording(
        "Care leavers whose activity is not known", _CL + " had no known activity in {year}"
    ),
    "care_leavers_suitable_accom_pct": MeasureWording(
        "Care leavers in suitable accommodation",
        _CL + " were in suitable accommodation in {year}",
    ),
    "care_leavers_in_touch_pct": MeasureWording(
        "Care leavers in touch with the council", _CL + " were in touch with the council in {year}"
    ),
    "care_leavers_neet_reason": MeasureWording(
        "Care leavers not in education, employment or training, by reason",
        "care leavers{aged} were not in education, employment or training in {year}",
        False,
    ),
    # scorecard extras
    "sw_changes_per_child": MeasureWording(
        "Social worker changes per child", "social worker changes per child looked after in {year}"
    ),
    "sgo_granted": MeasureWording(
        "Special guardianship orders granted",
        "special guardianship orders were granted in {year}",
        False,
    ),
    "reviews_on_time_pct": MeasureWording(
        "Reviews held on time", "of reviews were held on time in {year}"
    ),
    "missing_children": MeasureWording(
        "Children who went missing from care", "children went missing from care in {year}", False
    ),
    "health_check_pct": MeasureWording(
        "Children under 5 with up-to-date development checks",
        "of children under 5 looked after for 12 months or more had up-to-date development "
        "checks in {year}",
    ),
    "health_assessment_pct": MeasureWording(
        "Children with an up-to-date health assessment",
        _OC2.format(what="had an up-to-date health assessment", year="{year}"),
    ),
    "teeth_check_pct": MeasureWording(
        "Children whose teeth were checked",
        _OC2.format(what="had their teeth checked", year="{year}"),
    ),
    "immunisations_pct": MeasureWording(
        "Children with up-to-date immunisations",
        _OC2.format(what="had up-to-date immunisations", year="{year}"),
    ),
    "sdq_completed_pct": MeasureWording(
        "Children with a completed Strengths and Difficulties Questionnaire",
        _OC2.format(what="had a completed Strengths and Difficulties Questionnaire", year="{year}"),
    ),
}


def wording(measure: str) -> MeasureWording:
    """The wording of a measure id; an unknown id gets its id as label and a plain phrase.

    Examples
    --------
    >>> wording("placements_3plus_pct").label
    'Children with 3 or more placements in the year'
    """
    if measure in MEASURE_WORDING:
        return MEASURE_WORDING[measure]
    label = measure.replace("_", " ").capitalize()
    return MeasureWording(label, f"({label.lower()}) in {{year}}", False)


def measure_name(measure: str) -> str:
    """The name a reader sees for a measure id (its :class:`MeasureWording` label).

    Examples
    --------
    >>> measure_name("a1_days_3yr")
    'A1: entering care to moving in with adopters (3-year average)'
    """
    return wording(measure).label


#: Measures whose breakdowns are codes of an SSDA903 code list (named in the schema).
CODE_LISTS: dict[str, str] = {
    "placement_moves": "reason_place_change",
    "ceased_by_reason": "rec",
    "cla_by_legal_status": "ls",
    "cla_by_placement_type": "place",
    "placement_moves_by_type": "place",
}

_QUARTERS = {
    "Q1": "Q1 (April to June)",
    "Q2": "Q2 (July to September)",
    "Q3": "Q3 (October to December)",
    "Q4": "Q4 (January to March)",
}


def breakdown_label(measure: str, breakdown: str) -> str:
    """The words for one breakdown of a measure: a code's description, else the breakdown.

    Codes of the return (reason for a placement change, reason ceased, placement type,
    legal status) are named from the schema's code lists; quarters of the collection year
    say which months they are; every other breakdown is already in words.

    Examples
    --------
    >>> breakdown_label("placement_moves", "CARPL")
    'Change to/implementation of care plan'
    >>> breakdown_label("sgo_granted", "Q1")
    'Q1 (April to June)'
    >>> breakdown_label("cla_by_age_group", "1 to 4 years")
    '1 to 4 years'
    """
    text = str(breakdown)
    if measure in CODE_LISTS:
        return all_codes(CODE_LISTS[measure]).get(text, text)
    return _QUARTERS.get(text, text)


_AGE = re.compile(r"^(?P<under>under )?(?P<age>\d+)\b", re.IGNORECASE)


def _order_key(measure: str, breakdown: str, position: int) -> tuple:
    """Sort key: ``Total`` first, then ages and quarters by number, codes in schema order."""
    text = str(breakdown)
    if text == "Total":
        return (0, 0.0, position)
    if text in _QUARTERS:
        return (1, float(text[1]), position)
    match = _AGE.match(text)
    if match:
        age = float(match["age"]) - (0.5 if match["under"] else 0.0)
        # "17 to 18 years: other reasons": age group first, then the order given
        return (1, age, position)
    if measure in CODE_LISTS:
        codes = list(all_codes(CODE_LISTS[measure]))
        if text in codes:
            return (2, float(codes.index(text)), position)
        return (3, 0.0, position)  # "Not recorded" and the like after the codes
    return (2, 0.0, position)


def breakdown_order(measure: str, breakdowns: Iterable[str]) -> list[str]:
    """The distinct breakdowns of a measure in reading order.

    ``Total`` first; age bands in age order (``Under 1 year``, ``1 to 4 years``, ...
    ``16 years and over``) and quarters Q1 to Q4; codes in the order of their code list;
    anything else in the order given.

    Examples
    --------
    >>> breakdown_order("cla_by_age_group", ["10 to 15 years", "1 to 4 years", "Total",
    ...                                      "Under 1 year", "16 years and over"])
    ['Total', 'Under 1 year', '1 to 4 years', '10 to 15 years', '16 years and over']
    """
    distinct = list(dict.fromkeys(str(b) for b in breakdowns))
    keyed = sorted(
        ((_order_key(measure, b, i), b) for i, b in enumerate(distinct)), key=lambda kb: kb[0]
    )
    return [b for _, b in keyed]


#: A measure's unit as a table's "Unit" column says it.
UNIT_WORDS = {
    "percent": "%",
    "days": "days",
    "count": "number",
    "rate_per_10000": "per 10,000 children",
    "per_child": "per child",
}


def unit_words(unit: str) -> str:
    """The unit in words (``"percent"`` -> ``"%"``); an unknown unit as it is."""
    return UNIT_WORDS.get(str(unit), str(unit))
