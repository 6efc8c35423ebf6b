"""A strict JSON parser that remembers where every value sits in the text.

``json.loads`` gives values but no positions. To change one value in a file
without touching any other byte we need each value's exact span, so this
module parses JSON into :class:`JNode` trees carrying ``start``/``end``
character offsets and ordered members (duplicate keys kept, as written).

The grammar is strict RFC 8259, like JavaScript's ``JSON.parse`` (which is
what the Roo extension uses): no comments, no trailing commas, no ``NaN``.
"""

from __future__ import annotations

import bisect
import json
import re
from typing import Any

from orchestrator_gui.formats.fileio import line_of_offset
from orchestrator_gui.formats.limits import (
    MAX_DEPTH,
    MAX_NUMBER_CHARS,
    has_lone_surrogate,
    json_nesting_offset,
    lone_surrogate_offset,
)
from orchestrator_gui.problems import FormatError

_scanstring = json.decoder.scanstring  # type: ignore[attr-defined]
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")
_WS = re.compile(r"[ \t\n\r]*")
_NEWLINE = re.compile("\n")
#: Containers at this depth or deeper are decoded by the C decoder; their positions come on demand.
EAGER_DEPTH = 3


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

    Containers deep in a big document are decoded at C speed by
    :func:`parse_json` and get their ``members``/``items`` (with positions)
    only when first asked for; nothing else differs.
    """

    __slots__ = ("kind", "start", "end", "value", "_members", "_items", "_lazy")

    def __init__(self, kind: str, start: int, end: int, value: Any = None,
                 members: list[tuple[str, int, JNode]] | None = None, items: list[JNode] | None = None) -> None:
        self.kind = kind
        self.start = start
        self.end = end
        self.value = value
        # Lists are made on first use: most nodes are scalars, and a big file has hundreds of thousands.
        self._members = members
        self._items = items
        self._lazy: tuple[str, str, int, Any] | None = None  # (text, name, depth, decoded value)

    def __repr__(self) -> str:
        return f"JNode({self.kind!r}, {self.start}, {self.end})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, JNode):
            return NotImplemented
        return (self.kind, self.start, self.end, self.value, self.members, self.items) == \
            (other.kind, other.start, other.end, other.value, other.members, other.items)

    __hash__ = None  # type: ignore[assignment]  # mutable, like the dataclass it replaces

    def _expand(self) -> None:
        if self._lazy is not None:
            text, name, depth, _ = self._lazy
            full, _ = _value(text, self.start, name, depth)
            self._members, self._items, self._lazy = full._members, full._items, None

    @property
    def members(self) -> list[tuple[str, int, JNode]]:
        self._expand()
        if self._members is None:
            self._members = []
        return self._members

    @members.setter
    def members(self, value: list[tuple[str, int, JNode]]) -> None:
        self._expand()
        self._members = value

    @property
    def items(self) -> list[JNode]:
        self._expand()
        if self._items is None:
            self._items = []
        return self._items

    @items.setter
    def items(self, value: list[JNode]) -> None:
        self._expand()
        self._items = value

    def get(self, key: str) -> JNode | None:
        """Return the first member called ``key`` (JavaScript keeps the last; see :func:`duplicate_keys`)."""
        for k, _, node in self.members:
            if k == key:
                return node
        return None

    def to_python(self) -> Any:
        """Return the plain Python value (dicts keep the key order; the last duplicate wins, as in JS)."""
        if self._lazy is not None:
            # A fresh copy each call, as for an expanded node: callers may change what they get.
            return _copy(self._lazy[3])
        if self.kind == "object":
            return {k: v.to_python() for k, _, v in self._members or ()}
        if self.kind == "array":
            return [v.to_python() for v in self._items or ()]
        return self.value


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


class LineIndex:
    """Line numbers of character offsets in one text, each in O(log lines).

    ``fileio.line_of_offset`` counts newlines from the start of the text on
    every call; asked once per schedule (or per key) of a 14 MB file that is
    quadratic and takes minutes.
    """

    def __init__(self, text: str) -> None:
        self._newlines = [m.start() for m in _NEWLINE.finditer(text)]

    def line(self, offset: int) -> int:
        """1-based line containing ``offset`` (the same as :func:`fileio.line_of_offset`)."""
        return bisect.bisect_left(self._newlines, max(0, offset)) + 1


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
    node = _fast_parse(text, pos, name)
    if node is not None:
        return node
    node, pos = _value(text, pos, name, 0)
    pos = _WS.match(text, pos).end()
    if pos != len(text):
        raise _fail(text, name, pos, "unexpected text after the end of the JSON document")
    return node


class _Slow(Exception):
    """The fast path met something only the exact parser judges (an error, a limit, a duplicate key)."""


def _refuse(*_args: Any) -> Any:
    raise _Slow


def _number(raw: str) -> Any:
    if len(raw) > MAX_NUMBER_CHARS:
        raise _Slow
    return float(raw) if any(c in raw for c in ".eE") else int(raw)


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise _Slow  # a duplicate key: the exact parser keeps every occurrence with its position
    return out


_DECODER = json.JSONDecoder(object_pairs_hook=_pairs, parse_float=_number, parse_int=_number,
                            parse_constant=_refuse)
_scan_once = _DECODER.scan_once


def _fast_parse(text: str, pos: int, name: str) -> JNode | None:
    """The tree :func:`_value` would build, with deep containers decoded in C; ``None`` to parse exactly.

    The exact parser spends most of its time on the many small values deep
    in the document (each schedule's keys); here those come from the C
    decoder in one call per value, and the rare case the C decoder would
    judge differently from the exact parser (too deep, a lone surrogate, a
    long number, ``NaN``, a duplicate key, any syntax error) falls back to
    the exact parser, so errors and results are the same.
    """
    if json_nesting_offset(text) is not None or lone_surrogate_offset(text) is not None:
        return None
    try:
        node, end = _fast_value(text, pos, name, 0, {})
    except (_Slow, ValueError, StopIteration, RecursionError, IndexError):
        return None
    end = _WS.match(text, end).end()
    return node if end == len(text) else None


#: Short strings are shared through a memo while parsing (keys, "", "00", "wait" ... repeat
#: in every schedule), as the C decoder does for keys.
_MEMO_CHARS = 32


def _fast_value(text: str, pos: int, name: str, depth: int, memo: dict[str, str]) -> tuple[JNode, int]:
    ch = text[pos]
    if ch == '"':
        s, end = _scanstring(text, pos + 1, True)
        if len(s) <= _MEMO_CHARS:
            s = memo.setdefault(s, s)
        return JNode("string", pos, end, s), end
    if ch == "{" or ch == "[":
        if depth >= EAGER_DEPTH:
            value, end = _scan_once(text, pos)
            node = JNode("object" if ch == "{" else "array", pos, end)
            node._lazy = (text, name, depth, value)
            return node, end
        return (_fast_object if ch == "{" else _fast_array)(text, pos, name, depth, memo)
    value, end = _scan_once(text, pos)
    if value is True or value is False or value is None:
        return JNode(text[pos:end], pos, end, value), end
    return JNode("number", pos, end, value), end


def _fast_object(text: str, pos: int, name: str, depth: int, memo: dict[str, str]) -> tuple[JNode, int]:
    members: list[tuple[str, int, JNode]] = []
    node = JNode("object", pos, pos, None, members)
    ws = _WS.match
    pos = ws(text, pos + 1).end()
    if text[pos] == "}":
        node.end = pos + 1
        return node, pos + 1
    while True:
        if text[pos] != '"':
            raise _Slow
        key, after = _scanstring(text, pos + 1, True)
        key = memo.setdefault(key, key)
        colon = ws(text, after).end()
        if text[colon] != ":":
            raise _Slow
        val, end = _fast_value(text, ws(text, colon + 1).end(), name, depth + 1, memo)
        members.append((key, pos, val))
        end = ws(text, end).end()
        ch = text[end]
        if ch == ",":
            pos = ws(text, end + 1).end()
            continue
        if ch == "}":
            node.end = end + 1
            return node, end + 1
        raise _Slow


def _fast_array(text: str, pos: int, name: str, depth: int, memo: dict[str, str]) -> tuple[JNode, int]:
    items: list[JNode] = []
    node = JNode("array", pos, pos, None, None, items)
    ws = _WS.match
    pos = ws(text, pos + 1).end()
    if text[pos] == "]":
        node.end = pos + 1
        return node, pos + 1
    while True:
        val, end = _fast_value(text, pos, name, depth + 1, memo)
        items.append(val)
        end = ws(text, end).end()
        ch = text[end]
        if ch == ",":
            pos = ws(text, end + 1).end()
            continue
        if ch == "]":
            node.end = end + 1
            return node, end + 1
        raise _Slow


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
        if n._lazy is not None:
            continue  # decoded by the C decoder, whose pairs hook refused any duplicate key
        seen: set[str] = set()
        for k, kpos, v in n.members:
            if k in seen:
                out.append((k, kpos))
            seen.add(k)
            stack.append(v)
        stack.extend(n.items)
    return out
