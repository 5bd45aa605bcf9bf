"""Care histories: periods of care, placements and placement moves from episodes.

An SSDA903 *episode* changes whenever the legal status or the placement changes, so
episodes are the wrong unit for almost every question a committee asks ("how many homes has
this child had?"). This module chains a child's episodes into the units the DfE counts:

* a **period of care** runs from a start (``RNE = S``) to the first episode whose reason
  for ceasing (``REC``) is not a continuation (``X1``). Real data do not always carry the
  ``S``: a new period also starts when an episode begins after a gap (its ``DECOM`` is
  after the previous episode's ``DEC``) or after an episode that ended with a non-``X1``
  reason;
* a **placement** is the chain of episodes between changes of placement: a new placement
  starts with a new period or when ``RNE`` is ``P``, ``B`` (new carer) or ``T``, ``U``
  (same carer, new placement type). Legal-status-only changes (``RNE = L``) and ``X1``
  continuations stay in the same placement;
* a **placement move** is the start of any placement after the first in a period. Its
  reason is the ``REASON_PLACE_CHANGE`` of the episode before it.

Two kinds of placement are kept apart because published figures treat them differently:
**temporary placements** (``PLACE`` T0-T4: hospital, holiday, respite while the carer is
away, up to 7 days elsewhere) and **short breaks** (legal status V3/V4). A placement that
returns a child from a temporary placement to the placement type they had before it is a
*return*, not a new home. Placements that are neither temporary nor returns are *counted*
placements; consecutive episodes with the same counted placement form one *stable
placement*, and placements with the same carers (joined by ``T``/``U`` changes) form one
*carer spell*, which is what "living with the same carer" means in the long-term stability
measure.

**Placed for adoption with the existing foster carers.** A same-carer change (``RNE`` T or
U) into a placement for adoption with the current foster carers (``PLACE`` A3 or A5) is not
a change of placement: the DfE's metric text for the "3 or more placements" measure says
so, and the child has not moved. Such a placement is not *counted*: it continues the stable
placement before it, so every placement measure (placements in the year or in two years,
placements per child, moves) and the long-term measure's carer spell agree about the child.
Other same-carer changes (a short-term foster placement becoming long-term, say) are still
changes of placement, as the return records them.

**Left truncation.** A council's returns start at some first collection year, and the
first return holds only the episodes open at some time in that year. For a child already
looked after on the 1 April that opens the first return (the *data window's start*), the
episodes before the first one we see are missing: unless that first episode says the child
entered care then (``RNE = S``), the real start of the period of care is earlier and
*unknown*. Each period of care is marked ``START_KNOWN`` (False for such periods) so that
measures built on the date of entering care can be shown as not available (``x``) rather
than understated. The window start is passed in (``window_start``) or, when not given,
taken as 1 April opening the earliest collection year (``YEAR``) among the episodes. In
the same way each carer spell is marked ``CARER_START_KNOWN``: a spell whose first episode
we see began before the window continues from earlier episodes unless that episode records
a new carer (``RNE`` S, P or B).

**Ends on an unknown date.** An episode open at 31 March in a return, whose child is next
seen only after it (or never), was closed by the merge on the 1 April after
(:data:`cpanalysis.merge.ENDED_ON_UNKNOWN_DATE`, named in ``REPAIR``): the child was looked
after at that 31 March and left on an unknown later date. Such episodes are marked
``DEC_KNOWN`` False, and their periods ``END_KNOWN`` False: the child counts as looked
after up to the end of that 31 March only, so the next year counts them in none of its
figures (:func:`cpanalysis.indicators.common.looked_after_during`) and no cessation is
counted for them.

Everything is vectorised (sort, shift, cumsum): no loop over children or episodes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cpanalysis.errors import InputError
from cpanalysis.merge import ENDED_ON_UNKNOWN_DATE

__all__ = [
    "SHORT_BREAK_LS",
    "TEMPORARY_PLACES",
    "PLACEMENT_CHANGE_RNE",
    "NEW_CARER_RNE",
    "PLACEMENT_GROUPS",
    "child_keys",
    "window_start_of",
    "annotate_episodes",
    "periods_of_care",
    "placements",
    "placement_moves",
    "placement_group",
    "as_text",
    "code_in",
]

SHORT_BREAK_LS = ("V3", "V4")
TEMPORARY_PLACES = ("T0", "T1", "T2", "T3", "T4")
PLACEMENT_CHANGE_RNE = ("P", "B", "T", "U")
NEW_CARER_RNE = ("P", "B")
SAME_CARER_RNE = ("T", "U")
#: Placed for adoption with the current foster carers (consent A3, placement order A5).
ADOPTION_WITH_FOSTER_CARERS = ("A3", "A5")

#: DfE-style placement type groups (children looked after at 31 March, by placement).
PLACEMENT_GROUPS: dict[str, tuple[str, ...]] = {
    "Foster placements": ("U1", "U2", "U3", "U4", "U5", "U6"),
    "Placed for adoption": ("A3", "A4", "A5", "A6"),
    "Placed with parents or other person with parental responsibility": ("P1",),
    "Other placements in the community": ("P2", "P3"),
    "Secure homes and children's homes": ("K1", "K2", "R1"),
    "Semi-independent living and supported accommodation": ("H5", "K3"),
    "Other residential settings": ("R2", "R3", "R5"),
    "Residential schools": ("S1",),
    "Other placements": ("Z1", "Z11", "Z12", "Z13", "Z14", *TEMPORARY_PLACES),
}

_REQUIRED = ("CHILD", "DECOM", "DEC", "RNE", "LS", "PLACE", "REC")


def _dec_known(frame: pd.DataFrame) -> np.ndarray:
    """False where the episode's ``DEC`` was set on an unknown date by a repair rule of
    :data:`cpanalysis.merge.ENDED_ON_UNKNOWN_DATE` (named in ``REPAIR``)."""
    if "REPAIR" not in frame.columns:
        return np.ones(len(frame), dtype=bool)
    codes, uniques = pd.factorize(frame["REPAIR"].astype("string"))
    names = pd.Series(uniques, dtype="string")
    unknown = np.zeros(len(names), dtype=bool)
    for rule in ENDED_ON_UNKNOWN_DATE:
        unknown |= names.str.contains(rule, regex=False).fillna(False).to_numpy(dtype=bool)
    return ~np.r_[unknown, False][codes]


def child_keys(frame: pd.DataFrame) -> list[str]:
    """Columns identifying a child: ``LA`` and ``CHILD`` when several councils are mixed."""
    return ["LA", "CHILD"] if "LA" in frame.columns else ["CHILD"]


def window_start_of(
    episodes: pd.DataFrame | None = None, years: list[int] | tuple[int, ...] | None = None
) -> pd.Timestamp | None:
    """1 April opening the earliest collection year held: the start of the data window.

    From the smallest ``YEAR`` of ``episodes`` when they have that column (the returns the
    episodes came from), else from the smallest of ``years``; ``None`` when neither says
    (the start of every period of care is then taken as known).
    """
    first = None
    if episodes is not None and "YEAR" in episodes.columns and len(episodes):
        found = pd.to_numeric(episodes["YEAR"], errors="coerce").min()
        first = None if pd.isna(found) else int(found)
    if first is None and years:
        first = int(min(years))
    return None if first is None else pd.Timestamp(first - 1, 4, 1)


def placement_group(place: pd.Series) -> pd.Series:
    """Map placement codes to the DfE-style groups of :data:`PLACEMENT_GROUPS`.

    Codes not in any group become ``"Other placements"``; missing codes stay missing.
    """
    lookup = {code: group for group, codes in PLACEMENT_GROUPS.items() for code in codes}
    # map the distinct codes, then take: a million placements hold a few dozen codes
    codes, uniques = pd.factorize(as_text(place))
    text = pd.Series(uniques, dtype="string")
    groups = text.map(lookup).where(text.isna(), text.map(lookup).fillna("Other placements"))
    out = groups.array.take(codes, allow_fill=True)
    return pd.Series(out, index=place.index, name=place.name)


def _check_columns(episodes: pd.DataFrame) -> None:
    missing = [c for c in _REQUIRED if c not in episodes.columns]
    if missing:
        raise InputError(
            f"the episodes table lacks column(s) {', '.join(missing)} needed for care histories",
            file="episodes",
            column=missing[0],
        )


def _code(frame: pd.DataFrame, column: str) -> pd.Series:
    # Category columns compare and shift cheaply as they are; anything else becomes a
    # plain object column so comparisons behave the same whatever the input dtype.
    column_ = frame[column]
    if isinstance(column_.dtype, pd.CategoricalDtype):
        return column_
    return column_.astype(object).where(column_.notna(), None)


def _text_categories(values: pd.Series) -> bool:
    """Whether ``values`` is a category column whose categories are all text (codes)."""
    return isinstance(
        values.dtype, pd.CategoricalDtype
    ) and values.cat.categories.inferred_type in ("string", "empty")


def as_text(values: pd.Series) -> pd.Series:
    """``values.astype("string")``, converting a category column's categories only.

    Converting every row of a code column to text is the slow part of building tables of
    a million placements; the categories are a few dozen codes, so they are converted once
    and taken by the integer codes.
    """
    if _text_categories(values):
        categories = pd.Series(values.cat.categories).astype("string").array
        text = categories.take(values.cat.codes.to_numpy(), allow_fill=True)
        return pd.Series(text, index=values.index, name=values.name)
    return values.astype("string")


def code_in(values: pd.Series, codes: tuple[str, ...] | list[str]) -> pd.Series:
    """``values.astype("string").isin(codes)``, tested on a category column's categories.

    A bool Series on the index of ``values``; missing values are never in ``codes``.
    """
    if _text_categories(values):
        hit = as_text(pd.Series(values.cat.categories)).isin(codes).to_numpy(dtype=bool)
        position = values.cat.codes.to_numpy()
        found = np.r_[hit, False][position]  # code -1 (missing) picks the False
        return pd.Series(found, index=values.index, name=values.name)
    return values.astype("string").isin(codes)


def _inferred_text(values: pd.Series) -> pd.Series | np.ndarray:
    """Codes as text typed as pandas infers text from Python objects (``str`` with NaN).

    The same as ``values.astype("string").to_numpy()`` put in a new frame, without the
    round trip through a million Python strings.
    """
    text = as_text(values)
    if text.notna().any():
        return text.astype("str")
    return text.to_numpy()  # nothing but missing values: let pandas type it as before


def _rows(values: pd.Series, positions: np.ndarray) -> pd.Series:
    """Rows at ``positions`` of ``values`` with a fresh 0..n-1 index."""
    return values.iloc[positions].reset_index(drop=True)


def _spell_bounds(ids: np.ndarray, start: np.ndarray, end: np.ndarray, is_new: np.ndarray):
    """Start and end dates of consecutive runs of episodes sharing ``ids`` (sorted)."""
    n = len(ids)
    if n == 0:
        return start.copy(), end.copy()
    first_pos = np.flatnonzero(is_new)
    last_pos = np.r_[first_pos[1:] - 1, n - 1]
    if is_new[0]:
        lengths = np.diff(np.r_[first_pos, n])
        return np.repeat(start[first_pos], lengths), np.repeat(end[last_pos], lengths)
    run = np.cumsum(is_new) - 1
    return start[first_pos][run], end[last_pos][run]


def annotate_episodes(
    episodes: pd.DataFrame, *, window_start: pd.Timestamp | None = None
) -> pd.DataFrame:
    """Sort episodes and label each with its period of care, placement and carer spell.

    Parameters
    ----------
    episodes : DataFrame
        Cleaned, merged episodes (one row per child and ``DECOM``). Needs ``CHILD``,
        ``DECOM``, ``DEC`` (dates; ``DEC`` missing while open), ``RNE``, ``LS``, ``PLACE``,
        ``REC``; uses ``LA`` to keep councils apart when present.
    window_start : Timestamp, optional
        Start of the data window: 1 April opening the earliest collection year held.
        Default: :func:`window_start_of` the episodes (their smallest ``YEAR``); without
        a ``YEAR`` column every period's start is taken as known.

    Returns
    -------
    DataFrame
        The episodes sorted by child and ``DECOM``, with columns added:

        ``PERIOD_ID``, ``PLACEMENT_ID``, ``STABLE_ID``, ``CARER_ID`` (int, unique across
        the table); ``PERIOD_START``/``PERIOD_END``, ``PLACEMENT_START``/``PLACEMENT_END``,
        ``STABLE_START``/``STABLE_END``, ``CARER_START``/``CARER_END`` (dates; ``*_END``
        missing while open); ``PERIOD_REC`` (the reason the period ended);
        ``PERIOD_START_KNOWN`` (bool: False when the period's first episode is not
        ``RNE = S`` and began before ``window_start``, so the child entered care on an
        unknown earlier date; see the module docstring); ``CARER_START_KNOWN`` (bool:
        the same for the carer spell, whose first episode must record a new carer, RNE
        S, P or B, or begin inside the window); ``DEC_KNOWN`` and ``PERIOD_END_KNOWN``
        (bool: False when the episode's, or the period's last episode's, ``DEC`` was set
        on an unknown date by the merge, from ``REPAIR``; True without that column);
        ``NEW_PERIOD``, ``NEW_PLACEMENT`` (bool: the episode starts one);
        ``TEMPORARY`` (PLACE T0-T4), ``SHORT_BREAK`` (LS V3/V4),
        ``RETURN_FROM_TEMPORARY`` and ``COUNTED_PLACEMENT`` (bool, per placement: not
        temporary, not a return from one, not a same-carer move into an adoption
        placement with the current foster carers).
    """
    _check_columns(episodes)
    if window_start is None:
        window_start = window_start_of(episodes)
    keys = child_keys(episodes)
    df = episodes.sort_values([*keys, "DECOM"], kind="stable").reset_index(drop=True)
    n = len(df)
    rne, rec, ls, place = (_code(df, c) for c in ("RNE", "REC", "LS", "PLACE"))
    decom = df["DECOM"].to_numpy(dtype="datetime64[ns]")
    dec = df["DEC"].to_numpy(dtype="datetime64[ns]")

    child = df.groupby(keys, sort=False, observed=True).ngroup().to_numpy()
    first = np.r_[True, child[1:] != child[:-1]] if n else np.zeros(0, dtype=bool)
    prev_rec = rec.shift(1)
    prev_dec = np.r_[np.datetime64("NaT"), dec[:-1]] if n else dec
    ended_before = (prev_rec.notna() & (prev_rec != "X1")).fillna(False).to_numpy(dtype=bool)
    gap = ~np.isnat(prev_dec) & (decom > prev_dec)
    starts = (rne == "S").fillna(False).to_numpy(dtype=bool)
    new_period = first | starts | ended_before | gap

    temporary = place.isin(TEMPORARY_PLACES).to_numpy(dtype=bool)
    short_break = ls.isin(SHORT_BREAK_LS).to_numpy(dtype=bool)
    change = rne.isin(PLACEMENT_CHANGE_RNE).to_numpy(dtype=bool)
    new_placement = new_period | change
    period_id = np.cumsum(new_period) - 1
    placement_id = np.cumsum(new_placement) - 1

    # Placement-level view: a return from a temporary placement goes back to the
    # placement type the child had before it (SSDA903 rule 383), so it is not a new home.
    pl = pd.DataFrame(
        {
            "period": period_id[new_placement],
            "place": place[new_placement].to_numpy(dtype=object),
            "temporary": temporary[new_placement],
            "rne": rne[new_placement].to_numpy(dtype=object),
            "first": new_period[new_placement],
        }
    )
    regular_place = pl["place"].where(~pl["temporary"])
    last_regular = regular_place.groupby(pl["period"], sort=False).ffill()
    last_regular_before = last_regular.groupby(pl["period"], sort=False).shift(1)
    prev_temporary = pl["temporary"].groupby(pl["period"], sort=False).shift(1, fill_value=False)
    returning = (
        prev_temporary.astype(bool) & (pl["place"] == last_regular_before).fillna(False)
    ).to_numpy(dtype=bool) & ~pl["first"].to_numpy(dtype=bool)
    # placed for adoption with the current foster carers: the child has not moved (DfE)
    adopted_in_place = (
        pl["rne"].isin(SAME_CARER_RNE).to_numpy(dtype=bool)
        & pl["place"].isin(ADOPTION_WITH_FOSTER_CARERS).to_numpy(dtype=bool)
        & ~pl["first"].to_numpy(dtype=bool)
    )
    counted = ~pl["temporary"].to_numpy(dtype=bool) & ~returning & ~adopted_in_place
    new_stable_pl = counted | pl["first"].to_numpy(dtype=bool)
    new_carer_pl = pl["first"].to_numpy(dtype=bool) | (
        counted & pl["rne"].isin(NEW_CARER_RNE).to_numpy(dtype=bool)
    )

    ep_returning = returning[placement_id] if n else returning
    ep_counted = counted[placement_id] if n else counted
    new_stable = new_placement.copy()
    new_stable[new_placement] = new_stable_pl
    new_carer = new_placement.copy()
    new_carer[new_placement] = new_carer_pl
    stable_id = np.cumsum(new_stable) - 1
    carer_id = np.cumsum(new_carer) - 1

    out = df
    out["PERIOD_ID"] = period_id
    out["PLACEMENT_ID"] = placement_id
    out["STABLE_ID"] = stable_id
    out["CARER_ID"] = carer_id
    for name, is_new in (
        ("PERIOD", new_period),
        ("PLACEMENT", new_placement),
        ("STABLE", new_stable),
        ("CARER", new_carer),
    ):
        start, end = _spell_bounds(period_id, decom, dec, is_new)
        out[f"{name}_START"] = start
        out[f"{name}_END"] = end
    last_in_period = np.r_[new_period[1:], True] if n else new_period
    period_rec = pd.array(rec[last_in_period].to_numpy(dtype=object), dtype="string")
    out["PERIOD_REC"] = pd.Series(
        period_rec.take(period_id) if n else period_rec, index=out.index, dtype="string"
    )
    # left truncation: a period whose first episode we see began before the window and
    # is not a start (RNE S) had episodes before it that no return we hold contains
    known = starts[new_period]
    # a carer spell is known from its first episode when that records a new carer
    carer_known = (starts | rne.isin(NEW_CARER_RNE).to_numpy(dtype=bool))[new_carer]
    if window_start is not None:
        window = np.datetime64(pd.Timestamp(window_start))
        known = known | (decom[new_period] >= window)
        carer_known = carer_known | (decom[new_carer] >= window)
    else:
        known = np.ones(len(known), dtype=bool)
        carer_known = np.ones(len(carer_known), dtype=bool)
    out["PERIOD_START_KNOWN"] = known[period_id] if n else known
    out["CARER_START_KNOWN"] = carer_known[carer_id] if n else carer_known
    # an end set by the merge on an unknown date (module docstring)
    dec_known = _dec_known(df)
    out["DEC_KNOWN"] = dec_known
    out["PERIOD_END_KNOWN"] = dec_known[last_in_period][period_id] if n else dec_known
    out["NEW_PERIOD"] = new_period
    out["NEW_PLACEMENT"] = new_placement
    out["TEMPORARY"] = temporary
    out["SHORT_BREAK"] = short_break
    out["RETURN_FROM_TEMPORARY"] = ep_returning
    out["COUNTED_PLACEMENT"] = ep_counted
    return out


def annotated(episodes: pd.DataFrame, *, window_start: pd.Timestamp | None = None) -> pd.DataFrame:
    """Episodes with their care-history labels, annotating only when not done already.

    ``compute_all`` annotates once and hands the same frame to every topic; a topic called
    on its own (a test, an analyst) annotates here, with the data window taken from the
    episodes' ``YEAR`` (:func:`window_start_of`) unless ``window_start`` is given, so both
    ways give the same answer.
    """
    if "PERIOD_ID" in episodes.columns:
        return episodes
    if window_start is None:
        window_start = window_start_of(episodes)
    return annotate_episodes(episodes, window_start=window_start)


def _flag(ep: pd.DataFrame, column: str, first: np.ndarray) -> np.ndarray:
    """Bool ``column`` at rows ``first`` (True for frames annotated without it)."""
    if column in ep.columns:
        return ep[column].to_numpy(dtype=bool)[first]
    return np.ones(len(first), dtype=bool)


def _start_known(ep: pd.DataFrame, first: np.ndarray) -> np.ndarray:
    """``PERIOD_START_KNOWN`` at rows ``first`` (True for frames annotated without it)."""
    return _flag(ep, "PERIOD_START_KNOWN", first)


def periods_of_care(episodes: pd.DataFrame) -> pd.DataFrame:
    """One row per period of care.

    Parameters
    ----------
    episodes : DataFrame
        Episodes as for :func:`annotate_episodes` (or already annotated).

    Returns
    -------
    DataFrame
        Child key columns, ``PERIOD_ID``, ``START`` and ``END`` (dates; ``END`` missing
        while open), ``REASON_CEASED`` (``REC`` of the last episode), ``LS_START`` and
        ``CIN`` (of the first episode), ``EPISODES`` (int), ``SHORT_BREAK`` (bool: every
        episode is a V3/V4 short break, so published figures leave the period out) and
        ``START_KNOWN`` (bool: False when the child entered care before the data window
        on an unknown date, ``START`` being only the first episode we hold; a first
        episode with ``RNE = S`` is known even before the window) and ``END_KNOWN``
        (bool: False when the period ended on an unknown date after a 31 March at which
        it was open, ``END`` being the 1 April after; module docstring).
    """
    ep = annotated(episodes)
    keys = child_keys(ep)
    is_new = ep["NEW_PERIOD"].to_numpy(dtype=bool)
    first = np.flatnonzero(is_new)
    period = ep["PERIOD_ID"].to_numpy()
    short_break = ep["SHORT_BREAK"].to_numpy(dtype=bool)
    if len(ep) and np.array_equal(is_new, np.r_[True, period[1:] > period[:-1]]):
        # as annotate_episodes leaves them: each period one run of rows, in id order
        episodes_in = np.diff(np.r_[first, len(ep)])
        all_short = np.logical_and.reduceat(short_break, first)
    else:
        grouped = ep.groupby("PERIOD_ID", sort=True)
        episodes_in = grouped.size().to_numpy()
        all_short = grouped["SHORT_BREAK"].all().to_numpy(dtype=bool)
    out = pd.DataFrame(
        {
            **{k: ep[k].iloc[first].to_numpy() for k in keys},
            "PERIOD_ID": period[first],
            "START": ep["PERIOD_START"].iloc[first].to_numpy(),
            "END": ep["PERIOD_END"].iloc[first].to_numpy(),
            "REASON_CEASED": _rows(ep["PERIOD_REC"], first),
            "LS_START": _inferred_text(_rows(ep["LS"], first)),
            "CIN": _inferred_text(_rows(ep["CIN"], first)) if "CIN" in ep.columns else pd.NA,
            "EPISODES": episodes_in,
            "SHORT_BREAK": all_short,
            "START_KNOWN": _start_known(ep, first),
            "END_KNOWN": _flag(ep, "PERIOD_END_KNOWN", first),
        }
    )
    out["REASON_CEASED"] = out["REASON_CEASED"].astype("string")
    return out


def placements(episodes: pd.DataFrame) -> pd.DataFrame:
    """One row per placement (a chain of episodes without a change of placement).

    Parameters
    ----------
    episodes : DataFrame
        Episodes as for :func:`annotate_episodes` (or already annotated). Uses
        ``PL_DISTANCE`` (miles) and ``REASON_PLACE_CHANGE`` when present.

    Returns
    -------
    DataFrame
        Child key columns, ``PERIOD_ID``, ``PLACEMENT_ID``, ``STABLE_ID``, ``CARER_ID``,
        ``START``/``END`` (dates), ``PLACE`` and ``PLACE_GROUP``, ``RNE`` (of the first
        episode), ``TEMPORARY``, ``SHORT_BREAK``, ``RETURN_FROM_TEMPORARY``, ``COUNTED``
        (bool), ``PL_DISTANCE`` (miles, first episode) and ``REASON_ENDED`` (the
        ``REASON_PLACE_CHANGE`` of its last episode).
    """
    ep = annotated(episodes)
    keys = child_keys(ep)
    is_new = ep["NEW_PLACEMENT"].to_numpy(dtype=bool)
    # positions of each placement's first and last episode; only the columns needed are
    # taken (not every column of the episodes)
    first = np.flatnonzero(is_new)
    last = np.flatnonzero(np.r_[is_new[1:], True] if len(ep) else is_new)
    out = pd.DataFrame(
        {
            **{k: ep[k].iloc[first].to_numpy() for k in keys},
            "PERIOD_ID": ep["PERIOD_ID"].to_numpy()[first],
            "PLACEMENT_ID": ep["PLACEMENT_ID"].to_numpy()[first],
            "STABLE_ID": ep["STABLE_ID"].to_numpy()[first],
            "CARER_ID": ep["CARER_ID"].to_numpy()[first],
            "START": ep["PLACEMENT_START"].iloc[first].to_numpy(),
            "END": ep["PLACEMENT_END"].iloc[first].to_numpy(),
            "PLACE": as_text(_rows(ep["PLACE"], first)),
            "RNE": as_text(_rows(ep["RNE"], first)),
            "TEMPORARY": ep["TEMPORARY"].to_numpy(dtype=bool)[first],
            "SHORT_BREAK": ep["SHORT_BREAK"].to_numpy(dtype=bool)[first],
            "RETURN_FROM_TEMPORARY": ep["RETURN_FROM_TEMPORARY"].to_numpy(dtype=bool)[first],
            "COUNTED": ep["COUNTED_PLACEMENT"].to_numpy(dtype=bool)[first],
            "PL_DISTANCE": pd.to_numeric(ep["PL_DISTANCE"].iloc[first], errors="coerce").to_numpy()
            if "PL_DISTANCE" in ep.columns
            else np.nan,
            "REASON_ENDED": as_text(_rows(ep["REASON_PLACE_CHANGE"], last))
            if "REASON_PLACE_CHANGE" in ep.columns
            else pd.Series(pd.NA, index=range(len(first)), dtype="string"),
        }
    )
    out["PLACE_GROUP"] = placement_group(out["PLACE"])
    return out


def placement_moves(episodes: pd.DataFrame) -> pd.DataFrame:
    """One row per placement move (every placement after the first of its period).

    Parameters
    ----------
    episodes : DataFrame
        Episodes as for :func:`annotate_episodes` (or already annotated).

    Returns
    -------
    DataFrame
        Child key columns, ``PERIOD_ID``, ``MOVE_DATE`` (the new placement's start),
        ``RNE`` (``P``/``B`` new carer, ``T``/``U`` same carer), ``SAME_CARER`` (bool),
        ``REASON`` (``REASON_PLACE_CHANGE`` of the episode before the move; missing when
        not recorded), ``FROM_PLACE``/``TO_PLACE`` and ``FROM_GROUP``/``TO_GROUP``,
        ``TEMPORARY`` (bool: into or out of a T0-T4 placement), ``SHORT_BREAK`` (bool) and
        ``COUNTED`` (bool: a move to a new counted placement outside short breaks, the
        moves published figures count).
    """
    pl = placements(episodes)
    period = pl["PERIOD_ID"].to_numpy()
    # a move is every placement after the first of its period: the row before it is the
    # placement moved from (same child, same period)
    to = np.flatnonzero(period[1:] == period[:-1]) + 1 if len(pl) else np.zeros(0, dtype=int)
    came_from = to - 1
    keys = child_keys(pl)
    temporary = pl["TEMPORARY"].to_numpy(dtype=bool)
    short_break = pl["SHORT_BREAK"].to_numpy(dtype=bool)
    rne = _rows(pl["RNE"], to)
    moves = pd.DataFrame(
        {
            **{k: _rows(pl[k], to) for k in keys},
            "PERIOD_ID": _rows(pl["PERIOD_ID"], to),
            "MOVE_DATE": _rows(pl["START"], to),
            "RNE": rne,
            "SAME_CARER": rne.isin(("T", "U")).to_numpy(dtype=bool),
            "REASON": _rows(pl["REASON_ENDED"], came_from).astype("string"),
            "FROM_PLACE": _rows(pl["PLACE"], came_from).astype("string"),
            "TO_PLACE": _rows(pl["PLACE"], to),
            "FROM_GROUP": _rows(pl["PLACE_GROUP"], came_from).astype("string"),
            "TO_GROUP": _rows(pl["PLACE_GROUP"], to),
            "TEMPORARY": temporary[to] | temporary[came_from],
            "SHORT_BREAK": short_break[to] | short_break[came_from],
        }
    )
    moves["COUNTED"] = pl["COUNTED"].to_numpy(dtype=bool)[to] & ~moves["SHORT_BREAK"].to_numpy()
    return moves
