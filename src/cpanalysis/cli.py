"""The ``cpanalysis`` command: one entry point, one subcommand per step of the flow.

    cpanalysis demo OUT_DIR          write synthetic SSDA903 returns
    cpanalysis clean RAW_DIR OUT_DIR read, clean, merge and de-identify returns
    cpanalysis validate RAW_DIR [OUT] the DfE's validation rules on each year's return
    cpanalysis indicators PROC OUT   compute every indicator as tidy, suppressed CSV
    cpanalysis run                   execute the analysis notebooks with papermill
    cpanalysis build                 the scheduled refresh: clean -> indicators -> run -> site

Each subcommand imports its module only when called, so ``cpanalysis --help`` is instant.
Errors the user can act on (:class:`~cpanalysis.errors.CpanalysisError`) are printed as one
line with exit code 2; anything else is a bug, printed as one line with exit code 3 unless
``--debug`` asks for the traceback.
"""

from __future__ import annotations

import argparse
import errno
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from cpanalysis.errors import CpanalysisError

__all__ = ["main", "build_parser"]

log = logging.getLogger("cpanalysis")

#: Operating-system errors the user fixes (a full disk, a read-only or forbidden folder):
#: exit 2 with the system's words, like any bad input, not an "internal error".
_USER_FIXABLE_ERRNOS = {
    errno.ENOSPC,
    errno.EDQUOT,
    errno.EROFS,
    errno.EACCES,
    errno.EPERM,
}


def _cmd_demo(args: argparse.Namespace) -> int:
    from cpanalysis.synthetic import write_demo_returns

    written = write_demo_returns(
        Path(args.out_dir),
        councils=args.councils,
        size=args.size,
        first_year=args.first_year,
        last_year=args.last_year,
        seed=args.seed,
        messy=args.messy,
        messy_rate=args.messy_rate,
        file_format=args.format,
    )
    print(f"wrote {len(written)} files of synthetic returns to {args.out_dir}")
    return 0


def _cmd_clean(args: argparse.Namespace) -> int:
    from cpanalysis.config import load_config
    from cpanalysis.pipeline import clean_returns

    config = load_config(args.config_dir)
    result = clean_returns(Path(args.raw_dir), Path(args.out_dir), config=config)
    print(result.summary())
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from cpanalysis.config import load_config
    from cpanalysis.validation import validate_returns

    config = load_config(args.config_dir)
    report = validate_returns(
        Path(args.raw_dir), root=config.root, local_authority=args.la, workers=args.workers
    )
    print(report.summary())
    if report.unavailable is None:
        written = report.write(Path(args.out_dir))
        print(f"wrote {', '.join(str(p) for p in written)}")
    return 0


def _cmd_indicators(args: argparse.Namespace) -> int:
    from cpanalysis.config import load_config
    from cpanalysis.indicators import write_indicators

    config = load_config(args.config_dir)
    written = write_indicators(Path(args.processed_dir), Path(args.out_dir), config=config)
    print(f"wrote {len(written)} indicator tables to {args.out_dir}")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from cpanalysis.config import load_config
    from cpanalysis.notebook_runner import run_notebooks

    config = load_config(args.config_dir)
    executed = run_notebooks(
        notebooks_dir=Path(args.notebooks_dir) if args.notebooks_dir else None,
        out_dir=Path(args.out_dir) if args.out_dir else None,
        processed_dir=Path(args.processed_dir) if args.processed_dir else None,
        config=config,
        workers=args.workers,
    )
    print(f"executed {len(executed)} notebooks")
    return 0


