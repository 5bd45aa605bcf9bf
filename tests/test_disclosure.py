"""Secondary suppression over the whole published set, one test per way a hidden cell leaked.

Each case is a small frame shaped like the demo council's downloads (issue 15, item 3);
the expected cells are worked out by hand in the comments. Threshold 5 throughout.
"""

from __future__ import annotations

import pandas as pd

from cpanalysis.disclosure import publishable_survival
from cpanalysis.indicators.frame import measure_frame
from cpanalysis.suppression import disclosure_check, suppress


def _row(measure: str, breakdown: str = "Total", n: int | None = None, **extra) -> dict:
    row = dict(measure=measure, breakdown=breakdown, numerator=n, value=n, unit="count")
    row.update(extra)
    return row


def _frame(rows: list[dict], year: int = 2019) -> pd.DataFrame:
    return measure_frame(
        [dict(r, time_period=r.get("time_period", year)) for r in rows], geography="Demo"
    )


def _shown(out: pd.DataFrame, measure: str, breakdown: str = "Total", year: int = 2019) -> str:
    found = out.loc[
        (out["measure"] == measure) & (out["breakdown"] == breakdown) & (out["time_period"] == year)
    ]
    assert len(found) == 1
    return str(found["display"].iloc[0])


CEASED = [
    ("Total", 162),
    ("Adopted", 8),
    ("Special guardianship order", 44),
    ("Other reasons", 33),
    ("Returned home to parents or relatives", 63),
    ("Independent living or stayed with carers at 18", 13),
    ("Residence or child arrangements order", 1),
]


def test_a_small_reason_is_protected_by_a_reason_that_is_not_a_headline():
    # Residence order (1) is primary. The smallest other reason is Adopted (8), but the
    # same 8 children are published as the "adopted" headline and as the children the mean
    # days average: hiding it would take the year's adoptions off the scorecard. The
    # smallest reason that stands for nothing else is Independent living (13): hidden, so
    # 162 - 8 - 44 - 33 - 63 = 14 = 13 + 1 is all a reader gets. 162 and 8 stay.
    rows = [_row("ceased_by_reason", b, n) for b, n in CEASED]
    rows += [_row("ceased", n=162), _row("adopted", n=8)]
    rows += [_row("adoption_entry_to_order_days", n=8, unit="days") | {"value": 731.0}]
    out = suppress(_frame(rows))
    reasons = out.loc[out["measure"] == "ceased_by_reason"].set_index("breakdown")["display"]
    assert reasons.to_dict() == {
        "Total": "162",
        "Adopted": "8",
        "Special guardianship order": "44",
        "Other reasons": "33",
        "Returned home to parents or relatives": "63",
        "Independent living or stayed with carers at 18": "c",
        "Residence or child arrangements order": "c",
    }
    assert _shown(out, "adopted") == "8"
    assert _shown(out, "ceased") == "162"
    mean = out.loc[out["measure"] == "adoption_entry_to_order_days"].iloc[0]
    assert (mean["display"], mean["numerator"]) == ("731", 8)


def test_the_adopted_count_goes_only_when_no_other_reason_can_protect():
    # 9 left care: 8 adopted, 1 by a residence order (primary). The only other cells are
    # Adopted (8) and the total (9): a part before the total, so Adopted is hidden, and
    # with it the "adopted" headline (the same 8 children) and the numerator of the mean
    # days (the mean, 731, does not give the count away, so it stays).
    rows = [_row("ceased_by_reason", b, n) for b, n in [("Total", 9), ("Adopted", 8)]]
    rows += [_row("ceased_by_reason", "Residence or child arrangements order", 1)]
    rows += [_row("ceased", n=9), _row("adopted", n=8)]
    rows += [_row("adoption_entry_to_order_days", n=8, unit="days") | {"value": 731.0}]
    out = suppress(_frame(rows))
    assert _shown(out, "ceased_by_reason", "Residence or child arrangements order") == "c"
    assert _shown(out, "ceased_by_reason", "Adopted") == "c"
    assert _shown(out, "adopted") == "c"
    assert _shown(out, "ceased_by_reason") == "9"
    assert _shown(out, "ceased") == "9"
    mean = out.loc[out["measure"] == "adoption_entry_to_order_days"].iloc[0]
    assert mean["display"] == "731"
    assert pd.isna(mean["numerator"])
    assert not mean["suppressed"]


