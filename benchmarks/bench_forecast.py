"""Back-test the sufficiency forecast on the demo council and on one of 2,000 children.

For each council: synthetic returns (``cpanalysis demo``, seed 903, 2016-17 to 2025-26)
are written, cleaned like real ones (``cpanalysis clean``), and the stock-and-flow model
is back-tested 12 months ahead at rolling origins (every ``--step`` months, each fitted
only on the records held at its origin) beside a naive "no change" forecast and
exponential smoothing of the total. Printed: the 12-month MAE of the total for the three,
and of each placement group for the model and naive, with the targets of issue 13:

* the model's error on the total at most two thirds of naive's, on both councils;
* no worse than naive for any placement group with 50 or more children.

The synthetic generator's rates are the truth here. ``--oracle`` also prints what the model
scores when it is told the generator's true entry-rate trend (``synthetic.simulate``'s
drift, scaled to the entries counted in its window): how much of the error no estimate of
the entry rate could remove, because next year's entries and stays are random.

Run: ``.venv/bin/python benchmarks/bench_forecast.py [--step 3] [--sizes 500 2000]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from cpanalysis import stock_flow as sf
from cpanalysis.config import Config
from cpanalysis.pipeline import clean_returns
from cpanalysis.processed import load_processed
from cpanalysis.synthetic import write_demo_returns

FIRST, LAST = 2017, 2026
START, END = f"{FIRST - 1}-04-01", f"{LAST}-03-31"


def council(size: int, folder: Path, seed: int = 903):
    """Write and clean the synthetic returns of a council of ``size`` children."""
    raw, processed = folder / f"raw{size}", folder / f"processed{size}"
    write_demo_returns(raw, size=size, first_year=FIRST, last_year=LAST, seed=seed)
    clean_returns(raw, processed, Config(root=folder), is_demo=True)
    return load_processed(processed)


def oracle_error(data, window: int, step: int) -> tuple[float, float]:
    """MAE of the total with the generator's true entry trend, and naive's, same origins."""
    from cpanalysis.synthetic.simulate import _entry_drift

    def drift(months: np.ndarray) -> np.ndarray:
        year, month = 1970 + months // 12, months % 12 + 1
        return _entry_drift(np.where(month >= 4, year + 1, year))

    full = sf.monthly_states(data.episodes, data.header, START, END)
    first, last = int(full["month"].min()), int(full["month"].max())
    model, naive = [], []
    for origin in range(first + window, last - 12 + 1, step):
        seen = full.loc[full["month"] <= origin]
        rates = sf.estimate_rates(seen, origin, window)
        scale = drift(np.arange(origin + 1, origin + 13)).mean()
        scale /= drift(np.arange(origin - window + 1, origin + 1)).mean()
        told = dataclasses.replace(rates, entries=rates.entries * scale)
        projected = sf.project(sf.stock_at(seen, origin), told, 12)[12].sum()
        actual = (full["month"] == origin + 12).sum()
        model.append(abs(projected - actual))
        naive.append(abs((full["month"] == origin).sum() - actual))
    return float(np.mean(model)), float(np.mean(naive))


def report(size: int, data, step: int, window: int, oracle: bool) -> bool:
    """Print one council's figures; True when both targets are met."""
    t0 = time.perf_counter()
    bt = sf.backtest_stock_flow(
        data.episodes, data.header, START, END, window_months=window, origin_step=step
    )
    seconds = time.perf_counter() - t0
    s = bt.summary.set_index("series")
    total = s.loc["Total"]
    ratio = total["mae_stock_flow"] / total["mae_naive"]
    print(
        f"\ncouncil of {size} children looked after at 31 March: {int(total['n_origins'])} "
        f"origins, every {step} months, window {window} months ({seconds:.0f} s)"
    )
    print(
        f"  total ({total['children']:.0f} children): model {total['mae_stock_flow']:.1f}, "
        f"exponential smoothing {total['mae_ets']:.1f}, naive {total['mae_naive']:.1f} "
        f"(model / naive = {ratio:.2f}; target <= 0.67)"
    )
    groups_ok = True
    for group in sf.GROUPS:
        g = s.loc[group]
        big = g["children"] >= 50
        worse = g["mae_stock_flow"] > g["mae_naive"]
        groups_ok &= not (big and worse)
        flag = " <- worse than naive" if big and worse else ""
        print(
            f"  {group:20s} {g['children']:6.0f} children: model {g['mae_stock_flow']:5.1f}, "
            f"naive {g['mae_naive']:5.1f}{flag}"
        )
    if oracle:
        told, naive = oracle_error(data, window, step)
        print(
            f"  told the generator's true entry trend: model {told:.1f} vs naive {naive:.1f} "
            f"(ratio {told / naive:.2f})"
        )
    met = bool(ratio <= 2 / 3) and groups_ok
    print(
        f"  targets met: total {'yes' if ratio <= 2 / 3 else 'NO'}, groups "
        f"{'yes' if groups_ok else 'NO'}"
    )
    return met


def main(argv: list[str] | None = None) -> int:
    """Back-test on each council size; exit 0 whether or not the targets are met."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 2000])
    parser.add_argument("--step", type=int, default=3, help="months between origins")
    parser.add_argument("--window", type=int, default=36, help="estimation window, months")
    parser.add_argument("--oracle", action="store_true", help="also with the true entry trend")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            data = council(size, Path(tmp))
            report(size, data, args.step, args.window, args.oracle)
    return 0


if __name__ == "__main__":
    sys.exit(main())
