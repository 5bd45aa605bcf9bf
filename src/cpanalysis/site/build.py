"""The one-command, fail-safe refresh of the site: ``cpanalysis build``.

The scheduled job a council runs (nightly, or after each return) must never leave managers
with a half-built or wrong site. So a build first takes the project's build lock (one build
at a time: :mod:`cpanalysis.site.lock`), finishes any publish a killed build had committed
(:func:`cpanalysis.site.release.recover`), refuses read-only targets, and runs every step in
a scratch folder of its own (``_build/staging-<random>/``); the new site replaces the old one
only when all succeeded:

1. choose the data: the council's returns in ``data/raw/`` if it holds any file other than
   ``README.md``, else synthetic demo returns in ``data/demo/raw/`` (generated once per set
   of demo settings, then reused: :mod:`cpanalysis.demo`);
2. clean, merge and de-identify them (:func:`cpanalysis.pipeline.clean_returns`), or copy
   the last build's tables when the returns, settings, key and code are all unchanged
   (:mod:`cpanalysis.clean_cache`);
3. compute the indicators as suppressed CSVs (:func:`cpanalysis.indicators.write_indicators`);
4. execute the notebooks on the new data (:func:`cpanalysis.notebook_runner.run_notebooks`);
   inside a build a notebook that finds no cleaned data fails, it never generates the demo
   council's (:data:`cpanalysis.demo.NO_DEMO_FALLBACK_ENV`);
5. write the pages (scorecard, data quality, about, downloads) and render the site with
   Quarto or smalldocs, with no request to any other host;
6. write the run manifest, check every page is under 3 MB and run the privacy gate;
7. publish the new site into ``_site/`` and the new data into ``data/processed/`` together
   (a journalled two-phase swap, :func:`cpanalysis.site.release.publish`): a kill at any
   point leaves either the old pair or, once the next build starts, the new pair.

What does not depend on the step before it runs beside it, on the machine's second core
(the build must take seconds, not a minute: issue 14): the notebooks' kernels start and
import the stack as the build begins (:class:`cpanalysis.warm_kernel.KernelPool`), and open
the council's data as soon as it is cleaned; the DfE's validation rules and the reading of
the raw identifiers for the privacy gate run in threads while the returns are cleaned and
the notebooks run. The steps still report in the order above, and a failure is still
reported as the step's own.

Any failure raises :class:`~cpanalysis.errors.BuildError` with one line naming the step
(a full disk or a read-only folder included), and ``_site/`` and ``data/processed/`` stay
exactly as they were.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cpanalysis.config import Config
from cpanalysis.demo import NO_DEMO_FALLBACK_ENV, population_for
from cpanalysis.errors import BuildError, CpanalysisError
from cpanalysis.folders import check_writable, os_error_line
from cpanalysis.site import manifest as run_manifest
from cpanalysis.site.lock import BuildLock
from cpanalysis.site.release import CARRIED_OVER, publish, recover

if TYPE_CHECKING:
    from cpanalysis.site.privacy_gate import Identifiers, Library
    from cpanalysis.warm_kernel import KernelPool

__all__ = [
    "MAX_PAGE_BYTES",
    "BuildResult",
    "choose_data",
    "swap_in",
    "build_site",
]

log = logging.getLogger(__name__)

#: No page may be larger (a manager opens it on a council laptop, maybe from a file share).
MAX_PAGE_BYTES = 3 * 1024 * 1024
#: Files a target folder keeps across swaps (committed placeholders).
_CARRIED_OVER = CARRIED_OVER
#: Scratch folders of builds start with this, inside ``_build``.
STAGING_PREFIX = "staging-"


@dataclass
class BuildResult:
    """What a build produced.

    Attributes
    ----------
    site_dir : Path
        The published site.
    renderer : str
        ``"Quarto <version>"`` or ``"smalldocs <version>"``.
    pages : list of str
        HTML pages, relative to ``site_dir``.
    largest_page : tuple of (str, int)
        The largest page and its size in bytes.
    seconds : float
        Time the build took.
    is_demo : bool
        Built on synthetic returns.
    council_name : str
    years : list of int
        Collection years in the data.
    warnings : list of str
        Renderer warnings worth reading.
    """

    site_dir: Path
    renderer: str
    pages: list[str]
    largest_page: tuple[str, int]
    seconds: float
    is_demo: bool
    council_name: str
    years: list[int] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One paragraph for the CLI and the scheduled job's log."""
        from cpanalysis.schema import year_label

        kind = "synthetic demo returns" if self.is_demo else "the council's returns"
        span = (
            f", {year_label(min(self.years))} to {year_label(max(self.years))}"
            if self.years
            else ""
        )
        name, size = self.largest_page
        extra = f" Renderer warnings: {'; '.join(self.warnings)}." if self.warnings else ""
        return (
            f"Built the site for {self.council_name} from {kind}{span} into {self.site_dir} "
            f"with {self.renderer}: {len(self.pages)} pages, largest {name} "
            f"({size / 1_000_000:.2f} MB), in {self.seconds:.0f} s. Privacy gate passed; "
            f"run manifest in {self.site_dir / 'run_manifest.json'}.{extra}"
        )


