"""The other records of a child's history: reviews, missing incidents, health (OC2), care
leavers' outcomes (OC3), previous permanence and social workers.

Each is drawn from the periods of care already simulated, vectorised over all periods, so it
is consistent with them: a review happens while the child is looked after, a missing incident
ends before care ends, a care leaver's 19th birthday follows a period that ended after 16.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cpanalysis.synthetic.dates import (
    add_months,
    add_years,
    age_years,
    collection_year_of,
    day,
    to_datetime,
)

if TYPE_CHECKING:
    from cpanalysis.synthetic.simulate import SyntheticCouncil

__all__ = ["mothers", "add_records", "as_days"]


def as_days(values: pd.Series | np.ndarray, missing: float = np.nan) -> np.ndarray:
    """Datetimes as float days since 1970 (``missing`` where NaT)."""
    s = pd.Series(pd.to_datetime(values))
    out = (s - pd.Timestamp("1970-01-01")).dt.days.to_numpy(dtype="float64", na_value=np.nan)
    return np.where(np.isnan(out), missing, out)


def _pick(rng, codes, probs, n=None):
    from cpanalysis.synthetic.simulate import pick

    return pick(rng, codes, probs, n)


def mothers(rng: np.random.Generator, dob: np.ndarray, male: np.ndarray, horizon: int):
    """Birth date of a girl's first baby (``-1`` if none): a few girls, from age 14."""
    n = len(dob)
    mother = ~male & (rng.random(n) < 0.04)
    birth = add_months(dob, 14 * 12 + rng.integers(0, 60, n))
    return np.where(mother & (birth <= horizon), birth, -1)


