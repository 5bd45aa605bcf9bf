"""Shared plumbing of the chart functions: checked plotting rows, geography styles, titles.

Why: every chart must treat suppressed rows the same way (value null, tooltip ``c``), give
the council and England the same colour and line style, and embed only the columns it
draws. The last point is a privacy rule, not tidiness: a chart's data travels inside the
page, so a numerator behind a suppressed ``c`` must never be passed to Altair.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence

import altair as alt
import numpy as np
import pandas as pd

from cpanalysis.charts.theme import COUNCIL_COLOUR, ENGLAND_COLOUR, OTHER_COLOURS
from cpanalysis.charts.wording import ENGLAND, MEASURE_COLUMNS, council_of
from cpanalysis.errors import InputError
from cpanalysis.formatting import published_values
from cpanalysis.labels import breakdown_label, breakdown_order
from cpanalysis.schema import year_label

__all__ = [
    "PLOT_COLUMNS",
    "check_columns",
    "check_measure_frame",
    "measure_rows",
    "geography_style",
    "title",
    "choice_title",
]

#: the only columns a measure chart embeds in the page
PLOT_COLUMNS = ["time_period", "year", "geography", "breakdown", "value", "display"]

_DASHES: list[list[int]] = [[6, 4], [2, 3], [8, 3, 2, 3], [1, 3], [10, 4]]


def check_columns(frame: object, columns: Sequence[str], what: str, needs: str) -> None:
    """Raise :class:`InputError` unless ``frame`` is a DataFrame holding ``columns``.

    The message names ``what`` was given, the missing columns and ``needs`` (what the
    caller must supply), e.g. ``"forecast lacks columns lower (needs period, mean, lower,
    upper)"``.
    """
    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"{what} must be a pandas DataFrame, not {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(f"{what} lacks columns {', '.join(missing)} ({needs})", column=missing[0])


def check_measure_frame(frame: pd.DataFrame, what: str = "measure frame") -> None:
    """Raise :class:`InputError` naming the missing Contract-2 columns, if any.

    Examples
    --------
    >>> check_measure_frame(pd.DataFrame({"time_period": [2025]}))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    cpanalysis.errors.InputError: column geography: measure frame lacks columns geography, ...
    """
    check_columns(frame, MEASURE_COLUMNS, what, "see Contract 2 in docs/design.md")


def measure_rows(
    measures: pd.DataFrame,
    measure: str,
    *,
    comparators: pd.DataFrame | None = None,
    breakdowns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The rows of one measure, ready to plot: suppressed values null, ``display`` filled.

    Parameters
    ----------
    measures : DataFrame
        Contract-2 frame (after :func:`cpanalysis.suppression.suppress`, or before it).
        Needs ``time_period, geography, measure, breakdown, value, unit``; uses
        ``display`` and ``suppressed`` when present.
    measure : str
        Measure id.
    comparators : DataFrame, optional
        More Contract-2 rows (England, regions) appended to ``measures``.
    breakdowns : sequence of str, optional
        Keep only these breakdowns (in this order).

    Returns
    -------
    DataFrame
        Columns :data:`PLOT_COLUMNS` plus ``unit``: ``year`` is the label (``"2024-25"``),
        ``value`` float (NaN where suppressed), ``display`` the published text (``"c"`` where
        suppressed; formatted from ``value`` when the frame was not suppressed),
        ``breakdown`` in words (:func:`cpanalysis.labels.breakdown_label`: a code of the
        return is named, ``CARPL`` -> "Change to/implementation of care plan"), rows in
        reading order of the breakdowns (:func:`cpanalysis.labels.breakdown_order`).

    Raises
    ------
    InputError
        Missing columns, or no rows for ``measure`` (the message lists the measures present).
    """
    check_measure_frame(measures)
    frames = [measures]
    if comparators is not None:
        check_measure_frame(comparators, "comparators frame")
        frames.append(comparators)
    rows = pd.concat([f[f["measure"] == measure] for f in frames], ignore_index=True, sort=False)
    if rows.empty:
        present = sorted(pd.concat([f["measure"] for f in frames]).dropna().unique())
        raise InputError(
            f"no rows for measure {measure!r}; the frame holds: {', '.join(present)}",
            column="measure",
        )
    if breakdowns is not None:
        available = list(dict.fromkeys(rows["breakdown"].astype(str)))
        rows = rows[rows["breakdown"].isin(list(breakdowns))]
        if rows.empty:
            raise InputError(
                f"measure {measure!r} has no breakdown {', '.join(map(repr, breakdowns))}; "
                f"its breakdowns are: {', '.join(available)}",
                column="breakdown",
            )
    # breakdowns in reading order (ages by age, codes as their code list), then in words
    order = breakdown_order(measure, rows["breakdown"].astype(str))
    rank = rows["breakdown"].astype(str).map({b: i for i, b in enumerate(order)})
    rows = rows.iloc[np.argsort(rank.to_numpy(), kind="stable")]
    out = pd.DataFrame(
        {
            "time_period": rows["time_period"].astype(int),
            "geography": rows["geography"].astype(str),
            "breakdown": rows["breakdown"].astype(str).map(lambda b: breakdown_label(measure, b)),
            "value": pd.to_numeric(rows["value"], errors="coerce").astype(float),
            "unit": rows["unit"].astype(str),
        }
    )
    if "suppressed" in rows.columns:
        hidden = rows["suppressed"].fillna(False).astype(bool).to_numpy()
        out.loc[hidden, "value"] = np.nan  # contract: suppressed -> NaN; never trust otherwise
    else:
        hidden = np.zeros(len(out), dtype=bool)
    # rows without a published text (an unsuppressed frame, England's figures) are
    # formatted as suppress() formats them, so tooltips read the same for every area
    formatted = published_values(out["value"], out["unit"]).fillna("x")  # x: not available
    if "display" in rows.columns:
        display = pd.Series(rows["display"].to_numpy(), index=out.index, dtype="string")
        out["display"] = display.fillna(formatted).astype(str)
    else:
        out["display"] = formatted.astype(str)
    # a suppressed row whose display was left blank still reads "c"
    out.loc[hidden & ~out["display"].isin(["c"]) & out["value"].isna(), "display"] = "c"
    out["year"] = out["time_period"].map(year_label)
    out = out.sort_values("time_period", kind="stable")
    return out[[*PLOT_COLUMNS, "unit"]].reset_index(drop=True)


