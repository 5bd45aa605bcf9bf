"""A synthetic council's yearly returns: what the council sends the DfE each year.

Each collection year's extract holds every episode open at any time in the year; an episode
still open on 31 March has blank ``DEC`` and ``REC`` and comes back, closed if it closed, in
the next year's return. Codes are those valid in that year
(:func:`cpanalysis.schema.code_list`): sex ``1``/``2`` until 2023-24 and ``M``/``F`` after,
``H5`` becomes ``K3`` from 2024-25, ``Z1`` becomes ``Z14`` from 2025-26, special
guardianship ``E45``-``E48`` are ``E43``/``E44`` before 2018-19 and apprenticeships
``F4``/``F5``/``P4``/``P5`` are ``F3``/``P3`` before 2021-22.

Every table is a DataFrame of strings (``""`` for blank), columns in the DfE's order.

Speed: a national run extracts 1,500 returns, so the council's tables are turned into numpy
arrays once (dates as day counts and as ``dd/mm/yyyy`` text, children by position) and
cached on the council; each year is then a few boolean masks and index lookups.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cpanalysis.schema import table_specs
from cpanalysis.synthetic.dates import add_years, datetimes_to_days, day, format_dmy
from cpanalysis.synthetic.simulate import SyntheticCouncil

__all__ = ["extract_return", "FILE_NAMES"]

#: File name of each table in a folder of CSV returns.
FILE_NAMES = {
    "header": "header.csv",
    "episodes": "episodes.csv",
    "uasc": "uasc.csv",
    "reviews": "reviews.csv",
    "ad1": "ad1.csv",
    "placed_adoption": "placed_for_adoption.csv",
    "prev_perm": "previous_permanence.csv",
    "oc2": "oc2.csv",
    "oc3": "oc3.csv",
    "missing": "missing.csv",
    "sw_episodes": "sw_episodes.csv",
}


#: Day count standing for a missing start (before everything) and a missing end (open).
_NEVER = np.iinfo("int64").min
_OPEN = np.iinfo("int64").max


def _place(codes: np.ndarray, year: int) -> np.ndarray:
    supported = "K3" if year >= 2025 else "H5"
    other = "Z14" if year >= 2026 else "Z1"
    return _replace(codes, {"SUPP": supported, "Z1": other})


def _rec(codes: np.ndarray, year: int) -> np.ndarray:
    if year >= 2019:
        return codes
    return _replace(codes, {"E45": "E43", "E46": "E43", "E47": "E44", "E48": "E44"})


def _activ(codes: np.ndarray, year: int) -> np.ndarray:
    if year >= 2022:
        return codes
    return _replace(codes, {"F4": "F3", "F5": "F3", "P4": "P3", "P5": "P3"})


def _sex(male: np.ndarray, year: int) -> np.ndarray:
    if year >= 2025:
        return male
    return _replace(male, {"M": "1", "F": "2"})


def _replace(codes: np.ndarray, mapping: dict[str, str]) -> np.ndarray:
    """``codes`` with each key of ``mapping`` swapped for its value (all at once)."""
    out = codes.copy()
    for old, new in mapping.items():
        out[codes == old] = new
    return out


def _text(values) -> np.ndarray:
    """Cells as an object array of ``str``: missing values blank, anything else ``str()``."""
    values = np.asarray(values, dtype=object)
    missing = pd.isna(values)
    if missing.any():
        values = values.copy()
        values[missing] = ""
    if not all(type(v) is str for v in values):
        values = np.array([str(v) for v in values], dtype=object)
    return values


def _cells(values: np.ndarray) -> np.ndarray:
    """A column for :func:`_frame`: numpy text as ``str`` objects; object arrays are already
    text (:class:`_Arrays` made them so, and ``np.where`` of text stays text)."""
    values = np.asarray(values)
    if values.dtype == object:
        return values
    if values.dtype.kind == "U":
        return values.astype(object)
    return _text(values)


def _sort_codes(values: np.ndarray, is_date: bool) -> np.ndarray:
    """Integers that sort like the column does (dates by day, blank dates last)."""
    if is_date:
        text = np.asarray(values, dtype="<U10")
        digits = text.view(np.uint32).reshape(-1, 10).astype("int64") - ord("0")
        blank = text == ""
        ymd = (
            digits[:, 6] * 10_000_000
            + digits[:, 7] * 1_000_000
            + digits[:, 8] * 100_000
            + digits[:, 9] * 10_000
            + digits[:, 3] * 1000
            + digits[:, 4] * 100
            + digits[:, 0] * 10
            + digits[:, 1]
        )
        return np.where(blank, _OPEN, ymd)
    return np.unique(values, return_inverse=True)[1].reshape(-1)


def _frame(table: str, year: int, columns: dict) -> pd.DataFrame:
    """A table in the DfE's column order, every cell a string, rows sorted by its key."""
    spec = table_specs(year)[table]
    n = len(next(iter(columns.values()))) if columns else 0
    cells = {
        c: _cells(columns[c]) if c in columns else np.full(n, "", dtype=object)
        for c in spec.column_names
    }
    key = list(spec.unique_key)
    if n > 1:
        codes = [_sort_codes(cells[c], spec.columns[c].type == "date") for c in key]
        order = np.lexsort(codes[::-1])
        cells = {c: v[order] for c, v in cells.items()}
    return pd.DataFrame(cells)


