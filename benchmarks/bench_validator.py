"""Benchmark: the DfE's validation rules on the demo council.

The synthetic council is the default of every command, test and benchmark, so it must look
like a real council's return to the rules the DfE runs on one: at most 1 child flagged per
100 children in the header in the latest two collection years (the issue that added the
validator). This script writes the default demo (and, with ``--messy``, the messy one),
runs the validator (``csc-validator-be-903`` in ``.venv-validator``) on the last two years,
each against the year before, and prints children flagged per 100, the rules that fire and
how long it took. ``--all-years`` checks every year the validator covers; ``--json FILE``
also writes the figures.

Not a test: it needs the validator's environment and ~30 s; the figure is checked by the
``validator``-marked test in ``tests/test_validation.py``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from cpanalysis.schema import year_label
from cpanalysis.synthetic import write_demo_returns
from cpanalysis.validation import validate_returns

ROOT = Path(__file__).resolve().parents[1]


def _report(label: str, raw: Path, years: list[int] | None) -> tuple[dict, object]:
    start = time.perf_counter()
    report = validate_returns(raw, root=ROOT, years=years)
    seconds = time.perf_counter() - start
    if report.unavailable:
        print(f"{label}: validator not run: {report.unavailable}")
        return {"unavailable": report.unavailable}, report
    print(f"{label}: {report.validator}, {seconds:.0f} s")
    out = {}
    for result in reversed(report.years):
        rows = [r for r in result.rows() if r["flags"] > 0]
        rows.sort(key=lambda r: (-r["children"], r["rule"]))
        verdict = "ok" if result.flagged_per_100 <= 1 else "ABOVE 1 PER 100"
        n = result.children_in_header
        as_is = result.children_flagged_as_is
        print(
            f"  {year_label(result.year)}: {result.children_flagged} of "
            f"{n} children flagged = {result.flagged_per_100:g} per "
            f"100 ({verdict}); {len(rows)} rules fire"
        )
        print(
            f"    as the validator stands (its known faults included): {as_is} of {n} = "
            f"{100 * as_is / n if n else 0:.2f} per 100, {len(result.answer['rules'])} rules"
        )
        for r in rows:
            print(f"    {r['rule']:>10} {r['children']:5d} children {r['flags']:5d} flags  "
                  f"{r['plain_english'][:70]}")  # fmt: skip
        wrong = [r for r in result.rows() if r["flags_validator_wrong"]]
        for r in wrong:
            print(f"    {r['rule']:>10} {r['flags_validator_wrong']:5d} flags the validator "
                  "gets wrong (not counted)")  # fmt: skip
        out[year_label(result.year)] = {
            "children_in_header": result.children_in_header,
            "children_flagged": result.children_flagged,
            "flagged_per_100": result.flagged_per_100,
            "rules_firing": {r["rule"]: r["children"] for r in rows},
            "children_flagged_as_is": as_is,
            "rules_firing_as_is": [r["code"] for r in result.answer["rules"]],
            "rules_failed": result.answer.get("rules_failed", []),
        }
    return out, report


def _defects_flagged(raw: Path, report) -> None:
    """For the messy demo: the share of each kind of deliberate cell defect that a rule flags."""
    log = json.loads((raw / "damage_log.json").read_text("utf-8"))
    flagged: set[tuple[str, int]] = set()
    years = set()
    for result in report.years:
        years.add(year_label(result.year))
        for rule in result.answer.get("rules", []):
            for table, info in rule["tables"].items():
                if table.endswith("_last"):
                    continue
                sources = result.row_sources.get(table, [])
                flagged |= {sources[i] for i in info["rows"] if i < len(sources)}
    blank_first = {(e["file"]) for e in log if e["defect"] == "blank_leading_row"}
    counts: dict[str, list[int]] = {}
    for e in log:
        if e["row"] is None or e["file"].split("/")[0] not in years:
            continue
        row = e["row"] + 1 + (1 if e["file"] in blank_first else 0)
        if e["defect"] == "duplicate_row":
            row = e["damaged"] + 1 + (1 if e["file"] in blank_first else 0)
        seen = counts.setdefault(e["defect"], [0, 0])
        seen[0] += 1
        seen[1] += (e["file"], row) in flagged
    print("  deliberate defects in rows a rule flags (last two years):")
    for defect, (n, hit) in sorted(counts.items()):
        print(f"    {defect:<20} {hit:5d} of {n:5d} ({100 * hit / n:.0f}%)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messy", action="store_true", help="also the --messy demo")
    parser.add_argument("--all-years", action="store_true", help="every year the rules cover")
    parser.add_argument("--seed", type=int, default=903)
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args(argv)
    figures = {}
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "demo"
        write_demo_returns(raw, seed=args.seed)
        years = None if args.all_years else [2025, 2026]
        figures["demo"], _ = _report("default demo", raw, years)
        if args.messy:
            messy = Path(tmp) / "messy"
            write_demo_returns(messy, seed=args.seed, messy=True)
            label = "messy demo (with its deliberate defects)"
            figures["messy"], report = _report(label, messy, years)
            if report.years:
                _defects_flagged(messy, report)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
