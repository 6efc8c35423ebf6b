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

import io
from collections.abc import Iterator

from orchestrator_gui.formats.timing_fields import parse_instant, parse_number
from orchestrator_gui.formats.timing_read import (
    DIFFERS,
    LEGACY,
    NOT_A_NUMBER,
    PRIORITY_WORDS,
    UNKNOWN,
    TimingRow,
    _classify_tsv,
    _status_of,
    make_row,
)
from orchestrator_gui.problems import Findings, Problem

#: The values of a row :func:`plain_rows` gives, in order.
ROW_FIELDS = ("line", "layout", "timestamp", "mode", "task_id", "start_time", "end_time", "duration", "task",
              "result", "status", "priority")


#: Distinct lines whose findings are remembered: a log of millions of short damaged lines repeats
#: them, and judging each one again took 14 s for 10 million (benchmarks/fuzz.py found the kind).
_MEMO_LINES = 100_000
#: Only lines this short are remembered: only short lines come by the million (20 MB / 48 bytes is
#: 440,000 lines), and a real row (two timestamps alone are 48 characters) is never repeated.
_MEMO_CHARS = 48
_Finding = tuple[str, str, str]


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
    # One line at a time (a list of ten million short lines took 30 times the file's size).
    text = data.decode("utf-8").removeprefix("\ufeff")  # the reader strips a BOM from the first row only
    found = Findings(name)
    add = found.add
    if header_columns == 0:
        first = next((k for k, line in enumerate(io.StringIO(text, newline="\n")) if line.strip()), None)
        if first is not None:
            add(first + 1, "warning", "no header line (expected 'timestamp<TAB>mode<TAB>task_id…')")
    memo: dict[str, tuple[_Finding, ...]] = {}
    for k, line in enumerate(io.StringIO(text, newline="\n")):
        short = len(line) <= _MEMO_CHARS
        judged = memo.get(line) if short else None
        if judged is None:
            # A line's "\r" goes with its "\n"; the last line, when no newline ends it, keeps its "\r".
            content = line[:-2] if line.endswith("\r\n") else line[:-1] if line.endswith("\n") else line
            judged = _line_findings(content, first=k == 0)
            if k and short and len(memo) < _MEMO_LINES:
                memo[line] = judged
        for severity, message, kind in judged:
            add(k + 1, severity, message, kind)  # type: ignore[arg-type]
    return found.result()


def _line_findings(content: str, *, first: bool) -> tuple[_Finding, ...]:
    """What one line (its terminator removed) is reported for: (severity, message, kind) each."""
    if not content.strip():
        return ()  # blank
    fields = content.split("\t")
    head = fields[0].strip().lower()
    if (first and head in ("timestamp", "task_id")) or (head == "timestamp" and len(fields) > 1
                                                         and fields[1] == "mode"):
        return ()  # a header
    out: list[_Finding] = []
    layout, named = _classify_tsv(fields)
    if layout == "unknown":
        out.append(("warning", f"row layout not recognised ({len(fields)} fields); shown raw", UNKNOWN))
    elif layout == "legacy":
        out.append(("info", f"legacy task_id-first row ({len(fields)} fields)", LEGACY))
    elif layout == "shifted":
        message = "mode column missing; fields read shifted by one column"
        out.append(("info", message, message))
    duration = named.get("duration") or None
    if duration is None:
        return tuple(out)
    seconds = parse_number(duration)
    if seconds is None:
        out.append(("info", f"duration {duration!r} is not a number of seconds", NOT_A_NUMBER))
        return tuple(out)
    start, end = parse_instant(named.get("start_time") or None), parse_instant(named.get("end_time") or None)
    if start is not None and end is not None:
        computed = round(end - start, 6)
        if abs(seconds - computed) > 1:
            out.append(("info", f"duration {duration} s differs from end - start = {computed:g} s", DIFFERS))
    return tuple(out)


def plain_rows(data: bytes) -> Iterator[tuple[int, tuple]]:
    """The data rows of the plain TSV log ``data`` (neither header nor blank): ``(line, values)`` each.

    ``values`` are the :data:`ROW_FIELDS` after ``line``, those of
    :meth:`TimingDocument.data_rows` (empty fields are ``None``; ``status``
    and ``priority`` as the reader judges them). See :func:`plain_row_runs`.
    """
    for first, last, values in plain_row_runs(data):
        for line in range(first, last + 1):
            yield line, values


def plain_row_runs(data: bytes) -> Iterator[tuple[int, int, tuple]]:
    """The data rows of the plain TSV log ``data`` as runs: ``(first line, last line, values)``.

    Consecutive lines of the same text are one run, judged once; short lines
    of the same text anywhere share one ``values`` object. A damaged log
    repeats a few short lines millions of times, and one Python step per line
    was most of the time of ``timing list --all`` on it.
    """
    memo: dict[str, object] = {}
    text = data.decode("utf-8").removeprefix("\ufeff")
    values: object = None
    start = k = 0
    prev: str | None = None
    for k, line in enumerate(io.StringIO(text, newline="\n")):
        if line == prev:
            continue  # the run goes on
        if values is not None:
            yield start + 1, k, values  # type: ignore[misc]
        start = k
        short = len(line) <= _MEMO_CHARS
        values = memo.get(line, _UNSEEN) if short else _UNSEEN
        if values is _UNSEEN:
            content = line[:-2] if line.endswith("\r\n") else line[:-1] if line.endswith("\n") else line
            values = _row_values(content, first=k == 0)
            if k and short and len(memo) < _MEMO_LINES:
                memo[line] = values
        prev = line if k else None  # the first line is judged as a possible header: never one run with the next
    if values is not None:
        yield start + 1, k + 1, values  # type: ignore[misc]


_UNSEEN = object()  # not yet judged (None is judged: no row)


def _row_values(content: str, *, first: bool) -> tuple | None:
    """The values of one line (its terminator removed) after ``line``; ``None`` for a blank or a header."""
    if not content.strip():
        return None
    fields = content.split("\t")
    head = fields[0].strip().lower()
    if (first and head in ("timestamp", "task_id")) or (head == "timestamp" and len(fields) > 1
                                                         and fields[1] == "mode"):
        return None
    layout, named = _classify_tsv(fields)
    g = {key: (v if v else None) for key, v in named.items()}.get
    priority = g("priority")
    return (layout, g("timestamp"), g("mode"), g("task_id"), g("start_time"), g("end_time"), g("duration"),
            g("task"), g("result"), _status_of(g("result"), g("task")) if layout != "unknown" else None,
            priority if priority in PRIORITY_WORDS else None)


def plain_task_rows(data: bytes, columns: list[str]) -> Iterator[TimingRow]:
    """The rows of the plain TSV log ``data`` that have a task id, as :func:`make_row` makes them, in file order.

    Lines without one (blank, header, damaged) get no row model: a log of
    millions of damaged lines is read one line at a time in little memory.
    """
    memo: dict[bytes, bool] = {}
    for k, raw in enumerate(io.BytesIO(data)):
        short = len(raw) <= _MEMO_CHARS
        known = memo.get(raw) if short else None
        if known is False:
            continue
        row, _ = make_row(raw, k + 1, columns, "\t", first=k == 0)
        if k and short and known is None and len(memo) < _MEMO_LINES:
            memo[raw] = bool(row.task_id)
        if row.task_id:
            yield row