def test_total_of_23_broken_down_3_9_11_keeps_the_total():
    # 3 is primary; 23 - 9 - 11 would give it back. The smallest other part (9) is hidden,
    # not the total: 23 - 11 = 12 = 3 + 9 is all a reader learns.
    rows = [_row("cla_by_age_group", b, n) for b, n in [("Total", 23), ("a", 3), ("b", 9)]]
    rows += [_row("cla_by_age_group", "c", 11)]
    out = suppress(_frame(rows))
    assert out["display"].tolist() == ["23", "c", "c", "11"]
    assert out["suppressed"].tolist() == [False, True, True, False]


def test_ceased_by_reason_cannot_be_recovered_through_the_sgo_quarters():
    # the 2019: 162 - 11 - 44 - 33 - 63 - 10 = 1. Residence (1) primary; the
    # smallest other reason is Independent living (10), hidden; then nothing leaks, and
    # the SGO quarters (3 + 4 + 30 + 7 = 44) keep their own rule: 3 + 4 = 7 > 5 is safe.
    ceased = [
        ("Total", 162),
        ("Adopted", 11),
        ("Special guardianship order", 44),
        ("Other reasons", 33),
        ("Returned home to parents or relatives", 63),
        ("Independent living or stayed with carers at 18", 10),
        ("Residence or child arrangements order", 1),
    ]
    rows = [_row("ceased_by_reason", b, n) for b, n in ceased]
    rows += [_row("adopted", n=11)]
    rows += [_row("sgo_granted", q, n) for q, n in [("Q1", 3), ("Q2", 4), ("Q3", 30), ("Q4", 7)]]
    rows += [_row("sgo_granted", n=44)]
    out = suppress(_frame(rows))
    hidden = out.loc[out["measure"] == "ceased_by_reason"].set_index("breakdown")["display"]
    assert hidden.to_dict() == {
        "Total": "162",
        "Adopted": "11",
        "Special guardianship order": "44",
        "Other reasons": "33",
        "Returned home to parents or relatives": "63",
        "Independent living or stayed with carers at 18": "c",
        "Residence or child arrangements order": "c",
    }
    quarters = out.loc[out["measure"] == "sgo_granted"].set_index("breakdown")["display"]
    assert quarters.to_dict() == {"Q1": "c", "Q2": "c", "Q3": "30", "Q4": "7", "Total": "44"}


def test_sgo_reason_is_kept_while_another_reason_can_protect():
    # 60 = SGO 9 + other 50 + residence 1 (primary). The SGO reason is the sgo_granted
    # headline (the same 9 children), so the other reasons (50) are hidden instead:
    # 60 - 9 = 51 = 50 + 1. The SGO quarters 4 + 5 (both primary) sum to 9 > 5: safe.
    ceased = [("Total", 60), ("Special guardianship order", 9), ("Other reasons", 50)]
    ceased += [("Residence or child arrangements order", 1)]
    rows = [_row("ceased_by_reason", b, n) for b, n in ceased]
    rows += [_row("sgo_granted", q, n) for q, n in [("Q1", 4), ("Q2", 5), ("Q3", 0), ("Q4", 0)]]
    rows += [_row("sgo_granted", n=9)]
    out = suppress(_frame(rows))
    reasons = out.loc[out["measure"] == "ceased_by_reason"].set_index("breakdown")["display"]
    assert reasons.to_dict() == {
        "Total": "60",
        "Special guardianship order": "9",
        "Other reasons": "c",
        "Residence or child arrangements order": "c",
    }
    quarters = out.loc[out["measure"] == "sgo_granted"].set_index("breakdown")["display"]
    assert quarters.to_dict() == {"Q1": "c", "Q2": "c", "Q3": "0", "Q4": "0", "Total": "9"}


