"""Merge one table's returns over several collection years, then repair the episodes.

Each year's extract repeats what was still open at 31 March of the year before, and a later
return may correct an earlier one. So the same episode (or review, or missing incident) can
appear in several returns; :func:`merge_years` keeps one version of it, the one from the most
recent return, and accounts for every other copy in the :class:`~cpanalysis.quality.QualityReport`
as *replaced by a later return* (rule ``superseded_by_later_return``), so that ``rows read =
rows kept + rows replaced + rows set aside`` still holds file by file.

Merged episodes still carry the seams between returns: an episode left open in an earlier
return that the later return never closed, or one that overlaps the next episode submitted a
year later. :func:`repair_episodes` mends them with the named rules of liiatools' "episodes
fix" (``ssda903.md`` section 6.2), each tested on a hand-worked example:

========================================  ====  ==========================================
rule (our name)                           LT    fix
========================================  ====  ==========================================
``open_episode_duplicate``                3     the open episode is a stale copy of its
                                                neighbour: set aside
``open_episode_replaced_by_later_return`` 3A    an earlier episode came from a later
                                                return that no longer holds this one: set
                                                aside
``open_episode_child_left``               2     no later episode: looked after at 31 March
                                                of its return's year, ended on an unknown
                                                date after it (DEC = 1 April, REC missing)
``open_episode_before_new_period``        1A    next episode starts a new period of care
                                                (RNE = S) by 31 March: DEC = the day
                                                before it, REC missing
``open_episode_left_before_new_period``   1A    the new period starts after 31 March:
                                                looked after at 31 March, ended on an
                                                unknown date after it (as rule 2)
``open_episode_continued``                1     the child stayed in care: DEC = next DECOM,
                                                REC = X1 (next episode inside the
                                                following year, or the following return
                                                holds the child, or there is none)
``open_episode_missing_from_next_return`` 1     the following return exists, does not
                                                hold the child, and the next episode
                                                starts after its year: looked after at
                                                31 March, ended on an unknown date after
                                                it (as rule 2)
``overlap_truncated``                     4     overlaps the next episode submitted in a
                                                later return: DEC = next DECOM
``gap_after_x1``                          5     REC = X1 but a gap before the next episode
                                                submitted in a later return: DEC = next
                                                DECOM
========================================  ====  ==========================================

We do not invent DfE codes. liiatools writes ``REC = "E99"`` and ``REASON_PLACE_CHANGE =
"LIIAF"`` where the return does not say why an episode ended; we leave ``REC`` (and the
reason for a move) missing, and the ``REPAIR`` column names the rule that set ``DEC``, so an
indicator can tell a recorded end from an inferred one. Only X1 (rule 1) is written, because
"the child stayed in care and the episode changed" is exactly what X1 means.

**An episode open at 31 March whose child is missing from the next return.** The one return
that covers that 31 March says the child was looked after at the end of it (DEC blank), and
the DfE counts it so. liiatools closes such an episode *on* 31 March, which would make the
child leave care that day: out of the year's 31 March count and counted as ceasing, a
cessation no return records. We close it on the **1 April** after instead, the first day no
return shows the child in care, with ``REC`` missing (a reason sent without an end date is
not a record of leaving: SSDA903 rule 148), and name the rule in ``REPAIR``. Every figure of
the return's year then counts the child as looked after at 31 March and counts no
cessation. The end is *unknown*: :data:`ENDED_ON_UNKNOWN_DATE` lists the rules, and
:mod:`cpanalysis.histories` marks such episodes ``DEC_KNOWN = False`` so that the following
year counts the child in none of its figures (not looked after during it, not ceased in
it). The same holds when the child's next episode, from a later return, starts a new period
of care after that 31 March (rule 1A capped at 31 March had the same flaw). Each return's
number of such children is written in the quality report as a note.

**A child missing from the next return who comes back later without a new start.** liiatools'
rule 1 closes an open episode at the next episode's DECOM with ``REC = X1`` whenever that
next episode is not ``RNE = S``. That is right when the next episode starts inside the
*following* collection year (a later return correcting that year: the child was in care
from the open episode straight into the next), when the following return holds the child
(its header or episodes name them), or when the council sent no following return at all
(nothing says otherwise). It is wrong when the following return exists, does not hold
the child, and the next episode starts after that return's 31 March: X1 would count the
child as looked after throughout a year whose own return says nothing of them. Each
year's figures come from that year's return, so such an episode is treated as rule 2:
``open_episode_missing_from_next_return``, DEC = 1 April after its return's 31 March,
``REC`` missing, an unknown end (:data:`ENDED_ON_UNKNOWN_DATE`); the later episode then
begins after a gap, which :mod:`cpanalysis.histories` counts as a new period of care (the
child starts again). Which returns exist and which children they hold is read from the
merged header (one row per child per return) and the episodes themselves.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cpanalysis.quality import QualityReport

__all__ = [
    "ENDED_ON_UNKNOWN_DATE",
    "MERGE_KEYS",
    "PER_YEAR_TABLES",
    "REPAIR_RULES",
    "merge_years",
    "repair_episodes",
]

#: Tables whose rows are facts about one child in one collection year (demographics, outcomes
#: at 31 March, the adoption of the year): every year's row is kept, one per child per YEAR.
PER_YEAR_TABLES = ("header", "oc2", "oc3", "ad1", "prev_perm")

#: Columns identifying one fact across returns (``ssda903.md`` 6.1). The most recent return
#: holding a fact wins. UASC is a status, so one row per child: the latest return's.
MERGE_KEYS: dict[str, tuple[str, ...]] = {
    "episodes": ("LA", "CHILD", "DECOM"),
    "reviews": ("LA", "CHILD", "REVIEW"),
    "missing": ("LA", "CHILD", "MISSING", "MIS_START"),
    "placed_adoption": ("LA", "CHILD", "DATE_PLACED"),
    "uasc": ("LA", "CHILD"),
    "sw_episodes": ("LA", "CHILD", "SW_DECOM"),
    "dolo": ("LA", "CHILD", "DOLO_START"),
    **{t: ("LA", "CHILD", "YEAR") for t in PER_YEAR_TABLES},
}

#: Plain-English reasons of each repair rule, as shown in the data-quality report.
REPAIR_RULES: dict[str, str] = {
    "open_episode_duplicate": (
        "episode left open in an earlier return repeats its neighbouring episode "
        "(same legal status, placement, provider, postcode and URN): stale copy set aside"
    ),
    "open_episode_replaced_by_later_return": (
        "episode left open in an earlier return follows an episode from a later return "
        "that no longer holds it: set aside"
    ),
    "open_episode_child_left": (
        "episode open at 31 March in an earlier return, child missing from every later "
        "return: looked after at that 31 March, care ended on an unknown date after it "
        "(end set to 1 April, reason left missing; counted in no figure of the next year)"
    ),
    "open_episode_before_new_period": (
        "episode left open in an earlier return before a new period of care starting in "
        "that return's year: ended the day before the next start, reason left missing"
    ),
    "open_episode_left_before_new_period": (
        "episode open at 31 March in an earlier return, next period of care starting after "
        "that 31 March: looked after at that 31 March, care ended on an unknown date after "
        "it (end set to 1 April, reason left missing; no cessation counted)"
    ),
    "open_episode_continued": (
        "episode left open in an earlier return followed by a later episode that starts "
        "within the following year (or the following return holds the child): ended when "
        "the next episode started, reason X1 (continuing in care)"
    ),
    "open_episode_missing_from_next_return": (
        "episode open at 31 March in an earlier return, child missing from the next "
        "return and next seen in a later one, after that next return's year: looked after "
        "at that 31 March, care ended on an unknown date after it (end set to 1 April, "
        "reason left missing; counted in no figure of the next year; the later episode "
        "starts a new period of care)"
    ),
    "overlap_truncated": (
        "episode ended after the next episode (submitted in a later return) started: "
        "ended when the next episode started"
    ),
    "gap_after_x1": (
        "episode ended X1 (continuing) but the next episode, submitted in a later return, "
        "started later: ended when the next episode started"
    ),
}

#: Repair rules that close an episode open at 31 March on an unknown later date: the
#: episode's ``DEC`` is then the 1 April after, the first day no return shows the child
#: looked after, not a recorded end of care.
ENDED_ON_UNKNOWN_DATE = (
    "open_episode_child_left",
    "open_episode_left_before_new_period",
    "open_episode_missing_from_next_return",
)

_SUPERSEDED = "superseded_by_later_return"
_DUPLICATE_IN_RETURN = "duplicate_key_in_return"

#: Columns compared to decide that an open episode is a stale copy of its neighbour
#: (liiatools rule 3).
_SAME_EPISODE = ("RNE", "LS", "PLACE", "PLACE_PROVIDER", "PL_POST", "URN")


# --------------------------------------------------------------------------- helpers
def _account(
    report: QualityReport,
    rows: pd.DataFrame,
    table: str,
    rule: str,
    reason: str,
    *,
    column: str | None = None,
    action: str = "set aside",
) -> None:
    """Record ``rows`` (with ``_source``, ``_row``) in the report, one call per source file."""
    if rows.empty:
        return
    for source, numbers in rows.groupby("_source", observed=True, sort=True)["_row"]:
        if action == "set aside":
            report.set_aside(str(source), table, numbers.to_numpy(), rule, reason)
        elif action == "replaced":
            report.replaced(str(source), table, numbers.to_numpy(), rule, reason)
        else:
            report.changed(str(source), table, rule, numbers.to_numpy(), column, reason)


def concat_returns(tables: list[pd.DataFrame]) -> pd.DataFrame:
    """Stack one table's yearly frames, keeping code columns as ``category``.

    ``pd.concat`` turns categoricals with different categories (a code retired one year, a
    new one the next) into plain strings; the processed contract wants ``category``, so the
    columns that were categorical in any input are given the union of every year's
    categories first (a retired code keeps its place in charts of old years), and then
    stack as codes.
    """
    frames = [t for t in tables if t is not None]
    if not frames:
        return pd.DataFrame()
    categories: dict[str, dict[str, None]] = {}
    for t in frames:
        for col, dtype in t.dtypes.items():
            if isinstance(dtype, pd.CategoricalDtype):
                categories.setdefault(col, {}).update(dict.fromkeys(dtype.categories))
    non_empty = [t for t in frames if len(t)] or frames[:1]
    union = {col: pd.CategoricalDtype(list(cats)) for col, cats in categories.items()}
    aligned = []
    for t in non_empty:
        t = t.copy(deep=False)
        for col, dtype in union.items():
            if col in t:
                values = t[col]
                if not isinstance(values.dtype, pd.CategoricalDtype):
                    values = values.astype("string")
                t[col] = values.astype(dtype)
        aligned.append(t)
    return pd.concat(aligned, ignore_index=True)


def _set_code(series: pd.Series, mask: np.ndarray, value: object) -> pd.Series:
    """``series`` with ``value`` where ``mask``; adds the category if the column is categorical."""
    out = series.copy()
    if value is not None and isinstance(out.dtype, pd.CategoricalDtype):
        if value not in out.cat.categories:
            out = out.cat.add_categories([value])
    out[mask] = pd.NA if value is None else value
    return out


def _sort_key(values: pd.Series, ascending: bool) -> np.ndarray:
    """An int64 key that orders ``values`` as ``sort_values`` does, missing last either way.

    Text is replaced by its rank among the distinct values (``factorize(sort=True)``), so a
    national-size sort compares integers instead of strings; categories keep their order.
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes = values.cat.codes.to_numpy(dtype=np.int64)
        missing = codes < 0
    elif values.dtype.kind in "biuMm" and not values.hasnans:
        codes = values.to_numpy().view(np.int64) if values.dtype.kind in "Mm" else None
        if codes is None:
            codes = values.to_numpy(dtype=np.int64)
        missing = np.zeros(len(values), dtype=bool)
    elif values.dtype.kind in "Mm":
        codes = values.to_numpy().view(np.int64)
        missing = np.isnat(values.to_numpy())
    else:
        codes, _ = pd.factorize(values, sort=True, use_na_sentinel=True)
        codes = codes.astype(np.int64, copy=False)
        missing = codes < 0
    if not ascending:
        codes = -codes
    if missing.any():
        codes = np.where(missing, codes[~missing].max(initial=0) + 1, codes)
    return codes


