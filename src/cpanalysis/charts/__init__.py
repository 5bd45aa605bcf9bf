"""Charts for the committee: the house theme, an offline renderer, and one function per chart.

Importing this module enables both the theme and the offline renderer, so an analyst cannot
forget them: every chart then draws with no network (the vega libraries are inlined once per
notebook) and looks like the site's. Reproduce any chart of the site in a fresh notebook::

    import cpanalysis
    m = cpanalysis.indicators.compute_all(cpanalysis.load_processed("data/processed"))
    cpanalysis.charts.trend_chart(cpanalysis.suppress(m), "placements_3plus_pct")

Modules: :mod:`.theme` (look), :mod:`.offline` (renderer, HTML, SVG), :mod:`.wording`
(labels, finding titles, captions), :mod:`.frames` (checked plotting rows), :mod:`.measures`
(trend and breakdown charts), :mod:`.adoption` (waiting-time survival and adoption journey),
:mod:`.forecasts` (history plus forecast band), :mod:`.sufficiency` (placement groups
ahead, scenario beside baseline).
"""

from __future__ import annotations

from cpanalysis.charts.adoption import STAGE_MEASURES, stage_timeline_chart, survival_chart
from cpanalysis.charts.forecasts import forecast_chart
from cpanalysis.charts.measures import (
    age_group_trend_chart,
    breakdown_chart,
    breakdown_trend_chart,
    trend_chart,
)
from cpanalysis.charts.offline import (
    chart_html,
    page_html,
    reset_page,
    to_svg,
    use_offline_renderer,
)
from cpanalysis.charts.sufficiency import placement_forecast_chart, scenario_chart
from cpanalysis.charts.theme import enable_theme
from cpanalysis.charts.wording import finding_title, source_caption
from cpanalysis.formatting import format_value

__all__ = [
    "STAGE_MEASURES",
    "age_group_trend_chart",
    "breakdown_chart",
    "breakdown_trend_chart",
    "chart_html",
    "enable_theme",
    "finding_title",
    "forecast_chart",
    "format_value",
    "page_html",
    "placement_forecast_chart",
    "reset_page",
    "scenario_chart",
    "source_caption",
    "stage_timeline_chart",
    "survival_chart",
    "to_svg",
    "trend_chart",
    "use_offline_renderer",
]

enable_theme()
use_offline_renderer()
