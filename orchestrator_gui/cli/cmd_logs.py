"""``memory`` and ``timing`` commands (``modes`` is :mod:`orchestrator_gui.cli.cmd_modes`).

The appends are the application layer's (:mod:`orchestrator_gui.workspace.logs`), the same the API makes.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from orchestrator_gui.cli import memory_list, timing_list
from orchestrator_gui.cli.cmd_schedules import parse_now
from orchestrator_gui.cli.output import UsageError, done, workspace
from orchestrator_gui.workspace import logs


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    sp = sub.add_parser("memory", parents=[common], help="read and append persistent-memory.md entries")
    ss = sp.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=type(sp))
    p = ss.add_parser("list", parents=[common], help="list log entries")
    p.set_defaults(handler=memory_list.cmd_memory_list)  # streamed: a log at the size limit stays < 3 s
    p = ss.add_parser("add", parents=[common], help="append a log entry")
    p.add_argument("--mode", required=True)
    p.add_argument("--id", required=True, dest="entry_id")
    p.add_argument("text")
    p.set_defaults(handler=cmd_memory_add)

    sp = sub.add_parser("timing", parents=[common], help="read and append task_timing.tsv rows")
    ss = sp.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=type(sp))
    p = ss.add_parser("list", parents=[common], help="list the newest timing rows (--limit/--offset page back)")
    timing_list.add_arguments(p)
    p.set_defaults(handler=timing_list.cmd_timing_list)
    p = ss.add_parser("add", parents=[common], help="append a timing row")
    p.add_argument("--mode", required=True)
    p.add_argument("--task-id", required=True)
    p.add_argument("--task", required=True)
    p.add_argument("--start", required=True, metavar="ISO")
    p.add_argument("--end", metavar="ISO")
    p.add_argument("--result", required=True)
    p.add_argument("--priority", required=True, choices=["schedule", "todo"])
    p.set_defaults(handler=cmd_timing_add)


def cmd_memory_add(args: argparse.Namespace) -> int:
    # Appended in one locked O_APPEND write, never rewritten: lines an agent
    # appends meanwhile are kept (docs/write-protocol.md).
    got = logs.append_memory(workspace(args).root, args.mode, args.entry_id, args.text, now=datetime.now(UTC))
    return done(args, f"appended entry at line {got['line']}", got)


def cmd_timing_add(args: argparse.Namespace) -> int:
    start = parse_now(args.start, "--start")
    end = parse_now(args.end, "--end") if args.end else None
    if end is not None and end < start:  # said in the options' words (a usage error) before the use case refuses it
        raise UsageError("orchestrator-gui: --end is before --start")
    got = logs.append_timing(workspace(args).root, mode=args.mode, task_id=args.task_id, task=args.task, start=start,
                             end=end, result=args.result, priority=args.priority)
    return done(args, f"appended row at line {got['line']}", got)
