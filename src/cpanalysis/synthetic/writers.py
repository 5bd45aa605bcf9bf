"""Write one year's return as councils send it: CSV files, an XLSX workbook or DfE XML.

All three are byte-for-byte reproducible: no timestamps (the XLSX zip entries and document
properties are pinned to 1 January 2000), rows and columns in a fixed order.
"""

from __future__ import annotations

import io
import zipfile
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from cpanalysis.synthetic.extract import FILE_NAMES

__all__ = ["write_csv", "csv_text", "write_xlsx", "write_xml", "FIXED_TIME"]

FIXED_TIME = datetime(2000, 1, 1)


def write_csv(tables: dict[str, pd.DataFrame], folder: Path, encoding: str = "utf-8") -> list[Path]:
    """One CSV file per table (``header.csv``, ``episodes.csv`` ...) in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for key, frame in tables.items():
        path = folder / FILE_NAMES[key]
        path.write_bytes(csv_text(frame).encode(encoding))
        written.append(path)
    return written


#: Characters that make the csv module quote a cell.
_NEEDS_QUOTES = (",", '"', "\n", "\r")


def csv_text(frame: pd.DataFrame) -> str:
    """``frame.to_csv(index=False, lineterminator="\\n")``, faster for tables of strings.

    A return's cells are plain strings that need no quoting, so the rows are joined column
    by column (one numpy operation per column, not a Python call per cell). Any other frame
    (a cell that is not a string, or that holds a comma, quote or line break) goes to pandas,
    so the bytes are always those pandas would write.
    """
    names = [str(c) for c in frame.columns]
    columns = [frame[c].to_numpy(dtype=object) for c in frame.columns]
    try:  # str.join refuses anything but strings (NaN, numbers)
        joined = ["\0".join(col) for col in [names, *columns]]
    except TypeError:
        joined = [","]
    if len(names) < 2 or any(ch in text for text in joined for ch in _NEEDS_QUOTES):
        return frame.to_csv(index=False, lineterminator="\n")
    if len(frame) == 0:
        return ",".join(names) + "\n"
    rows = columns[0]
    for col in columns[1:]:
        rows = rows + "," + col
    return ",".join(names) + "\n" + "\n".join(rows.tolist()) + "\n"


def write_xlsx(tables: dict[str, pd.DataFrame], path: Path) -> Path:
    """One workbook, one sheet per table (sheet named like the CSV file, without ``.csv``).

    openpyxl stamps the time into the document properties and the zip entries; both are
    pinned so the same return gives the same bytes.
    """
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    for key, frame in tables.items():
        ws = wb.create_sheet(FILE_NAMES[key].removesuffix(".csv"))
        ws.append(list(frame.columns))
        for row in frame.itertuples(index=False, name=None):
            ws.append(list(row))
    wb.properties.creator = "cpanalysis synthetic council"
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    buffer = io.BytesIO()
    wb.save(buffer)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_pin_zip(buffer.getvalue()))
    return path


def _pin_zip(data: bytes) -> bytes:
    """Rewrite a zip with fixed entry times and a fixed ``modified`` property."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                text = content.decode("utf-8")
                start = text.find("<dcterms:modified")
                if start >= 0:
                    end = text.find("</dcterms:modified>", start)
                    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ")
                    text = (
                        text[:start]
                        + '<dcterms:modified xsi:type="dcterms:W3CDTF">'
                        + stamp
                        + text[end:]
                    )
                content = text.encode("utf-8")
            pinned = zipfile.ZipInfo(info.filename, date_time=(2000, 1, 1, 0, 0, 0))
            pinned.compress_type = zipfile.ZIP_DEFLATED
            pinned.external_attr = 0o644 << 16
            dst.writestr(pinned, content)
    return out.getvalue()


# --------------------------------------------------------------------------- XML

_HEADER = ["CHILD", "UPN", "SEX", "DOB", "ETHNIC"]
_AD1 = ["DATE_INT", "DATE_MATCH", "FOSTER_CARE", "NB_ADOPTR", "SEX_ADOPTR", "LS_ADOPTR"]
_OC3 = ["IN_TOUCH", "ACTIV", "ACCOM"]
_EPISODE = ["DECOM", "RNE", "LS", "CIN", "PLACE", "PL_POST", "HOME_POST", "URN"]
_EPISODE += ["PLACE_PROVIDER", "DEC", "REC", "REASON_PLACE_CHANGE"]
_OC2 = ["SDQ_SCORE", "SDQ_REASON", "CONVICTED", "HEALTH_CHECK", "IMMUNISATIONS"]
_OC2 += ["TEETH_CHECK", "HEALTH_ASSESSMENT", "SUBSTANCE_MISUSE", "INTERVENTION_RECEIVED"]
_OC2 += ["INTERVENTION_OFFERED"]
_TAGS = {"CHILD": "CHILDID", "PLACE": "PL"}


