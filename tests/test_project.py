"""Project hygiene: one dependency list, lint clean, the CLI answers --help."""

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _pyproject_names() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = {_name(r) for r in project["dependencies"]}
    for extra in project.get("optional-dependencies", {}).values():
        names |= {_name(r) for r in extra}
    return names


def _environment_names() -> set[str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    names: set[str] = set()
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            names |= {_name(r) for r in dep.get("pip", []) if not r.startswith("-e")}
        else:
            names.add(_name(dep))
    return names


def test_environment_yml_names_the_same_dependencies_as_pyproject():
    env = _environment_names()
    # conda-only extras: the interpreter, pip itself, and Quarto (not on PyPI, see README)
    conda_only = {"python", "pip", "quarto"}
    assert env - conda_only == _pyproject_names()
    assert "quarto" in env


def test_ruff_lint_and_format_are_clean():
    lint = subprocess.run(
        [sys.executable, "-m", "ruff", "check", str(ROOT)], capture_output=True, text=True
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
    fmt = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", str(ROOT)],
        capture_output=True,
        text=True,
    )
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


@pytest.mark.parametrize("command", ["demo", "clean", "indicators", "run", "build"])
def test_every_subcommand_has_help(command):
    out = subprocess.run(
        [sys.executable, "-m", "cpanalysis.cli", command, "--help"], capture_output=True, text=True
    )
    assert out.returncode == 0
    assert "usage: cpanalysis " + command in out.stdout
