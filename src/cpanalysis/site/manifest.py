"""The run manifest: what a site was built from and with, written beside it.

``_site/run_manifest.json`` answers "which returns, which code, which settings made this
page?" months later: every input file with its SHA-256, the versions of the packages that
shaped the numbers, the SHA-256 of the lock file (``uv.lock``) that pins every package the
environment was installed from, the notebook parameters, the renderer, demo or real data,
and the start and end of the run. Only ``started`` and ``finished`` change between two
builds of the same input, so the rest of the site can be compared byte for byte.
"""

from __future__ import annotations

import datetime as dt
import json
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

from cpanalysis.folders import file_sha256

__all__ = [
    "LOCK_FILE",
    "PACKAGES",
    "TIME_KEYS",
    "file_digests",
    "lock_file_digest",
    "package_versions",
    "utc_now",
    "write_manifest",
]

#: The lock file beside ``pyproject.toml`` (``uv lock`` writes it; ``make`` installs from it).
LOCK_FILE = "uv.lock"

#: Packages whose versions are recorded (those that shape a figure, a chart or a page).
PACKAGES = (
    "cpanalysis",
    "pandas",
    "numpy",
    "pyarrow",
    "statsmodels",
    "altair",
    "vl-convert-python",
    "papermill",
    "nbformat",
    "smalldocs",
)
#: The keys that differ between two runs on the same input.
TIME_KEYS = ("started", "finished")


def utc_now() -> str:
    """The current time, UTC, to the second (``2026-11-23T17:05:09Z``)."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def lock_file_digest(root: Path) -> dict[str, str | None]:
    """The lock file the environment was installed from, and its SHA-256.

    The package versions above say what ran; the lock's hash says which complete,
    cross-platform set of pins (direct and transitive) the environment came from, so a
    rebuild next year can be installed from exactly the same file (``git log uv.lock``).
    The project folder's ``uv.lock`` is used, else the one beside the installed source (an
    editable install run on a project folder elsewhere).

    Returns
    -------
    dict
        ``path`` (``"uv.lock"``, or the absolute path of the source checkout's copy) and
        ``sha256`` (hex); both None when no lock file is found (e.g. a wheel install).
    """
    candidates = [Path(root) / LOCK_FILE, Path(__file__).resolve().parents[3] / LOCK_FILE]
    for path in candidates:
        if path.is_file():
            shown = LOCK_FILE if path == candidates[0] else path.as_posix()
            return {"path": shown, "sha256": file_sha256(path)}
    return {"path": None, "sha256": None}


def file_digests(folder: Path) -> list[dict[str, Any]]:
    """Every file under ``folder`` (hidden ones and README.md left out), sorted by path.

    Returns
    -------
    list of dict
        ``path`` (relative, ``/``-separated) and ``sha256`` (hex). No size: the digest
        identifies the file, and a size is a number of the build's own that could equal a
        child ID (a 124751-byte file refused a 5,000-child council's site).
    """
    out = []
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        rel = path.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts) or rel.name.lower() == "readme.md":
            continue
        out.append({"path": rel.as_posix(), "sha256": file_sha256(path)})
    return out


def package_versions() -> dict[str, str]:
    """Installed versions of :data:`PACKAGES` (``"not installed"`` where absent)."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def write_manifest(path: Path, manifest: dict[str, Any]) -> Path:
    """Write the manifest as sorted, indented JSON (stable between runs apart from times)."""
    manifest = dict(manifest)
    manifest.setdefault("python", platform.python_version())
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path