def _stable_order(frame: pd.DataFrame, by: list[str], ascending: list[bool]) -> np.ndarray:
    """Positions sorting ``frame`` like ``sort_values(by, ascending, kind="stable",
    na_position="last")``, computed on integer keys."""
    keys = [_sort_key(frame[c], a) for c, a in zip(by, ascending, strict=True)]
    return _lex_order(keys) if keys else np.arange(len(frame))


def _lex_order(keys: list[np.ndarray]) -> np.ndarray:
    """``np.lexsort(keys[::-1])``: a stable sort on the first key, then the next, ...

    Keys of a small range are packed together into one int64 (a key spanning a wide
    range, such as dates in nanoseconds, is replaced by its rank first), so most sorts
    are a single stable ``argsort`` instead of a pass per key; the order is the same.
    """
    packed: list[np.ndarray] = []
    current: np.ndarray | None = None
    span = 1
    for key in keys:
        if len(key) == 0:
            return np.arange(0)
        low, high = int(key.min()), int(key.max())
        if high - low >= 2**20:
            key, uniques = pd.factorize(key, sort=True)
            low, high = 0, len(uniques) - 1
        size = high - low + 1
        if current is not None and span * size < 2**62:
            current = current * size + (key - low)
            span *= size
        else:
            if current is not None:
                packed.append(current)
            current, span = key - low, size
    packed.append(current)
    if len(packed) == 1:
        return np.argsort(packed[0], kind="stable")
    return np.lexsort(packed[::-1])


