"""Messy returns: the defects real extracts have, injected on purpose and logged.

The cleaner must turn a messy return back into the tidy one, losing only what cannot be
recovered. To test that, every damage is recorded in a *damage log* (one dict per damaged
cell, row or file) saying what was done, where, and whether a careful cleaner can undo it.

Cell defects (each non-blank cell damaged with probability ``rate``):

* dates: ISO ``yyyy-mm-dd``, Excel serial day numbers, two-digit years ``dd/mm/yy``;
* codes: lower case (``u6``);
* child ids: written as floats (``123456.0``), as Excel does;
* any cell: stray leading/trailing spaces.

Row and file defects (each year): exact duplicate rows (at the end of their file), one file
with its columns shuffled, one with an extra column, one with a blank leading row, one
encoded Windows-1252 (its extra column holds an accented word, so the encoding matters),
and one invalid code (``PR9`` as a placement provider) that no cleaner can recover: the
only unrecoverable damage.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cpanalysis.schema import table_spec, year_label
from cpanalysis.synthetic.extract import FILE_NAMES

__all__ = ["damage_tables", "write_messy_csv", "INVALID_PROVIDER"]

INVALID_PROVIDER = "PR9"
_EXCEL_EPOCH = pd.Timestamp(1899, 12, 30)


def _entry(year, table, row, column, defect, original, damaged, recoverable=True) -> dict:
    return {
        "year": int(year),
        "file": f"{year_label(year)}/{FILE_NAMES[table]}",
        "table": table,
        "row": None if row is None else int(row),
        "column": column,
        "defect": defect,
        "original": original,
        "damaged": damaged,
        "recoverable": bool(recoverable),
    }


def _damage_dates(values: pd.Series, rng: np.random.Generator) -> tuple[pd.Series, np.ndarray]:
    dates = pd.to_datetime(values, format="%d/%m/%Y")
    kind = rng.integers(0, 3, len(values))
    iso = dates.dt.strftime("%Y-%m-%d")
    serial = ((dates - _EXCEL_EPOCH).dt.days).astype(str)
    short = dates.dt.strftime("%d/%m/%y")
    out = np.where(kind == 0, iso, np.where(kind == 1, serial, short))
    names = np.array(["iso_date", "excel_serial_date", "two_digit_year"], dtype=object)
    return pd.Series(out, index=values.index, dtype=object), names[kind]


def damage_tables(
    tables: dict[str, pd.DataFrame],
    rng: np.random.Generator,
    rate: float,
    year: int,
    *,
    duplicate_rows: bool = True,
) -> tuple[dict[str, pd.DataFrame], list[dict]]:
    """Cell defects, duplicate rows and one invalid code, with their damage log.

    Parameters
    ----------
    tables : dict of DataFrame
        A tidy return (:func:`cpanalysis.synthetic.extract_return`): strings, ``""`` blank.
    rng : numpy Generator
        Source of randomness (seeded by the caller, so messy files are reproducible).
    rate : float
        Probability that a non-blank cell is damaged.
    year : int
        Collection year (for the spec and the log).
    duplicate_rows : bool
        Append exact duplicate rows (CSV and XLSX). Off for XML, which nests every record
        under its child, so a duplicated header row has no form the DfE schema allows.

    Returns
    -------
    tables : dict of DataFrame
        Damaged copies; duplicated rows are appended at the end of their table.
    log : list of dict
        One entry per damage; ``row`` is the 1-based data row (header not counted).
    """
    out: dict[str, pd.DataFrame] = {}
    log: list[dict] = []
    for table, frame in tables.items():
        spec = table_spec(table, year)
        frame = frame.copy()
        for column in frame.columns:
            values = frame[column]
            col_spec = spec.columns[column]
            hit = (values != "").to_numpy() & (rng.random(len(values)) < rate)
            if not hit.any():
                continue
            original = values[hit]
            defect = np.full(hit.sum(), "stray_spaces", dtype=object)
            damaged = pd.Series(
                np.where(rng.random(hit.sum()) < 0.5, " " + original, original + "  "),
                index=original.index,
                dtype=object,
            )
            typed = rng.random(hit.sum()) < 0.75  # the rest keep the stray spaces
            if col_spec.type == "date":
                dated, names = _damage_dates(original, rng)
                damaged = damaged.where(~typed, dated)
                defect = np.where(typed, names, defect)
            elif col_spec.type == "code":
                lower = original.str.lower()
                changes = typed & (lower != original).to_numpy()
                damaged = damaged.where(~changes, lower)
                defect = np.where(changes, "lower_case_code", defect)
            elif column == "CHILD":
                damaged = damaged.where(~typed, original + ".0")
                defect = np.where(typed, "id_as_float", defect)
            frame.loc[hit, column] = damaged.to_numpy()
            rows = np.flatnonzero(hit) + 1
            log += [
                _entry(year, table, r, column, d, o, m)
                for r, d, o, m in zip(rows, defect, original, damaged, strict=True)
            ]
        out[table] = frame

    # one invalid code, on a placement provider that was filled in
    episodes = out["episodes"]
    filled = np.flatnonzero((episodes["PLACE_PROVIDER"].str.strip() != "").to_numpy())
    if len(filled):
        row = int(filled[rng.integers(0, len(filled))])
        original = tables["episodes"].at[row, "PLACE_PROVIDER"]  # before any cell defect
        episodes.at[row, "PLACE_PROVIDER"] = INVALID_PROVIDER
        log = [
            e
            for e in log
            if not (
                e["table"] == "episodes" and e["row"] == row + 1 and e["column"] == "PLACE_PROVIDER"
            )
        ]
        log.append(
            _entry(
                year,
                "episodes",
                row + 1,
                "PLACE_PROVIDER",
                "invalid_code",
                original,
                INVALID_PROVIDER,
                recoverable=False,
            )
        )

    # exact duplicate rows, appended at the end of their table (at least one a year); last,
    # so switching them off leaves every other defect where it was
    if not duplicate_rows:
        return out, log
    for i, (table, frame) in enumerate(out.items()):
        dup = np.flatnonzero(rng.random(len(frame)) < rate / 4)
        if i == 0 and len(dup) == 0 and len(frame):
            dup = np.array([int(rng.integers(0, len(frame)))])
        if len(dup):
            out[table] = pd.concat([frame, frame.iloc[dup]], ignore_index=True)
            log += [
                _entry(year, table, r + 1, None, "duplicate_row", None, len(frame) + j + 1)
                for j, r in enumerate(dup)
            ]
    return out, log


def write_messy_csv(
    tables: dict[str, pd.DataFrame],
    folder: Path,
    rng: np.random.Generator,
    rate: float,
    year: int,
) -> tuple[list[Path], list[dict]]:
    """Write one year's return as messy CSV files and return their damage log.

    On top of :func:`damage_tables`: one file with shuffled columns, one with an extra
    ``Notes`` column, one with a blank first line, and that ``Notes`` file encoded
    Windows-1252. Log rows of the blank-line file count the blank line, as a spreadsheet
    would show them (``row`` 1 is then the blank line, the header row 2).
    """
    damaged, log = damage_tables(tables, rng, rate, year)
    keys = [k for k in damaged if len(damaged[k]) > 0]
    chosen = rng.permutation(keys)[:3] if len(keys) >= 3 else (keys * 3)[:3]
    shuffled, extra, blank = (str(k) for k in chosen)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for table, frame in damaged.items():
        encoding = "utf-8"
        if table == shuffled:
            order = list(rng.permutation(frame.columns))
            frame = frame[order]
            log.append(_entry(year, table, None, None, "shuffled_columns", None, ",".join(order)))
        if table == extra:
            frame = frame.assign(Notes=np.where(np.arange(len(frame)) == 0, "Café visit", ""))
            encoding = "cp1252"
            log.append(_entry(year, table, None, "Notes", "extra_column", None, "Notes"))
            log.append(_entry(year, table, None, None, "cp1252_encoding", "utf-8", "cp1252"))
        text = frame.to_csv(index=False, lineterminator="\n")
        if table == blank:
            text = "," * (len(frame.columns) - 1) + "\n" + text
            log.append(_entry(year, table, None, None, "blank_leading_row", None, None))
        path = folder / FILE_NAMES[table]
        path.write_bytes(text.encode(encoding))
        written.append(path)
    return written, log
