"""The DfE validator's own virtual environment: find it, or make it on first use.

``csc-validator-be-903`` pins ``pandas<2`` and ``numpy<1.25``; cpanalysis needs pandas 2 or
later. The two cannot share an environment, so the validator lives in ``.venv-validator/``
beside the project's ``.venv/`` (git-ignored) and is run as a subprocess. ``make
venv-validator`` makes it; :func:`validator_python` makes it too when it is missing. Where it
cannot be made (no network on a council laptop) the caller gets :class:`ValidatorUnavailable`
with one line saying so, and carries on without the DfE rules.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

__all__ = [
    "VALIDATOR_ENV",
    "VALIDATOR_PYTHON_ENV",
    "VALIDATOR_REQUIREMENT",
    "ValidatorUnavailable",
    "validator_python",
]

#: The validator release whose rules (lac2022_23 to lac2026_27) this project was checked on.
VALIDATOR_REQUIREMENT = "csc-validator-be-903==0.1.17"
#: Folder of the validator's environment, under the project root.
VALIDATOR_ENV = ".venv-validator"
#: Environment variable naming a Python that already has the validator (wins over the folder).
VALIDATOR_PYTHON_ENV = "CPANALYSIS_VALIDATOR_PYTHON"
#: A stamp written once the install finished, so a half-made environment is made again.
_STAMP = ".installed"
#: Seconds an install may take before it counts as failed (a fresh one takes ~30 s with pip).
_INSTALL_TIMEOUT = 900
#: After a failed install, builds do not try again for this long (a laptop with no network
#: would otherwise wait for pip at every build); ``make venv-validator`` always tries.
_RETRY_AFTER = 3600
_FAILED = ".venv-validator.failed"


class ValidatorUnavailable(RuntimeError):
    """The validator's environment is missing and could not be made; the message is one line."""


def _checkout() -> Path | None:
    """The source checkout cpanalysis runs from (``src/`` layout), if it is one."""
    here = Path(__file__).resolve().parents[3]
    return here if (here / "pyproject.toml").is_file() and (here / "src").is_dir() else None


def _homes(root: Path) -> list[Path]:
    """Where the environment may be: the project folder, then the checkout of the code."""
    homes = [Path(root).resolve()]
    checkout = _checkout()
    if checkout is not None and checkout not in homes:
        homes.append(checkout)
    return homes


def _python_in(env: Path) -> Path:
    return env / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _works(python: Path) -> bool:
    try:
        done = subprocess.run(
            [str(python), "-c", "import lac_validator.lac_validator"],
            capture_output=True,
            timeout=300,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def _base_python() -> str:
    """A Python 3.11 for the environment: the validator's pins have no wheels for 3.12+."""
    if sys.version_info[:2] == (3, 11):
        return sys.executable
    return shutil.which("python3.11") or sys.executable


def _install_commands(env: Path) -> list[list[str]]:
    """uv when it is there (seconds), else venv + pip (the standard library's way)."""
    python = _base_python()
    uv = shutil.which("uv")
    if uv:
        return [
            [uv, "venv", "--quiet", "--allow-existing", "-p", python, str(env)],
            [uv, "pip", "install", "--quiet", "-p", str(_python_in(env)), VALIDATOR_REQUIREMENT],
        ]
    return [
        [python, "-m", "venv", "--clear", str(env)],
        [str(_python_in(env)), "-m", "pip", "install", "--quiet"]
        + ["--retries", "1", "--timeout", "20", VALIDATOR_REQUIREMENT],
    ]


def validator_python(root: Path, *, create: bool = True, force: bool = False) -> Path:
    """The Python of the validator's environment, made on first use.

    Parameters
    ----------
    root : Path
        Project folder; the environment is ``.venv-validator`` in it or in the checkout.
    create : bool
        Make the environment when it is missing (``False``: only look for it). It is made in
        the checkout of the code when cpanalysis runs from one (so every project folder and
        test shares it), else in ``root``.
    force : bool
        Try to make it even if an attempt failed in the last hour.

    Returns
    -------
    Path
        A Python that imports ``lac_validator``.

    Raises
    ------
    ValidatorUnavailable
        One line saying why there is no validator (not installed, or the install failed,
        most often for want of a network).
    """
    named = os.environ.get(VALIDATOR_PYTHON_ENV)
    if named:
        if _works(Path(named)):
            return Path(named)
        raise ValidatorUnavailable(
            f"{VALIDATOR_PYTHON_ENV}={named} does not import the DfE validator "
            f"({VALIDATOR_REQUIREMENT})"
        )
    homes = _homes(root)
    for home in homes:
        env = home / VALIDATOR_ENV
        if (env / _STAMP).is_file() and _python_in(env).is_file():
            return _python_in(env)
    env = homes[-1] / VALIDATOR_ENV
    if not create:
        raise ValidatorUnavailable(
            f"the DfE validator's environment {env} is not there (make venv-validator makes it)"
        )
    failed = homes[-1] / _FAILED
    if not force and failed.is_file() and time.time() - failed.stat().st_mtime < _RETRY_AFTER:
        raise ValidatorUnavailable(
            f"{env} could not be made within the last hour ({failed.read_text('utf-8').strip()}); "
            "make venv-validator tries again"
        )
    try:
        python = _install(env)
    except ValidatorUnavailable as exc:
        with contextlib.suppress(OSError):
            failed.write_text(str(exc) + "\n", encoding="utf-8")
        raise
    failed.unlink(missing_ok=True)
    return python


def _install(env: Path) -> Path:
    """Make ``env`` and install the validator into it (uv, else venv + pip)."""
    python = _python_in(env)
    for command in _install_commands(env):
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=_INSTALL_TIMEOUT, check=False
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise ValidatorUnavailable(
                f"could not make {env} for the DfE validator ({type(exc).__name__})"
            ) from exc
        if done.returncode != 0:
            last = (done.stderr or done.stdout).strip().splitlines()
            why = " ".join(last[-1].split())[:160] if last else f"exit {done.returncode}"
            raise ValidatorUnavailable(
                f"could not install {VALIDATOR_REQUIREMENT} into {env} (no network?): {why}"
            )
    if not _works(python):
        raise ValidatorUnavailable(f"{env} was made but does not import the DfE validator")
    (env / _STAMP).touch()
    return python


def main(argv: list[str] | None = None) -> int:
    """``python -m cpanalysis.validation.environment [ROOT]``: make the environment.

    Prints where it is, or one line saying why it could not be made; exits 0 either way, so
    ``make test`` and ``make site`` carry on without the DfE rules on a machine with no
    network.
    """
    args = sys.argv[1:] if argv is None else argv
    root = Path(args[0]) if args else Path.cwd()
    try:
        python = validator_python(root, force=True)
    except ValidatorUnavailable as exc:
        print(f"DfE validator not available: {exc}")
        return 0
    print(f"DfE validator ready: {python}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