def _in_order(keys: list[np.ndarray]) -> bool:
    """Whether rows are already in the order of ``keys`` (lexicographic, ties allowed)."""
    if not keys or len(keys[0]) < 2:
        return True
    undecided = np.ones(len(keys[0]) - 1, dtype=bool)  # pairs equal on the keys so far
    for key in keys:
        step = np.sign(key[1:] - key[:-1])
        if (step[undecided] < 0).any():
            return False
        undecided &= step == 0
    return True


def _sorted(
    frame: pd.DataFrame, by: list[str], ascending: list[bool] | None = None
) -> pd.DataFrame:
    """``frame`` sorted stably by ``by`` (missing last), its index kept."""
    ascending = ascending or [True] * len(by)
    keys = [_sort_key(frame[c], a) for c, a in zip(by, ascending, strict=True)]
    if _in_order(keys):
        return frame
    return frame.take(_lex_order(keys))


# --------------------------------------------------------------------------- merge
#: Columns that say whose record a row is and where it came from. They are sorted, grouped
#: and compared many times over by the merge and the repairs, so they are carried as
#: ``category`` (integer codes, categories in sorted order) from the merge on.
IDENTITY_COLUMNS = ("LA", "CHILD", "_source")


def _as_category(values: pd.Series) -> pd.Series:
    """Text as ``category`` with its categories sorted, so the codes order as the text does."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        ordered = values.cat.categories.sort_values()
        if ordered.equals(values.cat.categories):
            return values
        return values.cat.reorder_categories(ordered)
    codes, uniques = pd.factorize(values, sort=True, use_na_sentinel=True)
    dtype = pd.CategoricalDtype(uniques)
    return pd.Series(
        pd.Categorical.from_codes(codes, dtype=dtype, validate=False), index=values.index
    )


def _codes(values: pd.Series) -> np.ndarray:
    """Integer codes of a column: equal values, equal codes; missing is -1 (so missing
    equals missing). A ``category`` column's own codes, without hashing anything."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.codes.to_numpy(dtype=np.int64)
    return pd.factorize(values, use_na_sentinel=True)[0].astype(np.int64, copy=False)


