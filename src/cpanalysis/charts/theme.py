"""The house look of every chart: fonts, colours and sizes that work offline and for everyone.

Why a theme rather than settings on each chart: a committee reads twenty charts in one
sitting, and the council's line must be the same blue, and England's the same dashed grey,
in all of them. Registering the look once (``alt.theme.register``) also means an analyst's
own ad-hoc chart in a notebook matches the site without any extra code.

* Fonts: a system font stack, so no web font is fetched (a council network or an e-mailed
  page has no internet, and a Google Fonts request would also leak the reader's address).
* Colours: the Okabe-Ito palette, distinguishable with the common colour-vision
  deficiencies; the council is strong blue, England near-black and dashed (so the two differ
  by line style as well as colour, which also survives black-and-white printing).
* Size: a fixed 640 x 320 px plot; ``"container"`` width collapses to nothing inside a page
  element that has no width of its own, which Quarto's output cells often are.
* Titles left-aligned, so the title reads as the sentence that states the finding.
"""

from __future__ import annotations

import altair as alt

__all__ = [
    "THEME_NAME",
    "FONT",
    "COUNCIL_COLOUR",
    "ENGLAND_COLOUR",
    "OTHER_COLOURS",
    "OKABE_ITO",
    "CHART_WIDTH",
    "CHART_HEIGHT",
    "house_theme",
    "enable_theme",
]

THEME_NAME = "cpanalysis"
FONT = 'system-ui, "Segoe UI", Arial, sans-serif'

#: Okabe & Ito (2008) colour-blind-safe palette, in the order we hand colours out
#: (yellow #F0E442 is left out: it is unreadable as a thin line on white).
OKABE_ITO: tuple[str, ...] = (
    "#0072B2",  # blue: the council
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#000000",  # black
)
COUNCIL_COLOUR = "#0072B2"
ENGLAND_COLOUR = "#3B3B3B"
#: colours for comparators other than England (regions, statistical neighbours)
OTHER_COLOURS: tuple[str, ...] = OKABE_ITO[1:6]

CHART_WIDTH = 640
CHART_HEIGHT = 320

_TEXT = "#1A1A1A"
_MUTED = "#4D4D4D"  # 8.6:1 on white: passes WCAG AA for the small caption text


def house_theme() -> alt.theme.ThemeConfig:
    """The cpanalysis Vega-Lite config: system fonts, Okabe-Ito colours, left titles.

    Returns
    -------
    altair.theme.ThemeConfig
        A ``{"config": ...}`` mapping Altair merges into every chart's ``to_dict()``.

    Examples
    --------
    >>> house_theme()["config"]["title"]["anchor"]
    'start'
    """
    axis = {
        "labelFont": FONT,
        "titleFont": FONT,
        "labelFontSize": 12,
        "titleFontSize": 13,
        "titleFontWeight": "normal",
        "labelColor": _TEXT,
        "titleColor": _TEXT,
        "gridColor": "#E0E0E0",
        "domainColor": "#888888",
        "tickColor": "#888888",
    }
    return alt.theme.ThemeConfig(
        config={
            "font": FONT,
            "background": "white",
            "padding": 8,
            "view": {
                "continuousWidth": CHART_WIDTH,
                "continuousHeight": CHART_HEIGHT,
                # years on an ordinal axis share the full width; bars get 28 px each
                "discreteWidth": CHART_WIDTH,
                "discreteHeight": {"step": 28},
                "stroke": None,
            },
            "title": {
                "anchor": "start",
                "font": FONT,
                "fontSize": 16,
                "fontWeight": "bold",
                "color": _TEXT,
                "subtitleFont": FONT,
                "subtitleFontSize": 12,
                "subtitleColor": _MUTED,
                "subtitlePadding": 6,
                "offset": 12,
                "limit": CHART_WIDTH + 120,
            },
            "axis": axis,
            "legend": {
                "labelFont": FONT,
                "titleFont": FONT,
                "labelFontSize": 12,
                "titleFontSize": 12,
                "labelColor": _TEXT,
                "titleColor": _TEXT,
                "orient": "bottom",
                "direction": "horizontal",
                "symbolStrokeWidth": 3,
                "labelLimit": 320,
            },
            "header": {"labelFont": FONT, "titleFont": FONT, "labelFontSize": 12},
            "text": {"font": FONT, "fontSize": 12, "color": _TEXT},
            "range": {"category": list(OKABE_ITO), "ordinal": {"scheme": "blues"}},
            "line": {"strokeWidth": 2.5},
            "point": {"size": 50, "filled": True},
            "bar": {"color": COUNCIL_COLOUR},
            "area": {"color": COUNCIL_COLOUR},
        }
    )


alt.theme.register(THEME_NAME, enable=False)(house_theme)


def enable_theme() -> None:
    """Make the house theme the active Altair theme (done on ``import cpanalysis.charts``).

    Examples
    --------
    >>> enable_theme()
    >>> import altair as alt; alt.theme.active
    'cpanalysis'
    """
    alt.theme.enable(THEME_NAME)
