"""Benchmark ``clean_returns`` (read, clean, merge, repair, de-identify, write) on synthetic data.

Not a test: timings depend on the machine. It prints the seconds taken, the peak memory of
the process, and the ratio to the floor any pipeline pays, ``pandas.read_csv`` of the same
files as strings. The synthetic returns are generated in a separate process (``cpanalysis
demo``) so that the peak memory is the cleaning's own.

    python benchmarks/bench_clean.py                      # 4 councils x 500 children, 10 years
    python benchmarks/bench_clean.py --councils 40 --size 1000   # nearer a region's size
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from cpanalysis.config import Config
from cpanalysis.pipeline import clean_returns


def _generate(raw: Path, councils: int, size: int, first_year: int, last_year: int) -> float:
    start = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "cpanalysis.cli",
            "demo",
            str(raw),
            "--councils",
            str(councils),
            "--size",
            str(size),
            "--first-year",
            str(first_year),
            "--last-year",
            str(last_year),
        ],
        check=True,
    )
    return time.perf_counter() - start


def _bare_read(raw: Path) -> tuple[float, int]:
    """Seconds to read every CSV as strings with pandas, and the episodes rows read."""
    start = time.perf_counter()
    episodes = 0
    for path in sorted(raw.rglob("*.csv")):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        if path.stem.lower().startswith("episodes"):
            episodes += len(frame)
    return time.perf_counter() - start, episodes


def main(argv: list[str] | None = None) -> int:
    """Generate, then time the bare read and ``clean_returns``; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--councils", type=int, default=4)
    parser.add_argument("--size", type=int, default=500)
    parser.add_argument("--first-year", type=int, default=2017)
    parser.add_argument("--last-year", type=int, default=2026)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench_clean_") as tmp:
        root = Path(tmp)
        raw = root / "raw"
        gen = _generate(raw, args.councils, args.size, args.first_year, args.last_year)
        bare, episode_rows = _bare_read(raw)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start = time.perf_counter()
        result = clean_returns(raw, root / "processed", Config(root=root), is_demo=True)
        seconds = time.perf_counter() - start
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        episodes_kept = len(result.tables.get("episodes", ()))
        print(
            f"councils x size x years : {args.councils} x {args.size} x "
            f"{args.last_year - args.first_year + 1} (generated in {gen:.1f} s)"
        )
        print(f"episode rows read       : {episode_rows:,} (kept after merge: {episodes_kept:,})")
        print(f"all rows read           : {int(result.report.summary()['rows_read'].sum()):,}")
        print(f"pandas.read_csv (str)   : {bare:.2f} s")
        print(f"clean_returns           : {seconds:.2f} s  ({seconds / bare:.1f} x read_csv)")
        print(f"episode rows per second : {episode_rows / seconds:,.0f}")
        before = rss_before / 1024
        print(f"peak memory             : {peak_mb:,.0f} MB (before cleaning {before:,.0f} MB)")
        target = 1_500_000 / (episode_rows / seconds)
        print(f"1.5M episode rows at this rate: about {target:.0f} s (target <= 60 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
