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

import codecs
import contextlib
import csv
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

from pydantic import BaseModel

from orchestrator_gui.formats.fileio import MAX_FILE_BYTES, read_bytes, stat_regular_file
from orchestrator_gui.formats.timing_fields import (
    UTF16_RUN_RE,
    decode_fragment,
    is_iso,
    is_ts,
    parse_instant,
    parse_number,
    split_raw_lines,
)
from orchestrator_gui.formats.todo_model import construct_unchecked
from orchestrator_gui.problems import Findings, FormatError, Problem

# Kinds of findings, for the cap on how many of each are listed (problems.Findings).
UNKNOWN, LEGACY = "rows of a layout not recognised", "legacy task_id-first rows"
NOT_A_NUMBER, DIFFERS = "durations that are not numbers", "durations that differ from end - start"

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
#: The bytes of _CONTROL_RE.
_CONTROL_BYTE = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
#: Every byte but those of _CONTROL_RE (in UTF-8 a control character is always that one byte).
_NOT_CONTROL = bytes(b for b in range(256) if not (b <= 0x08 or b in (0x0B, 0x0C) or 0x0E <= b <= 0x1F or b == 0x7F))


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


#: Every field of a data row that a layout may leave out (the model's defaults; no mutable ones).
_ROW_DEFAULTS: dict[str, str | float | None] = {
    "timestamp": None, "mode": None, "task_id": None, "start_time": None, "end_time": None,
    "duration": None, "computed_duration_s": None, "task": None, "result": None, "status": None,
    "priority": None, "text": None,
}


def _status_of(result: str | None, task: str | None) -> str | None:
    for text in (result, task):
        if text:
            m = FIRST_WORD_RE.match(text)
            if m is not None:
                word = m.group(1).lower().replace("-", "_")
                if word in STATUS_WORDS:
                    return word
    return None


def _get(fields: list[str], i: int) -> str | None:
    return fields[i] if i < len(fields) else None