def merge_years(tables: list[pd.DataFrame], table: str, report: QualityReport) -> pd.DataFrame:
    """One table over all collection years: the most recent return's version of each fact.

    Parameters
    ----------
    tables : list of DataFrame
        The cleaned frames of one table kind, one per file read (any order). Each has the
        schema columns plus ``YEAR`` (int collection year), ``LA`` (council code),
        ``_source`` (input file) and ``_row`` (spreadsheet row number).
    table : str
        The table key (``"episodes"``), which chooses the key in :data:`MERGE_KEYS`.
    report : QualityReport
        Receives every row set aside: ``superseded_by_later_return`` (the same fact in a
        later return) or ``duplicate_key_in_return`` (the same fact twice in one return).

    Returns
    -------
    DataFrame
        Same columns, one row per key, sorted by key. For episodes, among copies from the
        same return a closed one beats an open one (the DEC was filled in). The
        :data:`IDENTITY_COLUMNS` present are ``category`` with sorted categories.

    Notes
    -----
    Rows with a missing key value (other than ``LA``) are never treated as duplicates of
    each other: two missing dates are not the same date. The work is done on integer sort
    keys and row positions; the frame itself is reordered once, at the end.
    """
    frame = concat_returns(tables)
    if frame.empty:
        return frame.reset_index(drop=True)
    for col in IDENTITY_COLUMNS:
        if col in frame:
            frame[col] = _as_category(frame[col])
    key = [c for c in MERGE_KEYS.get(table, ("LA", "CHILD", "YEAR")) if c in frame.columns]
    by = ["YEAR"]
    ascending = [False]
    if table == "episodes" and "DEC" in frame:
        frame["_dec_known"] = frame["DEC"].notna()
        by += ["_dec_known", "DEC"]
        ascending += [False, False]
    by += ["_source", "_row"]
    ascending += [True, True]
    order = _stable_order(frame, by, ascending)

    # Every row's key as one group number, numbered in that order, so the first row of a
    # group is its newest version; the others are its copies.
    codes = [_codes(frame[c])[order] for c in key]
    group = _group_ids(codes)
    complete = np.ones(len(order), dtype=bool)
    for c, column in zip(key, codes, strict=True):
        if c != "LA":
            complete &= column != -1
    first = group > np.maximum.accumulate(np.r_[-1, group[:-1]])
    dup = ~first & complete
    year = frame["YEAR"].to_numpy(dtype=np.int64)[order]
    newest = np.empty(int(group.max()) + 1, dtype=np.int64)
    newest[group[first]] = year[first]
    older = year < newest[group]

    where = frame[["_source", "_row"]]
    _account(
        report,
        where.take(order[dup & older]),
        table,
        _SUPERSEDED,
        "the same record appears in a later return, whose version is kept",
        action="replaced",
    )
    _account(
        report,
        where.take(order[dup & ~older]),
        table,
        _DUPLICATE_IN_RETURN,
        f"the same {', '.join(c for c in key if c != 'LA')} appears twice in one return; "
        "the first is kept",
    )
    kept = order[~dup]
    final = [c for c in key if c != "YEAR"] + ["YEAR"]
    keys = [_sort_key(frame[c], True)[kept] for c in final]
    kept = kept[_lex_order(keys)]
    out = frame.take(kept).drop(columns=["_dec_known"], errors="ignore")
    return out.reset_index(drop=True)


