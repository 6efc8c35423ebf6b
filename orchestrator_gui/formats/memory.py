"""Lossless reader and editor for ``persistent-memory.md`` agent memory logs.

Implements docs/formats.md §3. The file is kept as its original bytes; the typed
view (:class:`MemoryEntry`, :class:`MemorySection`) records exact line ranges,
and every edit splices only the lines it concerns, then re-parses. Nothing is
re-sorted, re-wrapped, normalised or "repaired": displaced bodies stay
attached to whatever entry precedes them, duplicates stay duplicates.

The line grammar (entry regexes, timestamps, fences) is in
:mod:`orchestrator_gui.formats.memory_syntax`.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime

from orchestrator_gui.formats.fileio import (
    UTF8_BOM,
    TextFile,
    decode_text,
    dominant_newline,
    read_bytes,
)
from orchestrator_gui.formats.limits import check_line_count
from orchestrator_gui.formats.memory_checks import MAX_LINES, REQUIRED_SECTIONS, section_problems
from orchestrator_gui.formats.memory_model import MemoryEntries, MemoryEntry, MemorySection
from orchestrator_gui.formats.memory_scan import MemoryColumns, scan_memory
from orchestrator_gui.formats.memory_syntax import (
    format_timestamp,
    is_blank,
    parse_timestamp,
    strip_terminator,
    terminator,
)
from orchestrator_gui.formats.todo_parse import split_lines_fast
from orchestrator_gui.problems import FormatError, Problem

__all__ = [
    "MAX_LINES",
    "REQUIRED_SECTIONS",
    "MemoryDocument",
    "MemoryEntries",
    "MemoryEntry",
    "MemorySection",
    "format_timestamp",
    "load_memory",
    "parse_timestamp",
]

_NEWLINES = re.compile(r"\r\n|\r|\n")
_LIST_MARKER = re.compile(r"^[-*+][ \t]+")


class MemoryDocument(TextFile):
    """A memory log held as bytes, with a typed, line-ranged view.

    Parameters
    ----------
    path : path-like
        Location of the file (used for saving and in messages).
    data : bytes
        The file's content as read.

    Raises
    ------
    FormatError
        When the bytes are not UTF-8 text.
    """

    def __init__(self, path: str | os.PathLike[str], data: bytes) -> None:
        super().__init__(path, data)
        self.entries: MemoryEntries
        self.sections: list[MemorySection] = []
        self._parse()

    # ------------------------------------------------------------------ parse

    def _parse(self) -> None:
        check_line_count(self.name, self.data)
        text, self._bom = decode_text(self.data, self.name, allow_bom=True)
        self._text = text
        self._lines_cache: list[str] | None = None
        # The scanner works on the UTF-8 bytes: hand it the file's own (no copy without a BOM).
        scan = scan_memory(text, self.data[len(UTF8_BOM):] if self._bom else self.data)
        self._count = scan.line_count
        self._columns = scan.entries
        self.entries = MemoryEntries(scan.entries, scan.table)
        self.sections = [MemorySection(line=a, end_line=b, title=t) for a, b, t in scan.sections]
        notes = [Problem(file=self.name, line=line, severity="info", message=why) for line, why in scan.rejected]
        if scan.open_code is not None:
            what = "code fence" if scan.open_code == "fence" else "HTML comment"
            notes.append(Problem(
                file=self.name, line=scan.open_line, severity="warning",
                message=f"{what} opened here is never closed; nothing after it is read as entries or headings",
            ))
        self._notes = notes
        self._open_code = scan.open_code

    @property
    def _lines(self) -> list[str]:
        """The lines with their terminators (made on first use: only edits need them)."""
        if self._lines_cache is None:
            self._lines_cache = split_lines_fast(self._text)
        return self._lines_cache

    # --------------------------------------------------------------- queries

    @property
    def columns(self) -> MemoryColumns:
        """The entries as columns (what :attr:`entries` makes its models from), for whole-log passes."""
        return self._columns

    @property
    def line_count(self) -> int:
        """Number of lines in the file (a last line without newline counts)."""
        return self._count

    def entry_at(self, line: int) -> MemoryEntry | None:
        """Return the entry whose first line is ``line``, or None."""
        k = self.entries.index_at(line)
        return None if k is None else self.entries[k]

    def entry_text(self, line: int) -> str:
        """Return the raw text of the entry starting at ``line`` (lines joined by ``\\n``).

        Passing this back to :meth:`replace_entry` unchanged is a no-op.
        """
        e = self._entry(line)
        return "\n".join(strip_terminator(ln) for ln in self._lines[e.line - 1:e.end_line])

    def problems(self) -> list[Problem]:
        """Return validation findings; nothing is ever fixed.

        Returns
        -------
        list of Problem
            A warning when the file has more than 300 lines, warnings for
            missing, duplicated or out-of-order required ``# `` sections, a
            warning for a never-closed code fence, and info findings for
            lines that look like entries but are not (unparseable
            timestamp, wrong shape).
        """
        out: list[Problem] = []
        if self.line_count > MAX_LINES:
            out.append(Problem(
                file=self.name, line=None, severity="warning",
                message=f"file has {self.line_count} lines, over the {MAX_LINES}-line budget; "
                        "archive or condense old entries",
            ))
        out.extend(section_problems(self.name, self.sections))
        out.extend(self._notes)
        return sorted(out, key=lambda p: (p.line is not None, p.line or 0))

    # ----------------------------------------------------------------- edits

    def append_entry(
        self,
        mode: str,
        entry_id: str,
        text: str,
        *,
        now: datetime | None = None,
        label: str = "Finding",
    ) -> MemoryEntry:
        """Append a heading entry at the end of the file (docs/formats.md §3.4).

        Writes ``## [<now as toISOString>] [<mode>] - [<entry_id>]`` and
        ``- **<label>**: <first line of text>``. Further non-blank lines of
        ``text`` become nested ``  - `` bullets (a leading ``-``/``*``/``+``
        marker is not doubled; blank lines are dropped), so no raw newline
        can break the entry. One blank line is put before the entry unless
        the file's last line is already blank; a last line without newline is
        terminated first. The file's final-newline state and dominant line
        ending are kept; the original bytes stay a prefix of the new ones.

        Parameters
        ----------
        mode, entry_id : str
            Mode slug and task id; non-empty, without ``[``, ``]``, line
            breaks or surrounding blanks.
        text : str
            The finding; must contain a non-blank line.
        now : datetime, optional
            Timestamp to write (default: the current time).
        label : str
            The bold label of the first bullet.

        Returns
        -------
        MemoryEntry
            The new entry, from the re-parsed file.

        Raises
        ------
        FormatError
            Invalid arguments, or the file ends inside an unclosed code
            fence/comment (the entry would be hidden). Nothing is changed.
        """
        for what, value in (("mode", mode), ("id", entry_id), ("label", label)):
            self._check_field(what, value)
        if "**" in label:
            raise FormatError(self.name, "label must not contain '**'")
        parts = [p.strip() for p in _NEWLINES.split(text) if p.strip()]
        if not parts:
            raise FormatError(self.name, "entry text is empty")
        if self._open_code is not None:
            raise FormatError(self.name, "file ends inside an unclosed code fence or HTML comment; "
                                         "an appended entry would not be read as an entry. Close it first")
        nl = dominant_newline(self._lines)
        stamp = format_timestamp(now if now is not None else datetime.now(UTC))
        new = [f"## [{stamp}] [{mode}] - [{entry_id}]", f"- **{label}**: {parts[0]}"]
        new += ["  - " + _LIST_MARKER.sub("", p) for p in parts[1:]]
        lines = self._lines
        if not lines:
            prefix, final = "", nl
        else:
            last = lines[-1]
            final = nl if terminator(last) else ""
            prefix = "" if terminator(last) else nl
            if not is_blank(last):
                prefix += nl
        addition = prefix + nl.join(new) + final
        # Each newline in ``prefix`` either ends the old last line or adds a
        # blank separator line.
        first_line = len(lines) + prefix.count("\n") + (1 if not lines or terminator(lines[-1]) else 0)
        old = self.data
        self.data = old + addition.encode("utf-8")
        return self._reparse_expecting(old, first_line, after=0)

    def replace_entry(self, line: int, new_text: str) -> MemoryEntry:
        """Replace the whole entry starting at ``line`` (first line and body).

        Only that entry's line range is rewritten. Line breaks in
        ``new_text`` become the entry's own line ending; a trailing line
        break is ignored; the range's last terminator (or its absence at the
        end of the file) is kept.

        Parameters
        ----------
        line : int
            1-based first line of the entry.
        new_text : str
            The complete new text, e.g. an edited :meth:`entry_text`.

        Returns
        -------
        MemoryEntry
            The entry now at ``line``.

        Raises
        ------
        FormatError
            No entry starts at ``line``; ``new_text`` is empty or does not
            start with an entry; or it would hide the entries after it (an
            unclosed fence). Nothing is changed.
        """
        e = self._entry(line)
        body = new_text.rstrip("\r\n")
        if not body.strip():
            raise FormatError(self.name, "replacement text is empty; use delete_entry to remove an entry",
                              line=line)
        lines = self._lines
        first_term = terminator(lines[e.line - 1]) or dominant_newline(lines)
        last_term = terminator(lines[e.end_line - 1])
        parts = _NEWLINES.split(body)
        new = [p + first_term for p in parts[:-1]] + [parts[-1] + last_term]
        after = self.entries.count_after(e.end_line)
        old = self.data
        self._set_lines(lines[: e.line - 1] + new + lines[e.end_line:])
        return self._reparse_expecting(old, line, after=after)

    def delete_entry(self, line: int) -> None:
        """Delete the entry starting at ``line`` (first line and body).

        Removes exactly its line range, plus the separator lines that would
        otherwise pile up: if the range sat between two blank lines, the
        following blank goes too; if it ended the file, the blank lines just
        before it go and the file's final-newline state is kept.

        Raises
        ------
        FormatError
            No entry starts at ``line``. Nothing is changed.
        """
        e = self._entry(line)
        lines = self._lines
        before, after = lines[: e.line - 1], lines[e.end_line:]
        if not after:
            had_final = bool(terminator(lines[-1]))
            while before and is_blank(before[-1]):
                before.pop()
            if before and not had_final:
                before[-1] = strip_terminator(before[-1])
        elif is_blank(after[0]) and (not before or is_blank(before[-1])):
            after = after[1:]
        self._set_lines(before + after)
        self._parse()

    # --------------------------------------------------------------- helpers

    def _entry(self, line: int) -> MemoryEntry:
        e = self.entry_at(line)
        if e is None:
            raise FormatError(self.name, f"no log entry starts at line {line}", line=line)
        return e

    def _check_field(self, what: str, value: str) -> None:
        if not value or not value.strip():
            raise FormatError(self.name, f"entry {what} is empty")
        if value != value.strip():
            raise FormatError(self.name, f"entry {what} {value!r} must not start or end with blanks")
        bad = next((c for c in value if c in "[]\r\n"), None)
        if bad is not None:
            raise FormatError(self.name, f"entry {what} {value!r} must not contain {bad!r}")

    def _set_lines(self, lines: list[str]) -> None:
        self.data = (UTF8_BOM if self._bom else b"") + "".join(lines).encode("utf-8")

    def _reparse_expecting(self, old: bytes, line: int, *, after: int) -> MemoryEntry:
        # Re-parse and check the edit did what it claims; otherwise undo it
        # rather than leave the user with a file that silently lost entries.
        self._parse()
        e = self.entry_at(line)
        kept = self.entries.count_after(e.end_line) if e is not None else 0
        if e is None or kept != after:
            self.data = old
            self._parse()
            why = ("the new text does not start with a log entry" if e is None
                   else "it would change how the entries after it are read (unclosed code fence?)")
            raise FormatError(self.name, f"edit refused: {why}; nothing was changed", line=line)
        return e


def load_memory(path: str | os.PathLike[str]) -> MemoryDocument:
    """Read a memory log file.

    Parameters
    ----------
    path : path-like
        The file, e.g. ``persistent-memory.md``.

    Returns
    -------
    MemoryDocument

    Raises
    ------
    FormatError
        The file is missing, unreadable, too large or not UTF-8 text.
    """
    return MemoryDocument(path, read_bytes(path))
