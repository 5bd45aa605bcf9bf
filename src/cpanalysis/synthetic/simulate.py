"""Life-course simulation of a made-up council's children looked after.

Every step is one numpy expression over all periods of care at once; the only Python loops
run over a handful of stages (first entry, re-entries) and over collection years. The
result, :class:`SyntheticCouncil`, is the *true* history: children, periods of care,
placements (with carer ids), temporary moves, legal statuses, the episodes they cut into,
adoptions with their stage dates, care leavers' outcomes and the other records of the
return. :mod:`cpanalysis.synthetic.extract` turns it into yearly returns and
:mod:`cpanalysis.synthetic.truth` computes the indicators straight from it.

Dates are ``int64`` days since 1 January 1970 while simulating and ``datetime64`` in the
published tables; an end date of ``NaT`` means "still looked after on the horizon" (31 March
of the last collection year).

Adoptions are mostly under a placement order (legal status E1, placed A5 with the foster
carers or A6 with new adopters); some babies are placed with their parents' consent instead
(A3/A4, accommodated on V2 or on a care order, no placement order). Short breaks are mostly
recorded break by break (V3, one period each); some councils record the agreement (V4, one
period from the first break to the end of the agreement). These two were added after the
rest, so they draw from their own stream (seed + 3) and leave every other child unchanged.

Internal placement codes: ``SUPP`` is supported accommodation for 16-17 year olds (``H5``
before the 2024-25 return, ``K3`` from it) and ``Z1`` an other placement (``Z14`` from
2025-26); the extract writes the code valid in each year.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cpanalysis.synthetic import records
from cpanalysis.synthetic.dates import add_months, add_years, age_years, day, to_datetime
from cpanalysis.synthetic.postcodes import (
    PostcodePools,
    home_areas,
    outside_england,
    postcode_pools,
)

__all__ = ["SyntheticCouncil", "simulate_council", "pick"]

#: Collection years simulated before the first one asked for, so that the children looked
#: after at the start (some in care since birth) have a full history.
BURN_IN_YEARS = 19
#: Expected entries per year as a share of the target number looked after at 31 March
#: (England 2025: 32,270 started, 81,770 looked after).
ENTRY_RATIO = 0.34
FOSTER = ("U1", "U3", "U4", "U6")


@dataclass
class SyntheticCouncil:
    """The true history of one synthetic council.

    Attributes
    ----------
    la_code, home_area : str
        DfE three-digit code and the ONS code of the area its children's homes are in.
    seed, size, first_year, last_year : int
        Arguments of :func:`simulate_council`.
    children : DataFrame
        One row per child: ``CHILD`` (str id), ``DOB``, ``SEX`` (M/F), ``ETHNIC``, ``UPN``,
        ``UASC`` (bool), ``HOME_POST``, ``MC_DOB`` (first baby's birth, NaT if none),
        ``SHORT_BREAKS`` (bool: only ever on short breaks, V3 or V4).
    periods : DataFrame
        One row per period of care: ``PERIOD``, ``CHILD``, ``START``, ``END`` (NaT = open on
        the horizon), ``REC`` (reason it ended, the modern code), ``ROUTE`` (adoption, home,
        sgo, to18, other, remand, short_break), ``CIN``, ``SHORT_BREAK`` (bool).
    placements : DataFrame
        One row per placement: ``PLACEMENT``, ``PERIOD``, ``CHILD``, ``START``, ``END``,
        ``PLACE`` (internal code, see module doc), ``PLACE_PROVIDER``, ``CARER`` (int id),
        ``PL_POST``, ``URN``, ``MOVE_REASON`` (REASON_PLACE_CHANGE of the move into it, blank
        for the first). A new placement starts when the carer or the placement type changes;
        temporary moves (T0-T4) are not placements and legal-status changes do not split them.
    temporary_moves : DataFrame
        ``PERIOD``, ``PLACEMENT`` (the placement the child returns to), ``START``, ``END``,
        ``PLACE`` (T0-T4), ``CARER``, ``PL_POST``.
    legal_statuses : DataFrame
        ``PERIOD``, ``START``, ``END``, ``LS``.
    episodes : DataFrame
        Episodes before extraction (what the council's system holds): ``CHILD``, ``PERIOD``,
        ``DECOM``, ``DEC`` (NaT = open on the horizon), ``RNE``, ``LS``, ``CIN``, ``PLACE``,
        ``PLACE_PROVIDER``, ``REC``, ``REASON_PLACE_CHANGE``, ``HOME_POST``, ``PL_POST``,
        ``URN``, ``PLACEMENT``.
    adoptions : DataFrame
        One row per adoption plan: ``CHILD``, ``PERIOD``, ``ENTRY``, ``DECISION`` (ADM "should
        be placed"), ``PLACEMENT_ORDER``, ``MATCH``, ``PLACED``, ``ADOPTED`` (adoption order),
        ``REVERSED`` and ``REASON_CEASED`` (plan reversed), ``FOSTER_CARE`` (0/1),
        ``NB_ADOPTR``, ``SEX_ADOPTR``, ``LS_ADOPTR``, ``CONSENT`` (bool: placed with the
        parents' consent, A3/A4, so ``PLACEMENT_ORDER`` is NaT). Stage dates not reached
        are NaT.
    care_leavers : DataFrame
        One row per care leaver per qualifying birthday: ``CHILD``, ``AGE`` (17-21),
        ``BIRTHDAY``, ``YEAR`` (collection year), ``IN_TOUCH``, ``ACTIV`` (modern code),
        ``ACCOM``.
    reviews, missing, health, prev_perm, social_workers : DataFrame
        The other records of the return (see :mod:`cpanalysis.synthetic.records`).
    """

    la_code: str
    home_area: str
    seed: int
    size: int
    first_year: int
    last_year: int
    children: pd.DataFrame
    periods: pd.DataFrame
    placements: pd.DataFrame
    temporary_moves: pd.DataFrame
    legal_statuses: pd.DataFrame
    episodes: pd.DataFrame
    adoptions: pd.DataFrame
    care_leavers: pd.DataFrame
    reviews: pd.DataFrame
    missing: pd.DataFrame
    health: pd.DataFrame
    prev_perm: pd.DataFrame
    social_workers: pd.DataFrame
    extra: dict = field(default_factory=dict)

    @property
    def years(self) -> list[int]:
        """Collection years this council has returns for."""
        return list(range(self.first_year, self.last_year + 1))


# --------------------------------------------------------------------------- random helpers


def pick(rng: np.random.Generator, codes, probs, n: int | None = None) -> np.ndarray:
    """Draw codes: one probability vector for all, or one row of ``probs`` per draw."""
    codes = np.asarray(codes, dtype=object)
    probs = np.asarray(probs, dtype="float64")
    if probs.ndim == 1:
        return codes[rng.choice(len(codes), size=n, p=probs / probs.sum())]
    cum = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(len(probs))
    return codes[np.minimum((u[:, None] > cum).sum(axis=1), len(codes) - 1)]


def _gamma(rng: np.random.Generator, mean: float, shape: float, n: int) -> np.ndarray:
    return rng.gamma(shape, mean / shape, size=n)


# --------------------------------------------------------------------------- entries


def _entry_drift(years: np.ndarray) -> np.ndarray:
    """Gentle change in the entry rate: a slow rise plus a nine-year swell."""
    y = np.asarray(years, dtype="float64")
    return np.exp(0.012 * (y - 2021)) * (1 + 0.05 * np.sin(2 * np.pi * (y - 2012) / 9))


def _entries(rng: np.random.Generator, size: int, first: int, last: int) -> np.ndarray:
    """Entry days of first periods of care, Poisson per collection year."""
    years = np.arange(first, last + 1)
    counts = rng.poisson(size * ENTRY_RATIO * _entry_drift(years))
    starts = np.array([day(y - 1, 4, 1) for y in years])
    lengths = np.array([day(y, 4, 1) for y in years]) - starts
    year_of = np.repeat(np.arange(len(years)), counts)
    days = starts[year_of] + (rng.random(len(year_of)) * lengths[year_of]).astype("int64")
    return np.sort(days)


_AGE_GROUPS = np.array([[0, 1], [1, 5], [5, 10], [10, 16], [16, 18]], dtype="float64")
_AGE_PROBS = np.array([0.19, 0.16, 0.17, 0.35, 0.13])
_ROUTES = np.array(["adoption", "home", "sgo", "to18", "other"], dtype=object)
# rows: age group at entry; columns: _ROUTES
_ROUTE_PROBS = np.array(
    [
        [0.36, 0.30, 0.17, 0.14, 0.03],
        [0.18, 0.42, 0.18, 0.19, 0.03],
        [0.02, 0.50, 0.13, 0.31, 0.04],
        [0.00, 0.55, 0.04, 0.34, 0.07],
        [0.00, 0.45, 0.00, 0.47, 0.08],
    ]
)
_ETHNIC = ["WBRI", "WOTH", "WIRI", "WROM", "MWBC", "MWBA", "MWAS", "MOTH", "AIND", "APKN"]
_ETHNIC += ["ABAN", "AOTH", "BCRB", "BAFR", "BOTH", "CHNE", "OOTH", "REFU", "NOBT", "WIRT"]
_ETHNIC_P = [0.66, 0.05, 0.005, 0.01, 0.04, 0.015, 0.02, 0.04, 0.01, 0.02]
_ETHNIC_P += [0.01, 0.01, 0.02, 0.03, 0.02, 0.002, 0.02, 0.003, 0.005, 0.005]
_ETHNIC_UASC = ["AOTH", "BAFR", "OOTH", "BOTH", "WOTH"]
_ETHNIC_UASC_P = [0.35, 0.3, 0.2, 0.1, 0.05]
_CIN = ["N1", "N2", "N3", "N4", "N5", "N6", "N7", "N8"]
_CIN_P = [0.66, 0.03, 0.03, 0.08, 0.13, 0.02, 0.002, 0.048]


@dataclass
class _Periods:
    """Arrays describing periods of care while they are simulated (one element each)."""

    child: np.ndarray
    start: np.ndarray
    end: np.ndarray
    rec: np.ndarray
    route: np.ndarray
    cin: np.ndarray
    care_order: np.ndarray
    final_hearing: np.ndarray
    adoption: dict


def _draw_children(rng, entry: np.ndarray, first_child: int) -> pd.DataFrame:
    """Children for first entries: age at entry, sex, ethnicity, UASC status."""
    n = len(entry)
    entry_year = 1970 + entry // 365.25
    uasc = rng.random(n) < np.where(entry_year >= 2015, 0.08, 0.035)
    group = rng.choice(len(_AGE_PROBS), size=n, p=_AGE_PROBS)
    lo, hi = _AGE_GROUPS[group, 0], _AGE_GROUPS[group, 1]
    age_years_f = lo + rng.random(n) * (hi - lo)
    age_years_f = np.where(uasc, 15 + rng.random(n) * 2.7, age_years_f)
    dob = entry - np.floor(age_years_f * 365.25).astype("int64")
    # the day of entry must be before the 18th birthday
    dob = np.maximum(dob, add_years(entry, -18) + 1)
    male = rng.random(n) < np.where(uasc, 0.92, 0.55)
    ethnic = np.where(
        uasc, pick(rng, _ETHNIC_UASC, _ETHNIC_UASC_P, n), pick(rng, _ETHNIC, _ETHNIC_P, n)
    )
    return pd.DataFrame(
        {
            "child_no": np.arange(first_child, first_child + n),
            "dob": dob,
            "male": male,
            "ethnic": ethnic,
            "uasc": uasc,
        }
    )


def _leave_at_18_rec(rng, n: int) -> np.ndarray:
    return pick(
        rng, ["E17", "E5", "E6", "E8", "E13", "E4A"], [0.27, 0.45, 0.1, 0.08, 0.05, 0.05], n
    )


def _simulate_periods(rng, child: np.ndarray, dob: np.ndarray, start: np.ndarray, uasc, reentry):
    """Route, legal path and end of each period of care starting on ``start``."""
    n = len(start)
    age = age_years(dob, start)
    group = np.searchsorted([1, 5, 10, 16], age, side="right")
    probs = _ROUTE_PROBS[group].copy()
    # re-entries mostly go home again; teenagers in trouble are sometimes remanded
    probs[reentry, 1] += 0.15
    route = pick(rng, _ROUTES, probs)
    remand = (age >= 12) & (rng.random(n) < 0.05) & ~uasc
    route = np.where(remand, "remand", route)
    route = np.where(uasc, np.where(rng.random(n) < 0.88, "to18", "other"), route).astype(object)
    cin = pick(rng, _CIN, _CIN_P, n)
    cin = np.where(uasc, "N8", np.where(route == "remand", "N6", cin)).astype(object)

    eighteen = add_years(dob, 18)
    duration = np.ones(n, dtype="int64")
    rec = np.full(n, "E8", dtype=object)

    # care orders: interim order at entry, full order at the final hearing
    p_order = np.select(
        [route == "adoption", route == "sgo", (route == "to18") & (age < 10), route == "to18"],
        [1.0, 0.75, 0.9, 0.45],
        0.3,
    )
    care_order = (rng.random(n) < p_order) & ~uasc & (route != "remand")
    final_hearing = start + np.round(_gamma(rng, 200, 5, n)).astype("int64") + 20

    # adoption: decision -> placement order -> match -> placed -> adoption order
    is_adopt = route == "adoption"
    decision = start + np.round(_gamma(rng, 190, 3, n)).astype("int64") + 20
    placement_order = np.maximum(final_hearing, decision) + rng.integers(10, 90, n)
    match = np.maximum(
        decision + np.round(_gamma(rng, 320, 2.5, n)).astype("int64"), placement_order + 3
    )
    placed = match + rng.integers(7, 45, n)
    adopted = placed + np.maximum(70, np.round(_gamma(rng, 265, 3, n)).astype("int64"))
    reversed_plan = is_adopt & (rng.random(n) < 0.08)
    reversed_day = decision + rng.integers(60, 400, n)
    reason_ceased = np.where(
        reversed_day < placement_order, "RD2", pick(rng, ["RD1", "RD3", "RD4"], [0.4, 0.4, 0.2], n)
    ).astype(object)
    adopt_ok = is_adopt & ~reversed_plan
    duration = np.where(adopt_ok, adopted - start, duration)
    rec = np.where(adopt_ok, pick(rng, ["E11", "E12"], [0.55, 0.45], n), rec)
    # a reversed plan: long-term fostering, often to 18
    route = np.where(reversed_plan, "to18", route).astype(object)

    home = route == "home"
    home_days = np.round(np.exp(rng.normal(np.log(130), 1.25, n))).astype("int64") + 1
    duration = np.where(home, home_days, duration)
    rec = np.where(home, pick(rng, ["E4A", "E4B", "E13"], [0.8, 0.06, 0.14], n), rec)

    sgo = route == "sgo"
    duration = np.where(sgo, np.round(_gamma(rng, 620, 3, n)).astype("int64") + 60, duration)
    rec = np.where(sgo, "SGO", rec)  # resolved against the last placement later

    other = route == "other"
    duration = np.where(other, np.round(_gamma(rng, 280, 1.5, n)).astype("int64") + 1, duration)
    other_rec = pick(
        rng,
        ["E3", "E8", "E41", "E13", "E16", "E2", "E7", "E9"],
        [0.3, 0.22, 0.2, 0.12, 0.06, 0.02, 0.02, 0.06],
        n,
    )
    other_rec = np.where(uasc, pick(rng, ["E15", "E8", "E16"], [0.5, 0.4, 0.1], n), other_rec)
    rec = np.where(other, other_rec, rec)

    remand = route == "remand"
    duration = np.where(remand, np.round(_gamma(rng, 55, 2, n)).astype("int64") + 1, duration)
    rec = np.where(remand, pick(rng, ["E14", "E9"], [0.75, 0.25], n), rec)

    to18 = route == "to18"
    early = to18 & (rng.random(n) < 0.22)
    leave_age_days = add_months(dob, 192 + rng.integers(0, 24, n))  # 16 to 18
    leave = np.where(early & (leave_age_days > start + 30), leave_age_days, eighteen)
    duration = np.where(to18, leave - start, duration)
    rec = np.where(
        to18,
        np.where(
            leave < eighteen,
            pick(rng, ["E5", "E6", "E13", "E4A"], [0.5, 0.2, 0.15, 0.15], n),
            _leave_at_18_rec(rng, n),
        ),
        rec,
    )
    end = start + np.maximum(duration, 1)
    past_18 = end >= eighteen
    end = np.where(past_18, eighteen, end)
    rec = np.where(past_18 & ~to18, _leave_at_18_rec(rng, n), rec)
    end = np.maximum(end, start + 1)
    adopt_ok &= ~past_18
    adoption = {
        "is_plan": is_adopt & (decision < end),
        "ok": adopt_ok,
        "decision": decision,
        "placement_order": placement_order,
        "match": match,
        "placed": placed,
        "adopted": adopted,
        "reversed": np.where(reversed_plan & (reversed_day < end), reversed_day, -1),
        "reason_ceased": reason_ceased,
    }
    return _Periods(child, start, end, rec, route, cin, care_order, final_hearing, adoption)


def _concat_periods(parts: list[_Periods]) -> _Periods:
    def cat(name):
        return np.concatenate([getattr(p, name) for p in parts])

    adoption = {k: np.concatenate([p.adoption[k] for p in parts]) for k in parts[0].adoption}
    return _Periods(
        cat("child"),
        cat("start"),
        cat("end"),
        cat("rec"),
        cat("route"),
        cat("cin"),
        cat("care_order"),
        cat("final_hearing"),
        adoption,
    )


def _consent_adoptions(rng, p: _Periods, dob_of: np.ndarray) -> None:
    """Mark some adoption plans as placements with the parents' consent (s19, A3/A4).

    Mostly babies relinquished at birth: about one plan in ten for a child under one at
    entry, a few in a hundred for older ones. Most such children stay accommodated (V2) with
    no care order (``accommodated``: V2 in :func:`_legal_statuses`; their placements are
    drawn as before); the rest are on a care order (C1, C2) but there is still no placement
    order. The adoption itself is unopposed (E11). ``rng`` is the side stream (see the module
    docstring), so the draws of the main stream are untouched.
    """
    n = len(p.start)
    a = p.adoption
    baby = age_years(dob_of, p.start) < 1
    consent = a["is_plan"] & (rng.random(n) < np.where(baby, 0.1, 0.03))
    a["accommodated"] = consent & (rng.random(n) < 0.7)
    p.rec = np.where(consent & np.isin(p.rec, ["E11", "E12"]), "E11", p.rec).astype(object)
    a["consent"] = consent


# --------------------------------------------------------------------------- legal statuses


def _legal_statuses(rng, p: _Periods, uasc: np.ndarray) -> pd.DataFrame:
    """Legal-status spells of every period (``PERIOD``, ``START``, ``LS``)."""
    n = len(p.start)
    idx = np.arange(n)
    care_order = p.care_order & ~p.adoption["accommodated"]
    first_ls = np.where(care_order, "C1", "V2").astype(object)
    first_ls = np.where(p.route == "remand", "J1", first_ls)
    rows = [(idx, p.start, first_ls)]
    # police protection (up to 72 hours) or an emergency protection order first
    emergency = care_order & (rng.random(n) < 0.12)
    pp = rng.random(n) < 0.5
    gap = np.where(pp, rng.integers(1, 4, n), rng.integers(5, 22, n))
    emergency &= p.start + gap < p.end
    first = rows[0][2].copy()
    first[emergency] = np.where(pp[emergency], "L1", "L2")
    rows[0] = (idx, p.start, first)
    rows.append((idx[emergency], (p.start + gap)[emergency], np.full(emergency.sum(), "C1")))
    # the full care order at the final hearing
    full = care_order & (p.final_hearing < p.end) & (p.final_hearing > p.start + gap)
    rows.append((idx[full], p.final_hearing[full], np.full(full.sum(), "C2")))
    # a placement order for children whose plan is adoption
    a = p.adoption
    po = a["is_plan"] & ~a["consent"] & (a["placement_order"] < p.end) & full
    po &= (a["reversed"] < 0) | (a["reversed"] > a["placement_order"])
    rows.append((idx[po], a["placement_order"][po], np.full(po.sum(), "E1")))
    # when the decision to place for adoption is reversed the placement order is revoked and
    # the care order revives (no E1 without a decision in force: DfE rule 553)
    revoked = po & (a["reversed"] >= 0) & (a["reversed"] < p.end)
    rows.append((idx[revoked], a["reversed"][revoked], np.full(revoked.sum(), "C2")))
    ls = pd.DataFrame(
        {
            "PERIOD": np.concatenate([r[0] for r in rows]),
            "START": np.concatenate([r[1] for r in rows]),
            "LS": np.concatenate([r[2] for r in rows]).astype(object),
        }
    )
    ls = ls.sort_values(["PERIOD", "START"], kind="stable").reset_index(drop=True)
    ls = ls.drop_duplicates(["PERIOD", "START"], keep="last")
    end = ls.groupby("PERIOD")["START"].shift(-1)
    ls["END"] = end.fillna(pd.Series(p.end[ls["PERIOD"].to_numpy()], index=ls.index)).astype(
        "int64"
    )
    return ls.reset_index(drop=True)


# --------------------------------------------------------------------------- placements

_PLACE_CODES = np.array(["U6", "U4", "U3", "U1", "K2", "SUPP", "P1", "K1", "R5", "Z1"], object)


def _placement_probs(age, nth, long_term, sgo, uasc, remand) -> np.ndarray:
    """Probability of each placement type (columns of ``_PLACE_CODES``) per placement."""
    n = len(age)
    p = np.zeros((n, len(_PLACE_CODES)))
    foster = np.where(long_term, 0.0, 1.0)
    p[:, 0] = 0.68 * foster  # U6
    p[:, 1] = 0.68 * (1 - foster)  # U4
    kin = np.where(sgo, 0.55, 0.14)
    p[:, 2] = kin * foster
    p[:, 3] = kin * (1 - foster)
    resid = np.select([age < 10, age < 14, age < 16], [0.01, 0.1, 0.17], 0.12)
    p[:, 4] = resid
    p[:, 5] = np.where(age >= 16, 0.45, 0.0)
    p[:, 6] = np.where((nth == 0) & (age < 12), 0.05, 0.01)
    p[:, 7] = np.where(age >= 12, 0.004, 0.0)
    p[:, 8] = 0.0
    p[:, 9] = 0.004
    # unaccompanied children: agency fostering under 16, supported accommodation after
    p[uasc] = 0
    p[uasc & (age < 16), 0] = 1
    p[uasc & (age >= 16), 5] = 0.75
    p[uasc & (age >= 16), 0] = 0.25
    p[remand] = 0
    p[remand, 0] = 0.45
    p[remand, 4] = 0.35
    p[remand, 8] = 0.2
    return p


_PROVIDERS = {
    "U6": (["PR1", "PR4", "PR5"], [0.58, 0.37, 0.05]),
    "U4": (["PR1", "PR4", "PR5"], [0.6, 0.35, 0.05]),
    "U3": (["PR1"], [1.0]),
    "U1": (["PR1"], [1.0]),
    "K2": (["PR4", "PR1", "PR5"], [0.72, 0.2, 0.08]),
    "SUPP": (["PR4", "PR5", "PR1"], [0.7, 0.2, 0.1]),
    "P1": (["PR0"], [1.0]),
    "K1": (["PR2"], [1.0]),
    "R5": (["PR3"], [1.0]),
    "A5": (["PR1", "PR2", "PR5"], [0.75, 0.15, 0.1]),
    "A6": (["PR1", "PR2", "PR5"], [0.75, 0.15, 0.1]),
}
#: Consent adoption codes for the placement-order ones: A3 with the current foster carers
#: (as A5), A4 with new adopters (as A6). Providers, distances and URNs are drawn under the
#: placement-order code.
_CONSENT_PLACE = {"A5": "A3", "A6": "A4"}
# where placements of each type are, as shares of the near / mid / far rings
_DISTANCE = {
    "U6": [0.8, 0.17, 0.03],
    "U4": [0.8, 0.17, 0.03],
    "U3": [0.75, 0.17, 0.08],
    "U1": [0.75, 0.17, 0.08],
    "K2": [0.4, 0.35, 0.25],
    "SUPP": [0.72, 0.2, 0.08],
    "K1": [0.1, 0.3, 0.6],
    "R5": [0.2, 0.4, 0.4],
    "A5": [0.8, 0.17, 0.03],
    "A6": [0.45, 0.4, 0.15],
    "Z1": [0.6, 0.3, 0.1],
}
_MOVE_REASONS = ["CARPL", "CREQB", "CREQO", "LAREQ", "CHILD", "STAND", "ALLEG", "CLOSE"]
_MOVE_REASONS += ["APPRR", "PLACE", "OTHER"]
_MOVE_REASON_P = [0.42, 0.16, 0.09, 0.08, 0.06, 0.04, 0.03, 0.03, 0.01, 0.03, 0.05]


def _placements(rng, p: _Periods, dob_of, uasc_of, pools: PostcodePools, home_post_of):
    """Placements (and temporary moves) of every period of care."""
    n = len(p.start)
    idx = np.arange(n)
    dur = p.end - p.start
    age_start = age_years(dob_of, p.start)
    teen = age_start >= 11
    # instability varies between children: a gamma-distributed rate of moves per year
    base = np.select([age_start < 5, age_start < 11], [0.22, 0.34], 0.72)
    rate = base * rng.gamma(0.5, 1 / 0.5, n)
    rate = np.where(p.route == "remand", 0.3, rate)
    n_moves = rng.poisson(rate * np.maximum(dur - 2, 0) / 365.25)
    move_period = np.repeat(idx, n_moves)
    move_day = p.start[move_period] + 1 + (rng.random(len(move_period)) * (dur[move_period] - 2))
    kind = [np.full(len(move_period), "move", dtype=object)]
    days = [move_day.astype("int64")]
    periods = [move_period]
    # the first placement is often an emergency one, followed by a planned move
    emergency = (dur > 30) & (rng.random(n) < np.where(teen, 0.5, 0.4))
    periods.append(idx[emergency])
    days.append(p.start[emergency] + rng.integers(2, 30, emergency.sum()))
    kind.append(np.full(emergency.sum(), "planned", dtype=object))
    # a move into supported accommodation at 16-17 for some staying to 18
    sixteen = add_months(dob_of, 192 + rng.integers(0, 18, n))
    supp = (p.route == "to18") & (sixteen > p.start + 30) & (sixteen < p.end - 30)
    supp &= rng.random(n) < 0.3
    periods.append(idx[supp])
    days.append(sixteen[supp])
    kind.append(np.full(supp.sum(), "supported", dtype=object))
    # the move to the adoptive family
    a = p.adoption
    adopt = a["ok"] & (a["placed"] < p.end)
    periods.append(idx[adopt])
    days.append(a["placed"][adopt])
    kind.append(np.full(adopt.sum(), "adoption", dtype=object))
    # the first placement
    periods.append(idx)
    days.append(p.start)
    kind.append(np.full(n, "first", dtype=object))

    pl = pd.DataFrame(
        {
            "PERIOD": np.concatenate(periods),
            "START": np.concatenate(days).astype("int64"),
            "KIND": np.concatenate(kind),
        }
    )
    # a move after the adoptive placement would disrupt it: drop those (keep the adoption)
    placed_day = np.where(adopt, a["placed"], np.iinfo("int64").max)
    after = (pl["START"].to_numpy() > placed_day[pl["PERIOD"].to_numpy()]) & (
        pl["KIND"].to_numpy() != "adoption"
    )
    after |= (pl["START"].to_numpy() >= p.end[pl["PERIOD"].to_numpy()]) & (
        pl["KIND"].to_numpy() != "first"
    )
    pl = pl.loc[~after]
    order = {"first": 0, "adoption": 1, "supported": 2, "planned": 3, "move": 4}
    pl = pl.assign(_o=pl["KIND"].map(order))
    pl = pl.sort_values(["PERIOD", "START", "_o"], kind="stable")
    pl = pl.drop_duplicates(["PERIOD", "START"], keep="first").drop(columns="_o")
    pl = pl.reset_index(drop=True)
    per = pl["PERIOD"].to_numpy()
    start = pl["START"].to_numpy()
    nth = pl.groupby("PERIOD").cumcount().to_numpy()
    kind = pl["KIND"].to_numpy()
    m = len(pl)

    child_dob = dob_of[per]
    age = age_years(child_dob, start)
    months_in = (start - p.start[per]) / 30.44
    long_term = (months_in >= 15) & p.care_order[per]
    probs = _placement_probs(
        age, nth, long_term, p.route[per] == "sgo", uasc_of[per], p.route[per] == "remand"
    )
    place = pick(rng, _PLACE_CODES, probs)
    place = np.where(kind == "supported", "SUPP", place)
    # adoption: with the current foster carers (A5) about 15% of the time
    prev_place = np.concatenate([[""], place[:-1]])
    with_carers = (kind == "adoption") & (rng.random(m) < 0.15) & np.isin(prev_place, FOSTER)
    place = np.where(kind == "adoption", np.where(with_carers, "A5", "A6"), place).astype(object)
    # two placements in a row of the same type must be different carers: give new carer ids
    carer = np.arange(1, m + 1, dtype="int64") + 10_000
    same_carer = with_carers
    carer = np.where(same_carer, np.concatenate([[0], carer[:-1]]), carer)

    provider = np.full(m, "", dtype=object)
    pool = np.full(m, "near", dtype=object)
    ring = rng.random(m)
    for code in np.unique(place):
        here = place == code
        if code in _PROVIDERS:
            codes, probs_ = _PROVIDERS[code]
            provider[here] = pick(rng, codes, probs_, here.sum())
        if code in _DISTANCE:
            near, mid, _ = _DISTANCE[code]
            pool[here] = np.where(
                ring[here] < near, "near", np.where(ring[here] < near + mid, "mid", "far")
            )
    pl_post = np.full(m, "", dtype=object)
    for ring_name in ("near", "mid", "far"):
        here = pool == ring_name
        pl_post[here] = pools.draw(rng, ring_name, int(here.sum()))
    pl_post = np.where(same_carer, np.concatenate([[""], pl_post[:-1]]), pl_post)
    with_parents = place == "P1"
    pl_post = np.where(with_parents, home_post_of[per], pl_post)
    # the council's own homes and supported accommodation are in its own area (DfE rule
    # 1015); its foster carers and adopters may live anywhere
    own_home = (provider == "PR1") & ~np.isin(place, [*FOSTER, "A5", "A6", "P1"])
    pl_post = np.where(own_home, pools.in_area(np.arange(m)), pl_post)
    urn = _urns(rng, place, provider, pl_post)
    urn = np.where(same_carer, np.concatenate([[""], urn[:-1]]), urn)
    consent = a["consent"][per] & (kind == "adoption")
    for order_code, consent_code in _CONSENT_PLACE.items():
        place = np.where(consent & (place == order_code), consent_code, place).astype(object)
    move_reason = np.where(
        nth == 0,
        "",
        np.where(
            np.isin(kind, ["adoption", "supported", "planned"]),
            "CARPL",
            pick(rng, _MOVE_REASONS, _MOVE_REASON_P, m),
        ),
    ).astype(object)
    end = pl.groupby("PERIOD")["START"].shift(-1).to_numpy()
    end = np.where(np.isnan(end), p.end[per], end).astype("int64")
    placements = pd.DataFrame(
        {
            "PERIOD": per,
            "START": start,
            "END": end,
            "PLACE": place,
            "PLACE_PROVIDER": provider,
            "CARER": carer,
            "PL_POST": pl_post,
            "URN": urn,
            "MOVE_REASON": move_reason,
        }
    )
    placements["PLACEMENT"] = np.arange(m)
    temporary = _temporary_moves(rng, placements, pools)
    # a child is placed with parents (P1) only under a care order, not while accommodated
    # under section 20 (DfE rule 378): those are with relatives instead (U3, the council's
    # own foster carers, in its area). Changed after every draw, so that all the council's
    # other records are drawn as they were.
    accommodated = ~(p.care_order & ~p.adoption["accommodated"])[per]
    to_kin = (place == "P1") & accommodated
    placements.loc[to_kin, "PLACE"] = "U3"
    placements.loc[to_kin, "PLACE_PROVIDER"] = "PR1"
    placements.loc[to_kin, "PL_POST"] = pools.in_area(np.flatnonzero(to_kin) + 1)
    placements.loc[to_kin, "URN"] = "1000001"
    return placements, temporary


def _urns(rng, place, provider, pl_post) -> np.ndarray:
    """Ofsted URNs: fostering services, children's homes, supported accommodation."""
    m = len(place)
    urn = np.full(m, "", dtype=object)
    # stable per postcode for homes; per provider for fostering services
    hashed = pd.util.hash_array(pl_post.astype(str)) % 9_000_000
    fostering = np.isin(place, ["U1", "U3", "U4", "U6", "A3", "A4", "A5", "A6"])
    agency = rng.integers(0, 12, m)
    urn = np.where(
        fostering & (provider == "PR1"),
        "1000001",
        np.where(fostering, (2000100 + agency).astype(str), urn),
    ).astype(object)
    homes = np.isin(place, ["K1", "K2", "SUPP"])
    urn[homes] = (1_000_000 + hashed[homes]).astype(str)
    # Ofsted registers providers in England only (DfE rule 243)
    urn[outside_england(pl_post)] = ""
    return urn


def _temporary_moves(rng, placements: pd.DataFrame, pools: PostcodePools) -> pd.DataFrame:
    """Short temporary moves (T0-T4) out of foster placements, back to the same carers."""
    length = (placements["END"] - placements["START"]).to_numpy()
    foster = placements["PLACE"].isin(list(FOSTER)).to_numpy()
    years = length / 365.25
    has = foster & (length > 45) & (rng.random(len(length)) < 1 - np.exp(-0.25 * years))
    pl = placements.loc[has]
    k = len(pl)
    place = pick(rng, ["T3", "T4", "T1", "T2", "T0"], [0.45, 0.25, 0.15, 0.1, 0.05], k)
    days = np.select(
        [place == "T3", place == "T4", place == "T1"],
        [rng.integers(2, 21, k), rng.integers(1, 8, k), rng.integers(1, 15, k)],
        rng.integers(2, 15, k),
    )
    span = (pl["END"] - pl["START"]).to_numpy()
    start = pl["START"].to_numpy() + 15 + (rng.random(k) * (span - 30 - days)).astype("int64")
    # every temporary placement has a postcode, a hospital's or a holiday's too: the DfE's
    # rules 392a/b, 169 and 179 need one for every episode that is not a short break
    post = pools.draw(rng, "near", k)
    return pd.DataFrame(
        {
            "PERIOD": pl["PERIOD"].to_numpy(),
            "PLACEMENT": pl["PLACEMENT"].to_numpy(),
            "START": start,
            "END": start + days,
            "PLACE": place.astype(object),
            "CARER": np.arange(k, dtype="int64") + 900_000,
            "PL_POST": post.astype(object),
        }
    )


# --------------------------------------------------------------------------- episodes


def _shift_up(values: np.ndarray, fill) -> np.ndarray:
    """The next element of each position (``fill`` after the last)."""
    return np.concatenate([values[1:], np.array([fill], dtype=values.dtype)])


def _episodes(p: _Periods, ls: pd.DataFrame, pl: pd.DataFrame, tmp: pd.DataFrame, home_post):
    """Cut each period of care into episodes at every placement or legal-status change."""
    parent = pl.set_index("PLACEMENT")
    tmp_rows = tmp.assign(PLACE_PROVIDER="", URN="", MOVE_REASON="")
    back = pl.set_index("PLACEMENT").loc[tmp["PLACEMENT"].to_numpy()].reset_index()
    back["START"] = tmp["END"].to_numpy()
    back["MOVE_REASON"] = ""
    timeline = pd.concat(
        [
            pl[["PERIOD", "START", "PLACE", "PLACE_PROVIDER", "CARER", "PL_POST", "URN"]].assign(
                MOVE_REASON=pl["MOVE_REASON"], PLACEMENT=pl["PLACEMENT"]
            ),
            tmp_rows[
                ["PERIOD", "START", "PLACE", "PLACE_PROVIDER", "CARER", "PL_POST", "URN"]
            ].assign(MOVE_REASON="", PLACEMENT=tmp["PLACEMENT"]),
            back[
                [
                    "PERIOD",
                    "START",
                    "PLACE",
                    "PLACE_PROVIDER",
                    "CARER",
                    "PL_POST",
                    "URN",
                    "MOVE_REASON",
                    "PLACEMENT",
                ]
            ],
        ],
        ignore_index=True,
    )
    del parent
    cuts = pd.concat(
        [timeline[["PERIOD", "START"]], ls[["PERIOD", "START"]]], ignore_index=True
    ).drop_duplicates()
    cuts = cuts.sort_values(["START", "PERIOD"], kind="stable").reset_index(drop=True)
    timeline = timeline.sort_values(["START", "PERIOD"], kind="stable")
    ep = pd.merge_asof(cuts, timeline, on="START", by="PERIOD", direction="backward")
    ep = pd.merge_asof(
        ep, ls[["PERIOD", "START", "LS"]].sort_values("START"), on="START", by="PERIOD"
    )
    ep = ep.sort_values(["PERIOD", "START"], kind="stable").reset_index(drop=True)
    per = ep["PERIOD"].to_numpy()
    first = np.r_[True, per[1:] != per[:-1]]
    last = np.r_[per[1:] != per[:-1], True]
    prev = ep.shift(1)
    carer_changed = (ep["CARER"] != prev["CARER"]).to_numpy()
    place_changed = (ep["PLACE"] != prev["PLACE"]).to_numpy()
    ls_changed = (ep["LS"] != prev["LS"]).to_numpy()
    rne = np.select(
        [
            first,
            carer_changed & ls_changed,
            place_changed & ls_changed,
            carer_changed,
            place_changed,
            ls_changed,
        ],
        ["S", "B", "U", "P", "T", "L"],
        "",
    )
    keep = rne != ""
    ep["RNE"] = rne
    ep = ep.loc[keep].reset_index(drop=True)
    per = ep["PERIOD"].to_numpy()
    last = np.r_[per[1:] != per[:-1], True]
    dec = np.where(last, p.end[per], np.r_[ep["START"].to_numpy()[1:], 0])
    rec = np.where(last, p.rec[per], "X1").astype(object)
    is_temp = ep["PLACE"].str.startswith("T").to_numpy()
    next_rne = _shift_up(ep["RNE"].to_numpy(dtype=object), "")
    next_temp = _shift_up(is_temp, False)
    next_reason = _shift_up(ep["MOVE_REASON"].to_numpy(dtype=object), "")
    rpc = np.where(
        ~last & np.isin(next_rne, ["P", "B", "T", "U"]) & ~is_temp & ~next_temp,
        next_reason,
        "",
    )
    # a same-carer change into an adoptive placement still needs a reason
    rpc = np.where(
        ~last & np.isin(next_rne, ["T", "U"]) & (rpc == "") & ~is_temp & ~next_temp, "CARPL", rpc
    )
    return pd.DataFrame(
        {
            "CHILD": p.child[per],
            "PERIOD": per,
            "DECOM": ep["START"].to_numpy(),
            "DEC": dec,
            "RNE": ep["RNE"].to_numpy(dtype=object),
            "LS": ep["LS"].to_numpy(dtype=object),
            "CIN": p.cin[per],
            "PLACE": ep["PLACE"].to_numpy(dtype=object),
            "PLACE_PROVIDER": ep["PLACE_PROVIDER"].to_numpy(dtype=object),
            "REC": rec,
            "REASON_PLACE_CHANGE": rpc.astype(object),
            "HOME_POST": home_post[per],
            "PL_POST": ep["PL_POST"].to_numpy(dtype=object),
            "URN": ep["URN"].to_numpy(dtype=object),
            "PLACEMENT": ep["PLACEMENT"].to_numpy(),
        }
    )


def _resolve_sgo(p: _Periods, pl: pd.DataFrame, rng) -> None:
    """Special guardianship: who the guardians are follows from the last placement."""
    last = pl.groupby("PERIOD").tail(1).set_index("PERIOD")["PLACE"]
    last_place = last.reindex(np.arange(len(p.start))).fillna("").to_numpy()
    sgo = p.rec == "SGO"
    n = len(p.rec)
    kin = np.isin(last_place, ["U1", "U3"])
    foster = np.isin(last_place, ["U4", "U6"])
    u = rng.random(n)
    code = np.where(
        kin,
        np.where(u < 0.85, "E45", "E47"),
        np.where(foster, np.where(u < 0.45, "E46", np.where(u < 0.85, "E47", "E48")), "E47"),
    )
    p.rec = np.where(sgo, code, p.rec).astype(object)


# --------------------------------------------------------------------------- short breaks


def _short_breaks(rng, size, first_day, horizon, first_child, first_period):
    """Disabled children on agreed series of short breaks (V3): each break is a period.

    Also returns the day each child's agreement ends (for :func:`_agreements`).
    """
    n_children = max(2, round(size * 0.012))
    dob_start = first_day - 16 * 365
    agreement_start = first_day + (rng.random(n_children) * (horizon - first_day)).astype("int64")
    age = 5 + rng.random(n_children) * 9
    dob = agreement_start - (age * 365.25).astype("int64")
    dob = np.maximum(dob, dob_start)
    years = 1 + rng.random(n_children) * 2.5
    breaks = np.maximum(1, rng.poisson(years * 9))
    child = np.repeat(np.arange(n_children), breaks)
    offset = np.concatenate([np.sort(rng.random(b)) for b in breaks])  # handful of children
    start = agreement_start[child] + (offset * years[child] * 365.25).astype("int64")
    length = rng.integers(1, 4, len(start))
    keep = np.r_[True, (start[1:] > start[:-1] + length[:-1]) | (child[1:] != child[:-1])]
    child, start, length = child[keep], start[keep], length[keep]
    agreement_end = agreement_start + (years * 365.25).astype("int64")
    return (
        pd.DataFrame(
            {
                "child_no": np.arange(first_child, first_child + n_children),
                "dob": dob,
                "male": rng.random(n_children) < 0.62,
                "ethnic": pick(rng, _ETHNIC, _ETHNIC_P, n_children),
                "uasc": np.zeros(n_children, dtype=bool),
            }
        ),
        child + first_child,
        start,
        start + length,
        agreement_end,
    )


def _agreements(rng, child, start, end, agreement_end, first_child):
    """Short-break agreements recorded as one V4 period instead of one V3 period per break.

    About three in ten of the children. Their period runs from the first break (so the child's
    first day looked after is the same either way) to the end of the agreement (or of the last
    break, if later). Returns ``child, start, end, ls`` of the short-break periods.
    """
    n = len(agreement_end)
    v4 = rng.random(n) < 0.3
    local = child - first_child
    last_end = np.full(n, np.iinfo("int64").min)
    np.maximum.at(last_end, local, end)
    first = np.r_[True, child[1:] != child[:-1]] if len(child) else np.zeros(0, bool)
    on_v4 = v4[local]
    keep = ~on_v4 | first
    end = np.where(on_v4, np.maximum(agreement_end[local], last_end[local]), end)
    ls = np.where(on_v4, "V4", "V3").astype(object)
    return child[keep], start[keep], end[keep], ls[keep]


# --------------------------------------------------------------------------- the council


def simulate_council(
    size: int = 500,
    first_year: int = 2017,
    last_year: int = 2026,
    seed: int = 903,
    la_code: str = "999",
    area: str | None = None,
) -> SyntheticCouncil:
    """Simulate the true care histories of one council.

    Parameters
    ----------
    size : int
        Roughly the number of children looked after at 31 March.
    first_year, last_year : int
        Collection years the council will make returns for (2017 = 2016-17).
    seed : int
        Seed of the numpy ``Generator(PCG64)``: the same seed gives the same council.
    la_code : str
        The council's DfE three-digit code (also chooses its area when ``area`` is None).
    area : str, optional
        ONS code of the council area its children's homes are in.

    Returns
    -------
    SyntheticCouncil
        The true history; every table a return needs is derived from it.
    """
    rng = np.random.Generator(np.random.PCG64(seed))
    if area is None:
        areas = home_areas()
        area = (
            areas[int(la_code) % len(areas)] if la_code.isdigit() and la_code != "999" else areas[0]
        )
    pools = postcode_pools(area)
    horizon = day(last_year, 3, 31)

    entry = _entries(rng, size, first_year - BURN_IN_YEARS, last_year)
    kids = _draw_children(rng, entry, 0)
    dob = kids["dob"].to_numpy()
    uasc = kids["uasc"].to_numpy()
    parts = [
        _simulate_periods(rng, np.arange(len(entry)), dob, entry, uasc, np.zeros(len(entry), bool))
    ]
    # re-entries: some children who went home come back
    for _ in range(3):
        last = parts[-1]
        went_home = np.isin(last.rec, ["E4A", "E4B", "E13"])
        again = went_home & (rng.random(len(last.rec)) < 0.17)
        back = last.end + 30 + np.round(_gamma(rng, 420, 1.5, len(last.rec))).astype("int64")
        again &= (back <= horizon) & (back < add_months(dob[last.child], 17 * 12 + 6))
        if not again.any():
            break
        c = last.child[again]
        parts.append(
            _simulate_periods(rng, c, dob[c], back[again], uasc[c], np.ones(again.sum(), bool))
        )
    p = _concat_periods(parts)
    order = np.lexsort((p.start, p.child))
    p = _Periods(
        p.child[order],
        p.start[order],
        p.end[order],
        p.rec[order],
        p.route[order],
        p.cin[order],
        p.care_order[order],
        p.final_hearing[order],
        {k: v[order] for k, v in p.adoption.items()},
    )
    # the features added later draw from their own stream (module docstring)
    side = np.random.Generator(np.random.PCG64(seed + 3))
    _consent_adoptions(side, p, dob[p.child])
    n_main = len(entry)
    home_post = pools.draw(rng, "home", n_main)
    home_post = np.where(uasc, "", home_post).astype(object)

    ls = _legal_statuses(rng, p, uasc[p.child])
    pl, tmp = _placements(rng, p, dob[p.child], uasc[p.child], pools, home_post[p.child])
    _resolve_sgo(p, pl, rng)
    episodes = _episodes(p, ls, pl, tmp, home_post[p.child])

    # short-break children: their own periods, one V3 episode per break or one V4 agreement
    sb_kids, sb_child, sb_start, sb_end, agreement_end = _short_breaks(
        rng, size, day(first_year - 3, 4, 1), horizon, n_main, len(p.start)
    )
    sb_child, sb_start, sb_end, sb_ls = _agreements(
        side, sb_child, sb_start, sb_end, agreement_end, n_main
    )
    kids = pd.concat([kids, sb_kids], ignore_index=True)
    n_children = len(kids)
    sb_home = pools.draw(rng, "home", len(sb_kids))
    home_post_all = np.concatenate([home_post, sb_home]).astype(object)
    sb_period = np.arange(len(sb_start)) + len(p.start)
    sb_place = np.where(rng.random(len(sb_kids)) < 0.6, "U6", "K2")[sb_child - n_main]
    pools.draw(rng, "near", len(sb_kids))  # no longer used; drawn to keep the random stream
    sb_episodes = pd.DataFrame(
        {
            "CHILD": sb_child,
            "PERIOD": sb_period,
            "DECOM": sb_start,
            "DEC": sb_end,
            "RNE": "S",
            "LS": sb_ls,
            "CIN": "N2",
            "PLACE": sb_place.astype(object),
            "PLACE_PROVIDER": "PR1",
            "REC": "E13",
            "REASON_PLACE_CHANGE": "",
            # no location for short breaks (DfE rules 214, 398, 420)
            "HOME_POST": np.full(len(sb_child), "", dtype=object),
            "PL_POST": np.full(len(sb_child), "", dtype=object),
            "URN": np.full(len(sb_child), "", dtype=object),
            "PLACEMENT": -1,
        }
    )
    episodes = pd.concat([episodes, sb_episodes], ignore_index=True)

    # child ids: six-digit numbers in a shuffled order, so they say nothing about entry order
    ids = (rng.permutation(900_000)[:n_children] + 100_000).astype(str).astype(object)
    dob_all = kids["dob"].to_numpy()

    periods = pd.DataFrame(
        {
            "PERIOD": np.arange(len(p.start) + len(sb_start)),
            "child_no": np.concatenate([p.child, sb_child]),
            "START": np.concatenate([p.start, sb_start]),
            "END": np.concatenate([p.end, sb_end]),
            "REC": np.concatenate([p.rec, np.full(len(sb_start), "E13", dtype=object)]),
            "ROUTE": np.concatenate([p.route, np.full(len(sb_start), "short_break", object)]),
            "CIN": np.concatenate([p.cin, np.full(len(sb_start), "N2", dtype=object)]),
            "SHORT_BREAK": np.r_[np.zeros(len(p.start), bool), np.ones(len(sb_start), bool)],
        }
    )
    # drop everything that starts after the horizon; open what ends after it
    periods = periods.loc[periods["START"] <= horizon].copy()
    open_ = periods["END"].to_numpy() > horizon
    periods["REC"] = np.where(open_, "", periods["REC"]).astype(object)

    mc_dob = records.mothers(rng, dob_all, kids["male"].to_numpy(), horizon)
    extra = {
        "rng": rng,
        "pools": pools,
        "dob": dob_all,
        "ids": ids,
        "horizon": horizon,
        "home_post": home_post_all,
    }
    council = _assemble(
        la_code,
        area,
        seed,
        size,
        first_year,
        last_year,
        kids,
        ids,
        home_post_all,
        mc_dob,
        periods,
        pl,
        tmp,
        ls,
        episodes,
        p,
        horizon,
    )
    records.add_records(council, rng, extra)
    return council


def _assemble(
    la_code,
    area,
    seed,
    size,
    first_year,
    last_year,
    kids,
    ids,
    home_post,
    mc_dob,
    periods,
    pl,
    tmp,
    ls,
    episodes,
    p,
    horizon,
) -> SyntheticCouncil:
    """Build the published tables (ids, datetimes, horizon censoring) of the council."""
    n = len(kids)
    dob = kids["dob"].to_numpy()
    # a UPN is a letter (not I, O or S) and 12 digits (DfE rule 168): the letter, a 0 and
    # 11 more digits here
    upn_digits = (
        pd.Series(np.random.Generator(np.random.PCG64(seed + 1)).integers(10**10, 10**11, n))
        .astype(str)
        .to_numpy(dtype=object)
    )
    letters = np.array(list("ABCDEFGHJKLMNPQRTUVWXYZ"), dtype=object)
    upn = letters[np.arange(n) % len(letters)] + "0" + upn_digits
    uasc = kids["uasc"].to_numpy()
    children = pd.DataFrame(
        {
            "CHILD": ids,
            "DOB": to_datetime(dob),
            "SEX": np.where(kids["male"].to_numpy(), "M", "F").astype(object),
            "ETHNIC": kids["ethnic"].to_numpy(dtype=object),
            "UPN": upn,
            "UASC": uasc,
            "HOME_POST": home_post,
            "MC_DOB": to_datetime(np.where(mc_dob < 0, np.nan, mc_dob)),
            "SHORT_BREAKS": np.isin(np.arange(n), periods.loc[periods["SHORT_BREAK"], "child_no"]),
        }
    )

    def censor(end):
        end = np.asarray(end, dtype="float64")
        return to_datetime(np.where(end > horizon, np.nan, end))

    keep_period = periods["PERIOD"].to_numpy()
    out_periods = pd.DataFrame(
        {
            "PERIOD": keep_period,
            "CHILD": ids[periods["child_no"].to_numpy()],
            "START": to_datetime(periods["START"].to_numpy()),
            "END": censor(periods["END"].to_numpy()),
            "REC": periods["REC"].to_numpy(dtype=object),
            "ROUTE": periods["ROUTE"].to_numpy(dtype=object),
            "CIN": periods["CIN"].to_numpy(dtype=object),
            "SHORT_BREAK": periods["SHORT_BREAK"].to_numpy(),
        }
    )
    pl = pl.loc[pl["START"] <= horizon]
    placements = pd.DataFrame(
        {
            "PLACEMENT": pl["PLACEMENT"].to_numpy(),
            "PERIOD": pl["PERIOD"].to_numpy(),
            "CHILD": ids[p.child[pl["PERIOD"].to_numpy()]],
            "START": to_datetime(pl["START"].to_numpy()),
            "END": censor(pl["END"].to_numpy()),
            "PLACE": pl["PLACE"].to_numpy(dtype=object),
            "PLACE_PROVIDER": pl["PLACE_PROVIDER"].to_numpy(dtype=object),
            "CARER": pl["CARER"].to_numpy(),
            "PL_POST": pl["PL_POST"].to_numpy(dtype=object),
            "URN": pl["URN"].to_numpy(dtype=object),
            "MOVE_REASON": pl["MOVE_REASON"].to_numpy(dtype=object),
        }
    )
    tmp = tmp.loc[tmp["START"] <= horizon]
    temporary = tmp.assign(
        START=to_datetime(tmp["START"].to_numpy()).to_numpy(),
        END=censor(tmp["END"].to_numpy()).to_numpy(),
    ).reset_index(drop=True)
    ls = ls.loc[ls["START"] <= horizon]
    legal = ls.assign(
        START=to_datetime(ls["START"].to_numpy()).to_numpy(),
        END=censor(ls["END"].to_numpy()).to_numpy(),
    )[["PERIOD", "START", "END", "LS"]].reset_index(drop=True)
    ep = episodes.loc[episodes["DECOM"] <= horizon].copy()
    open_ep = ep["DEC"].to_numpy() > horizon
    ep["REC"] = np.where(open_ep, "", ep["REC"]).astype(object)
    ep["REASON_PLACE_CHANGE"] = np.where(open_ep, "", ep["REASON_PLACE_CHANGE"]).astype(object)
    ep["CHILD"] = ids[ep["CHILD"].to_numpy()]
    ep["DECOM"] = to_datetime(ep["DECOM"].to_numpy()).to_numpy()
    ep["DEC"] = censor(ep["DEC"].to_numpy()).to_numpy()
    ep = ep.sort_values(["CHILD", "DECOM"], kind="stable").reset_index(drop=True)

    a = p.adoption
    plan = a["is_plan"] & (a["decision"] <= horizon)
    idx = np.flatnonzero(plan)

    def stage(values, reached):
        v = np.where(reached & (values <= horizon), values, np.nan)
        return to_datetime(v).to_numpy()

    ok = a["ok"][idx]
    end = p.end[idx]
    rev = a["reversed"][idx]
    po_reached = (a["placement_order"][idx] < end) & ((rev < 0) | (rev > a["placement_order"][idx]))
    po_reached &= ~a["consent"][idx]
    adopted = ok & (a["adopted"][idx] <= horizon)
    # a plan of a child who left care without being adopted ended with the period at the
    # latest (DfE rule 557 asks for its date and reason)
    left_unadopted = ~adopted & (rev < 0) & (end <= horizon) & (a["decision"][idx] <= end)
    rev = np.where(left_unadopted, end, rev)
    reason_ceased = np.where(left_unadopted, "RD4", a["reason_ceased"][idx])
    rng_a = np.random.Generator(np.random.PCG64(seed + 2))
    k = len(idx)
    nb = np.where(rng_a.random(k) < 0.2, 1, 2)
    sex_adoptr = np.where(
        nb == 1,
        pick(rng_a, ["F1", "M1"], [0.9, 0.1], k),
        pick(rng_a, ["MF", "FF", "MM"], [0.86, 0.07, 0.07], k),
    )
    ls_adoptr = np.where(
        nb == 1,
        "L0",
        np.where(
            sex_adoptr == "MF",
            pick(rng_a, ["L11", "L3"], [0.8, 0.2], k),
            pick(rng_a, ["L12", "L2", "L4"], [0.5, 0.3, 0.2], k),
        ),
    )
    placed_place = (
        placements.loc[placements["PLACE"].isin(["A3", "A4", "A5", "A6"])]
        .drop_duplicates("PERIOD")
        .set_index("PERIOD")["PLACE"]
    )
    foster_care = np.isin(placed_place.reindex(idx).to_numpy(), ["A3", "A5"]).astype(int)
    adoptions = pd.DataFrame(
        {
            "CHILD": ids[p.child[idx]],
            "PERIOD": idx,
            "ENTRY": to_datetime(p.start[idx]).to_numpy(),
            "DECISION": to_datetime(a["decision"][idx]).to_numpy(),
            "PLACEMENT_ORDER": stage(a["placement_order"][idx], po_reached),
            "MATCH": stage(a["match"][idx], ok & (a["match"][idx] < end)),
            "PLACED": stage(a["placed"][idx], ok & (a["placed"][idx] < end)),
            "ADOPTED": stage(a["adopted"][idx], adopted),
            "REVERSED": stage(rev, rev >= 0),
            "REASON_CEASED": np.where(rev >= 0, reason_ceased, "").astype(object),
            "FOSTER_CARE": foster_care,
            "NB_ADOPTR": nb,
            "SEX_ADOPTR": sex_adoptr.astype(object),
            "LS_ADOPTR": ls_adoptr.astype(object),
            "CONSENT": a["consent"][idx],
        }
    )
    empty = pd.DataFrame()
    return SyntheticCouncil(
        la_code=la_code,
        home_area=area,
        seed=seed,
        size=size,
        first_year=first_year,
        last_year=last_year,
        children=children,
        periods=out_periods,
        placements=placements.reset_index(drop=True),
        temporary_moves=temporary,
        legal_statuses=legal,
        episodes=ep,
        adoptions=adoptions,
        care_leavers=empty,
        reviews=empty,
        missing=empty,
        health=empty,
        prev_perm=empty,
        social_workers=empty,
    )