class _Arrays:
    """One table of the council as numpy arrays: text columns, day counts, date text."""

    def __init__(self, frame: pd.DataFrame, text=(), starts=(), ends=(), other=()):
        self.n = len(frame)
        self.columns: dict[str, np.ndarray] = {}
        for c in text:
            self.columns[c] = _text(frame[c].to_numpy(dtype=object, na_value=""))
        for c in other:
            self.columns[c] = frame[c].to_numpy()
        for c, missing in [(c, _NEVER) for c in starts] + [(c, _OPEN) for c in ends]:
            days = datetimes_to_days(frame[c].to_numpy(), missing)
            self.columns[c] = days
            self.columns[c + ":text"] = format_dmy(days, days == missing)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    def take(self, rows) -> dict[str, np.ndarray]:
        return {c: v[rows] for c, v in self.columns.items()}


class _Prepared:
    """The council's tables as arrays, made once per council (see the module docstring)."""

    def __init__(self, council: SyntheticCouncil):
        kids = council.children
        self.sources = _sources(council)
        self.ids = kids["CHILD"].to_numpy(dtype=object)
        self.index = pd.Index(self.ids)
        self.kids = _Arrays(
            kids,
            text=["CHILD", "SEX", "ETHNIC", "UPN"],
            starts=["DOB", "MC_DOB"],
            other=["UASC"],
        )
        dob = self.kids["DOB"]
        self.eighteen = add_years(dob, 18)
        self.eighteen_text = format_dmy(self.eighteen)
        self.episodes = self._with_child(
            council.episodes,
            text=["CHILD", "RNE", "LS", "CIN", "PLACE", "PLACE_PROVIDER", "REC"]
            + ["REASON_PLACE_CHANGE", "HOME_POST", "PL_POST", "URN"],
            starts=["DECOM"],
            ends=["DEC"],
            other=["PERIOD"],
        )
        cl = council.care_leavers
        self.care_leavers = self._with_child(
            cl, text=["CHILD", "IN_TOUCH", "ACTIV", "ACCOM"], other=["YEAR"]
        )
        self.reviews = self._with_child(
            council.reviews, text=["CHILD", "REVIEW_CODE"], starts=["REVIEW"]
        )
        self.adoptions = self._with_child(
            council.adoptions,
            text=["CHILD", "SEX_ADOPTR", "LS_ADOPTR", "REASON_CEASED", "FOSTER_CARE"]
            + ["NB_ADOPTR"],
            starts=["DECISION", "MATCH"],
            ends=["ADOPTED", "REVERSED"],
            other=["PERIOD"],
        )
        self.prev_perm = self._with_child(
            council.prev_perm,
            text=["CHILD", "PREV_PERM", "LA_PERM", "DATE_PERM"],
            starts=["FIRST_START"],
        )
        health = council.health
        self.health_columns = [c for c in health.columns if c != "YEAR"]
        self.health = self._with_child(health, text=self.health_columns, other=["YEAR"])
        self.missing = self._with_child(
            council.missing, text=["CHILD", "MISSING"], starts=["MIS_START"], ends=["MIS_END"]
        )
        self.social_workers = self._with_child(
            council.social_workers,
            text=["CHILD", "SW_ID", "SW_REASON"],
            starts=["SW_DECOM"],
            ends=["SW_DEC"],
        )

    def _with_child(self, frame: pd.DataFrame, **columns) -> _Arrays:
        """A table's arrays plus ``child`` (position of the row's child) and ``DOB:text``."""
        arrays = _Arrays(frame, **columns)
        child = self.index.get_indexer(arrays["CHILD"])
        if (child < 0).any():
            raise KeyError("a table names a child who is not in council.children")
        arrays.columns["child"] = child
        arrays.columns["DOB:text"] = self.kids["DOB:text"][child]
        return arrays


_TABLES = ("children", "episodes", "care_leavers", "reviews", "adoptions", "prev_perm")
_TABLES += ("health", "missing", "social_workers")


