"""cpanalysis: SSDA903 (children looked after) returns to a corporate parenting scorecard.

The flow, one module per arrow::

    data/raw  --readers-->  raw tables  --cleaning-->  typed tables  --merge-->  one table
    per kind over all years  --deidentify-->  data/processed (Parquet)  --histories-->
    periods of care, placements, moves  --indicators-->  DfE measures  --suppression-->
    published tables  --charts / notebooks / site-->  the committee's pages

An analyst in Jupyter needs three names::

    import cpanalysis
    council = cpanalysis.analysis.open_analysis("data/processed")
    cpanalysis.charts.trend_chart(council.measures, "placements_3plus_pct")

Sub-modules are imported on first use so ``import cpanalysis`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_LAZY = {
    "load_processed": "cpanalysis.processed",
    "ProcessedData": "cpanalysis.processed",
    "clean_returns": "cpanalysis.pipeline",
    "write_demo_returns": "cpanalysis.synthetic",
    "load_config": "cpanalysis.config",
    "suppress": "cpanalysis.suppression",
}
_SUBMODULES = {
    "analysis",
    "demo",
    "narrative",
    "publish",
    "scorecard",
    "years",
    "schema",
    "readers",
    "cleaning",
    "quality",
    "merge",
    "deidentify",
    "pipeline",
    "processed",
    "synthetic",
    "histories",
    "indicators",
    "suppression",
    "comparators",
    "forecast",
    "charts",
    "notebook_runner",
    "site",
    "config",
    "errors",
}

__all__ = ["__version__", *sorted(_LAZY), *sorted(_SUBMODULES)]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name in _SUBMODULES:
        return importlib.import_module(f"cpanalysis.{name}")
    raise AttributeError(f"module 'cpanalysis' has no attribute {name!r}")
