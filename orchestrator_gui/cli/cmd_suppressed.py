"""``suppressed``: the nodes suppressed for staying idle, and (``--update``) one suppression tick.

A node whose activation stays below ``[dynamics] suppress_below`` for
``suppress_after_s`` seconds is suppressed: dimmed in the 3D view, left out
of ``next`` and of attention. Touching it, editing its line, a due schedule
or a run brings it back (:mod:`orchestrator_gui.workspace.suppression`).

``--update`` runs one tick on the workspace's graph store and commits what it
decides as transactions (``graph undo`` takes them back); without it the
command only lists, writing nothing.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from orchestrator_gui.cli.output import emit_json, table


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add ``suppressed`` to the top-level commands."""
    p = sub.add_parser("suppressed", parents=[common],
                       help="nodes suppressed for staying idle ([dynamics] in config.toml); --update runs a tick")
    p.add_argument("--update", action="store_true",
                   help="suppress idle nodes and re-activate used ones now (undoable with 'graph undo')")
    p.add_argument("--now", metavar="ISO", help="tick as at this time (with --update; default: now)")
    p.set_defaults(handler=cmd_suppressed)


def _when(since: float | None) -> str:
    return "" if since is None else datetime.fromtimestamp(since, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def cmd_suppressed(args: argparse.Namespace) -> int:
    from orchestrator_gui.cli.cmd_dynamics import open_session
    from orchestrator_gui.cli.cmd_schedules import parse_now
    from orchestrator_gui.cli.output import workspace
    from orchestrator_gui.workspace.suppression import Suppressor, suppressed_nodes

    root = workspace(args).root
    suppressor = Suppressor.for_workspace(root)  # a bad [dynamics] is FILE:LINE, exit 1, before any write
    now = parse_now(args.now).timestamp()
    tick = None
    with open_session(args, readonly=not args.update) as session:
        if args.update:
            tick = suppressor.update(session, now)
        rows = suppressed_nodes(session.graph)
    if args.json:
        out: dict = {"suppressed": rows}
        if tick is not None:
            out["tick"] = tick.to_dict()
        emit_json(out)
        return 0
    if tick is not None:
        print(f"suppressed {len(tick.suppressed)}, re-activated {len(tick.reactivated)}"
              + (f", {tick.waiting} more at the next ticks" if tick.waiting else ""))
        for nid, why in tick.reactivated.items():
            print(f"  re-activated {nid} ({why})")
    if not rows:
        print("no suppressed nodes")
        return 0
    table([{**r, "since": _when(r["since"]),
            "activation": "" if r["activation"] is None else f"{r['activation']:.3f}"} for r in rows],
          ["since", "activation", "kind", "title", "id"], {"title": 50, "id": 40})
    return 0


__all__ = ["cmd_suppressed", "register"]
