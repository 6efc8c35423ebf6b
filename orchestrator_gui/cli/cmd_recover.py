"""``graph recover``: salvage a damaged graph store, rebuild it from the files and say what was kept and lost.

The use case is :func:`orchestrator_gui.workspace.recover.recover`; this face
only parses the arguments and prints its report.
"""

from __future__ import annotations

import argparse

from orchestrator_gui.cli.output import emit_json, workspace

HELP = "salvage a damaged graph store: keep what can be read, rebuild the rest from the files"


def register_recover(graph_subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add ``recover`` to the ``graph`` subcommands (``graph_subparsers``, with the shared ``common`` options)."""
    p = graph_subparsers.add_parser("recover", parents=[common], help=HELP, description=HELP + ". The damaged "
                                    "file is kept beside the new one as graph.db.damaged-<time>.")
    p.set_defaults(handler=cmd_recover)


def cmd_recover(args: argparse.Namespace) -> int:
    """Run ``graph recover``; exit status 0 when a new store is in place."""
    from orchestrator_gui.workspace.recover import recover

    report = recover(workspace(args).root)
    if args.json:
        emit_json(report.to_dict())
    else:
        for line in report.summary():
            print(line)
        for line in report.details:
            print(f"  {line}")
    return 0
