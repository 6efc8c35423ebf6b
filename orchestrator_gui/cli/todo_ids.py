"""TODO items on the command line: a line number, or an id that survives edits elsewhere in the file.

The id is the item's identity key, the one the graph uses
(:func:`orchestrator_gui.model.identity.todo_item_keys`): ``item/<hash of the
title>``, with ``~n`` for the n-th repeat of a title. The graph node id
``TODO.md::item/<hash>`` is accepted too. Adding, removing or moving other
items shifts line numbers but leaves ids alone, so a script can keep the id
``todo add --json`` returned and use it after later adds.

An argument made only of digits is a line; one shaped like an id is an id;
anything else is a usage error (exit 2). A well-formed id that names no item
is refused like a wrong line: ``TODO.md: error: no item with id …``, exit 1.
"""

from __future__ import annotations

import argparse
import re
from typing import NamedTuple

from orchestrator_gui.formats.todo import TodoDocument
from orchestrator_gui.model.identity import TODO_FILE, todo_item_keys
from orchestrator_gui.problems import FormatError

#: Largest line number accepted (a file's lines are capped far below this by its reader).
MAX_LINE = 10**9

# The key's hash is identity.text_hash: 10 lowercase hex digits; repeats count from ~1.
_ID = re.compile(rf"(?:{re.escape(TODO_FILE)}::)?(item/[0-9a-f]{{10}}(?:~[1-9][0-9]{{0,8}})?)")


class _Title(NamedTuple):
    line: int
    text: str


def item_ref(value: str) -> int | str:
    """Parse an ITEM argument (argparse ``type``): a line number (int) or an item key (str).

    Raises
    ------
    argparse.ArgumentTypeError
        ``value`` is neither (a usage error, exit 2).
    """
    if value.isascii() and value.isdigit():
        line = int(value)
        if not 1 <= line <= MAX_LINE:
            raise argparse.ArgumentTypeError(f"line {value} is out of range (1 to {MAX_LINE})")
        return line
    m = _ID.fullmatch(value)
    if m is None:
        raise argparse.ArgumentTypeError(
            f"{value!r} is neither a line number nor an item id (item/<hash> or {TODO_FILE}::item/<hash>)")
    return m.group(1)


def item_ids(doc: TodoDocument) -> dict[int, str]:
    """Line -> id of every item of ``doc``, without building item models (fast on big files)."""
    return todo_item_keys([_Title(line, text) for line, _, text, *_ in doc.rows()])


def resolve(doc: TodoDocument, ref: int | str) -> int:
    """The line of the item ``ref`` (a line number or an id from :func:`item_ref`) in ``doc``.

    Raises
    ------
    FormatError
        No item has that id, or none starts on that line.
    """
    if isinstance(ref, int):
        doc.item_at(ref)  # raises "FILE:LINE: error: no TODO item at line …"
        return ref
    for line, key in item_ids(doc).items():
        if key == ref:
            return line
    raise FormatError(doc.name, f"no item with id {ref}")


def id_at(doc: TodoDocument, line: int) -> str:
    """The id of the item on ``line`` of ``doc`` (which must hold one)."""
    return item_ids(doc)[line]
