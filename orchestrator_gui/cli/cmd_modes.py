"""``modes`` commands: list, set, add, remove (``.roomodes``, Roo Code's custom modes).

The edits are :mod:`orchestrator_gui.workspace.modes` (one locked
read-modify-write each, re-applied when another program wrote the file
meanwhile); this module only turns arguments into those calls. Every edit
changes only the bytes of what it sets, adds or removes.
"""

from __future__ import annotations

import argparse
import os

from orchestrator_gui.cli.output import CliError, UsageError, done, emit_json, table, workspace
from orchestrator_gui.formats.roomodes import EDITABLE, load_modes
from orchestrator_gui.formats.roomodes_values import MAX_TEXT_CHARS, groups_from_names, parse_group_names
from orchestrator_gui.problems import ConflictError

#: ``KEY`` names ``modes set`` takes besides the text fields (file names and snake_case ones).
GROUP_KEYS = ("groups", "fileRegex", "file_regex")



def _use():
    """The modes use case, imported when a modes command runs: the application layer loads the graph
    stack (scipy and all), which every other command would otherwise pay for at start-up."""
    from orchestrator_gui.workspace import modes

    return modes

def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    sp = sub.add_parser("modes", parents=[common], help="list and edit .roomodes (custom modes)")
    ss = sp.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=type(sp))
    p = ss.add_parser("list", parents=[common], help="list custom modes")
    p.set_defaults(handler=cmd_list)

    p = ss.add_parser("set", parents=[common], help="set fields of a mode: KEY=VALUE ...",
                      description="KEY is name, roleDefinition, whenToUse, description, customInstructions, "
                                  "groups (comma-separated, e.g. groups=read,edit,command) or fileRegex "
                                  "(of the edit group; fileRegex= drops it). Only those values' bytes change.")
    p.add_argument("slug")
    p.add_argument("assignments", nargs="+", metavar="KEY=VALUE")
    p.set_defaults(handler=cmd_set)

    p = ss.add_parser("add", parents=[common], help="append a new mode (creates .roomodes if needed)")
    p.add_argument("slug", help="letters, digits and '-'")
    p.add_argument("--name", required=True)
    p.add_argument("--role", required=True, metavar="TEXT", help="roleDefinition")
    p.add_argument("--groups", default="read", metavar="G,G…",
                   help="tool groups: read, edit, browser, command, mcp, modes (default: read)")
    p.add_argument("--file-regex", metavar="REGEX", help="limit the edit group to files matching REGEX")
    p.add_argument("--when", metavar="TEXT", help="whenToUse")
    p.add_argument("--description", metavar="TEXT")
    p.add_argument("--instructions", metavar="TEXT", help="customInstructions")
    p.set_defaults(handler=cmd_add)

    p = ss.add_parser("remove", parents=[common], help="delete a mode")
    p.add_argument("slug")
    p.set_defaults(handler=cmd_remove)


def cmd_list(args: argparse.Namespace) -> int:
    path = workspace(args).roomodes
    modes = load_modes(path).modes if os.path.lexists(path) else []
    rows = [
        {"slug": m.slug, "name": m.name, "groups": [g.name for g in m.groups], "source": m.source, "line": m.line}
        for m in modes
    ]
    if args.json:
        emit_json(rows)
    else:
        table([{**r, "groups": ",".join(r["groups"])} for r in rows], ["line", "slug", "name", "groups"],
              {"name": 40})
    return 0


def _assignments(items: list[str]) -> tuple[dict[str, str], list[str] | None, str | None]:
    """Text fields, group names and fileRegex from ``KEY=VALUE`` words."""
    text: dict[str, str] = {}
    names: list[str] | None = None
    regex: str | None = None
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"orchestrator-gui: expected KEY=VALUE, got {item[:60]!r}")
        if len(value) > MAX_TEXT_CHARS:
            raise UsageError(f"orchestrator-gui: the value of {key} has {len(value):,} characters; "
                             f"at most {MAX_TEXT_CHARS:,} are allowed")
        if key == "groups":
            names = parse_group_names(value)
        elif key in ("fileRegex", "file_regex"):
            regex = value
        elif key in EDITABLE:
            text[EDITABLE[key]] = value
        else:
            raise CliError(f"unknown key {key!r}; settable keys: name, roleDefinition, whenToUse, description, "
                           "customInstructions, groups, fileRegex")
    return text, names, regex


def cmd_set(args: argparse.Namespace) -> int:
    text, names, regex = _assignments(args.assignments)
    path = workspace(args).roomodes
    changes: dict = dict(text)
    base = None
    if names is not None or regex is not None:
        # The new list keeps the options of the entries that stay; it is made from the file as read
        # now, and passed with that reading as the base, so a change made meanwhile is never lost.
        doc = load_modes(path)
        base = _use().mode_fields(doc, args.slug)
        current = base["groups"] if isinstance(base["groups"], list) else []
        wanted = names if names is not None else [g if isinstance(g, str) else g[0] for g in current]
        if regex and "edit" not in wanted:
            raise CliError("fileRegex needs the edit group (add it with groups=…,edit)")
        changes["groups"] = groups_from_names(wanted, current, file_regex=regex)
    outcome = _use().update_mode(path, args.slug, changes, base=base)
    if outcome.status == "conflict":
        raise ConflictError(str(path), f"another program changed {', '.join(c.key for c in outcome.conflicts)} "
                            f"of mode {args.slug!r} meanwhile; nothing was written. Run the command again")
    if not outcome.written:
        return done(args, f"mode {args.slug}: nothing to change", {"slug": args.slug, "changed": []})
    return done(args, f"updated mode {args.slug}: {', '.join(outcome.changed)}",
                {"slug": args.slug, "changed": list(outcome.changed)})


def cmd_add(args: argparse.Namespace) -> int:
    names = parse_group_names(args.groups)
    if args.file_regex and "edit" not in names:
        raise UsageError("orchestrator-gui: --file-regex needs the edit group in --groups")
    groups = groups_from_names(names, file_regex=args.file_regex or None)
    path = workspace(args).roomodes
    _use().add_mode(path, args.slug, name=args.name, role_definition=args.role, groups=groups,
                 when_to_use=args.when, description=args.description, custom_instructions=args.instructions)
    return done(args, f"added mode {args.slug} to {path}", {"slug": args.slug, "file": str(path)})


def cmd_remove(args: argparse.Namespace) -> int:
    path = workspace(args).roomodes
    _use().remove_mode(path, args.slug)
    return done(args, f"removed mode {args.slug}", {"slug": args.slug})


__all__ = ["register"]
