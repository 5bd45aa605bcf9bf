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
import os
import queue
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = [
    "ENGINE_NAME",
    "ONE_BLAS_THREAD",
    "WARM_UP",
    "KernelPool",
    "WarmKernel",
    "clean_slate",
    "one_blas_thread",
    "register_engine",
]

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


#: The numeric libraries' thread pools, one thread each, in every kernel and in the build.
#: WHY: the build already runs two kernels on two cores; OpenBLAS adding its own threads
#: for the small matrices of a forecast fit made each exponential-smoothing fit about five
#: times slower on a busy machine (1.1 s against 0.2 s, the same estimates).
ONE_BLAS_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def one_blas_thread(env: dict[str, str] | None = None) -> dict[str, str]:
    """``env`` (default: this process's) with :data:`ONE_BLAS_THREAD` where it sets none."""
    merged = dict(os.environ if env is None else env)
    for name, value in ONE_BLAS_THREAD.items():
        merged.setdefault(name, value)
    return merged


#: Kernel starts tried before a notebook run gives up (see :meth:`WarmKernel.__enter__`).
START_ATTEMPTS = 2
#: Seconds a kernel may take to start or to run the warm-up before it counts as dead.
KERNEL_TIMEOUT = 120.0
#: What a pooled kernel runs (silently) as soon as it is up: the modules every notebook
#: imports, and those the library imports only when first used (statsmodels' models,
#: vl-convert), so that no notebook pays for them. Names nothing in the namespace.
WARM_UP = (
    "import importlib\n"
    "for _name in ('cpanalysis.analysis', 'cpanalysis.charts', 'cpanalysis.publish',"
    " 'cpanalysis.config', 'statsmodels.tsa.arima.model',"
    " 'statsmodels.tsa.exponential_smoothing.ets', 'statsmodels.regression.linear_model',"
    " 'statsmodels.duration.survfunc', 'vl_convert'):\n"
    "    importlib.import_module(_name)\n"
    "del importlib, _name"
)

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

        for attempt in range(START_ATTEMPTS):
            # the kernel manager nbclient itself would make (it drives it with asyncio)
            self.km = AsyncKernelManager(kernel_name=self.kernel_name)
            run_sync(self.km.start_kernel)(
                extra_arguments=self.extra_arguments, cwd=str(self.cwd), env=one_blas_thread()
            )
            try:
                self.run_silently("None")  # answers: the kernel is up and listening
                return self
            except Exception as exc:
                # WHY: on a machine under heavy load a kernel can die or miss its start-up
                # window ("Kernel died before replying to kernel_info"); one more start is
                # cheaper than a failed scheduled build. A second failure is real.
                self.__exit__(None, None, None)
                if attempt + 1 == START_ATTEMPTS:
                    raise
                log.warning("kernel did not start (%s); starting it again", exc)
        return self  # pragma: no cover (the loop returns or raises)

    def run_silently(
        self,
        code: str,
        timeout: float = KERNEL_TIMEOUT,
        stop: Callable[[], bool] | None = None,
    ) -> None:
        """Run ``code`` in the kernel with no cell, output or execution count; wait for it.

        Used before any notebook: to wait for the kernel to be ready, and to import the
        stack and open the council's data while the build does its other steps.

        Parameters
        ----------
        stop : callable, optional
            Asked twice a second while waiting: True gives up waiting (the pool is closing
            and stops the kernel itself; interrupting it would print a traceback).

        Raises
        ------
        RuntimeError
            If the code fails in the kernel or the kernel does not answer in ``timeout`` s.
        """
        from jupyter_client.blocking import BlockingKernelClient

        # parent=the manager: "is the kernel alive" asks its process, not the heartbeat
        # (which has not beaten yet while the kernel starts)
        client = BlockingKernelClient(parent=self.km)
        client.load_connection_info(self.km.get_connection_info())
        client.start_channels()
        reply: dict[str, Any] = {}
        try:
            client.wait_for_ready(timeout=timeout)
            msg_id = client.execute(code, silent=True, store_history=False, allow_stdin=False)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if stop is not None and stop():
                    return
                try:
                    msg = client.get_shell_msg(timeout=0.5)
                except queue.Empty:
                    continue
                if msg.get("parent_header", {}).get("msg_id") == msg_id:
                    reply = msg
                    break
        finally:
            client.stop_channels()
        content = reply.get("content", {})
        if content.get("status") != "ok":
            raise RuntimeError(
                f"{content.get('ename', 'no reply')}: {content.get('evalue', '')}".strip()
            )

    def __exit__(self, *exc_info: object) -> None:
        self.shut_down()

    def shut_down(self, now: bool = False) -> None:
        """Stop the kernel: by asking it (``now=False``), or at once (``now=True``, for a
        kernel that holds nothing to save, as a pool's kernels after their notebooks)."""
        from jupyter_core.utils import run_sync

        if self.km is not None:
            try:
                run_sync(self.km.shutdown_kernel)(now=now)
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


