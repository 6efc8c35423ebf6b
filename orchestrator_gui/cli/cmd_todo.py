"""``todo`` commands: list, check, uncheck, add, edit, remove."""

from __future__ import annotations

import argparse

from orchestrator_gui.cli.output import done, emit_json, workspace
from orchestrator_gui.formats.todo import TodoDocument, load_todo


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    sp = sub.add_parser("todo", parents=[common], help="list and edit the TODO.md checklist")
    ss = sp.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=type(sp))

    p = ss.add_parser("list", parents=[common], help="list checklist items")
    p.add_argument("--state", choices=["open", "done", "other", "all"], default="all")
    p.set_defaults(handler=cmd_list)

    for name in ("check", "uncheck"):
        p = ss.add_parser(name, parents=[common], help=f"{name} the item at LINE")
        p.add_argument("line", type=int)
        p.set_defaults(handler=cmd_toggle, done_state=name == "check")

    p = ss.add_parser("add", parents=[common], help="add an item")
    p.add_argument("text")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--section", metavar="HEADING", help="add at the end of this section")
    where.add_argument("--under", metavar="LINE", type=int, help="add as a sub-item of the item at LINE")
    p.set_defaults(handler=cmd_add)

    p = ss.add_parser("edit", parents=[common], help="replace the text of the item at LINE")
    p.add_argument("line", type=int)
    p.add_argument("text")
    p.set_defaults(handler=cmd_edit)

    p = ss.add_parser("remove", parents=[common], help="delete the item at LINE with its details")
    p.add_argument("line", type=int)
    p.set_defaults(handler=cmd_remove)


def _open(args: argparse.Namespace) -> TodoDocument:
    return load_todo(workspace(args).todo)


def cmd_list(args: argparse.Namespace) -> int:
    doc = _open(args)
    items = [it for it in doc.items if args.state == "all" or it.state == args.state]
    if args.json:
        emit_json([{"line": it.line, "state": it.state, "text": it.text, "depth": it.depth, "section": it.section}
                   for it in items])
    else:
        for it in items:
            print(f"{it.line:>5}  {'  ' * it.depth}{it.boxes} {it.text}")
    return 0


def cmd_toggle(args: argparse.Namespace) -> int:
    doc = _open(args)
    (doc.check if args.done_state else doc.uncheck)(args.line)
    doc.save()
    item = doc.item_at(args.line)
    return done(args, f"{'checked' if args.done_state else 'unchecked'} line {args.line}: {item.text}",
                {"line": args.line, "state": item.state})


def cmd_add(args: argparse.Namespace) -> int:
    doc = _open(args)
    line = doc.add(args.text, section=args.section, under=args.under)
    doc.save()
    return done(args, f"added line {line}: {args.text}", {"line": line})


def cmd_edit(args: argparse.Namespace) -> int:
    doc = _open(args)
    doc.edit(args.line, args.text)
    doc.save()
    return done(args, f"edited line {args.line}", {"line": args.line})


def cmd_remove(args: argparse.Namespace) -> int:
    doc = _open(args)
    item = doc.item_at(args.line)
    doc.remove(args.line)
    doc.save()
    return done(args, f"removed line {args.line}: {item.text}", {"line": args.line})
