"""Benchmark: set-up and refresh as a council analyst meets them, from a fresh clone.

Four figures, each timed separately (targets on 2 cores, issue 14):

* ``install`` — the environment installed from the lock (``make .venv/.installed`` in a fresh
  clone): no target of its own, it is part of the next one;
* ``site`` — ``make site`` in a fresh clone: install, demo returns, cleaning, notebooks,
  render, privacy gate (target: 60 s);
* ``warm`` — ``cpanalysis build`` again in that clone, nothing changed (target: 20 s);
* ``test`` — ``make test`` in a fresh clone with ``../shared`` beside it, as CI runs it
  (target: 150 s).

Each is run ``--repeat`` times (default 3) and the median printed, with the CPU time of the
commands (steadier than wall time on a shared machine) and the load average before and
after, so a reader can tell a slow run from a busy machine. The clone is of this checkout's
``HEAD`` commit (uncommitted changes are not timed). Package caches (uv's, pip's) are left
as they are: on a machine that has installed the project once, the install reads them;
the README says what a first run downloads.

Run ``python benchmarks/bench_setup.py`` (all four, three times) or e.g.
``python benchmarks/bench_setup.py --only warm site --repeat 1``.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STEPS = ("install", "site", "warm", "test")
TARGETS = {"site": 60.0, "warm": 20.0, "test": 150.0}


def _children_cpu() -> float:
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return kids.ru_utime + kids.ru_stime


def _load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def _clone(into: Path, source: Path) -> Path:
    """A fresh clone of ``source``'s HEAD commit at ``into/cpanalysis``, ``../shared`` beside."""
    commit = subprocess.run(
        ["git", "-C", str(source), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    project = into / "cpanalysis"
    subprocess.run(["git", "clone", "--quiet", str(source), str(project)], check=True)
    subprocess.run(["git", "-C", str(project), "checkout", "--quiet", commit], check=True)
    shared = source.parent / "shared"
    if shared.is_dir():
        (into / "shared").symlink_to(shared.resolve())
    return project


def _run(label: str, command: list[str], cwd: Path, log: Path) -> tuple[float, float]:
    """Run a command, its output to ``log``; return (wall seconds, CPU seconds)."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    before, cpu, start = _load(), _children_cpu(), time.perf_counter()
    with log.open("ab") as out:
        done = subprocess.run(command, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, env=env)
    wall, cpu = time.perf_counter() - start, _children_cpu() - cpu
    status = "ok" if done.returncode == 0 else f"FAILED (exit {done.returncode}, see {log})"
    print(
        f"  {label:<8} {wall:7.1f} s wall {cpu:7.1f} s CPU  load {before} -> {_load()}  {status}",
        flush=True,
    )
    if done.returncode != 0:
        raise SystemExit(1)
    return wall, cpu


def _once(
    steps: set[str], scratch: Path, source: Path, log: Path
) -> dict[str, tuple[float, float]]:
    times: dict[str, tuple[float, float]] = {}
    if steps & {"install", "site", "warm"}:
        project = _clone(scratch / "site", source)
        if "install" in steps:
            times["install"] = _run("install", ["make", ".venv/.installed"], project, log)
            shutil.rmtree(project / ".venv")  # make site below installs again, timed with it
        if steps & {"site", "warm"}:
            times["site"] = _run("site", ["make", "site"], project, log)
        if "warm" in steps:
            times["warm"] = _run("warm", [".venv/bin/cpanalysis", "build"], project, log)
        if "site" not in steps:
            times.pop("site", None)
    if "test" in steps:
        project = _clone(scratch / "test", source)
        times["test"] = _run("test", ["make", "test"], project, log)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=STEPS, default=list(STEPS))
    parser.add_argument("--repeat", type=int, default=3, help="runs of each (median shown)")
    parser.add_argument("--source", type=Path, default=ROOT, help="the checkout to clone")
    args = parser.parse_args(argv)
    steps = set(args.only)
    runs: list[dict[str, tuple[float, float]]] = []
    log = args.source.resolve() / "_build" / "bench_setup.log"  # the commands' output
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("", encoding="utf-8")
    print(f"cores {os.cpu_count()}, load average {_load()} (1/5/15 min); output in {log}")
    for n in range(args.repeat):
        print(f"run {n + 1} of {args.repeat}", flush=True)
        with tempfile.TemporaryDirectory(prefix="bench-setup-") as tmp:
            runs.append(_once(steps, Path(tmp), args.source.resolve(), log))
    print(f"median of {len(runs)} run(s):")
    for step in STEPS:
        if step not in steps:
            continue
        wall = statistics.median(r[step][0] for r in runs)
        cpu = statistics.median(r[step][1] for r in runs)
        target = TARGETS.get(step)
        verdict = (
            ""
            if target is None
            else f"  target {target:.0f} s: " + ("ok" if wall <= target else "missed")
        )
        print(f"  {step:<8} {wall:7.1f} s wall {cpu:7.1f} s CPU{verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
