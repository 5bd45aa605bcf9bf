"""Care leavers aged 17-21 (OC3): activity, accommodation and contact, DfE definitions.

The cohort of year Y is the OC3 rows of the Y return: care leavers whose 17th to 21st
birthday fell in the year. Leavers who have died (``IN_TOUCH = DIED``) or returned home to
parents for 6+ months (``RHOM``) are left out, as in the DfE tables. The DfE also leaves out
leavers who were only ever looked after on short breaks (V3/V4) and those whose care was
taken over by another council (``REC = E3``): we check both against the episodes we hold
(every period of care of the young person a short break; the last one ended E3) and leave
such rows out, and rely on the council's OC3 table for the rest of the eligibility rules
(13 weeks in care after age 14, ending after 16), which need episodes from before the
returns held. Every percentage uses the whole remaining cohort as its base, *including*
those whose information is not known, so a council cannot improve its figure by losing
touch with young people.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from cpanalysis.histories import child_keys, periods_of_care
from cpanalysis.indicators.common import age_at_birthday_in_year, latest_per_child, rows_for_year
from cpanalysis.indicators.frame import NOT_APPLICABLE, empty_measure_frame, measure_frame

__all__ = [
    "EET_CODES",
    "NEET_REASONS",
    "AGE_BANDS",
    "care_leaver_cohort",
    "care_leaver_measures",
    "not_eligible",
]

EET_CODES = ("F1", "P1", "F2", "P2", "F3", "P3", "F4", "P4", "F5", "P5")
NEET_REASONS = {
    "G4": "Illness or disability",
    "G5": "Other circumstances",
    "G6": "Pregnancy or parenting",
}
EXCLUDED_IN_TOUCH = ("DIED", "RHOM")
#: Reason a period of care ended that makes a care leaver another council's (care taken over).
TRANSFERRED_REC = ("E3",)
AGE_BANDS = (("17 to 18 years", 17, 18), ("19 to 21 years", 19, 21))


def not_eligible(episodes: pd.DataFrame | None) -> pd.DataFrame:
    """Children the episodes show are not the council's care leavers (child key columns).

    Those whose every period of care we hold was a short break (V3/V4), and those whose last
    period of care we hold ended with their care taken over by another council (E3). A
    young person with no episodes in the returns held is not listed: the OC3 row stands.
    """
    if episodes is None or len(episodes) == 0:
        return pd.DataFrame()
    periods = periods_of_care(episodes)
    keys = child_keys(periods)
    grouped = periods.sort_values([*keys, "START"], kind="stable").groupby(keys, sort=False)
    only_breaks = grouped["SHORT_BREAK"].all()
    last_reason = grouped["REASON_CEASED"].last()
    transferred = last_reason.astype("string").isin(TRANSFERRED_REC).fillna(False)
    out = (only_breaks | transferred).rename("NOT_ELIGIBLE")
    return out[out].reset_index()[keys]


def care_leaver_cohort(
    oc3: pd.DataFrame,
    header: pd.DataFrame,
    year: int,
    *,
    ineligible: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """OC3 rows of collection year ``year`` with age band, DfE exclusions applied.

    Parameters
    ----------
    oc3 : DataFrame
        ``CHILD``, ``IN_TOUCH``, ``ACTIV``, ``ACCOM``, ``YEAR``; ``DOB`` if present (else
        taken from ``header``).
    header : DataFrame
        ``CHILD``, ``DOB`` (first of the month of birth), ``YEAR``.
    year : int
        Collection year.
    ineligible : DataFrame, optional
        Child key columns of young people the episodes show are not the council's care
        leavers (:func:`not_eligible`); their rows are left out.

    Returns
    -------
    DataFrame
        The cohort with ``AGE`` (Int64: age reached at the birthday in the year, from the
        month of birth) and ``AGE_BAND`` (``"17 to 18 years"`` / ``"19 to 21 years"``);
        rows outside 17-21, DIED/RHOM leavers and ``ineligible`` ones are left out.
    """
    rows = rows_for_year(oc3, year)
    if rows.empty:
        return rows.assign(AGE=pd.Series(dtype="Int64"), AGE_BAND=pd.Series(dtype="string"))
    keys = child_keys(rows)
    if "DOB" not in rows.columns or rows["DOB"].isna().all():
        dob = latest_per_child(header)[[*keys, "DOB"]] if len(header) else None
        rows = rows.drop(columns=["DOB"], errors="ignore")
        rows = rows.merge(dob, on=keys, how="left") if dob is not None else rows.assign(DOB=pd.NaT)
    rows = rows.assign(AGE=age_at_birthday_in_year(rows["DOB"], year))
    band = pd.Series(pd.NA, index=rows.index, dtype="string")
    for label, low, high in AGE_BANDS:
        band = band.mask(rows["AGE"].between(low, high).fillna(False), label)
    rows = rows.assign(AGE_BAND=band)
    excluded = rows["IN_TOUCH"].astype("string").isin(EXCLUDED_IN_TOUCH).fillna(False)
    keep = (rows["AGE_BAND"].notna() & ~excluded).to_numpy(dtype=bool)
    if ineligible is not None and len(ineligible):
        on = [k for k in keys if k in ineligible.columns]
        listed = rows[on].merge(ineligible[on].drop_duplicates(), on=on, how="left", indicator=True)
        keep = keep & (listed["_merge"] == "left_only").to_numpy(dtype=bool)
    return rows.loc[keep]


def _not_applicable(year: int, band: str, measures: dict) -> list[dict]:
    """``z`` rows of an age band with nobody in it (a percentage of no one)."""
    breakdowns = [(m, band) for m in measures]
    breakdowns += [("care_leavers_neet_reason", f"{band}: {r}") for r in NEET_REASONS.values()]
    return [
        dict(
            time_period=year,
            measure=measure,
            breakdown=breakdown,
            numerator=0,
            denominator=0,
            value=float("nan"),
            symbol=NOT_APPLICABLE,
        )
        for measure, breakdown in breakdowns
    ]


def care_leaver_measures(
    oc3: pd.DataFrame,
    header: pd.DataFrame,
    years: Sequence[int],
    *,
    geography: str,
    episodes: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """EET, NEET (and why), not known, suitable accommodation and in touch, by age band.

    Parameters
    ----------
    oc3, header : DataFrame
        As for :func:`care_leaver_cohort`.
    years : sequence of int
        Collection years.
    geography : str
        Council name.
    episodes : DataFrame, optional
        Episodes (raw or annotated): young people they show were only on short breaks or
        whose care another council took over are left out (:func:`not_eligible`).

    Returns
    -------
    DataFrame
        Measure frame (unit percent; numerator = care leavers in the group, denominator =
        the age band's cohort): ``care_leavers_eet_pct``, ``care_leavers_neet_pct``,
        ``care_leavers_not_known_pct``, ``care_leavers_suitable_accom_pct``,
        ``care_leavers_in_touch_pct`` (breakdown = age band) and
        ``care_leavers_neet_reason`` (breakdown = ``"<age band>: <reason>"``). An age
        band with nobody in it has its rows with symbol ``z`` (not applicable); a year
        without OC3 rows has none.
    """
    if len(oc3) == 0 or not years:
        return empty_measure_frame()
    rows: list[dict] = []
    ineligible = not_eligible(episodes)
    for year in years:  # a handful of collection years
        if rows_for_year(oc3, year).empty:
            continue  # no OC3 table for the year: nothing to say
        cohort = care_leaver_cohort(oc3, header, year, ineligible=ineligible)
        activ = cohort["ACTIV"].astype("string")
        eet = activ.isin(EET_CODES).fillna(False)
        neet = activ.isin(tuple(NEET_REASONS)).fillna(False)
        flags = {
            "care_leavers_eet_pct": eet,
            "care_leavers_neet_pct": neet,
            "care_leavers_not_known_pct": ~eet & ~neet,
            "care_leavers_suitable_accom_pct": cohort["ACCOM"]
            .astype("string")
            .str.endswith("1")
            .fillna(False),
            "care_leavers_in_touch_pct": (cohort["IN_TOUCH"].astype("string") == "YES").fillna(
                False
            ),
        }
        for band, _, _ in AGE_BANDS:
            in_band = (cohort["AGE_BAND"] == band).to_numpy(dtype=bool)
            base = int(in_band.sum())
            if base == 0:  # nobody in the age band: not applicable (z), not "x"
                rows += _not_applicable(year, band, flags)
                continue
            for measure, flag in flags.items():
                n = int(flag.to_numpy(dtype=bool)[in_band].sum())
                rows.append(
                    dict(
                        time_period=year,
                        measure=measure,
                        breakdown=band,
                        numerator=n,
                        denominator=base,
                        value=100.0 * n / base,
                    )
                )
            for code, reason in NEET_REASONS.items():
                n = int((activ == code).fillna(False).to_numpy(dtype=bool)[in_band].sum())
                rows.append(
                    dict(
                        time_period=year,
                        measure="care_leavers_neet_reason",
                        breakdown=f"{band}: {reason}",
                        numerator=n,
                        denominator=base,
                        value=100.0 * n / base,
                    )
                )
    if not rows:
        return empty_measure_frame()
    return measure_frame(pd.DataFrame(rows), geography=geography, unit="percent")
