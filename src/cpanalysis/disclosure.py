"""Which published figures are linked, and the secondary suppression that keeps a hidden one hidden.

Hiding a small count is not enough when other published figures add up to it. The site
publishes, for the same year: the children who ceased by reason *and* the total ceased,
the adopted count and the special guardianship orders by quarter (each equal to one of
those reasons), care leavers in education or work, not in it and "not known" (which add up
to the age group's base, itself published as every percentage's denominator), the mean
days of the adoption stages (whose ``numerator`` is the children adopted) and the
three-year scorecard measures (whose numerator is the children adopted in three years).
A reader can subtract. So suppression treats the whole published set as one system of
**links**: each link says that some cells (the *parts*) add up to another (the *total*);
an equality is a link with one part.

The rule every link must satisfy (checked until no link breaks it):

1. no link has exactly one hidden cell (it could be worked out from the others), and
2. when its total is shown, the hidden parts together are 0 or more than the threshold
   (what can be worked out about them, their sum, is itself not a small number: two
   hidden cells summing to 2 are two single children).

When a link breaks the rule, one more of its cells is hidden: the cheapest first, as
statistical disclosure control chooses complementary cells. A cell is a whole row (value,
numerator and denominator) or, where the row's headline value does not reveal the count,
only its numerator (the children averaged by a mean) or denominator (the base of a
percentage). The order of preference:

1. cells whose hiding keeps every total and headline figure: a cell *stands for* a total
   when it is one (a ``"Total"`` row, a line of the scorecard such as care leavers aged
   19 to 21 in education, employment or training, or the total of a link of two or more
   parts, such as NEET over its reasons) or is published equal to one (the "Adopted"
   reason of ceasing is the ``adopted`` headline, so hiding it hides the headline too).
   Such cells go last, while the total is shown;
2. a numerator or denominator only (hiding it costs the reader nothing);
3. a part of the link before the link's own total;
4. non-zero before zero (hiding a zero protects no sum), then the smallest, as the DfE does.

So a total of 23 broken down 3 / 9 / 11 publishes 23, c, c, 11, and the children who left
care by a residence order (2) are protected by the smallest reason that is not also a
published headline ("Other reasons", say), not by "Adopted", which would take the year's
adoptions off the scorecard. A total is hidden only when no other cell can protect. Because
every link is checked again after each change, a cell hidden to protect one link is itself
protected in every other link it belongs to.

What this does not cover (and why it is safe here): three or more links that share hidden
cells in a cycle could in principle be solved as simultaneous equations; the links above
share at most one hidden cell each with another link of the same year.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cpanalysis.scorecard import SCORECARD_ITEMS

__all__ = [
    "ROW",
    "NUMERATOR",
    "DENOMINATOR",
    "EQUAL_CELLS",
    "HEADLINES",
    "Links",
    "equal_classes",
    "find_links",
    "protect",
    "recoverable",
]

ROW, NUMERATOR, DENOMINATOR = "row", "numerator", "denominator"
_KEYS = ["time_period", "geography"]

#: Figures published under two names for the same children in the same year:
#: ((measure, breakdown, cell kind), (measure, breakdown, cell kind)).
EQUAL_CELLS: tuple[tuple[tuple[str, str, str], tuple[str, str, str]], ...] = (
    (("adopted", "Total", ROW), ("ceased_by_reason", "Adopted", ROW)),
    (("sgo_granted", "Total", ROW), ("ceased_by_reason", "Special guardianship order", ROW)),
    (("ceased", "Total", ROW), ("ceased_by_reason", "Total", ROW)),
    (("ceased", "Total", ROW), ("ceased_rate_per_10000", "Total", ROW)),
    (("started", "Total", ROW), ("started_rate_per_10000", "Total", ROW)),
    (("cla_31_march", "Total", ROW), ("cla_rate_per_10000", "Total", ROW)),
    (("cla_31_march", "Total", ROW), ("cla_by_legal_status", "Total", ROW)),
    (("cla_31_march", "Total", ROW), ("cla_by_placement_type", "Total", ROW)),
    (("cla_31_march", "Total", ROW), ("cla_by_age_group", "Total", ROW)),
    (("cla_31_march", "Total", ROW), ("cla_by_sex", "Total", ROW)),
    (("cla_31_march", "Total", ROW), ("placements_3plus_pct", "Total", DENOMINATOR)),
    (("placement_moves", "Total", ROW), ("placement_moves_by_type", "Total", ROW)),
    *(
        (("adopted", "Total", ROW), (f"adoption_{stage}_days", "Total", NUMERATOR))
        for stage in (
            "entry_to_decision",
            "decision_to_match",
            "match_to_placed",
            "entry_to_placed",
            "placed_to_order",
            "entry_to_order",
        )
    ),
    (("a1_days_3yr", "Total", NUMERATOR), ("a2_days_3yr", "Total", NUMERATOR)),
    (("a1_days_3yr", "Total", NUMERATOR), ("a10_days_3yr", "Total", NUMERATOR)),
    (("a1_days_3yr", "Total", NUMERATOR), ("a1_within_426_days_pct", "Total", DENOMINATOR)),
)

#: (measure, breakdown) of the scorecard's lines: with every ``"Total"`` row, the headline
#: figures secondary suppression hides only when nothing else can protect a cell.
HEADLINES: frozenset[tuple[str, str]] = frozenset(
    (item.measure, item.breakdown) for item in SCORECARD_ITEMS if item.measure is not None
)

#: Care leavers' activity: these three add up to the age group's cohort (the base).
CARE_LEAVER_PARTS = ("care_leavers_eet_pct", "care_leavers_neet_pct", "care_leavers_not_known_pct")
CARE_LEAVER_PREFIX = "care_leavers_"
NEET_REASON = "care_leavers_neet_reason"


@dataclass(frozen=True)
class Links:
    """The links of one measure frame.

    Attributes
    ----------
    members : DataFrame
        ``relation`` (str), ``role`` (``"total"`` or ``"part"``), ``cell`` (str).
    cells : DataFrame
        ``cell`` (str), ``row`` (int, row of the frame), ``kind`` (:data:`ROW`,
        :data:`NUMERATOR` or :data:`DENOMINATOR`), ``size`` (float, children in the cell),
        ``headline`` (bool, a whole ``"Total"`` row). A care-leaver base is one cell over
        all the rows of its age group.
    """

    members: pd.DataFrame
    cells: pd.DataFrame


def _rows(frame: pd.DataFrame, size: pd.Series) -> pd.DataFrame:
    rows = frame[[*_KEYS, "measure", "breakdown"]].astype(
        {"geography": "string", "measure": "string", "breakdown": "string"}
    )
    rows = rows.assign(
        row=np.arange(len(frame)),
        size=size.to_numpy(dtype=float),
        denominator=pd.to_numeric(frame["denominator"], errors="coerce").to_numpy(dtype=float),
    )
    rows["group"] = rows["time_period"].astype(str) + "|" + rows["geography"].fillna("")
    # once here, not in each _cell: the links below carry the column into every cell frame
    rows["is_headline"] = _is_headline(rows)
    return rows


def _is_headline(rows: pd.DataFrame) -> np.ndarray:
    """Rows that are a measure's ``"Total"`` or a line of the scorecard (:data:`HEADLINES`)."""
    breakdown = rows["breakdown"].fillna("Total")
    on_scorecard = pd.MultiIndex.from_arrays([rows["measure"].fillna(""), breakdown]).isin(
        list(HEADLINES)
    )
    return breakdown.eq("Total").to_numpy(dtype=bool) | on_scorecard


