"""Run several notebooks, one after another, in one kernel, each from a clean slate.

Why: a notebook run with papermill normally starts its own kernel, and every kernel then
imports pandas, Altair and statsmodels and opens the council's data again, seconds each
time, before the first chart. ``cpanalysis build`` runs four notebooks on the same data: a
kernel kept running (a *warm* kernel) pays for those imports once, and the in-process cache
of :func:`cpanalysis.analysis.open_analysis` pays for opening the data once.

What a fresh kernel would give each notebook, a warm one gives too, so the executed
notebooks (and the site) are byte-identical to one-kernel-per-notebook runs: before each
notebook, :func:`clean_slate` runs in the kernel, silently (no cell, no output, no
execution count): IPython's ``reset`` empties the namespace and restarts the execution
counter at 1, and the offline chart renderer starts a new page (ids from ``cpa-chart-1``,
the vega bundle carried again). Imported modules stay imported; that is the point.

papermill still does everything else (injecting parameters, timing cells, marking a failed
run): this module only lends it the running kernel, through a papermill engine.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

__all__ = ["ENGINE_NAME", "WarmKernel", "clean_slate", "register_engine"]

log = logging.getLogger(__name__)

#: The name the engine is registered under with papermill (``engine_name=``).
ENGINE_NAME = "cpanalysis-warm-kernel"


def clean_slate(shell: Any = None) -> None:
    """In the kernel: forget the last notebook, keep the imported modules.

    Parameters
    ----------
    shell : IPython InteractiveShell, optional
        The kernel's shell (default: the running one).
    """
    if shell is None:
        from IPython import get_ipython

        shell = get_ipython()
    shell.reset(new_session=True)  # empty namespace, execution count back to 1
    offline = sys.modules.get("cpanalysis.charts.offline")
    if offline is not None:
        offline.reset_page()


#: What runs (silently) in the kernel before each notebook: names nothing in its namespace.
_PROLOGUE = "__import__('cpanalysis.warm_kernel', fromlist=['clean_slate']).clean_slate()"


class WarmKernel:
    """A ``python3`` kernel started once and lent to papermill for notebook after notebook.

    Parameters
    ----------
    kernel_name : str
        The kernel spec (``python3``: the project's own interpreter).
    cwd : Path
        The kernel's working folder (the notebooks' folder, as in Jupyter).
    extra_arguments : list of str
        Kernel command-line options (e.g. its log level).
    prologue : str, optional
        More code to run, silently, after :func:`clean_slate` before each notebook.

    Use it as a context manager; the kernel is shut down on exit.
    """

    def __init__(
        self,
        kernel_name: str,
        cwd: Path,
        extra_arguments: list[str] | None = None,
        prologue: str = "",
    ) -> None:
        self.kernel_name = kernel_name
        self.cwd = Path(cwd)
        self.extra_arguments = list(extra_arguments or [])
        self.prologue = prologue
        self.km: Any = None
        self.notebooks_run = 0

    def __enter__(self) -> WarmKernel:
        from jupyter_client.manager import AsyncKernelManager
        from jupyter_core.utils import run_sync

        # the kernel manager nbclient itself would make (it drives it with asyncio)
        self.km = AsyncKernelManager(kernel_name=self.kernel_name)
        run_sync(self.km.start_kernel)(extra_arguments=self.extra_arguments, cwd=str(self.cwd))
        return self

    def __exit__(self, *exc_info: object) -> None:
        from jupyter_core.utils import run_sync

        if self.km is not None:
            try:
                run_sync(self.km.shutdown_kernel)(now=False)
            except Exception as exc:  # the kernel died already: nothing left to stop
                log.debug("kernel shutdown: %s", exc)
            self.km = None

    async def prepare(self, client: Any) -> None:
        """Run the clean slate (and the prologue) in the kernel for the next notebook.

        Raises
        ------
        RuntimeError
            If that code fails in the kernel (the notebook would not start clean).
        """
        code = _PROLOGUE + ("\n" + self.prologue if self.prologue else "")
        msg_id = client.kc.execute(code, silent=True, store_history=False)
        reply = await client.async_wait_for_reply(msg_id)
        content = (reply or {}).get("content", {})
        if content.get("status") != "ok":
            raise RuntimeError(
                "the kernel could not be reset for the next notebook: "
                f"{content.get('ename', 'no reply')}: {content.get('evalue', '')}"
            )
        self.notebooks_run += 1


def register_engine() -> str:
    """Register the warm-kernel engine with papermill (once); return its name."""
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines
    from papermill.utils import merge_kwargs, remove_args

    if ENGINE_NAME in papermill_engines._engines:
        return ENGINE_NAME

    class WarmKernelEngine(NBClientEngine):
        """papermill's nbclient engine, on a :class:`WarmKernel` passed as ``warm_kernel``."""

        @classmethod
        def execute_managed_notebook(
            cls,
            nb_man: Any,
            kernel_name: str,
            log_output: bool = False,
            stdout_file: Any = None,
            stderr_file: Any = None,
            start_timeout: int = 60,
            execution_timeout: int | None = None,
            **kwargs: Any,
        ) -> Any:
            kernel: WarmKernel = kwargs.pop("warm_kernel")
            kwargs = remove_args(["input_path", "timeout", "startup_timeout"], **kwargs)
            client = PapermillNotebookClient(
                nb_man,
                km=kernel.km,  # not owned: nbclient leaves the kernel running after the run
                **merge_kwargs(
                    kwargs,
                    timeout=execution_timeout,
                    startup_timeout=start_timeout,
                    kernel_name=kernel_name,
                    log=logging.getLogger("papermill"),
                    log_output=log_output,
                    stdout_file=stdout_file,
                    stderr_file=stderr_file,
                ),
            )

            async def on_start(notebook: Any = None, **_: Any) -> None:
                await kernel.prepare(client)

            client.on_notebook_start = on_start
            try:
                return client.execute()
            finally:
                if client.kc is not None:  # this run's channels; the kernel stays
                    client.kc.stop_channels()

    papermill_engines.register(ENGINE_NAME, WarmKernelEngine)
    return ENGINE_NAME
