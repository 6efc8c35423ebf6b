"""Problems and errors shared by every layer: file findings, ``FILE:LINE`` format errors, conflicts.

Every reader reports validation findings as a list of :class:`Problem`
records instead of fixing anything silently. Unrecoverable input (a file
that cannot be read or parsed at all) raises :class:`FormatError`, whose
message already has the ``FILE:LINE: error: message`` shape the CLI prints.
"""

from __future__ import annotations

from dataclasses import dataclass
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


#: Findings of one kind listed per file; the rest are counted in one summary finding.
MAX_FINDINGS_PER_KIND = 100


class Findings:
    """Collects a file's findings, listing at most ``per_kind`` of each kind and counting the rest.

    A damaged append-only log can hold a million rows of the same damage; one
    :class:`Problem` per row took seconds and hundreds of MB, and nobody reads
    a million identical lines. Past the cap, each kind ends with one finding
    that says how many more there are and where the last one is.

    Parameters
    ----------
    file : str
        The file every finding names.
    per_kind : int
        Findings listed per kind (at least 1).
    """

    def __init__(self, file: str, per_kind: int = MAX_FINDINGS_PER_KIND) -> None:
        self.file = file
        self.per_kind = max(1, per_kind)
        self._listed: list[Problem] = []
        self._kinds: dict[str, _Kind] = {}

    def add(self, line: int | None, severity: Severity, message: str, kind: str | None = None) -> None:
        """Record one finding; ``kind`` (the message by default) groups findings for the cap."""
        key = kind if kind is not None else message
        state = self._kinds.get(key)
        if state is None:
            state = self._kinds[key] = _Kind(severity)
        if state.listed < self.per_kind:
            state.listed += 1
            self._listed.append(Problem(file=self.file, line=line, severity=severity, message=message))
            return
        state.more += 1
        if state.first is None:
            state.first = line
        state.last = line

    def result(self) -> list[Problem]:
        """The listed findings in the order added, then one summary per kind over the cap."""
        out = list(self._listed)
        for key, state in self._kinds.items():
            if state.more:
                where = f" (lines {state.first:,} to {state.last:,})" \
                    if state.first is not None and state.last is not None else ""
                out.append(Problem(file=self.file, line=state.first, severity=state.severity,
                                   message=f"{state.more:,} more like the {self.per_kind} above: {key}{where}"))
        return out


@dataclass
class _Kind:
    """How many findings of one kind were listed and counted, and where the counted ones lie."""

    severity: Severity
    listed: int = 0
    more: int = 0
    first: int | None = None
    last: int | None = None


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
