"""Entry point of the ``orchestrator-gui`` command.

The CLI contract is stable because scripts and agents call it:

* ``-w/--workspace DIR`` (default: the current folder) or ``--demo``;
* ``--json`` prints machine-readable output on stdout;
* exit status 0 = ok, 1 = problems found or operation refused, 2 = usage error;
* ``--force`` writes a read-only file anyway (edits refuse them otherwise);
* without a COMMAND the desktop app opens (see :mod:`orchestrator_gui.cli.cmd_gui`).

Errors are printed as ``FILE:LINE: error: message`` on stderr, never as a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from orchestrator_gui import __version__
from orchestrator_gui.cli import (
    cmd_files,
    cmd_fleet,
    cmd_graph,
    cmd_gui,
    cmd_logs,
    cmd_modes,
    cmd_next,
    cmd_run,
    cmd_runs,
    cmd_schedules,
    cmd_serve,
    cmd_suppressed,
    cmd_todo,
)
from orchestrator_gui.cli.output import CliError, UsageError
from orchestrator_gui.formats.write_session import run_edit, write_options
from orchestrator_gui.problems import FormatError

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2

#: Commands that read a workspace file, change it and write it back. They run
#: as one edit session (docs/write-protocol.md): the file's lock is held from
#: the read to the write, and the whole edit is read and applied again when
#: another program changed the file meanwhile. Each handler prints nothing
#: before its write succeeds, so running it again is safe.
EDITS = {
    "schedules": frozenset({"enable", "disable", "set", "add", "remove"}),
    "todo": frozenset({"check", "uncheck", "add", "edit", "remove"}),
}


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so every usage error maps to status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    """Build the full argument parser (subcommands register themselves)."""
    common = _Parser(add_help=False)
    grp = common.add_argument_group("workspace")
    grp.add_argument("-w", "--workspace", default=argparse.SUPPRESS, metavar="DIR",
                     help="workspace folder (default: current folder)")
    grp.add_argument("--demo", action="store_true", default=argparse.SUPPRESS,
                     help="use the demo workspace (a copy in your user data folder)")
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                        help="print machine-readable JSON on stdout")
    common.add_argument("--force", action="store_true", default=argparse.SUPPRESS,
                        help="write even to a read-only file (edits refuse them otherwise)")

    parser = _Parser(
        prog="orchestrator-gui",
        description="Loop Orchestrator: inspect and edit a Roo Code agent-loop workspace.",
        epilog=f"Without a COMMAND it opens the desktop app: {cmd_gui.GUI_USAGE}",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for module in (cmd_files, cmd_schedules, cmd_todo, cmd_logs, cmd_modes, cmd_graph, cmd_run, cmd_next,
                   cmd_serve, cmd_fleet, cmd_suppressed, cmd_runs):
        module.register(sub, common)
    return parser


def _commands(parser: argparse.ArgumentParser) -> list[str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return list(action.choices)
    return []


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit status."""
    bare = argv is None  # the console command with no arguments opens the GUI; main([]) prints usage
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        commands = _commands(parser)
        if cmd_gui.wants_gui(argv, commands, bare=bare):
            return cmd_gui.run(argv, commands)
        args = parser.parse_args(argv)
        if not getattr(args, "command", None):
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        for attr, default in (("workspace", None), ("demo", False), ("json", False), ("force", False)):
            if not hasattr(args, attr):
                setattr(args, attr, default)
        if getattr(args, "action", None) in EDITS.get(args.command, ()):
            return int(run_edit(lambda: args.handler(args), force=args.force) or EXIT_OK)
        with write_options(force=args.force):
            return int(args.handler(args) or EXIT_OK)
    except UsageError as exc:
        print(f"{exc}", file=sys.stderr)
        return EXIT_USAGE
    except FormatError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_PROBLEMS
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_PROBLEMS
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK


def run() -> None:
    """Console-script wrapper."""
    code = main()
    _leave(code)
    sys.exit(code)


def _leave(code: int) -> None:
    """End a finished command without tearing the interpreter down, when nothing else is running.

    Why: a command that loaded a large graph leaves millions of objects, some in reference
    cycles; the interpreter's teardown collects and frees each one (1.5-2.5 s after syncing a
    300k-entry log) although the process is about to end. Every file a command writes is
    closed by its own ``with`` block before :func:`main` returns, so once the exit handlers
    have run there is nothing left for the teardown to do. It is skipped only when no other
    thread runs (nothing in flight that the threading exit hooks would wait for or cancel) and
    Qt was never loaded (the GUI keeps its own teardown: settings are saved there).
    """
    import threading

    if threading.active_count() != 1 or any(name.startswith("PySide6") for name in sys.modules):
        return
    import atexit
    import os

    atexit._run_exitfuncs()  # logging.shutdown, weakref finalizers: what a normal exit runs
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):  # the reader went away / a stream was closed: nothing to flush to
        return
    os._exit(code)


if __name__ == "__main__":
    run()
