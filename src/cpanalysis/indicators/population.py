"""How many children are looked after, start and cease: the DfE's headline counts.

Definitions follow the DfE's "Children looked after in England including adoptions"
release (see methodology.qmd): short breaks (V3/V4) are left out; a child counts once per
year however many times they started or ceased; rates are per 10,000 children aged 0-17.
A child whose episode was open at 31 March in a return and who is missing from the next one
is looked after at that 31 March and ceases in no year (``cpanalysis.merge`` docstring).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from cpanalysis.histories import annotated, child_keys, periods_of_care, placement_group
from cpanalysis.indicators.common import age_at, in_year, latest_per_child, looked_after_at
from cpanalysis.indicators.frame import empty_measure_frame, measure_frame, year_end

__all__ = [
    "CEASED_REASON_GROUPS",
    "LEGAL_STATUS_GROUPS",
    "AGE_GROUPS",
    "ceased_reason_group",
    "legal_status_group",
    "age_group",
    "sex_label",
    "population_measures",
]

#: Reasons a period of care ended, grouped as the committee reads them (REC codes).
CEASED_REASON_GROUPS: dict[str, tuple[str, ...]] = {
    "Adopted": ("E11", "E12"),
    "Special guardianship order": ("E43", "E44", "E45", "E46", "E47", "E48"),
    "Returned home to parents or relatives": ("E4A", "E4B"),
    "Residence or child arrangements order": ("E41",),
    "Independent living or stayed with carers at 18": ("E17", "E5", "E6"),
}
OTHER_REASONS = "Other reasons"

LEGAL_STATUS_GROUPS: dict[str, tuple[str, ...]] = {
    "Interim care order": ("C1",),
    "Full care order": ("C2",),
    "Placement order granted": ("E1", "D1"),
    "Voluntary agreement under section 20": ("V2",),
    "Detained for child protection": ("L1", "L2", "L3"),
    "Youth justice legal status": ("J1", "J2", "J3"),
}

#: DfE age bands at 31 March: (label, lowest age, highest age).
AGE_GROUPS: tuple[tuple[str, int, int], ...] = (
    ("Under 1 year", 0, 0),
    ("1 to 4 years", 1, 4),
    ("5 to 9 years", 5, 9),
    ("10 to 15 years", 10, 15),
    ("16 years and over", 16, 200),
)

_SEX = {"1": "Male", "M": "Male", "2": "Female", "F": "Female", "U": "Unknown"}


def _group(codes: pd.Series, groups: dict[str, tuple[str, ...]], other: str) -> pd.Series:
    lookup = {code: name for name, members in groups.items() for code in members}
    return codes.astype("string").map(lookup).fillna(other).astype("string")


def ceased_reason_group(rec: pd.Series) -> pd.Series:
    """Group ``REC`` codes into :data:`CEASED_REASON_GROUPS` (others: "Other reasons")."""
    return _group(rec, CEASED_REASON_GROUPS, OTHER_REASONS)


def legal_status_group(ls: pd.Series) -> pd.Series:
    """Group ``LS`` codes into :data:`LEGAL_STATUS_GROUPS` (others: "Other")."""
    return _group(ls, LEGAL_STATUS_GROUPS, "Other")


def age_group(age: pd.Series) -> pd.Series:
    """DfE age band of whole-year ages (missing age: "Not known")."""
    out = pd.Series("Not known", index=age.index, dtype="string")
    numbers = age.astype("Float64")
    for label, low, high in AGE_GROUPS:
        out = out.mask(((numbers >= low) & (numbers <= high)).fillna(False), label)
    return out


def sex_label(sex: pd.Series) -> pd.Series:
    """Male/Female/Unknown from either coding (1/2 up to 2023-24, M/F/U from 2024-25)."""
    return sex.astype("string").map(_SEX).fillna("Not known").astype("string")


def _breakdown_rows(labels: pd.Series, year: int, measure: str, total: int) -> list[dict]:
    counts = labels.value_counts(sort=False)
    rows = [
        dict(time_period=year, measure=measure, breakdown=str(k), numerator=int(v), value=v)
        for k, v in counts.items()
    ]
    rows.append(dict(time_period=year, measure=measure, breakdown="Total", numerator=total))
    rows[-1]["value"] = total
    return rows


def _count(year: int, measure: str, n: int) -> dict:
    return dict(time_period=year, measure=measure, breakdown="Total", numerator=n, value=n)


def _rate(year: int, measure: str, n: int, population: dict[int, int] | None) -> dict:
    pop = (population or {}).get(year)
    value = n * 10_000 / pop if pop else np.nan
    row = dict(time_period=year, measure=measure, breakdown="Total", numerator=n, value=value)
    row["unit"] = "rate_per_10000"
    if not pop:
        row["symbol"] = "x"
    return row


def population_measures(
    episodes: pd.DataFrame,
    header: pd.DataFrame,
    uasc: pd.DataFrame,
    years: Sequence[int],
    *,
    geography: str,
    population: dict[int, int] | None = None,
) -> pd.DataFrame:
    """Children looked after at 31 March, starting and ceasing, with breakdowns.

    Parameters
    ----------
    episodes : DataFrame
        Episodes (raw or annotated), columns as :func:`cpanalysis.histories.annotate_episodes`.
    header : DataFrame
        ``CHILD``, ``DOB`` (date), ``SEX``, ``YEAR``: the latest row per child is used.
    uasc : DataFrame
        ``CHILD``, ``DUC`` (date UASC status ceased, missing if still UASC), ``YEAR``.
    years : sequence of int
        Collection years to report.
    geography : str
        Council name for the ``geography`` column.
    population : dict[int, int], optional
        ONS mid-year estimate of children aged 0-17 by collection year; without it (or
        for a year it lacks) rates have no value and the symbol ``x`` (not available).

    Returns
    -------
    DataFrame
        Measure frame with ``cla_31_march``, ``started``, ``ceased``, ``ceased_by_reason``,
        ``adopted``, ``uasc_31_march``, ``cla_by_legal_status``, ``cla_by_placement_type``,
        ``cla_by_age_group``, ``cla_by_sex`` (unit count) and
        ``cla_rate_per_10000``, ``started_rate_per_10000``, ``ceased_rate_per_10000``.
    """
    if len(episodes) == 0 or not years:
        return empty_measure_frame()
    ep = annotated(episodes)
    keys = child_keys(ep)
    periods = periods_of_care(ep)
    periods = periods.loc[~periods["SHORT_BREAK"].to_numpy(dtype=bool)]
    people = latest_per_child(header)[[*keys, "DOB", "SEX"]] if len(header) else None
    uasc_latest = latest_per_child(uasc) if len(uasc) else uasc

    rows: list[dict] = []
    for year in years:  # a handful of collection years, not a loop over children
        end = year_end(year)
        at = looked_after_at(ep, end)
        n_at = len(at)
        started = periods.loc[in_year(periods["START"], year).to_numpy(dtype=bool)]
        n_started = started.drop_duplicates(keys).shape[0]
        # a period that ended on an unknown date after a 31 March is no cessation of any
        # year: no return records it (cpanalysis.merge docstring)
        ended = in_year(periods["END"], year).to_numpy(dtype=bool)
        ceased = periods.loc[ended & periods["END_KNOWN"].to_numpy(dtype=bool)]
        ceased_last = ceased.sort_values([*keys, "END"]).drop_duplicates(keys, keep="last")
        n_ceased = len(ceased_last)
        adopted = ceased.loc[ceased["REASON_CEASED"].isin(["E11", "E12"]).to_numpy(dtype=bool)]

        rows += [
            _count(year, "cla_31_march", n_at),
            _count(year, "started", n_started),
            _count(year, "ceased", n_ceased),
            _count(year, "adopted", adopted.drop_duplicates(keys).shape[0]),
        ]
        # rates are always listed; without a population estimate they are "x"
        rows += [
            _rate(year, "cla_rate_per_10000", n_at, population),
            _rate(year, "started_rate_per_10000", n_started, population),
            _rate(year, "ceased_rate_per_10000", n_ceased, population),
        ]
        reasons = ceased_reason_group(ceased_last["REASON_CEASED"])
        rows += _breakdown_rows(reasons, year, "ceased_by_reason", n_ceased)
        rows += _breakdown_rows(legal_status_group(at["LS"]), year, "cla_by_legal_status", n_at)
        rows += _breakdown_rows(placement_group(at["PLACE"]), year, "cla_by_placement_type", n_at)
        if people is not None:
            who = at[keys].merge(people, on=keys, how="left")
        else:
            who = at[keys].assign(DOB=pd.NaT, SEX=pd.NA)
        rows += _breakdown_rows(age_group(age_at(who["DOB"], end)), year, "cla_by_age_group", n_at)
        rows += _breakdown_rows(sex_label(who["SEX"]), year, "cla_by_sex", n_at)

        n_uasc = 0
        if len(uasc_latest):
            still = uasc_latest["DUC"].isna() | (uasc_latest["DUC"] > end)
            uasc_children = uasc_latest.loc[still.to_numpy(dtype=bool), keys]
            n_uasc = at[keys].merge(uasc_children, on=keys).shape[0]
        rows.append(_count(year, "uasc_31_march", n_uasc))

    frame = pd.DataFrame(rows)
    frame["unit"] = frame["unit"].fillna("count") if "unit" in frame else "count"
    return measure_frame(frame, geography=geography)
