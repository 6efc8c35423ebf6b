"""``next``: the open TODO item to work on now, with its reasons, and the ones after it.

An agent's schedule can run ``orchestrator-gui next --json --mode <slug>``
first and take the top item (README, "Thinking with the graph").
"""

from __future__ import annotations

import argparse

from orchestrator_gui.cli.output import CliError, emit_json, table, workspace


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add ``next`` to the top-level commands."""
    p = sub.add_parser("next", parents=[common],
                       help="the open TODO item to work on now (with reasons), and the next ones")
    p.add_argument("--mode", metavar="SLUG", help="only what that mode's schedules and items reach")
    p.add_argument("--limit", type=int, default=6, help="how many to list (1-1000, default %(default)s)")
    p.add_argument("--now", metavar="ISO", help="rank as at this time (default: now)")
    p.add_argument("--tz", metavar="ZONE", help="time zone of the scheduler machine (default: local)")
    p.set_defaults(handler=cmd_next)


def cmd_next(args: argparse.Namespace) -> int:
    from orchestrator_gui.cli.cmd_schedules import parse_now, parse_zone
    from orchestrator_gui.workspace import NoGraphError, Session
    from orchestrator_gui.workspace.next_work import rank_for_session

    if not 1 <= args.limit <= 1000:
        raise CliError("--limit must be between 1 and 1000")
    now, tz = parse_now(args.now), parse_zone(args.tz)
    root = workspace(args).root
    try:
        session = Session.open(root, readonly=True, create=False, sync=False)
    except NoGraphError:
        session = Session.open(root, in_memory=True)  # no graph built yet: rank a build of the files
    with session:
        ranked = rank_for_session(session, now, tz=tz, mode=args.mode, limit=args.limit)
        rows = []
        for r in ranked:
            src = session.graph.node(r.node_id).source
            rows.append({**r.to_dict(), "line": src.line if src is not None else None})
    if args.json:
        emit_json({"next": rows[0] if rows else None, "then": rows[1:]})
        return 0
    if not rows:
        print("nothing open to work on")
        return 0
    top = rows[0]
    print(f"next: {top['title']}  (TODO.md:{top['line']})" if top["line"] else f"next: {top['title']}")
    for why in top["reasons"]:
        print(f"  - {why}")
    if rows[1:]:
        print("then:")
        table([{**r, "why": "; ".join(r["reasons"]), "score": f"{r['score']:.2f}"} for r in rows[1:]],
              ["score", "line", "title", "why"], {"title": 50, "why": 70})
    return 0


__all__ = ["cmd_next", "register"]
