"""``todo`` commands: list, check, uncheck, add, edit, remove.

Every command that names an item takes ITEM: a line number or the item's id
(``item/<hash>``, see :mod:`orchestrator_gui.cli.todo_ids`), which stays the
same while other items are added, edited or removed. ``todo list --json``
gives each item's id; add and edit print the id of the item they wrote.
"""

from __future__ import annotations

import argparse

from orchestrator_gui.cli.output import done, emit_json, workspace
from orchestrator_gui.cli.todo_ids import id_at, item_ids, item_ref, resolve
from orchestrator_gui.formats.todo import TodoDocument, load_todo
from orchestrator_gui.formats.todo_markup import edit_title

_ITEM_HELP = "line number, or item id (item/<hash>) from `todo list --json`"


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    sp = sub.add_parser("todo", parents=[common], help="list and edit the TODO.md checklist")
    ss = sp.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=type(sp))

    p = ss.add_parser("list", parents=[common], help="list checklist items")
    p.add_argument("--state", choices=["open", "done", "other", "all"], default="all")
    p.set_defaults(handler=cmd_list)

    for name in ("check", "uncheck"):
        p = ss.add_parser(name, parents=[common], help=f"{name} an item")
        p.add_argument("item", metavar="ITEM", type=item_ref, help=_ITEM_HELP)
        p.set_defaults(handler=cmd_toggle, done_state=name == "check")

    p = ss.add_parser("add", parents=[common], help="add an item")
    p.add_argument("text", metavar="TEXT")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--section", metavar="HEADING", help="add at the end of this section")
    where.add_argument("--under", metavar="ITEM", type=item_ref,
                       help="add as a sub-item of this item (" + _ITEM_HELP + ")")
    p.set_defaults(handler=cmd_add)

    p = ss.add_parser("edit", parents=[common], help="replace the text of an item",
                      description="Replace the title of an item. Plain TEXT (as the views show titles) keeps "
                                  "the inline Markdown of the words it leaves unchanged; TEXT with Markdown of "
                                  "its own, or --raw, is written exactly as given.")
    p.add_argument("item", metavar="ITEM", type=item_ref, help=_ITEM_HELP)
    p.add_argument("text", metavar="TEXT")
    p.add_argument("--raw", action="store_true", help="write TEXT exactly as given, dropping the old markup")
    p.set_defaults(handler=cmd_edit)

    p = ss.add_parser("remove", parents=[common], help="delete an item with its details")
    p.add_argument("item", metavar="ITEM", type=item_ref, help=_ITEM_HELP)
    p.set_defaults(handler=cmd_remove)


def _open(args: argparse.Namespace) -> TodoDocument:
    return load_todo(workspace(args).todo)


def cmd_list(args: argparse.Namespace) -> int:
    doc = _open(args)
    rows = list(doc.rows(args.state))
    if args.json:
        ids = item_ids(doc)
        emit_json([{"line": line, "id": ids[line], "state": state, "text": text, "depth": depth,
                    "section": section}
                   for line, state, text, depth, section, _ in rows])
    else:
        for line, _, text, depth, _, boxes in rows:
            print(f"{line:>5}  {'  ' * depth}{boxes} {text}")
    return 0


def cmd_toggle(args: argparse.Namespace) -> int:
    doc = _open(args)
    line = resolve(doc, args.item)
    (doc.check if args.done_state else doc.uncheck)(line)
    doc.save()
    item = doc.item_at(line)
    return done(args, f"{'checked' if args.done_state else 'unchecked'} line {line}: {item.text}",
                {"line": line, "id": id_at(doc, line), "state": item.state})


def cmd_add(args: argparse.Namespace) -> int:
    doc = _open(args)
    under = None if args.under is None else resolve(doc, args.under)
    line = doc.add(args.text, section=args.section, under=under)
    doc.save()
    key = id_at(doc, line)
    return done(args, f"added line {line} ({key}): {args.text}", {"line": line, "id": key})


def cmd_edit(args: argparse.Namespace) -> int:
    doc = _open(args)
    line = resolve(doc, args.item)
    title = edit_title(doc.item_at(line).text, args.text, as_given=args.raw)
    doc.edit(line, title)
    doc.save()
    key = id_at(doc, line)
    return done(args, f"edited line {line} ({key}): {title}", {"line": line, "id": key, "text": title})


def cmd_remove(args: argparse.Namespace) -> int:
    doc = _open(args)
    line = resolve(doc, args.item)
    item = doc.item_at(line)
    key = id_at(doc, line)
    doc.remove(line)
    doc.save()
    return done(args, f"removed line {line} ({key}): {item.text}", {"line": line, "id": key})
