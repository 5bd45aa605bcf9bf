"""Tables as the committee sees them: accessible HTML with a CSV download of the same rows.

Every table on the site can be downloaded. The notebooks call :func:`published_table`, which
returns an object Jupyter (and so Quarto and smalldocs) shows as an HTML table whose download
link carries the CSV itself as a ``data:text/csv;base64,...`` address: the page works from a
file share or an e-mail attachment with no folder of CSV files to keep beside it.

The CSV is in the shape of the DfE's open data (Explore Education Statistics): one row per
(time period, area, measure, breakdown), the value as published, with DfE symbols where a
figure is withheld (``c`` confidential, ``z`` not applicable, ``x`` not available, ``k``
below half the unit shown).
"""

from __future__ import annotations

import base64
import html
import io
import re
from dataclasses import dataclass

import pandas as pd

from cpanalysis.schema import year_label

__all__ = [
    "OPEN_DATA_COLUMNS",
    "PublishedTable",
    "to_open_data_csv",
    "open_data_frame",
    "published_table",
    "html_table",
]

#: Columns of the downloadable CSV of a measure frame, in order (DfE open-data style).
OPEN_DATA_COLUMNS = [
    "time_period",
    "time_identifier",
    "geographic_level",
    "la_name",
    "measure",
    "breakdown",
    "unit",
    "value",
]
_MEASURE_COLUMNS = {"time_period", "geography", "measure", "breakdown", "value"}


def _is_measure_frame(frame: pd.DataFrame) -> bool:
    return _MEASURE_COLUMNS.issubset(frame.columns)


def _display_values(frame: pd.DataFrame) -> pd.Series:
    """The published strings: ``display`` from :func:`cpanalysis.suppression.suppress`.

    A measure frame that has not been through suppression is refused, because a raw count
    from 1 to the threshold must never reach a page.
    """
    if "display" not in frame.columns:
        raise ValueError(
            "this measure frame has not been suppressed: pass it through "
            "cpanalysis.suppression.suppress() first (it adds the 'display' column)"
        )
    return frame["display"].astype("string").fillna("x")


def open_data_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A suppressed measure frame (docs/design.md Contract 2) in DfE open-data shape.

    Needs ``time_period`` (int, year ending), ``geography``, ``measure``, ``breakdown``,
    ``unit`` (optional) and ``display`` (str, added by suppression). Returns
    :data:`OPEN_DATA_COLUMNS`: ``time_identifier`` is ``"Reporting year"`` as in the DfE's
    children-looked-after files; ``geographic_level`` is ``"National"`` for England (with an
    empty ``la_name``, as the DfE writes it) and ``"Local authority"`` otherwise.
    """
    national = frame["geography"].astype("string").eq("England").fillna(False)
    out = pd.DataFrame(
        {
            "time_period": frame["time_period"].astype("Int64"),
            "time_identifier": "Reporting year",
            "geographic_level": national.map({True: "National", False: "Local authority"}),
            "la_name": frame["geography"].astype("string").where(~national, ""),
            "measure": frame["measure"].astype("string"),
            "breakdown": frame["breakdown"].astype("string"),
            "unit": frame["unit"].astype("string") if "unit" in frame else "",
            "value": _display_values(frame),
        },
        index=frame.index,
    )
    return out.sort_values(
        ["time_period", "geographic_level", "la_name", "measure", "breakdown"], kind="stable"
    ).reset_index(drop=True)


def to_open_data_csv(frame: pd.DataFrame) -> str:
    """CSV text of a table for download.

    A suppressed measure frame is written in DfE open-data shape (:func:`open_data_frame`);
    any other table (e.g. the scorecard) is written with the columns it is shown with. Line
    endings are ``\\n`` so the file is byte-identical between runs and platforms.
    """
    table = open_data_frame(frame) if _is_measure_frame(frame) else frame
    buffer = io.StringIO()
    table.to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue()


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "table"


def _display_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows as shown on a page: year labels, area, measure, breakdown, published value."""
    if not _is_measure_frame(frame):
        return frame.astype("string").fillna("")
    years = frame["time_period"].astype(int).map(year_label)
    return pd.DataFrame(
        {
            "Year": years,
            "Area": frame["geography"].astype("string"),
            "Measure": frame["measure"].astype("string"),
            "Breakdown": frame["breakdown"].astype("string"),
            "Value": _display_values(frame),
        }
    ).reset_index(drop=True)


def html_table(frame: pd.DataFrame, caption: str, *, numeric: set[str] | None = None) -> str:
    """An accessible HTML table: a ``<caption>``, column headers with ``scope="col"``.

    Every cell is escaped. Columns named in ``numeric`` are right-aligned (class
    ``cp-num``) so figures line up as in a printed report.
    """
    numeric = numeric or set()
    num = ' class="cp-num"'
    head = "".join(
        f'<th scope="col"{num if c in numeric else ""}>{html.escape(str(c))}</th>'
        for c in frame.columns
    )
    rows = []
    for values in frame.astype("string").fillna("").itertuples(index=False, name=None):
        cells = "".join(
            f"<td{num if c in numeric else ''}>{html.escape(str(v))}</td>"
            for c, v in zip(frame.columns, values, strict=True)
        )
        rows.append(f"<tr>{cells}</tr>")
    return (
        '<table class="table table-sm cp-table">'
        f"<caption>{html.escape(caption)}</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


@dataclass(frozen=True)
class PublishedTable:
    """A table ready for a page: what is shown, the CSV behind it, and its HTML.

    Attributes
    ----------
    name : str
        File name of the download (``<name>.csv``).
    caption : str
        The table's caption (what it shows, for screen readers too).
    display : DataFrame
        The rows as shown (strings, suppressed).
    csv : str
        The download: the same rows in DfE open-data shape.
    """

    name: str
    caption: str
    display: pd.DataFrame
    csv: str

    @property
    def href(self) -> str:
        """The download link: the CSV itself, base64-encoded, so it works offline."""
        return "data:text/csv;base64," + base64.b64encode(self.csv.encode("utf-8")).decode("ascii")

    def to_html(self) -> str:
        """The table with its download link, as one block of HTML."""
        numeric = {"Value"} & set(self.display.columns)
        link = (
            f'<p class="cp-download"><a href="{self.href}" download="{html.escape(self.name)}.csv">'
            f"Download this table as CSV ({html.escape(self.name)}.csv)</a></p>"
        )
        return (
            f'<div class="cp-published-table">'
            f"{html_table(self.display, self.caption, numeric=numeric)}{link}</div>"
        )

    def _repr_html_(self) -> str:  # Jupyter, Quarto and smalldocs show this
        return self.to_html()

    def __str__(self) -> str:
        return f"{self.caption}\n{self.display.to_string(index=False)}"


def published_table(frame: pd.DataFrame, name: str, *, caption: str) -> PublishedTable:
    """Make a table for a notebook page: suppressed display strings plus a CSV download.

    Parameters
    ----------
    frame : DataFrame
        A suppressed measure frame (Contract 2 plus ``display``), or any table already in
        display form (its cells are shown as they are).
    name : str
        Name of the download; reduced to lower-case letters, digits and ``_``.
    caption : str
        What the table shows, e.g. ``"Children with 3 or more placements in the year"``.

    Returns
    -------
    PublishedTable
        Shown as HTML in Jupyter; its link downloads the same rows as CSV.
    """
    return PublishedTable(
        name=_slug(name),
        caption=caption,
        display=_display_frame(frame),
        csv=to_open_data_csv(frame),
    )
