"""Execute the analysis notebooks with papermill: the ``cpanalysis run`` step.

Each notebook in ``notebooks/`` is a thin report (front matter, one ``parameters`` cell,
calls to the library). This module runs them with the project's settings injected
(docs/design.md Contract 3) into a git-ignored folder (``_build/notebooks/``) from which the
site is rendered. Why a module and not a shell loop:

* the same parameters reach every notebook, taken from ``cpanalysis.toml``, so no notebook
  carries a council's settings;
* at most two kernels run at once (the machines this runs on have two cores, so a third
  only adds contention), and each is kept warm for notebook after notebook
  (:mod:`cpanalysis.warm_kernel`): starting a kernel and importing the stack costs ~6 s,
  paid once per kernel instead of once per notebook, and the data are opened once per
  kernel (:func:`cpanalysis.analysis.open_analysis` caches them); every notebook still
  starts from an empty namespace, so the executed notebooks are the same as with a fresh
  kernel each;
* a failing notebook stops the build with **one line** naming the notebook, the cell and the
  exception, and the half-executed copy never lands where the site reads from (papermill
  writes it with ``metadata.papermill.exception = true``; it is kept aside in
  ``<out_dir>/../failed_notebooks/`` for the analyst to open).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import shutil
import tempfile
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import nbformat

from cpanalysis.config import Config, load_config
from cpanalysis.demo import population_for
from cpanalysis.errors import BuildError
from cpanalysis.warm_kernel import KernelPool, WarmKernel, register_engine

__all__ = [
    "KERNEL_NAME",
    "MAX_WORKERS",
    "notebook_parameters",
    "find_notebooks",
    "check_notebook",
    "run_notebook",
    "run_notebooks",
    "start_kernels",
    "open_data_code",
]

log = logging.getLogger(__name__)

#: The kernel every notebook runs on; jupyter_client starts it with this interpreter
#: (``python`` in the kernel spec is replaced by ``sys.executable``), so the notebooks see the
#: project's environment. A custom kernel name gives ``NoSuchKernel`` on other machines.
KERNEL_NAME = "python3"
#: Two cores: more than two kernels at once only slows each one down.
MAX_WORKERS = 2
#: Where executed notebooks go, relative to the project root (git-ignored).
DEFAULT_OUT = Path("_build") / "notebooks"
#: Where a failed notebook's partial output is kept, beside ``out_dir``.
FAILED_DIR_NAME = "failed_notebooks"
#: Kernel options: its start-up warnings (e.g. "running over TCP without encryption" on a
#: local kernel) are noise in a scheduled job's log; errors still show.
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=ERROR"]


def notebook_parameters(
    config: Config,
    processed_dir: str | Path,
    parameters: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The parameters injected into every notebook (docs/design.md Contract 3).

    Parameters
    ----------
    config : Config
        Project settings: council name and code, suppression threshold, forecast horizon and
        benchmark source come from here so that no notebook hard-codes them.
    processed_dir : str or Path
        The cleaned data to analyse; made absolute because the kernel's working folder is the
        notebooks folder, not the caller's.
    parameters : mapping, optional
        Overrides (e.g. ``collection_years``), applied last.

    Returns
    -------
    dict
        ``processed_dir`` (absolute str), ``council_name``, ``council_code``,
        ``collection_years`` (None = all), ``suppression_threshold``, ``forecast_horizon``,
        ``benchmark_source``, ``compare_with`` (councils to compare with, when DfE tables are
        supplied), ``population`` (children aged 0-17 by year, or None).
    """
    benchmark = config.benchmark_source
    if benchmark != "built-in" and not Path(benchmark).is_absolute():
        # a folder of DfE CSVs named in cpanalysis.toml is relative to the project folder
        benchmark = str((config.root / benchmark).resolve())
    manifest_path = Path(processed_dir) / "clean_manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
    population = population_for(
        config,
        is_demo=bool(manifest.get("is_demo", False)),
        years=[int(y) for y in manifest.get("collection_years", [])],
    )
    params: dict[str, Any] = {
        "processed_dir": str(Path(processed_dir).resolve()),
        "council_name": config.council_name,
        "council_code": config.council_code,
        "collection_years": None,
        "suppression_threshold": int(config.suppression_threshold),
        "forecast_horizon": int(config.forecast_horizon),
        "benchmark_source": benchmark,
        "compare_with": list(config.compare_with),
        "population": population or None,
    }
    params.update(dict(parameters or {}))
    return params


