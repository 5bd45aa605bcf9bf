"""Run the DfE validator on every collection year of a council's returns.

Each year held is checked with the year before as the previous year when that return is
there too (the DfE's rules compare the two: sex, date of birth, open episodes...). The
validator runs in its own environment (:mod:`cpanalysis.validation.environment`) through the
stand-alone :mod:`cpanalysis.validation.runner`, two years at a time. Its answers hold only
counts and line positions, so they may be cached between builds (keyed by the exact input
bytes and the runner) without keeping anything that identifies a child.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path

from cpanalysis.validation.environment import (
    VALIDATOR_REQUIREMENT,
    ValidatorUnavailable,
    validator_python,
)
from cpanalysis.validation.returns import VALIDATOR_YEARS, YearFiles, write_validator_tables
from cpanalysis.validation.summary import ValidationReport, YearResult

__all__ = ["runner_script", "validate_returns"]

log = logging.getLogger(__name__)

#: Seconds one year may take (about 15 s for a council of 500 children looked after).
_YEAR_TIMEOUT = 900


def runner_script() -> Path:
    """The runner that ships in the package (run by the validator's Python, not imported)."""
    return Path(str(resources.files("cpanalysis.validation").joinpath("runner.py")))


def _digest(files: YearFiles | None) -> str:
    h = hashlib.sha256()
    if files is not None:
        for name in sorted(files.csvs):
            h.update(name.encode())
            h.update(files.csvs[name].read_bytes())
    return h.hexdigest()


def _cache_key(
    this: YearFiles, previous: YearFiles | None, history: list[Path], local_authority: str | None
) -> str:
    h = hashlib.sha256()
    for part in (VALIDATOR_REQUIREMENT, runner_script().read_text("utf-8"), str(this.year),
                 local_authority or "", _digest(this), _digest(previous)):  # fmt: skip
        h.update(part.encode())
        h.update(b"\0")
    for path in history:
        h.update(path.read_bytes())
    return h.hexdigest()[:32]


def _run_year(
    python: Path,
    this: YearFiles,
    previous: YearFiles | None,
    history: list[Path],
    local_authority: str | None,
    work: Path,
    cache_dir: Path | None,
) -> dict:
    key = _cache_key(this, previous, history, local_authority)
    cached = cache_dir / f"{key}.json" if cache_dir else None
    if cached is not None and cached.is_file():
        return json.loads(cached.read_text("utf-8"))
    request = {
        "collection_year": str(this.year),
        "local_authority": local_authority,
        "this_year": [str(p) for p in this.csvs.values()],
        "prev_year": [str(p) for p in previous.csvs.values()] if previous else [],
        "history": [str(p) for p in history],
    }
    folder = work / f"{this.la or 'council'}-{this.year}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "request.json").write_text(json.dumps(request), encoding="utf-8")
    answer_path = folder / "answer.json"
    done = subprocess.run(
        [str(python), str(runner_script()), str(folder / "request.json"), str(answer_path)],
        capture_output=True,
        text=True,
        timeout=_YEAR_TIMEOUT,
        check=False,
    )
    if done.returncode != 0 or not answer_path.is_file():
        # stderr may quote a cell of the return: it is logged at debug level only
        log.debug("validator stderr for %s: %s", this.year, done.stderr)
        raise ValidatorUnavailable(
            f"the DfE validator stopped on the {this.year - 1}-{str(this.year)[-2:]} return "
            f"(exit {done.returncode}); run `cpanalysis -v validate` to see the rules it ran"
        )
    answer = json.loads(answer_path.read_text("utf-8"))
    if cached is not None:
        cache_dir.mkdir(parents=True, exist_ok=True)
        cached.write_text(json.dumps(answer, sort_keys=True), encoding="utf-8")
    return answer


def validate_returns(
    raw_dir: Path,
    *,
    root: Path,
    local_authority: str | None = None,
    cache_dir: Path | None = None,
    create_environment: bool = True,
    workers: int = 2,
    years: Iterable[int] | None = None,
) -> ValidationReport:
    """The DfE rules' findings on every collection year under ``raw_dir``.

    Parameters
    ----------
    raw_dir : Path
        The council's returns (before any cleaning or de-identification: the rules check
        what the council would submit).
    root : Path
        Project folder, home of the validator's environment ``.venv-validator``.
    local_authority : str, optional
        The council's ONS code (``E06000045``); default: the upper-tier council most home
        postcodes fall in.
    cache_dir : Path, optional
        Keep answers here and reuse them while the inputs are byte-identical.
    create_environment : bool
        Make the validator's environment when it is missing.
    workers : int
        Years validated at once (each is one process of ~0.5 GB).
    years : iterable of int, optional
        Only these collection years (default: every year the validator has rules for).

    Returns
    -------
    ValidationReport
        With ``unavailable`` set (one line) when the validator could not run; never raises
        for that reason, so a build without network still finishes.

    Raises
    ------
    InputError
        When a return cannot be read at all (the cleaning step would refuse it too).
    """
    try:
        python = validator_python(Path(root), create=create_environment)
    except ValidatorUnavailable as exc:
        return ValidationReport(unavailable=str(exc))
    work = Path(tempfile.mkdtemp(prefix="cpanalysis-validator-"))
    try:
        work.chmod(0o700)
        held = write_validator_tables(Path(raw_dir), work / "tables")
        by_key = {(f.la, f.year): f for f in held}
        wanted = set(VALIDATOR_YEARS if years is None else years) & set(VALIDATOR_YEARS)
        jobs = [f for f in held if f.year in wanted]
        skipped = sorted({f.year for f in held if f.year not in VALIDATOR_YEARS})

        def one(this: YearFiles) -> YearResult:
            previous = by_key.get((this.la, this.year - 1))
            history = [
                f.csvs["Episodes"]
                for f in held
                if f.la == this.la and f.year < this.year - 1 and "Episodes" in f.csvs
            ]
            answer = _run_year(python, this, previous, history, local_authority, work, cache_dir)
            sources = dict(this.rows)
            if previous is not None:
                sources.update({f"{k}_last": v for k, v in previous.rows.items()})
            return YearResult(this.year, previous.year if previous else None, answer, sources)

        try:
            with ThreadPoolExecutor(max_workers=max(1, min(workers, 2))) as pool:
                results = list(pool.map(one, jobs))
        except (ValidatorUnavailable, subprocess.TimeoutExpired, OSError) as exc:
            return ValidationReport(unavailable=str(exc).splitlines()[0], skipped_years=skipped)
        validator = results[0].answer.get("validator", "") if results else ""
        return ValidationReport(results, None, validator, skipped)
    finally:
        shutil.rmtree(work, ignore_errors=True)
