"""``cpanalysis clean``: raw returns in, de-identified processed tables out, all or nothing.

The steps, each one module (``docs/design.md``)::

    read_returns -> clean_tables (each table and year) -> merge_years (each table)
    -> repair_episodes
    -> deidentify (each table) -> write Parquet + quality report + manifest

Everything is computed in memory first and written to a temporary folder beside ``out_dir``,
which replaces ``out_dir`` only when every file is written. So a bad input (an unreadable
file, a missing column, a return for an unknown year) stops the run with one clear message and
leaves the previous processed data exactly as it was: a scheduled refresh can never publish
half a year.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cpanalysis import __version__, schema
from cpanalysis.config import Config
from cpanalysis.deidentify import PseudonymMemo, deidentify, hash_key
from cpanalysis.distinct import spread_text, text_codes
from cpanalysis.errors import InputError
from cpanalysis.folders import file_sha256, is_writable
from cpanalysis.merge import merge_years, repair_episodes
from cpanalysis.processed import MANIFEST_NAME, TABLES, processed_columns
from cpanalysis.quality import QualityReport

__all__ = ["CleanResult", "clean_returns", "conform"]

log = logging.getLogger(__name__)

#: Files an output folder may already hold that are not ours (kept across runs).
_CARRIED_OVER = {"readme.md", "readme.txt", ".gitkeep"}


@dataclass
class CleanResult:
    """What :func:`clean_returns` produced.

    Attributes
    ----------
    tables : dict[str, DataFrame]
        The processed (de-identified) tables by key, as written.
    report : QualityReport
        The account of every raw row.
    out_dir : Path
        Where the tables were written.
    manifest : dict
        The content of ``clean_manifest.json``.
    """

    tables: dict[str, pd.DataFrame]
    report: QualityReport
    out_dir: Path
    manifest: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> str:
        """One short paragraph: files read, rows read / kept / set aside, tables written."""
        s = self.report.summary()
        read = int(s["rows_read"].fillna(0).sum())
        aside = int(s["rows_set_aside"].fillna(0).sum())
        replaced = int(s["rows_replaced"].fillna(0).sum())
        kept = int(sum(len(t) for t in self.tables.values()))
        files = len(self.manifest.get("input_files", [])) or s["source"].nunique()
        years = self.manifest.get("collection_years", [])
        span = ""
        if years:
            span = f" for {schema.year_label(years[0])}"
            if years[-1] != years[0]:
                span += f" to {schema.year_label(years[-1])}"
        changed = self.report.details()
        changed = int(changed.loc[changed["action"] == "changed", "count"].sum())
        return (
            f"Read {files} file(s){span}: {read:,} rows read; {replaced:,} were earlier copies "
            f"of records a later return sent again, {aside:,} were set aside, and {changed:,} "
            f"values were repaired (see quality_report.csv); {kept:,} rows after merging. Wrote "
            f"{len(self.tables)} tables ({', '.join(sorted(self.tables))}) to {self.out_dir}."
        )


# --------------------------------------------------------------------------- steps
def _with_council(frame: pd.DataFrame, la: str | None, council_code: str) -> pd.DataFrame:
    """Fill ``LA``: the folder's council code if the layout named one, else the configured one."""
    code = la or council_code
    if "LA" in frame and isinstance(frame["LA"].dtype, pd.CategoricalDtype):
        if frame["LA"].isna().any():
            if code not in frame["LA"].cat.categories:
                frame["LA"] = frame["LA"].cat.add_categories([code])
            frame["LA"] = frame["LA"].fillna(code)
    elif "LA" in frame:
        frame["LA"] = frame["LA"].astype("string").fillna(code)
    else:
        frame["LA"] = pd.Series(code, index=frame.index, dtype="string")
    return frame


