"""Tables as the committee sees them: accessible HTML with a CSV download of the same rows.

Every table on the site can be downloaded. The notebooks call :func:`published_table`, which
returns an object Jupyter (and so Quarto and smalldocs) shows as an HTML table whose download
link carries the CSV itself as a ``data:text/csv;base64,...`` address: the page works from a
file share or an e-mail attachment with no folder of CSV files to keep beside it.

The CSV is in the shape of the DfE's open data (Explore Education Statistics): one row per
(time period, area, measure, breakdown), the value as published, with DfE symbols where a
figure is withheld (``c`` confidential, ``z`` not applicable, ``x`` not available, ``k``
below half the unit shown). Beside each id or code stands its name in words
(``measure_name``, ``breakdown_label``), so the file reads without a code book.

"The figures" at the foot of each page are :func:`figures_table`: one wide table per topic
(a row per measure and group, a column per year), folded away under a ``<details>`` so the
page opens on its charts, with the same wide table as CSV.

Every CSV is written as UTF-8 **with a byte-order mark**, as Excel itself writes "CSV UTF-8":
without it Excel reads the file as the PC's legacy code page and shows "â†“" for "↓".
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from cpanalysis.escaping import html_text
from cpanalysis.labels import breakdown_label, breakdown_order, measure_name, unit_words
from cpanalysis.schema import year_label

__all__ = [
    "OPEN_DATA_COLUMNS",
    "BOM",
    "PublishedTable",
    "FiguresTable",
    "csv_text",
    "to_open_data_csv",
    "open_data_frame",
    "published_table",
    "wide_frame",
    "figures_table",
    "html_table",
]

#: The byte-order mark that tells Excel a CSV file is UTF-8.
BOM = "\ufeff"

#: Columns of the downloadable CSV of a measure frame, in order (DfE open-data style).
OPEN_DATA_COLUMNS = [
    "time_period",
    "time_identifier",
    "geographic_level",
    "la_name",
    "measure",
    "measure_name",
    "breakdown",
    "breakdown_label",
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


def _labels(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """The measure names and breakdown labels of a measure frame's rows."""
    measure = frame["measure"].astype("string").fillna("")
    breakdown = frame["breakdown"].astype("string").fillna("")
    names = measure.map(measure_name)
    labels = pd.Series(
        [breakdown_label(m, b) for m, b in zip(measure, breakdown, strict=True)],
        index=frame.index,
        dtype="string",
    )
    return names.astype("string"), labels


def _breakdown_rank(frame: pd.DataFrame) -> pd.Series:
    """Each row's place in the reading order of its measure's breakdowns (ages by age)."""
    rank = pd.Series(0, index=frame.index, dtype="int64")
    for measure, rows in frame.groupby("measure", sort=False):  # a few dozen measures
        order = breakdown_order(str(measure), rows["breakdown"].astype(str))
        rank.loc[rows.index] = (
            rows["breakdown"].astype(str).map({b: i for i, b in enumerate(order)})
        )
    return rank


