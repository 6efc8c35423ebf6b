"""A strict JSON parser that remembers where every value sits in the text.

``json.loads`` gives values but no positions. To change one value in a file
without touching any other byte we need each value's exact span, so this
module parses JSON into :class:`JNode` trees carrying ``start``/``end``
character offsets and ordered members (duplicate keys kept, as written).

The grammar is strict RFC 8259, like JavaScript's ``JSON.parse`` (which is
what the Roo extension uses): no comments, no trailing commas, no ``NaN``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from orchestrator_gui.formats.fileio import line_of_offset
from orchestrator_gui.formats.limits import MAX_DEPTH, MAX_NUMBER_CHARS, has_lone_surrogate
from orchestrator_gui.problems import FormatError

_scanstring = json.decoder.scanstring  # type: ignore[attr-defined]
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")
_WS = re.compile(r"[ \t\n\r]*")


@dataclass
class JNode:
    """One JSON value with its source span.

    Attributes
    ----------
    kind : {"object", "array", "string", "number", "true", "false", "null"}
    start, end : int
        Character offsets of the value in the text (``end`` exclusive).
    value : Any
        The Python value for scalars (``None`` for containers).
    members : list of (str, int, JNode)
        For objects: key, offset of the key's opening quote, and value node, in order.
    items : list of JNode
        For arrays: the elements in order.
    """

    kind: str
    start: int
    end: int
    value: Any = None
    members: list[tuple[str, int, JNode]] = field(default_factory=list)
    items: list[JNode] = field(default_factory=list)

    def get(self, key: str) -> JNode | None:
        """Return the first member called ``key`` (JavaScript keeps the last; see :func:`duplicate_keys`)."""
        for k, _, node in self.members:
            if k == key:
                return node
        return None

    def to_python(self) -> Any:
        """Return the plain Python value (dicts keep the key order; the last duplicate wins, as in JS)."""
        if self.kind == "object":
            return {k: v.to_python() for k, _, v in self.members}
        if self.kind == "array":
            return [v.to_python() for v in self.items]
        return self.value


def _fail(text: str, name: str, pos: int, msg: str) -> FormatError:
    line = line_of_offset(text, pos)
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return FormatError(name, f"invalid JSON: {msg} (column {col})", line=line)


def parse_json(text: str, name: str) -> JNode:
    """Parse ``text`` strictly, returning the root :class:`JNode`.

    Raises
    ------
    FormatError
        With the line and column of the first syntax error.
    """
    pos = _WS.match(text, 0).end()
    if pos >= len(text):
        raise _fail(text, name, pos, "the file is empty")
    node, pos = _value(text, pos, name, 0)
    pos = _WS.match(text, pos).end()
    if pos != len(text):
        raise _fail(text, name, pos, "unexpected text after the end of the JSON document")
    return node


def _value(text: str, pos: int, name: str, depth: int) -> tuple[JNode, int]:
    if depth > MAX_DEPTH:
        # Each level costs two Python frames here; the limit keeps far below RecursionError.
        raise _fail(text, name, pos, f"nesting is deeper than {MAX_DEPTH} levels")
    ch = text[pos] if pos < len(text) else ""
    if ch == "{":
        return _object(text, pos, name, depth)
    if ch == "[":
        return _array(text, pos, name, depth)
    if ch == '"':
        try:
            s, end = _scanstring(text, pos + 1, True)
        except json.JSONDecodeError as exc:
            raise _fail(text, name, exc.pos, exc.msg) from None
        if has_lone_surrogate(s):
            # JavaScript keeps such a string, but it is not text: it cannot be printed or stored as UTF-8.
            raise _fail(text, name, pos, "a \\uD800-\\uDFFF escape without its other half (a lone surrogate) "
                                         "is not a character")
        return JNode("string", pos, end, s), end
    for lit, val in (("true", True), ("false", False), ("null", None)):
        if text.startswith(lit, pos):
            return JNode(lit, pos, pos + len(lit), val), pos + len(lit)
    m = _NUMBER.match(text, pos)
    if m and m.end() > pos:
        raw = m.group()
        if len(raw) > MAX_NUMBER_CHARS:
            # int() refuses more than 4300 digits, and no real value needs more than a double's 17.
            raise _fail(text, name, pos, f"a number of {len(raw)} characters (the limit is {MAX_NUMBER_CHARS})")
        val: Any = float(raw) if any(c in raw for c in ".eE") else int(raw)
        return JNode("number", pos, m.end(), val), m.end()
    if not ch:
        raise _fail(text, name, pos, "unexpected end of file (unclosed bracket or brace?)")
    raise _fail(text, name, pos, f"unexpected character {ch!r}")


def _object(text: str, pos: int, name: str, depth: int) -> tuple[JNode, int]:
    node = JNode("object", pos, pos)
    pos = _WS.match(text, pos + 1).end()
    if text.startswith("}", pos):
        node.end = pos + 1
        return node, pos + 1
    while True:
        if not text.startswith('"', pos):
            if text.startswith("}", pos):
                raise _fail(text, name, pos, "trailing comma before '}'")
            raise _fail(text, name, pos, "expected a property name in double quotes")
        key_pos = pos
        key, pos = _value(text, pos, name, depth + 1)
        pos = _WS.match(text, pos).end()
        if not text.startswith(":", pos):
            raise _fail(text, name, pos, "expected ':' after property name")
        pos = _WS.match(text, pos + 1).end()
        val, pos = _value(text, pos, name, depth + 1)
        node.members.append((key.value, key_pos, val))
        pos = _WS.match(text, pos).end()
        if text.startswith(",", pos):
            pos = _WS.match(text, pos + 1).end()
            continue
        if text.startswith("}", pos):
            node.end = pos + 1
            return node, pos + 1
        raise _fail(text, name, pos, "expected ',' or '}' after a property value")


def _array(text: str, pos: int, name: str, depth: int) -> tuple[JNode, int]:
    node = JNode("array", pos, pos)
    pos = _WS.match(text, pos + 1).end()
    if text.startswith("]", pos):
        node.end = pos + 1
        return node, pos + 1
    while True:
        if text.startswith("]", pos):
            raise _fail(text, name, pos, "trailing comma before ']'")
        val, pos = _value(text, pos, name, depth + 1)
        node.items.append(val)
        pos = _WS.match(text, pos).end()
        if text.startswith(",", pos):
            pos = _WS.match(text, pos + 1).end()
            continue
        if text.startswith("]", pos):
            node.end = pos + 1
            return node, pos + 1
        raise _fail(text, name, pos, "expected ',' or ']' after an array element")


def stringify(value: Any) -> str:
    """Serialise like JavaScript's ``JSON.stringify(value, null, 2)``.

    Non-ASCII is written raw and only quotes, backslashes and control
    characters are escaped, which reproduces the Roo extension's bytes.
    """
    return json.dumps(value, indent=2, ensure_ascii=False)


def duplicate_keys(node: JNode) -> list[tuple[str, int]]:
    """Return ``(key, offset)`` for every repeated key in any object under ``node``."""
    out: list[tuple[str, int]] = []
    stack = [node]
    while stack:
        n = stack.pop()
        seen: set[str] = set()
        for k, kpos, v in n.members:
            if k in seen:
                out.append((k, kpos))
            seen.add(k)
            stack.append(v)
        stack.extend(n.items)
    return out
