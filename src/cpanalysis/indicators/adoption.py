"""Adoption timeliness: days between the stages of adoption, scorecard A1/A2/A10, waiting.

Milestones of a child adopted in the year (the period of care that ended with REC E11/E12):

========================  =========================================================
entered care              start of the period of care that ended in adoption
decision (ADM)            PlacedAdoption.DATE_PLACED (latest one in that period),
                          else AD1.DATE_INT
placement order           DECOM of the first episode in the period with LS E1 (D1)
matched                   AD1.DATE_MATCH
placed (moved in)         DECOM of the first episode in the period with PLACE A3-A6
moved in with adopters    for adoptions by the child's foster carers, the start of the
                          carer spell that the A3/A5 placement continues (A10)
adopted                   DEC of the episode ending with REC E11/E12
========================  =========================================================

**The first years of data.** When a period of care began before the first return we hold
and its first visible episode is not a start (``RNE = S``), the date of entering care is
unknown (:mod:`cpanalysis.histories`, ``START_KNOWN``): the first visible episode began
later than the child entered care. The same holds for a placement order or an adoption
placement whose first episode is that first visible one (the order or placement may have
begun in an episode we do not hold). A measure for a year in which any child it counts has
such an unknown milestone is published as not available (value missing, symbol ``x``),
never as an understated number; so is a three-year measure whose three years are not all
inside the data window (adoptions before the first return are missing altogether).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from cpanalysis.histories import (
    annotated,
    child_keys,
    code_in,
    periods_of_care,
    window_start_of,
)
from cpanalysis.indicators.common import latest_per_child
from cpanalysis.indicators.frame import (
    NOT_APPLICABLE,
    empty_measure_frame,
    measure_frame,
    percent_row,
    year_end,
    year_start,
)

__all__ = [
    "ADOPTED_REC",
    "ADOPTION_PLACES",
    "A1_THRESHOLD_DAYS",
    "adoption_timeline",
    "adoption_measures",
    "adoption_waiting_survival",
    "children_waiting_for_adoption",
]

ADOPTED_REC = ("E11", "E12")
ADOPTION_PLACES = ("A3", "A4", "A5", "A6")
FOSTER_CARER_ADOPTION_PLACES = ("A3", "A5")
PLACEMENT_ORDER_LS = ("E1", "D1")
#: Scorecard threshold for A1 (14 months), 2013-16.
A1_THRESHOLD_DAYS = 426

#: (measure id, from milestone, to milestone) of the annual averages.
STAGES = (
    ("adoption_entry_to_decision_days", "ENTERED", "DECISION"),
    ("adoption_decision_to_match_days", "DECISION", "MATCHED"),
    ("adoption_match_to_placed_days", "MATCHED", "PLACED"),
    ("adoption_entry_to_placed_days", "ENTERED", "PLACED"),
    ("adoption_placed_to_order_days", "PLACED", "ADOPTED"),
    ("adoption_entry_to_order_days", "ENTERED", "ADOPTED"),
)

#: Three-year scorecard measures and their units.
THREE_YEAR_MEASURES = (
    ("a1_days_3yr", "days"),
    ("a2_days_3yr", "days"),
    ("a10_days_3yr", "days"),
    ("a1_within_426_days_pct", "percent"),
)

#: Milestones taken from episodes: unknown when they are the first visible episode of a
#: period of care whose start is unknown (left truncation, see the module docstring).
EPISODE_MILESTONES = ("ENTERED", "PLACEMENT_ORDER", "PLACED", "MOVED_IN_WITH_ADOPTERS")


def _lookup(ids: pd.Series, values: pd.Series) -> pd.Series:
    """``values`` (indexed by PERIOD_ID) looked up for each id in ``ids`` (missing: NA).

    ``reindex`` rather than ``Series.map``: it keeps the dtype even when either is empty.
    """
    return pd.Series(values.reindex(ids.to_numpy()).to_numpy(), index=ids.index, dtype=values.dtype)


def _first_date_where(ep: pd.DataFrame, mask: pd.Series, column: str = "DECOM") -> pd.Series:
    """Earliest ``column`` per PERIOD_ID among episodes matching ``mask``."""
    return ep.loc[mask.to_numpy(dtype=bool)].groupby("PERIOD_ID")[column].min()


def adoption_timeline(
    episodes: pd.DataFrame, ad1: pd.DataFrame, placed_adoption: pd.DataFrame
) -> pd.DataFrame:
    """One row per adoption with the date of each milestone.

    Parameters
    ----------
    episodes : DataFrame
        Episodes (raw or annotated).
    ad1 : DataFrame
        ``CHILD``, ``DATE_INT``, ``DATE_MATCH`` (dates), ``FOSTER_CARE`` (0/1), ``YEAR``.
    placed_adoption : DataFrame
        ``CHILD``, ``DATE_PLACED``, ``DATE_PLACED_CEASED`` (dates).

    Returns
    -------
    DataFrame
        Child key columns, ``PERIOD_ID``, ``YEAR`` (collection year of the adoption order)
        and dates ``ENTERED``, ``DECISION``, ``PLACEMENT_ORDER``, ``MATCHED``, ``PLACED``,
        ``MOVED_IN_WITH_ADOPTERS``, ``ADOPTED``; ``FOSTER_CARER_ADOPTION`` (bool); and
        for each milestone taken from episodes (:data:`EPISODE_MILESTONES`) a bool
        ``<milestone>_KNOWN``: False when the date is only the start of the first episode
        we hold of a period of care that began before the data window (the real date is
        earlier and unknown). ``ENTERED_KNOWN`` is the period's ``START_KNOWN``.
    """
    ep = annotated(episodes)
    keys = child_keys(ep)
    periods = periods_of_care(ep)
    adopted = periods.loc[periods["REASON_CEASED"].isin(ADOPTED_REC).to_numpy(dtype=bool)]
    out = pd.DataFrame(
        {
            **{k: adopted[k].to_numpy() for k in keys},
            "PERIOD_ID": adopted["PERIOD_ID"].to_numpy(),
            "ENTERED": adopted["START"].to_numpy(),
            "ADOPTED": adopted["END"].to_numpy(),
            "ENTERED_KNOWN": adopted["START_KNOWN"].to_numpy(dtype=bool),
        }
    )
    out["YEAR"] = out["ADOPTED"].dt.year + (out["ADOPTED"].dt.month >= 4).astype(int)
    order = _first_date_where(ep, code_in(ep["LS"], PLACEMENT_ORDER_LS))
    a_place = code_in(ep["PLACE"], ADOPTION_PLACES)
    placed = ep.loc[a_place.to_numpy(dtype=bool)].drop_duplicates("PERIOD_ID")
    placed = placed.set_index("PERIOD_ID")
    out["PLACEMENT_ORDER"] = _lookup(out["PERIOD_ID"], order)
    out["PLACED"] = _lookup(out["PERIOD_ID"], placed["DECOM"])
    first_place = _lookup(out["PERIOD_ID"], placed["PLACE"].astype("string"))
    carer_start = _lookup(out["PERIOD_ID"], placed["CARER_START"])

    ad = latest_per_child(ad1) if len(ad1) else pd.DataFrame(columns=[*keys])
    for column in ("DATE_INT", "DATE_MATCH", "FOSTER_CARE"):
        if column not in ad.columns:
            ad[column] = pd.NA
    ad = ad[[*keys, "DATE_INT", "DATE_MATCH", "FOSTER_CARE"]]
    out = out.merge(ad, on=keys, how="left")
    out["MATCHED"] = pd.to_datetime(out.pop("DATE_MATCH"))
    flag = pd.to_numeric(out.pop("FOSTER_CARE"), errors="coerce")
    by_place = first_place.isin(FOSTER_CARER_ADOPTION_PLACES).to_numpy(dtype=bool)
    foster = np.where(flag.notna(), flag.to_numpy(dtype=float, na_value=0) == 1, by_place)
    out["FOSTER_CARER_ADOPTION"] = foster.astype(bool)
    out["MOVED_IN_WITH_ADOPTERS"] = out["PLACED"].where(~out["FOSTER_CARER_ADOPTION"], carer_start)

    decision = pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns]")
    if len(placed_adoption):
        pa = placed_adoption[[*keys, "DATE_PLACED"]].merge(
            out[[*keys, "PERIOD_ID", "ENTERED", "ADOPTED"]], on=keys
        )
        inside = (pa["DATE_PLACED"] >= pa["ENTERED"]) & (pa["DATE_PLACED"] <= pa["ADOPTED"])
        latest = pa.loc[inside.to_numpy(dtype=bool)].groupby("PERIOD_ID")["DATE_PLACED"].max()
        decision = _lookup(out["PERIOD_ID"], latest)
    out["DECISION"] = pd.to_datetime(decision).fillna(pd.to_datetime(out.pop("DATE_INT")))
    # a milestone dated by the first visible episode of a truncated period is unknown too
    truncated = ~out["ENTERED_KNOWN"].to_numpy(dtype=bool)
    for milestone in EPISODE_MILESTONES[1:]:
        at_start = (out[milestone] == out["ENTERED"]).fillna(False).to_numpy(dtype=bool)
        out[f"{milestone}_KNOWN"] = ~(truncated & at_start)
    columns = [
        *keys,
        "PERIOD_ID",
        "YEAR",
        "ENTERED",
        "DECISION",
        "PLACEMENT_ORDER",
        "MATCHED",
        "PLACED",
        "MOVED_IN_WITH_ADOPTERS",
        "ADOPTED",
        "FOSTER_CARER_ADOPTION",
        *(f"{m}_KNOWN" for m in EPISODE_MILESTONES),
    ]
    return out[columns]


def _days(later: pd.Series, earlier: pd.Series) -> pd.Series:
    return (pd.to_datetime(later) - pd.to_datetime(earlier)).dt.days.astype("Float64")


def _known(tl: pd.DataFrame, milestone: str) -> np.ndarray:
    """Whether each adoption's ``milestone`` date is known (non-episode dates always are)."""
    column = f"{milestone}_KNOWN"
    if column in tl.columns:
        return tl[column].to_numpy(dtype=bool)
    return np.ones(len(tl), dtype=bool)


