"""Shared CLI plumbing: errors, workspace resolution and printing."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from typing import Any

from orchestrator_gui.formats.workspace import Workspace
from orchestrator_gui.problems import Problem


class CliError(Exception):
    """An operation was refused; printed as ``error: message``, exit status 1."""


class UsageError(Exception):
    """The command line is wrong; exit status 2."""


def workspace(args: argparse.Namespace) -> Workspace:
    """Resolve ``-w DIR`` / ``--demo`` / the current folder."""
    if args.demo and args.workspace:
        raise UsageError("orchestrator-gui: use either --demo or -w/--workspace, not both")
    if args.demo:
        from orchestrator_gui.demo import demo_workspace

        return Workspace.at(demo_workspace())
    return Workspace.at(args.workspace or ".")


def emit_json(value: Any) -> None:
    """Print ``value`` as JSON on stdout (UTF-8, non-ASCII raw)."""
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2) + "\n")


def print_problems(problems: Iterable[Problem], as_json: bool) -> None:
    """Print problems one per line (stdout), or as a JSON array."""
    problems = list(problems)
    if as_json:
        emit_json([p.model_dump() for p in problems])
        return
    for p in problems:
        print(p.format())


def table(rows: list[dict[str, Any]], columns: list[str], widths: dict[str, int] | None = None) -> None:
    """Print a plain aligned text table; long cells are cut with an ellipsis."""
    widths = widths or {}
    if not rows:
        return
    def cell(v: Any, col: str) -> str:
        s = "" if v is None else str(v).replace("\n", " ")
        w = widths.get(col)
        return s if w is None or len(s) <= w else s[: w - 1] + "…"
    cells = [[cell(r.get(c), c) for c in columns] for r in rows]
    sizes = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    print("  ".join(c.upper().ljust(sizes[i]) for i, c in enumerate(columns)).rstrip())
    for row in cells:
        print("  ".join(v.ljust(sizes[i]) for i, v in enumerate(row)).rstrip())


def done(args: argparse.Namespace, message: str, payload: dict[str, Any]) -> int:
    """Report a successful edit, as text or JSON."""
    if args.json:
        emit_json({"ok": True, **payload})
    else:
        print(message)
    return 0
