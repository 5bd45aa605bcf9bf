"""Benchmark: how long the synthetic council takes to write.

Targets (2 cores): one default council (about 500 children looked after, ten collection
years, CSV) in under 20 s; 150 councils in under 10 minutes (councils run in a pool of two
processes). Wall time on a busy machine mostly measures the load; CPU time (workers
included) is the steadier figure. Run ``python benchmarks/bench_demo.py`` (both) or
``--councils 20`` for a shorter national run. Prints the timings and the default council's
headline truth.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

from cpanalysis.synthetic import simulate_council, truth_indicators, write_demo_returns


def _cpu() -> float:
    """CPU seconds of this process and of finished child processes (the pool's workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _timed(label: str, func) -> float:
    start, cpu = time.perf_counter(), _cpu()
    result = func()
    seconds = time.perf_counter() - start
    cpu = _cpu() - cpu
    count = f"  {len(result)} files" if hasattr(result, "__len__") else ""
    print(f"{label:<44} {seconds:8.1f} s wall {cpu:8.1f} s CPU{count}")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--councils", type=int, default=150, help="councils in the national run")
    parser.add_argument("--skip-national", action="store_true", help="only the one council")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        start = time.perf_counter()
        council = simulate_council(size=500, first_year=2017, last_year=2026, seed=903)
        print(f"{'simulate one default council':<44} {time.perf_counter() - start:8.1f} s")
        one = _timed(
            "write one default council (CSV, 10 years)", lambda: write_demo_returns(root / "one")
        )
        _timed("write it as XLSX", lambda: write_demo_returns(root / "xlsx", file_format="xlsx"))
        _timed("write it as XML", lambda: write_demo_returns(root / "xml", file_format="xml"))
        _timed("write it messy (CSV)", lambda: write_demo_returns(root / "messy", messy=True))
        print(f"target for one council: 20 s -> {'ok' if one < 20 else 'TOO SLOW'}")
        for year in (2025, 2026):
            truth = truth_indicators(council, year)
            shown = {k: round(v, 1) for k, v in truth.items() if not k.endswith(("_num", "_den"))}
            print(f"truth {year}: {shown}")
        if not args.skip_national:
            n = args.councils
            seconds = _timed(
                f"write {n} councils (CSV, pool of 2)",
                lambda: write_demo_returns(root / "national", councils=n),
            )
            target = 600 * n / 150
            verdict = "ok" if seconds < target else "TOO SLOW"
            print(f"target for {n} councils: {target:.0f} s -> {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