def test_sgo_reason_hidden_hides_the_sgo_total_published_separately():
    # 10 = SGO 9 + residence 1: nothing but the SGO reason (a part, before the total) can
    # protect the 1. sgo_granted's total is the same 9 children, so it is hidden, and then
    # its quarters (4 + 5 = 9, both primary) keep two hidden cells: nothing more to do.
    ceased = [("Total", 10), ("Special guardianship order", 9)]
    ceased += [("Residence or child arrangements order", 1)]
    rows = [_row("ceased_by_reason", b, n) for b, n in ceased]
    rows += [_row("sgo_granted", q, n) for q, n in [("Q1", 4), ("Q2", 5), ("Q3", 0), ("Q4", 0)]]
    rows += [_row("sgo_granted", n=9)]
    out = suppress(_frame(rows))
    assert _shown(out, "ceased_by_reason", "Special guardianship order") == "c"
    assert _shown(out, "ceased_by_reason") == "10"
    assert _shown(out, "sgo_granted") == "c"
    quarters = out.loc[out["measure"] == "sgo_granted"].set_index("breakdown")["display"]
    assert quarters.to_dict() == {"Q1": "c", "Q2": "c", "Q3": "0", "Q4": "0", "Total": "c"}


def _leavers(eet: int, neet: int, not_known: int, reasons: tuple[int, int, int]) -> list[dict]:
    base = eet + neet + not_known
    band = "19 to 21 years"
    parts = {
        "care_leavers_eet_pct": eet,
        "care_leavers_neet_pct": neet,
        "care_leavers_not_known_pct": not_known,
        "care_leavers_in_touch_pct": base,
    }
    rows = [
        dict(measure=m, breakdown=band, numerator=n, denominator=base, value=100 * n / base)
        for m, n in parts.items()
    ]
    for reason, n in zip(
        ("Illness or disability", "Other circumstances", "Pregnancy or parenting"),
        reasons,
        strict=True,
    ):
        rows.append(
            dict(
                measure="care_leavers_neet_reason",
                breakdown=f"{band}: {reason}",
                numerator=n,
                denominator=base,
                value=100 * n / base,
            )
        )
    return [dict(r, unit="percent") for r in rows]


def test_care_leavers_not_known_cannot_be_worked_out_from_the_base():
    # base 27 = EET 26 + NEET 0 + not known 1. Not known (1) is primary; 27 - 26 - 0 = 1
    # would give it back, and hiding the NEET zero too would not help (0 + 1 = 1 is still
    # one child), so EET is hidden: EET + not known = 27, which is safe.
    out = suppress(_frame(_leavers(26, 0, 1, (0, 0, 0))))
    assert _shown(out, "care_leavers_not_known_pct", "19 to 21 years") == "c"
    assert _shown(out, "care_leavers_eet_pct", "19 to 21 years") == "c"
    assert _shown(out, "care_leavers_neet_pct", "19 to 21 years") == "0"
    assert _shown(out, "care_leavers_in_touch_pct", "19 to 21 years") == "100"


def test_neet_reasons_cannot_be_worked_out_from_the_neet_count():
    # base 40 = EET 25 + NEET 9 + not known 6; NEET 9 = 2 (illness) + 7 (other) + 0.
    # Illness (2) is primary; 9 - 7 - 0 would give it back, so "other" (7) is hidden.
    out = suppress(_frame(_leavers(25, 9, 6, (2, 7, 0))))
    band = "19 to 21 years"
    assert _shown(out, "care_leavers_neet_reason", f"{band}: Illness or disability") == "c"
    assert _shown(out, "care_leavers_neet_reason", f"{band}: Other circumstances") == "c"
    assert _shown(out, "care_leavers_neet_reason", f"{band}: Pregnancy or parenting") == "0"
    assert _shown(out, "care_leavers_neet_pct", band) == "23"  # 9 / 40 = 22.5 -> 23