def _group_ids(columns: list[np.ndarray]) -> np.ndarray:
    """Group number of each row over several integer columns, numbered in order of first
    appearance (the first row is group 0, the next new combination group 1, ...)."""
    ids = np.zeros(len(columns[0]) if columns else 0, dtype=np.int64)
    bound = 1
    for column in columns:
        low, high = (int(column.min()), int(column.max())) if len(column) else (0, 0)
        if high - low >= 2**31:  # dates as nanoseconds: number the distinct values
            column, uniques = pd.factorize(column)
            low, high = 0, len(uniques) - 1
        size = high - low + 1
        if bound * size >= 2**62:  # keep the combined number small: renumber it densely
            ids, uniques = pd.factorize(ids)
            bound = len(uniques)
        ids = ids * size + (column - low)
        bound *= size
    return pd.factorize(ids)[0] if len(ids) else ids


# --------------------------------------------------------------------------- repair
class _Neighbours:
    """Each episode's previous and next episode of the same child, as numpy arrays.

    ``ep`` must be sorted by LA, CHILD, DECOM. A child is identified by an integer group
    number, and every compared column by integer codes (missing = -1, so two missing values
    compare equal), which keeps the shifts and comparisons in numpy at national size.
    """

    def __init__(self, ep: pd.DataFrame) -> None:
        # Sorted by LA and CHILD: a child's episodes are neighbours, and the same child is
        # the same LA and CHILD codes as the row before.
        same = np.ones(max(len(ep) - 1, 0), dtype=bool)
        for col in ("LA", "CHILD"):
            codes = _codes(ep[col])
            same &= codes[1:] == codes[:-1]
        self.has_next = np.r_[same, False]
        self.has_prev = np.r_[False, same]

    def next(self, values: np.ndarray, fill: object) -> np.ndarray:
        """``values`` of the next episode of the same child, ``fill`` where there is none."""
        out = np.roll(values, -1)
        out[~self.has_next] = fill
        return out

    def prev(self, values: np.ndarray, fill: object) -> np.ndarray:
        """``values`` of the previous episode of the same child, ``fill`` where there is none."""
        out = np.roll(values, 1)
        out[~self.has_prev] = fill
        return out


