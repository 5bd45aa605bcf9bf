"""DfE indicators from processed SSDA903 tables, as measure frames (design.md Contract 2)."""

from __future__ import annotations

from cpanalysis.indicators.frame import MEASURE_COLUMNS, empty_measure_frame, measure_frame

__all__ = ["MEASURE_COLUMNS", "empty_measure_frame", "measure_frame"]