def _sources(council: SyntheticCouncil) -> tuple:
    return tuple(getattr(council, name) for name in _TABLES)


def _prepared(council: SyntheticCouncil) -> _Prepared:
    """The cached arrays of ``council`` (made again if any of its tables was replaced)."""
    cached = council.extra.get("_extract")
    if cached is None or any(
        a is not b for a, b in zip(cached.sources, _sources(council), strict=True)
    ):
        cached = _Prepared(council)
        council.extra["_extract"] = cached
    return cached


def _in_year(start: np.ndarray, end: np.ndarray, first: int, last: int) -> np.ndarray:
    """Rows open at any time between days ``first`` and ``last`` (end ``_OPEN`` = open)."""
    return (start <= last) & (end >= first)


def extract_return(council: SyntheticCouncil, year: int) -> dict[str, pd.DataFrame]:
    """The tables of the ``year`` return of ``council``, keyed by table name.

    Parameters
    ----------
    council : SyntheticCouncil
        The true history (:func:`cpanalysis.synthetic.simulate_council`).
    year : int
        Collection year (2025 = 2024-25).

    Returns
    -------
    dict[str, DataFrame]
        ``header, episodes, uasc, reviews, ad1, placed_adoption, prev_perm, oc2, oc3,
        missing`` and, from 2023-24, ``sw_episodes``; every cell a string.
    """
    data = _prepared(council)
    first = day(year - 1, 4, 1)
    last = day(year, 3, 31)
    kids = data.kids
    out: dict[str, pd.DataFrame] = {}

    ep = data.episodes.take(_in_year(data.episodes["DECOM"], data.episodes["DEC"], first, last))
    open_ = ep["DEC"] > last
    blank = np.full(len(open_), "", dtype=object)
    place = _place(ep["PLACE"], year)
    # semi-independent living (H5) has an Ofsted URN only from the 2023-24 return (DfE 222)
    urn = np.where((place == "H5") & (year <= 2023), blank, ep["URN"])
    out["episodes"] = _frame(
        "episodes",
        year,
        {
            "CHILD": ep["CHILD"],
            "DECOM": ep["DECOM:text"],
            "RNE": ep["RNE"],
            "LS": ep["LS"],
            "CIN": ep["CIN"],
            "PLACE": place,
            "PLACE_PROVIDER": ep["PLACE_PROVIDER"],
            "DEC": np.where(open_, blank, ep["DEC:text"]),
            "REC": np.where(open_, blank, _rec(ep["REC"], year)),
            "REASON_PLACE_CHANGE": np.where(open_, blank, ep["REASON_PLACE_CHANGE"]),
            "HOME_POST": ep["HOME_POST"],
            "PL_POST": ep["PL_POST"],
            "URN": urn,
        },
    )
    in_care = np.zeros(len(data.ids), dtype=bool)
    in_care[ep["child"]] = True
    # looked after other than on short breaks (V3/V4): the DfE asks these girls' MOTHER
    not_breaks = np.zeros(len(data.ids), dtype=bool)
    not_breaks[ep["child"][~np.isin(ep["LS"], ["V3", "V4"])]] = True
    periods_in_year = np.unique(ep["PERIOD"])

    cl = data.care_leavers.take(data.care_leavers["YEAR"] == year)
    cl = {c: v[np.argsort(cl["CHILD"], kind="stable")] for c, v in cl.items()}
    out["oc3"] = _frame(
        "oc3",
        year,
        {
            "CHILD": cl["CHILD"],
            "DOB": cl["DOB:text"],
            "IN_TOUCH": cl["IN_TOUCH"],
            "ACTIV": _activ(cl["ACTIV"], year),
            "ACCOM": cl["ACCOM"],
        },
    )

    in_header = in_care.copy()
    in_header[cl["child"]] = True
    rows = np.flatnonzero(in_header)
    rows = rows[np.argsort(data.ids[rows], kind="stable")]
    children = kids.take(rows)
    age = (last - children["DOB"]) / 365.25
    female = children["SEX"] == "F"
    has_baby = (children["MC_DOB"] != _NEVER) & (children["MC_DOB"] <= last)
    # every girl looked after in the year has MOTHER; care leavers not looked after this
    # year and boys have it blank (DfE rules 393, 165, 607, 628)
    asked = female & not_breaks[rows]
    mother = np.where(asked, np.where(has_baby, "1", "0"), "").astype(object)
    upn = np.where(children["UASC"], "UN2", np.where(age < 4, "UN1", children["UPN"]))
    out["header"] = _frame(
        "header",
        year,
        {
            "CHILD": children["CHILD"],
            "SEX": _sex(children["SEX"], year),
            "DOB": children["DOB:text"],
            "ETHNIC": children["ETHNIC"],
            "UPN": upn.astype(object),
            "MOTHER": mother,
            "MC_DOB": np.where(mother == "1", children["MC_DOB:text"], ""),
        },
    )

    # UASC status ceases at 18: the date is given from the first return (as the DfE's rules
    # 104 and 205B expect), and the child is listed until the year of their 18th birthday
    uasc = rows[children["UASC"].astype(bool)]
    uasc = uasc[data.eighteen[uasc] >= first]
    duc = data.eighteen_text[uasc]
    out["uasc"] = _frame(
        "uasc",
        year,
        {
            "CHILD": kids["CHILD"][uasc],
            "SEX": _sex(kids["SEX"][uasc], year),
            "DOB": kids["DOB:text"][uasc],
            "DUC": duc.astype(object),
        },
    )

    rv = data.reviews
    rv = rv.take((rv["REVIEW"] >= first) & (rv["REVIEW"] <= last))
    out["reviews"] = _frame(
        "reviews",
        year,
        {
            "CHILD": rv["CHILD"],
            "DOB": rv["DOB:text"],
            "REVIEW": rv["REVIEW:text"],
            "REVIEW_CODE": rv["REVIEW_CODE"],
        },
    )

    ad = data.adoptions
    adopted = ad.take((ad["ADOPTED"] >= first) & (ad["ADOPTED"] <= last))
    out["ad1"] = _frame(
        "ad1",
        year,
        {
            "CHILD": adopted["CHILD"],
            "DOB": adopted["DOB:text"],
            "DATE_INT": adopted["DECISION:text"],
            "DATE_MATCH": adopted["MATCH:text"],
            "FOSTER_CARE": adopted["FOSTER_CARE"],
            "NB_ADOPTR": adopted["NB_ADOPTR"],
            "SEX_ADOPTR": adopted["SEX_ADOPTR"],
            "LS_ADOPTR": adopted["LS_ADOPTR"],
        },
    )

    plans = np.isin(ad["PERIOD"], periods_in_year) & (ad["DECISION"] <= last)
    plans = ad.take(plans & (ad["REVERSED"] >= first))
    ceased = plans["REVERSED"] <= last
    out["placed_adoption"] = _frame(
        "placed_adoption",
        year,
        {
            "CHILD": plans["CHILD"],
            "DOB": plans["DOB:text"],
            "DATE_PLACED": plans["DECISION:text"],
            "DATE_PLACED_CEASED": np.where(ceased, plans["REVERSED:text"], ""),
            "REASON_PLACED_CEASED": np.where(ceased, plans["REASON_CEASED"], ""),
        },
    )

    # previous permanence is returned for the children who start to be looked after in the
    # year (DfE rules 630 and 634)
    starters = np.zeros(len(data.ids), dtype=bool)
    starters[ep["child"][(ep["RNE"] == "S") & (ep["DECOM"] >= first)]] = True
    pp = data.prev_perm
    pp = pp.take(starters[pp["child"]])
    out["prev_perm"] = _frame(
        "prev_perm",
        year,
        {c: pp[c] for c in ("CHILD", "PREV_PERM", "LA_PERM", "DATE_PERM")}
        | {"DOB": pp["DOB:text"]},
    )

    hl = data.health.take(data.health["YEAR"] == year)
    columns = {c: hl[c] for c in data.health_columns}
    columns["DOB"] = hl["DOB:text"]
    out["oc2"] = _frame("oc2", year, columns)

    ms = data.missing
    ms = ms.take(_in_year(ms["MIS_START"], ms["MIS_END"], first, last))
    out["missing"] = _frame(
        "missing",
        year,
        {
            "CHILD": ms["CHILD"],
            "DOB": ms["DOB:text"],
            "MISSING": ms["MISSING"],
            "MIS_START": ms["MIS_START:text"],
            "MIS_END": np.where(ms["MIS_END"] <= last, ms["MIS_END:text"], ""),
        },
    )

    if "sw_episodes" in table_specs(year):
        sw = data.social_workers
        sw = sw.take(_in_year(sw["SW_DECOM"], sw["SW_DEC"], first, last))
        closed = sw["SW_DEC"] <= last
        out["sw_episodes"] = _frame(
            "sw_episodes",
            year,
            {
                "CHILD": sw["CHILD"],
                "DOB": sw["DOB:text"],
                "SW_ID": sw["SW_ID"],
                "SW_DECOM": sw["SW_DECOM:text"],
                "SW_DEC": np.where(closed, sw["SW_DEC:text"], ""),
                "SW_REASON": sw["SW_REASON"],
            },
        )
    return {key: out[key] for key in FILE_NAMES if key in out}