def _march_31(year: pd.Series, dtype: object) -> pd.Series:
    """31 March of each collection year (the last day of the return)."""
    dates = pd.to_datetime(
        pd.DataFrame({"year": year.astype("int64"), "month": 3, "day": 31}, index=year.index)
    )
    return dates.astype(dtype)


def _mark(ep: pd.DataFrame, mask: np.ndarray, rule: str) -> None:
    """Write ``rule`` into ``REPAIR`` where ``mask`` (joined with "; " to an earlier rule)."""
    if not mask.any():
        return
    current = ep["REPAIR"]
    at = current[mask]  # only the episodes the rule touched
    joined = at.where(at.isna(), at + "; " + rule).fillna(rule)
    repair = current.copy()
    repair[mask] = joined
    ep["REPAIR"] = repair


def _note_unknown_ends(report: QualityReport, ep: pd.DataFrame, unknown_end: np.ndarray) -> None:
    """One note per return: how many children's care ended on an unknown date after its
    31 March (counts only, never an identifier), for the Data quality page.

    Children whose open episode was a short break (V3/V4) are counted apart: no published
    figure counts them either way.
    """
    if not unknown_end.any():
        return
    ended = ep.loc[unknown_end, ["_source", "YEAR", "LA", "CHILD"]]
    ls = ep.loc[unknown_end, "LS"].astype("string")
    ended = ended.assign(_short=ls.isin(("V3", "V4")).fillna(False).to_numpy(dtype=bool))
    ended = ended.drop_duplicates(["_source", "YEAR", "LA", "CHILD"])
    counts = ended.groupby(["_source", "YEAR"], observed=True)["_short"].agg(["size", "sum"])
    for (source, year), (total, short) in counts.iterrows():
        year, short = int(year), int(short)
        n = int(total) - short
        label, next_label = f"{year - 1}-{year % 100:02d}", f"{year}-{(year + 1) % 100:02d}"
        children = "1 child" if n == 1 else f"{n} children"
        breaks = (
            f" ({short} more on a short break, counted in no published figure either way)"
            if short
            else ""
        )
        report.note(
            str(source),
            f"{children} looked after at 31 March {year} in this return ({label}) "
            f"{'is' if n == 1 else 'are'} missing from the next return, or come back only "
            f"in a new period of care after that date{breaks}: counted as looked after at "
            f"31 March {year}, with no cessation in {label}; their care ended on an unknown "
            f"date after it, so they are in no figure of {next_label}",
        )


def _absent_from_next_return(
    ep: pd.DataFrame, candidates: np.ndarray, header: pd.DataFrame | None
) -> np.ndarray:
    """Whether the council sent a return for the year after each candidate episode's return
    and that return holds no record of the child (header or episode).

    A bool array over ``ep``, False outside ``candidates``. A return "exists" when any row
    of ``ep`` or ``header`` has its council and ``YEAR``; it "holds" a child when one of
    those rows also has the child. Only the candidates' children are looked up, so a
    national table costs one ``isin`` per frame, not a key per row.
    """
    out = np.zeros(len(ep), dtype=bool)
    if not candidates.any():
        return out
    frames = [ep] + ([header] if header is not None and len(header) else [])

    def keys(frame: pd.DataFrame, columns: list[str], year_shift: int = 0) -> pd.MultiIndex:
        arrays = []
        for c in columns:
            if c == "YEAR":
                arrays.append(pd.to_numeric(frame[c]).astype("int64").to_numpy() + year_shift)
            else:
                arrays.append(frame[c].astype("string").fillna("").to_numpy(dtype=object))
        return pd.MultiIndex.from_arrays(arrays, names=columns)

    wanted = ep.loc[candidates, ["LA", "YEAR", "CHILD"]]
    returns = keys(
        pd.concat([f[["LA", "YEAR"]].drop_duplicates() for f in frames], ignore_index=True),
        ["LA", "YEAR"],
    )
    children = wanted["CHILD"].astype("string").dropna().unique()
    held = keys(
        pd.concat(
            [f.loc[f["CHILD"].isin(children), ["LA", "YEAR", "CHILD"]] for f in frames],
            ignore_index=True,
        ),
        ["LA", "YEAR", "CHILD"],
    )
    sent = keys(wanted, ["LA", "YEAR"], year_shift=1).isin(returns)
    holds = keys(wanted, ["LA", "YEAR", "CHILD"], year_shift=1).isin(held)
    out[np.flatnonzero(candidates)] = sent & ~holds
    return out