def choose_data(config: Config, *, demo: bool = False) -> tuple[Path, bool]:
    """The returns to build from, and whether they are synthetic.

    Real returns in ``config.raw_dir`` (any file other than ``README.md``) win unless
    ``demo`` is asked for; otherwise the demo council's returns in ``config.demo_dir/raw``,
    generated with ``config.demo`` settings and reused while they are unchanged. The choice
    is :func:`cpanalysis.demo.choose_raw_dir`'s, shared with ``cpanalysis run`` and the
    notebooks so every entry point builds on the same data.
    """
    from cpanalysis.demo import choose_raw_dir

    return choose_raw_dir(config, demo=demo)


def swap_in(new: Path, target: Path, build_dir: Path | None = None) -> None:
    """Replace ``target`` by ``new`` (one folder; see :func:`cpanalysis.site.release.publish`).

    Committed placeholders of the old folder (``README.md``, ``.gitkeep``) are carried into
    the new one. If ``new`` cannot be moved in, ``target`` is left as it was.
    """
    publish([(Path(new), Path(target))], Path(build_dir or Path(target).parent))


@contextmanager
def _no_demo_fallback() -> Iterator[None]:
    """Inside a build, a notebook kernel that finds no cleaned data must fail, not make some.

    The kernels inherit this process's environment; :func:`cpanalysis.demo.ensure_processed`
    refuses to generate demo data while the variable is set.
    """
    before = os.environ.get(NO_DEMO_FALLBACK_ENV)
    os.environ[NO_DEMO_FALLBACK_ENV] = "1"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(NO_DEMO_FALLBACK_ENV, None)
        else:
            os.environ[NO_DEMO_FALLBACK_ENV] = before


def _clear_scratch(build_dir: Path) -> None:
    """Remove the scratch folders of builds that were killed (only called under the lock)."""
    for old in build_dir.glob(STAGING_PREFIX + "*"):
        shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(build_dir / "staging", ignore_errors=True)  # the shared folder of old versions


@contextmanager
def _step(name: str) -> Iterator[None]:
    """Turn any failure inside a step into one line naming the step."""
    log.info("build: %s", name)
    try:
        yield
    except CpanalysisError as exc:
        if exc.one_line().startswith(name):  # the message already names the step
            raise
        raise BuildError(f"{name}: {exc.one_line()}") from exc
    except OSError as exc:  # a full disk, a read-only folder: the system's words, one line
        raise BuildError(f"{name}: {os_error_line(exc)}") from exc
    except Exception as exc:
        message = " ".join(str(exc).split()) or "no message"
        raise BuildError(f"{name}: {type(exc).__name__}: {message}") from exc


def _relative(path: Path, root: Path) -> str:
    try:
        return Path(path).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return Path(path).as_posix()


def _pages_and_sizes(site_dir: Path) -> list[tuple[str, int]]:
    return sorted(
        (p.relative_to(site_dir).as_posix(), p.stat().st_size) for p in site_dir.rglob("*.html")
    )