def _cell(rows: pd.DataFrame, kind: str) -> pd.DataFrame:
    """One cell per row: its id, kind, size (the denominator for a denominator cell) and
    whether it is a headline (a whole row of :func:`_is_headline`: hidden last)."""
    size = rows["denominator"] if kind == DENOMINATOR else rows["size"]
    headline = rows["is_headline"].to_numpy(dtype=bool)
    return pd.DataFrame(
        {
            "cell": rows["row"].astype(str) + ":" + kind,
            "row": rows["row"],
            "kind": kind,
            "size": size.to_numpy(dtype=float),
            "headline": headline & (kind == ROW),
        }
    )


def _member(relation: pd.Series, role: str, cells: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {"relation": relation.to_numpy(), "role": role, "cell": cells["cell"].to_numpy()}
    )


def _breakdown_links(rows: pd.DataFrame) -> tuple[list, list]:
    key = rows["group"] + "|" + rows["measure"].fillna("")
    is_total = rows["breakdown"].fillna("Total").eq("Total").to_numpy(dtype=bool)
    with_total = key.isin(key[is_total]).to_numpy(dtype=bool)
    with_parts = key.isin(key[~is_total]).to_numpy(dtype=bool)
    totals = rows.loc[is_total & with_parts]
    parts = rows.loc[~is_total & with_total]
    t, p = _cell(totals, ROW), _cell(parts, ROW)
    members = [
        _member("sum:" + key[totals.index], "total", t),
        _member("sum:" + key[parts.index], "part", p),
    ]
    return members, [t, p]


