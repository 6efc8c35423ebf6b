"""``todo`` commands: list, check, uncheck, add, edit, remove.

Every command that names an item takes ITEM: a line number or the item's id
(``item/<hash>``, see :mod:`orchestrator_gui.workspace.todo_ids`), which stays
the same while other items are added, edited or removed. ``todo list --json``
gives each item's id; add and edit print the id of the item they wrote. The
edits are the application layer's (:mod:`orchestrator_gui.workspace.todo_edits`),
the same the app's panel and the API make; here they are not undo steps.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from itertools import compress
from pathlib import Path

from orchestrator_gui.cli.output import done, emit_json_batches, json_str, workspace
from orchestrator_gui.formats.todo import TodoDocument, load_todo
from orchestrator_gui.formats.todo_model import item_state
from orchestrator_gui.workspace import todo_edits
from orchestrator_gui.workspace.file_edits import PlainWrites
from orchestrator_gui.workspace.todo_ids import item_keys, key_tails, parse_item_ref

_ITEM_HELP = "line number, or item id (item/<hash>) from `todo list --json`"
#: Items per output batch.
_CHUNK = 1 << 14


def item_ref(value: str) -> int | str:
    """Parse an ITEM argument (argparse ``type``); anything else is a usage error (exit 2)."""
    try:
        return parse_item_ref(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


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
    if args.json:
        _list_json(doc, args.state)
    else:
        _list_text(doc, args.state)
    return 0


def _batches(doc: TodoDocument, state: str) -> Iterator[tuple[list[bool] | None, list[int], list[str], list[str],
                                                            list[int], list[int], range]]:
    """The items in batches of columns: (kept?, lines, boxes, titles, depths, sections, indices).

    Column batches let the output be formatted by ``map`` at C speed; a
    million items never sit in memory as output lines.
    """
    lines, boxes, titles = doc.item_lines, doc.item_boxes, doc.titles
    depths, sections = doc.item_depths, doc.item_sections
    want = {"open": "open", "done": "done", "other": "other"}.get(state)
    for lo in range(0, len(lines), _CHUNK):
        hi = min(lo + _CHUNK, len(lines))
        box = boxes[lo:hi]
        keep = None if want is None else [item_state(b[1]) == want for b in box]
        yield (keep, lines[lo:hi].tolist(), box, titles[lo:hi], depths[lo:hi].tolist(), sections[lo:hi].tolist(),
               range(lo, hi))


def _list_text(doc: TodoDocument, state: str) -> None:
    """``LINE  INDENT BOXES TITLE`` per item (``f"{line:>5}  {'  ' * depth}{boxes} {text}"``)."""
    write = sys.stdout.write
    indents = [("  " * d) for d in range(max(doc.item_depths, default=0) + 1)]
    for keep, lines, boxes, titles, depths, _, _ in _batches(doc, state):
        rows = zip(lines, map(indents.__getitem__, depths), boxes, titles)
        write("".join(map("%5d  %s%s %s\n".__mod__, rows if keep is None else compress(rows, keep))))


#: One item of ``todo list --json``, as ``json.dumps(..., indent=2)`` writes it inside the array.
_ITEM_JSON = ('  {\n    "line": %d,\n    "id": "item/%s",\n    "state": %s,\n    "text": %s,\n    "depth": %d,\n'
              '    "section": %s\n  }')


def _list_json(doc: TodoDocument, state: str) -> None:
    """The items as :func:`emit_json` prints the list of row objects (the same bytes), streamed."""
    keys, repeats = item_keys(doc)
    states = {b: json_str(item_state(b[1])) for b in set(doc.item_boxes)}
    sections = {-1: "null"} | {k: json_str(h.text) for k, h in enumerate(doc.headings)}

    def batches() -> Iterator[list[str]]:
        for keep, lines, boxes, titles, depths, secs, idx in _batches(doc, state):
            rows = zip(lines, key_tails(keys[idx.start:idx.stop], repeats[idx.start:idx.stop]),
                       map(states.__getitem__, boxes), map(json_str, titles), depths,
                       map(sections.__getitem__, secs))
            yield list(map(_ITEM_JSON.__mod__, rows if keep is None else compress(rows, keep)))

    emit_json_batches(batches())


def _root(args: argparse.Namespace) -> Path:
    """The workspace, whose TODO.md must exist: the command line edits a checklist, it does not start one."""
    ws = workspace(args)
    if not os.path.lexists(ws.todo):
        load_todo(ws.todo)  # raises the reader's "cannot read" error, FILE first
    return ws.root


def cmd_toggle(args: argparse.Namespace) -> int:
    # The id costs a hash of every item above: only JSON reports it.
    got = todo_edits.set_done(PlainWrites, _root(args), args.item, args.done_state, with_id=args.json).value
    line = got["line"]
    message = f"{'checked' if args.done_state else 'unchecked'} line {line}: {got['text']}"
    if not args.json:
        print(message)
        return 0
    return done(args, message, {"line": line, "id": got["id"], "state": got["state"]})


def cmd_add(args: argparse.Namespace) -> int:
    got = todo_edits.add_item(PlainWrites, _root(args), args.text, section=args.section, under=args.under).value
    line, key = got["line"], got["id"]
    return done(args, f"added line {line} ({key}): {args.text}", {"line": line, "id": key})


def cmd_edit(args: argparse.Namespace) -> int:
    got = todo_edits.edit_item(PlainWrites, _root(args), args.item, args.text, raw=args.raw).value
    line, key, title = got["line"], got["id"], got["text"]
    return done(args, f"edited line {line} ({key}): {title}", {"line": line, "id": key, "text": title})


def cmd_remove(args: argparse.Namespace) -> int:
    got = todo_edits.remove_item(PlainWrites, _root(args), args.item).value
    line, key = got["line"], got["id"]
    return done(args, f"removed line {line} ({key}): {got['text']}", {"line": line, "id": key})
