"""The lock file: uv.lock and requirements.txt pin what pyproject.toml and environment.yml ask.

``make`` installs the environment from ``uv.lock`` (with uv) or from ``requirements.txt``
(the same pins exported for plain pip). Someone who adds a dependency to ``pyproject.toml``
and forgets ``uv lock`` would install an environment without it, or with other versions
than the run manifest's lock hash promises: these tests fail first, saying what to run.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from cpanalysis.site.manifest import lock_file_digest

ROOT = Path(__file__).resolve().parents[1]
REFRESH = "run `uv lock && uv export --frozen --extra test --no-emit-project -o requirements.txt`"
#: environment.yml entries that are conda's own (not Python packages of pyproject.toml)
CONDA_ONLY = {"python", "pip", "quarto"}


def _declared(pyproject: dict) -> set[tuple[str, str, str]]:
    """(name, specifier, extra) for every requirement of pyproject.toml."""
    project = pyproject["project"]
    out = set()
    groups = {"": project["dependencies"], **project.get("optional-dependencies", {})}
    for extra, requirements in groups.items():
        for text in requirements:
            req = Requirement(text)
            out.add((canonicalize_name(req.name), str(req.specifier), extra))
    return out


def _locked_requirements(lock: dict) -> set[tuple[str, str, str]]:
    """The same triples as uv recorded them for the project when it wrote the lock."""
    project = next(p for p in lock["package"] if p.get("source", {}).get("editable") == ".")
    out = set()
    for item in project["metadata"]["requires-dist"]:
        marker = item.get("marker", "")
        extra = marker.split("==")[1].strip(" '\"") if marker.startswith("extra ==") else ""
        spec = str(Requirement(item["name"] + item.get("specifier", "")).specifier)
        out.add((canonicalize_name(item["name"]), spec, extra))
    return out


def _locked_versions(lock: dict) -> dict[str, set[str]]:
    """Every locked package and its version(s) (a package can fork by Python version)."""
    out: dict[str, set[str]] = {}
    for package in lock["package"]:
        if package.get("source", {}).get("editable") == ".":
            continue
        out.setdefault(canonicalize_name(package["name"]), set()).add(package["version"])
    return out


def _environment_requirements(env: dict) -> list[Requirement]:
    out = []
    for dep in env["dependencies"]:
        texts = dep.get("pip", []) if isinstance(dep, dict) else [dep]
        for text in texts:
            if not text.startswith("-e") and text not in CONDA_ONLY:
                req = Requirement(text)
                if req.name not in CONDA_ONLY:
                    out.append(req)
    return out


def _exported_pins(text: str) -> set[tuple[str, str]]:
    """(name, version) of every ``name==version`` line of a ``uv export`` file."""
    pins = set()
    for line in text.splitlines():
        if line and not line[0].isspace() and not line.startswith("#"):
            name, _, rest = line.partition("==")
            pins.add((canonicalize_name(name), rest.split(";")[0].split()[0].rstrip("\\")))
    return pins


def _load(name: str) -> dict:
    return tomllib.loads((ROOT / name).read_text("utf-8"))


def test_lock_records_exactly_the_requirements_of_pyproject():
    declared, locked = _declared(_load("pyproject.toml")), _locked_requirements(_load("uv.lock"))
    assert declared == locked, (
        f"uv.lock is out of step with pyproject.toml ({REFRESH}): "
        f"only in pyproject {sorted(declared - locked)}, "
        f"only in the lock {sorted(locked - declared)}"
    )


def test_the_comparison_sees_a_dependency_added_without_relocking():
    pyproject = _load("pyproject.toml")
    pyproject["project"]["dependencies"].append("rich>=13")
    assert ("rich", ">=13", "") in _declared(pyproject) - _locked_requirements(_load("uv.lock"))


def test_every_environment_yml_package_is_locked_at_a_version_it_allows():
    versions = _locked_versions(_load("uv.lock"))
    requirements = _environment_requirements(yaml.safe_load((ROOT / "environment.yml").read_text()))
    direct = {name for name, _, _ in _locked_requirements(_load("uv.lock"))}
    assert {canonicalize_name(r.name) for r in requirements} == direct
    for req in requirements:
        name = canonicalize_name(req.name)
        allowed = [
            v for v in versions[name] if req.specifier.contains(Version(v), prereleases=True)
        ]
        assert allowed, f"environment.yml asks {req} but uv.lock pins {name} {versions[name]}"


def test_requirements_txt_pins_what_the_lock_pins():
    exported = _exported_pins((ROOT / "requirements.txt").read_text("utf-8"))
    locked = {(name, v) for name, vs in _locked_versions(_load("uv.lock")).items() for v in vs}
    assert exported == locked, (
        f"requirements.txt is out of step with uv.lock ({REFRESH}): "
        f"only exported {sorted(exported - locked)}, only locked {sorted(locked - exported)}"
    )


def test_exported_pins_are_read_from_uv_export_lines():
    text = (
        "# header\n"
        "numpy==2.4.6 ; python_full_version < '3.12' \\\n"
        "    --hash=sha256:ab\n"
        "    # via pandas\n"
        "tqdm==4.67.1 \\\n"
    )
    assert _exported_pins(text) == {("numpy", "2.4.6"), ("tqdm", "4.67.1")}


def _uv() -> str:
    beside = Path(sys.executable).with_name("uv")
    found = str(beside) if beside.is_file() else shutil.which("uv")
    if found is None:
        pytest.fail("uv is not installed: it is a test dependency (`make` installs it)")
    return found


def test_uv_finds_the_lock_current():
    # uv's own check (metadata of every locked package, not only the project's requirements)
    out = subprocess.run(
        [_uv(), "lock", "--check", "--offline", "--project", str(ROOT)],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, f"{out.stderr.strip()} ({REFRESH})"


def test_manifest_records_the_lock_file_of_the_project(tmp_path):
    (tmp_path / "uv.lock").write_text("version = 1\n", encoding="utf-8")
    assert lock_file_digest(tmp_path) == {
        "path": "uv.lock",
        "sha256": hashlib.sha256(b"version = 1\n").hexdigest(),
    }


def test_manifest_falls_back_to_the_lock_beside_the_installed_source(tmp_path):
    # a project folder without its own lock (the tests' temporary projects) is run with the
    # environment this checkout's lock installed
    digest = lock_file_digest(tmp_path)
    assert digest["path"] == (ROOT / "uv.lock").as_posix()
    assert digest["sha256"] == hashlib.sha256((ROOT / "uv.lock").read_bytes()).hexdigest()
