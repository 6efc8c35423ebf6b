"""Problems and errors shared by every layer: file findings, ``FILE:LINE`` format errors, conflicts.

Every reader reports validation findings as a list of :class:`Problem`
records instead of fixing anything silently. Unrecoverable input (a file
that cannot be read or parsed at all) raises :class:`FormatError`, whose
message already has the ``FILE:LINE: error: message`` shape the CLI prints.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

Severity = Literal["error", "warning", "info"]


class Problem(BaseModel):
    """One validation finding in a workspace file.

    Attributes
    ----------
    file : str
        Path of the file as the user named it (relative paths stay relative).
    line : int or None
        1-based line number, or ``None`` when the problem concerns the whole file.
    severity : {"error", "warning", "info"}
        How serious the problem is. Errors make ``check`` exit with status 1.
    message : str
        A sentence a person can act on.
    """

    model_config = ConfigDict(frozen=True)

    file: str
    line: int | None = None
    severity: Severity = "error"
    message: str

    def format(self) -> str:
        """Return the compiler-style ``FILE:LINE: severity: message`` line."""
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.severity}: {self.message}"


class FormatError(Exception):
    """A workspace file cannot be read, parsed or written.

    Parameters
    ----------
    file : str
        The file concerned.
    message : str
        What went wrong, phrased for the user.
    line : int, optional
        1-based line where the problem is, when known.
    """

    def __init__(self, file: str, message: str, line: int | None = None) -> None:
        self.problem = Problem(file=str(file), line=line, severity="error", message=message)
        super().__init__(self.problem.format())

    @property
    def file(self) -> str:
        return self.problem.file

    @property
    def line(self) -> int | None:
        return self.problem.line

    @property
    def message(self) -> str:
        return self.problem.message


class ConflictError(FormatError):
    """The file changed on disk since it was read; nothing was written."""


class ReadOnlyError(FormatError):
    """The file is in a format we can read but must not edit."""
