"""``schedules`` commands: list, enable, disable, set, add, remove, resume.

``list`` shows whether a schedule is paused (3-strike escalation, or by hand)
with the reason and the time; ``resume`` clears the pause. Where a pause is
stored: :mod:`orchestrator_gui.workspace.pauses`. Listing and edits are the
application layer's (:mod:`orchestrator_gui.workspace.schedule_edits`), the
same the app's panel and the API use; here they are not undo steps.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from datetime import UTC, datetime, tzinfo
from pathlib import Path

from orchestrator_gui.cli.output import CliError, UsageError, done, emit_json, table, workspace
from orchestrator_gui.formats.nextrun import from_ms
from orchestrator_gui.formats.schedules import coerce_value, load_schedules
from orchestrator_gui.formats.timezones import local_zone, named_zone, parse_instant
from orchestrator_gui.workspace import schedule_edits
from orchestrator_gui.workspace.file_edits import PlainWrites
from orchestrator_gui.workspace.schedule_edits import SETTABLE, next_run

_EVERY = re.compile(r"^\s*(\d+)\s*(m|min|mins|minute|minutes|h|hr|hour|hours|d|day|days)\s*$", re.I)
_UNITS = {"m": "minute", "h": "hour", "d": "day"}


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    sp = sub.add_parser("schedules", parents=[common], help="list and edit .roo/schedules.json")
    ss = sp.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=type(sp))

    p = ss.add_parser("list", parents=[common], help="list schedules with their next run")
    p.add_argument("--now", metavar="ISO", help="compute next runs as of this time (default: now)")
    p.add_argument("--tz", metavar="ZONE", help="time zone of the scheduler machine (default: local)")
    p.set_defaults(handler=cmd_list)

    for name, active in (("enable", True), ("disable", False)):
        p = ss.add_parser(name, parents=[common], help=f"{name} a schedule")
        p.add_argument("id")
        p.set_defaults(handler=cmd_toggle, active=active)

    p = ss.add_parser("set", parents=[common], help="set fields: KEY=VALUE ...")
    p.add_argument("id")
    p.add_argument("assignments", nargs="+", metavar="KEY=VALUE")
    p.set_defaults(handler=cmd_set)

    p = ss.add_parser("add", parents=[common], help="add a schedule")
    p.add_argument("--name", required=True)
    p.add_argument("--mode", required=True)
    p.add_argument("--instructions", required=True)
    p.add_argument("--every", required=True, metavar="N{m,h,d}", help="interval, e.g. 10m, 2h, 1d")
    p.set_defaults(handler=cmd_add)

    p = ss.add_parser("remove", parents=[common], help="delete a schedule")
    p.add_argument("id")
    p.set_defaults(handler=cmd_remove)

    p = ss.add_parser("resume", parents=[common],
                      help="clear a pause (after three failed runs, or set by hand) so the schedule runs again")
    p.add_argument("id")
    p.set_defaults(handler=cmd_resume)


def parse_zone(name: str | None) -> tzinfo:
    """``--tz``: the named zone, or the local one (with its DST rules) when not given."""
    if not name:
        return local_zone()
    try:
        return named_zone(name)
    except ValueError:
        raise UsageError(f"orchestrator-gui: unknown time zone {name!r} "
                         "(use an IANA name such as Europe/London)") from None


def parse_now(value: str | None, option: str = "--now") -> datetime:
    """Parse an ISO time given on the command line (``Z`` or an offset; naive means UTC)."""
    if not value:
        return datetime.now(UTC)
    try:
        return parse_instant(value)
    except ValueError:
        raise UsageError(f"orchestrator-gui: {option} must be an ISO time "
                         f"such as 2025-11-01T06:00:00Z, not {value!r}") from None


def _root(args: argparse.Namespace) -> Path:
    """The workspace, whose schedules file must exist (only ``add`` starts one)."""
    ws = workspace(args)
    if not os.path.lexists(ws.schedules):
        load_schedules(ws.schedules)  # raises the reader's "cannot read" error, FILE first
    return ws.root


def cmd_list(args: argparse.Namespace) -> int:
    now, tz = parse_now(args.now), parse_zone(args.tz)
    listed, _etag, notes = schedule_edits.list_schedules(workspace(args).root, now, tz)
    for note in notes:  # a file in a foreign schema; pauses that could not be read
        print(note, file=sys.stderr)
    rows = [{k: v for k, v in r.items() if k != "line"} for r in listed]
    if args.json:
        emit_json(rows)
    else:
        table([{**r, "active": "yes" if r["active"] else "no", "next_run": r["next_run"] or "-",
                "paused": _pause_cell(r["pause"])} for r in rows],
              ["id", "name", "mode", "active", "interval", "unit", "next_run", "paused"], {"name": 40})
    return 0


def _pause_cell(pause: dict | None) -> str:
    if pause is None:
        return "-"
    since = f"since {pause['since'][:16].replace('T', ' ')} UTC: " if pause["since"] else ""
    return f"{since}{pause['reason']}"


def cmd_resume(args: argparse.Namespace) -> int:
    from orchestrator_gui.workspace.approvals import resume
    from orchestrator_gui.workspace.pauses import paused

    ws = workspace(args)
    known = os.path.lexists(ws.schedules) and any(s.id == args.id for s in load_schedules(ws.schedules).schedules)
    was = paused(ws.root, "schedule").get(args.id)
    if was is None and not known:
        raise CliError(f"no schedule with id {args.id!r} in {ws.schedules}, and none is paused under that id")
    session = None
    try:
        if was is not None:
            session = _graph_session(ws.root)
            resume(ws.root, args.id, "schedule", session=session)
    except OSError as exc:
        raise CliError(f"not resumed: {exc.strerror or exc}: {getattr(exc, 'filename', '') or ''}") from None
    finally:
        if session is not None:
            session.close()
    if was is None:
        return done(args, f"schedule {args.id} is not paused; nothing changed", {"id": args.id, "resumed": False})
    return done(args, f"resumed schedule {args.id} (was {was.describe()})", {"id": args.id, "resumed": True})


def _graph_session(root: Path):
    """The workspace's graph, to unmark the schedule's node; None when there is none (or it cannot open)."""
    from orchestrator_gui.workspace import Session

    try:
        return Session.open(root, create=False, sync=False)
    except Exception:  # noqa: BLE001 - the pause is cleared either way; the graph is marked again at its next sync
        return None




def cmd_toggle(args: argparse.Namespace) -> int:
    schedule_edits.set_active(PlainWrites, _root(args), args.id, args.active)
    word = "enabled" if args.active else "disabled"
    return done(args, f"{word} schedule {args.id}", {"id": args.id, "active": args.active})


def cmd_set(args: argparse.Namespace) -> int:
    updates = {}
    for item in args.assignments:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"orchestrator-gui: expected KEY=VALUE, got {item!r}")
        if key not in SETTABLE:
            raise CliError(f"unknown or read-only key {key!r}; settable keys: {', '.join(SETTABLE)}")
        try:
            updates[key] = coerce_value(key, value)
        except ValueError as exc:
            raise CliError(str(exc)) from None
    schedule_edits.set_fields(PlainWrites, _root(args), args.id, updates)
    return done(args, f"updated schedule {args.id}: {', '.join(updates)}", {"id": args.id, "changed": list(updates)})


def parse_every(text: str) -> tuple[str, str]:
    """``--every``: ``10m``/``2h``/``1d`` → ``("10", "minute")``; the range is checked when the schedule is added."""
    m = _EVERY.match(text)
    digits = m.group(1).lstrip("0") if m else ""
    if not digits:
        shown = text if len(text) <= 40 else f"{text[:40]}…"
        raise UsageError(f"orchestrator-gui: --every must look like 10m, 2h or 1d, not {shown!r}")
    # No int(): it refuses more than 4300 digits, and the range check reports any long number anyway.
    return digits, _UNITS[m.group(2)[0].lower()]


def cmd_add(args: argparse.Namespace) -> int:
    interval, unit = parse_every(args.every)
    ws = workspace(args)
    got = schedule_edits.add_schedule(PlainWrites, ws.root, name=args.name, mode=args.mode,
                                      instructions=args.instructions, interval=interval, unit=unit,
                                      now=datetime.now(UTC)).value
    return done(args, f"added schedule {got['id']} ({got['name']}, every {interval} {unit})",
                {"id": got["id"], "file": str(Path(ws.schedules))})


def cmd_remove(args: argparse.Namespace) -> int:
    schedule_edits.remove_schedule(PlainWrites, _root(args), args.id)
    return done(args, f"removed schedule {args.id}", {"id": args.id})


__all__ = ["register", "next_run", "parse_zone", "parse_now", "from_ms"]
