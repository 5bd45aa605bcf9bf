"""Placement stability: the DfE's short-term, two-year and long-term measures, and moves.

Definitions (methodology.qmd, "Placement stability"):

* a *placement* is a counted placement from :mod:`cpanalysis.histories`: temporary
  placements (T0-T4) and the return to the usual placement after one are not new
  placements; consecutive episodes in one placement (legal-status changes, continuations)
  are one placement; short breaks (V3/V4) are left out;
* the cohort of every percentage is children looked after at 31 March (short breaks out).

Two measures look back before the collection year, so they need that much history inside
the data window (the returns held start on 1 April of the first collection year; earlier
placements and starts are missing): ``placements_3plus_2yr_pct`` for year Y needs the two
years before 31 March Y (window start on or before 1 April Y-2), and years without it are
published as not available (``x``). ``long_term_stability_pct`` needs 2.5 years, but the
episodes open on the first return's 1 April often settle it anyway (a child whose first
episode we hold began by the 2.5-year cut-off was in care by then; one whose carer spell
we see began by the 2-year cut-off had that carer by then; a recorded start or new carer,
RNE S, P or B, dates itself): it is computed whenever every child who could be in its base
has a settled history, and ``x`` only when some child's is truly unknown
(:func:`_long_term_row`).

A percentage or average with nobody in its base is not applicable (``z``), not ``x``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from cpanalysis.histories import annotated, child_keys, placement_moves, window_start_of
from cpanalysis.indicators.common import (
    age_at,
    in_year,
    latest_per_child,
    looked_after_at,
    looked_after_during,
)
from cpanalysis.indicators.frame import (
    NOT_APPLICABLE,
    empty_measure_frame,
    measure_frame,
    percent_row,
    year_end,
    year_start,
)

__all__ = ["stable_placements", "placements_in_window", "stability_measures"]

NOT_RECORDED = "Not recorded"


def stable_placements(episodes: pd.DataFrame) -> pd.DataFrame:
    """One row per stable placement (a home, ignoring temporary absences from it).

    Short breaks (V3/V4) are left out of every placement figure, but one home can hold
    both: a child on short breaks with carers who then stays with them in care (a change
    of legal status, ``RNE`` L, or a placement for adoption with them, ``RNE`` U). Such a
    placement is the child's placement for the time outside short breaks, so ``START`` and
    ``END`` are those of its episodes that are not short breaks.

    Parameters
    ----------
    episodes : DataFrame
        Annotated episodes (:func:`cpanalysis.histories.annotate_episodes`).

    Returns
    -------
    DataFrame
        Child key columns, ``STABLE_ID``, ``START``, ``END`` (dates of its episodes that
        are not short breaks; ``END`` missing while open), ``SHORT_BREAK`` (bool: every
        episode of it is a short break; ``START``/``END`` are then the whole placement's).
    """
    keys = child_keys(episodes)
    first = episodes.drop_duplicates("STABLE_ID")
    start = first["STABLE_START"].to_numpy()
    end = first["STABLE_END"].to_numpy()
    short = episodes["SHORT_BREAK"].to_numpy(dtype=bool)
    ids = first["STABLE_ID"].to_numpy()
    only_breaks = np.ones(len(first), dtype=bool)
    if short.any():  # narrow mixed placements to their time outside short breaks
        care = episodes.loc[~short]
        never = pd.Timestamp.max.floor("D")
        grouped = care.assign(_end=care["DEC"].fillna(never)).groupby("STABLE_ID")
        in_care = pd.DataFrame({"START": grouped["DECOM"].min(), "END": grouped["_end"].max()})
        at = pd.Index(in_care.index).get_indexer(ids)
        has_care = at >= 0
        only_breaks = ~has_care
        care_start = in_care["START"].to_numpy()[at[has_care]]
        care_end = in_care["END"].to_numpy()[at[has_care]]
        start = start.copy()
        end = end.copy()
        start[has_care] = care_start
        end[has_care] = np.where(care_end == np.datetime64(never), np.datetime64("NaT"), care_end)
    else:
        only_breaks[:] = False
    return pd.DataFrame(
        {
            **{k: first[k].to_numpy() for k in keys},
            "STABLE_ID": ids,
            "START": start,
            "END": end,
            "SHORT_BREAK": only_breaks,
        }
    )


def placements_in_window(
    stable: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, keys: list[str]
) -> pd.DataFrame:
    """Number of placements (``PLACEMENTS``, int) each child had between two dates.

    A placement counts if the child was in it at some point of the window: it started on
    or before ``end`` and ended after ``start`` (a placement ending *on* 1 April ended with a
    move that day, like a child ceasing on 31 March is not looked after at 31 March).
    Short breaks are left out.
    """
    overlap = (
        (stable["START"] <= end)
        & (stable["END"].isna() | (stable["END"] > start))
        & ~stable["SHORT_BREAK"]
    )
    counted = stable.loc[overlap.to_numpy(dtype=bool)]
    return counted.groupby(keys, observed=True).size().rename("PLACEMENTS").reset_index()


def _not_available(year: int, measure: str) -> dict:
    return dict(time_period=year, measure=measure, breakdown="Total", unit="percent", symbol="x")


def _history_from(window_start: pd.Timestamp | None, last_day_before: pd.Timestamp) -> bool:
    """Whether the data window holds everything from the day after ``last_day_before``.

    A look-back to "on or before ``last_day_before``" (a period of care or a carer spell
    that began by then) is answered by the data when the window starts by the next day:
    anything we see starting before the window began before it too.
    """
    return window_start is None or window_start <= last_day_before + pd.Timedelta(days=1)


def _long_term_row(
    year: int,
    at: pd.DataFrame,
    under16: np.ndarray,
    thirty_months_ago: pd.Timestamp,
    two_years_ago: pd.Timestamp,
    window_start: pd.Timestamp | None,
) -> dict:
    """Long-term stability of year ``year``, or ``x`` where some child's history is unknown.

    Of the children looked after at 31 March (``at``) and under 16 then, the base is those
    looked after for 2.5 years (period of care begun by ``thirty_months_ago``) and the
    numerator those with the same carer for 2 years (carer spell begun by
    ``two_years_ago``). Before the data window the dates we see are only the first
    episodes we hold, so they are *no earlier* than the real ones: a period or carer spell
    we see begin by the cut-off did begin by it. A test is *unknown* only when the date we
    see is after the cut-off and the real one could be earlier (the first episode we hold
    began before the window and does not record a start, ``RNE`` S, or a new carer, ``RNE``
    S, P or B). The figure is ``x`` only when such a child could be in the base; otherwise
    it is computed, even for years whose 2.5-year look-back reaches before the window.
    """
    period_start = at["PERIOD_START"].to_numpy()
    carer_start = at["CARER_START"].to_numpy()
    long_cared = period_start <= np.datetime64(thirty_months_ago)
    same_carer = carer_start <= np.datetime64(two_years_ago)
    if window_start is None:
        period_known = carer_known = np.ones(len(at), dtype=bool)
    else:
        period_known = _known_flag(at, "PERIOD_START_KNOWN", "PERIOD_START", window_start)
        carer_known = _known_flag(at, "CARER_START_KNOWN", "CARER_START", window_start)
    unsettled = (~long_cared & ~period_known) | (long_cared & ~same_carer & ~carer_known)
    if (under16 & unsettled).any():
        return _not_available(year, "long_term_stability_pct")
    base = under16 & long_cared
    return percent_row(
        year, "long_term_stability_pct", int((base & same_carer).sum()), int(base.sum())
    )


def _known_flag(at: pd.DataFrame, flag: str, start: str, window_start: pd.Timestamp) -> np.ndarray:
    """``flag`` from the annotation; for frames annotated without it, a start inside the
    window is known and one before it is not."""
    if flag in at.columns:
        return at[flag].to_numpy(dtype=bool)
    return (at[start] >= window_start).to_numpy(dtype=bool)


def _counts(labels: pd.Series, year: int, measure: str) -> list[dict]:
    counts = labels.value_counts(sort=False)
    rows = [
        dict(time_period=year, measure=measure, breakdown=str(k), numerator=int(v), value=v)
        for k, v in counts.items()
    ]
    total = int(counts.sum())
    rows.append(dict(time_period=year, measure=measure, breakdown="Total", numerator=total))
    rows[-1]["value"] = total
    for row in rows:
        row["unit"] = "count"
    return rows


def stability_measures(
    episodes: pd.DataFrame,
    header: pd.DataFrame,
    years: Sequence[int],
    *,
    geography: str,
    window_start: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Placement stability measures per collection year.

    Parameters
    ----------
    episodes : DataFrame
        Episodes (raw or annotated); uses ``PL_DISTANCE`` (miles) when present.
    header : DataFrame
        ``CHILD``, ``DOB`` (date), ``YEAR``: ages for the long-term measure.
    years : sequence of int
        Collection years.
    geography : str
        Council name.
    window_start : Timestamp, optional
        Start of the data window (1 April opening the first collection year held);
        default :func:`cpanalysis.histories.window_start_of` the episodes (their smallest
        ``YEAR``), else no limit. The two-year and long-term measures are ``x`` for years
        whose look-back starts before it (module docstring).

    Returns
    -------
    DataFrame
        Measure frame: ``placements_3plus_pct``, ``placements_3plus_2yr_pct``,
        ``long_term_stability_pct``, ``placed_within_20_miles_pct``,
        ``placed_within_50_miles_pct`` (percent); ``placements_per_child`` (per_child,
        numerator = children); ``placement_moves`` by reason and
        ``placement_moves_by_type`` by the type moved to (count, with a Total).
    """
    if len(episodes) == 0 or not years:
        return empty_measure_frame()
    if window_start is None:
        window_start = window_start_of(episodes)
    ep = annotated(episodes, window_start=window_start)
    keys = child_keys(ep)
    stable = stable_placements(ep)
    moves = placement_moves(ep)
    moves = moves.loc[moves["COUNTED"].to_numpy(dtype=bool)]
    people = latest_per_child(header)[[*keys, "DOB"]] if len(header) else None
    has_distance = "PL_DISTANCE" in ep.columns
    # the yearly "looked after during" cohort needs only keys and dates: select them once
    # so each year's row selection moves four columns, not every annotated one
    dated = ep[[*keys, "DECOM", "DEC", "DEC_KNOWN", "SHORT_BREAK"]]

    rows: list[dict] = []
    for year in years:  # a handful of collection years
        start, end = year_start(year), year_end(year)
        at = looked_after_at(ep, end)
        cohort = at[keys]

        in_year_n = placements_in_window(stable, start, end, keys)
        n = cohort.merge(in_year_n, on=keys, how="left")["PLACEMENTS"].fillna(0)
        rows.append(percent_row(year, "placements_3plus_pct", int((n >= 3).sum()), len(cohort)))

        two_years_ago = pd.Timestamp(year - 2, 3, 31)
        if _history_from(window_start, two_years_ago):
            cohort2 = at.loc[(at["PERIOD_START"] <= two_years_ago).to_numpy(dtype=bool), keys]
            two = placements_in_window(stable, year_start(year - 1), end, keys)
            n2 = cohort2.merge(two, on=keys, how="left")["PLACEMENTS"].fillna(0)
            n3 = int((n2 >= 3).sum())
            rows.append(percent_row(year, "placements_3plus_2yr_pct", n3, len(cohort2)))
        else:
            rows.append(_not_available(year, "placements_3plus_2yr_pct"))

        thirty_months_ago = end - pd.DateOffset(months=30)
        if people is not None:
            dob = at[keys].merge(people, on=keys, how="left")["DOB"]
        else:
            dob = pd.Series(pd.NaT, index=range(len(at)))
        under16 = (age_at(dob, end) < 16).fillna(False).to_numpy(dtype=bool)
        rows.append(
            _long_term_row(year, at, under16, thirty_months_ago, two_years_ago, window_start)
        )

        during = looked_after_during(dated, year)[keys].drop_duplicates()
        per_child = during.merge(in_year_n, on=keys, how="left")["PLACEMENTS"].fillna(0)
        per_child_row = dict(
            time_period=year,
            measure="placements_per_child",
            breakdown="Total",
            numerator=len(during),
            value=float(per_child.mean()) if len(during) else float("nan"),
            unit="per_child",
        )
        if not len(during):
            per_child_row["symbol"] = NOT_APPLICABLE  # nobody looked after in the year
        rows.append(per_child_row)

        moved = moves.loc[in_year(moves["MOVE_DATE"], year).to_numpy(dtype=bool)]
        rows += _counts(moved["REASON"].fillna(NOT_RECORDED), year, "placement_moves")
        rows += _counts(moved["TO_GROUP"].fillna(NOT_RECORDED), year, "placement_moves_by_type")

        if has_distance:
            distance = pd.to_numeric(at["PL_DISTANCE"], errors="coerce")
            away = (at["PLACE"].astype("string") != "P1").fillna(True).to_numpy(dtype=bool)
            d = distance[away & distance.notna().to_numpy(dtype=bool)]
            for measure, miles in (
                ("placed_within_20_miles_pct", 20),
                ("placed_within_50_miles_pct", 50),
            ):
                if len(d) == 0 and away.any():  # children placed away, distances unknown
                    rows.append(dict(time_period=year, measure=measure, unit="percent", symbol="x"))
                else:  # no child placed away from home at all: z
                    rows.append(percent_row(year, measure, int((d <= miles).sum()), len(d)))
        else:
            for measure in ("placed_within_20_miles_pct", "placed_within_50_miles_pct"):
                rows.append(dict(time_period=year, measure=measure, unit="percent", symbol="x"))
    return measure_frame(pd.DataFrame(rows), geography=geography)
