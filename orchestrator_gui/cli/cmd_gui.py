"""Opening the desktop app from the command line (no subcommand given).

``orchestrator-gui [WORKSPACE]``, ``orchestrator-gui -w DIR``,
``orchestrator-gui --demo`` and ``--screenshot FILE [--size WxH]
[--select ID] [--focus ID --depth N] [--graph-only]`` open the GUI; every
existing subcommand keeps working as before. This module stays
free of Qt: the GUI is imported only when it is actually started.
"""

from __future__ import annotations

import argparse
import difflib
import os
from collections.abc import Sequence

from orchestrator_gui.cli.output import UsageError

GUI_USAGE = ("orchestrator-gui [WORKSPACE | -w DIR | --demo] [--screenshot FILE [--size WxH] [--select ID] "
             "[--focus ID [--depth N]] [--graph-only]]")
#: Options that take a value (so the value is not mistaken for a command or a folder).
_VALUED = {"-w", "--workspace", "--screenshot", "--size", "--select", "--focus", "--depth"}
_GUI_ONLY = {"--screenshot", "--size", "--select", "--focus", "--depth", "--graph-only"}
#: Options that shape a screenshot (each needs --screenshot).
_SHOT_ONLY = (("size", "--size"), ("select", "--select"), ("focus", "--focus"), ("depth", "--depth"),
              ("graph_only", "--graph-only"))


def wants_gui(argv: Sequence[str], commands: Sequence[str], *, bare: bool) -> bool:
    """True when ``argv`` names no subcommand and asks for the desktop app.

    Parameters
    ----------
    argv : sequence of str
    commands : sequence of str
        The subcommand names.
    bare : bool
        Whether an empty ``argv`` opens the GUI (the console command) rather
        than printing usage (programmatic ``main([])``).
    """
    if not argv:
        return bare
    skip = False
    positional: list[str] = []
    for tok in argv:
        if skip:
            skip = False
            continue
        if tok in ("-h", "--help", "--version"):
            return any(t in _GUI_ONLY or t.split("=", 1)[0] in _GUI_ONLY for t in argv)
        if tok in _VALUED:
            skip = True
            continue
        if tok.startswith("-"):
            continue
        positional.append(tok)
    return not positional or positional[0] not in commands


def gui_parser() -> argparse.ArgumentParser:
    """The argument parser of the GUI form."""

    class _P(argparse.ArgumentParser):
        def error(self, message: str) -> None:  # type: ignore[override]
            raise UsageError(f"orchestrator-gui: {message}\nusage: {GUI_USAGE}")

    p = _P(prog="orchestrator-gui", usage=GUI_USAGE,
           description="Open the Loop Orchestrator desktop app. Without a workspace it opens the last one, "
                       "or the demo. Add a COMMAND (see orchestrator-gui --help) for the command line tools.")
    p.add_argument("workspace_pos", nargs="?", metavar="WORKSPACE", help="workspace folder to open")
    p.add_argument("-w", "--workspace", metavar="DIR", help="workspace folder to open")
    p.add_argument("--demo", action="store_true", help="open the demo workspace (a copy in your user data folder)")
    p.add_argument("--screenshot", metavar="FILE", help="render the window once the graph is drawn, save a PNG, exit")
    p.add_argument("--size", metavar="WxH", help="window size for --screenshot (default 1600x1000)")
    p.add_argument("--select", metavar="NODE_ID", help="screenshot: select this node and fly to it")
    p.add_argument("--focus", metavar="NODE_ID", help="screenshot: focus mode on this node (only its neighbourhood)")
    p.add_argument("--depth", metavar="N", type=int, help="screenshot: hops shown around --focus, 1-3 (default 1)")
    p.add_argument("--graph-only", action="store_true", help="screenshot: hide every panel, only the 3D view")
    return p


def run(argv: Sequence[str], commands: Sequence[str]) -> int:
    """Parse the GUI form of the command line and start the app; returns the exit status."""
    args = gui_parser().parse_args(list(argv))
    folder = args.workspace_pos or args.workspace
    if args.workspace_pos and args.workspace:
        raise UsageError("orchestrator-gui: give the workspace once (WORKSPACE or -w DIR)")
    if args.demo and folder:
        raise UsageError("orchestrator-gui: use either --demo or a workspace folder, not both")
    if folder and not os.path.isdir(folder):
        if args.workspace_pos and not os.path.exists(folder):
            close = difflib.get_close_matches(folder, list(commands), n=1)
            hint = f" (did you mean the command “{close[0]}”?)" if close else ""
            raise UsageError(f"orchestrator-gui: {folder!r} is neither a command nor a workspace folder{hint}")
        raise UsageError(f"orchestrator-gui: workspace {folder!r} is not a folder")
    for attr, flag in _SHOT_ONLY:
        if getattr(args, attr) not in (None, False) and not args.screenshot:
            raise UsageError(f"orchestrator-gui: {flag} only applies with --screenshot")
    if args.depth is not None and not args.focus:
        raise UsageError("orchestrator-gui: --depth only applies with --focus")
    from orchestrator_gui.app import FOCUS_DEPTHS, GuiOptions, parse_size, run_gui

    depth = 1 if args.depth is None else args.depth
    if depth not in FOCUS_DEPTHS:
        raise UsageError(f"orchestrator-gui: --depth must be 1, 2 or 3, not {depth}")

    try:
        size = parse_size(args.size) if args.size else None
    except ValueError as exc:
        raise UsageError(f"orchestrator-gui: {exc}") from None
    options = GuiOptions(workspace=folder, demo=args.demo, screenshot=args.screenshot, size=size,
                         select=args.select, focus=args.focus, depth=depth, graph_only=args.graph_only)
    return run_gui(options, argv)
