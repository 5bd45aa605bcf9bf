"""Back-test the sufficiency forecast on the demo council and on one of 2,000 children.

For each council: synthetic returns (``cpanalysis demo``, seed 903, 2016-17 to 2025-26)
are written, cleaned like real ones (``cpanalysis clean``), and the stock-and-flow model
is back-tested 12 months ahead at rolling origins (every ``--step`` months, each fitted
only on the records held at its origin) beside a naive "no change" forecast and
exponential smoothing of the total. Printed: the 12-month MAE (and MASE) of the total for
the three, and of each placement group for the model and naive, how often the model's 95%
interval held the actual (``--sims`` futures per origin), and the targets of issue 13:

* the model's error on the total at most two thirds of naive's, on both councils;
* no worse than naive for any placement group with 50 or more children.

**The oracle** (``--pool`` councils; 0 skips it): the best forecast the generator allows.
The synthetic generator's rates are the truth here, so its *expected* stock a year on,
given each child's age, time in care and placement at the origin, can be computed by
simulating the generator itself many times: ``--pool`` other councils of 2,000 children
(seeds 5000, 5001, ...) give, for every such state, the share of children in it who are in
each placement group (or gone) 12 months later, and, for every month end, the children
who will have arrived by then and still be looked after (per child of council size: the
generator's entries are proportional to it). Its error is what no estimate of the rates
can remove, because next year's entries and stays are random. Printed beside it: its
expected error (``sqrt(2 / pi)`` times the standard deviation of a sum of independent
stays and Poisson arrivals) and the floor set by the arrivals alone.

Run: ``nice .venv/bin/python benchmarks/bench_forecast.py [--step 3] [--sizes 500 2000]``
(about 4 CPU-minutes with the defaults).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from cpanalysis import stock_flow as sf
from cpanalysis.config import Config
from cpanalysis.pipeline import clean_returns
from cpanalysis.processed import load_processed
from cpanalysis.synthetic import write_demo_returns
from cpanalysis.synthetic.simulate import simulate_council

FIRST, LAST = 2017, 2026
START, END = f"{FIRST - 1}-04-01", f"{LAST}-03-31"
HORIZON = 12
POOL_SIZE = 2000
_N_GROUPS = len(sf.GROUPS)
_N_KEYS = sf.MAX_AGE + 1, sf.MAX_MONTHS_IN + 1, _N_GROUPS


def council(size: int, folder: Path, seed: int = 903):
    """Write and clean the synthetic returns of a council of ``size`` children."""
    raw, processed = folder / f"raw{size}", folder / f"processed{size}"
    write_demo_returns(raw, size=size, first_year=FIRST, last_year=LAST, seed=seed)
    clean_returns(raw, processed, Config(root=folder), is_demo=True)
    return load_processed(processed)


def true_panel(size: int, seed: int) -> pd.DataFrame:
    """Month-end states straight from the generator's true history (no files, no cleaning).

    The same as :func:`council`'s cleaned returns give (checked: every month and group
    equal for the demo), at a fifth of the cost.
    """
    truth = simulate_council(size=size, first_year=FIRST, last_year=LAST, seed=seed)
    episodes = truth.episodes.assign(PLACE=truth.episodes["PLACE"].replace({"SUPP": "K3"}))
    return sf.monthly_states(episodes, truth.children[["CHILD", "DOB"]], START, END)


def _key(frame: pd.DataFrame) -> np.ndarray:
    return np.ravel_multi_index(
        (frame["age"].to_numpy(), frame["months_in"].to_numpy(), frame["group"].to_numpy()),
        _N_KEYS,
    )


@dataclass(frozen=True)
class Oracle:
    """The generator's 12-month transitions by state, and its arrivals by month end."""

    fate: np.ndarray  # (state, group or 7 = gone): share of the state's children
    arrivals: np.ndarray  # (month index, group): still looked after, per child of size
    arrivals_var: np.ndarray  # (month index,): variance of their total, per child of size
    first: int

    def forecast(self, panel: pd.DataFrame, size: int, origin: int) -> tuple[np.ndarray, float]:
        """Expected children by group 12 months after ``origin``, and the sd of the total."""
        here = panel.loc[panel["month"] == origin]
        fate = self.fate[_key(here)]
        stays = fate[:, :_N_GROUPS].sum(axis=1)
        new = self.arrivals[origin - self.first] * size
        var = (stays * (1 - stays)).sum() + self.arrivals_var[origin - self.first] * size
        return fate[:, :_N_GROUPS].sum(axis=0) + new, float(np.sqrt(var))

    def arrivals_floor(self, size: int, origin: int) -> float:
        """Mean absolute error of the best guess of a Poisson number of arrivals who stay."""
        mean = self.arrivals[origin - self.first].sum() * size
        k = np.arange(int(mean * 3) + 50)
        return float((stats.poisson.pmf(k, mean) * np.abs(k - stats.poisson.median(mean))).sum())