def open_data_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A suppressed measure frame (docs/design.md Contract 2) in DfE open-data shape.

    Needs ``time_period`` (int, year ending), ``geography``, ``measure``, ``breakdown``,
    ``unit`` (optional) and ``display`` (str, added by suppression). Returns
    :data:`OPEN_DATA_COLUMNS`: ``time_identifier`` is ``"Reporting year"`` as in the DfE's
    children-looked-after files; ``geographic_level`` is ``"National"`` for England (with an
    empty ``la_name``, as the DfE writes it) and ``"Local authority"`` otherwise;
    ``measure_name`` and ``breakdown_label`` are the words for the id and the code
    (:mod:`cpanalysis.labels`). Rows are sorted by year, area and measure, and within a
    measure by the reading order of its breakdowns (age bands in age order).
    """
    national = frame["geography"].astype("string").eq("England").fillna(False)
    names, labels = _labels(frame)
    out = pd.DataFrame(
        {
            "time_period": frame["time_period"].astype("Int64"),
            "time_identifier": "Reporting year",
            "geographic_level": national.map({True: "National", False: "Local authority"}),
            "la_name": frame["geography"].astype("string").where(~national, ""),
            "measure": frame["measure"].astype("string"),
            "measure_name": names,
            "breakdown": frame["breakdown"].astype("string"),
            "breakdown_label": labels,
            "unit": frame["unit"].astype("string") if "unit" in frame else "",
            "value": _display_values(frame),
            "_rank": _breakdown_rank(frame),
        },
        index=frame.index,
    )
    out = out.sort_values(
        ["time_period", "geographic_level", "la_name", "measure", "_rank"], kind="stable"
    )
    return out.drop(columns="_rank").reset_index(drop=True)


def csv_text(table: pd.DataFrame) -> str:
    """A table as CSV text for download: a byte-order mark first, ``\\n`` line endings.

    The mark lets Excel open the file as UTF-8 ("↓", "£" and names with accents intact);
    fixed line endings keep the file byte-identical between runs and platforms.
    """
    buffer = io.StringIO()
    table.to_csv(buffer, index=False, lineterminator="\n")
    return BOM + buffer.getvalue()


def to_open_data_csv(frame: pd.DataFrame) -> str:
    """CSV text of a table for download (:func:`csv_text`: UTF-8 with a byte-order mark).

    A suppressed measure frame is written in DfE open-data shape (:func:`open_data_frame`);
    any other table (e.g. the scorecard) is written with the columns it is shown with.
    """
    table = open_data_frame(frame) if _is_measure_frame(frame) else frame
    return csv_text(table)


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
            "Measure": _labels(frame)[0],
            "Breakdown": _labels(frame)[1],
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
        f'<th scope="col"{num if c in numeric else ""}>{html_text(str(c))}</th>'
        for c in frame.columns
    )
    rows = []
    for values in frame.astype("string").fillna("").itertuples(index=False, name=None):
        cells = "".join(
            f"<td{num if c in numeric else ''}>{html_text(str(v))}</td>"
            for c, v in zip(frame.columns, values, strict=True)
        )
        rows.append(f"<tr>{cells}</tr>")
    return (
        '<table class="table table-sm cp-table">'
        f"<caption>{html_text(caption)}</caption>"
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
        return _data_href(self.csv)

    def to_html(self) -> str:
        """The table with its download link, as one block of HTML."""
        numeric = {"Value"} & set(self.display.columns)
        link = (
            f'<p class="cp-download"><a href="{self.href}" download="{html_text(self.name)}.csv">'
            f"Download this table as CSV ({html_text(self.name)}.csv)</a></p>"
        )
        return (
            f'<div class="cp-published-table">'
            f"{html_table(self.display, self.caption, numeric=numeric)}{link}</div>"
        )

    def _repr_html_(self) -> str:  # Jupyter, Quarto and smalldocs show this
        return self.to_html()

    def __str__(self) -> str:
        return f"{self.caption}\n{self.display.to_string(index=False)}"


def _data_href(csv: str) -> str:
    """A ``data:`` address carrying the CSV itself, so the link works offline."""
    return "data:text/csv;charset=utf-8;base64," + base64.b64encode(csv.encode("utf-8")).decode(
        "ascii"
    )


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


def wide_frame(frame: pd.DataFrame, *, measures: Sequence[str] | None = None) -> pd.DataFrame:
    """A suppressed measure frame as one wide table: a row per measure and group, years across.

    Parameters
    ----------
    frame : DataFrame
        A suppressed measure frame (Contract 2 plus ``display``) of **one** area.
    measures : sequence of str, optional
        The measure ids in the order their rows should come (default: the frame's order).

    Returns
    -------
    DataFrame
        Columns ``measure``, ``measure_name``, ``breakdown``, ``breakdown_label``, ``unit``
        (in words: ``%``, ``days``, ``number`` ...) and one column per collection year
        (``"2024-25"``), oldest first, holding the published text (``c``, ``x`` where
        withheld or not available; a year with no row is ``x``).

    Raises
    ------
    ValueError
        The frame is not suppressed, or holds several areas.
    """
    values = _display_values(frame)
    areas = frame["geography"].dropna().unique()
    if len(areas) > 1:
        raise ValueError(f"a wide table is of one area; this frame holds {sorted(areas)}")
    order = list(measures) if measures is not None else list(dict.fromkeys(frame["measure"]))
    order += [m for m in dict.fromkeys(frame["measure"]) if m not in order]
    years = sorted(int(y) for y in frame["time_period"].unique())
    long = pd.DataFrame(
        {
            "measure": frame["measure"].astype(str),
            "breakdown": frame["breakdown"].astype(str),
            "unit": frame["unit"].astype(str) if "unit" in frame else "",
            "year": frame["time_period"].astype(int).map(year_label),
            "value": values.astype(str),
        }
    )
    wide = long.pivot_table(
        index=["measure", "breakdown", "unit"], columns="year", values="value", aggfunc="first"
    )
    wide = wide.reindex(columns=[year_label(y) for y in years]).fillna("x").reset_index()
    wide.columns.name = None
    wide["_m"] = wide["measure"].map({m: i for i, m in enumerate(order)})
    wide["_b"] = _breakdown_rank(wide)
    wide = wide.sort_values(["_m", "_b"], kind="stable").drop(columns=["_m", "_b"])
    names, labels = _labels(wide)
    wide.insert(1, "measure_name", names)
    wide.insert(3, "breakdown_label", labels)
    wide["unit"] = wide["unit"].map(unit_words)
    return wide.reset_index(drop=True)


@dataclass(frozen=True)
class FiguresTable:
    """ "The figures" of a page: a wide table folded under ``<details>``, with its CSV.

    Attributes
    ----------
    name : str
        File name of the download (``<name>.csv``).
    caption : str
        What the table shows.
    wide : DataFrame
        From :func:`wide_frame` (ids, names, unit, a column per year).
    """

    name: str
    caption: str
    wide: pd.DataFrame

    @property
    def csv(self) -> str:
        """The download: the same wide table, ids and codes beside their names."""
        return csv_text(self.wide)

    @property
    def display(self) -> pd.DataFrame:
        """The table as shown: names, not ids; the group only where a measure has groups."""
        shown = self.wide.drop(columns=["measure", "breakdown"]).rename(
            columns={"measure_name": "Measure", "breakdown_label": "Group", "unit": "Unit"}
        )
        only_total = self.wide.groupby("measure")["breakdown"].transform(
            lambda b: bool((b == "Total").all())
        )
        shown.loc[only_total.to_numpy(dtype=bool), "Group"] = ""
        return shown

    def to_html(self) -> str:
        """``<details>`` (closed) holding the wide table and its download link."""
        display = self.display
        years = [c for c in display.columns if c not in ("Measure", "Group", "Unit")]
        span = f", {years[0]} to {years[-1]}" if years else ""
        rows = len(display)
        link = (
            f'<p class="cp-download"><a href="{_data_href(self.csv)}" '
            f'download="{html_text(self.name)}.csv">Download this table as CSV '
            f"({html_text(self.name)}.csv)</a></p>"
        )
        return (
            '<details class="cp-figures"><summary>'
            f"Show the figures: {html_text(self.caption)} ({rows} rows{span})</summary>"
            '<div class="cp-published-table cp-wide table-responsive" role="region" '
            f'tabindex="0" aria-label="{html_text(self.caption)}">'
            f"{html_table(display, self.caption, numeric=set(years))}{link}</div></details>"
        )

    def _repr_html_(self) -> str:  # Jupyter, Quarto and smalldocs show this
        return self.to_html()

    def __str__(self) -> str:
        return f"{self.caption}\n{self.display.to_string(index=False)}"


def figures_table(
    frame: pd.DataFrame, name: str, *, caption: str, measures: Sequence[str] | None = None
) -> FiguresTable:
    """ "The figures" of a page: a suppressed measure frame as one wide, folded table.

    Parameters
    ----------
    frame : DataFrame
        A suppressed measure frame of one area (Contract 2 plus ``display``).
    name : str
        Name of the download; reduced to lower-case letters, digits and ``_``.
    caption : str
        What the table shows.
    measures : sequence of str, optional
        Order of the measures' rows (default: the frame's).
    """
    return FiguresTable(_slug(name), caption, wide_frame(frame, measures=measures))