def _select(rows: pd.DataFrame, measure: str, breakdown: str) -> pd.DataFrame:
    found = rows["measure"].eq(measure) & rows["breakdown"].eq(breakdown)
    return rows.loc[found.fillna(False).to_numpy(dtype=bool)]


def _equal_links(rows: pd.DataFrame) -> tuple[list, list]:
    members, cells = [], []
    for number, ((m1, b1, k1), (m2, b2, k2)) in enumerate(EQUAL_CELLS):
        pair = _select(rows, m1, b1).merge(
            _select(rows, m2, b2), on="group", suffixes=("", "_other")
        )
        if pair.empty:
            continue
        other = pair.filter(like="_other").rename(columns=lambda c: c.removesuffix("_other"))
        left, right = _cell(pair, k1), _cell(other, k2)
        relation = f"eq{number}:" + pair["group"]
        members += [_member(relation, "total", left), _member(relation, "part", right)]
        cells += [left, right]
    return members, cells


def _three_year_links(rows: pd.DataFrame) -> tuple[list, list]:
    """a1_days_3yr's numerator (year Y) = children adopted in Y-2, Y-1 and Y."""
    total = _select(rows, "a1_days_3yr", "Total")
    adopted = _select(rows, "adopted", "Total")
    if total.empty or adopted.empty:
        return [], []
    lagged = pd.concat(
        [adopted.assign(target=adopted["time_period"] + lag) for lag in (0, 1, 2)],
        ignore_index=True,
    )
    parts = lagged.merge(
        total[["time_period", "geography"]].rename(columns={"time_period": "target"}),
        on=["target", "geography"],
    )
    complete = parts.groupby(["target", "geography"], dropna=False)["row"].transform("size") == 3
    parts = parts.loc[complete.to_numpy(dtype=bool)]
    relation_of = "3yr:" + parts["target"].astype(str) + "|" + parts["geography"].fillna("")
    total = total.loc[total["group"].isin(set(relation_of.str.removeprefix("3yr:")))]
    t, p = _cell(total, NUMERATOR), _cell(parts, ROW)
    return [
        _member("3yr:" + total["group"], "total", t),
        _member(relation_of, "part", p),
    ], [t, p]