def test_two_hidden_cells_summing_to_a_small_number_hide_a_third():
    # 30 = 1 + 1 + 28: the two ones are primary, but 30 - 28 = 2 says both are single
    # children. The 28 is hidden too; 30 - nothing = 30 is safe.
    rows = [
        _row("cla_by_sex", b, n)
        for b, n in [("Total", 30), ("Male", 1), ("Unknown", 1), ("Female", 28)]
    ]
    out = suppress(_frame(rows))
    assert out["display"].tolist() == ["30", "c", "c", "c"]
    # 30 = 2 + 4 + 24: 2 + 4 = 6 is above the threshold, so nothing more is hidden
    rows = [
        _row("cla_by_sex", b, n)
        for b, n in [("Total", 30), ("Male", 2), ("Unknown", 4), ("Female", 24)]
    ]
    assert suppress(_frame(rows))["display"].tolist() == ["30", "c", "c", "24"]


def test_three_year_adoption_numerator_cannot_give_back_a_hidden_year():
    # adopted 10, 3, 12 in 2023-2025; a1_days_3yr for 2025 averages the 25 children:
    # its numerator minus 10 and 12 would give the hidden 3. The numerator goes, the
    # mean (400 days) stays, and so does its sister measures' numerator (a2, 25).
    rows = [
        _row("adopted", n=10, time_period=2023),
        _row("adopted", n=3, time_period=2024),
        _row("adopted", n=12, time_period=2025),
        _row("a1_days_3yr", n=25, unit="days", time_period=2025) | {"value": 400.0},
        _row("a2_days_3yr", n=25, unit="days", time_period=2025) | {"value": 90.0},
    ]
    out = suppress(_frame(rows))
    assert out["display"].tolist() == ["10", "c", "12", "400", "90"]
    assert out["numerator"].isna().tolist() == [False, True, False, True, True]
    assert out["suppressed"].tolist() == [False, True, False, False, False]


def test_links_hold_within_one_year_and_skip_figures_not_available():
    # 2024's hidden 3 adopted children are protected in 2024's three-year measure; 2025's
    # three-year measure is "x" (not available), so it links nothing, and 2023 (no
    # three-year row) keeps its figures.
    rows = [
        _row("adopted", n=10, time_period=2023),
        _row("adopted", n=3, time_period=2024),
        _row("adopted", n=12, time_period=2025),
        _row("a1_days_3yr", n=None, unit="days", time_period=2025) | {"symbol": "x"},
    ]
    out = suppress(_frame(rows))
    assert out["display"].tolist() == ["10", "c", "12", "x"]
    assert out["suppressed"].tolist() == [False, True, False, False]


def _exact_curve(event_days: list[int], followed: int) -> pd.DataFrame:
    """An exact KM curve with one child placed on each listed day and no censoring."""
    at_risk = followed - pd.Series(range(len(event_days)))
    survival = (at_risk - 1) / followed
    rows = pd.DataFrame(
        {
            "days": event_days,
            "survival": survival,
            "lower": survival - 0.05,
            "upper": survival + 0.05,
            "at_risk": at_risk,
            "events": 1,
        }
    )
    start = pd.DataFrame(
        {
            "days": [0],
            "survival": [1.0],
            "lower": [1.0],
            "upper": [1.0],
            "at_risk": [followed],
            "events": [0],
        }
    )
    return pd.concat([start, rows], ignore_index=True)


def test_survival_curve_steps_only_by_whole_months_and_more_than_threshold_children():
    # 20 children followed, one placed on each of days 10, 20, ..., 140 (14 children).
    # Months end at 30.44, 60.88, 91.32, 121.76, 152.2 days: months 1-5 hold 3, 3, 3, 3
    # and 2 placements. A step needs more than 5 children: months 1+2 (6 children,
    # survival 14/20 at day 61), months 3+4 (6, survival 8/20 at day 122); month 5's two
    # are not drawn. The exact curve's one-child drop at day 10 never appears.
    exact = _exact_curve(list(range(10, 150, 10)), 20)
    out = publishable_survival(exact, 5)
    assert out["days"].tolist() == [0, 61, 122]
    assert out["survival"].tolist() == [1.0, 14 / 20, 8 / 20]
    assert out["events"].tolist() == [0, 6, 6]
    assert publishable_survival(exact, 0)["days"].tolist() == exact["days"].tolist()