def conform(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Columns and dtypes of Contract 1: contract columns first (added empty if absent).

    Dates become ``datetime64[ns]``, codes ``category``, ids ``string``, flags ``Int64``;
    ``YEAR`` int64, ``LA``/``REPAIR`` string, ``PL_DISTANCE`` float64. Extra columns a
    cleaner added are kept after them.
    """
    wanted = processed_columns(table)
    out = frame.copy()
    for name, dtype in wanted.items():
        if name not in out:
            out[name] = pd.Series(pd.NA if dtype != "float64" else np.nan, index=out.index)
            out[name] = out[name].astype(dtype)
            continue
        current = out[name].dtype
        if dtype == "datetime64[ns]":
            if str(current) != dtype:
                out[name] = pd.to_datetime(out[name]).astype(dtype)
        elif dtype == "category":
            if not isinstance(current, pd.CategoricalDtype):
                out[name] = out[name].astype("string").astype("category")
        elif dtype == "string" and isinstance(current, pd.CategoricalDtype):
            # by code from the categories: pandas would make a Python string per row
            codes, distinct = text_codes(out[name])
            out[name] = spread_text(distinct, codes, out.index)
        elif dtype in ("string", "Int64", "int64", "float64") and str(current) != dtype:
            out[name] = out[name].astype(dtype)
    extras = [c for c in out.columns if c not in wanted]
    return out[list(wanted) + extras].reset_index(drop=True)


def _input_files(raw_dir: Path, sources: list[str]) -> list[dict[str, str]]:
    """Each input file read (relative to the raw folder) with its SHA-256."""
    files = sorted({s.split("#", 1)[0] for s in sources})
    return [{"file": f, "sha256": file_sha256(raw_dir / f)} for f in files]


def _check_folders(raw_dir: Path, out_dir: Path) -> None:
    """Refuse an output folder that is, holds or sits in the raw folder, or holds other files.

    The output folder is replaced as a whole, so pointing it at the raw returns (or at a
    folder of someone's documents) must fail before anything is touched.
    """
    raw = raw_dir.resolve()
    out = out_dir.resolve()
    if out == raw or raw.is_relative_to(out) or out.is_relative_to(raw):
        raise InputError(
            "the output folder must be outside the raw data folder (it is replaced on every run)",
            file=out_dir,
        )
    if out.exists() and not out.is_dir():
        raise InputError("the output folder is a file", file=out_dir)
    for folder in (out, out.parent):
        if folder.is_dir() and not is_writable(folder):
            raise InputError(
                "this folder is read-only and the output folder is replaced on every run; "
                "nothing was changed (make it writable to clean into it)",
                file=folder,
            )
    if out.is_dir() and not (out / MANIFEST_NAME).exists():
        foreign = [p.name for p in out.iterdir() if p.name.lower() not in _CARRIED_OVER]
        if foreign:
            names = ", ".join(sorted(foreign)[:3]) + (" ..." if len(foreign) > 3 else "")
            raise InputError(
                f"the output folder holds files this tool did not write ({names}); choose "
                "an empty or new folder",
                file=out_dir,
            )


def _record_kept(report: QualityReport, merged: dict[str, pd.DataFrame]) -> None:
    """Tell the report how many rows of each (file, table) reached the processed tables.

    This makes :meth:`QualityReport.check_balanced` a real check: a step that lost a row
    without setting it aside now shows as an unbalanced file.
    """
    kept: dict[tuple[str, str], int] = {}
    for table, frame in merged.items():
        if len(frame):
            for source, n in frame["_source"].value_counts(sort=False).items():
                kept[(str(source), table)] = int(n)
    for row in report.summary().itertuples(index=False):
        report.kept(row.source, row.table, kept.get((row.source, row.table), 0))


def _write(
    out_dir: Path, tables: dict[str, pd.DataFrame], report: QualityReport, manifest: dict
) -> None:
    """Write everything into a fresh sibling folder, then swap it in for ``out_dir``."""
    parent = out_dir.parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.new-", dir=parent))
    old: Path | None = None
    try:
        for table, frame in tables.items():
            frame.to_parquet(tmp / f"{table}.parquet", index=False)
        report.write(tmp)
        (tmp / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        if out_dir.is_dir():
            for item in out_dir.iterdir():
                if item.name.lower() in _CARRIED_OVER and item.is_file():
                    shutil.copy2(item, tmp / item.name)
            old = parent / f".{out_dir.name}.old-{os.getpid()}"
            if old.exists():
                shutil.rmtree(old)
            out_dir.rename(old)
        try:
            tmp.rename(out_dir)
        except OSError:
            if old is not None:
                old.rename(out_dir)
            raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# --------------------------------------------------------------------------- entry point
def clean_returns(
    raw_dir: Path,
    out_dir: Path,
    config: Config | None = None,
    *,
    is_demo: bool = False,
) -> CleanResult:
    """Read, clean, merge, repair and de-identify every return in ``raw_dir`` into ``out_dir``.

    Parameters
    ----------
    raw_dir : Path
        Folder of returns (any layout :func:`cpanalysis.readers.read_returns` accepts).
    out_dir : Path
        Processed folder to (re)create: ``<table>.parquet`` per table present,
        ``quality_report.csv``/``.json`` and ``clean_manifest.json``. Replaced as a whole,
        only when everything succeeded; a README in it is kept.
    config : Config, optional
        Council name and code (the code is ``LA`` where the folder layout names none) and
        the pseudonymisation key. None: default settings with the folder holding
        ``out_dir`` as project root (where a new key file would be kept).
    is_demo : bool
        True for synthetic returns (fixed demo key; the manifest says so).

    Returns
    -------
    CleanResult

    Raises
    ------
    InputError
        Naming the file (and row/column) of any bad input; ``out_dir`` is then untouched.
    """
    # Imported here so that ``cpanalysis.pipeline`` can be imported (and its helpers
    # tested) without the reader and cleaner.
    from cpanalysis.cleaning import clean_tables, flag_born_after_entering_care
    from cpanalysis.readers import read_returns

    raw_dir = Path(raw_dir)
    out_dir = Path(out_dir)
    if config is None:
        config = Config(root=out_dir.resolve().parent)
    if not raw_dir.is_dir():
        raise InputError("raw data folder not found", file=raw_dir)
    _check_folders(raw_dir, out_dir)

    report = QualityReport()
    raws = read_returns(raw_dir, report)
    if not raws:
        raise InputError(f"no SSDA903 returns found in {raw_dir}", file=raw_dir)
    log.info(
        "read %d tables from %s for %s (%s)%s",
        len(raws),
        raw_dir,
        config.council_name,
        config.council_code,
        " - synthetic data" if is_demo else "",
    )
    sources = [r.source for r in raws]
    years = sorted({int(r.year) for r in raws})

    # Raw string tables are released as soon as they are cleaned, and cleaned ones as soon
    # as they are merged, so at most about two copies of the data are held at once.
    # The files of one table and collection year (every council's) are cleaned in one call:
    # the report still hears about each file on its own.
    groups: dict[tuple[str, int], list] = {}
    for raw in raws:
        groups.setdefault((raw.table, int(raw.year)), []).append(raw)
    del raws, raw
    by_table: dict[str, list[pd.DataFrame]] = defaultdict(list)
    for table, year in list(groups):
        frame = clean_tables(groups.pop((table, year)), report)
        by_table[table].append(_with_council(frame, None, config.council_code))
        del frame

    merged: dict[str, pd.DataFrame] = {}
    for table in [t for t in TABLES if t in by_table] + sorted(set(by_table) - set(TABLES)):
        merged[table] = merge_years(by_table.pop(table), table, report)
    if "episodes" in merged and "header" in merged:
        flag_born_after_entering_care(merged["header"], merged["episodes"], report)
    if "episodes" in merged:
        merged["episodes"] = repair_episodes(
            merged["episodes"], report, header=merged.get("header")
        )
    _record_kept(report, merged)
    report.check_balanced()

    key = hash_key(config, is_demo=is_demo)
    memo = PseudonymMemo()  # each child's pseudonym made once, whatever the number of tables
    tables = {t: conform(t, deidentify(t, merged.pop(t), key, memo)) for t in list(merged)}
    manifest = {
        "council": {"name": config.council_name, "code": config.council_code},
        "councils_in_data": sorted(
            {str(x) for t in tables.values() for x in t["LA"].dropna().unique()}
        ),
        "is_demo": bool(is_demo),
        "collection_years": years,
        "input_files": _input_files(raw_dir, sources),
        "rows": {table: int(len(frame)) for table, frame in tables.items()},
        "cpanalysis_version": __version__,
    }
    _write(out_dir, tables, report, manifest)
    log.info("wrote %d tables to %s", len(tables), out_dir)
    return CleanResult(tables=tables, report=report, out_dir=out_dir, manifest=manifest)
