"""The run manifest: what a site was built from and with, written beside it.

``_site/run_manifest.json`` answers "which returns, which code, which settings made this
page?" months later: every input file with its SHA-256, the versions of the packages that
shaped the numbers, the notebook parameters, the renderer, demo or real data, and the start
and end of the run. Only ``started`` and ``finished`` change between two builds of the same
input, so the rest of the site can be compared byte for byte.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["PACKAGES", "TIME_KEYS", "file_digests", "package_versions", "utc_now", "write_manifest"]

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
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        out.append({"path": rel.as_posix(), "sha256": digest.hexdigest()})
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