class KernelPool:
    """Kernels started in the background as a build begins, ready when its notebooks are.

    WHY: starting a kernel and importing the stack takes seconds of each kernel's time
    before its first notebook; started with the build, it happens while the build
    validates, cleans and computes the indicators. :meth:`prepare` queues more silent code
    (opening the council's data once the cleaned tables exist) behind the warm-up.
    Nothing the pool runs names anything in a notebook's namespace, and each notebook still
    starts from :func:`clean_slate`, so the executed notebooks are unchanged.

    Parameters
    ----------
    size : int
        Kernels to start (one per notebook worker).
    kernel_name, cwd, extra_arguments
        As for :class:`WarmKernel`.
    warm_up : str
        Code each kernel runs once it is up (default :data:`WARM_UP`).

    Use it as a context manager; every kernel is shut down on exit.
    """

    def __init__(
        self,
        size: int,
        kernel_name: str,
        cwd: Path,
        extra_arguments: list[str] | None = None,
        warm_up: str = WARM_UP,
    ) -> None:
        self._queues: list[list[str]] = [[warm_up] if warm_up else [] for _ in range(size)]
        self._slots: list[WarmKernel | BaseException | None] = [None] * size
        # a kernel is busy while a thread of the pool starts it or runs its queue
        self._busy = [True] * size
        self._closing = False
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(
                target=self._start,
                args=(i, lambda: WarmKernel(kernel_name, cwd, extra_arguments)),
                name=f"kernel-{i}",
                daemon=True,
            )
            for i in range(size)
        ]
        self._started = False

    def __enter__(self) -> KernelPool:
        for thread in self._threads:
            thread.start()
        self._started = True
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _start(self, index: int, make: Callable[[], WarmKernel]) -> None:
        try:
            kernel = make().__enter__()
        except BaseException as exc:  # kept: each notebook of this worker fails with it
            with self._lock:
                self._slots[index] = exc
                self._busy[index] = False
            return
        self._slots[index] = kernel
        self._drain(index, kernel)

    def _drain(self, index: int, kernel: WarmKernel) -> None:
        """Run the queued code of kernel ``index`` in order; a failure is only logged."""
        while True:
            with self._lock:
                if self._closing or not self._queues[index]:
                    self._busy[index] = False
                    return
                code = self._queues[index].pop(0)
            try:
                kernel.run_silently(code, stop=lambda: self._closing)
            except Exception as exc:  # the notebook will do the same work and fail loudly
                if not self._closing:  # (an interrupted warm-up is no news)
                    log.warning("kernel warm-up step failed: %s", exc)

    def prepare(self, code: str) -> None:
        """Run ``code`` silently in every kernel, after what is queued, in the background."""
        for index in range(len(self._threads)):
            with self._lock:
                self._queues[index].append(code)
                kernel = self._slots[index]
                idle = not self._busy[index] and isinstance(kernel, WarmKernel)
                if idle:
                    self._busy[index] = True
            if idle:  # started and idle: run the queue on a thread of its own
                self._threads[index] = threading.Thread(
                    target=self._drain, args=(index, kernel), name=f"kernel-{index}", daemon=True
                )
                self._threads[index].start()

    def kernels(self) -> list[WarmKernel | BaseException]:
        """Wait for every kernel to be up and to finish its queued code; return each, or
        the exception that stopped it from starting."""
        if not self._started:
            self.__enter__()
        for thread in self._threads:
            thread.join()
        return [slot if slot is not None else RuntimeError("no kernel") for slot in self._slots]

    def close(self) -> None:
        """Shut every kernel down, soon: a build that stopped early must not wait for the
        warm-up it no longer needs. The kernels are stopped at once (nothing in them is
        kept; an interrupt would print the warm-up's traceback on the build's own stderr),
        side by side, once the threads waiting on them have given up."""
        with self._lock:
            self._closing = True
        for thread in self._threads:
            if thread.is_alive():
                thread.join()
        stopping = [
            threading.Thread(target=slot.shut_down, kwargs={"now": True}, daemon=True)
            for slot in self._slots
            if isinstance(slot, WarmKernel)
        ]
        for thread in stopping:
            thread.start()
        for thread in stopping:
            thread.join()
        self._slots = [None] * len(self._slots)
