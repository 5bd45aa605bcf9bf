"""Small trend lines for the scorecard: inline SVG, drawn offline, with a text alternative.

Why inline SVG rather than a chart library: the scorecard has some thirty rows, each with a
five-year trend. A Vega chart per row would cost a script and a render each; an SVG of a
few hundred bytes draws at once, prints, works from a file share and needs no script. The
figures drawn are the published ones (``c`` and ``x`` leave a gap), and the same figures are
written out in words for screen readers (``aria-label`` and ``<title>``), so the picture
never says more than the table.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from cpanalysis.schema import year_label
from cpanalysis.scorecard import published_number

__all__ = ["WIDTH", "HEIGHT", "sparkline_svg", "trend_text"]

#: Drawing size in CSS pixels (it scales with the font through the CSS, if asked).
WIDTH, HEIGHT = 100, 28
_PAD = 4


def trend_text(label: str, years: Sequence[int], shown: Sequence[str]) -> str:
    """The trend in words: ``"Placements per child, 2021-22 to 2025-26: 1.2, 1.4, c, 1.5, 1.5"``.

    A withheld figure reads ``c``, one not available ``x``, as in the tables.
    """
    if not years:
        return f"{label}: no figures"
    span = f"{year_label(years[0])} to {year_label(years[-1])}"
    return f"{label}, {span}: " + ", ".join(s or "x" for s in shown)


def _coordinates(values: Sequence[float | None]) -> list[tuple[float, float] | None]:
    numbers = [v for v in values if v is not None]
    if not numbers:
        return [None] * len(values)
    low, high = min(numbers), max(numbers)
    step = (WIDTH - 2 * _PAD) / max(len(values) - 1, 1)
    points: list[tuple[float, float] | None] = []
    for i, v in enumerate(values):
        if v is None:
            points.append(None)
            continue
        # a flat series is drawn across the middle, not along the bottom edge
        share = 0.5 if high == low else (v - low) / (high - low)
        points.append((_PAD + i * step, HEIGHT - _PAD - share * (HEIGHT - 2 * _PAD)))
    return points


def sparkline_svg(label: str, years: Sequence[int], shown: Sequence[str]) -> str:
    """An inline SVG of one measure's published figures over ``years``, oldest first.

    Parameters
    ----------
    label : str
        The measure as the reader knows it (starts the text alternative).
    years : sequence of int
        Collection years, oldest first.
    shown : sequence of str
        The published text of each year (``"12"``, ``"c"``, ``"x"``, ``""``).

    Returns
    -------
    str
        ``<svg role="img" aria-label="...">`` with a ``<title>``, one ``<polyline>`` per run
        of years with a figure, a dot per figure and a larger dot on the latest year.
        Nothing is drawn (only the text) when no year has a figure.
    """
    values = [published_number(s) for s in shown]
    points = _coordinates(values)
    text = html.escape(trend_text(label, years, shown))
    runs: list[list[tuple[float, float]]] = [[]]
    for point in points:
        if point is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append(point)
    lines = "".join(
        '<polyline fill="none" stroke="currentColor" stroke-width="1.5" points="'
        + " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
        + '"/>'
        for run in runs
        if len(run) > 1
    )
    dots = "".join(
        f'<circle cx="{p[0]:.1f}" cy="{p[1]:.1f}" r="{3 if i == len(points) - 1 else 1.5}" '
        'fill="currentColor"/>'
        for i, p in enumerate(points)
        if p is not None
    )
    return (
        f'<svg class="cp-spark" role="img" aria-label="{text}" width="{WIDTH}" '
        f'height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" focusable="false">'
        f"<title>{text}</title>{lines}{dots}</svg>"
    )
