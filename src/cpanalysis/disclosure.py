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

When a link breaks the rule, one more of its cells is hidden: the cheapest first. A cell is
a whole row (value, numerator and denominator) or, where the row's headline value does not
reveal the count, only its numerator (the children averaged by a mean) or denominator
(the base of a percentage); hiding those costs the reader nothing, so they go first. Among
rows, non-zero cells before zero ones (hiding a zero protects no sum), then the smallest, as
the DfE does. Because every link is checked again after each change, a cell hidden to
protect one link is itself protected in every other link it belongs to.

What this does not cover (and why it is safe here): three or more links that share hidden
cells in a cycle could in principle be solved as simultaneous equations; the links above
share at most one hidden cell each with another link of the same year.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["ROW", "NUMERATOR", "DENOMINATOR", "EQUAL_CELLS", "Links", "find_links", "protect"]

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
        :data:`NUMERATOR` or :data:`DENOMINATOR`), ``size`` (float, children in the cell).
        A care-leaver base is one cell over all the rows of its age group.
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
    return rows


def _cell(rows: pd.DataFrame, kind: str) -> pd.DataFrame:
    """One cell per row: its id, kind and size (the denominator for a denominator cell)."""
    size = rows["denominator"] if kind == DENOMINATOR else rows["size"]
    return pd.DataFrame(
        {
            "cell": rows["row"].astype(str) + ":" + kind,
            "row": rows["row"],
            "kind": kind,
            "size": size.to_numpy(dtype=float),
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
        return Links(empty, pd.DataFrame(columns=["cell", "row", "kind", "size"]))
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
    cell_size = cells.drop_duplicates("cell").set_index("cell")["size"]
    cell_kind = cells.drop_duplicates("cell").set_index("cell")["kind"]
    n_links = members.groupby("cell")["relation"].nunique()
    is_part = members["role"].eq("part").to_numpy(dtype=bool)
    relation = members["relation"]
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
        candidates = pd.DataFrame(
            {
                "relation": relation,
                "cell": members["cell"],
                "size": size,
                "cost": members["cell"].map(cell_kind).map(_COST).to_numpy(),
                "links": members["cell"].map(n_links).to_numpy(),
                "part": is_part,
            }
        ).loc[~hid & relation.map(unsafe).to_numpy(dtype=bool)]
        # under the sum rule a zero part adds nothing; a shown total is the last resort
        # unless it costs the reader nothing (a numerator or denominator only)
        needs_sum = candidates["relation"].map(by_sum).to_numpy(dtype=bool)
        useless = needs_sum & (candidates["size"].to_numpy() == 0)
        candidates = candidates.loc[~useless]
        candidates = candidates.assign(
            last=~candidates["part"] & (candidates["cost"] > 0),
            zero=candidates["size"].eq(0),
        )
        chosen = (
            candidates.sort_values(["relation", "last", "cost", "zero", "size", "links", "cell"])
            .groupby("relation", sort=False)
            .head(1)["cell"]
            .unique()
        )
        if len(chosen) == 0:  # pragma: no cover - a broken link always has a shown cell
            raise RuntimeError("secondary suppression found no cell to hide")
        picked = cells.loc[cells["cell"].isin(chosen)]
        for k in (ROW, NUMERATOR, DENOMINATOR):
            hidden[k][picked.loc[picked["kind"].eq(k), "row"].to_numpy(dtype=int)] = True
    return hidden[ROW], hidden[NUMERATOR], hidden[DENOMINATOR]


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
