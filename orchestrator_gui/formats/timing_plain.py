"""Passes over a plain TSV timing log without a row model per line: its findings, its rows' values.

A plain log is UTF-8 text without NUL bytes (no UTF-16 fragment, no invalid
byte): every ``\\n`` ends a row. The lines are split and classified by the
reader's own rules (:func:`~orchestrator_gui.formats.timing_read._classify_tsv`)
without building a :class:`TimingRow` (a pydantic model) per line:

* :func:`plain_problems` gives the findings of :meth:`TimingDocument.problems`;
  ``duration`` is compared with ``end - start`` only where it is a number;
* :func:`plain_rows` gives, per data row, the values ``timing list`` shows.

Both equal what the row-by-row path gives (tests hold them equal).
"""

from __future__ import annotations

from collections.abc import Iterator

from orchestrator_gui.formats.timing_fields import parse_instant, parse_number
from orchestrator_gui.formats.timing_read import PRIORITY_WORDS, _classify_tsv, _status_of
from orchestrator_gui.problems import Problem

#: The values of a row :func:`plain_rows` gives, in order.
ROW_FIELDS = ("line", "layout", "timestamp", "mode", "task_id", "start_time", "end_time", "duration", "task",
              "result", "status", "priority")


def plain_problems(name: str, data: bytes, header_columns: int) -> list[Problem]:
    """The findings for the plain TSV log ``data`` (see the module notes).

    Parameters
    ----------
    name : str
        File name for the findings.
    data : bytes
        The file: valid UTF-8 without NUL bytes.
    header_columns : int
        Columns of its header line, 0 when it has none.
    """
    if not data:
        return []
    text = data.decode("utf-8").removeprefix("\ufeff")  # the reader strips a BOM from the first row only
    lines = text.split("\n")
    terminated = len(lines) - 1
    if lines[-1] == "":  # the piece after a final newline is no row
        lines.pop()
    out: list[Problem] = []

    def add(line: int, severity: str, message: str) -> None:
        out.append(Problem(file=name, line=line, severity=severity, message=message))  # type: ignore[arg-type]

    first_filled = True
    for k, line in enumerate(lines):
        content = line[:-1] if k < terminated and line.endswith("\r") else line
        if not content.strip():
            continue  # blank
        if first_filled:
            first_filled = False
            if header_columns == 0:
                add(k + 1, "warning", "no header line (expected 'timestamp<TAB>mode<TAB>task_id…')")
        fields = content.split("\t")
        head = fields[0].strip().lower()
        if (k == 0 and head in ("timestamp", "task_id")) or (head == "timestamp" and len(fields) > 1
                                                              and fields[1] == "mode"):
            continue  # a header
        layout, named = _classify_tsv(fields)
        if layout == "unknown":
            add(k + 1, "warning", f"row layout not recognised ({len(fields)} fields); shown raw")
        elif layout == "legacy":
            add(k + 1, "info", f"legacy task_id-first row ({len(fields)} fields)")
        elif layout == "shifted":
            add(k + 1, "info", "mode column missing; fields read shifted by one column")
        duration = named.get("duration") or None
        if duration is None:
            continue
        seconds = parse_number(duration)
        if seconds is None:
            add(k + 1, "info", f"duration {duration!r} is not a number of seconds")
            continue
        start, end = parse_instant(named.get("start_time") or None), parse_instant(named.get("end_time") or None)
        if start is not None and end is not None:
            computed = round(end - start, 6)
            if abs(seconds - computed) > 1:
                add(k + 1, "info", f"duration {duration} s differs from end - start = {computed:g} s")
    return out


def _lines(data: bytes) -> tuple[list[str], int]:
    """The log's lines (BOM and final newline's empty piece removed) and how many end with a newline."""
    text = data.decode("utf-8").removeprefix("\ufeff")
    lines = text.split("\n")
    terminated = len(lines) - 1
    if lines[-1] == "":
        lines.pop()
    return lines, terminated


def plain_rows(data: bytes) -> Iterator[tuple]:
    """The data rows of the plain TSV log ``data`` (neither header nor blank), as :data:`ROW_FIELDS` values.

    The values are those of :meth:`TimingDocument.data_rows` (empty fields
    are ``None``; ``status`` and ``priority`` as the reader judges them).
    """
    if not data:
        return
    lines, terminated = _lines(data)
    for k, line in enumerate(lines):
        content = line[:-1] if k < terminated and line.endswith("\r") else line
        if not content.strip():
            continue
        fields = content.split("\t")
        head = fields[0].strip().lower()
        if (k == 0 and head in ("timestamp", "task_id")) or (head == "timestamp" and len(fields) > 1
                                                              and fields[1] == "mode"):
            continue
        layout, named = _classify_tsv(fields)
        g = {key: (v if v else None) for key, v in named.items()}.get
        priority = g("priority")
        yield (k + 1, layout, g("timestamp"), g("mode"), g("task_id"), g("start_time"), g("end_time"),
               g("duration"), g("task"), g("result"), _status_of(g("result"), g("task")) if layout != "unknown"
               else None, priority if priority in PRIORITY_WORDS else None)