def build_site(
    config: Config,
    *,
    demo: bool = False,
    workers: int = 2,
    notebooks_dir: Path | None = None,
    site_dir: Path | None = None,
    renderer: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> BuildResult:
    """Refresh the whole site; swap it in only if every step succeeded.

    Parameters
    ----------
    config : Config
        Project settings; ``config.root`` is the project folder.
    demo : bool
        Build on synthetic returns even if ``data/raw/`` holds real ones.
    workers : int
        Notebooks run at once (at most 2).
    notebooks_dir : Path, optional
        Source notebooks (default ``<root>/notebooks``).
    site_dir : Path, optional
        Where the site is published (default ``<root>/_site``).
    renderer : str, optional
        ``"quarto"`` or ``"smalldocs"`` (default: Quarto when on PATH).
    progress : callable, optional
        Called with the name of each step as it starts.

    Returns
    -------
    BuildResult
        Its :meth:`~BuildResult.summary` names the renderer, pages, largest page and time.

    Raises
    ------
    BuildError
        One line naming the failed step; ``_site/`` and ``data/processed/`` are unchanged.
    """
    from cpanalysis.site.render import which_renderer

    t0 = time.monotonic()
    started = run_manifest.utc_now()
    root = config.root
    site_dir = Path(site_dir or root / "_site")
    notebooks_dir = Path(notebooks_dir or root / "notebooks")
    build_dir = root / "_build"
    renderer = renderer or which_renderer()

    def step(name: str):
        if progress is not None:
            progress(name)
        return _step(name)

    check_writable(root, [root, build_dir, site_dir, root / "data", config.processed_dir])
    try:
        lock = BuildLock(build_dir).acquire()
    except OSError as exc:
        raise BuildError(f"taking the build lock: {os_error_line(exc)}") from exc
    try:
        with step("finishing an interrupted publish"):
            if lock.previous:
                log.warning("the build of pid %s ended without finishing", lock.previous["pid"])
            recover(build_dir, [site_dir, config.processed_dir])
            _clear_scratch(build_dir)
            staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=build_dir))
        from cpanalysis.notebook_runner import start_kernels

        # started now, ready by the notebooks step; shut down however the build ends
        with (
            start_kernels(notebooks_dir, workers) as kernels,
            ThreadPoolExecutor(max_workers=2, thread_name_prefix="build") as beside,
        ):
            return _build_in(
                staging,
                config,
                demo,
                workers,
                notebooks_dir,
                site_dir,
                renderer,
                step,
                t0,
                started,
                kernels,
                beside,
            )
    finally:
        lock.release()