def _classify_tsv(fields: list[str]) -> tuple[Layout, dict[str, str | None]]:
    """Apply the §4.3 rules, in the spec's order, to one row's fields."""
    n = len(fields)
    f0 = fields[0] if n > 0 else ""
    f1 = fields[1] if n > 1 else ""
    f2 = fields[2] if n > 2 else ""
    # Each test once (a log has hundreds of thousands of rows); the spec's order is kept below.
    ts0, iso1 = is_ts(f0), is_iso(f1)

    def g(i: int) -> str | None:
        return fields[i] if i < n else None

    if not ts0 and iso1:
        if n >= 8:
            # Padded legacy row (HEAD rows 8-9): task_id and start where timestamp and
            # mode belong, task/result/priority at their standard positions. End and
            # duration are taken from wherever the writer put them, legacy slot first.
            return "legacy", {
                "task_id": f0, "start_time": f1, "end_time": g(2) or g(4), "duration": g(3) or g(5),
                "task": g(6), "result": g(7), "priority": g(8),
            }
        if n == 5:  # a "started" legacy row has no duration column
            return "legacy", {"task_id": f0, "start_time": f1, "end_time": g(2), "task": g(3), "result": g(4)}
        return "legacy", {
            "task_id": f0, "start_time": f1, "end_time": g(2), "duration": g(3), "task": g(4), "result": g(5),
        }
    if not ts0:
        return "unknown", {}
    iso2 = is_iso(f2)
    if iso2:
        # The mode column is missing: field i holds what belongs in column i + 1.
        return "shifted", {
            "timestamp": f0, "task_id": f1, "start_time": f2, "end_time": g(3), "duration": g(4),
            "task": g(5), "result": g(6), "priority": g(7),
        }
    if not iso1:
        padded = fields[:9] if n >= 9 else fields + [None] * (9 - n)  # type: ignore[list-item]
        return "standard", dict(zip(STANDARD_COLUMNS, padded, strict=True))
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
    garbage += len(body.translate(None, _NOT_CONTROL))  # the control bytes are the control characters
    if not content.strip():
        # Unvalidated: a damaged log can hold millions of blank lines (the model's own check and its
        # copy of the default list took 8 microseconds a line: 58 s for 6 million).
        return construct_unchecked(TimingRow, {**_ROW_DEFAULTS, "line": line, "layout": "blank", "raw": raw,
                                               "fields": []}), garbage
    fields = _split_fields(content, delimiter)
    head = fields[0].strip().lower() if fields else ""
    if (first and head in ("timestamp", "task_id")) or (head == "timestamp" and _get(fields, 1) == "mode"):
        return TimingRow(line=line, layout="header", raw=raw, fields=fields, text=content), garbage
    if delimiter == "\t":
        layout, named = _classify_tsv(fields)
    else:
        layout, named = _classify_csv(fields, columns)
    values = {k: (v if v else None) for k, v in named.items()}
    priority = values.pop("priority", None)
    start, end = parse_instant(values.get("start_time")), parse_instant(values.get("end_time"))
    row = construct_unchecked(TimingRow, {
        **_ROW_DEFAULTS, "line": line, "layout": layout, "raw": raw, "fields": fields, "text": content,
        "priority": priority if priority in PRIORITY_WORDS else None,
        "status": _status_of(values.get("result"), values.get("task")) if layout != "unknown" else None,
        "computed_duration_s": round(end - start, 6) if start is not None and end is not None else None,
        **values,
    })
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

    def __init__(self, path: str | Path, data: bytes, rows: list[TimingRow] | None, columns: list[str],
                 header_columns: int, delimiter: str) -> None:
        self.path = Path(path)
        self.name = str(path)
        self.data = data
        # None: a plain file (UTF-8 text, no NUL byte), whose rows are made on first use
        # (:func:`parse_timing`); problems() reads such a file without them.
        self._rows = rows
        self.columns = columns
        self.header_columns = header_columns
        self.delimiter = delimiter
        if rows is None:  # every "\n" of a plain file ends a row
            crlf = data.count(b"\r\n")
            lf = data.count(b"\n") - crlf
        else:
            crlf = sum(1 for r in rows if r.raw.endswith(b"\r\n"))
            lf = sum(1 for r in rows if r.raw.endswith(b"\n")) - crlf
        self.newline = "\r\n" if crlf > lf else "\n"
        self.ends_with_newline = data.endswith(b"\n")

    @property
    def rows(self) -> list[TimingRow]:
        """Every line, in file order, blank and damaged ones included."""
        if self._rows is None:
            self._rows = _make_rows(self.data, self.delimiter)[0]
        return self._rows

    @property
    def plain(self) -> bool:
        """Whether the log is plain TSV (UTF-8, no NUL byte): :func:`~orchestrator_gui.formats.timing_plain.plain_rows`
        reads it without row models."""
        return self._rows is None and self.delimiter == "\t"

    def to_bytes(self) -> bytes:
        """Return the file's bytes, rebuilt from the rows (equal to :attr:`data`)."""
        return b"".join(r.raw for r in self.rows)

    def data_rows(self) -> list[TimingRow]:
        """Return every row that is neither the header nor blank (damaged ones included)."""
        return [r for r in self.rows if r.layout not in ("header", "blank")]

    def tasks(self) -> dict[str, list[TimingRow]]:
        """Group rows by ``task_id`` in file order; the last row is usually the current state."""
        if self.plain:
            # Imported here: the plain reader uses this module's row rules (a top-level import is circular).
            from orchestrator_gui.formats.timing_plain import plain_task_rows

            return group_by_task(plain_task_rows(self.data, self.columns))
        return group_by_task(self.rows)

    def problems(self) -> list[Problem]:
        """Report damage and irregularities; nothing is ever fixed.

        Warnings: UTF-16 fragments, unrecognised rows, invalid UTF-8, a missing
        header. Info: legacy and shifted rows, ``duration`` differing from
        ``end - start`` by more than 1 s, non-numeric ``duration``.
        """
        if self.plain:
            # Imported here: the checker uses this module's row rules (a top-level import is circular).
            from orchestrator_gui.formats.timing_plain import plain_problems

            return plain_problems(self.name, self.data, self.header_columns)
        found = Findings(self.name)
        add = found.add

        if self.rows and self.header_columns == 0:
            first = next((r for r in self.rows if r.layout != "blank"), None)
            if first is not None:
                add(first.line, "warning", "no header line (expected 'timestamp<TAB>mode<TAB>task_id…')")
        for r in self.rows:
            if r.layout == "corrupt":
                add(r.line, "warning",
                    "UTF-16 text (NUL bytes) inside a UTF-8 file, probably appended by PowerShell "
                    f"redirection; kept as is, not parsed: {_clip(r.text or '')!r}", "UTF-16 rows")
                continue
            if r.layout in ("header", "blank"):
                continue
            if r.text is not None and r.text.count("\ufffd") > r.raw.count(b"\xef\xbf\xbd"):
                add(r.line, "warning", "invalid UTF-8 bytes; shown as U+FFFD, kept as is in the file")  # one kind
            if r.layout == "unknown":
                add(r.line, "warning", f"row layout not recognised ({len(r.fields)} fields); shown raw", UNKNOWN)
            elif r.layout == "legacy":
                add(r.line, "info", f"legacy task_id-first row ({len(r.fields)} fields)", LEGACY)
            elif r.layout == "shifted":
                add(r.line, "info", "mode column missing; fields read shifted by one column")
            if r.duration is not None and r.duration_s is None:
                add(r.line, "info", f"duration {r.duration!r} is not a number of seconds", NOT_A_NUMBER)
            elif r.duration_s is not None and r.computed_duration_s is not None \
                    and abs(r.duration_s - r.computed_duration_s) > 1:
                add(r.line, "info", f"duration {r.duration} s differs from end - start = "
                                    f"{r.computed_duration_s:g} s", DIFFERS)
        return found.result()


