"""``timing list``: the newest rows of ``task_timing.tsv``, read from the end of the file.

The file is an append-only log that agents write to on every run; in a year
it can pass the 20 MB read limit. So the command shows a page of the newest
rows (``--limit``, default :data:`DEFAULT_LIMIT`) and pages back with
``--offset``; it reads the file's first line and as much of its end as the
page needs (:func:`orchestrator_gui.formats.timing_read.read_timing_page`),
never the whole file. ``--all`` lists every row as before (files up to the
read limit).
"""

from __future__ import annotations

import argparse
import sys

from orchestrator_gui.cli.output import UsageError, emit_json, table, workspace
from orchestrator_gui.formats.timing import TimingRow, load_timing
from orchestrator_gui.formats.timing_read import MAX_PAGE_OFFSET, MAX_PAGE_ROWS, read_timing_page

#: Rows shown when no ``--limit`` is given.
DEFAULT_LIMIT = 100


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The paging options of ``timing list``."""
    p.add_argument("--limit", type=int, default=DEFAULT_LIMIT, metavar="N",
                   help=f"show the N newest rows (default {DEFAULT_LIMIT}, at most {MAX_PAGE_ROWS})")
    p.add_argument("--offset", type=int, default=0, metavar="K",
                   help="skip the K newest rows first (page back through the log)")
    p.add_argument("--all", action="store_true", help="every row (files up to the 20 MB read limit)")


def _row(r: TimingRow) -> dict:
    return {"line": r.line, "layout": r.layout, "timestamp": r.timestamp, "mode": r.mode, "task_id": r.task_id,
            "start_time": r.start_time, "end_time": r.end_time, "duration": r.duration, "task": r.task,
            "result": r.result, "status": r.status, "priority": r.priority}


def cmd_timing_list(args: argparse.Namespace) -> int:
    """List a page of timing rows, oldest first (JSON: an array of row objects)."""
    path = workspace(args).timing
    more = False
    if getattr(args, "all", False):
        rows = load_timing(path).data_rows()
    else:
        limit, offset = getattr(args, "limit", DEFAULT_LIMIT), getattr(args, "offset", 0)
        if not 1 <= limit <= MAX_PAGE_ROWS:
            raise UsageError(f"orchestrator-gui: --limit must be between 1 and {MAX_PAGE_ROWS}")
        if not 0 <= offset <= MAX_PAGE_OFFSET:
            raise UsageError(f"orchestrator-gui: --offset must be between 0 and {MAX_PAGE_OFFSET}")
        page = read_timing_page(path, limit=limit, offset=offset)
        rows, more = page.rows, page.more
    out = [_row(r) for r in rows]
    if args.json:
        emit_json(out)
    else:
        table(out, ["line", "layout", "task_id", "mode", "duration", "status", "task"], {"task_id": 30, "task": 50})
        if more:
            print(f"(older rows before line {rows[0].line}: --offset {getattr(args, 'offset', 0) + len(rows)} "
                  "shows the next page)", file=sys.stderr)
    return 0