def _care_leaver_links(rows: pd.DataFrame) -> tuple[list, list]:
    """EET + NEET + not known = the age group's base; the NEET reasons add up to NEET."""
    leavers = rows.loc[rows["measure"].str.startswith(CARE_LEAVER_PREFIX).fillna(False)]
    if leavers.empty:
        return [], []
    band = leavers["breakdown"].str.split(": ").str[0]
    band_key = leavers["group"] + "|" + band
    base = pd.DataFrame(
        {
            "cell": "base:" + band_key,
            "row": leavers["row"],
            "kind": ROW,
            "size": leavers["denominator"],
            "headline": False,
        }
    )
    is_part = leavers["measure"].isin(CARE_LEAVER_PARTS).to_numpy(dtype=bool)
    parts = _cell(leavers.loc[is_part], ROW)
    bases = base.drop_duplicates("cell")
    members = [
        _member("leavers:" + bases["cell"].str.removeprefix("base:"), "total", bases),
        _member("leavers:" + band_key[is_part], "part", parts),
    ]
    cells = [base, parts]
    is_neet = leavers["measure"].eq("care_leavers_neet_pct").to_numpy(dtype=bool)
    is_reason = leavers["measure"].eq(NEET_REASON).to_numpy(dtype=bool)
    neet, reasons = _cell(leavers.loc[is_neet], ROW), _cell(leavers.loc[is_reason], ROW)
    members += [
        _member("neet:" + band_key[is_neet], "total", neet),
        _member("neet:" + band_key[is_reason], "part", reasons),
    ]
    cells += [neet, reasons]
    return members, cells


def find_links(frame: pd.DataFrame, size: pd.Series, unusable: np.ndarray) -> Links:
    """Every link between the rows of a measure frame (module docstring).

    Parameters
    ----------
    frame : DataFrame
        A measure frame, index 0..n-1.
    size : Series
        Children in each row (the numerator, or the value of a count).
    unusable : ndarray of bool
        Rows that carry a DfE symbol (``z``/``x``): nothing can be subtracted from them,
        so a link holding one is dropped.
    """
    rows = _rows(frame, size)
    members, cells = [], []
    for build in (_breakdown_links, _equal_links, _three_year_links, _care_leaver_links):
        m, c = build(rows)
        members += m
        cells += c
    if not members:
        empty = pd.DataFrame(columns=["relation", "role", "cell"])
        return Links(empty, pd.DataFrame(columns=["cell", "row", "kind", "size", "headline"]))
    members = pd.concat(members, ignore_index=True).drop_duplicates()
    cells = pd.concat(cells, ignore_index=True).drop_duplicates(["cell", "row"])
    # a link with a cell of unknown size, or a symbol, tells the reader nothing exact
    bad_cells = cells.loc[cells["size"].isna() | unusable[cells["row"].to_numpy(dtype=int)]]
    bad = members.loc[members["cell"].isin(bad_cells["cell"]), "relation"]
    members = members.loc[~members["relation"].isin(bad)]
    one_sided = members.groupby("relation")["role"].transform("nunique") < 2
    members = members.loc[~one_sided.to_numpy(dtype=bool)].reset_index(drop=True)
    cells = cells.loc[cells["cell"].isin(members["cell"])].reset_index(drop=True)
    return Links(members, cells)


_COST = {NUMERATOR: 0, DENOMINATOR: 0, ROW: 1}


def equal_classes(members: pd.DataFrame) -> pd.Series:
    """Cells published as the same number: joined through links of one part and one total.

    WHY: hiding one cell of an equality forces the other (rule 1), so the real price of
    hiding the "Adopted" reason of ceasing is the ``adopted`` headline as well. Classes let
    :func:`protect` see that price before it chooses.

    Parameters
    ----------
    members : DataFrame
        :attr:`Links.members`.

    Returns
    -------
    Series
        The class (int) of every cell of ``members``, indexed by cell id; cells with no
        equality are a class of their own.
    """
    cells = pd.Index(members["cell"].unique())
    label = pd.Series(np.arange(len(cells)), index=cells)
    roles = members.groupby(["relation", "role"]).size().unstack(fill_value=0)
    one_to_one = roles.index[
        roles.get("part", pd.Series(0, index=roles.index)).eq(1)
        & roles.get("total", pd.Series(0, index=roles.index)).eq(1)
    ]
    equal = members.loc[members["relation"].isin(one_to_one)]
    if equal.empty:
        return label
    relation, cell = equal["relation"].to_numpy(), equal["cell"].to_numpy()
    # smallest label over each equality, spread until no label changes (a chain of n
    # equalities settles within n rounds; the published set has chains of two or three)
    for _ in range(len(cells) + 1):
        lowest = equal["cell"].map(label).groupby(relation).transform("min")
        update = lowest.groupby(cell).min()
        merged = label.copy()
        merged.loc[update.index] = np.minimum(label.loc[update.index], update)
        if merged.equals(label):
            break
        label = merged
    return label