def test_survival_curve_stops_where_few_children_are_followed():
    # 8 followed: the first month's 6 placements make a step (8 at risk > 5); then only 2
    # are left, so nothing more is drawn.
    exact = _exact_curve([1, 2, 3, 4, 5, 6, 40, 41], 8)
    out = publishable_survival(exact, 5)
    assert out["days"].tolist() == [0, 30]
    assert out["at_risk"].tolist() == [8, 8]


def _unhide(out: pd.DataFrame, frame: pd.DataFrame, breakdown: str) -> pd.DataFrame:
    """``out`` with one hidden row published again (a broken suppression, for the check)."""
    leaked = out.copy()
    at = leaked.index[leaked["breakdown"] == breakdown]
    leaked.loc[at, "suppressed"] = False
    leaked.loc[at, "numerator"] = frame.reset_index(drop=True).loc[at, "numerator"]
    return leaked


def test_the_check_finds_a_cell_left_alone_and_two_hidden_single_children():
    # 30 = 3 + 7 + 20: suppress hides 3 and 7 and the check finds nothing; publish the 7
    # again and 30 - 7 - 20 = 3 is recoverable. 30 = 1 + 1 + 28 with the 28 published
    # again: no single cell is known (2 = 0 + 2 = 1 + 1 = 2 + 0), but the hidden pair
    # sums to 2, a small number: reported as a small sum.
    frame = _frame([_row("cla_by_sex", b, n) for b, n in [("Total", 30), ("a", 3), ("b", 7)]])
    frame = pd.concat([frame, _frame([_row("cla_by_sex", "c", 20)])], ignore_index=True)
    out = suppress(frame)
    assert disclosure_check(frame, out).empty
    found = disclosure_check(frame, _unhide(out, frame, "b"))
    # the 3 is known exactly, and (the one hidden part under a shown total) a small sum
    assert set(map(tuple, found[["breakdown", "reason"]].values)) == {
        ("a", "recoverable"),
        ("a", "small sum"),
    }

    rows = [("Total", 30), ("Male", 1), ("Unknown", 1), ("Female", 28)]
    frame = _frame([_row("cla_by_sex", b, n) for b, n in rows])
    out = suppress(frame)
    assert disclosure_check(frame, out).empty
    found = disclosure_check(frame, _unhide(out, frame, "Female"))
    assert found["reason"].tolist() == ["small sum"]


def test_the_check_solves_links_together_across_tables():
    # Published: ceased_by_reason 20 = Adopted c + Returned home c + Other 10, and the
    # "adopted" headline 4 shown (a broken publication: equal to the hidden Adopted).
    # No one link has a single hidden cell in the breakdown (two hidden), but with the
    # headline the equations give Adopted = 4 and then Returned home = 20 - 4 - 10 = 6:
    # both are recoverable, which only solving the links together shows.
    ceased = [("Total", 20), ("Adopted", 4), ("Returned home to parents or relatives", 6)]
    frame = _frame(
        [_row("ceased_by_reason", b, n) for b, n in [*ceased, ("Other reasons", 10)]]
        + [_row("adopted", n=4)]
    )
    out = suppress(frame)
    assert disclosure_check(frame, out).empty
    assert _shown(out, "adopted") == "c"
    leaked = out.copy()
    leaked.loc[leaked["measure"] == "adopted", "suppressed"] = False
    found = disclosure_check(frame, leaked)
    recovered = found.loc[found["reason"] == "recoverable", "breakdown"]
    assert sorted(recovered) == ["Adopted", "Returned home to parents or relatives"]
