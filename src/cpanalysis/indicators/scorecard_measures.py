"""Measures a corporate parenting committee asks for beyond the DfE headline tables.

Social-worker changes, special guardianship orders per quarter, reviews on time, children
missing from care, and the health measures of OC2. Each definition is a choice where the
DfE publishes none for councils; methodology.qmd states it in plain English.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from cpanalysis.histories import annotated, child_keys, periods_of_care, window_start_of
from cpanalysis.indicators.common import (
    age_at,
    in_year,
    latest_per_child,
    looked_after_at,
    rows_for_year,
)
from cpanalysis.indicators.frame import (
    empty_measure_frame,
    measure_frame,
    percent_row,
    year_end,
    year_start,
)

__all__ = [
    "SGO_REC",
    "FIRST_SW_YEAR",
    "sw_changes",
    "sgo_granted",
    "review_timeliness",
    "reviews_on_time",
    "missing_children",
    "health_measures",
    "scorecard_measures",
]

SGO_REC = ("E43", "E44", "E45", "E46", "E47", "E48")
#: Social-worker episodes were first collected in the 2023-24 return.
FIRST_SW_YEAR = 2024
#: First review within 20 working days of entering care, taken as 28 calendar days.
FIRST_REVIEW_DAYS = 28
#: Reviews are at most this many months apart: the look-back of "reviews on time".
REVIEW_LOOKBACK_MONTHS = 6


def sw_changes(ep: pd.DataFrame, sw_episodes: pd.DataFrame, years: Sequence[int]) -> list[dict]:
    """Average social-worker changes in the year per child looked after at 31 March.

    A change is a social-worker episode starting in the year that is not the child's
    first recorded one. Years before 2023-24 are ``z`` (not collected).
    """
    keys = child_keys(ep)
    rows: list[dict] = []
    sw = sw_episodes
    if len(sw):
        sw = sw.sort_values([*keys, "SW_DECOM"], kind="stable")
        first = ~sw.duplicated(keys, keep="first")
        sw = sw.loc[~first.to_numpy(dtype=bool)]
    for year in years:
        if year < FIRST_SW_YEAR:
            rows.append(
                dict(time_period=year, measure="sw_changes_per_child", unit="per_child", symbol="z")
            )
            continue
        cohort = looked_after_at(ep, year_end(year))[keys]
        if len(sw_episodes) == 0:
            rows.append(
                dict(time_period=year, measure="sw_changes_per_child", unit="per_child", symbol="x")
            )
            continue
        changes = sw.loc[in_year(sw["SW_DECOM"], year).to_numpy(dtype=bool)]
        per = changes.groupby(keys, observed=True).size().rename("N").reset_index()
        n = cohort.merge(per, on=keys, how="left")["N"].fillna(0)
        rows.append(
            dict(
                time_period=year,
                measure="sw_changes_per_child",
                numerator=len(cohort),
                value=float(n.mean()) if len(cohort) else np.nan,
                unit="per_child",
            )
        )
    return rows


def sgo_granted(ep: pd.DataFrame, years: Sequence[int]) -> list[dict]:
    """Special guardianship orders (periods ending with REC E43-E48) by quarter of the year.

    Q1 is April-June, Q4 January-March of the collection year.
    """
    periods = periods_of_care(ep)
    sgo = periods.loc[
        (periods["REASON_CEASED"].isin(SGO_REC) & ~periods["SHORT_BREAK"]).to_numpy(dtype=bool)
    ]
    quarter = ((sgo["END"].dt.month - 4) % 12) // 3 + 1
    rows: list[dict] = []
    for year in years:
        this = in_year(sgo["END"], year).to_numpy(dtype=bool)
        counts = quarter[this].value_counts()
        for q in (1, 2, 3, 4):
            n = int(counts.get(q, 0))
            rows.append(dict(time_period=year, breakdown=f"Q{q}", numerator=n, value=n))
        rows.append(dict(time_period=year, breakdown="Total", numerator=int(this.sum())))
        rows[-1]["value"] = rows[-1]["numerator"]
    for row in rows:
        row.update(measure="sgo_granted", unit="count")
    return rows


def review_timeliness(
    ep: pd.DataFrame, reviews: pd.DataFrame, *, window_start: pd.Timestamp | None = None
) -> pd.DataFrame:
    """Each review with the date it was due by and whether it was on time.

    Statutory timescales (Care Planning Regulations 2010, reg. 33): first review within
    20 working days of the start of the period of care (taken as 28 calendar days), the
    second within 3 months of the first, then at most every 6 months.

    The returns hold only the reviews of their own years. For a period of care that began
    before ``window_start`` (the start of the data window) the earlier reviews are
    missing, so its first review we hold is not the period's first: every review of such
    a period is numbered from 2 (the 6-month rule), and the first one held has no known
    previous review, so no due date and is not counted as on time (it can only fall in
    the first collection year, published as ``x``, or after a year and more without a
    review, when it was late).

    Returns
    -------
    DataFrame
        Child key columns, ``PERIOD_ID``, ``PERIOD_START``, ``PERIOD_END``, ``REVIEW``,
        ``NTH`` (0 = first review of the period; from 2 for periods begun before the
        window), ``DUE`` (date; missing when unknown) and ``ON_TIME`` (bool).
    """
    keys = child_keys(ep)
    periods = periods_of_care(ep)
    periods = periods.loc[~periods["SHORT_BREAK"].to_numpy(dtype=bool)]
    rv = reviews[[*keys, "REVIEW"]].dropna(subset=["REVIEW"]).drop_duplicates()
    rv = rv.merge(periods[[*keys, "PERIOD_ID", "START", "END"]], on=keys)
    inside = (rv["REVIEW"] >= rv["START"]) & (rv["END"].isna() | (rv["REVIEW"] <= rv["END"]))
    rv = rv.loc[inside.to_numpy(dtype=bool)].sort_values(["PERIOD_ID", "REVIEW"])
    rv = rv.rename(columns={"START": "PERIOD_START", "END": "PERIOD_END"})
    rv = rv.reset_index(drop=True)
    # sorted by period then date, so each period's reviews are one run of rows: number
    # them and look one back with numpy rather than a groupby over millions of rows
    period = rv["PERIOD_ID"].to_numpy()
    first = np.r_[True, period[1:] != period[:-1]] if len(rv) else np.zeros(0, dtype=bool)
    run_start = np.flatnonzero(first)
    run = np.cumsum(first) - 1
    rv["NTH"] = np.arange(len(rv), dtype="int64") - run_start[run] if len(rv) else 0
    if window_start is not None and len(rv):
        rv["NTH"] += np.where(_before_window(rv["PERIOD_START"], window_start), 2, 0)
    previous = rv["REVIEW"].shift(1).mask(pd.Series(first, index=rv.index))
    rv["DUE"] = _next_due(rv["NTH"], previous, rv["PERIOD_START"])
    rv["ON_TIME"] = (rv["REVIEW"] <= rv["DUE"]).to_numpy(dtype=bool)
    return rv


def _before_window(period_start: pd.Series, window_start: pd.Timestamp | None) -> np.ndarray:
    """Periods of care begun before the data window (their earlier reviews are missing)."""
    if window_start is None:
        return np.zeros(len(period_start), dtype=bool)
    return (period_start < pd.Timestamp(window_start)).fillna(False).to_numpy(dtype=bool)


def _next_due(nth: pd.Series, previous: pd.Series, period_start: pd.Series) -> pd.Series:
    """Due date of review number ``nth`` given the previous review (or period start)."""
    due = period_start + pd.Timedelta(days=FIRST_REVIEW_DAYS)
    same_index = due.index.equals(previous.index) and due.index.equals(nth.index)
    if due.dtype != previous.dtype or not same_index:
        second = previous + pd.DateOffset(months=3)
        later = previous + pd.DateOffset(months=6)
        return due.where(nth == 0, second.where(nth == 1, later))
    is_first = (nth == 0).fillna(False).to_numpy(dtype=bool)
    is_second = (nth == 1).fillna(False).to_numpy(dtype=bool) & ~is_first
    # month arithmetic is slow: only on the rows that need each interval
    for rows, months in ((is_second, 3), (~is_first & ~is_second, 6)):
        if rows.any():
            due.loc[rows] = previous.loc[rows] + pd.DateOffset(months=months)
    return due


def reviews_on_time(
    ep: pd.DataFrame,
    reviews: pd.DataFrame,
    years: Sequence[int],
    *,
    window_start: pd.Timestamp | None = None,
) -> list[dict]:
    """% of children whose reviews were all on time in the year (former NI 66).

    Cohort: children looked after at 31 March who had been looked after for at least
    28 days. A child counts as on time when every review held in the year met its due
    date *and* no review was overdue at 31 March.

    Whether the first review of the year was on time depends on the review before it, up
    to 6 months earlier: a year whose 1 April is less than 6 months after ``window_start``
    (the first collection year) is ``x`` (not available). See :func:`review_timeliness`.
    """
    if len(reviews) == 0:
        return [
            dict(time_period=year, measure="reviews_on_time_pct", unit="percent", symbol="x")
            for year in years
        ]
    # Reviews are dated once for all years; each year then only counts, per period of
    # care, the reviews held by 31 March (prefix sums over the sorted reviews).
    rv = review_timeliness(ep, reviews, window_start=window_start)
    period = rv["PERIOD_ID"].to_numpy()
    review = rv["REVIEW"].to_numpy()
    late_review = ~rv["ON_TIME"].to_numpy(dtype=bool)
    rows: list[dict] = []
    for year in years:
        lookback = year_start(year) - pd.DateOffset(months=REVIEW_LOOKBACK_MONTHS)
        if window_start is not None and window_start > lookback:
            rows.append(
                dict(time_period=year, measure="reviews_on_time_pct", unit="percent", symbol="x")
            )
            continue
        end = year_end(year)
        at = looked_after_at(ep, end)
        at = at.loc[
            (at["PERIOD_START"] <= end - pd.Timedelta(days=FIRST_REVIEW_DAYS)).to_numpy(dtype=bool)
        ]
        cohort = at["PERIOD_ID"].to_numpy()
        lo = np.searchsorted(period, cohort, side="left")
        hi = np.searchsorted(period, cohort, side="right")
        held = review <= np.datetime64(end)
        held_before = np.r_[0, np.cumsum(held)]
        n_held = held_before[hi] - held_before[lo]
        late_now = late_review & held & (review >= np.datetime64(year_start(year)))
        late_before = np.r_[0, np.cumsum(late_now)]
        late = (late_before[hi] - late_before[lo]) > 0
        # reviews of a period are in date order, so the held ones come first
        last = np.where(n_held > 0, lo + n_held - 1, 0)
        previous = review[last] if len(review) else np.full(len(cohort), np.datetime64("NaT"))
        previous = np.where(n_held > 0, previous, np.datetime64("NaT"))
        index = pd.RangeIndex(len(cohort))
        # periods begun before the window: the reviews held are not their first ones
        before = _before_window(at["PERIOD_START"], window_start) & (n_held > 0)
        due = _next_due(
            pd.Series(n_held + np.where(before, 2, 0), index=index),
            pd.Series(previous.astype(review.dtype), index=index),
            pd.Series(at["PERIOD_START"].to_numpy(), index=index),
        )
        overdue = (due < end).to_numpy(dtype=bool)
        on_time = int((~late & ~overdue).sum())
        rows.append(percent_row(year, "reviews_on_time_pct", on_time, len(cohort)))
    return rows


def missing_children(missing: pd.DataFrame, years: Sequence[int], keys: list[str]) -> list[dict]:
    """Children with at least one 'missing' incident (MISSING = M) starting in the year."""
    rows: list[dict] = []
    for year in years:
        if len(missing) == 0:
            rows.append(
                dict(time_period=year, measure="missing_children", unit="count", symbol="x")
            )
            continue
        m = missing.loc[
            (
                (missing["MISSING"].astype("string") == "M").fillna(False)
                & in_year(missing["MIS_START"], year)
            ).to_numpy(dtype=bool)
        ]
        n = m.drop_duplicates(keys).shape[0]
        rows.append(
            dict(time_period=year, measure="missing_children", numerator=n, value=n, unit="count")
        )
    return rows


def health_measures(oc2: pd.DataFrame, header: pd.DataFrame, years: Sequence[int]) -> list[dict]:
    """OC2 health measures for children looked after continuously for 12+ months at 31 March.

    Base: the OC2 rows of the year's return. Health (development) checks are for children
    under 5 at 31 March; SDQ completion for children aged 5 to 16 at 31 March (the ages the
    DfE reports SDQ scores for). Years without OC2 rows are ``x`` (not available).
    """
    rows: list[dict] = []
    flags = {
        "health_assessment_pct": "HEALTH_ASSESSMENT",
        "teeth_check_pct": "TEETH_CHECK",
        "immunisations_pct": "IMMUNISATIONS",
    }
    for year in years:
        cohort = rows_for_year(oc2, year)
        if cohort.empty:
            for measure in (*flags, "health_check_pct", "sdq_completed_pct"):
                rows.append(dict(time_period=year, measure=measure, unit="percent", symbol="x"))
            continue
        keys = child_keys(cohort)
        if "DOB" not in cohort.columns or cohort["DOB"].isna().all():
            dob = latest_per_child(header)[[*keys, "DOB"]] if len(header) else None
            cohort = cohort.drop(columns=["DOB"], errors="ignore")
            cohort = (
                cohort.merge(dob, on=keys, how="left")
                if dob is not None
                else cohort.assign(DOB=pd.NaT)
            )
        age = age_at(cohort["DOB"], year_end(year))
        for measure, column in flags.items():
            done = pd.to_numeric(cohort.get(column), errors="coerce").eq(1)
            rows.append(percent_row(year, measure, int(done.sum()), len(cohort)))
        under5 = (age < 5).fillna(False).to_numpy(dtype=bool)
        check = pd.to_numeric(cohort.get("HEALTH_CHECK"), errors="coerce").eq(1).to_numpy()
        rows.append(
            percent_row(year, "health_check_pct", int(check[under5].sum()), int(under5.sum()))
        )
        sdq_age = age.between(5, 16).fillna(False).to_numpy(dtype=bool)
        scored = pd.to_numeric(cohort.get("SDQ_SCORE"), errors="coerce").notna().to_numpy()
        rows.append(
            percent_row(year, "sdq_completed_pct", int(scored[sdq_age].sum()), int(sdq_age.sum()))
        )
    return rows


def scorecard_measures(
    episodes: pd.DataFrame,
    *,
    header: pd.DataFrame,
    reviews: pd.DataFrame,
    missing: pd.DataFrame,
    oc2: pd.DataFrame,
    sw_episodes: pd.DataFrame,
    years: Sequence[int],
    geography: str,
    window_start: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """All scorecard extras as one measure frame.

    ``window_start`` is the start of the data window (1 April opening the first
    collection year held; default :func:`cpanalysis.histories.window_start_of` the
    episodes, else no limit): ``reviews_on_time_pct`` looks back before the year.

    Returns
    -------
    DataFrame
        ``sw_changes_per_child`` (per_child), ``sgo_granted`` (count, Q1-Q4 + Total),
        ``reviews_on_time_pct``, ``missing_children`` (count), ``health_check_pct``,
        ``health_assessment_pct``, ``teeth_check_pct``, ``immunisations_pct``,
        ``sdq_completed_pct`` (percent).
    """
    if len(episodes) == 0 or not years:
        return empty_measure_frame()
    if window_start is None:
        window_start = window_start_of(episodes)
    ep = annotated(episodes, window_start=window_start)
    keys = child_keys(ep)
    rows = [
        *sw_changes(ep, sw_episodes, years),
        *sgo_granted(ep, years),
        *reviews_on_time(ep, reviews, years, window_start=window_start),
        *missing_children(missing, years, keys),
        *health_measures(oc2, header, years),
    ]
    frame = pd.DataFrame(rows)
    frame["breakdown"] = frame["breakdown"].fillna("Total") if "breakdown" in frame else "Total"
    return measure_frame(frame, geography=geography)