def _repeat_events(starts: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of the owner and the event's rank (0, 1, ...) for ``counts`` events each."""
    owner = np.repeat(np.arange(len(counts)), counts)
    first = np.repeat(np.cumsum(counts) - counts, counts)
    return owner, np.arange(len(owner)) - first


def _reviews(rng, periods: pd.DataFrame, dob: np.ndarray, horizon: int) -> pd.DataFrame:
    """Statutory reviews: within 20 days, then within 3 months, then every 6 months."""
    care = periods.loc[~periods["SHORT_BREAK"]]
    start = as_days(care["START"])
    end = as_days(care["END"], missing=horizon + 1)
    n_max = np.ceil((end - start) / 120).astype("int64") + 2
    owner, rank = _repeat_events(start, n_max)
    k = len(owner)
    late = rng.random(k) < np.select([rank == 0, rank == 1], [0.07, 0.09], 0.11)
    gap = np.select(
        [rank == 0, rank == 1],
        [
            np.where(late, rng.integers(21, 45, k), rng.integers(4, 21, k)),
            np.where(late, rng.integers(93, 140, k), rng.integers(55, 93, k)),
        ],
        np.where(late, rng.integers(185, 240, k), rng.integers(120, 184, k)),
    )
    csum = np.cumsum(gap)
    base = np.repeat(np.cumsum(n_max) - n_max, n_max)
    before = np.where(base > 0, csum[np.maximum(base - 1, 0)], 0)
    when = start[owner] + (csum - before)
    keep = (when < end[owner]) & (when <= horizon)
    owner, when = owner[keep], when[keep]
    child = care["CHILD"].to_numpy()[owner]
    child_no = care["child_no"].to_numpy()[owner]
    age = age_years(dob[child_no], when.astype("int64"))
    code = np.where(
        age < 4,
        "PN0",
        _pick(
            rng,
            ["PN1", "PN2", "PN3", "PN4", "PN5", "PN6", "PN7"],
            [0.58, 0.1, 0.04, 0.03, 0.08, 0.11, 0.06],
            len(owner),
        ),
    )
    return pd.DataFrame(
        {
            "CHILD": child,
            "PERIOD": care["PERIOD"].to_numpy()[owner],
            "REVIEW": to_datetime(when).to_numpy(),
            "REVIEW_CODE": code.astype(object),
            "LATE": late[keep],
        }
    ).sort_values(["CHILD", "REVIEW"], kind="stable", ignore_index=True)


def _missing(rng, periods: pd.DataFrame, dob: np.ndarray, horizon: int) -> pd.DataFrame:
    """Missing / away-without-authorisation incidents of teenagers, never overlapping."""
    care = periods.loc[~periods["SHORT_BREAK"]]
    child_no = care["child_no"].to_numpy()
    start = np.maximum(as_days(care["START"]), add_years(dob[child_no], 11))
    end = as_days(care["END"], missing=horizon + 1)
    years = np.maximum(end - start, 0) / 365.25
    prone = rng.random(len(care)) < 0.16
    rate = np.where(prone, rng.gamma(1.2, 3.0, len(care)), 0)
    counts = np.minimum(rng.poisson(rate * years), 60)
    owner, _ = _repeat_events(start, counts)
    k = len(owner)
    when = start[owner] + np.floor(rng.random(k) * (end[owner] - start[owner] - 4))
    length = np.minimum(rng.geometric(0.45, k) - 1, 20)
    frame = pd.DataFrame(
        {"owner": owner, "start": when.astype("int64"), "end": (when + length).astype("int64")}
    ).sort_values(["owner", "start"], kind="stable")
    # drop an incident that starts before the previous one ended (twice: rare chains)
    for _ in range(2):
        prev_end = frame.groupby("owner")["end"].shift(1)
        frame = frame.loc[~(frame["start"] <= prev_end)]
    frame = frame.loc[frame["start"] <= horizon]
    owner = frame["owner"].to_numpy()
    # an incident ends before care does (DfE rules 575, 577)
    mis_end = np.minimum(frame["end"].to_numpy(), end[owner] - 1).astype("float64")
    mis_end[mis_end > horizon] = np.nan
    return pd.DataFrame(
        {
            "CHILD": care["CHILD"].to_numpy()[owner],
            "PERIOD": care["PERIOD"].to_numpy()[owner],
            "MISSING": _pick(rng, ["M", "A"], [0.62, 0.38], len(owner)).astype(object),
            "MIS_START": to_datetime(frame["start"].to_numpy()).to_numpy(),
            "MIS_END": to_datetime(mis_end).to_numpy(),
        }
    ).sort_values(["CHILD", "MIS_START"], kind="stable", ignore_index=True)


def _health(rng, council: SyntheticCouncil, dob: np.ndarray) -> pd.DataFrame:
    """OC2 outcomes of children looked after 12 months or more at each 31 March.

    Who is in OC2 and which items are filled follow the DfE's rules: looked after the whole
    collection year (from 1 April or before, to 31 March or after: rule 191); SDQ items only
    from age 4 (188); immunisations, teeth, health assessment and substance misuse for every
    child, health check only for under-5s (182, 547); an intervention offered only where none
    was received (158).

    The children in care for the 12 months before 31 March (start before 1 April of the year
    before, still in care after 31 March) are drawn from ``rng`` as they always were, so the
    records drawn after these (care leavers) are unchanged; the few more the DfE counts
    (starting on 1 April, or leaving on 31 March) are drawn from a generator of their own.
    """
    periods = council.periods.loc[~council.periods["SHORT_BREAK"]]
    start = as_days(periods["START"])
    end = as_days(periods["END"], missing=np.inf)
    frames = []
    for year in council.years:
        march = day(year, 3, 31)
        drawn = (start <= day(year - 1, 3, 31)) & (end > march)
        edge = (start <= day(year - 1, 4, 1)) & (end >= march) & ~drawn
        frames.append(_health_items(rng, periods.loc[drawn], dob, year))
        if edge.any():
            own = np.random.Generator(np.random.PCG64([council.seed, year, 191]))
            frames.append(_health_items(own, periods.loc[edge], dob, year))
    return pd.concat(frames, ignore_index=True)


def _health_items(rng, sub: pd.DataFrame, dob: np.ndarray, year: int) -> pd.DataFrame:
    """The OC2 items of the periods ``sub`` at 31 March of ``year`` (draws in a fixed order)."""
    march = day(year, 3, 31)
    n = len(sub)
    child_no = sub["child_no"].to_numpy()
    age = age_years(dob[child_no], march)
    trend = 0.01 * (year - 2021)
    sdq_age = (age >= 4) & (age <= 16)
    sdq_done = sdq_age & (rng.random(n) < 0.76 + trend)
    reason = np.where(
        sdq_age & ~sdq_done,
        _pick(rng, ["SDQ2", "SDQ3", "SDQ4", "SDQ5"], [0.3, 0.15, 0.35, 0.2], n),
        np.where(~sdq_age & (age >= 4), "SDQ1", ""),
    )
    score = np.clip(np.round(rng.normal(14, 6.5, n)), 0, 40).astype("int64")

    def flag(p, eligible=None, n=n):
        values = (rng.random(n) < p).astype("int64").astype(object)
        if eligible is not None:
            values = np.where(eligible, values, "")
        return values.astype(str).astype(object)

    substance = np.where(age >= 10, flag(0.035), "0")
    intervention = np.where(substance == "1", flag(0.6), "")
    items = {
        "CHILD": sub["CHILD"].to_numpy(),
        "YEAR": year,
        "SDQ_SCORE": np.where(sdq_done, score.astype(str), "").astype(object),
        "SDQ_REASON": reason.astype(object),
        "CONVICTED": flag(0.03, age >= 10),
        "HEALTH_CHECK": flag(0.88 + trend, age < 5),
        "IMMUNISATIONS": flag(0.84 + trend),
        "TEETH_CHECK": flag(0.78 + 2 * trend),
        "HEALTH_ASSESSMENT": flag(0.89 + trend),
        "SUBSTANCE_MISUSE": substance,
        "INTERVENTION_RECEIVED": intervention,
    }
    items["INTERVENTION_OFFERED"] = np.where(intervention == "0", flag(0.5), "")
    return pd.DataFrame(items)


_EET_CODES = {
    "17 to 18": (["F2", "P2", "F5", "F4", "P5", "F1"], [0.62, 0.06, 0.14, 0.1, 0.04, 0.04]),
    "19 to 21": (["F1", "P1", "F2", "P2", "F5", "P5", "F4", "P4"]),
}
_ACCOM_SUITABLE_YOUNG = (
    ["Z1", "D1", "E1", "B1", "U1", "C1", "T1"],
    [0.3, 0.25, 0.1, 0.13, 0.12, 0.05, 0.05],
)
_ACCOM_SUITABLE_OLD = (
    ["U1", "D1", "B1", "Z1", "E1", "K1", "T1", "C1", "Y1"],
    [0.42, 0.15, 0.15, 0.09, 0.05, 0.06, 0.03, 0.02, 0.03],
)
_ACCOM_UNSUITABLE = (
    ["S2", "X2", "B2", "D2", "U2", "W2", "V2", "K2"],
    [0.2, 0.2, 0.15, 0.1, 0.15, 0.05, 0.05, 0.1],
)


def _care_leavers(rng, council: SyntheticCouncil, dob: np.ndarray, horizon: int) -> pd.DataFrame:
    """Care leavers' activity and accommodation around their 17th-21st birthdays (OC3).

    A care leaver left care at 16 or later after at least 13 weeks looked after since their
    14th birthday, and not by adoption, special guardianship, a residence order, death or a
    transfer to another council. Outcomes are drawn with a lasting personal tendency (a young
    person in work at 19 is likely to be in work at 20) and a slow rise in NEET over the years.
    """
    periods = council.periods.loc[~council.periods["SHORT_BREAK"]]
    periods = periods.loc[periods["END"].notna()]
    child_no = periods["child_no"].to_numpy()
    start = as_days(periods["START"])
    end = as_days(periods["END"])
    fourteen = add_years(dob[child_no], 14)
    sixteen = add_years(dob[child_no], 16)
    excluded = ["E11", "E12", "E45", "E46", "E47", "E48", "E43", "E44", "E41", "E2", "E3"]
    leaver = (end >= sixteen) & (end - np.maximum(start, fourteen) >= 91)
    leaver &= ~periods["REC"].isin(excluded).to_numpy()
    leavers = periods.loc[leaver].drop_duplicates("child_no", keep="last")
    n = len(leavers)
    c_no = leavers["child_no"].to_numpy()
    left = as_days(leavers["END"])
    tendency = rng.normal(0, 1.1, n)
    went_home = leavers["REC"].isin(["E4A", "E4B", "E13"]).to_numpy()
    died_age = np.where(rng.random(n) < 0.012, rng.integers(17, 22, n), 99)
    frames = []
    for age in range(17, 22):
        birthday = add_years(dob[c_no], age)
        here = (birthday > left) & (birthday <= horizon)
        k = int(here.sum())
        if k == 0:
            continue
        year = collection_year_of(birthday[here])
        young = age <= 18
        touch = _pick(
            rng,
            ["YES", "NO", "REFU", "NREQ", "RHOM"],
            [0.905, 0.035, 0.02, 0.0 if young else 0.02, 0.02],
            k,
        )
        touch = np.where(went_home[here] & (rng.random(k) < 0.25), "RHOM", touch)
        touch = np.where(died_age[here] <= age, "DIED", touch).astype(object)
        # logit of the chance of EET among those whose activity is known
        base = 0.82 if young else 0.36
        drift = -0.02 * (year - 2021) + 0.04 * np.sin((year - 2016) / 2.0)
        p_eet = 1 / (1 + np.exp(-(base + drift + tendency[here])))
        eet = rng.random(k) < p_eet
        if young:
            eet_code = _pick(rng, *_EET_CODES["17 to 18"], k)
        else:
            eet_code = _pick(
                rng,
                _EET_CODES["19 to 21"],
                [0.14, 0.03, 0.3, 0.04, 0.33, 0.1, 0.04, 0.02],
                k,
            )
        neet_code = _pick(rng, ["G4", "G5", "G6"], [0.22, 0.67, 0.11], k)
        activ = np.where(eet, eet_code, neet_code)
        suitable = rng.random(k) < np.where(eet, 0.97, 0.9)
        accom = np.where(
            suitable,
            _pick(rng, *(_ACCOM_SUITABLE_YOUNG if young else _ACCOM_SUITABLE_OLD), k),
            _pick(rng, *_ACCOM_UNSUITABLE, k),
        )
        if age == 17:  # staying with former foster carers starts at 18 (DfE rule 3001)
            accom = np.where(accom == "Z1", "D1", np.where(accom == "Z2", "D2", accom))
        unknown = np.isin(touch, ["NO", "REFU", "DIED", "RHOM"])
        activ = np.where(unknown, "0", activ).astype(object)
        accom = np.where(unknown, "0", accom).astype(object)
        frames.append(
            pd.DataFrame(
                {
                    "CHILD": leavers["CHILD"].to_numpy()[here],
                    "AGE": age,
                    "BIRTHDAY": to_datetime(birthday[here]).to_numpy(),
                    "YEAR": year,
                    "IN_TOUCH": touch,
                    "ACTIV": activ,
                    "ACCOM": accom,
                }
            )
        )
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["YEAR", "CHILD"], kind="stable", ignore_index=True)