def _not_available(year: int, measure: str, unit: str) -> dict:
    return dict(time_period=year, measure=measure, breakdown="Total", unit=unit, symbol="x")


def _mean_row(year: int, measure: str, days: pd.Series, unknown: np.ndarray) -> dict:
    """Mean of ``days``; ``x`` when a child it would count has an ``unknown`` milestone,
    ``z`` (not applicable) when no child is in its base (say, no child adopted with a
    placement order in the three years of A2)."""
    known = days.dropna()
    if (unknown & days.notna().to_numpy(dtype=bool)).any():
        return _not_available(year, measure, "days")
    row = dict(
        time_period=year,
        measure=measure,
        breakdown="Total",
        numerator=len(known),
        value=float(known.mean()) if len(known) else float("nan"),
        unit="days",
    )
    if not len(known):
        row["symbol"] = NOT_APPLICABLE
    return row


def adoption_measures(
    episodes: pd.DataFrame,
    ad1: pd.DataFrame,
    placed_adoption: pd.DataFrame,
    years: Sequence[int],
    *,
    geography: str,
    window_start: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Average days between adoption stages and the three-year scorecard measures.

    Parameters
    ----------
    episodes, ad1, placed_adoption : DataFrame
        As for :func:`adoption_timeline`.
    years : sequence of int
        Collection years; the scorecard measures for year Y use children adopted in
        Y-2, Y-1 and Y (three-year rolling averages, as the DfE's adoption scorecards).
    geography : str
        Council name.
    window_start : Timestamp, optional
        Start of the data window (1 April opening the first collection year held);
        default :func:`cpanalysis.histories.window_start_of` the episodes (their smallest
        ``YEAR``), else no limit. A three-year measure for year Y needs Y-2 inside it.

    Returns
    -------
    DataFrame
        Measure frame: the six ``adoption_*_days`` annual means, ``a1_days_3yr``,
        ``a2_days_3yr``, ``a10_days_3yr`` (unit days, numerator = children averaged) and
        ``a1_within_426_days_pct`` (percent). A row is ``x`` (value and numerator missing,
        ``symbol`` ``"x"``) when a child it counts has an unknown milestone date (left
        truncation, module docstring) or, for the three-year measures, when Y-2 began
        before the data window; it is ``z`` (not applicable) when no child is in its base.
    """
    if len(episodes) == 0 or not years:
        return empty_measure_frame()
    if window_start is None:
        window_start = window_start_of(episodes)
    episodes = annotated(episodes, window_start=window_start)
    tl = adoption_timeline(episodes, ad1, placed_adoption)
    entered = _known(tl, "ENTERED")
    a1 = _days(tl["PLACED"], tl["ENTERED"])
    a1_unknown = ~(entered & _known(tl, "PLACED"))
    a10 = _days(tl["MOVED_IN_WITH_ADOPTERS"], tl["ENTERED"])
    a10_unknown = ~(entered & _known(tl, "MOVED_IN_WITH_ADOPTERS"))
    # A2: court authority to place -> match; matched before the order counts as 0 days.
    a2 = _days(tl["MATCHED"], tl["PLACEMENT_ORDER"]).clip(lower=0)
    a2_unknown = ~_known(tl, "PLACEMENT_ORDER")
    rows: list[dict] = []
    for year in years:  # a handful of collection years
        this = (tl["YEAR"] == year).to_numpy(dtype=bool)
        for measure, start, stop in STAGES:
            unknown = ~(_known(tl, start) & _known(tl, stop))
            rows.append(_mean_row(year, measure, _days(tl[stop], tl[start])[this], unknown[this]))
        three = tl["YEAR"].between(year - 2, year).to_numpy(dtype=bool)
        # adoptions of years before the window are missing from the data altogether
        before_window = window_start is not None and year_start(year - 2) < window_start
        if before_window:
            for measure, unit in THREE_YEAR_MEASURES:
                rows.append(_not_available(year, measure, unit))
            continue
        rows.append(_mean_row(year, "a1_days_3yr", a1[three], a1_unknown[three]))
        rows.append(_mean_row(year, "a2_days_3yr", a2[three], a2_unknown[three]))
        rows.append(_mean_row(year, "a10_days_3yr", a10[three], a10_unknown[three]))
        if (a1_unknown[three] & a1[three].notna().to_numpy(dtype=bool)).any():
            rows.append(_not_available(year, "a1_within_426_days_pct", "percent"))
            continue
        known = a1[three].dropna()
        within = int((known <= A1_THRESHOLD_DAYS).sum())
        rows.append(percent_row(year, "a1_within_426_days_pct", within, len(known)))
    return measure_frame(pd.DataFrame(rows), geography=geography)


def _decisions_in_periods(
    ep: pd.DataFrame, placed_adoption: pd.DataFrame, as_at: pd.Timestamp
) -> pd.DataFrame:
    """Each adoption decision joined to the period of care it was made in."""
    keys = child_keys(ep)
    periods = periods_of_care(ep)
    pa = placed_adoption[[*keys, "DATE_PLACED", "DATE_PLACED_CEASED"]].dropna(
        subset=["DATE_PLACED"]
    )
    pa = pa.loc[(pa["DATE_PLACED"] <= as_at).to_numpy(dtype=bool)]
    joined = pa.merge(periods[[*keys, "PERIOD_ID", "START", "END", "START_KNOWN"]], on=keys)
    inside = (joined["DATE_PLACED"] >= joined["START"]) & (
        joined["END"].isna() | (joined["DATE_PLACED"] <= joined["END"])
    )
    joined = joined.loc[inside.to_numpy(dtype=bool)]
    # one decision per period: the latest (an earlier one was reversed or superseded)
    joined = joined.sort_values(["PERIOD_ID", "DATE_PLACED"]).drop_duplicates(
        "PERIOD_ID", keep="last"
    )
    a_place = code_in(ep["PLACE"], ADOPTION_PLACES)
    placed = _first_date_where(ep, a_place)
    joined["PLACED"] = _lookup(joined["PERIOD_ID"], placed)
    return joined.reset_index(drop=True)


def _default_as_at(ep: pd.DataFrame) -> pd.Timestamp:
    last = pd.concat([ep["DECOM"], ep["DEC"]]).max()
    year = last.year + (1 if last.month >= 4 else 0)
    return year_end(year)


def adoption_waiting_survival(
    episodes: pd.DataFrame,
    placed_adoption: pd.DataFrame,
    *,
    as_at: pd.Timestamp | None = None,
    min_at_risk: int = 5,
) -> pd.DataFrame:
    """Kaplan-Meier curve of days from entering care to moving in with adopters.

    Children with a decision that they should be placed for adoption, followed from the
    start of the period of care in which the decision was made. Moving into an adoption
    placement (A3-A6) is the event; a child not (yet) placed is *censored* (counted as
    still waiting up to that day) at the earliest of: the decision being reversed
    (``DATE_PLACED_CEASED``), leaving care, or ``as_at``. Without censoring, children still
    waiting would simply vanish and the wait would look shorter than it is. Children who
    entered care before the data window on an unknown date (``START_KNOWN`` False) are
    left out: their wait cannot be counted from entering care.

    Parameters
    ----------
    episodes : DataFrame
        Episodes (raw or annotated).
    placed_adoption : DataFrame
        ``CHILD``, ``DATE_PLACED``, ``DATE_PLACED_CEASED`` (dates).
    as_at : Timestamp, optional
        Last date of the data (default: 31 March ending the latest collection year seen).
    min_at_risk : int, default 5
        The curve stops where fewer children than this are still followed, so its tail
        cannot reveal individual children (and is too uncertain to read anyway).

    Returns
    -------
    DataFrame
        ``days`` (int, from entering care), ``survival`` (share not yet placed, 0-1),
        ``lower``/``upper`` (pointwise 95% interval, 0-1), ``at_risk`` (children still
        followed just before that day), ``events`` (children who moved in that day).
        Starts with ``days = 0, survival = 1``. Each step is one day's events: publish it
        only through :func:`cpanalysis.disclosure.publishable_survival`.
    """
    from statsmodels.duration.survfunc import SurvfuncRight

    columns = ["days", "survival", "lower", "upper", "at_risk", "events"]
    if len(episodes) == 0 or len(placed_adoption) == 0:
        return pd.DataFrame(columns=columns)
    ep = annotated(episodes)
    as_at = pd.Timestamp(as_at) if as_at is not None else _default_as_at(ep)
    d = _decisions_in_periods(ep, placed_adoption, as_at)
    # a child who entered care on an unknown date before the data window cannot be put on
    # a time axis counted from entering care: left out rather than shown waiting too little
    d = d.loc[d["START_KNOWN"].to_numpy(dtype=bool)]
    if d.empty:
        return pd.DataFrame(columns=columns)
    placed_ok = d["PLACED"].notna() & (d["PLACED"] <= as_at)
    censor = pd.concat(
        [
            d["DATE_PLACED_CEASED"],
            d["END"],
            pd.Series(as_at, index=d.index),
        ],
        axis=1,
    ).min(axis=1)
    end = d["PLACED"].where(placed_ok, censor)
    time = (end - d["START"]).dt.days.clip(lower=0).to_numpy(dtype=float)
    status = placed_ok.to_numpy(dtype=int)
    if status.sum() == 0:
        curve = pd.DataFrame({"days": [0], "survival": [1.0], "lower": [1.0], "upper": [1.0]})
        curve["at_risk"] = len(d)
        curve["events"] = 0
        return curve
    sf = SurvfuncRight(time, status)
    se = np.nan_to_num(sf.surv_prob_se)
    curve = pd.DataFrame(
        {
            "days": sf.surv_times.astype(int),
            "survival": sf.surv_prob,
            "lower": np.clip(sf.surv_prob - 1.96 * se, 0, 1),
            "upper": np.clip(sf.surv_prob + 1.96 * se, 0, 1),
            "at_risk": sf.n_risk.astype(int),
            "events": sf.n_events.astype(int),
        }
    )
    start = pd.DataFrame(
        {
            "days": [0],
            "survival": [1.0],
            "lower": [1.0],
            "upper": [1.0],
            "at_risk": [len(d)],
            "events": [0],
        }
    )
    curve = pd.concat([start, curve.loc[curve["days"] > 0]], ignore_index=True)
    return curve.loc[curve["at_risk"] >= min_at_risk].reset_index(drop=True)


#: Bands of time since the adoption decision for children still waiting.
WAITING_BANDS: tuple[tuple[str, int, int], ...] = (
    ("Under 6 months", 0, 182),
    ("6 to 12 months", 183, 365),
    ("12 to 18 months", 366, 547),
    ("18 months or more", 548, 1_000_000),
)


def children_waiting_for_adoption(
    episodes: pd.DataFrame,
    placed_adoption: pd.DataFrame,
    *,
    as_at: pd.Timestamp | None = None,
    geography: str,
) -> pd.DataFrame:
    """Children with an adoption decision still waiting to move in, by time waiting.

    Counts only (never a child's row): children looked after on ``as_at`` whose decision
    that they should be placed for adoption was made and not reversed by then, and who
    have not moved into an adoption placement. Time waiting is counted from the decision.

    Returns
    -------
    DataFrame
        Measure frame, measure ``adoption_children_waiting``, breakdown = band of
        :data:`WAITING_BANDS` plus ``"Total"``; ``time_period`` is the collection year
        containing ``as_at``.
    """
    if len(episodes) == 0 or len(placed_adoption) == 0:
        return empty_measure_frame()
    ep = annotated(episodes)
    as_at = pd.Timestamp(as_at) if as_at is not None else _default_as_at(ep)
    year = as_at.year + (1 if as_at.month >= 4 else 0)
    d = _decisions_in_periods(ep, placed_adoption, as_at)
    waiting = (
        (d["END"].isna() | (d["END"] > as_at))
        & (d["DATE_PLACED_CEASED"].isna() | (d["DATE_PLACED_CEASED"] > as_at))
        & (d["PLACED"].isna() | (d["PLACED"] > as_at))
    )
    days = (as_at - d.loc[waiting.to_numpy(dtype=bool), "DATE_PLACED"]).dt.days
    rows = []
    for label, low, high in WAITING_BANDS:
        n = int(days.between(low, high).sum())
        rows.append(dict(breakdown=label, numerator=n, value=n))
    rows.append(dict(breakdown="Total", numerator=len(days), value=len(days)))
    return measure_frame(
        pd.DataFrame(rows),
        time_period=year,
        geography=geography,
        measure="adoption_children_waiting",
        unit="count",
    )