def _cmd_build(args: argparse.Namespace) -> int:
    from cpanalysis.config import load_config
    from cpanalysis.site.build import build_site

    config = load_config(args.config_dir)
    result = build_site(config, demo=args.demo, workers=args.workers)
    print(result.summary())
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``cpanalysis`` command (public so tests can inspect it)."""
    parser = argparse.ArgumentParser(
        prog="cpanalysis",
        description="Analysis of SSDA903 children-looked-after returns for corporate parenting.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    parser.add_argument("-v", "--verbose", action="store_true", help="log each step")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, func: Callable[[argparse.Namespace], int], help_: str):
        p = sub.add_parser(name, help=help_, description=help_)
        p.set_defaults(func=func)
        return p

    def config_dir(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--config-dir",
            default=".",
            help="folder holding cpanalysis.toml (default: the current folder)",
        )

    p = add("demo", _cmd_demo, "Write synthetic SSDA903 returns for a made-up council.")
    p.add_argument("out_dir", help="folder to write into (one sub-folder per collection year)")
    p.add_argument("--councils", type=int, default=1, help="number of councils (default 1)")
    p.add_argument(
        "--size", type=int, default=500, help="children looked after at 31 March (default 500)"
    )
    p.add_argument(
        "--first-year", type=int, default=2017, help="first collection year, 2017 = 2016-17"
    )
    p.add_argument(
        "--last-year", type=int, default=2026, help="last collection year, 2026 = 2025-26"
    )
    p.add_argument("--seed", type=int, default=903, help="random seed (same seed, same files)")
    p.add_argument("--messy", action="store_true", help="inject the defects real extracts have")
    p.add_argument(
        "--messy-rate", type=float, default=0.02, help="share of cells made messy (default 0.02)"
    )
    p.add_argument(
        "--format", choices=["csv", "xlsx", "xml"], default="csv", help="file format (csv)"
    )

    p = add("clean", _cmd_clean, "Read, clean, merge and de-identify SSDA903 returns.")
    p.add_argument("raw_dir", help="folder of returns: one folder (or file name) per year")
    p.add_argument("out_dir", help="folder for Parquet tables and the data-quality report")
    config_dir(p)

    p = add(
        "validate",
        _cmd_validate,
        "Run the DfE's validation rules (csc-validator-be-903) on each year's return, with "
        "the year before as previous year; write a summary by rule (no child identifiers).",
    )
    p.add_argument("raw_dir", help="folder of returns, as for `cpanalysis clean`")
    p.add_argument(
        "out_dir", nargs="?", default="validation", help="folder for the summary (validation/)"
    )
    p.add_argument(
        "--la", help="the council's ONS code, e.g. E06000045 (default: from home postcodes)"
    )
    p.add_argument("--workers", type=int, default=2, help="years validated at once (at most 2)")
    config_dir(p)

    p = add("indicators", _cmd_indicators, "Compute every indicator as tidy, suppressed CSV.")
    p.add_argument("processed_dir", help="output folder of `cpanalysis clean`")
    p.add_argument("out_dir", help="folder for the indicator CSV files")
    config_dir(p)

    p = add("run", _cmd_run, "Execute the analysis notebooks with papermill.")
    p.add_argument("--notebooks-dir", help="source notebooks (default: notebooks/)")
    p.add_argument("--out-dir", help="executed notebooks (default: _build/notebooks/)")
    p.add_argument("--processed-dir", help="cleaned data (default: data/processed/)")
    p.add_argument("--workers", type=int, default=2, help="notebooks run at once (at most 2)")
    config_dir(p)

    p = add(
        "build",
        _cmd_build,
        "Refresh the whole site: clean -> indicators -> notebooks -> render, swapped in "
        "only if every step succeeds.",
    )
    p.add_argument(
        "--demo",
        action="store_true",
        help="build on synthetic data even if data/raw holds returns",
    )
    p.add_argument("--workers", type=int, default=2, help="notebooks run at once (at most 2)")
    config_dir(p)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code (0 ok, 2 user error, 3 internal error)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    from cpanalysis.warm_kernel import one_blas_thread

    # before numpy loads: one BLAS thread per process (warm_kernel.ONE_BLAS_THREAD says why)
    os.environ.update(one_blas_thread())
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args) or 0)
    except CpanalysisError as exc:
        print(f"cpanalysis {args.command}: error: {exc.one_line()}", file=sys.stderr)
        return 2
    except OSError as exc:
        if exc.errno not in _USER_FIXABLE_ERRNOS:
            if args.debug:
                raise
            return _internal_error(args.command, exc)
        from cpanalysis.quoting import printable

        where = f" ({printable(str(exc.filename))})" if exc.filename else ""
        print(f"cpanalysis {args.command}: error: {exc.strerror}{where}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"cpanalysis {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: still one line unless --debug
        if args.debug:
            raise
        return _internal_error(args.command, exc)


def _internal_error(command: str, exc: BaseException) -> int:
    from cpanalysis.quoting import printable

    message = printable(" ".join(str(exc).split())) or type(exc).__name__
    print(
        f"cpanalysis {command}: internal error: {type(exc).__name__}: {message} "
        "(run with --debug for the traceback)",
        file=sys.stderr,
    )
    return 3


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