def find_notebooks(notebooks_dir: Path) -> list[Path]:
    """The notebooks to run: every ``*.ipynb`` directly in the folder, sorted by name.

    Checkpoint copies (``.ipynb_checkpoints``) and hidden files are left out.

    Raises
    ------
    BuildError
        If the folder does not exist.
    """
    if not notebooks_dir.is_dir():
        raise BuildError(f"notebooks folder {notebooks_dir} does not exist")
    return sorted(p for p in notebooks_dir.glob("*.ipynb") if not p.name.startswith("."))


def _is_parameters(cell: nbformat.NotebookNode) -> bool:
    return "parameters" in cell.get("metadata", {}).get("tags", [])


def check_notebook(path: Path) -> nbformat.NotebookNode:
    """Read a notebook and check it can be run and published, before a kernel is started.

    Papermill needs exactly one cell tagged ``parameters``: with none it puts its injected
    cell (and on failure its error cell) at index 0, in front of the raw front-matter cell,
    and the published page loses its title; with two the intent is ambiguous.

    Raises
    ------
    BuildError
        If the file is not a notebook, or it has no or several ``parameters`` cells.
    """
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as exc:  # nbformat raises several kinds (JSON, validation)
        raise BuildError(f"notebook {path.name} cannot be read as a notebook ({exc})") from exc
    tagged = [i for i, cell in enumerate(nb.cells) if _is_parameters(cell)]
    if len(tagged) != 1:
        raise BuildError(
            f"notebook {path.name} has {len(tagged)} cells tagged 'parameters'; it needs "
            "exactly one (papermill injects the project's settings after it)"
        )
    return nb


def _failure_message(path: Path, source_nb: nbformat.NotebookNode, exc: Exception) -> str:
    """One line naming the notebook, the failing cell (source index and first line) and error."""
    index = getattr(exc, "cell_index", None)
    ename = getattr(exc, "ename", None) or type(exc).__name__
    evalue = getattr(exc, "evalue", None)
    evalue = str(exc) if evalue is None else str(evalue)
    if index is None:
        return f"notebook {path.name} failed: {ename}: {' '.join(evalue.split())}"
    # papermill counts the injected-parameters cell; report the index in the source notebook
    params_at = next(i for i, c in enumerate(source_nb.cells) if _is_parameters(c))
    if index == params_at + 1:
        where, first_line = "the injected parameters cell", ""
    else:
        source_index = index - 1 if index > params_at + 1 else index
        where = f"cell {source_index}"
        lines = [ln for ln in source_nb.cells[source_index].source.splitlines() if ln.strip()]
        first_line = f' ("{lines[0].strip()}")' if lines else ""
    message = " ".join(evalue.split())
    return f"notebook {path.name} failed at {where}{first_line}: {ename}: {message}"


