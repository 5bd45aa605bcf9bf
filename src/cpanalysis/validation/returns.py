"""The returns as the DfE validator reads them: one UTF-8 CSV per table and collection year.

The validator recognises a CSV by its exact set of headers and reads UTF-8 only; councils
send CSV in Excel's encodings, workbooks and XML. So each return is read with cpanalysis's
own reader (:func:`cpanalysis.readers.read_returns`, which changes no value: every cell a
string, blanks empty) and written back as the validator's tables into a private scratch
folder. Beside each table goes the file and spreadsheet row of every line, so a flag on
line *n* of the scratch CSV names the row of the council's own file.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cpanalysis import schema
from cpanalysis.quality import QualityReport
from cpanalysis.readers import ROW, RawTable, read_returns

__all__ = ["VALIDATOR_COLUMNS", "VALIDATOR_YEARS", "YearFiles", "write_validator_tables"]

#: The validator's tables and their headers (``lac_validator.config.column_names``, 0.1.17);
#: a CSV is recognised only when its headers are exactly one of these sets.
VALIDATOR_COLUMNS: dict[str, tuple[str, ...]] = {
    name: tuple(columns.split())
    for name, columns in {
        "Header": "CHILD SEX DOB ETHNIC UPN MOTHER MC_DOB",
        "Episodes": "CHILD DECOM RNE LS CIN PLACE PLACE_PROVIDER DEC REC REASON_PLACE_CHANGE "
        "HOME_POST PL_POST URN",
        "Reviews": "CHILD DOB REVIEW REVIEW_CODE",
        "UASC": "CHILD SEX DOB DUC",
        "OC2": "CHILD DOB SDQ_SCORE SDQ_REASON CONVICTED HEALTH_CHECK IMMUNISATIONS TEETH_CHECK "
        "HEALTH_ASSESSMENT SUBSTANCE_MISUSE INTERVENTION_RECEIVED INTERVENTION_OFFERED",
        "OC3": "CHILD DOB IN_TOUCH ACTIV ACCOM",
        "AD1": "CHILD DOB DATE_INT DATE_MATCH FOSTER_CARE NB_ADOPTR SEX_ADOPTR LS_ADOPTR",
        "PlacedAdoption": "CHILD DOB DATE_PLACED DATE_PLACED_CEASED REASON_PLACED_CEASED",
        "PrevPerm": "CHILD DOB PREV_PERM LA_PERM DATE_PERM",
        "Missing": "CHILD DOB MISSING MIS_START MIS_END",
        "SWEpisodes": "CHILD DOB SW_ID SW_DECOM SW_DEC SW_REASON",
    }.items()
}
#: Collection years the validator has rules for (lac2022_23 ... lac2026_27).
VALIDATOR_YEARS = range(2023, 2028)


@dataclass
class YearFiles:
    """One council's return for one year, written for the validator.

    Attributes
    ----------
    year : int
        Collection year.
    la : str or None
        Council code from the folder layout, if any.
    csvs : dict
        Validator table name -> scratch CSV.
    rows : dict
        Validator table name -> ``(source file, spreadsheet row)`` of each scratch CSV line.
    """

    year: int
    la: str | None
    csvs: dict[str, Path] = field(default_factory=dict)
    rows: dict[str, list[tuple[str, int]]] = field(default_factory=dict)


def _frame(parts: list[RawTable], columns: tuple[str, ...]) -> pd.DataFrame:
    frames = []
    for part in parts:
        frame = part.frame.reindex(columns=[*columns, ROW])
        frame["_source"] = part.source
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def write_validator_tables(raw_dir: Path, scratch: Path) -> list[YearFiles]:
    """Write every return under ``raw_dir`` as the validator's CSVs into ``scratch``.

    Parameters
    ----------
    raw_dir : Path
        The council's returns, any layout :func:`cpanalysis.readers.read_returns` reads.
    scratch : Path
        A private folder (the CSVs hold every identifier of the returns): the caller deletes
        it when the validator has run.

    Returns
    -------
    list of YearFiles
        One per council and collection year, oldest first.

    Raises
    ------
    InputError
        From the reader, naming the file that cannot be read.
    """
    groups: dict[tuple[str | None, int], dict[str, list[RawTable]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for table in read_returns(Path(raw_dir), QualityReport()):
        dfe = schema.table_specs(table.year).get(table.table)
        name = dfe.dfe_name if dfe is not None else None
        if name in VALIDATOR_COLUMNS:
            groups[(table.la, table.year)][name].append(table)
    out = []
    for (la, year), tables in sorted(groups.items(), key=lambda kv: (kv[0][1], kv[0][0] or "")):
        folder = Path(scratch) / (la or "council") / str(year)
        folder.mkdir(parents=True, exist_ok=True)
        files = YearFiles(year, la)
        for name, parts in tables.items():
            columns = VALIDATOR_COLUMNS[name]
            frame = _frame(parts, columns)
            path = folder / f"{name}.csv"
            frame.loc[:, list(columns)].to_csv(
                path, index=False, na_rep="", encoding="utf-8", quoting=csv.QUOTE_MINIMAL
            )
            files.csvs[name] = path
            files.rows[name] = list(
                zip(frame["_source"].tolist(), frame[ROW].astype(int).tolist(), strict=True)
            )
        out.append(files)
    return out
