"""The Data quality page's section on the DfE's validation rules.

What an analyst expects to see before the return goes to the DfE: which of the DfE's rules
fire on the latest year, most flags first, in plain English, with counts and a download; and
for which rules the validator itself is known to be wrong, and why. The section is Markdown
with raw-HTML tables (as the rest of the page), made from ``validation_summary.json``, which
holds counts and codes only.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from cpanalysis.escaping import markdown_text
from cpanalysis.publish import html_table
from cpanalysis.validation.summary import SUMMARY_COLUMNS

__all__ = ["PUBLISHED_COLUMNS", "published_summary", "validation_section"]

#: Columns of the site's download: the summary without row numbers (the council's analysts
#: get those from ``cpanalysis validate`` on their own machine).
PUBLISHED_COLUMNS = [column for column in SUMMARY_COLUMNS if column != "rows"]


def _raw(block: str) -> str:
    return f"\n```{{=html}}\n{block}\n```\n"


def _withhold_small(frame: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Children flagged by a rule, 1 to ``threshold``, shown as ``c`` with the rule's flags.

    WHY: a rule's flags describe children (rule 624 flags a looked-after child who is a
    mother), so its count of children is a count of children with a characteristic, and
    is withheld like any other. The rows it flags go too: 1 row flagged would say 1 child.
    The rules' counts do not add up to anything published (a child can break several
    rules), so nothing else needs hiding.
    """
    out = frame.copy()
    children = pd.to_numeric(out["children"], errors="coerce")
    small = children.between(1, threshold).to_numpy(dtype=bool) if threshold > 0 else False
    for column in ("children", "flags"):
        out[column] = out[column].astype(object).mask(small, "c")
    return out


def published_summary(summary: dict[str, Any], threshold: int = 5) -> pd.DataFrame:
    """The rules table for the site's download (no row numbers; small counts as ``c``)."""
    frame = pd.DataFrame(summary.get("rules", []))
    return _withhold_small(frame.reindex(columns=PUBLISHED_COLUMNS), threshold)


def _children(count: int, threshold: int) -> str:
    """A count of children for a sentence: "1 to 5" when it is withheld."""
    return f"1 to {threshold}" if 1 <= count <= threshold else f"{count:,}"


def validation_section(
    summary: dict[str, Any] | None, download: str | None, threshold: int = 5
) -> str:
    """``## The DfE's validation rules``: latest year's findings and the validator's faults.

    Parameters
    ----------
    summary : dict or None
        Content of ``validation_summary.json``; None when validation was not part of the
        build.
    download : str or None
        Link to the published CSV (``downloads/validation_summary.csv``).
    threshold : int
        Counts of 1 to this many children flagged are withheld (``c``, "1 to 5").
    """
    head = (
        "\n## The DfE's validation rules\n\n"
        "Before a council submits its return it runs the DfE's validation rules. These are "
        "the rules of the open validator most councils use (`csc-validator-be-903`), run on "
        "the returns as they were read, before anything was cleaned or de-identified, each "
        "year checked against the year before.\n"
    )
    if summary is None:
        return head + "\nThe DfE's rules were not run in this build.\n"
    if summary.get("unavailable"):
        reason = markdown_text(summary["unavailable"])  # a message: may name a file
        return head + f"\nThe DfE's rules were not run: {reason}.\n"
    years = summary.get("years", [])
    if not years:
        return head + "\nNone of the returns is for a year the DfE's rules cover.\n"
    latest = years[-1]
    label = latest["collection_year"]
    prev = latest.get("previous_year")
    checked = f", checked against {prev}" if prev else ""
    rules = pd.DataFrame(summary.get("rules", []))
    firing = (
        rules[(rules["collection_year"] == label) & (rules["flags"] > 0)]
        if not rules.empty
        else rules
    )
    flagged = int(latest["children_flagged"])
    # the rate per 100 would give a withheld count back (it is count / children * 100)
    rate = f" ({latest['flagged_per_100']:g} per 100)" if not 1 <= flagged <= threshold else ""
    text = head + (
        f"\n**{label}{checked}:** {_children(flagged, threshold)} of "
        f"{latest['children_in_header']:,} children in the return are flagged by at least one "
        f"rule{rate}; {len(firing)} of the "
        f"{latest.get('rules_run') or 'the'} rules fire ({summary.get('validator', '')}).\n"
    )
    as_is = latest.get("children_flagged_as_is")
    if as_is is not None and as_is != latest["children_flagged"]:
        text += (
            f"\nAs the validator stands, {_children(int(as_is), threshold)} children are "
            "flagged by "
            f"{len(latest.get('rules_firing_as_is', []))} rules: the difference is its "
            "known faults, listed below with the reasons, whose flags are not counted.\n"
        )
    if not firing.empty:
        shown = _withhold_small(
            firing[["rule", "plain_english", "flags", "children", "tables", "columns"]], threshold
        )
        shown = shown.rename(
            columns={
                "rule": "Rule",
                "plain_english": "What it means",
                "flags": "Rows flagged",
                "children": "Children",
                "tables": "Tables",
                "columns": "Columns",
            }
        )
        caption = f"DfE rules that fire on the {label} return, most flags first"
        text += _raw(html_table(shown, caption, numeric={"Rows flagged", "Children"}))
    else:
        text += "\nNo rule fires on this return.\n"
    faults = pd.DataFrame(summary.get("known_faults", []))
    if not faults.empty and not rules.empty and "validator_wrong_because" in rules:
        # a rule whose flags came back wrong only because of the order rules run in
        latest_rules = rules[rules["collection_year"] == label]
        order = latest_rules[
            latest_rules["validator_wrong_because"].fillna("").str.contains("run by itself")
            & ~latest_rules["rule"].isin(faults["rule"])
        ]
        generic = faults.loc[faults["rule"] == "any", "reason"]
        extra = pd.DataFrame(
            {"rule": order["rule"], "reason": generic.iloc[0] if len(generic) else ""}
        )
        faults = pd.concat([faults[faults["rule"] != "any"], extra], ignore_index=True)
    if not faults.empty:
        wrong = (
            rules[rules["collection_year"] == label].set_index("rule")["flags_validator_wrong"]
            if not rules.empty
            else pd.Series(dtype="int64")
        )
        faults["This year"] = faults["rule"].map(wrong).fillna(0).astype(int)
        failed = set(latest.get("rules_failed", []))
        faults.loc[faults["rule"].isin(failed), "This year"] = -1
        faults["This year"] = faults["This year"].map(
            lambda n: "could not run" if n < 0 else f"{n:,} rows not counted" if n else "-"
        )
        faults = faults.rename(columns={"rule": "Rule", "reason": "Why the validator is wrong"})
        faults = faults[["Rule", "This year", "Why the validator is wrong"]]
        text += (
            "\n**Rules for which the validator is known to be wrong.** Their flags that the "
            "fault explains are not counted above (a flag the fault does not explain is).\n"
        )
        text += _raw(html_table(faults, "Rules the validator gets wrong, and why"))
    if download:
        text += (
            f"\n[Download every year's findings (CSV)]({download}). The rows of the council's "
            "own files that each rule flags are listed by `cpanalysis validate data/raw` on "
            "the council's machine (they are not published).\n"
        )
    return text
