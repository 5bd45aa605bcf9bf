"""A synthetic council's yearly returns: what the council sends the DfE each year.

Each collection year's extract holds every episode open at any time in the year; an episode
still open on 31 March has blank ``DEC`` and ``REC`` and comes back, closed if it closed, in
the next year's return. Codes are those valid in that year
(:func:`cpanalysis.schema.code_list`): sex ``1``/``2`` until 2023-24 and ``M``/``F`` after,
``H5`` becomes ``K3`` from 2024-25, ``Z1`` becomes ``Z14`` from 2025-26, special
guardianship ``E45``-``E48`` are ``E43``/``E44`` before 2018-19 and apprenticeships
``F4``/``F5``/``P4``/``P5`` are ``F3``/``P3`` before 2021-22.

Every table is a DataFrame of strings (``""`` for blank), columns in the DfE's order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cpanalysis.schema import table_specs
from cpanalysis.synthetic.dates import add_years
from cpanalysis.synthetic.records import as_days
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


def _dmy(values) -> np.ndarray:
    """Datetimes as ``dd/mm/yyyy`` strings, ``""`` for NaT."""
    s = pd.Series(pd.to_datetime(pd.Series(values).to_numpy()))
    return s.dt.strftime("%d/%m/%Y").fillna("").to_numpy(dtype=object)


def _place(codes: pd.Series, year: int) -> pd.Series:
    supported = "K3" if year >= 2025 else "H5"
    other = "Z14" if year >= 2026 else "Z1"
    return codes.replace({"SUPP": supported, "Z1": other})


def _rec(codes: pd.Series, year: int) -> pd.Series:
    if year >= 2019:
        return codes
    return codes.replace({"E45": "E43", "E46": "E43", "E47": "E44", "E48": "E44"})


def _activ(codes: pd.Series, year: int) -> pd.Series:
    if year >= 2022:
        return codes
    return codes.replace({"F4": "F3", "F5": "F3", "P4": "P3", "P5": "P3"})


def _sex(male: pd.Series, year: int) -> pd.Series:
    if year >= 2025:
        return male
    return male.replace({"M": "1", "F": "2"})


def _in_year(start: pd.Series, end: pd.Series, first: pd.Timestamp, last: pd.Timestamp):
    """Rows open at any time between ``first`` and ``last`` (``end`` NaT = still open)."""
    return (start <= last) & (end.isna() | (end >= first))


def _frame(table: str, year: int, columns: dict) -> pd.DataFrame:
    """A table in the DfE's column order, every cell a string, rows sorted by its key."""
    spec = table_specs(year)[table]
    n = len(next(iter(columns.values()))) if columns else 0
    out = pd.DataFrame({c: columns.get(c, np.full(n, "", dtype=object)) for c in spec.column_names})
    out = out.astype(object).fillna("").astype(str)
    key = list(spec.unique_key)
    dates = [c for c in key if spec.columns[c].type == "date"]
    order = out[key].copy()
    for c in dates:
        order[c] = pd.to_datetime(order[c], format="%d/%m/%Y")
    index = order.sort_values(key, kind="stable").index
    return out.loc[index].reset_index(drop=True)


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
    first = pd.Timestamp(year - 1, 4, 1)
    last = pd.Timestamp(year, 3, 31)
    kids = council.children.set_index("CHILD")
    dob = kids["DOB"]
    out: dict[str, pd.DataFrame] = {}

    ep = council.episodes
    ep = ep.loc[_in_year(ep["DECOM"], ep["DEC"], first, last)].copy()
    open_ = ep["DEC"].isna() | (ep["DEC"] > last)
    ep.loc[open_, "DEC"] = pd.NaT
    ep.loc[open_, ["REC", "REASON_PLACE_CHANGE"]] = ""
    ep = ep.sort_values(["CHILD", "DECOM"], kind="stable")
    out["episodes"] = _frame(
        "episodes",
        year,
        {
            "CHILD": ep["CHILD"].to_numpy(),
            "DECOM": _dmy(ep["DECOM"]),
            "RNE": ep["RNE"].to_numpy(),
            "LS": ep["LS"].to_numpy(),
            "CIN": ep["CIN"].to_numpy(),
            "PLACE": _place(ep["PLACE"], year).to_numpy(),
            "PLACE_PROVIDER": ep["PLACE_PROVIDER"].to_numpy(),
            "DEC": _dmy(ep["DEC"]),
            "REC": _rec(ep["REC"], year).to_numpy(),
            "REASON_PLACE_CHANGE": ep["REASON_PLACE_CHANGE"].to_numpy(),
            "HOME_POST": ep["HOME_POST"].to_numpy(),
            "PL_POST": ep["PL_POST"].to_numpy(),
            "URN": ep["URN"].to_numpy(),
        },
    )
    in_care = pd.Index(ep["CHILD"].unique())
    periods_in_year = pd.Index(ep["PERIOD"].unique())

    cl = council.care_leavers
    cl = cl.loc[cl["YEAR"] == year].sort_values("CHILD", kind="stable")
    out["oc3"] = _frame(
        "oc3",
        year,
        {
            "CHILD": cl["CHILD"].to_numpy(),
            "DOB": _dmy(dob.loc[cl["CHILD"]]),
            "IN_TOUCH": cl["IN_TOUCH"].to_numpy(),
            "ACTIV": _activ(cl["ACTIV"], year).to_numpy(),
            "ACCOM": cl["ACCOM"].to_numpy(),
        },
    )

    children = kids.loc[in_care.union(pd.Index(cl["CHILD"].unique())).sort_values()]
    ids = children.index.to_numpy()
    dob_days = as_days(children["DOB"]).astype("int64")
    march_days = int(as_days(pd.Series([last]))[0])
    age = (march_days - dob_days) / 365.25
    female = children["SEX"].to_numpy() == "F"
    mc = children["MC_DOB"]
    mother = np.where(
        female & (age >= 12), np.where(mc.notna() & (mc <= last), "1", "0"), ""
    ).astype(object)
    upn = np.where(
        children["UASC"].to_numpy(), "UN2", np.where(age < 4, "UN1", children["UPN"].to_numpy())
    )
    out["header"] = _frame(
        "header",
        year,
        {
            "CHILD": ids,
            "SEX": _sex(children["SEX"], year).to_numpy(),
            "DOB": _dmy(children["DOB"]),
            "ETHNIC": children["ETHNIC"].to_numpy(),
            "UPN": upn,
            "MOTHER": mother,
            "MC_DOB": np.where(mother == "1", _dmy(mc), ""),
        },
    )

    uasc = children.loc[children["UASC"]]
    eighteen = add_years(as_days(uasc["DOB"]).astype("int64"), 18)
    duc = pd.Series(pd.to_datetime(eighteen, unit="D"))
    duc = duc.where(duc <= last)
    out["uasc"] = _frame(
        "uasc",
        year,
        {
            "CHILD": uasc.index.to_numpy(),
            "SEX": _sex(uasc["SEX"], year).to_numpy(),
            "DOB": _dmy(uasc["DOB"]),
            "DUC": _dmy(duc),
        },
    )

    rv = council.reviews
    rv = rv.loc[rv["REVIEW"].between(first, last)]
    out["reviews"] = _frame(
        "reviews",
        year,
        {
            "CHILD": rv["CHILD"].to_numpy(),
            "DOB": _dmy(dob.loc[rv["CHILD"]]),
            "REVIEW": _dmy(rv["REVIEW"]),
            "REVIEW_CODE": rv["REVIEW_CODE"].to_numpy(),
        },
    )

    ad = council.adoptions
    adopted = ad.loc[ad["ADOPTED"].between(first, last)].sort_values("CHILD", kind="stable")
    out["ad1"] = _frame(
        "ad1",
        year,
        {
            "CHILD": adopted["CHILD"].to_numpy(),
            "DOB": _dmy(dob.loc[adopted["CHILD"]]),
            "DATE_INT": _dmy(adopted["DECISION"]),
            "DATE_MATCH": _dmy(adopted["MATCH"]),
            "FOSTER_CARE": adopted["FOSTER_CARE"].astype(str).to_numpy(),
            "NB_ADOPTR": adopted["NB_ADOPTR"].astype(str).to_numpy(),
            "SEX_ADOPTR": adopted["SEX_ADOPTR"].to_numpy(),
            "LS_ADOPTR": adopted["LS_ADOPTR"].to_numpy(),
        },
    )

    plans = ad.loc[ad["PERIOD"].isin(periods_in_year) & (ad["DECISION"] <= last)]
    plans = plans.loc[plans["REVERSED"].isna() | (plans["REVERSED"] >= first)]
    ceased = plans["REVERSED"].where(plans["REVERSED"] <= last)
    out["placed_adoption"] = _frame(
        "placed_adoption",
        year,
        {
            "CHILD": plans["CHILD"].to_numpy(),
            "DOB": _dmy(dob.loc[plans["CHILD"]]),
            "DATE_PLACED": _dmy(plans["DECISION"]),
            "DATE_PLACED_CEASED": _dmy(ceased),
            "REASON_PLACED_CEASED": np.where(ceased.notna(), plans["REASON_CEASED"], ""),
        },
    )

    pp = council.prev_perm
    pp = pp.loc[pp["CHILD"].isin(in_care) & (pp["FIRST_START"] >= pd.Timestamp(2016, 4, 1))]
    pp = pp.sort_values("CHILD", kind="stable")
    out["prev_perm"] = _frame(
        "prev_perm",
        year,
        {
            "CHILD": pp["CHILD"].to_numpy(),
            "DOB": _dmy(dob.loc[pp["CHILD"]]),
            "PREV_PERM": pp["PREV_PERM"].to_numpy(),
            "LA_PERM": pp["LA_PERM"].to_numpy(),
            "DATE_PERM": pp["DATE_PERM"].to_numpy(),
        },
    )

    hl = council.health
    hl = hl.loc[hl["YEAR"] == year].sort_values("CHILD", kind="stable")
    columns = {c: hl[c].to_numpy() for c in hl.columns if c not in ("YEAR",)}
    columns["DOB"] = _dmy(dob.loc[hl["CHILD"]])
    out["oc2"] = _frame("oc2", year, columns)

    ms = council.missing
    ms = ms.loc[_in_year(ms["MIS_START"], ms["MIS_END"], first, last)]
    mis_end = ms["MIS_END"].where(ms["MIS_END"] <= last)
    out["missing"] = _frame(
        "missing",
        year,
        {
            "CHILD": ms["CHILD"].to_numpy(),
            "DOB": _dmy(dob.loc[ms["CHILD"]]),
            "MISSING": ms["MISSING"].to_numpy(),
            "MIS_START": _dmy(ms["MIS_START"]),
            "MIS_END": _dmy(mis_end),
        },
    )

    if "sw_episodes" in table_specs(year):
        sw = council.social_workers
        sw = sw.loc[_in_year(sw["SW_DECOM"], sw["SW_DEC"], first, last)]
        closed = sw["SW_DEC"] <= last
        out["sw_episodes"] = _frame(
            "sw_episodes",
            year,
            {
                "CHILD": sw["CHILD"].to_numpy(),
                "DOB": _dmy(dob.loc[sw["CHILD"]]),
                "SW_ID": sw["SW_ID"].to_numpy(),
                "SW_DECOM": _dmy(sw["SW_DECOM"]),
                "SW_DEC": _dmy(sw["SW_DEC"].where(closed)),
                "SW_REASON": np.where(closed, sw["SW_REASON"], ""),
            },
        )
    return {key: out[key] for key in FILE_NAMES if key in out}