def oracle_pool(n_councils: int, size: int = POOL_SIZE, first_seed: int = 5000) -> Oracle:
    """Simulate ``n_councils`` councils and count what became of every state a year on.

    A child-month counts only where its time in care is known (``known_in``), like the
    model's rates; a state seen fewer than a few dozen times borrows from its age and group
    (20 pseudo-children), so the rare states do not add chance of their own.
    """
    counts = np.zeros((int(np.prod(_N_KEYS)), _N_GROUPS + 1))
    arrivals = []
    for r in range(n_councils):  # councils, each simulated as whole arrays
        panel = true_panel(size, first_seed + r)
        first, last = int(panel["month"].min()), int(panel["month"].max())
        later = panel[["child", "month", "group"]].assign(month=panel["month"] - HORIZON)
        now = panel.loc[(panel["month"] + HORIZON <= last) & panel["known_in"]]
        pairs = now.merge(later, on=["child", "month"], how="left", suffixes=("", "_later"))
        fate = pairs["group_later"].fillna(_N_GROUPS).astype("int64").to_numpy()
        np.add.at(counts, (_key(pairs), fate), 1)
        new = later.merge(
            panel[["child", "month"]], on=["child", "month"], how="left", indicator=True
        )
        new = new.loc[(new["_merge"] == "left_only") & (new["month"] >= first)]
        per_month = np.zeros((last - HORIZON - first + 1, _N_GROUPS))
        np.add.at(per_month, (new["month"].to_numpy() - first, new["group"].to_numpy()), 1)
        arrivals.append(per_month)
    c = counts.reshape(*_N_KEYS, _N_GROUPS + 1)
    margin = c.sum(axis=1, keepdims=True)
    margin = margin / np.maximum(margin.sum(axis=-1, keepdims=True), 1)
    fate = (c + 20 * margin) / (c.sum(axis=-1, keepdims=True) + 20)
    a = np.array(arrivals)
    return Oracle(
        fate=fate.reshape(counts.shape),
        arrivals=a.mean(axis=0) / size,
        arrivals_var=a.sum(axis=2).var(axis=0, ddof=1) / size,
        first=first,
    )


def report(size: int, data, step: int, window: int, sims: int, oracle: Oracle | None) -> bool:
    """Print one council's figures; True when both targets are met."""
    t0 = time.process_time()
    bt = sf.backtest_stock_flow(
        data.episodes,
        data.header,
        START,
        END,
        window_months=window,
        origin_step=step,
        n_sims=sims,
    )
    seconds = time.process_time() - t0
    s = bt.summary.set_index("series")
    total = s.loc["Total"]
    ratio = total["mae_stock_flow"] / total["mae_naive"]
    n = int(total["n_origins"])
    print(
        f"\ncouncil of {size} children looked after at 31 March: {n} "
        f"origins, every {step} months, window {window} months ({seconds:.0f} CPU s)"
    )
    orc = pd.DataFrame()
    if oracle is not None:
        panel = sf.monthly_states(data.episodes, data.header, START, END)
        rows = []
        for origin in bt.errors["origin"].drop_duplicates():
            month = int(sf.month_number(pd.DatetimeIndex([origin]))[0])
            by_group, sd = oracle.forecast(panel, size, month)
            rows.append([by_group.sum(), *by_group, sd, oracle.arrivals_floor(size, month)])
        orc = pd.DataFrame(rows, columns=["Total", *sf.GROUPS, "sd", "floor"])
        actual = bt.errors.pivot(index="origin", columns="series", values="actual")
        oracle_mae = (
            (orc[["Total", *sf.GROUPS]] - actual[["Total", *sf.GROUPS]].to_numpy()).abs().mean()
        )
    held = (lambda row: f", 95% interval held {int(row['held'])}/{n}") if sims else (lambda row: "")
    orc_total = f", oracle {oracle_mae['Total']:.1f}" if oracle is not None else ""
    print(
        f"  total ({total['children']:.0f} children): model {total['mae_stock_flow']:.1f}, "
        f"exponential smoothing {total['mae_ets']:.1f}, naive {total['mae_naive']:.1f}"
        f"{orc_total} (MASE {total['mase_stock_flow']:.2f} / {total['mase_ets']:.2f} / "
        f"{total['mase_naive']:.2f}){held(total)}"
    )
    print(f"  model / naive = {ratio:.2f}; target <= 0.67")
    if oracle is not None:
        o = oracle_mae["Total"] / total["mae_naive"]
        expected = np.sqrt(2 / np.pi) * orc["sd"].mean()
        print(
            f"  oracle / naive = {o:.2f}: the generator's own expected stock a year on "
            f"(its expected error {expected:.1f}; the arrivals alone {orc['floor'].mean():.1f})"
        )
    groups_ok = True
    for group in sf.GROUPS:
        g = s.loc[group]
        big = g["children"] >= 50
        worse = g["mae_stock_flow"] > g["mae_naive"]
        groups_ok &= not (big and worse)
        flag = " <- worse than naive" if big and worse else ""
        told = f", oracle {oracle_mae[group]:5.1f}" if oracle is not None else ""
        print(
            f"  {group:20s} {g['children']:6.0f} children: model {g['mae_stock_flow']:5.1f}, "
            f"naive {g['mae_naive']:5.1f}{told} (MASE {g['mase_stock_flow']:.2f} / "
            f"{g['mase_naive']:.2f}){held(g)}{flag}"
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
    parser.add_argument("--sims", type=int, default=200, help="futures per origin (0: none)")
    parser.add_argument("--pool", type=int, default=40, help="councils for the oracle (0: none)")
    args = parser.parse_args(argv)
    oracle = oracle_pool(args.pool) if args.pool else None
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            data = council(size, Path(tmp))
            report(size, data, args.step, args.window, args.sims, oracle)
    return 0


if __name__ == "__main__":
    sys.exit(main())
