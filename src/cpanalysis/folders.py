"""Folders the tool must change: refuse read-only ones first, say system errors in one line.

A council may make ``data/processed`` (or the whole ``data/``) read-only on purpose, e.g. to
freeze the figures a committee paper quotes; a scheduled job run as an administrator is
allowed by the system to write there anyway. So before anything is changed the folders a
command will replace are checked by their permission bits as well as by the system, and the
command stops with one line instead of replacing them.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

from cpanalysis.errors import BuildError

__all__ = ["is_writable", "check_writable", "file_sha256", "os_error_line"]


def _relative(path: Path, root: Path) -> str:
    try:
        return Path(path).resolve().relative_to(Path(root).resolve()).as_posix() or "."
    except ValueError:
        return Path(path).as_posix()


def is_writable(folder: Path) -> bool:
    """Whether ``folder`` may be changed: the system allows it and its mode has a write bit.

    The mode is read too because an administrator (or a job run as root, whom the system
    lets write anywhere) who made a folder read-only meant "do not replace this".
    """
    mode = folder.stat().st_mode
    return os.access(folder, os.W_OK) and bool(mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def check_writable(root: Path, folders: list[Path]) -> None:
    """Refuse, before anything is touched, to build when a folder it must change is read-only.

    Raises
    ------
    BuildError
        ``data/processed is read-only; ...`` (one line; nothing was changed).
    """
    for folder in folders:
        if folder.is_dir() and not is_writable(folder):
            name = _relative(folder, root)
            raise BuildError(
                f"{name} is read-only, and the build must change it; it stopped before "
                f"changing anything (make it writable, e.g. chmod u+w {name}, or build elsewhere)"
            )


def os_error_line(exc: OSError) -> str:
    """``No space left on device (/path)``: an operating-system error in words, one line."""
    reason = exc.strerror or type(exc).__name__
    where = f" ({exc.filename})" if exc.filename else ""
    return f"{reason}{where}"


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, read in blocks (the run manifests and the cache of
    cleaned tables name their inputs by it). Here, beside the other file helpers, so that
    naming a file costs no pandas import (``cpanalysis build`` starts its kernels first)."""
    with Path(path).open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()