def repair_episodes(
    episodes: pd.DataFrame, report: QualityReport, *, header: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Mend the seams between merged returns with the named rules in this module's table.

    An episode is "left open in an earlier return" when its DEC is missing and its return is
    older than the council's latest return (the latest return is the only one that may hold
    episodes genuinely open now). Stage 1 sets aside stale copies (rules 3, 3A) and then
    closes the remaining such episodes (rules 2, 1A, 1; an episode open at 31 March whose
    child is next seen after it, or next seen only after a following return that does not
    hold them, ends on an unknown date, module docstring). Stage 2 trims
    overlaps and gaps against the next episode when that one came from a later return
    (rules 4, 5).

    Parameters
    ----------
    episodes : DataFrame
        Merged episodes (:func:`merge_years`). Needs ``LA, CHILD, DECOM, DEC`` (dates),
        ``RNE, LS, PLACE, PLACE_PROVIDER, REC`` (codes), ``PL_POST, URN``, ``YEAR`` (int)
        and ``_source``, ``_row`` for the report.
    report : QualityReport
        Receives each rule's rows: set aside (rules 3, 3A) or changed (column DEC; REC for
        rule 1 and where an unknown end clears a reason sent without a date), and a note
        per return counting the children whose care ended on an unknown date.
    header : DataFrame, optional
        The merged header (``LA, CHILD, YEAR``: one row per child per return), telling
        which returns the council sent and which children each holds. Rule 1 applies only
        when the next episode starts inside the following year, or the following return
        holds the child, or there is no following return; otherwise the episode ends on an
        unknown date (``open_episode_missing_from_next_return``, module docstring).
        Without it the episodes alone say which returns hold whom.

    Returns
    -------
    DataFrame
        Same columns plus ``REPAIR`` (string: rule name(s), missing when untouched), sorted
        by LA, CHILD, DECOM.
    """
    ep = _sorted(episodes, ["LA", "CHILD", "DECOM"]).reset_index(drop=True)
    if "REPAIR" not in ep:
        ep["REPAIR"] = pd.Series(pd.NA, index=ep.index, dtype="string")
    else:
        ep["REPAIR"] = ep["REPAIR"].astype("string")
    if ep.empty:
        return ep
    compare = [c for c in _SAME_EPISODE if c in ep.columns]

    # ---- stage 1a: set aside stale open copies (rules 3, 3A)
    nb = _Neighbours(ep)
    year = ep["YEAR"].to_numpy(dtype=np.int64)
    latest = ep.groupby("LA", dropna=False)["YEAR"].transform("max").to_numpy()
    open_error = ep["DEC"].isna().to_numpy() & (year < latest)
    decom = ep["DECOM"].to_numpy(dtype="datetime64[ns]")
    like_next = nb.has_next & (nb.next(decom, np.datetime64("NaT")) != decom)
    like_prev = nb.has_prev & (nb.prev(decom, np.datetime64("NaT")) != decom)
    for col in compare:
        codes = _codes(ep[col])
        like_next &= nb.next(codes, -2) == codes
        like_prev &= nb.prev(codes, -2) == codes
    prev_open_error = nb.prev(open_error, False)
    # A pair of open copies of each other: drop the earlier, keep the later one to repair.
    duplicate = open_error & (like_next | (like_prev & ~prev_open_error))
    replaced = open_error & ~duplicate & nb.has_prev & (nb.prev(year, -1) > year)
    _account(
        report,
        ep[duplicate],
        "episodes",
        "open_episode_duplicate",
        REPAIR_RULES["open_episode_duplicate"],
    )
    _account(
        report,
        ep[replaced],
        "episodes",
        "open_episode_replaced_by_later_return",
        REPAIR_RULES["open_episode_replaced_by_later_return"],
        action="replaced",
    )
    ep = ep[~(duplicate | replaced)].reset_index(drop=True)
    if ep.empty:
        return ep

    # ---- stage 1b: close the remaining open episodes of earlier returns (rules 2, 1A, 1)
    nb = _Neighbours(ep)
    year = ep["YEAR"].to_numpy(dtype=np.int64)
    latest = ep.groupby("LA", dropna=False)["YEAR"].transform("max").to_numpy()
    open_error = ep["DEC"].isna().to_numpy() & (year < latest)
    decom = ep["DECOM"].to_numpy(dtype="datetime64[ns]")
    decom_next = nb.next(decom, np.datetime64("NaT"))
    rne = ep["RNE"].astype("object").to_numpy()
    next_is_start = nb.next(rne, None) == "S"
    year_end = _march_31(ep["YEAR"], "datetime64[ns]").to_numpy()
    day_after = year_end + np.timedelta64(1, "D")  # 1 April: first day of the next year
    day_before_next = decom_next - np.timedelta64(1, "D")

    # The return says the episode was open at the end of its 31 March: a child with no
    # later episode, or whose next period of care starts after that 31 March, was looked
    # after then and left on an unknown later date (module docstring).
    child_left = open_error & ~nb.has_next
    restarts = open_error & nb.has_next & next_is_start
    left_later = restarts & (decom_next > year_end)
    new_period = restarts & ~left_later
    # Rule 1 (X1) holds while the next episode starts inside the following year, or the
    # following return holds the child; a following return that does not, before a next
    # episode after its year, says the child was not looked after then (module docstring).
    goes_on = open_error & nb.has_next & ~next_is_start
    next_year_end = np.full(len(ep), np.datetime64("NaT"), dtype="datetime64[ns]")
    next_year_end[goes_on] = _march_31(ep.loc[goes_on, "YEAR"] + 1, "datetime64[ns]").to_numpy()
    beyond = goes_on & (decom_next > next_year_end)
    missing_next = beyond & _absent_from_next_return(ep, beyond, header)
    continued = goes_on & ~missing_next
    unknown_end = child_left | left_later | missing_next

    dec = ep["DEC"].to_numpy(dtype="datetime64[ns]").copy()
    dec[unknown_end] = day_after[unknown_end]
    dec[new_period] = day_before_next[new_period]
    dec[continued] = decom_next[continued]
    ep["DEC"] = pd.Series(dec, index=ep.index).astype(episodes["DEC"].dtype)
    # a reason sent with no end date is not a record of leaving care (rule 148)
    stale_reason = unknown_end & ep["REC"].notna().to_numpy(dtype=bool)
    ep["REC"] = _set_code(ep["REC"], continued, "X1")
    ep["REC"] = _set_code(ep["REC"], stale_reason, None)
    for rule, mask in [
        ("open_episode_child_left", child_left),
        ("open_episode_before_new_period", new_period),
        ("open_episode_left_before_new_period", left_later),
        ("open_episode_continued", continued),
        ("open_episode_missing_from_next_return", missing_next),
    ]:
        _mark(ep, mask, rule)
        _account(
            report, ep[mask], "episodes", rule, REPAIR_RULES[rule], column="DEC", action="changed"
        )
    for rule, mask in [
        ("open_episode_continued", continued),
        ("open_episode_child_left", child_left & stale_reason),
        ("open_episode_left_before_new_period", left_later & stale_reason),
        ("open_episode_missing_from_next_return", missing_next & stale_reason),
    ]:
        _account(
            report, ep[mask], "episodes", rule, REPAIR_RULES[rule], column="REC", action="changed"
        )
    _note_unknown_ends(report, ep, unknown_end)

    # ---- stage 2: overlaps and gaps against a next episode from a later return (rules 4, 5)
    dec = ep["DEC"].to_numpy(dtype="datetime64[ns]").copy()
    later_next = nb.has_next & ~np.isnat(dec) & (nb.next(year, -1) > year)
    overlap = later_next & (dec > decom_next)
    is_x1 = (ep["REC"].astype("object") == "X1").to_numpy(dtype=bool)
    gap = later_next & is_x1 & (dec < decom_next)
    dec[overlap | gap] = decom_next[overlap | gap]
    ep["DEC"] = pd.Series(dec, index=ep.index).astype(episodes["DEC"].dtype)
    for rule, mask in [("overlap_truncated", overlap), ("gap_after_x1", gap)]:
        _mark(ep, mask, rule)
        _account(
            report, ep[mask], "episodes", rule, REPAIR_RULES[rule], column="DEC", action="changed"
        )
    return ep