def protect(
    links: Links, primary: np.ndarray, threshold: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hide cells until every link keeps the rule of the module docstring.

    Parameters
    ----------
    links : Links
        From :func:`find_links`.
    primary : ndarray of bool
        Rows hidden by primary suppression (a count of 1 to ``threshold``).
    threshold : int
        The suppression threshold.

    Returns
    -------
    tuple of ndarray of bool
        Rows hidden whole, rows whose numerator only is hidden, rows whose denominator only
        is hidden (the last two keep their published value).

    Notes
    -----
    Each round hides, for every link that breaks the rule, its cheapest shown cell in the
    order of the module docstring: first one that stands for no shown total or headline
    (its class of :func:`equal_classes` holds no whole row that is a ``"Total"`` or the
    total of a link of two or more parts, still shown), then numerator or denominator
    only, then parts before the link's own total, then non-zero, smallest, fewest links.
    """
    hidden = {
        ROW: primary.copy(),
        NUMERATOR: np.zeros_like(primary),
        DENOMINATOR: np.zeros_like(primary),
    }
    members, cells = links.members, links.cells
    if members.empty:
        return hidden[ROW], hidden[NUMERATOR], hidden[DENOMINATOR]
    kind = cells["kind"].to_numpy()
    row = cells["row"].to_numpy(dtype=int)
    unique = cells.drop_duplicates("cell").set_index("cell")
    cell_size, cell_kind = unique["size"], unique["kind"]
    n_links = members.groupby("cell")["relation"].nunique()
    is_part = members["role"].eq("part").to_numpy(dtype=bool)
    relation = members["relation"]
    # the cells a reader would miss most: headline rows and totals of real breakdowns
    n_parts = members.loc[is_part].groupby("relation").size()
    sum_total = members.loc[~is_part & relation.map(n_parts).gt(1).to_numpy(dtype=bool), "cell"]
    anchor = unique["kind"].eq(ROW) & (
        unique["headline"].astype(bool) | unique.index.isin(sum_total)
    )
    label = equal_classes(members)
    # each round hides at least one more cell, so this ends within len(cells) rounds
    for _ in range(len(cells) + 1):
        shown_row = ~hidden[ROW][row]
        of_kind = np.select(
            [kind == NUMERATOR, kind == DENOMINATOR],
            [~hidden[NUMERATOR][row], ~hidden[DENOMINATOR][row]],
            True,
        )
        cell_hidden = ~pd.Series(shown_row & of_kind).groupby(cells["cell"].to_numpy()).any()
        hid = members["cell"].map(cell_hidden).to_numpy(dtype=bool)
        size = members["cell"].map(cell_size).to_numpy(dtype=float)
        per = pd.DataFrame(
            {
                "total_hidden": np.where(is_part, 0, hid),
                "parts_hidden": np.where(is_part, hid, 0),
                "hidden_sum": np.where(is_part & hid, size, 0.0),
            }
        ).groupby(relation.to_numpy())
        state = per.sum()
        total_hidden = state["total_hidden"] > 0
        by_count = (state["parts_hidden"] + state["total_hidden"]) == 1
        by_sum = ~total_hidden & state["hidden_sum"].between(1, threshold)
        unsafe = by_count | by_sum
        if not unsafe.any():
            break
        shown_anchor = anchor & ~cell_hidden.reindex(anchor.index).to_numpy(dtype=bool)
        stands_for_total = shown_anchor.groupby(label.reindex(anchor.index).to_numpy()).any()
        candidates = pd.DataFrame(
            {
                "relation": relation,
                "cell": members["cell"],
                "size": size,
                "cost": members["cell"].map(cell_kind).map(_COST).to_numpy(),
                "links": members["cell"].map(n_links).to_numpy(),
                "part": is_part,
                "total": members["cell"].map(label).map(stands_for_total).to_numpy(dtype=bool),
            }
        ).loc[~hid & relation.map(unsafe).to_numpy(dtype=bool)]
        # under the sum rule a zero part adds nothing
        needs_sum = candidates["relation"].map(by_sum).to_numpy(dtype=bool)
        useless = needs_sum & (candidates["size"].to_numpy() == 0)
        candidates = candidates.loc[~useless]
        candidates = candidates.assign(own_total=~candidates["part"], zero=candidates["size"].eq(0))
        order = ["relation", "total", "cost", "own_total", "zero", "size", "links", "cell"]
        chosen = (
            candidates.sort_values(order).groupby("relation", sort=False).head(1)["cell"].unique()
        )
        if len(chosen) == 0:  # pragma: no cover - a broken link always has a shown cell
            raise RuntimeError("secondary suppression found no cell to hide")
        picked = cells.loc[cells["cell"].isin(chosen)]
        for k in (ROW, NUMERATOR, DENOMINATOR):
            hidden[k][picked.loc[picked["kind"].eq(k), "row"].to_numpy(dtype=int)] = True
    return hidden[ROW], hidden[NUMERATOR], hidden[DENOMINATOR]


def recoverable(
    links: Links,
    hidden_row: np.ndarray,
    hidden_numerator: np.ndarray,
    hidden_denominator: np.ndarray,
    threshold: int,
) -> pd.DataFrame:
    """What a reader could work out about hidden cells from everything published.

    An independent check of :func:`protect` (the tests run it over the demo council's whole
    published set): every link is an equation (parts minus total = 0), the shown cells are
    known, the hidden ones unknown. A hidden cell is *recoverable* when every solution of
    the equations gives it the same value (its unit vector lies in the row space of the
    equations over the unknowns: the null space has no component along it), which also
    catches links that share hidden cells in a cycle. A link whose total is shown and whose
    hidden parts sum to 1..``threshold`` is reported too (a small group, even if no single
    cell of it is known).

    Parameters
    ----------
    links : Links
        :func:`find_links` of the frame *before* suppression (true sizes).
    hidden_row, hidden_numerator, hidden_denominator : ndarray of bool
        What was withheld, by row of the frame, as :func:`protect` returns it.
    threshold : int
        The suppression threshold.

    Returns
    -------
    DataFrame
        ``cell``, ``row``, ``reason`` (``"recoverable"`` or ``"small sum"``); empty when
        nothing can be worked out.
    """
    members, cells = links.members, links.cells
    columns = ["cell", "row", "reason"]
    if members.empty:
        return pd.DataFrame(columns=columns)
    row = cells["row"].to_numpy(dtype=int)
    kind = cells["kind"].to_numpy()
    hidden_part = np.select(
        [kind == NUMERATOR, kind == DENOMINATOR],
        [hidden_numerator[row], hidden_denominator[row]],
        False,
    )
    shown = ~(hidden_row[row] | hidden_part)
    cell_hidden = ~pd.Series(shown).groupby(cells["cell"].to_numpy()).any()
    first_row = cells.drop_duplicates("cell").set_index("cell")["row"]
    unknown = pd.Index(cell_hidden.index[cell_hidden.to_numpy(dtype=bool)])
    found = []
    if len(unknown):
        relations = pd.Index(members["relation"].unique())
        coefficient = np.where(members["role"].eq("part"), 1.0, -1.0)
        where = unknown.get_indexer(members["cell"])
        matrix = np.zeros((len(relations), len(unknown)))
        on = where >= 0
        np.add.at(
            matrix,
            (relations.get_indexer(members["relation"])[on], where[on]),
            coefficient[on],
        )
        _, singular, vt = np.linalg.svd(matrix)
        rank = int((singular > 1e-9).sum())
        null_space = vt[rank:].T
        fixed = (
            np.abs(null_space).max(axis=1) < 1e-9
            if null_space.size
            else np.ones(len(unknown), dtype=bool)
        )
        for cell in unknown[fixed]:
            found.append((cell, int(first_row[cell]), "recoverable"))
    hid = members["cell"].map(cell_hidden).to_numpy(dtype=bool)
    size = members["cell"].map(cells.drop_duplicates("cell").set_index("cell")["size"])
    is_part = members["role"].eq("part").to_numpy(dtype=bool)
    state = (
        pd.DataFrame(
            {
                "total_hidden": ~is_part & hid,
                "hidden_sum": np.where(is_part & hid, size.to_numpy(dtype=float), 0.0),
            }
        )
        .groupby(members["relation"].to_numpy())
        .agg({"total_hidden": "any", "hidden_sum": "sum"})
    )
    small = state.index[~state["total_hidden"] & state["hidden_sum"].between(1, threshold)]
    for relation in small:
        cell = members.loc[members["relation"].eq(relation) & hid & is_part, "cell"].iloc[0]
        found.append((cell, int(first_row[cell]), "small sum"))
    return pd.DataFrame(found, columns=columns)


#: Mean length of a month in days (365.25 / 12): the grid of a published survival curve.
MONTH_DAYS = 30.44


def publishable_survival(curve: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """A Kaplan-Meier curve that reveals no single child's wait.

    Each step of an exact curve is one event day: a drop from 100% to 99.4% at day 228,
    with 167 children followed, says that one child moved in on day 228. The published
    curve is read on a grid of whole months instead, and a step is drawn only once more
    than ``threshold`` children have moved in since the last step, and only while more than
    ``threshold`` children are still followed. Between steps the curve stays flat, so it
    shows the share still waiting at the end of each step's month (never less than the
    exact curve: waiting is not understated); the tail where few are left is not drawn.

    Parameters
    ----------
    curve : DataFrame
        The exact curve: ``days``, ``survival``, ``lower``, ``upper``, ``at_risk`` (children
        followed just before that day) and ``events`` (children who moved in that day), as
        :func:`cpanalysis.indicators.adoption.adoption_waiting_survival` gives with
        ``min_at_risk=0``.
    threshold : int
        The suppression threshold (``0``: the exact curve, for internal use only).

    Returns
    -------
    DataFrame
        The same columns; ``days`` are whole months (rounded to days), ``events`` the
        children who moved in during the step (each more than ``threshold``). Starts at
        day 0 with everyone waiting.
    """
    columns = ["days", "survival", "lower", "upper", "at_risk", "events"]
    if threshold <= 0 or curve.empty:
        return curve.reset_index(drop=True)
    rows = curve.loc[curve["days"] > 0].sort_values("days", kind="stable")
    start = pd.DataFrame(
        {
            "days": [0],
            "survival": [1.0],
            "lower": [1.0],
            "upper": [1.0],
            "at_risk": [int(curve["at_risk"].max())],
            "events": [0],
        }
    )
    if rows.empty:
        return start[columns]
    month = np.ceil(rows["days"].to_numpy(dtype=float) / MONTH_DAYS).astype(int)
    months = (
        rows.assign(month=month)
        .groupby("month", sort=True)
        .agg(
            events=("events", "sum"),
            survival=("survival", "last"),
            lower=("lower", "last"),
            upper=("upper", "last"),
            at_risk=("at_risk", "first"),
        )
    )
    steps: list[dict] = []
    pending, risk_at_start = 0, None
    # a loop over months of waiting (a few dozen), not over children
    for number, m in zip(months.index, months.itertuples(index=False), strict=True):
        if pending == 0:
            risk_at_start = int(m.at_risk)
        if risk_at_start <= threshold:
            break
        pending += int(m.events)
        if pending > threshold:
            steps.append(
                dict(
                    days=int(round(number * MONTH_DAYS)),
                    survival=float(m.survival),
                    lower=float(m.lower),
                    upper=float(m.upper),
                    at_risk=risk_at_start,
                    events=pending,
                )
            )
            pending = 0
    out = pd.concat([start, pd.DataFrame(steps, columns=columns)], ignore_index=True)
    return out[columns].astype({"days": int, "at_risk": int, "events": int})
