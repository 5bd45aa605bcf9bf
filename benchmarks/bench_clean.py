"""Benchmark ``clean_returns`` (read, clean, merge, repair, de-identify, write) on synthetic data.

Not a test: timings depend on the machine. It prints the seconds taken, the peak memory of
the process, and the ratio to the floor any pipeline pays, ``pandas.read_csv`` of the same
files as strings. The synthetic returns are generated in a separate process (``cpanalysis
demo``) so that the peak memory is the cleaning's own.

    python benchmarks/bench_clean.py                      # national size: 63 councils x 1000
                                                          # children x 10 years, ~1.5M episodes
    python benchmarks/bench_clean.py --councils 4 --size 500     # a quick look
    python benchmarks/bench_clean.py --episodes 1500000   # merge/repair/de-identify alone
    python benchmarks/bench_clean.py --stages             # and each step's share
    python benchmarks/bench_clean.py --raw DIR --repeat 3 # returns already made; median of 3
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from cpanalysis.config import Config
from cpanalysis.deidentify import deidentify
from cpanalysis.merge import merge_years, repair_episodes
from cpanalysis.pipeline import clean_returns
from cpanalysis.quality import QualityReport


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
    """CPU seconds to read every CSV as strings with pandas, and the episodes rows read."""
    start = time.process_time()
    episodes = 0
    for path in sorted(raw.rglob("*.csv")):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        if path.stem.lower().startswith("episodes"):
            episodes += len(frame)
    return time.process_time() - start, episodes


#: The steps of ``clean_returns``, as (module, function, label): timed one by one.
_STEPS = [
    ("cpanalysis.readers", "read_returns", "read"),
    ("cpanalysis.cleaning", "clean_tables", "clean"),
    ("cpanalysis.pipeline", "merge_years", "merge years"),
    ("cpanalysis.pipeline", "repair_episodes", "repair episodes"),
    ("cpanalysis.pipeline", "deidentify", "de-identify"),
    ("cpanalysis.pipeline", "conform", "conform types"),
    ("cpanalysis.pipeline", "_write", "write Parquet + report"),
]


def bench_stages(raw: Path, root: Path, bare: float) -> None:
    """CPU seconds of each step of one more ``clean_returns`` run, from the step functions
    wrapped with a timer (the pipeline looks them up at call time)."""
    import importlib

    spent: dict[str, float] = {}
    originals = []
    for module_name, name, label in _STEPS:
        module = importlib.import_module(module_name)
        original = getattr(module, name)
        originals.append((module, name, original))

        def timed(*args, _original=original, _label=label, **kwargs):
            start = time.process_time()
            try:
                return _original(*args, **kwargs)
            finally:
                spent[_label] = spent.get(_label, 0.0) + time.process_time() - start

        setattr(module, name, timed)
    try:
        start = time.process_time()
        clean_returns(raw, root / "processed", Config(root=root), is_demo=True)
        total = time.process_time() - start
    finally:
        for module, name, original in originals:
            setattr(module, name, original)
    for _, _, label in _STEPS:
        seconds = spent.get(label, 0.0)
        print(f"  {label:22s}: {seconds:5.2f} s CPU ({seconds / bare:.1f} x read_csv)")
    rest = total - sum(spent.values())
    print(f"  {'everything else':22s}: {rest:5.2f} s CPU")


def typed_episodes(n_rows: int, years: int = 5, seed: int = 1) -> pd.DataFrame:
    """``n_rows`` cleaned episodes over ``years`` returns, each open one repeated next year.

    The shape ``clean_table`` returns (typed columns, YEAR, LA, _source, _row), made up
    with numpy: about three episodes per child, a few real postcodes, DEC within the year.
    """
    rng = np.random.default_rng(seed)
    child = rng.integers(0, max(n_rows // 3, 1), n_rows)
    decom = pd.Timestamp("2016-04-01") + pd.to_timedelta(
        rng.integers(0, 365 * years, n_rows), unit="D"
    )
    year = np.asarray(decom.year + (decom.month >= 4), dtype=np.int64)
    dec = pd.Series(decom + pd.to_timedelta(rng.integers(1, 400, n_rows), unit="D"))
    year_end = pd.to_datetime(pd.DataFrame({"year": year, "month": 3, "day": 31}))
    dec = dec.where(dec <= year_end.to_numpy())
    postcodes = np.array(["SO14 0AA", "SO15 2JX", "S1 1AA", "M1 1AE", "B1 1AA", None], object)
    frame = pd.DataFrame(
        {
            "CHILD": pd.Series(child.astype(str), dtype="string"),
            "DECOM": decom.to_numpy().astype("datetime64[ns]"),
            "RNE": pd.Categorical(rng.choice(["S", "P", "L", "T"], n_rows)),
            "LS": pd.Categorical(rng.choice(["C1", "C2", "V2"], n_rows)),
            "CIN": pd.Categorical(rng.choice(["N1", "N2"], n_rows)),
            "PLACE": pd.Categorical(rng.choice(["U4", "U6", "K2"], n_rows)),
            "PLACE_PROVIDER": pd.Categorical(rng.choice(["PR1", "PR4"], n_rows)),
            "DEC": dec.to_numpy().astype("datetime64[ns]"),
            "REC": pd.Categorical(np.where(dec.isna(), None, "X1")),
            "REASON_PLACE_CHANGE": pd.Categorical([None] * n_rows, categories=["CARPL"]),
            "HOME_POST": pd.Series(rng.choice(postcodes, n_rows), dtype="string"),
            "PL_POST": pd.Series(rng.choice(postcodes, n_rows), dtype="string"),
            "URN": pd.Series([None] * n_rows, dtype="string"),
            "YEAR": year,
            "LA": pd.Series("999", index=range(n_rows), dtype="string"),
        }
    )
    carried = frame[frame["DEC"].isna()].assign(YEAR=lambda f: f["YEAR"] + 1)
    frame = pd.concat([frame, carried], ignore_index=True)
    frame["_source"] = frame["YEAR"].astype(str) + "/episodes.csv"
    frame["_row"] = frame.groupby("_source").cumcount() + 2
    return frame


def bench_merge(n_rows: int) -> None:
    """CPU seconds of merge_years, repair_episodes and deidentify on ``n_rows`` episodes."""
    frame = typed_episodes(n_rows)
    report = QualityReport()
    for (source, year), g in frame.groupby(["_source", "YEAR"]):
        report.rows_read(source, "episodes", int(year), len(g))
    frames = [g for _, g in frame.groupby("YEAR")]
    t0 = time.process_time()
    merged = merge_years(frames, "episodes", report)
    t1 = time.process_time()
    repaired = repair_episodes(merged, report)
    t2 = time.process_time()
    deidentify("episodes", repaired, b"benchmark")
    t3 = time.process_time()
    print(f"episode rows in returns : {len(frame):,} (kept {len(repaired):,})")
    print(f"merge / repair / deid.  : {t1 - t0:.1f} / {t2 - t1:.1f} / {t3 - t2:.1f} s CPU")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory             : {peak:,.0f} MB")


def main(argv: list[str] | None = None) -> int:
    """Generate, then time the bare read and ``clean_returns``; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--councils", type=int, default=63)
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--first-year", type=int, default=2017)
    parser.add_argument("--last-year", type=int, default=2026)
    parser.add_argument(
        "--episodes",
        type=int,
        default=0,
        help="instead: time merge + repair + de-identify on this many made-up episodes",
    )
    parser.add_argument("--stages", action="store_true", help="also time each step of one more run")
    parser.add_argument(
        "--raw", type=Path, help="time these returns instead of generating new ones"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="time the bare read and clean_returns this many times; report the medians",
    )
    args = parser.parse_args(argv)
    if args.episodes:
        bench_merge(args.episodes)
        return 0

    with tempfile.TemporaryDirectory(prefix="bench_clean_") as tmp:
        root = Path(tmp)
        if args.raw:
            raw, made = args.raw, f"from {args.raw}"
        else:
            raw = root / "raw"
            gen = _generate(raw, args.councils, args.size, args.first_year, args.last_year)
            made = (
                f"{args.councils} x {args.size} x {args.last_year - args.first_year + 1} "
                f"(generated in {gen:.1f} s)"
            )
        bares, walls, cpus = [], [], []
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        for _ in range(max(args.repeat, 1)):
            bare, episode_rows = _bare_read(raw)
            start, cpu_start = time.perf_counter(), time.process_time()
            result = clean_returns(raw, root / "processed", Config(root=root), is_demo=True)
            walls.append(time.perf_counter() - start)
            cpus.append(time.process_time() - cpu_start)
            bares.append(bare)
        bare, seconds, cpu = (float(np.median(x)) for x in (bares, walls, cpus))
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        episodes_kept = len(result.tables.get("episodes", ()))
        print(f"councils x size x years : {made}")
        if args.repeat > 1:
            print(f"runs                    : {args.repeat} (medians below)")
        print(f"episode rows read       : {episode_rows:,} (kept after merge: {episodes_kept:,})")
        print(f"all rows read           : {int(result.report.summary()['rows_read'].sum()):,}")
        print(f"pandas.read_csv (str)   : {bare:.2f} s CPU")
        print(f"clean_returns           : {seconds:.2f} s  ({cpu / bare:.1f} x read_csv, CPU)")
        print(f"clean_returns CPU time  : {cpu:.2f} s (wall time suffers on a shared machine)")
        print(f"episode rows per second : {episode_rows / seconds:,.0f}")
        before = rss_before / 1024
        print(f"peak memory             : {peak_mb:,.0f} MB (before cleaning {before:,.0f} MB)")
        target = 1_500_000 / (episode_rows / min(seconds, cpu))
        print(f"1.5M episode rows at this rate: about {target:.0f} s (target <= 60 s)")
        if args.stages:  # after clean_returns, so its peak memory is its own
            bench_stages(raw, root, bare)
    return 0


if __name__ == "__main__":
    sys.exit(main())
