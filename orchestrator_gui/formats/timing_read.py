"""Lossless reader for ``task_timing.tsv`` and its ``task_timing.csv`` sibling.

docs/formats.md §4. The file is an append-only log written by AI agents, shell and
PowerShell one-liners and the origin's own Python tool, so real files mix
three row layouts under one header, blank lines, CRLF and LF, and even a
UTF-16LE fragment inside a UTF-8 file. The reader never drops or rewrites
anything: every physical line becomes a :class:`TimingRow` that keeps its
exact bytes, so ``b"".join(row.raw for row in rows)`` is the file.

Reading works on bytes (§4.3):

1. NUL bytes mark UTF-16LE runs (``[^\\0]\\0`` repeated). A ``\\n`` byte that is
   the low byte of a UTF-16 code unit (``\\n\\0``) is text, not a line end, so
   a fragment that PowerShell ended with ``\\r\\0\\n\\0`` stays one ``corrupt``
   row; its text is decoded separately for display.
2. Lines end at ``\\n`` (a preceding ``\\r`` belongs to the terminator).
3. Rows are split on TAB and classified legacy / shifted / standard in the
   order the spec gives; nothing is ever recomputed or "repaired".
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from orchestrator_gui.formats.fileio import read_bytes
from orchestrator_gui.formats.timing_fields import (
    UTF16_RUN_RE,
    decode_fragment,
    is_iso,
    is_ts,
    parse_instant,
    parse_number,
    split_raw_lines,
)
from orchestrator_gui.problems import FormatError, Problem

Layout = Literal["header", "standard", "legacy", "shifted", "blank", "corrupt", "unknown"]

#: Column names of the intended 9-column format (§4.1), in order.
STANDARD_COLUMNS = [
    "timestamp", "mode", "task_id", "start_time", "end_time", "duration", "task", "result", "priority",
]
#: Status words recognised at the start of ``result`` (or of ``task`` in swapped rows).
#: ``timeout`` is ours: the execution engine writes it when a task exceeds its limit.
STATUS_WORDS = frozenset({"started", "in_progress", "completed", "failed", "cancelled", "pending", "timeout"})
PRIORITY_WORDS = frozenset({"schedule", "todo", "normal", "high", "low"})
#: CSV header names (origin ``.roomodes`` time-tracking mode) mapped to ours.
CSV_SYNONYMS = {
    "start_timestamp": "start_time", "end_timestamp": "end_time",
    "duration_seconds": "duration", "results": "result",
}

FIRST_WORD_RE = re.compile(r"^\s*([A-Za-z_-]+)")
#: Control characters no text line contains (TAB, LF and CR are allowed).
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_UTF8_BOM = b"\xef\xbb\xbf"


class TimingRow(BaseModel):
    """One physical line of a timing file (a UTF-16 fragment may span several).

    Attributes
    ----------
    line : int
        1-based physical line number: number of ``\\n`` bytes before the row, plus one.
    layout : Layout
        ``header``, ``standard`` (9/8 fields), ``legacy`` (``task_id``-first),
        ``shifted`` (``mode`` column missing), ``blank``, ``corrupt`` (UTF-16
        fragment, not parsed) or ``unknown`` (fields kept, nothing interpreted).
    raw : bytes
        The row's exact bytes including its terminator.
    fields : list of str
        Delimiter-split fields as decoded; empty for blank and corrupt rows.
    timestamp, mode, task_id, start_time, end_time, duration, task, result : str or None
        Fields by meaning for the row's layout, as written; empty values are ``None``.
    computed_duration_s : float or None
        ``end_time - start_time`` in seconds when both parse. ``duration`` is never recomputed.
    status : str or None
        First word of ``result`` if it is a status word, else of ``task`` (swapped rows).
    priority : str or None
        The priority column when it holds a known priority word.
    text : str or None
        The decoded line without terminator; for corrupt rows the UTF-16 text
        decoded best-effort. ``None`` for blank rows.
    """

    line: int
    layout: Layout
    raw: bytes
    fields: list[str] = []
    timestamp: str | None = None
    mode: str | None = None
    task_id: str | None = None
    start_time: str | None = None
    end_time: str | None = None
    duration: str | None = None
    computed_duration_s: float | None = None
    task: str | None = None
    result: str | None = None
    status: str | None = None
    priority: str | None = None
    text: str | None = None

    @property
    def terminator(self) -> bytes:
        """The line terminator the row ends with: ``b"\\r\\n"``, ``b"\\n"`` or ``b""``."""
        if self.raw.endswith(b"\r\n"):
            return b"\r\n"
        return b"\n" if self.raw.endswith(b"\n") else b""

    @property
    def duration_s(self) -> float | None:
        """The written ``duration`` as a number, or ``None`` if empty or not numeric."""
        return parse_number(self.duration)


def _status_of(result: str | None, task: str | None) -> str | None:
    for text in (result, task):
        if text:
            m = FIRST_WORD_RE.match(text)
            if m is not None:
                word = m.group(1).lower().replace("-", "_")
                if word in STATUS_WORDS:
                    return word
    return None


def _named(values: dict[str, str | None]) -> dict[str, str | None]:
    return {k: (v if v else None) for k, v in values.items()}


def _get(fields: list[str], i: int) -> str | None:
    return fields[i] if i < len(fields) else None


def _classify_tsv(fields: list[str]) -> tuple[Layout, dict[str, str | None]]:
    """Apply the §4.3 rules, in the spec's order, to one row's fields."""
    f0, f1, f2 = _get(fields, 0) or "", _get(fields, 1) or "", _get(fields, 2) or ""

    def g(i: int) -> str | None:
        return _get(fields, i)

    if not is_ts(f0) and is_iso(f1):
        if len(fields) >= 8:
            # Padded legacy row (HEAD rows 8-9): task_id and start where timestamp and
            # mode belong, task/result/priority at their standard positions. End and
            # duration are taken from wherever the writer put them, legacy slot first.
            return "legacy", {
                "task_id": f0, "start_time": f1, "end_time": g(2) or g(4), "duration": g(3) or g(5),
                "task": g(6), "result": g(7), "priority": g(8),
            }
        if len(fields) == 5:  # a "started" legacy row has no duration column
            return "legacy", {"task_id": f0, "start_time": f1, "end_time": g(2), "task": g(3), "result": g(4)}
        return "legacy", {
            "task_id": f0, "start_time": f1, "end_time": g(2), "duration": g(3), "task": g(4), "result": g(5),
        }
    if is_ts(f0) and is_iso(f2):
        # The mode column is missing: field i holds what belongs in column i + 1.
        return "shifted", {
            "timestamp": f0, "task_id": f1, "start_time": f2, "end_time": g(3), "duration": g(4),
            "task": g(5), "result": g(6), "priority": g(7),
        }
    if is_ts(f0) and not is_iso(f1) and not is_iso(f2):
        return "standard", {name: g(i) for i, name in enumerate(STANDARD_COLUMNS)}
    return "unknown", {}


def _classify_csv(fields: list[str], columns: list[str]) -> tuple[Layout, dict[str, str | None]]:
    """Map a CSV row by the header's column names (its order differs from the TSV's)."""
    named = {CSV_SYNONYMS.get(c, c): _get(fields, i) for i, c in enumerate(columns)}
    task_id, start = named.get("task_id") or "", named.get("start_time") or ""
    if len(fields) > len(columns) or is_ts(task_id) or (start and not is_ts(start)):
        return "unknown", {}
    return "standard", {k: v for k, v in named.items() if k in STANDARD_COLUMNS}


def _split_fields(content: str, delimiter: str) -> list[str]:
    if delimiter == "\t":
        return content.split("\t")
    # CSV rows may quote a field that contains commas; the raw bytes are kept anyway.
    try:
        return next(csv.reader([content]), [])
    except csv.Error:  # a stray CR inside the line: fall back to a plain split
        return content.split(delimiter)


def make_row(raw: bytes, line: int, columns: list[str], delimiter: str = "\t",
             first: bool = False) -> tuple[TimingRow, int]:
    """Build the :class:`TimingRow` for one line's bytes.

    Returns the row and a count of "garbage" units (invalid UTF-8, control
    characters, stray NULs) used to tell a damaged text file from a binary one.
    """
    term = 2 if raw.endswith(b"\r\n") else 1 if raw.endswith(b"\n") else 0
    body = raw[:len(raw) - term]
    if first and body.startswith(_UTF8_BOM):
        body = body[len(_UTF8_BOM):]
    if b"\x00" in body:
        # NULs outside UTF-16 runs are not text of any encoding.
        stray_nuls = UTF16_RUN_RE.sub(b"", body).count(0)
        return TimingRow(line=line, layout="corrupt", raw=raw, text=decode_fragment(body)), stray_nuls
    content = body.decode("utf-8", "replace")
    garbage = content.count("\ufffd") - body.count(b"\xef\xbf\xbd")
    garbage += len(_CONTROL_RE.findall(content))
    if not content.strip():
        return TimingRow(line=line, layout="blank", raw=raw), garbage
    fields = _split_fields(content, delimiter)
    head = fields[0].strip().lower() if fields else ""
    if (first and head in ("timestamp", "task_id")) or (head == "timestamp" and _get(fields, 1) == "mode"):
        return TimingRow(line=line, layout="header", raw=raw, fields=fields, text=content), garbage
    if delimiter == "\t":
        layout, named = _classify_tsv(fields)
    else:
        layout, named = _classify_csv(fields, columns)
    values = _named(named)
    priority = values.pop("priority", None)
    row = TimingRow(
        line=line, layout=layout, raw=raw, fields=fields, text=content,
        priority=priority if priority in PRIORITY_WORDS else None,
        status=_status_of(values.get("result"), values.get("task")) if layout != "unknown" else None,
        **values,
    )
    start, end = parse_instant(row.start_time), parse_instant(row.end_time)
    if start is not None and end is not None:
        row.computed_duration_s = round(end - start, 6)
    return row, garbage


class TimingDocument:
    """A read-only, lossless view of a timing file.

    It does not subclass ``TextFile``: the file is append-only and is only
    ever written through :func:`orchestrator_gui.formats.timing.append_row`.

    Attributes
    ----------
    path : Path
        The file (as named by the caller).
    name : str
        ``str(path)``, used in problems.
    data : bytes
        The exact bytes read.
    rows : list of TimingRow
        Every line, in file order, blank and damaged ones included.
    columns : list of str
        Header column names (the 9 standard names when there is no header).
    header_columns : int
        Number of header columns, 0 when the file has no header.
    delimiter : str
        ``"\\t"`` (TSV) or ``","`` (the CSV sibling).
    newline : str
        Dominant terminator, ``"\\n"`` or ``"\\r\\n"`` (``"\\n"`` on a tie or none).
    ends_with_newline : bool
        Whether the last byte is ``\\n``.
    """

    def __init__(self, path: str | Path, data: bytes, rows: list[TimingRow], columns: list[str],
                 header_columns: int, delimiter: str) -> None:
        self.path = Path(path)
        self.name = str(path)
        self.data = data
        self.rows = rows
        self.columns = columns
        self.header_columns = header_columns
        self.delimiter = delimiter
        crlf = sum(1 for r in rows if r.raw.endswith(b"\r\n"))
        lf = sum(1 for r in rows if r.raw.endswith(b"\n")) - crlf
        self.newline = "\r\n" if crlf > lf else "\n"
        self.ends_with_newline = data.endswith(b"\n")

    def to_bytes(self) -> bytes:
        """Return the file's bytes, rebuilt from the rows (equal to :attr:`data`)."""
        return b"".join(r.raw for r in self.rows)

    def data_rows(self) -> list[TimingRow]:
        """Return every row that is neither the header nor blank (damaged ones included)."""
        return [r for r in self.rows if r.layout not in ("header", "blank")]

    def tasks(self) -> dict[str, list[TimingRow]]:
        """Group rows by ``task_id`` in file order; the last row is usually the current state."""
        groups: dict[str, list[TimingRow]] = {}
        for r in self.rows:
            if r.task_id:
                groups.setdefault(r.task_id, []).append(r)
        return groups

    def problems(self) -> list[Problem]:
        """Report damage and irregularities; nothing is ever fixed.

        Warnings: UTF-16 fragments, unrecognised rows, invalid UTF-8, a missing
        header. Info: legacy and shifted rows, ``duration`` differing from
        ``end - start`` by more than 1 s, non-numeric ``duration``.
        """
        out: list[Problem] = []

        def add(line: int, severity: str, message: str) -> None:
            out.append(Problem(file=self.name, line=line, severity=severity, message=message))

        if self.rows and self.header_columns == 0:
            first = next((r for r in self.rows if r.layout != "blank"), None)
            if first is not None:
                add(first.line, "warning", "no header line (expected 'timestamp<TAB>mode<TAB>task_id…')")
        for r in self.rows:
            if r.layout == "corrupt":
                add(r.line, "warning",
                    "UTF-16 text (NUL bytes) inside a UTF-8 file, probably appended by PowerShell "
                    f"redirection; kept as is, not parsed: {_clip(r.text or '')!r}")
                continue
            if r.layout in ("header", "blank"):
                continue
            if r.text is not None and r.text.count("\ufffd") > r.raw.count(b"\xef\xbf\xbd"):
                add(r.line, "warning", "invalid UTF-8 bytes; shown as U+FFFD, kept as is in the file")
            if r.layout == "unknown":
                add(r.line, "warning", f"row layout not recognised ({len(r.fields)} fields); shown raw")
            elif r.layout == "legacy":
                add(r.line, "info", f"legacy task_id-first row ({len(r.fields)} fields)")
            elif r.layout == "shifted":
                add(r.line, "info", "mode column missing; fields read shifted by one column")
            if r.duration is not None and r.duration_s is None:
                add(r.line, "info", f"duration {r.duration!r} is not a number of seconds")
            elif r.duration_s is not None and r.computed_duration_s is not None \
                    and abs(r.duration_s - r.computed_duration_s) > 1:
                add(r.line, "info", f"duration {r.duration} s differs from end - start = "
                                    f"{r.computed_duration_s:g} s")
        return out


