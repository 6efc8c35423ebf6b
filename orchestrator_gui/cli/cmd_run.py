"""``run``: the scheduler without the GUI, or one TODO item as a task.

* ``run --once`` fires what is due now, waits for those runs and exits
  (status 1 when a run failed or a write-back was refused);
* ``run`` keeps firing schedules until SIGINT or SIGTERM, then cancels the
  running tasks (their process groups are stopped) and exits 0;
* ``run --todo LINE`` runs the TODO.md item on LINE and exits.

Progress goes to stderr; ``--json`` prints a summary on stdout at the end.
In fleet mode (``[fleet]`` in the config) every due slot is claimed in the
shared database first: a machine that loses the claim prints that another
machine claimed the slot and runs nothing. ``--clock-file`` reads the
current time from a file at every look (simulations and tests drive several
engines through slots without waiting for the wall clock).

``--dry-run`` records runs without starting anything, whatever the config;
so does a workspace with no runner configured. A dry run writes no
workspace file (no timing rows, no ``schedules.json`` write-back, no TODO
check-off): only its run log and its record under ``.orchestrator/``.
"""

from __future__ import annotations

import argparse
import dataclasses
import signal
import sys
import threading
import time
from typing import Any

from orchestrator_gui.cli.cmd_schedules import parse_now, parse_zone
from orchestrator_gui.cli.output import CliError, emit_json, workspace
from orchestrator_gui.formats.nextrun import from_ms, iso_ms, to_ms


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("run", parents=[common], help="run due schedules (or a TODO item) without the GUI")
    p.add_argument("--once", action="store_true", help="fire what is due now, wait for those runs, exit")
    p.add_argument("--now", metavar="ISO", help="pretend the clock starts at this time (testing, replays)")
    p.add_argument("--clock-file", metavar="PATH",
                   help="read the current time (ISO or epoch ms) from PATH at every look (simulations, tests)")
    p.add_argument("--tz", metavar="ZONE", help="time zone of schedule dates and hours (default: local)")
    p.add_argument("--dry-run", action="store_true",
                   help="start nothing and write no workspace file, whatever the config "
                        "(recorded in .orchestrator/ only)")
    p.add_argument("--missed", choices=["once", "skip", "all"],
                   help="missed-run policy for this invocation (default: [scheduler] missed, else once)")
    p.add_argument("--todo", type=_todo_arg, metavar="LINE|next",
                   help="run the TODO.md item on LINE (or the one `next` ranks first) as a task, then exit")
    p.add_argument("--mode", help="mode of the TODO task (default: [todo] mode, else code)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--check-off", dest="check_off", action="store_true", default=None,
                   help="check the TODO item off if its run completes")
    g.add_argument("--no-check-off", dest="check_off", action="store_false",
                   help="never check the TODO item off (overrides the config)")
    p.set_defaults(handler=cmd_run)


def _todo_arg(value: str) -> int | str:
    if value == "next":
        return value
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a line number or 'next', not {value!r}") from None


