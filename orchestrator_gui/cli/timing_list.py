"""``timing list``: the newest rows of ``task_timing.tsv``, read from the end of the file.

The file is an append-only log that agents write to on every run; in a year
it can pass the 20 MB read limit. So the command shows a page of the newest
rows (``--limit``, default :data:`DEFAULT_LIMIT`) and pages back with
``--offset``; it reads the file's first line and as much of its end as the
page needs (:func:`orchestrator_gui.formats.timing_read.read_timing_page`),
never the whole file. ``--all`` lists every row as before (files up to the
read limit). ``--fleet`` lists the fleet's ``runs`` table instead: the
started/finished rows of every machine, with the machine's name (fleet mode).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator

from orchestrator_gui.cli.output import CliError, UsageError, emit_json, emit_json_batches, json_str, table, workspace
from orchestrator_gui.formats.timing import TimingRow, load_timing
from orchestrator_gui.formats.timing_plain import ROW_FIELDS, plain_rows
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
    p.add_argument("--fleet", action="store_true",
                   help="every machine's rows from the fleet database's runs table (fleet mode)")


def _row(r: TimingRow) -> dict:
    return {"line": r.line, "layout": r.layout, "timestamp": r.timestamp, "mode": r.mode, "task_id": r.task_id,
            "start_time": r.start_time, "end_time": r.end_time, "duration": r.duration, "task": r.task,
            "result": r.result, "status": r.status, "priority": r.priority}


#: Columns of the text table (and their widths past which a cell is cut with an ellipsis).
_COLUMNS = ["line", "layout", "task_id", "mode", "duration", "status", "task"]
_WIDTHS = {"task_id": 30, "task": 50}
#: One row object of ``timing list --json``, as ``emit_json`` renders it in the array.
_ROW_JSON = "  {\n" + ",\n".join(f'    "{f}": %s' for f in ROW_FIELDS) + "\n  }"


def _print_all(as_json: bool, rows: list[dict]) -> None:
    if as_json:
        emit_json(rows)
    else:
        table(rows, _COLUMNS, _WIDTHS)


def _cell(v: str | None, width: int | None = None) -> str:
    s = "" if v is None else v.replace("\n", " ")
    return s if width is None or len(s) <= width else s[:width - 1] + "…"


def _print_plain(as_json: bool, data: bytes) -> None:
    """Every data row of a plain log, formatted from plain values (the bytes ``_print_all`` prints)."""
    write = sys.stdout.write
    if as_json:
        lit = {None: "null"}

        def batches() -> Iterator[list[str]]:
            batch: list[str] = []
            for values in plain_rows(data):
                batch.append(_ROW_JSON % (values[0], *(lit.get(v) or json_str(v) for v in values[1:])))
                if len(batch) >= 4096:
                    yield batch
                    batch = []
            yield batch

        emit_json_batches(batches())
        return
    # The table's cells, made once: the widths need every row before the first is printed.
    pick = [ROW_FIELDS.index(c) for c in _COLUMNS]
    cut = [_WIDTHS.get(c) for c in _COLUMNS]
    cells = [(str(v[0]), *(_cell(v[i], w) for i, w in zip(pick[1:], cut[1:], strict=True)))
             for v in plain_rows(data)]
    if not cells:
        return
    sizes = [max(len(c), *map(len, col)) for c, col in zip(_COLUMNS, zip(*cells, strict=True), strict=True)]
    write("  ".join(c.upper().ljust(sizes[i]) for i, c in enumerate(_COLUMNS)).rstrip() + "\n")
    fmt = "  ".join(f"%-{n}s" for n in sizes[:-1]) + "  %s"  # the last cell is not padded: rstrip drops it
    for lo in range(0, len(cells), 4096):
        write("".join(line.rstrip() + "\n" for line in map(fmt.__mod__, cells[lo:lo + 4096])))


_FLEET_COLUMNS = ["machine", "event", "at", "task_id", "mode", "status", "duration_s", "name"]


def _fleet_list(args: argparse.Namespace) -> int:
    from orchestrator_gui.fleet.link import FleetOffline
    from orchestrator_gui.workspace.runs import fleet_timing

    if getattr(args, "all", False):
        raise UsageError("orchestrator-gui: --fleet pages with --limit/--offset (--all is for the local file)")
    limit, offset = getattr(args, "limit", DEFAULT_LIMIT), getattr(args, "offset", 0)
    if not 1 <= limit <= MAX_PAGE_ROWS or not 0 <= offset <= MAX_PAGE_OFFSET:
        raise UsageError(f"orchestrator-gui: --limit must be between 1 and {MAX_PAGE_ROWS}, "
                         f"--offset between 0 and {MAX_PAGE_OFFSET}")
    try:
        rows = fleet_timing(workspace(args).root, limit=limit, offset=offset)
    except FleetOffline as exc:
        raise CliError(f"fleet database unreachable: {exc}") from None
    if rows is None:
        raise CliError("not in fleet mode: add [fleet] database = \"postgresql://user@host/db\" to "
                       ".orchestrator/config.toml (or set ORCHESTRATOR_FLEET_DSN)")
    if args.json:
        emit_json(rows)
    else:
        table(rows, _FLEET_COLUMNS, {"task_id": 30, "name": 40})
    return 0


def cmd_timing_list(args: argparse.Namespace) -> int:
    """List a page of timing rows, oldest first (JSON: an array of row objects)."""
    if getattr(args, "fleet", False):
        return _fleet_list(args)
    path = workspace(args).timing
    more = False
    if getattr(args, "all", False):
        doc = load_timing(path)
        if doc.plain:  # the usual log: rows read as plain values, no model per row
            _print_plain(args.json, doc.data)
            return 0
        rows = doc.data_rows()
    else:
        limit, offset = getattr(args, "limit", DEFAULT_LIMIT), getattr(args, "offset", 0)
        if not 1 <= limit <= MAX_PAGE_ROWS:
            raise UsageError(f"orchestrator-gui: --limit must be between 1 and {MAX_PAGE_ROWS}")
        if not 0 <= offset <= MAX_PAGE_OFFSET:
            raise UsageError(f"orchestrator-gui: --offset must be between 0 and {MAX_PAGE_OFFSET}")
        page = read_timing_page(path, limit=limit, offset=offset)
        rows, more = page.rows, page.more
    out = [_row(r) for r in rows]
    _print_all(args.json, out)
    if more and not args.json:
        print(f"(older rows before line {rows[0].line}: --offset {getattr(args, 'offset', 0) + len(rows)} "
              "shows the next page)", file=sys.stderr)
    return 0