def geography_style(
    geographies: Sequence[str], council: str | None
) -> tuple[alt.Scale, alt.Scale, list[str]]:
    """Colour and dash scales: council solid blue, England dashed grey, others Okabe-Ito.

    Returns
    -------
    (colour scale, strokeDash scale, domain order)
    """
    names = list(dict.fromkeys(geographies))
    domain = [g for g in [council, ENGLAND] if g in names]
    domain += [g for g in names if g not in domain]
    colours, dashes = [], []
    others = 0
    for g in domain:  # a handful of geographies, not data rows
        if g == council:
            colours.append(COUNCIL_COLOUR)
            dashes.append([1, 0])
        elif g == ENGLAND:
            colours.append(ENGLAND_COLOUR)
            dashes.append(_DASHES[0])
        else:
            colours.append(OTHER_COLOURS[others % len(OTHER_COLOURS)])
            dashes.append(_DASHES[1 + others % (len(_DASHES) - 1)])
            others += 1
    return (
        alt.Scale(domain=domain, range=colours),
        alt.Scale(domain=domain, range=dashes),
        domain,
    )


def title(text: str, caption: str | Sequence[str] | None = None) -> alt.Title:
    """A left-aligned title wrapped to the chart width, with the caption as subtitle lines.

    Vega truncates a long one-line title with an ellipsis, which would cut the finding off,
    so the text is wrapped into lines of about 80 characters.
    """
    lines = textwrap.wrap(text, 80) or [""]
    if caption is None:
        return alt.Title(text=lines)
    captions = [caption] if isinstance(caption, str) else list(caption)
    sub = [line for c in captions for line in textwrap.wrap(c, 110)]
    return alt.Title(text=lines, subtitle=sub)


def default_council(rows: pd.DataFrame, council: str | None) -> str | None:
    """The council geography in plotting rows (see :func:`wording.council_of`)."""
    return council_of(rows, council)


def choice_title(
    param: str, findings: Mapping[str, str], caption: str | Sequence[str] | None = None
) -> tuple[alt.Title, alt.Parameter]:
    """A title that follows a dropdown: one finding per choice, chosen by the parameter.

    Why: a title computed for the first year would go on describing that year after a
    reader picks another (and its accessible name with it). The findings travel in a
    parameter ``<param>_title`` (choice -> title lines) and the title text is the
    expression ``<param>_title[<param>]``, so the drawn title, a saved PNG and the chart's
    accessible name all describe the choice shown.

    Parameters
    ----------
    param : str
        Name of the bound parameter (``"year"``, ``"breakdown"``).
    findings : mapping of str to str
        The finding for each choice, e.g. ``{"2024-25": "..., 2024-25: the largest ..."}``.
    caption : str or sequence of str, optional
        Subtitle lines, as :func:`title`.

    Returns
    -------
    (altair.Title, altair.Parameter)
        Add the parameter to the chart (``chart.add_params``) with the title.
    """
    lines = {choice: textwrap.wrap(text, 80) or [""] for choice, text in findings.items()}
    store = alt.param(name=f"{param}_title", value=lines)
    text = alt.ExprRef(expr=f"{param}_title[{param}]")
    if caption is None:
        return alt.Title(text=text), store
    captions = [caption] if isinstance(caption, str) else list(caption)
    sub = [line for c in captions for line in textwrap.wrap(c, 110)]
    return alt.Title(text=text, subtitle=sub), store
