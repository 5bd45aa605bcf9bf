"""What the DfE's rules say about the returns, as a table that names no child.

The runner (:mod:`cpanalysis.validation.runner`) hands back counts by rule and the positions
of flagged lines; this module turns them into the summary ``cpanalysis validate`` writes and
the Data quality page shows: one row per collection year and rule, with the DfE's message, a
plain-English reading, flags, children flagged, the tables and columns concerned and the
rows of the council's own files. Nothing in it can identify a child: the runner never sends
an ID, and only the counts, codes, file names and row numbers are written.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from cpanalysis.schema import year_label

__all__ = [
    "KNOWN_FAULTS",
    "SUMMARY_COLUMNS",
    "ValidationReport",
    "YearResult",
    "plain_english",
]

#: Columns of the summary CSV, in order.
SUMMARY_COLUMNS = [
    "collection_year",
    "rule",
    "plain_english",
    "description",
    "flags",
    "children",
    "tables",
    "columns",
    "rows",
    "flags_validator_wrong",
    "validator_wrong_because",
]

#: Rules for which csc-validator-be-903 0.1.17 is known to be wrong, and why. Their flags
#: that the fault explains are counted apart (``flags_validator_wrong``), never hidden.
KNOWN_FAULTS: dict[str, str] = {
    "202": (
        "In 2024-25 the DfE re-coded sex from 1/2 to M/F (U added). Rule 202 compares this "
        "year's code with last year's as text, so a child recorded 2 (female) in the 2023-24 "
        "return and F in 2024-25 is flagged as a change. The 2023-24 rules accept only 1/2 "
        "and the 2024-25 rules only M/F/U, so a council cannot avoid it. A flag where last "
        "year's code, re-coded, equals this year's is the validator's mistake; a real change "
        "still counts."
    ),
    "146": (
        "The 2024-25 rules list registered supported accommodation as lower-case 'k3', but "
        "the validator upper-cases every cell it reads, so every valid K3 placement is "
        "flagged. Flags on K3 placements are the validator's mistake (fixed in its 2025-26 "
        "rules)."
    ),
    "1001": (
        "The rule sees only this year's and last year's episodes. A care leaver of 19 to 21 "
        "left care two or more years ago, so the care that makes them a care leaver is in "
        "earlier returns. The rule is run again with every earlier return held; flags that "
        "go away are the validator's mistake. It also means to leave out young people aged "
        "20 or over (too long ago to check) but flags every one of them instead, and it "
        "drops short-break episodes by row label after stacking two years whose labels "
        "overlap, which can drop another young person's care."
    ),
    "1002": (
        "As 1001: 'no previous episodes of care' means none in this year's or last year's "
        "return. The rule is run again with every earlier return held; flags that go away "
        "are the validator's mistake."
    ),
    "SW12STG2": (
        "The rule compares each episode that starts or ends a period of care with every "
        "social worker episode of the child, so a child who left care and came back is "
        "flagged for the other period's social workers. Flags of children with two periods "
        "of care are the validator's mistake."
    ),
    "SW17STG2": (
        "A social worker episode must be open at 31 March for a child looked after on 31 "
        "March. The validator also flags children who left care during the year, whose last "
        "social worker episode rightly ended; those flags are its mistake."
    ),
    "SW11bSTG2": (
        "As SW17STG2: a social worker episode ending in the last days of March with none "
        "after it is flagged even when the child left care then; those flags are the "
        "validator's mistake."
    ),
    "241": (
        "The rule needs Ofsted's lists of providers and their premises, which are not part of "
        "the return. Without them the validator compares the placement's council with the "
        "council itself, so every supported accommodation (K3) placement outside the "
        "council's area is flagged."
    ),
    "218": (
        "The 2025-26 rule asks for an Ofsted URN on every placement it does not exempt, "
        "short breaks (V3/V4) included, while rule 214 says a short break must have none, so "
        "one of the two fires on every short break. Flags of 218 on short breaks are the "
        "validator's mistake."
    ),
    "231": (
        "The rule reads a column (UASC_STATUS) the validator never creates, so it cannot run "
        "on any return; it is left out."
    ),
    "233": (
        "The rule reads a column (DATE_EPISODE_CEASED) the validator never creates, so it "
        "cannot run on any return; it is left out."
    ),
}

#: Why a flag is wrong when the rule does not raise it on its own (any rule).
ORDER_FAULT = (
    "The validator runs every rule on the same tables and some rules change them (one fills "
    "a blank end date with 31 March), so a later rule can flag what is not wrong in the "
    "return. Each rule that fires is also run by itself on the return as read; its flags "
    "that do not come back then are the validator's mistake."
)

#: Plain-English readings of rules, where the DfE's message needs one.
_PLAIN: dict[str, str] = {
    "168": "A UPN must be a letter and 12 more characters (or UN1 to UN5 when unknown).",
    "202": "The child's sex differs from last year's return.",
    "634": "Previous permanence is recorded for a child who did not start care this year.",
    "1001": "Care leaver details for a young person whose care history does not qualify.",
    "1002": "Care leaver details for a young person with no earlier episode of care.",
    "393": "Whether a looked-after girl aged 12 or over is a mother is not recorded.",
    "165": "The mother field holds something other than 0 or 1, or is filled for a boy.",
    "607": "Whether a girl who left care this year is a mother is not recorded.",
    "628": "Motherhood recorded for a care leaver who was not looked after this year.",
    "191": "Health items missing for a child looked after for 12 months or more.",
    "182": "Health items given for a child who has not been looked after for 12 months.",
    "547": "Health checks partly recorded: either all of them or none.",
    "188": "A strengths and difficulties (SDQ) score for a child under 4.",
    "104": "The date UASC status ceased is not a valid date.",
    "205B": "UASC both years, but the date UASC status ceased differs between the years.",
    "633": "The council where the previous permanence order was made is not a valid code.",
    "632": "The date of the previous permanence order is not valid.",
    "630": "Previous permanence is missing for a child who started care this year.",
    "146": "The placement type is not a code of this year's list.",
    "179": "The placement location (in or out of the council's area) is not valid.",
    "169": "The council of the placement is missing: the placement postcode is not known.",
    "392a": "No distance from home to placement: a postcode is missing or unknown.",
    "392b": "No home or placement postcode for a looked-after child.",
    "1015": "Own-provision placement (not fostering or adoption) outside the council's area.",
    "SW01bSTG1": "A social worker episode is incomplete.",
    "SW03STG1": "A social worker episode is incomplete.",
    "SW13STG1": "The reason for a change of social worker is missing or not valid.",
    "SW17STG2": "No social worker episode is open on 31 March.",
    "SW11bSTG2": "A social worker episode ended in the last days of March with none after it.",
    "SW09STG2": "A social worker episode lasted less than 3 days.",
    "SW12STG2": "Social worker episodes do not cover the child's episodes of care.",
    "241": "Supported accommodation (K3) outside the council's area.",
    "243": "An Ofsted URN for a placement outside England.",
    "378": "Placed with parents while accommodated under section 20 (V2).",
    "553": "Placement order, but no decision that the child should be placed for adoption.",
    "557": "Left care, not adopted, and the adoption decision's end is not recorded.",
    "624": "The date of birth of the mother's child differs from last year's.",
    "214": "Placement postcode or URN given for a short break (V3/V4).",
    "218": "No Ofsted URN for a placement that needs one.",
    "575": "A missing incident's placement does not match the child's episodes.",
    "577": "A missing incident open at the end of a period of care, or outside it.",
    "398": "Postcodes given for a short break (V3/V4).",
    "420": "Council of placement given for a short break (V3/V4).",
    "3001": "A 17-year-old care leaver recorded as living with former foster carers.",
}


def plain_english(code: str, description: str) -> str:
    """A reading of rule ``code`` for a committee member (the DfE's message if none)."""
    return _PLAIN.get(str(code), " ".join(str(description).split()))


def _because(rule: Mapping[str, Any]) -> str:
    """Why the validator's flags on this rule are wrong ("" when none are)."""
    if not rule.get("flags_validator_wrong"):
        return ""
    reasons = [KNOWN_FAULTS[rule["code"]]] if rule["code"] in KNOWN_FAULTS else []
    if rule.get("wrong_because") == "order":
        reasons.append(ORDER_FAULT)
    return " ".join(reasons)


def _rows_text(rows: Mapping[str, list[tuple[str, int]]], limit: int = 8) -> str:
    """``"2024-25/header.csv rows 2, 5 and 3 more"`` per file, ``; ``-separated."""
    parts = []
    for source, numbers in rows.items():
        shown = ", ".join(str(n) for n in numbers[:limit])
        more = f" and {len(numbers) - limit} more" if len(numbers) > limit else ""
        parts.append(f"{source} row{'s' if len(numbers) > 1 else ''} {shown}{more}")
    return "; ".join(parts)


@dataclass
class YearResult:
    """The validator's answer for one collection year, with rows mapped to the council's files.

    Attributes
    ----------
    year : int
        Collection year.
    previous_year : int or None
        The year checked against (its return was there), else None.
    answer : dict
        The runner's JSON (counts, positions; no identifier).
    row_sources : dict
        Validator table name (``Header``, ``Header_last``...) -> ``(file, row)`` per line.
    """

    year: int
    previous_year: int | None
    answer: dict[str, Any]
    row_sources: dict[str, list[tuple[str, int]]] = field(default_factory=dict)

    @property
    def children_in_header(self) -> int:
        return int(self.answer.get("children_in_header", 0))

    @property
    def children_flagged(self) -> int:
        return int(self.answer.get("children_flagged", 0))

    @property
    def flagged_per_100(self) -> float:
        """Children flagged by any rule per 100 children in the header."""
        n = self.children_in_header
        return round(100 * self.children_flagged / n, 2) if n else 0.0

    @property
    def children_flagged_as_is(self) -> int:
        """Children flagged by the validator as it stands, its known faults included."""
        return int(self.answer.get("children_flagged_with_validator_faults", 0))

    @property
    def rules_firing(self) -> list[str]:
        """Codes of the rules with a flag the validator is not known to be wrong about."""
        return [r["code"] for r in self.answer.get("rules", []) if r.get("flags", 0) > 0]

    def rows(self) -> list[dict[str, Any]]:
        """One summary row per rule that flagged anything (real or a known fault)."""
        out = []
        for rule in self.answer.get("rules", []):
            by_file: dict[str, list[int]] = {}
            for table, info in rule.get("tables", {}).items():
                sources = self.row_sources.get(table, [])
                for position in info.get("rows", []):
                    if 0 <= position < len(sources):
                        source, row = sources[position]
                        by_file.setdefault(source, []).append(int(row))
            out.append(
                {
                    "collection_year": year_label(self.year),
                    "rule": str(rule["code"]),
                    "plain_english": plain_english(rule["code"], rule.get("description", "")),
                    "description": " ".join(str(rule.get("description", "")).split()),
                    "flags": int(rule.get("flags", 0)),
                    "children": int(rule.get("children", 0)),
                    "tables": ", ".join(sorted(rule.get("tables", {}))),
                    "columns": ", ".join(rule.get("fields", [])),
                    "rows": _rows_text({k: sorted(v) for k, v in by_file.items()}),
                    "flags_validator_wrong": int(rule.get("flags_validator_wrong", 0)),
                    "validator_wrong_because": _because(rule),
                }
            )
        return out

    def totals(self) -> dict[str, Any]:
        """The year's headline figures (no identifier)."""
        return {
            "collection_year": year_label(self.year),
            "previous_year": year_label(self.previous_year) if self.previous_year else None,
            "ruleset": self.answer.get("ruleset"),
            "rules_run": self.answer.get("rules_run"),
            "rules_failed": self.answer.get("rules_failed", []),
            "children_in_header": self.children_in_header,
            "children_flagged": self.children_flagged,
            "flagged_per_100": self.flagged_per_100,
            "rules_firing": self.rules_firing,
            "children_flagged_as_is": self.children_flagged_as_is,
            "rules_firing_as_is": [r["code"] for r in self.answer.get("rules", [])],
            "local_authority": self.answer.get("local_authority"),
        }


@dataclass
class ValidationReport:
    """The DfE rules' findings on every year held, or why there are none.

    Attributes
    ----------
    years : list of YearResult
        Oldest first.
    unavailable : str or None
        One line saying why the validator did not run (no environment, no network).
    validator : str
        ``"csc-validator-be-903 0.1.17"``.
    skipped_years : list of int
        Years held for which the validator has no rules (before 2022-23).
    """

    years: list[YearResult] = field(default_factory=list)
    unavailable: str | None = None
    validator: str = ""
    skipped_years: list[int] = field(default_factory=list)

    @property
    def latest(self) -> YearResult | None:
        return self.years[-1] if self.years else None

    def to_frame(self) -> pd.DataFrame:
        """Every year and rule, most flags first within a year (latest year first)."""
        rows = [row for result in reversed(self.years) for row in result.rows()]
        frame = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
        if frame.empty:
            return frame
        order = {year_label(r.year): i for i, r in enumerate(reversed(self.years))}
        frame["_year"] = frame["collection_year"].map(order)
        frame = frame.sort_values(
            ["_year", "flags", "flags_validator_wrong", "rule"],
            ascending=[True, False, False, True],
            kind="stable",
        )
        return frame.drop(columns="_year").reset_index(drop=True)

    def to_json(self) -> dict[str, Any]:
        """The summary as JSON: totals per year, rules, known faults."""
        return {
            "validator": self.validator,
            "unavailable": self.unavailable,
            "skipped_years": [year_label(y) for y in self.skipped_years],
            "years": [r.totals() for r in self.years],
            "rules": self.to_frame().to_dict("records"),
            "known_faults": [{"rule": k, "reason": v} for k, v in KNOWN_FAULTS.items()]
            + [{"rule": "any", "reason": ORDER_FAULT}],
        }

    def write(self, out_dir: Path) -> list[Path]:
        """Write ``validation_summary.csv`` and ``validation_summary.json`` into ``out_dir``."""
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        csv_path = out_dir / "validation_summary.csv"
        json_path = out_dir / "validation_summary.json"
        # a byte-order mark, as every published CSV: Excel then reads it as UTF-8
        self.to_frame().to_csv(csv_path, index=False, encoding="utf-8-sig", lineterminator="\n")
        json_path.write_text(
            json.dumps(self.to_json(), indent=1, sort_keys=True) + "\n", encoding="utf-8"
        )
        return [csv_path, json_path]

    def summary(self) -> str:
        """A few lines for the command line."""
        if self.unavailable:
            return f"DfE validator not run: {self.unavailable}"
        lines = []
        for r in reversed(self.years):
            prev = f" (checked against {year_label(r.previous_year)})" if r.previous_year else ""
            lines.append(
                f"{year_label(r.year)}{prev}: {r.children_flagged} of {r.children_in_header} "
                f"children flagged ({r.flagged_per_100:g} per 100), "
                f"{len(r.rules_firing)} rules fire"
            )
        if self.skipped_years:
            span = ", ".join(year_label(y) for y in self.skipped_years)
            lines.append(f"no DfE rules in {self.validator or 'the validator'} for {span}")
        return "\n".join(lines) or "no returns the DfE rules cover"