def _elements(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    """``<COL>value</COL>`` for every non-blank cell, concatenated along each row."""
    text = pd.Series("", index=frame.index, dtype=object)
    for col in columns:
        tag = _TAGS.get(col, col)
        values = frame[col].astype(str)
        text = text + np.where(values != "", "<" + tag + ">" + values + "</" + tag + ">", "")
    return text


def _per_child(frame: pd.DataFrame, wrapper: str, columns: list[str]) -> pd.Series:
    """Each child's repeated records of one table as one string, in row order."""
    if frame.empty:
        return pd.Series(dtype=object)
    body = "<" + wrapper + ">" + _elements(frame, columns) + "</" + wrapper + ">"
    return body.groupby(frame["CHILD"].to_numpy(), sort=True).agg("".join)


def write_xml(tables: dict[str, pd.DataFrame], path: Path) -> Path:
    """The return as DfE XML (root ``EXPSSDA903``, one ``CHILD`` per child).

    Layout of the DfE's 2021 XSD: ``HEADER`` holds the child's details with the UASC flag,
    AD1 and OC3 fields, ``AMISSING``, ``AREVIEW``, ``MOTHER``/``MC_DOB``, ``PERMANENCE``,
    ``OC2`` and ``AD_PLACED``; then the ``EPISODE`` elements. ``CHILD`` is written
    ``CHILDID`` and ``PLACE`` ``PL``. Social-worker episodes postdate that XSD and are written
    as ``SWEPISODE`` elements after the episodes.
    """
    header = tables["header"].set_index("CHILD", drop=False)
    children = header.index
    uasc = tables["uasc"].set_index("CHILD")
    flag = pd.Series(np.where(children.isin(uasc.index), "1", "0"), index=children)
    duc = uasc["DUC"].reindex(children).fillna("")

    def one_row(table: str, columns: list[str], wrapper: str | None = None) -> pd.Series:
        frame = tables[table]
        if frame.empty:
            return pd.Series("", index=children, dtype=object)
        text = _elements(frame, columns)
        if wrapper:
            text = "<" + wrapper + ">" + text + "</" + wrapper + ">"
        return pd.Series(text.to_numpy(), index=frame["CHILD"].to_numpy()).reindex(children)

    def many(table: str, wrapper: str, columns: list[str]) -> pd.Series:
        if table not in tables:
            return pd.Series("", index=children, dtype=object)
        return _per_child(tables[table], wrapper, columns).reindex(children)

    parts = [
        _elements(header, _HEADER),
        "<UASC>" + flag + "</UASC>",
        np.where(duc != "", "<DUC>" + duc + "</DUC>", ""),
        one_row("ad1", _AD1),
        one_row("oc3", _OC3),
        many("missing", "AMISSING", ["MISSING", "MIS_START", "MIS_END"]),
        many("reviews", "AREVIEW", ["REVIEW", "REVIEW_CODE"]),
        _elements(header, ["MOTHER", "MC_DOB"]),
        one_row("prev_perm", ["PREV_PERM", "LA_PERM", "DATE_PERM"], "PERMANENCE"),
        one_row("oc2", _OC2, "OC2"),
        many(
            "placed_adoption",
            "AD_PLACED",
            ["DATE_PLACED", "DATE_PLACED_CEASED", "REASON_PLACED_CEASED"],
        ),
    ]
    head = pd.Series("", index=children, dtype=object)
    for part in parts:
        head = head + pd.Series(part, index=children).fillna("").astype(str)
    body = (
        "<CHILD><HEADER>"
        + head
        + "</HEADER>"
        + many("episodes", "EPISODE", _EPISODE).fillna("")
        + many("sw_episodes", "SWEPISODE", ["SW_ID", "SW_DECOM", "SW_DEC", "SW_REASON"]).fillna("")
        + "</CHILD>\n"
    )
    text = (
        '<?xml version="1.0" encoding="utf-8"?>\n<EXPSSDA903>\n' + "".join(body) + "</EXPSSDA903>\n"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))
    return path