def group_by_task(rows: Iterable[TimingRow]) -> dict[str, list[TimingRow]]:
    """``rows`` that have a task id, grouped by it in order (what a run is made of)."""
    groups: dict[str, list[TimingRow]] = {}
    for r in rows:
        if r.task_id:
            groups.setdefault(r.task_id, []).append(r)
    return groups


def _clip(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def _delimiter(first_line: bytes, name: str) -> str:
    """``","`` for the CSV sibling (recognised by its name or a comma-separated header line), else TAB."""
    body = first_line.rstrip(b"\r\n").removeprefix(_UTF8_BOM)
    csv_head = body.split(b",", 1)[0].strip().lower()
    if name.lower().endswith(".csv") or (b"\t" not in body and b"," in body
                                         and csv_head in (b"task_id", b"timestamp")):
        return ","
    return "\t"


#: Most lines of a timing log that is not plain text (NUL bytes, invalid UTF-8), whose rows are
#: models: 6 million blank lines around one NUL byte took 58 s and 6 GB. A real log of 20 MB
#: has about 200,000 rows; 250,000 damaged ones are read in about 2 s.
MAX_DAMAGED_LINES = 250_000


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
    first_line = data[:data.find(b"\n") + 1] or data
    delimiter = _delimiter(first_line, name)
    if b"\x00" not in data and _is_utf8(data):
        # A plain file (the usual case): the damage the reader counts is its control bytes,
        # and rows are made only when asked for (a check of 200 000 rows needs none).
        garbage = len(data.translate(None, _NOT_CONTROL))
        if data and garbage * 4 > len(data):
            first_bad = _CONTROL_BYTE.search(data)
            assert first_bad is not None
            raise FormatError(name, "file is mostly binary data (invalid UTF-8 and control bytes), "
                                    "not a timing table", line=data.count(b"\n", 0, first_bad.start()) + 1)
        columns, header_columns = list(STANDARD_COLUMNS), 0
        if data:
            head, _ = make_row(first_line, 1, columns, delimiter, first=True)
            if head.layout == "header":
                columns = [c.strip() for c in head.fields]
                header_columns = len(columns)
        return TimingDocument(name, data, None, columns, header_columns, delimiter)
    if data.count(b"\n") >= MAX_DAMAGED_LINES:
        # A damaged log is read a row model per line (about 6 microseconds and 700 bytes each).
        raise FormatError(name, f"refused: a timing log with NUL bytes or invalid UTF-8 is read row by row, and this "
                                f"one has more than {MAX_DAMAGED_LINES:,} lines; repair or remove the damaged "
                                "rows ('timing list' still pages through it)", line=MAX_DAMAGED_LINES + 1)
    rows, columns, header_columns, garbage_total, first_garbage = _make_rows(data, delimiter)
    if data and garbage_total * 4 > len(data):
        raise FormatError(name, "file is mostly binary data (invalid UTF-8 and control bytes), "
                                "not a timing table", line=first_garbage)
    layouts = {r.layout for r in rows}
    if "corrupt" in layouts and layouts <= {"corrupt", "blank"}:
        raise FormatError(name, "file looks UTF-16 encoded (no UTF-8 line at all); save it as UTF-8", line=1)
    return TimingDocument(name, data, rows, columns, header_columns, delimiter)


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _make_rows(data: bytes, delimiter: str) -> tuple[list[TimingRow], list[str], int, int, int | None]:
    """Every row of ``data``, the header's columns and their number, the damage count and its first line."""
    spans = split_raw_lines(data)
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
    return rows, columns, header_columns, garbage_total, first_garbage


def load_timing(path: str | Path) -> TimingDocument:
    """Read and parse a timing file.

    Raises
    ------
    FormatError
        Missing file, a folder, permission denied, too large, or undecodable (see :func:`parse_timing`).
    """
    return parse_timing(read_bytes(path), name=str(path))


# -- paging: the newest rows of a log of any size -------------------------------------------------
#: Most rows one page holds, and most rows a page may skip (``offset``).
MAX_PAGE_ROWS = 100_000
MAX_PAGE_OFFSET = 10_000_000
#: First read from the end; each further read doubles. A page never reads more than
#: MAX_FILE_BYTES back from the end (a row longer than that is not a timing row).
_PAGE_CHUNK = 64 * 1024
_SCAN_CHUNK = 1 << 20


@dataclass(frozen=True)
class TimingPage:
    """A window of a timing log's data rows, counted from the newest (see :func:`read_timing_page`).

    Attributes
    ----------
    rows : list of TimingRow
        The data rows of the window (neither header nor blank), oldest first,
        each with its physical line number.
    offset, limit : int
        As asked: ``rows`` ends ``offset`` data rows before the last one.
    more : bool
        Whether older data rows come before ``rows[0]``.
    columns : list of str
        Header column names (the 9 standard names when there is no header).
    header_columns : int
        Number of header columns, 0 when the file has no header.
    size : int
        The file's size in bytes when it was read.
    clipped : bool
        The page was asked with ``partial`` and stopped at the read limit, 20 MB
        back from the end, with fewer rows than asked (older rows exist).
    """

    rows: list[TimingRow]
    offset: int
    limit: int
    more: bool
    columns: list[str]
    header_columns: int
    size: int
    clipped: bool = False


def read_timing_page(path: str | Path, *, limit: int = 50, offset: int = 0, partial: bool = False) -> TimingPage:
    """The newest ``limit`` data rows of a timing file after skipping the ``offset`` newest, reading from the end.

    The log is append-only and may outgrow the 20 MB read limit; this reads
    the first line (for the header) and as much of the end as the page
    needs, whatever the file's size. The rows are those :func:`load_timing`
    would give (same layouts, same line numbers). The file is refused like
    :func:`load_timing` refuses it (UTF-16, mostly binary); past the read
    limit that is judged on its first and last megabyte.

    Parameters
    ----------
    path : path-like
        The ``task_timing.tsv`` (or ``.csv``) file.
    limit : int
        Rows in the page, 1 to :data:`MAX_PAGE_ROWS`.
    offset : int
        Newest data rows to skip, 0 to :data:`MAX_PAGE_OFFSET`.
    partial : bool
        When the page reaches more than 20 MB back from the end: give the rows
        found within those 20 MB (``clipped`` true) instead of raising.

    Raises
    ------
    ValueError
        ``limit`` or ``offset`` out of range.
    FormatError
        Missing file, a folder, permission denied, a file the reader refuses,
        or a page reaching more than 20 MB back from the end (unless ``partial``).
    """
    if not 1 <= limit <= MAX_PAGE_ROWS:
        raise ValueError(f"limit must be between 1 and {MAX_PAGE_ROWS}, not {limit}")
    if not 0 <= offset <= MAX_PAGE_OFFSET:
        raise ValueError(f"offset must be between 0 and {MAX_PAGE_OFFSET}, not {offset}")
    name = str(path)
    with _open_readonly(path, name) as fh:
        size = os.fstat(fh.fileno()).st_size
        head = _pread(fh, min(size, _SCAN_CHUNK), 0)
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise FormatError(name, "file is UTF-16 encoded; save it as UTF-8", line=1)
        _judge(fh, size, head, name)
        first_line = head[:head.find(b"\n") + 1] or head
        delimiter = _delimiter(first_line, name)
        first, _ = make_row(first_line, 1, list(STANDARD_COLUMNS), delimiter, first=True) if head else (None, 0)
        columns = [c.strip() for c in first.fields] if first is not None and first.layout == "header" \
            else list(STANDARD_COLUMNS)
        want = offset + limit + 1  # one more tells whether older rows exist
        floor = max(0, size - MAX_FILE_BYTES)  # never more than the read limit back from the end
        start, buf, rows = size, b"", []
        chunk = _PAGE_CHUNK
        while True:
            new_start = max(floor, start - chunk)
            buf = _pread(fh, start - new_start, new_start) + buf
            start, chunk = new_start, chunk * 2
            cut = _line_start(buf) if start > 0 else 0
            spans = split_raw_lines(buf[cut:])
            if start == floor or len(spans) >= want:
                base = _count_newlines(fh, start + cut) + 1
                rows = _rows_from_end(buf[cut:], spans, base, columns, delimiter, start + cut == 0, want, offset)
                if len(rows) >= want or start == 0:
                    break
            if start == floor:
                if partial:
                    break
                raise FormatError(name, f"the page reaches more than {MAX_FILE_BYTES / 1e6:.0f} MB back from "
                                        "the end of the file; ask for a smaller offset or limit")
    rows.reverse()
    clipped = len(rows) < want and start > 0
    more = len(rows) > offset + limit or clipped
    page = rows[max(len(rows) - offset - limit, 0):max(len(rows) - offset, 0)]
    return TimingPage(rows=page, offset=offset, limit=limit, more=more, columns=columns,
                      header_columns=len(columns) if first is not None and first.layout == "header" else 0,
                      size=size, clipped=clipped)


def _rows_from_end(buf: bytes, spans: list[tuple[int, int]], base: int, columns: list[str], delimiter: str,
                   at_file_start: bool, want: int, skip: int) -> list[TimingRow]:
    """Data rows of ``buf`` (whose first line is line ``base``), newest first, at most ``want``.

    The ``skip`` newest are only counted (``None`` in their place): a page far back does not parse them.
    """
    lines = [base]
    for a, b in spans[:-1]:
        lines.append(lines[-1] + buf.count(b"\n", a, b))
    out: list[TimingRow | None] = []
    for k in range(len(spans) - 1, -1, -1):
        a, b = spans[k]
        raw, first = buf[a:b], at_file_start and k == 0
        if len(out) < skip and not first and _plain_data_line(raw):
            out.append(None)  # skipped by the page: counted, not parsed
        else:
            row, _ = make_row(raw, lines[k], columns, delimiter, first=first)
            if row.layout in ("header", "blank"):
                continue
            out.append(row)
        if len(out) >= want:
            break
    return out  # type: ignore[return-value]


def _plain_data_line(raw: bytes) -> bool:
    """Whether ``make_row`` certainly makes a data row of ``raw`` (not blank, not a header), judged cheaply.

    ASCII text with a non-blank byte is not blank, and only a line starting
    with ``timestamp`` can be a header; anything else is left to ``make_row``.
    """
    if not raw.isascii():
        return False
    text = raw.decode("ascii").lstrip()  # str.strip: the whitespace make_row's test strips
    return bool(text) and text[:9].lower() != "timestamp"


def _line_start(buf: bytes) -> int:
    """Offset in ``buf`` (read from inside a file) where its first whole line starts.

    After the first ``\n`` that ends a line: a ``\n`` followed by NUL is the
    low byte of a UTF-16 code unit inside a fragment, not a line end.
    """
    pos = buf.find(b"\n")
    while 0 <= pos < len(buf) - 1 and buf[pos + 1] == 0:
        pos = buf.find(b"\n", pos + 1)
    return len(buf) if pos < 0 else pos + 1


def _judge(fh: BinaryIO, size: int, head: bytes, name: str) -> None:
    """Raise the reader's :class:`FormatError` for a file :func:`parse_timing` refuses; cheap for the rest.

    A scan at C speed bounds the damage the reader counts (NUL and control
    bytes, invalid UTF-8) from above; only a file it cannot vouch for is
    parsed (whole up to the read limit, else its first and last megabyte).
    """
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    damage = nuls = pos = 0
    while pos < size and size <= MAX_FILE_BYTES:
        chunk = _pread(fh, min(_SCAN_CHUNK, size - pos), pos)
        if not chunk:
            break
        nuls += chunk.count(0)
        damage += len(chunk.translate(None, _NOT_CONTROL))
        damage += decoder.decode(chunk).count("\ufffd") - chunk.count(b"\xef\xbf\xbd")
        pos += len(chunk)
    damage += decoder.decode(b"", final=True).count("\ufffd")
    if size <= MAX_FILE_BYTES and damage * 4 <= size and (nuls == 0 or _has_clean_line(head)):
        return
    if size <= MAX_FILE_BYTES:
        samples = [_pread(fh, size, 0)]
    else:
        tail = _pread(fh, _SCAN_CHUNK, max(0, size - _SCAN_CHUNK))
        samples = [head[:head.rfind(b"\n") + 1] or head, tail[_line_start(tail):] or tail]
    for data in samples:
        parse_timing(data, name)


def _has_clean_line(head: bytes) -> bool:
    """A non-blank line without NUL whose ``\n`` is a real line end (not the low byte of a UTF-16 unit)."""
    start = 0
    while start < len(head):
        nl = head.find(b"\n", start)
        if nl < 0:
            return False  # the last, possibly cut, line of the window does not count
        line = head[start:nl]
        if line.strip() and 0 not in line and head[nl + 1:nl + 2] != b"\x00":
            return True
        start = nl + 1
    return False


def _count_newlines(fh: BinaryIO, end: int) -> int:
    count = pos = 0
    while pos < end:
        chunk = _pread(fh, min(_SCAN_CHUNK, end - pos), pos)
        if not chunk:
            break
        count += chunk.count(b"\n")
        pos += len(chunk)
    return count


def _pread(fh: BinaryIO, size: int, offset: int) -> bytes:
    fh.seek(offset)
    return fh.read(size)


@contextlib.contextmanager
def _open_readonly(path: str | Path, name: str) -> Iterator[BinaryIO]:
    """The file opened for reading, with :func:`~orchestrator_gui.formats.fileio.read_bytes`'s errors."""
    stat_regular_file(path, name)
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed by the with below
    except PermissionError:
        raise FormatError(name, "permission denied") from None
    except OSError as exc:
        raise FormatError(name, f"cannot read file: {exc.strerror or exc}") from None
    with fh:
        yield fh
