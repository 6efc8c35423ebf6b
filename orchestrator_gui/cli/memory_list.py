"""``memory list``, streamed: the entries straight from the reader's columns, no row objects.

``persistent-memory.md`` is a log that grows with every run. Building a
model and a row dictionary per entry costs a log of 300 000 entries some
300 MB and seconds; this prints the same text (the aligned table, or the
JSON array of :func:`~orchestrator_gui.cli.output.emit_json`, byte for byte)
from :attr:`MemoryDocument.columns`, formatting batches of entries with
``map`` at C speed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator

from orchestrator_gui.cli.output import emit_json_batches, json_str, workspace
from orchestrator_gui.formats.memory import load_memory
from orchestrator_gui.formats.memory_scan import FORMS, MemoryColumns

#: Entries per output batch.
_CHUNK = 1 << 14
#: Widths past which the table cuts a cell with an ellipsis (as ``table`` does).
_WIDTHS = {"id": 36, "summary": 60}

_ENTRY_JSON = ('  {\n    "line": %d,\n    "end_line": %d,\n    "form": %s,\n    "timestamp": %s,\n    "mode": %s,\n'
               '    "id": %s,\n    "summary": %s,\n    "section": %s\n  }')


def cmd_memory_list(args: argparse.Namespace) -> int:
    """List the log entries: a table, or with ``--json`` an array of entry objects."""
    cols = load_memory(workspace(args).memory).columns
    if args.json:
        emit_json_batches(_json_batches(cols))
    else:
        _table(cols)
    return 0


def _cut(value: str | None, width: int) -> str:
    s = "" if value is None else value.replace("\n", " ")
    return s if len(s) <= width else s[:width - 1] + "…"


def _table(cols: MemoryColumns) -> None:
    """The table ``table(rows, ["line", "timestamp", "mode", "id", "summary"], _WIDTHS)`` prints."""
    n = len(cols)
    if not n:
        return
    ids = {v: _cut(v, _WIDTHS["id"]) for v in set(cols.id)}
    modes = {v: _cut(v, 10**9) for v in set(cols.mode)}
    sizes = [
        max(len("line"), len(str(max(cols.line)))),
        max(len("timestamp"), max(map(len, cols.timestamp_raw))),
        max(len("mode"), max(map(len, modes.values()))),
        max(len("id"), max(map(len, ids.values()))),
        max(len("summary"), min(max(map(len, cols.summary)), _WIDTHS["summary"])),
    ]
    head = ["line", "timestamp", "mode", "id", "summary"]
    write = sys.stdout.write
    write("  ".join(c.upper().ljust(sizes[i]) for i, c in enumerate(head)).rstrip() + "\n")
    # The last cell is not padded: rstrip would take the padding off again.
    fmt = f"%-{sizes[0]}s  %-{sizes[1]}s  %-{sizes[2]}s  %-{sizes[3]}s  %s"
    width = _WIDTHS["summary"]
    for lo in range(0, n, _CHUNK):
        hi = min(lo + _CHUNK, n)
        rows = zip(map(str, cols.line[lo:hi]), cols.timestamp_raw[lo:hi],
                   map(modes.__getitem__, cols.mode[lo:hi]), map(ids.__getitem__, cols.id[lo:hi]),
                   (_cut(s, width) for s in cols.summary[lo:hi]))
        write("".join(line.rstrip() + "\n" for line in map(fmt.__mod__, rows)))


def _json_batches(cols: MemoryColumns) -> Iterator[list[str]]:
    """The entry objects of ``memory list --json``, as :func:`~orchestrator_gui.cli.output.emit_json` renders them."""
    enc: dict[str | None, str] = {None: "null"}

    def lit(v: str | None) -> str:
        s = enc.get(v)
        if s is None:
            s = enc[v] = json_str(v)
        return s

    forms = [json_str(f) for f in FORMS]
    for lo in range(0, len(cols), _CHUNK):
        hi = min(lo + _CHUNK, len(cols))
        rows = zip(cols.line[lo:hi], cols.end_line[lo:hi], map(forms.__getitem__, cols.form[lo:hi]),
                   map(json_str, cols.timestamp_raw[lo:hi]), map(lit, cols.mode[lo:hi]), map(lit, cols.id[lo:hi]),
                   map(json_str, cols.summary[lo:hi]), map(lit, cols.section[lo:hi]))
        yield list(map(_ENTRY_JSON.__mod__, rows))
