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
from collections.abc import Callable, Iterator
from typing import Any

from orchestrator_gui.cli.output import CliError, UsageError, emit_json, emit_json_batches, json_str, table, workspace
from orchestrator_gui.formats.timing import TimingRow, load_timing
from orchestrator_gui.formats.timing_plain import ROW_FIELDS, plain_row_runs
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


class _PerValues:
    """``make(values)`` remembered per ``values`` object, for the few rows repeated by the million.

    :func:`plain_row_runs` gives rows of the same short text the same ``values`` object. The memo is
    keyed by identity (a tuple's hash is not cached) and holds the object, so its id cannot be
    reused while the entry lives; it stops growing at :data:`_MEMO_ROWS` entries, so a log of
    unique rows pays one failed lookup a row and no memory.
    """

    def __init__(self, make: Callable[[tuple], Any]) -> None:
        self.make = make
        self.known: dict[int, tuple[tuple, Any]] = {}

    def __call__(self, values: tuple) -> Any:
        entry = self.known.get(id(values))
        if entry is not None and entry[0] is values:
            return entry[1]
        made = self.make(values)
        if len(self.known) < _MEMO_ROWS:
            self.known[id(values)] = (values, made)
        return made


#: Distinct repeated rows whose output is remembered (a damaged log repeats a handful).
_MEMO_ROWS = 1000


def _print_plain(as_json: bool, data: bytes) -> None:
    """Every data row of a plain log, formatted from plain values (the bytes ``_print_all`` prints).

    Rows come as runs of consecutive lines of the same text (:func:`plain_row_runs`): a run is
    formatted once and its lines differ only in their numbers. 7 million damaged lines took 33 s
    and 1.9 GB when every row was formatted and kept on its own.
    """
    write = sys.stdout.write
    if as_json:
        lit = {None: "null"}
        head, tail = _ROW_JSON.split("%s", 1)
        rest = _PerValues(lambda values: tail % tuple(lit.get(v) or json_str(v) for v in values))

        def batches() -> Iterator[list[str]]:
            for first, last, values in plain_row_runs(data):
                row = head + "%d" + rest(values).replace("%", "%%")
                for lo in range(first, last + 1, 4096):
                    yield list(map(row.__mod__, range(lo, min(lo + 4096, last + 1))))

        emit_json_batches(batches())
        return
    pick = [ROW_FIELDS.index(c) - 1 for c in _COLUMNS[1:]]
    cut = [_WIDTHS.get(c) for c in _COLUMNS[1:]]
    sizes = [len(c) for c in _COLUMNS]

    def cells_of(values: tuple) -> tuple[str, ...]:
        cells = tuple(_cell(values[i], w) for i, w in zip(pick, cut, strict=True))
        for i, c in enumerate(cells, start=1):
            if len(c) > sizes[i]:
                sizes[i] = len(c)
        return cells

    shared = _PerValues(cells_of)
    runs = [(first, last, shared(values)) for first, last, values in plain_row_runs(data)]
    if not runs:
        return
    sizes[0] = max(sizes[0], len(str(runs[-1][1])))
    write("  ".join(c.upper().ljust(sizes[i]) for i, c in enumerate(_COLUMNS)).rstrip() + "\n")
    fmt = "  ".join(f"%-{n}s" for n in sizes[1:-1]) + "  %s"  # the last cell is not padded: rstrip drops it
    tails = _PerValues(lambda cells: (fmt % cells).rstrip())
    pad = sizes[0]
    out: list[str] = []
    for first, last, cells in runs:
        rest = tails(cells)
        row = f"%-{pad}d  {rest.replace('%', '%%')}\n" if rest else "%d\n"
        if first == last:
            out.append(row % first)
        else:  # a run of millions is written in parts, never one string of them all
            write("".join(out))
            out = []
            for lo in range(first, last + 1, 65536):
                write("".join(map(row.__mod__, range(lo, min(lo + 65536, last + 1)))))
        if len(out) >= 4096:
            write("".join(out))
            out = []
    write("".join(out))


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
