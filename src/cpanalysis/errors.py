"""Errors a user can act on, each able to say itself in one line.

The command-line tool catches :class:`CpanalysisError` and prints :meth:`one_line` with a
non-zero exit code instead of a traceback, because the people who run it (a council analyst,
a scheduled job) need to know which file, row and column to fix, not where in our code the
problem surfaced.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["CpanalysisError", "InputError", "BuildError"]


class CpanalysisError(Exception):
    """Base class of every error the CLI reports in one line."""

    def one_line(self) -> str:
        """The message as one line of text, for the CLI and the scheduled job's log."""
        from cpanalysis.quoting import printable

        return printable(" ".join(str(self).split()))


class InputError(CpanalysisError):
    """Bad input: an unreadable file, a missing column, an unknown table or year.

    Parameters
    ----------
    message : str
        What is wrong, in plain English.
    file : str or Path, optional
        The input file (or folder) concerned.
    row : int, optional
        1-based row number in the file as a spreadsheet shows it (header = row 1).
    column : str, optional
        The column concerned.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.message = message
        self.file = None if file is None else str(file)
        self.row = row
        self.column = column
        super().__init__(self._compose())

    def _compose(self) -> str:
        where = []
        if self.file is not None:
            where.append(self.file)
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.message}" if where else self.message


class BuildError(CpanalysisError):
    """A step of the site build failed; the previous site was left as it was."""
