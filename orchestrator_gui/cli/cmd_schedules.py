"""``schedules`` commands: list, enable, disable, set, add, remove, resume.

``list`` shows whether a schedule is paused (3-strike escalation, or by hand)
with the reason and the time; ``resume`` clears the pause. Where a pause is
stored: :mod:`orchestrator_gui.workspace.pauses`.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from datetime import UTC, datetime, tzinfo
from pathlib import Path

from orchestrator_gui.cli.output import CliError, UsageError, done, emit_json, table, workspace
from orchestrator_gui.formats.nextrun import expiration_ms, from_ms, iso_ms, next_execution_ms, to_ms
from orchestrator_gui.formats.schedules import (
    UI_KEY_ORDER,
    ScheduleDocument,
    coerce_value,
    empty_schedules,
    load_schedules,
    validate_values,
)
from orchestrator_gui.formats.timezones import local_zone, named_zone, parse_instant
from orchestrator_gui.problems import FormatError

_EVERY = re.compile(r"^\s*(\d+)\s*(m|min|mins|minute|minutes|h|hr|hour|hours|d|day|days)\s*$", re.I)
_UNITS = {"m": "minute", "h": "hour", "d": "day"}
#: Keys a user may set; ids and timestamps are the extension's business.
SETTABLE = tuple(k for k in UI_KEY_ORDER if k not in ("id", "createdAt", "updatedAt"))


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


def next_run(raw: dict, now: datetime, tz: tzinfo) -> str | None:
    """When the extension would run this schedule next; ``None`` if never (inactive, expired, invalid)."""
    if raw.get("active") is False or raw.get("scheduleType") != "time":
        return None
    ms = next_execution_ms(raw, to_ms(now), tz)
    exp = expiration_ms(raw, tz)
    if ms is None or (exp is not None and ms > exp):
        return None
    return iso_ms(ms)


def _open(args: argparse.Namespace, *, create: bool = False) -> ScheduleDocument:
    ws = workspace(args)
    if create and not os.path.lexists(ws.schedules):
        return empty_schedules(ws.schedules)
    return load_schedules(ws.schedules)


def cmd_list(args: argparse.Namespace) -> int:
    now, tz = parse_now(args.now), parse_zone(args.tz)
    ws = workspace(args)
    if not os.path.lexists(ws.schedules):
        rows: list[dict] = []
    else:
        doc = load_schedules(ws.schedules)
        if doc.foreign:
            for p in doc.problems():
                print(p.format(), file=sys.stderr)
        from orchestrator_gui.workspace.pauses import PauseWatch

        pauses = PauseWatch(ws.root)
        paused = pauses.of("schedule")
        if pauses.problem:
            print(f"{pauses.problem} (paused flags of the config not shown)", file=sys.stderr)
        rows = [
            {"id": s.id, "name": s.name, "mode": s.mode, "active": s.active,
             "interval": s.time_interval, "unit": s.time_unit, "next_run": next_run(s.raw, now, tz),
             "paused": s.id in paused, "pause": paused[s.id].to_dict() if s.id in paused else None}
            for s in doc.schedules
        ]
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
    from orchestrator_gui.workspace.pauses import paused, resume

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
    doc = _open(args)
    doc.set_active(args.id, args.active)
    doc.save()
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
    doc = _open(args)
    current = doc.get(args.id)
    merged = {**current.raw, **updates}
    problems = validate_values(merged)
    if problems:
        raise FormatError(doc.name, "refused, the schedule would be invalid: " + "; ".join(problems),
                          line=current.line)
    doc.set_values(args.id, updates)
    doc.save()
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
    doc = _open(args, create=True)
    sched = doc.add(name=args.name, mode=args.mode, instructions=args.instructions,
                    interval=interval, unit=unit, now=datetime.now(UTC))
    doc.save()
    return done(args, f"added schedule {sched.id} ({sched.name}, every {interval} {unit})",
                {"id": sched.id, "file": str(Path(doc.name))})


def cmd_remove(args: argparse.Namespace) -> int:
    doc = _open(args)
    doc.remove(args.id)
    doc.save()
    return done(args, f"removed schedule {args.id}", {"id": args.id})


__all__ = ["register", "next_run", "parse_zone", "parse_now", "from_ms"]
