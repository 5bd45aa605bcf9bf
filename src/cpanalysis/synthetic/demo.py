"""``write_demo_returns``: synthetic returns on disk, laid out like real extracts.

One folder per collection year (``OUT/2024-25/``), or per council and year
(``OUT/801/2024-25/``) when several councils are written. Councils are simulated in a pool
of two processes when there are several; each has its own seed derived from ``seed``, so the
files do not depend on which process ran which council.
"""

from __future__ import annotations

import json
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from cpanalysis.schema import year_label
from cpanalysis.synthetic.extract import extract_return
from cpanalysis.synthetic.messy import damage_tables, write_messy_csv
from cpanalysis.synthetic.postcodes import home_areas
from cpanalysis.synthetic.simulate import simulate_council
from cpanalysis.synthetic.writers import write_csv, write_xlsx, write_xml

__all__ = ["write_demo_returns", "council_codes"]

FORMATS = ("csv", "xlsx", "xml")


def council_codes(councils: int) -> list[str]:
    """Distinct three-digit codes of ``councils`` synthetic councils: 801, 802, ..."""
    return [str(801 + i) for i in range(councils)]


def _council_seed(seed: int, index: int) -> int:
    return int(np.random.SeedSequence([seed, index]).generate_state(1)[0])


def _write_council(job: dict) -> list[Path]:
    council = simulate_council(
        size=job["size"],
        first_year=job["first_year"],
        last_year=job["last_year"],
        seed=job["seed"],
        la_code=job["la_code"],
    )
    root = Path(job["root"])
    written: list[Path] = []
    damage: list[dict] = []
    for year in council.years:
        label = year_label(year)
        tables = extract_return(council, year)
        folder = root / label
        if job["messy"]:
            rng = np.random.Generator(np.random.PCG64([job["seed"], year]))
            if job["file_format"] == "csv":
                paths, log = write_messy_csv(tables, folder, rng, job["messy_rate"], year)
                written += paths
                damage += log
                continue
            tables, log = damage_tables(
                tables, rng, job["messy_rate"], year, duplicate_rows=job["file_format"] != "xml"
            )
            damage += log
        if job["file_format"] == "csv":
            written += write_csv(tables, folder)
        elif job["file_format"] == "xlsx":
            written.append(write_xlsx(tables, folder / f"SSDA903_{label}.xlsx"))
        else:
            written.append(write_xml(tables, folder / f"SSDA903_{label}.xml"))
    if job["messy"]:
        log_path = root / "damage_log.json"
        log_path.write_text(json.dumps(damage, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        written.append(log_path)
    return written


def write_demo_returns(
    out_dir: Path,
    councils: int = 1,
    size: int = 500,
    first_year: int = 2017,
    last_year: int = 2026,
    seed: int = 903,
    messy: bool = False,
    messy_rate: float = 0.02,
    file_format: str = "csv",
    processes: int = 2,
) -> list[Path]:
    """Write synthetic SSDA903 returns, one folder per collection year.

    Parameters
    ----------
    out_dir : Path
        Folder to write into (created). Files already there with the same names are replaced.
    councils : int
        Number of councils. With one, years go straight under ``out_dir``; with more, under
        ``out_dir/<LA code>/`` (codes 801, 802, ...).
    size : int
        Roughly the number of children looked after at 31 March, per council.
    first_year, last_year : int
        Collection years, named by the year they end (2017 = 2016-17).
    seed : int
        Same seed, byte-identical files.
    messy : bool
        Inject the defects real extracts have (:mod:`cpanalysis.synthetic.messy`; the file
        defects - shuffled or extra columns, blank first line, Windows-1252 - only in CSV).
        The damage log is written to ``damage_log.json`` beside the year folders.
    messy_rate : float
        Share of cells damaged in messy mode.
    file_format : str
        ``"csv"`` (one file per table), ``"xlsx"`` (one workbook per year, one sheet per
        table) or ``"xml"`` (the DfE's XML, one file per year).
    processes : int
        Councils simulated at once when there are several (1: one after another). The files
        are the same either way: each council's seed depends only on ``seed`` and its place.

    Returns
    -------
    list[Path]
        Every file written, in a fixed order.
    """
    if file_format not in FORMATS:
        raise ValueError(f"file_format must be one of {FORMATS}, not {file_format!r}")
    if not first_year <= last_year:
        raise ValueError("first_year must not be after last_year")
    out_dir = Path(out_dir)
    jobs = []
    codes = ["999"] if councils == 1 else council_codes(councils)
    for i, code in enumerate(codes):
        jobs.append(
            {
                "root": str(out_dir if councils == 1 else out_dir / code),
                "la_code": code,
                "seed": seed if councils == 1 else _council_seed(seed, i),
                "size": size,
                "first_year": first_year,
                "last_year": last_year,
                "messy": messy,
                "messy_rate": messy_rate,
                "file_format": file_format,
            }
        )
    if len(jobs) == 1 or processes <= 1:
        results = [_write_council(job) for job in jobs]
    else:
        home_areas()  # read the postcodes once here: forked workers inherit them
        with ProcessPoolExecutor(max_workers=processes) as pool:
            results = list(pool.map(_write_council, jobs))
    return [path for paths in results for path in paths]
