"""The DfE's SSDA903 validation rules (``csc-validator-be-903``) on a council's raw returns.

:func:`validate_returns` runs the rules on every collection year held, with the year before
as the previous year, in the validator's own environment; :class:`ValidationReport` is what
they found, by rule, with counts and row numbers and no child's identifier.
"""

from __future__ import annotations

from cpanalysis.validation.environment import (
    VALIDATOR_ENV,
    VALIDATOR_REQUIREMENT,
    ValidatorUnavailable,
    validator_python,
)
from cpanalysis.validation.run import validate_returns
from cpanalysis.validation.summary import KNOWN_FAULTS, ValidationReport, YearResult

__all__ = [
    "KNOWN_FAULTS",
    "VALIDATOR_ENV",
    "VALIDATOR_REQUIREMENT",
    "ValidationReport",
    "ValidatorUnavailable",
    "YearResult",
    "validate_returns",
    "validator_python",
]