#: Councils a previous permanence order may have been made by: the DfE codes of nearby and
#: large councils (rule 633 lists the valid ones), and Wales.
_LA_PERM = np.array(["852", "850", "851", "921", "865", "868", "855", "866", "936", "330",
                     "873", "WAL"], dtype=object)  # fmt: skip


def _prev_perm(rng, council: SyntheticCouncil, dob: np.ndarray) -> pd.DataFrame:
    """Previous permanence of each child (returned in the years the child starts care).

    The order was made before the child came into care (DfE rule 632), by a council with a
    valid code (633); where it is not known (P4), the council is 999 and the day and month
    ZZ, so the DfE's rule 630 finds both filled.
    """
    periods = council.periods.drop_duplicates("CHILD")
    n = len(periods)
    code = _pick(rng, ["Z1", "P4", "P2", "P3", "P1"], [0.8, 0.08, 0.06, 0.03, 0.03], n)
    start = as_days(periods["START"])
    before = start - rng.integers(200, 3000, n)
    born = dob[periods["child_no"].to_numpy()]
    before = np.minimum(np.maximum(before, born + 30), start - 1)
    code = np.where(before <= born, "Z1", code)  # a newborn had no earlier order
    has = np.isin(code, ["P1", "P2", "P3", "P4"])
    text = pd.Series(to_datetime(before)).dt.strftime("%d/%m/%Y").to_numpy(dtype=object)
    unknown_day = rng.random(n)
    # the DfE allows ZZ for a day or month the council does not know
    text = pd.Series(text, dtype=object)
    zz = np.where(
        unknown_day < 0.1,
        "ZZ" + text.str[2:],
        np.where(unknown_day < 0.14, "ZZ/ZZ" + text.str[5:], text),
    )
    la = np.where(
        rng.random(n) < 0.6, council.la_code, _LA_PERM[rng.integers(201, 940, n) % len(_LA_PERM)]
    ).astype(object)
    la = np.where(code == "P4", "999", la)
    zz = np.where(code == "P4", "ZZ/ZZ" + text.str[5:], zz)
    # the DfE reads a ZZ day or month as the latest it could be: that must be before care
    year_end = as_days(pd.to_datetime("31/12/" + text.str[6:], format="%d/%m/%Y"))
    month_end = as_days(
        pd.to_datetime("01" + text.str[2:], format="%d/%m/%Y") + pd.offsets.MonthEnd(0)
    )
    form = pd.Series(zz, dtype=object)
    latest = np.where(
        form.str.startswith("ZZ/ZZ"),
        year_end,
        np.where(form.str.startswith("ZZ"), month_end, before),
    )
    zz = np.where(latest >= start, text, zz)
    return pd.DataFrame(
        {
            "CHILD": periods["CHILD"].to_numpy(),
            "FIRST_START": periods["START"].to_numpy(),
            "PREV_PERM": code.astype(object),
            "LA_PERM": np.where(has, la, "").astype(object),
            "DATE_PERM": np.where(has, zz, "").astype(object),
        }
    )