def _build_in(
    staging: Path,
    config: Config,
    demo: bool,
    workers: int,
    notebooks_dir: Path,
    site_dir: Path,
    renderer: str,
    step: Callable[[str], Any],
    t0: float,
    started: str,
    kernels: KernelPool,
    beside: ThreadPoolExecutor,
) -> BuildResult:
    """The steps of :func:`build_site`, under its lock, in the build's own ``staging``.

    ``kernels`` are the notebooks' kernels, already starting; ``beside`` runs the steps that
    read only the raw returns (validation, the privacy gate's identifiers) in parallel.
    """
    from cpanalysis.site import pages as site_pages
    from cpanalysis.site.render import render_project, renderer_label

    root = config.root
    build_dir = staging.parent
    try:
        with step("choosing the data"):
            raw_dir, is_demo = choose_data(config, demo=demo)
        with step("running the DfE validation rules"):
            validating = beside.submit(
                _validation_step,
                raw_dir,
                root,
                staging / "validation",
                config.suppression_threshold,
            )
        identifying = beside.submit(_identifiers, raw_dir)
        libraries = beside.submit(_library_without_quarto)
        processed = staging / "processed"
        try:
            with step("cleaning the returns"):
                from cpanalysis.clean_cache import clean_or_reuse

                # the same returns, settings, key and code as last time: the same tables
                clean_or_reuse(
                    raw_dir, processed, config, is_demo=is_demo, previous=config.processed_dir
                )
            with step("computing the indicators"):
                import pandas as pd  # here, not at the top: the kernels start first

                from cpanalysis.indicators import compute_all, write_indicators
                from cpanalysis.notebook_runner import (
                    notebook_parameters,
                    open_data_code,
                    run_notebooks,
                )
                from cpanalysis.processed import load_processed
                from cpanalysis.suppression import suppress

                data = load_processed(processed)
                # computed once: the downloads, the scorecard and the notebooks agree
                unsuppressed = compute_all(
                    data,
                    population=population_for(config, is_demo=is_demo, years=data.years) or None,
                )
                measures = suppress(unsuppressed, threshold=config.suppression_threshold)
                computed = staging / "measures.pickle"
                pd.to_pickle(
                    {
                        "measures": unsuppressed,
                        "suppressed": measures,
                        "geography": str(data.council_name or "Council"),
                        "threshold": int(config.suppression_threshold),
                    },
                    computed,
                )
                # each kernel takes them (and opens the data as its notebooks will) once its
                # imports are done, while this process writes the downloads
                kernels.prepare(open_data_code(notebook_parameters(config, processed), computed))
                indicator_files = write_indicators(
                    processed,
                    staging / "indicators",
                    config,
                    measures=unsuppressed,
                    published=measures,
                    data=data,
                )
            with step("running the notebooks"):
                seconds = _notebook_seconds(build_dir)
                with _no_demo_fallback():
                    executed = run_notebooks(
                        notebooks_dir,
                        staging / "notebooks",
                        processed,
                        config,
                        workers=workers,
                        kernels=kernels,
                        seconds=seconds,
                    )
                _notebook_seconds(build_dir, seconds)
        except CpanalysisError:
            # the validation step comes first: its failure is the one to report
            _finish("running the DfE validation rules", validating)
            raise
        validation = _finish("running the DfE validation rules", validating)
        with step("building the scorecard"):
            from cpanalysis.comparators import comparators
            from cpanalysis.scorecard import build_scorecard

            england = comparators(
                config.council_code,
                config.benchmark_source,
                config.compare_with,
                root=config.root,
                statistical_neighbours=config.statistical_neighbours,
            )
            card = build_scorecard(measures, england, config.targets)
            years = sorted(int(y) for y in data.years)
        with step("writing the pages"):
            params = notebook_parameters(config, processed)
            # where the data are published, not the build's own scratch folder (repeatable)
            params["processed_dir"] = _relative(config.processed_dir, root)
            manifest: dict[str, Any] = {
                "data_kind": "demo (synthetic)" if is_demo else "real",
                "council_name": config.council_name,
                "council_code": config.council_code,
                "collection_years": years,
                "raw_dir": _relative(raw_dir, root),
                "input_files": run_manifest.file_digests(raw_dir),
                "packages": run_manifest.package_versions(),
                "lock_file": run_manifest.lock_file_digest(root),
                "parameters": params,
                "notebooks": [p.name for p in executed],
                "renderer": renderer_label(renderer),
            }
            if is_demo:
                from cpanalysis.demo import demo_settings

                manifest["demo_settings"] = demo_settings(config)
            from cpanalysis.quality_published import published_quality, write_published_csv

            ctx = site_pages.SiteContext(config.council_name, is_demo, years, manifest)
            quality_path = processed / "quality_report.json"
            quality = json.loads(quality_path.read_text("utf-8")) if quality_path.is_file() else {}
            # the site's copy withholds small numbers of records (data/processed keeps all)
            quality = published_quality(quality, config.suppression_threshold)
            downloads = {p.name: p for p in indicator_files if p.suffix == ".csv"}
            if (processed / "quality_report.csv").is_file():
                downloads["quality_report.csv"] = write_published_csv(
                    processed / "quality_report.csv",
                    staging / "published" / "quality_report.csv",
                    config.suppression_threshold,
                )
            if (staging / "validation" / "validation_summary.csv").is_file():
                downloads["validation_summary.csv"] = (
                    staging / "validation" / "validation_summary.csv"
                )
            project = staging / "project"
            site_pages.write_project(
                project,
                template=_template(root),
                ctx=ctx,
                scorecard=card,
                quality=quality,
                validation=validation,
                notebooks=executed,
                methodology=root / "methodology.qmd",
                downloads=downloads,
                measures=measures,
                comparators=england,
                threshold=config.suppression_threshold,
            )
        with step("rendering the site"):
            rendered = render_project(project, renderer)
        with step("checking page sizes"):
            sizes = _pages_and_sizes(rendered.site_dir)
            too_big = [(n, s) for n, s in sizes if s > MAX_PAGE_BYTES]
            if too_big:
                name, size = too_big[0]
                raise BuildError(f"{name} is {size / 1e6:.1f} MB; every page must stay under 3 MB")
        with step("privacy gate"):
            from cpanalysis.site.privacy_gate import _quarto_share, check_published, known_library

            manifest.update(started=started, finished=run_manifest.utc_now())
            run_manifest.write_manifest(rendered.site_dir / "run_manifest.json", manifest)
            # the build's own figures from its settings (population) are not a child's ID
            own = [v for item in (manifest["parameters"].get("population") or {}).items()
                   for v in item]  # fmt: skip
            idents = _finish("privacy gate", identifying).without(own)
            # code shipped unchanged is not data; Quarto's share is only known after render
            library = (
                known_library(rendered.site_dir)
                if _quarto_share() is not None
                else _finish("privacy gate", libraries)
            )
            check_published([rendered.site_dir, processed], idents, library)
        with step("publishing"):
            publish([(rendered.site_dir, site_dir), (processed, config.processed_dir)], build_dir)
    finally:
        failed = staging / "failed_notebooks"
        if failed.is_dir():  # kept for the analyst to open, as run_notebooks promises
            shutil.rmtree(build_dir / "failed_notebooks", ignore_errors=True)
            os.replace(failed, build_dir / "failed_notebooks")
        shutil.rmtree(staging, ignore_errors=True)
    largest = max(sizes, key=lambda item: item[1]) if sizes else ("", 0)
    return BuildResult(
        site_dir=site_dir,
        renderer=rendered.renderer,
        pages=[name for name, _ in sizes],
        largest_page=largest,
        seconds=time.monotonic() - t0,
        is_demo=is_demo,
        council_name=config.council_name,
        years=years,
        warnings=rendered.warnings,
    )


