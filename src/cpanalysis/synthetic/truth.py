"""Headline figures computed straight from a synthetic council's true history.

These are the answers the indicator code should reproduce from the cleaned extracts, so they
are computed here independently: from the simulation's own periods of care, placements,
adoptions and care-leaver outcomes, never from episodes or :mod:`cpanalysis.indicators`.

Definitions (collection year ``Y`` runs from 1 April ``Y-1`` to 31 March ``Y``):

* **looked after at 31 March**: a period of care (not a short break, V3/V4) that started on
  or before 31 March and ended after it (or is still open).
* **started / ceased**: children (each counted once) with a period of care, not a short
  break, starting / ending during the year.
* **placement**: a spell with one carer in one placement type. A new placement starts when
  the carer or the placement type changes; a temporary move (T0-T4) and a change of legal
  status alone do not start one. A placement for adoption with the current foster carers
  (U6 -> A5, or U6 -> A3 when placed with the parents' consent; the same ``CARER``) is not
  a change of placement: the DfE's metric text says "a child being placed for adoption
  with their existing foster carer is not included as a change of placement".
* **placements_3plus_pct**: of children looked after at 31 March, the % with 3 or more
  placements during the year (placements that started in the year, plus the one the child
  was in on 1 April), counting every period of care of the year.
* **long_term_stability_pct**: of children looked after at 31 March, aged under 16 then and
  looked after continuously for 2.5 years (30 months) or more, the % whose current placement
  began 2 years or more before.
* **care_leavers_19_21_eet_pct / _suitable_pct**: of care leavers whose 19th, 20th or 21st
  birthday fell in the year (excluding those who died or returned home for 6 months, RHOM),
  the % in education, employment or training / in suitable accommodation. Those whose
  activity is not known stay in the denominator, as in the DfE's tables.
* **entry_to_adoption_days**: mean days from the start of the period of care to the
  adoption order, of children adopted during the year.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from cpanalysis.synthetic.simulate import SyntheticCouncil

__all__ = ["truth_indicators", "EET_CODES"]

#: ACTIV codes counted as education, employment or training (old F3/P3 included).
EET_CODES = ("F1", "P1", "F2", "P2", "F3", "P3", "F4", "P4", "F5", "P5")


def _pct(numerator: int, denominator: int) -> float:
    return float("nan") if denominator == 0 else 100.0 * numerator / denominator


def truth_indicators(council: SyntheticCouncil, year: int) -> dict[str, float]:
    """The true headline figures of ``council`` for collection ``year``.

    Parameters
    ----------
    council : SyntheticCouncil
        A simulated council (:func:`cpanalysis.synthetic.simulate_council`).
    year : int
        Collection year (2025 = 2024-25).

    Returns
    -------
    dict
        ``cla_31_march``, ``started``, ``ceased``, ``adopted`` (counts of children),
        ``placements_3plus_pct``, ``long_term_stability_pct``,
        ``care_leavers_19_21_eet_pct``, ``care_leavers_19_21_suitable_pct`` (percent 0-100),
        ``entry_to_adoption_days`` (mean days; NaN when nobody was adopted), plus the
        numerators and denominators of the percentages (``*_num``, ``*_den``).
    """
    start_day = pd.Timestamp(year - 1, 4, 1)
    march = pd.Timestamp(year, 3, 31)
    periods = council.periods.loc[~council.periods["SHORT_BREAK"]]
    at_march = periods.loc[
        (periods["START"] <= march) & (periods["END"].isna() | (periods["END"] > march))
    ]
    cla = at_march["CHILD"].unique()
    started = periods.loc[periods["START"].between(start_day, march), "CHILD"].nunique()
    ceased = periods.loc[periods["END"].between(start_day, march), "CHILD"].nunique()

    # placements during the year, per child looked after at 31 March; a placement for
    # adoption with the same carers continues the placement before it (one home)
    pl = council.placements.sort_values(["PERIOD", "START"], kind="stable")
    same_carers = pl["PLACE"].isin(["A3", "A5"]) & pl["CARER"].eq(
        pl.groupby("PERIOD")["CARER"].shift(1)
    )
    home = (~same_carers).cumsum()
    last_of_home = ~home.duplicated(keep="last")
    pl = pl.loc[~home.duplicated(keep="first")].assign(END=pl.loc[last_of_home, "END"].to_numpy())
    open_after = pl["END"].isna()
    in_year = pl.loc[(pl["START"] <= march) & (open_after | (pl["END"] > start_day))]
    counts = in_year.groupby("CHILD").size().reindex(cla, fill_value=0)
    three_plus = int((counts >= 3).sum())

    # long-term stability
    dob = council.children.set_index("CHILD")["DOB"]
    sixteenth = dob.loc[at_march["CHILD"]].reset_index(drop=True) + pd.DateOffset(years=16)
    under16 = pd.Series(sixteenth.to_numpy(), index=at_march.index) > march
    long_looked_after = at_march["START"] <= march - pd.DateOffset(months=30)
    base = at_march.loc[under16 & long_looked_after]
    current = pl.loc[(pl["START"] <= march) & (open_after | (pl["END"] > march))]
    current = current.set_index("PERIOD")["START"]
    placement_start = current.reindex(base["PERIOD"]).to_numpy()
    stable = int((placement_start <= march - pd.DateOffset(years=2)).sum())

    # care leavers aged 19-21
    cl = council.care_leavers
    cohort = cl.loc[(cl["YEAR"] == year) & cl["AGE"].between(19, 21)]
    cohort = cohort.loc[~cohort["IN_TOUCH"].isin(["DIED", "RHOM"])]
    eet = int(cohort["ACTIV"].isin(EET_CODES).sum())
    suitable = int(cohort["ACCOM"].str.endswith("1").sum())

    ad = council.adoptions
    adopted = ad.loc[ad["ADOPTED"].between(start_day, march)]
    days = (adopted["ADOPTED"] - adopted["ENTRY"]).dt.days
    return {
        "cla_31_march": len(cla),
        "started": int(started),
        "ceased": int(ceased),
        "adopted": len(adopted),
        "placements_3plus_pct": _pct(three_plus, len(cla)),
        "placements_3plus_num": three_plus,
        "placements_3plus_den": len(cla),
        "long_term_stability_pct": _pct(stable, len(base)),
        "long_term_stability_num": stable,
        "long_term_stability_den": len(base),
        "care_leavers_19_21_eet_pct": _pct(eet, len(cohort)),
        "care_leavers_19_21_suitable_pct": _pct(suitable, len(cohort)),
        "care_leavers_19_21_num_eet": eet,
        "care_leavers_19_21_num_suitable": suitable,
        "care_leavers_19_21_den": len(cohort),
        "entry_to_adoption_days": float(days.mean()) if len(days) else float("nan"),
    }