def _err(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _clock(now: str | None, frozen: bool):
    """``--now``: a clock that starts there (and stays there for a one-shot run, so results are repeatable)."""
    if not now:
        return None, None
    base = to_ms(parse_now(now))
    if frozen:
        return base, (lambda: base)
    m0 = time.monotonic()
    return base, (lambda: base + int((time.monotonic() - m0) * 1000))


#: Largest clock file read (one time stamp).
_MAX_CLOCK_BYTES = 256


def _file_clock(path: str):
    """``--clock-file``: the time written in ``path`` (epoch ms or ISO), read at every look; kept on a bad read."""
    from pathlib import Path

    last: list[int] = []

    def read() -> int | None:
        try:
            with open(path, "rb") as fh:
                text = fh.read(_MAX_CLOCK_BYTES).decode("ascii").strip()
            return int(text) if text.isdigit() else to_ms(parse_now(text))
        except (OSError, ValueError, UnicodeDecodeError, CliError):
            return None

    first = read()
    if first is None:
        raise CliError(f"--clock-file {Path(path)}: no time in it (write epoch ms or an ISO time)")
    last.append(first)

    def clock() -> int:
        now = read()
        if now is not None:  # a half-written file keeps the last good time
            last[0] = now
        return last[0]

    return first, clock


def cmd_run(args: argparse.Namespace) -> int:
    from orchestrator_gui.engine.config import load_config
    from orchestrator_gui.engine.executor import ThreadExecutor
    from orchestrator_gui.engine.missed import MissedPolicy
    from orchestrator_gui.engine.scheduler_settings import load_settings
    from orchestrator_gui.workspace.runs import Runs

    if args.todo is None and (args.mode or args.check_off is not None):
        raise CliError("--mode, --check-off and --no-check-off go with --todo LINE")
    ws = workspace(args)
    root = ws.root
    tz = parse_zone(args.tz)
    if args.clock_file and args.now:
        raise CliError("--now and --clock-file do not go together")
    base, clock = (_file_clock(args.clock_file) if args.clock_file
                   else _clock(args.now, frozen=args.once or args.todo is not None))
    config = load_config(root)
    settings = load_settings(root)
    if args.missed:
        settings = dataclasses.replace(
            settings, scheduler=settings.scheduler.model_copy(update={"missed": MissedPolicy(args.missed)}))
    engine = ThreadExecutor(root, config, dry_run=args.dry_run)
    dry = engine.always_dry
    if dry:
        _err("dry run: " + ("--dry-run given" if args.dry_run else
                            "no runner is configured in .orchestrator/config.toml")
             + "; nothing will be started and no workspace file written (add runner = [...] to "
               ".orchestrator/config.toml to run agents)")
    engine.add_listener(_report_warnings)
    session, problem = _open_session(root)
    runs = Runs(root, engine, session=session, settings=settings, tz=tz, clock=clock, log=_err)
    if problem:
        runs.nodes.problems.append(problem)
    try:
        sched = runs.start_loop()
    except BaseException:  # a bad [fleet] table: nothing may run alone
        engine.shutdown(wait=True, cancel=True)
        runs.close()
        if session is not None:
            session.close()
        raise
    summary: dict[str, Any] = {"workspace": str(root), "now": iso_ms(base if base is not None else sched.clock()),
                               "dry_run": dry, "missed_policy": settings.scheduler.missed.value}
    status = 0
    try:
        if args.todo is not None:
            status = _run_todo(args, runs, summary)
        elif args.once:
            runs.run_once()
            status = 1 if _failed(sched) else 0
        else:
            _loop(runs)
    finally:
        running = len(engine.running()) + len(engine.queued())
        if running:
            _err(f"stopping: cancelling {running} task(s)")
        engine.shutdown(wait=True, cancel=True)
        state = runs.fleet_state()  # before close: closing leaves the fleet
        summary["fleet"] = None if state is None else {
            "machine": runs.fleet.settings.machine, "online": state.online, "message": state.message}
        runs.close()
        if session is not None:
            try:
                session.close()
            except Exception as exc:  # noqa: BLE001 - the runs are done; only the mirror suffers
                runs.nodes.problems.append(f"graph store not closed cleanly: {exc}")
    _summarise(sched, runs, summary)
    if args.json:
        emit_json(summary)
    else:
        _print_text(summary)
    return status


def _report_warnings(event: Any) -> None:
    # In the process watcher's thread; one line on stderr, like the scheduler's progress.
    if event.type == "warning":
        from orchestrator_gui.workspace.run_nodes import warning_text

        _err(f"task {event.task_id}: {warning_text(event.data)}; it is stopped at the limit")


def _failed(sched: Any) -> bool:
    results = [f.to_dict()["result"] for f in sched.fired]
    return bool(sched.problems) or any(r is None or r["status"] in ("failed", "timeout") for r in results)


def _open_session(root: Any) -> tuple[Any, str | None]:
    """The workspace's graph session for the run nodes, or ``None`` (no graph yet, or one that cannot be opened).

    Never raises: the runs go on without the graph, and the reason is reported.
    """
    from orchestrator_gui.store import store_path
    from orchestrator_gui.workspace import NoGraphError, Session

    try:
        return Session.open(root, create=False, sync=False), None
    except NoGraphError:
        return None, None
    except Exception as exc:  # noqa: BLE001 - any failure only disables the mirroring
        return None, f"{store_path(root)}: graph not updated: {exc}"


def _loop(runs: Any) -> None:
    sched = runs.scheduler
    stop = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        _err(f"received {signal.Signals(signum).name}: shutting down")
        stop.set()
        sched.wake.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    _err(f"scheduler running for {sched.root} (tick {sched.settings.scheduler.tick_s:g} s); "
         "stop with Ctrl-C or SIGTERM")
    try:
        runs.run_forever(stop)
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def _run_todo(args: argparse.Namespace, runs: Any, summary: dict[str, Any]) -> int:
    from orchestrator_gui.workspace.run_nodes import summary_of

    line = args.todo
    if line == "next":
        from orchestrator_gui.workspace.next_work import next_todo_line

        now = from_ms(runs.scheduler.clock()) if runs.scheduler is not None else None
        picked = next_todo_line(runs.root, runs.session, now, tz=runs.tz, mode=args.mode)
        if picked is None:
            raise CliError("next: nothing open to work on in TODO.md")
        line, ranked = picked
        _err(f"next: TODO line {line}: " + "; ".join(ranked.reasons))
    from orchestrator_gui.workspace.approvals import ApprovalPending

    try:
        run = runs.run_todo(line, mode=args.mode, check_off=args.check_off, wait=False)
    except PermissionError as exc:
        raise CliError(str(exc)) from None
    except ApprovalPending as exc:
        _err(f"TODO line {line}: not started: {exc}")
        summary["pending_approval"] = exc.approval.to_dict()
        return 3
    _err(f"TODO line {run.line}: {run.text!r}: started task {run.task.task_id}")
    run = runs.run_todo_wait(run)
    result = run.handle.result(0)
    _err(f"TODO line {run.line}: {summary_of(result)}" + (f"; {run.note}" if run.note else "")
         + ("; checked off" if run.checked else ""))
    summary["todo"] = run.to_dict()
    return 0 if result.status == "completed" and run.checked is not False else 1


def _summarise(sched: Any, runs: Any, summary: dict[str, Any]) -> None:
    from orchestrator_gui.engine.scheduler import SKIPPED, Action

    summary["fired"] = [f.to_dict() for f in sched.fired]
    summary["skipped"] = [d.to_dict() for d in sched.decisions if d.action in SKIPPED or d.action is Action.PAUSED]
    summary["waiting"] = [d.to_dict() for d in sched.decisions if d.action is Action.WAIT]
    summary["problems"] = list(dict.fromkeys(sched.problems + runs.nodes.problems))
    summary["not_started"] = [{**d.to_dict(), "reason": deny.reason, "claimed_by": deny.by, "retry": deny.retry}
                              for d, deny in sched.denied]



def _print_text(summary: dict[str, Any]) -> None:
    todo = summary.get("todo")
    if todo:
        res = todo["result"] or {}
        status = "dry run" if res.get("dry_run") else res.get("status", "?")
        print(f"todo     line {todo['line']}  task {todo['task_id']}  {status}"
              f"{'  checked off' if todo['checked'] else ''}  log {res.get('log_path') or '-'}")
    for f in summary["fired"]:
        res = f["result"] or {}
        status = "dry run" if res.get("dry_run") else res.get("status", "not started")
        print(f"fired    {f['name']} ({f['schedule_id']})  task {f['task_id']}  {status}"
              f"  log {res.get('log_path') or '-'}")
    for d in summary["skipped"]:
        print(f"skipped  {d['name']} ({d['schedule_id']})  {d['action']}: {d['reason']}")
    for d in summary["waiting"]:
        print(f"waiting  {d['name']} ({d['schedule_id']})  {d['reason']}")
    for d in summary.get("not_started", []):
        print(f"claimed  {d['name']} ({d['schedule_id']})  {d['reason']}" if d["claimed_by"] else
              f"held     {d['name']} ({d['schedule_id']})  {d['reason']}")
    for p in summary["problems"]:
        print(f"problem  {p}")
    if not (todo or summary["fired"] or summary["skipped"] or summary["waiting"] or summary.get("not_started")):
        print("nothing was due")