#: The notebooks' run times of the last build (``_build/``): the next build starts the
#: longest first.
NOTEBOOK_SECONDS = "notebook_seconds.json"


def _notebook_seconds(build_dir: Path, seconds: dict[str, float] | None = None) -> dict:
    """Read (or, given ``seconds``, write) the last build's notebook run times.

    Only an order hint: a missing or unreadable file gives ``{}`` and a failed write is
    ignored, because no figure depends on the order the notebooks ran in.
    """
    path = build_dir / NOTEBOOK_SECONDS
    if seconds is None:
        try:
            found = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(found, dict):
            return {}
        return {str(k): float(v) for k, v in found.items() if isinstance(v, int | float)}
    try:
        path.write_text(json.dumps(seconds, sort_keys=True), encoding="utf-8")
    except OSError as exc:
        log.debug("notebook times not kept: %s", os_error_line(exc))
    return seconds


def _finish(name: str, future: Future[Any]) -> Any:
    """The result of a step run beside the others, its failure one line naming the step."""
    with _step(name):
        return future.result()


def _library_without_quarto() -> Library:
    """The libraries the gate knows, read beside the other steps (all of them, on a
    machine without Quarto: its resources are the only part that needs the rendered site)."""
    from cpanalysis.site.privacy_gate import known_library

    return known_library(None)


def _identifiers(raw_dir: Path) -> Identifiers:
    """The raw returns' identifiers the privacy gate looks for (read beside the cleaning)."""
    from cpanalysis.site.privacy_gate import identifiers_from_returns

    return identifiers_from_returns(raw_dir)


def _validation_step(
    raw_dir: Path, root: Path, out_dir: Path, threshold: int = 5
) -> dict[str, Any]:
    """The DfE's rules on the raw returns (before de-identification), as published.

    Writes ``validation_summary.csv`` (without row numbers) into ``out_dir`` and returns the
    summary's JSON for the Data quality page. Never fails the build: without the validator's
    environment (no network) or if the validator stops, the page says so in one line.
    """
    from cpanalysis.validation import ValidationReport, validate_returns
    from cpanalysis.validation.page import published_summary

    try:
        report = validate_returns(raw_dir, root=root, cache_dir=root / "_build" / "validation")
    except Exception as exc:  # the cleaning step reports unreadable returns properly
        message = " ".join(str(exc).split()) or type(exc).__name__
        report = ValidationReport(unavailable=f"the validator could not run ({message})")
    if report.unavailable:
        log.warning("DfE validator not run: %s", report.unavailable)
    summary = report.to_json()
    out_dir.mkdir(parents=True, exist_ok=True)
    if report.years:
        published_summary(summary, threshold).to_csv(
            out_dir / "validation_summary.csv", index=False
        )
    return summary


def _template(root: Path) -> Path:
    """The project's ``_quarto.yml`` (the layout of the site)."""
    path = root / "_quarto.yml"
    if not path.is_file():
        raise BuildError(f"{path} is missing: it sets the site's pages and navbar")
    return path