_SW_REASONS = ["MANAGE", "LEFTRL", "ORGRST", "TSPROC", "ABSENC", "CHCHAN", "PCCHAN", "OTHERS"]


def _social_workers(rng, council: SyntheticCouncil, horizon: int) -> pd.DataFrame:
    """Allocated social workers of each period of care, changing about once a year."""
    care = council.periods.loc[~council.periods["SHORT_BREAK"]]
    start = as_days(care["START"])
    end = as_days(care["END"], missing=horizon + 1)
    counts = rng.poisson(0.85 * (end - start) / 365.25)
    owner, _ = _repeat_events(start, counts)
    when = (
        start[owner]
        + 1
        + np.floor(rng.random(len(owner)) * np.maximum(end[owner] - start[owner] - 2, 0))
    )
    frame = pd.DataFrame(
        {"owner": np.r_[np.arange(len(care)), owner], "start": np.r_[start, when].astype("int64")}
    )
    frame = frame.sort_values(["owner", "start"], kind="stable").drop_duplicates()
    # a social worker stays at least three days (DfE rule SW09): changes closer than that to
    # the previous one or to the end of care are dropped (twice: rare chains)
    for _ in range(2):
        first_row = frame["owner"].ne(frame["owner"].shift())
        gap = frame["start"] - frame.groupby("owner")["start"].shift(1)
        to_end = end[frame["owner"].to_numpy()] - frame["start"].to_numpy()
        frame = frame.loc[first_row | ((gap >= 3) & (to_end >= 3))]
    frame = frame.loc[frame["start"] <= horizon].reset_index(drop=True)
    nxt = frame.groupby("owner")["start"].shift(-1).to_numpy()
    own = frame["owner"].to_numpy()
    sw_end = np.where(np.isnan(nxt), end[own], nxt)
    changed = ~np.isnan(nxt)
    first = np.r_[True, own[1:] != own[:-1]]
    pool = max(20, council.size // 8)
    workers = np.char.add("SW", (rng.permutation(900_000)[:pool] + 100_000).astype(str))
    k = len(frame)
    return pd.DataFrame(
        {
            "CHILD": care["CHILD"].to_numpy()[own],
            "PERIOD": care["PERIOD"].to_numpy()[own],
            "SW_ID": workers[rng.integers(0, pool, k)].astype(object),
            "SW_DECOM": to_datetime(frame["start"].to_numpy()).to_numpy(),
            "SW_DEC": to_datetime(np.where(sw_end > horizon, np.nan, sw_end)).to_numpy(),
            # the reason this social worker took over: first contact for the first of a
            # period of care, else why the one before changed (DfE rules SW01b, SW13)
            "SW_REASON": _started_because(
                first,
                np.where(
                    changed,
                    _pick(rng, _SW_REASONS, [0.2, 0.3, 0.08, 0.12, 0.07, 0.1, 0.05, 0.08], k),
                    "",
                ),
            ),
        }
    )


def _started_because(first: np.ndarray, ended_because: np.ndarray) -> np.ndarray:
    """Reason each social-worker episode began: ``FCONTA`` first, else the previous end's."""
    before = np.r_[np.array([""], dtype=object), ended_because[:-1].astype(object)]
    return np.where(first, "FCONTA", before).astype(object)


def add_records(council: SyntheticCouncil, rng: np.random.Generator, extra: dict) -> None:
    """Fill the council's reviews, missing, health, care leavers, PrevPerm and SW tables."""
    dob = extra["dob"]
    horizon = extra["horizon"]
    ids = extra["ids"]
    child_no = pd.Series(np.arange(len(ids)), index=pd.Index(ids, name="CHILD"))
    council.periods["child_no"] = child_no.loc[council.periods["CHILD"]].to_numpy()
    council.reviews = _reviews(rng, council.periods, dob, horizon)
    council.missing = _missing(rng, council.periods, dob, horizon)
    council.health = _health(rng, council, dob)
    council.care_leavers = _care_leavers(rng, council, dob, horizon)
    council.prev_perm = _prev_perm(rng, council, dob)
    council.social_workers = _social_workers(rng, council, horizon)
    council.periods = council.periods.drop(columns="child_no")
