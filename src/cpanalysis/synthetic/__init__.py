"""A synthetic council: simulated care histories written as SSDA903 returns.

The demo site, the tests and the benchmarks need returns that look and behave like a real
council's without holding anyone's data. :func:`simulate_council` simulates the true history
of a made-up council; :func:`extract_return` cuts it into what the council would send each
year; :func:`write_demo_returns` writes those returns (CSV, XLSX or XML, tidy or messy) in the
folder layout real extracts arrive in; :func:`truth_indicators` gives the headline figures
straight from the history, for checking the indicator code end to end.
"""

from __future__ import annotations

from cpanalysis.synthetic.demo import write_demo_returns
from cpanalysis.synthetic.extract import FILE_NAMES, extract_return
from cpanalysis.synthetic.simulate import SyntheticCouncil, simulate_council
from cpanalysis.synthetic.truth import truth_indicators

__all__ = [
    "FILE_NAMES",
    "SyntheticCouncil",
    "extract_return",
    "simulate_council",
    "truth_indicators",
    "write_demo_returns",
]
