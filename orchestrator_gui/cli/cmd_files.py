"""``check``, ``init`` and ``demo`` commands."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from orchestrator_gui.cli.output import CliError, emit_json, print_problems, workspace
from orchestrator_gui.engine.config import config_path, config_problems
from orchestrator_gui.formats.workspace import (
    Workspace,
    check_workspace,
    present_files,
)


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("check", parents=[common], help="validate every workspace file")
    p.add_argument("--strict", action="store_true", help="also exit 1 when only warnings are found")
    p.set_defaults(handler=cmd_check)

    p = sub.add_parser("init", parents=[common], help="create a new workspace in DIR")
    p.add_argument("dir", metavar="DIR")
    p.set_defaults(handler=cmd_init)

    p = sub.add_parser("demo", parents=[common], help="print the path of your demo workspace copy")
    p.add_argument("--reset", action="store_true", help="replace your copy with a fresh one")
    p.set_defaults(handler=cmd_demo)


def cmd_check(args: argparse.Namespace) -> int:
    ws = workspace(args)
    problems = check_workspace(ws) + config_problems(ws.root)  # our .orchestrator/config.toml too
    print_problems(problems, args.json)
    if not args.json:  # a human wants to know the check ran; scripts read stdout only
        count = {s: sum(p.severity == s for p in problems) for s in ("error", "warning", "info")}
        checked = len(present_files(ws)) + os.path.lexists(config_path(ws.root))
        print(f"checked {checked} files in {ws.root}: {count['error']} errors, "
              f"{count['warning']} warnings, {count['info']} notes", file=sys.stderr)
    failing = [p for p in problems if p.severity == "error" or (args.strict and p.severity == "warning")]
    return 1 if failing else 0


def cmd_init(args: argparse.Namespace) -> int:
    from orchestrator_gui.workspace.init import init_workspace

    root = Path(args.dir)
    try:
        created = [str(p) for p in init_workspace(root, datetime.now(UTC))]
    except (FileExistsError, NotADirectoryError) as exc:
        raise CliError(str(exc)) from None
    if args.json:
        emit_json({"ok": True, "workspace": str(root), "created": created})
    else:
        print(f"created workspace {root}")
        for c in created:
            print(f"  {c}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from orchestrator_gui.demo import demo_workspace

    path = demo_workspace(reset=args.reset)
    if args.json:
        emit_json({"workspace": str(path)})
    else:
        print(path)
    return 0


__all__ = ["register", "Workspace"]
