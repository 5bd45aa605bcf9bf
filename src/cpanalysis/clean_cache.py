"""Reuse the last cleaned tables when nothing they are made from has changed.

A scheduled refresh (nightly, or after the committee's targets change) usually finds the
same returns as last time; cleaning them again gives the same Parquet files, byte for byte,
and costs the largest share of a warm ``cpanalysis build``. So the build asks
:func:`clean_or_reuse`: it cleans as :func:`cpanalysis.pipeline.clean_returns` always did,
and writes beside the tables a stamp (``clean_inputs.json``): one SHA-256 over everything
the tables depend on. The next build copies the previous tables instead of cleaning only
when its stamp is identical, i.e. when all of these are unchanged:

* every file and folder under the raw folder (path, size, SHA-256 of the contents); a
  symlink, FIFO or unreadable file means no reuse (the cleaner reports those);
* the project's settings (``cpanalysis.toml``, as loaded) and the pseudonymisation key
  (only its hash is stored), and whether the data are synthetic;
* the code: every file of the installed ``cpanalysis`` package (schema and reference data
  included), and the versions of Python, pandas, numpy and pyarrow.

Anything else — a changed return, a new rule, a new key — cleans afresh. The stamp holds
digests only, nothing from the returns.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import platform
import shutil
import stat
from importlib import metadata
from pathlib import Path
from typing import Any

from cpanalysis.config import Config
from cpanalysis.folders import file_sha256

__all__ = ["STAMP", "clean_or_reuse", "inputs_digest"]

log = logging.getLogger(__name__)

#: The stamp file written beside the cleaned tables.
STAMP = "clean_inputs.json"
#: Kept by the target folder across swaps (cpanalysis.site.build), never part of the tables.
_NOT_TABLES = {"readme.md", ".gitkeep"}
_PACKAGES = ("pandas", "numpy", "pyarrow")


def _tree(folder: Path) -> list[list[str]] | None:
    """Every entry under ``folder`` as (relative path, kind, size, sha256); None if any is
    not a plain file or folder, or cannot be read."""
    entries = []
    try:
        for path in sorted(folder.rglob("*")):
            mode = path.lstat().st_mode
            rel = path.relative_to(folder).as_posix()
            if stat.S_ISDIR(mode):
                entries.append([rel, "folder", "", ""])
            elif stat.S_ISREG(mode):
                entries.append([rel, "file", str(path.stat().st_size), file_sha256(path)])
            else:
                return None
    except OSError:
        return None
    return entries


def _code() -> str:
    """One digest of every file of the installed package (code, schema, reference data)."""
    package = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            digest.update(path.relative_to(package).as_posix().encode() + b"\0")
            digest.update(file_sha256(path).encode())
    return digest.hexdigest()


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def inputs_digest(raw_dir: Path, config: Config, *, is_demo: bool) -> str | None:
    """The SHA-256 of everything the cleaned tables depend on; None when it cannot be known.

    Parameters
    ----------
    raw_dir : Path
        The returns to clean.
    config : Config
        The project's settings (the key is taken from them as the cleaner takes it).
    is_demo : bool
        Synthetic returns (the fixed demo key).

    Returns
    -------
    str or None
        Hex digest; None if a raw entry is not a plain readable file or folder.
    """
    from cpanalysis.deidentify import hash_key

    tree = _tree(Path(raw_dir))
    if tree is None:
        return None
    settings = dataclasses.asdict(config)
    settings.pop("root", None)  # the same project moved elsewhere cleans the same
    settings.pop("hash_key", None)  # stored below as a hash only
    record: dict[str, Any] = {
        "raw": tree,
        "settings": settings,
        "key": hashlib.sha256(hash_key(config, is_demo=is_demo)).hexdigest(),
        "is_demo": bool(is_demo),
        "code": _code(),
        "versions": _versions(),
    }
    text = json.dumps(record, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _stamp_of(folder: Path) -> str | None:
    try:
        return json.loads((folder / STAMP).read_text("utf-8")).get("inputs_sha256")
    except (OSError, ValueError, AttributeError):
        return None


def clean_or_reuse(
    raw_dir: Path,
    out_dir: Path,
    config: Config,
    *,
    is_demo: bool = False,
    previous: Path | None = None,
) -> bool:
    """Clean ``raw_dir`` into ``out_dir``, or copy ``previous`` when it was made from the same.

    Parameters
    ----------
    raw_dir, out_dir, config, is_demo
        As for :func:`cpanalysis.pipeline.clean_returns` (``out_dir`` must not exist yet, or
        is replaced).
    previous : Path, optional
        The last cleaned tables (``data/processed``); reused when its stamp matches.

    Returns
    -------
    bool
        True when the previous tables were reused, False when the returns were cleaned.

    Raises
    ------
    InputError
        As :func:`~cpanalysis.pipeline.clean_returns` does, for bad input.
    """
    from cpanalysis.pipeline import clean_returns

    out_dir = Path(out_dir)
    digest = inputs_digest(raw_dir, config, is_demo=is_demo)
    if digest is not None and previous is not None and _stamp_of(Path(previous)) == digest:
        shutil.rmtree(out_dir, ignore_errors=True)
        shutil.copytree(
            previous,
            out_dir,
            ignore=lambda _, names: [n for n in names if n.lower() in _NOT_TABLES],
        )
        log.info("returns unchanged since the last build: reused the tables in %s", previous)
        return True
    clean_returns(raw_dir, out_dir, config, is_demo=is_demo)
    if digest is not None:
        stamp = {"inputs_sha256": digest, "why": "cpanalysis.clean_cache: same inputs, same tables"}
        (out_dir / STAMP).write_text(json.dumps(stamp, indent=2) + "\n", encoding="utf-8")
    return False