def _clip(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def parse_timing(data: bytes, name: str = "task_timing.tsv") -> TimingDocument:
    """Parse a timing file's bytes without losing any of them.

    Parameters
    ----------
    data : bytes
        The file's content.
    name : str
        File name for problems and errors; a ``.csv`` name selects the comma-separated sibling.

    Returns
    -------
    TimingDocument

    Raises
    ------
    FormatError
        For a UTF-16 file (BOM), a file with no UTF-8 text line at all, or one
        that is mostly binary garbage (invalid UTF-8, control bytes, NULs).
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FormatError(name, "file is UTF-16 encoded; save it as UTF-8", line=1)
    spans = split_raw_lines(data)
    first_body = data[spans[0][0]:spans[0][1]].rstrip(b"\r\n") if spans else b""
    first_body = first_body[len(_UTF8_BOM):] if first_body.startswith(_UTF8_BOM) else first_body
    # The CSV sibling is recognised by its name or by a comma-separated header line.
    delimiter = "\t"
    csv_head = first_body.split(b",", 1)[0].strip().lower()
    if name.lower().endswith(".csv") or (b"\t" not in first_body and b"," in first_body
                                         and csv_head in (b"task_id", b"timestamp")):
        delimiter = ","
    columns = list(STANDARD_COLUMNS)
    header_columns = 0
    rows: list[TimingRow] = []
    garbage_total = 0
    first_garbage: int | None = None
    line = 1
    for i, (start, end) in enumerate(spans):
        raw = data[start:end]
        row, garbage = make_row(raw, line, columns, delimiter, first=(i == 0))
        if i == 0 and row.layout == "header":
            columns = [c.strip() for c in row.fields]
            header_columns = len(columns)
        if garbage and first_garbage is None:
            first_garbage = line
        garbage_total += garbage
        rows.append(row)
        line += raw.count(b"\n")
    if data and garbage_total * 4 > len(data):
        raise FormatError(name, "file is mostly binary data (invalid UTF-8 and control bytes), "
                                "not a timing table", line=first_garbage)
    layouts = {r.layout for r in rows}
    if "corrupt" in layouts and layouts <= {"corrupt", "blank"}:
        raise FormatError(name, "file looks UTF-16 encoded (no UTF-8 line at all); save it as UTF-8", line=1)
    return TimingDocument(name, data, rows, columns, header_columns, delimiter)


def load_timing(path: str | Path) -> TimingDocument:
    """Read and parse a timing file.

    Raises
    ------
    FormatError
        Missing file, a folder, permission denied, too large, or undecodable (see :func:`parse_timing`).
    """
    return parse_timing(read_bytes(path), name=str(path))
