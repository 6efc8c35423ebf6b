"""``runs`` commands: the runs that wait for approval, and approving or skipping them.

* ``runs pending [--json]`` lists them: id, schedule or TODO item, mode,
  instructions and why each waits (``[schedules."<id>"] approve = true``, a
  resume after escalation, ...).
* ``runs approve ID [--instructions TEXT | --instructions-file FILE]``: the
  scheduler's next tick starts it (``run`` or the app's loop); with new
  instructions it runs that text once and ``.roo/schedules.json`` keeps its own.
* ``runs skip ID [--now ISO]``: a schedule gets Roo's skip write-back
  (``lastSkippedTime`` and the next run); the entry goes.

A bad ``.orchestrator/approvals.json`` is ``FILE:LINE: error: ...``, exit 1,
and nothing is written. The use cases are :mod:`orchestrator_gui.workspace.approvals`.
"""

from __future__ import annotations

import argparse

from orchestrator_gui.cli.output import CliError, done, emit_json, table

#: Most bytes read from ``--instructions-file`` (the approval's own text limit is in characters).
MAX_FILE_BYTES = 1024 * 1024


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add ``runs pending``, ``runs approve`` and ``runs skip``."""
    p = sub.add_parser("runs", parents=[common], help="runs waiting for approval: pending, approve, skip")
    ss = p.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=type(p))
    q = ss.add_parser("pending", parents=[common], help="runs that wait for approval, with instructions and reasons")
    q.set_defaults(handler=cmd_pending)
    q = ss.add_parser("approve", parents=[common], help="approve a waiting run (it starts at the loop's next tick)")
    q.add_argument("id", help="approval id from 'runs pending' (like s-0123456789)")
    text = q.add_mutually_exclusive_group()
    text.add_argument("--instructions", metavar="TEXT", help="run this text once instead (schedules.json unchanged)")
    text.add_argument("--instructions-file", metavar="FILE", help="run this file's text once instead (UTF-8)")
    q.set_defaults(handler=cmd_approve)
    q = ss.add_parser("skip", parents=[common], help="skip a waiting run (Roo's lastSkippedTime, re-armed)")
    q.add_argument("id", help="approval id from 'runs pending'")
    q.add_argument("--now", metavar="ISO", help="skip as at this time (default: now)")
    q.add_argument("--tz", metavar="ZONE", help="time zone of schedule dates and hours (default: local)")
    q.set_defaults(handler=cmd_skip)


def cmd_pending(args: argparse.Namespace) -> int:
    from orchestrator_gui.cli.output import workspace
    from orchestrator_gui.workspace.approvals import pending

    rows = pending(workspace(args).root)
    if args.json:
        emit_json({"pending": [a.to_dict() for a in rows]})
        return 0
    if not rows:
        print("no run waits for approval")
        return 0
    table([{"id": a.id, "state": a.state, "kind": a.kind, "subject": a.subject_id, "name": a.name, "mode": a.mode,
            "since": a.requested[:16].replace("T", " "),
            "instructions": a.runs_instructions.splitlines()[0] if a.runs_instructions else "",
            "why": "; ".join(a.reasons)} for a in rows],
          ["id", "state", "kind", "subject", "name", "mode", "since", "instructions", "why"],
          {"subject": 24, "name": 30, "instructions": 50, "why": 80})
    return 0


def _text(args: argparse.Namespace) -> str | None:
    if args.instructions_file is None:
        return args.instructions
    try:
        with open(args.instructions_file, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise CliError(f"{args.instructions_file}: cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_FILE_BYTES:
        raise CliError(f"{args.instructions_file}: larger than {MAX_FILE_BYTES} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CliError(f"{args.instructions_file}: not UTF-8 ({exc.reason})") from None


def cmd_approve(args: argparse.Namespace) -> int:
    from orchestrator_gui.cli.output import workspace
    from orchestrator_gui.workspace.approvals import approve

    text = _text(args)
    try:
        entry = approve(workspace(args).root, args.id, text)
    except (KeyError, ValueError) as exc:
        raise CliError(str(exc.args[0] if exc.args else exc)) from None
    edited = " with edited instructions (once)" if entry.edited is not None else ""
    when = ("it starts at the loop's next tick" if entry.kind == "schedule"
            else "it starts at the next 'run --todo' of the item")
    return done(args, f"approved {entry.id}: {entry.kind} {entry.subject_id}{edited}; {when}",
                {"approval": entry.to_dict()})


def cmd_skip(args: argparse.Namespace) -> int:
    from orchestrator_gui.cli.cmd_schedules import parse_now, parse_zone
    from orchestrator_gui.cli.output import workspace
    from orchestrator_gui.formats.nextrun import to_ms
    from orchestrator_gui.workspace.approvals import skip

    at, tz = to_ms(parse_now(args.now)), parse_zone(args.tz)
    try:
        entry = skip(workspace(args).root, args.id, now=at, tz=tz)
    except KeyError as exc:
        raise CliError(str(exc.args[0] if exc.args else exc)) from None
    return done(args, f"skipped {entry.id}: {entry.kind} {entry.subject_id}", {"approval": entry.to_dict()})


__all__ = ["cmd_approve", "cmd_pending", "cmd_skip", "register"]