def run_notebook(
    path: Path,
    out_dir: Path,
    parameters: Mapping[str, Any],
    *,
    failed_dir: Path | None = None,
    kernel: WarmKernel | None = None,
) -> Path:
    """Execute one notebook with papermill into ``out_dir``; return the executed copy's path.

    The kernel's working folder is the notebook's own folder, so the notebooks' relative
    defaults (``../data/processed``) work as they do in Jupyter. The executed copy is written
    to a scratch folder first and moved into ``out_dir`` only on success, so ``out_dir``
    never holds a half-executed notebook.

    Parameters
    ----------
    kernel : WarmKernel, optional
        A running kernel to use (reset first); without one papermill starts and stops its own.

    Raises
    ------
    BuildError
        One line: ``notebook X.ipynb failed at cell N ("first line"): ValueError: message``
        (N = 0-based index in the source notebook).
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    source_nb = check_notebook(path)
    out_dir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{path.stem}-", dir=out_dir.parent))
    try:
        partial = scratch / path.name
        engine: dict[str, Any] = {"extra_arguments": KERNEL_ARGUMENTS}
        if kernel is not None:
            engine = {"engine_name": register_engine(), "warm_kernel": kernel}
        try:
            papermill.execute_notebook(
                str(path),
                str(partial),
                parameters=dict(parameters),
                kernel_name=KERNEL_NAME,
                language="python",
                cwd=str(path.parent),
                progress_bar=False,
                log_output=False,
                report_mode=False,
                **engine,
            )
        except PapermillExecutionError as exc:
            message = _failure_message(path, source_nb, exc)
            if partial.exists() and failed_dir is not None:
                failed_dir.mkdir(parents=True, exist_ok=True)
                os.replace(partial, failed_dir / path.name)
            raise BuildError(message) from None
        except BuildError:
            raise
        except Exception as exc:  # kernel missing, bad JSON, timeouts: still one line
            raise BuildError(_failure_message(path, source_nb, exc)) from exc
        target = out_dir / path.name
        os.replace(partial, target)
        return target
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def run_notebooks(
    notebooks_dir: Path | None = None,
    out_dir: Path | None = None,
    processed_dir: Path | None = None,
    config: Config | None = None,
    workers: int = 2,
    parameters: Mapping[str, Any] | None = None,
    kernels: KernelPool | None = None,
    seconds: dict[str, float] | None = None,
) -> list[Path]:
    """Execute every ``notebooks/*.ipynb`` with the project's parameters, two at a time.

    Each worker starts one kernel and runs notebook after notebook in it (taking the next
    one in name order when it is free), each from a clean slate (:mod:`cpanalysis.warm_kernel`).

    Parameters
    ----------
    notebooks_dir : Path, optional
        Source notebooks (default: ``<project>/notebooks``).
    out_dir : Path, optional
        Executed notebooks (default: ``<project>/_build/notebooks``, git-ignored).
    processed_dir : Path, optional
        Cleaned data the notebooks read (default: ``config.processed_dir``).
    config : Config, optional
        Project settings (default: ``load_config()`` of the current folder, as the CLI does).
    workers : int
        Notebooks run at once; capped at :data:`MAX_WORKERS` (2).
    parameters : mapping, optional
        Extra or overriding notebook parameters.
    kernels : KernelPool, optional
        Kernels started earlier (:func:`start_kernels`), one per worker; the caller shuts
        them down. Without it each worker starts its own.
    seconds : dict, optional
        How long each notebook took last time, by file name: the longest start first, so
        that two workers finish together (the executed notebooks do not depend on the
        order). Updated in place with this run's times.

    Returns
    -------
    list of Path
        The executed notebooks, in the order of the sources' names.

    Raises
    ------
    BuildError
        If any notebook fails (the first failure, in source order, is reported; notebooks
        already running finish, none is left half-written in ``out_dir``).
    """
    from tqdm import tqdm

    config = config or load_config()
    notebooks_dir = Path(notebooks_dir or config.root / "notebooks")
    out_dir = Path(out_dir or config.root / DEFAULT_OUT)
    processed_dir = Path(processed_dir or config.processed_dir)
    sources = find_notebooks(notebooks_dir)
    if not sources:
        log.warning("no notebooks in %s", notebooks_dir)
        return []
    for path in sources:  # fail fast, before any kernel starts
        check_notebook(path)
    params = notebook_parameters(config, processed_dir, parameters)
    failed_dir = out_dir.parent / FAILED_DIR_NAME
    n_workers = max(1, min(int(workers), MAX_WORKERS, len(sources)))
    results: dict[Path, Path] = {}
    errors: dict[Path, BuildError] = {}
    todo: queue.SimpleQueue[Path] = queue.SimpleQueue()
    timing = seconds if seconds is not None else {}
    # longest first (by last run's times; unknown ones first, in name order)
    for path in sorted(sources, key=lambda p: -timing.get(p.name, float("inf"))):
        todo.put(path)
    lock = threading.Lock()

    pooled = kernels.kernels() if kernels is not None else None
    if pooled is not None:
        n_workers = max(1, min(n_workers, len(pooled)))

    def worker(index: int, bar: Any) -> None:
        with contextlib.ExitStack() as stack:
            kernel: WarmKernel | None = None
            no_kernel = ""
            try:
                if pooled is None:
                    kernel = stack.enter_context(
                        WarmKernel(KERNEL_NAME, notebooks_dir, KERNEL_ARGUMENTS)
                    )
                elif isinstance(pooled[index], WarmKernel):
                    kernel = pooled[index]
                else:
                    raise pooled[index]
            except Exception as exc:  # e.g. NoSuchKernel: each notebook left fails with it
                no_kernel = f"{type(exc).__name__}: {' '.join(str(exc).split())}"
            while True:
                try:
                    path = todo.get_nowait()
                except queue.Empty:
                    return
                try:
                    if kernel is None:
                        raise BuildError(f"notebook {path.name} failed: {no_kernel}")
                    began = time.monotonic()
                    executed = run_notebook(
                        path, out_dir, params, failed_dir=failed_dir, kernel=kernel
                    )
                    with lock:
                        results[path] = executed
                        timing[path.name] = round(time.monotonic() - began, 2)
                except BuildError as exc:
                    with lock:
                        errors[path] = exc
                bar.update(1)

    with (
        tqdm(total=len(sources), desc="notebooks", unit="nb", disable=None) as bar,
        ThreadPoolExecutor(max_workers=n_workers) as pool,
    ):
        for future in [pool.submit(worker, i, bar) for i in range(n_workers)]:
            future.result()
    if errors:
        first = min(errors)
        raise errors[first]
    return [results[p] for p in sources]


def start_kernels(notebooks_dir: Path, workers: int = MAX_WORKERS) -> KernelPool:
    """Start the notebooks' kernels now, in the background, warmed with the stack's imports.

    For :func:`run_notebooks` (``kernels=``) later in the same build; use the pool as a
    context manager so the kernels are shut down however the build ends.
    """
    size = max(1, min(int(workers), MAX_WORKERS))
    return KernelPool(size, KERNEL_NAME, Path(notebooks_dir).resolve(), KERNEL_ARGUMENTS)


def open_data_code(parameters: Mapping[str, Any], measures_file: Path | None = None) -> str:
    """Code that opens the council's data in a kernel exactly as every notebook will.

    WHY: :func:`cpanalysis.analysis.open_analysis` keeps the tables and indicators it
    computed in the kernel; run silently before the notebooks, each notebook's first cell
    finds them ready. With ``measures_file`` (the indicators the build computed, see
    :func:`cpanalysis.analysis.prime`) the kernel reads them instead of computing them
    again. The arguments are the notebooks' own parameters, so the cache matches.
    """
    # the notebooks pass open_analysis every parameter but the folder (notebook_parameters
    # is the one list of them)
    kwargs = {name: value for name, value in parameters.items() if name != "processed_dir"}
    folder = str(parameters["processed_dir"])
    code = ""
    if measures_file is not None:
        primed = {
            name: kwargs.get(name)
            for name in ("population", "collection_years", "suppression_threshold")
            if name in kwargs
        }
        code = (
            "__import__('cpanalysis.analysis', fromlist=['prime']).prime("
            f"{folder!r}, {str(measures_file)!r}, **{primed!r})\n"
        )
    return code + (
        "__import__('cpanalysis.analysis', fromlist=['open_analysis']).open_analysis("
        f"{folder!r}, **{kwargs!r})"
    )
