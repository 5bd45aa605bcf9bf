"""Run every benchmark in this folder, one after another, and print their figures.

Benchmarks are kept out of the test suite on purpose: timings depend on the machine, and a
timed test would fail for reasons that have nothing to do with correctness. Each
``bench_*.py`` here is a script with a ``main()`` that prints what it measured.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    """Run ``bench_*.py`` (or only those named on the command line)."""
    wanted = set(argv)
    for script in sorted(HERE.glob("bench_*.py")):
        if wanted and script.stem not in wanted:
            continue
        print(f"== {script.name}", flush=True)
        # Loaded as a module (not as __main__, whose sys.exit would end this run) and
        # run with its default settings.
        runpy.run_path(str(script), run_name=script.stem)["main"]([])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
