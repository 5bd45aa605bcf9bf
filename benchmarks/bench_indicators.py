"""Time every indicator at national size: ~1.5 million episodes over ten years.

One synthetic council is simulated, then replicated with shifted child ids until the
episodes table holds about 1.5 million rows (England's ten years of returns are of that
order). The timing covers :func:`cpanalysis.indicators.compute_all` only, i.e. everything
after cleaning; the target is 30 seconds on the 2-core reference machine.
"""

from __future__ import annotations

import time
from types import SimpleNamespace

import numpy as np
import pandas as pd

from cpanalysis.indicators import compute_all
from cpanalysis.synthetic import simulate_council

TARGET_EPISODES = 1_500_000
FIRST, LAST = 2017, 2026
CODES = ("RNE", "LS", "CIN", "PLACE", "REC", "REASON_PLACE_CHANGE")


def _replicate(table: pd.DataFrame, copies: int) -> pd.DataFrame:
    parts = [table.assign(CHILD=table["CHILD"].astype(str) + f"_{i}") for i in range(copies)]
    out = pd.concat(parts, ignore_index=True)
    out["CHILD"] = out["CHILD"].astype("string")
    return out


def national_data(seed: int = 903) -> SimpleNamespace:
    """Processed-like tables of a council replicated to ~1.5 million episodes."""
    council = simulate_council(size=2000, first_year=FIRST, last_year=LAST, seed=seed)
    cut = pd.Timestamp(LAST, 3, 31)
    ep = council.episodes.loc[council.episodes["DECOM"] <= cut].copy()
    ep.loc[ep["DEC"] > cut, ["DEC", "REC"]] = [pd.NaT, None]
    rng = np.random.default_rng(seed)
    ep["PL_DISTANCE"] = rng.gamma(2.0, 8.0, len(ep)).round(1)
    copies = max(1, int(np.ceil(TARGET_EPISODES / len(ep))))
    episodes = _replicate(ep, copies)
    for column in CODES:
        episodes[column] = episodes[column].astype("category")
    header = council.children[["CHILD", "DOB", "SEX"]].assign(YEAR=LAST)
    oc3 = council.care_leavers.merge(council.children[["CHILD", "DOB"]], on="CHILD")
    reviews = council.reviews[["CHILD", "REVIEW"]] if "REVIEW" in council.reviews else None
    return SimpleNamespace(
        episodes=episodes,
        header=_replicate(header, copies),
        oc3=_replicate(oc3, copies),
        reviews=_replicate(reviews, copies) if reviews is not None else pd.DataFrame(),
        years=list(range(FIRST, LAST + 1)),
        council_name="National-size benchmark",
    )


def main(argv: list[str] | None = None) -> int:
    """Build national-size processed data, time ``compute_all`` on it and print the figure."""
    t0 = time.perf_counter()
    data = national_data()
    built = time.perf_counter() - t0
    t1 = time.perf_counter()
    frame = compute_all(data)
    took = time.perf_counter() - t1
    print(
        f"indicators: {len(data.episodes):,} episodes, {data.episodes['CHILD'].nunique():,} "
        f"children, {len(data.years)} years -> {len(frame):,} measure rows in {took:.1f} s "
        f"(target 30 s; data built in {built:.1f} s)"
    )
    return 0


if __name__ == "__main__":
    main()
