"""Position-keeping syntax tree for ``.roomodes`` files (YAML or JSON).

The ``.roomodes`` editor never re-serialises a file; it splices the bytes of
one scalar. For that it needs, for every value, the exact character span it
occupies in the *original* text. This module produces such a tree:

* YAML (and JSON that YAML accepts) goes through ``ruamel.yaml``'s composer,
  whose nodes carry start/end marks, after the same pre-parse character
  normalisation Roo Code applies (see :func:`normalise`). The marks of the
  normalised text are mapped back to offsets in the original text.
* JSON that YAML rejects (Roo then falls back to ``JSON.parse`` of the
  original text) goes through :func:`scan_json`, a small position-tracking
  JSON parser.

Offsets are character offsets into the decoded text *without* the BOM.
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.composer import Composer, MaxDepthExceededError
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode
from ruamel.yaml.reader import ReaderError

from orchestrator_gui.formats.limits import ALIAS_BUDGET, MAX_DEPTH, MAX_NUMBER_CHARS

#: Most YAML or JSON nodes (scalars, mappings, sequences, aliases) a file may hold. Real files have a
#: few hundred (575 the largest seen). ruamel's round-trip parser costs 40-100 microseconds a node, so
#: the limit also bounds the time a hostile file takes (about half a second on an idle 2-core machine).
MAX_NODES = 10_000

#: Roo Code's ``CustomModesManager`` replaces these before ``yaml.parse``
#: (1 char -> 1 char); ZWSP/ZWNJ/ZWJ are removed (see :data:`REMOVED`).
REPLACED = {
    "\u00a0": " ",
    "\u2018": "'",
    "\u2019": "'",
    "\u201c": '"',
    "\u201d": '"',
    **{chr(c): "-" for c in range(0x2010, 0x2016)},
    "\u2212": "-",
}
REMOVED = "\u200b\u200c\u200d"
#: Every character the normalisation touches; a writer must escape them.
NORMALISED_CHARS = frozenset(REPLACED) | frozenset(REMOVED)
_NORMALISE_RE = re.compile("[" + "".join(sorted(NORMALISED_CHARS)) + "]")
_TRANSLATE = {ord(k): v for k, v in REPLACED.items()} | {ord(c): None for c in REMOVED}
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
_BIG_ESCAPE = re.compile(r"(?<!\\)(?:\\\\)*(?P<esc>\\U(?P<hex>[0-9A-Fa-f]{8}))")

#: Tags whose plain scalars are not strings in the YAML 1.2 core schema.
_INT, _FLOAT, _BOOL, _NULL = (f"tag:yaml.org,2002:{t}" for t in ("int", "float", "bool", "null"))


@dataclass(eq=False)
class Scalar:
    """A scalar value and the span of its source text.

    ``style`` is ``plain``, ``single``, ``double``, ``literal`` or ``folded``
    (JSON strings are ``double``). ``flow`` says whether it sits inside a
    flow collection (``[...]``/``{...}``), where ``,[]{}`` end a plain scalar.
    """

    value: Any
    start: int
    end: int
    style: str
    flow: bool = False


@dataclass(eq=False)
class Mapping:
    """A mapping; ``items`` keeps source order and duplicate keys."""

    items: list[tuple[Node, Node]]
    start: int
    end: int
    flow: bool = False


@dataclass(eq=False)
class Sequence:
    """A sequence of nodes."""

    items: list[Node]
    start: int
    end: int
    flow: bool = False


Node = Scalar | Mapping | Sequence


class SyntaxProblem(Exception):
    """The text cannot be parsed; ``offset`` is where (original text), if known."""

    def __init__(self, message: str, offset: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


class LimitProblem(SyntaxProblem):
    """A limit is broken (too many nodes): the file is refused, whichever parser reads it."""


class _Composer(Composer):
    """ruamel's composer with a node budget (:data:`MAX_NODES`), silent about reused anchors."""

    def __init__(self, loader: Any = None) -> None:
        super().__init__(loader)
        # A reused anchor is legal YAML (spec 7.1: an alias means the latest node so named), yet ruamel
        # prints a warning; off here, as a warnings filter would be process-wide and not thread-safe.
        self.warn_double_anchors = False
        self.nodes = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            # Before the scanner reads on; the offset (normalised text) is mapped by compose_yaml.
            raise LimitProblem(f"more than {MAX_NODES} YAML nodes (real .roomodes files have a few hundred)",
                               self.parser.peek_event().start_mark.index)
        return super().compose_node(parent, index)


@dataclass
class OffsetMap:
    """Maps offsets in normalised text back to the original text.

    ``removed`` holds, for every removed character, its position in the
    normalised text; there are at most a handful, so a bisect is enough.
    """

    removed: list[int] = field(default_factory=list)

    def start(self, n: int) -> int:
        # A removed char sitting exactly at a node's start precedes it.
        return n + bisect.bisect_right(self.removed, n)

    def end(self, n: int) -> int:
        # ... and one exactly at a node's end follows it (stays outside).
        return n + bisect.bisect_left(self.removed, n)


def normalise(text: str) -> tuple[str, OffsetMap]:
    """Apply Roo's pre-parse character replacements.

    Returns the normalised text and the map from its offsets to ``text``'s.
    The result is used only to *read* what Roo sees; it is never written.
    """
    if not _NORMALISE_RE.search(text):
        return text, OffsetMap()
    removed: list[int] = []
    gone = 0
    for m in re.finditer("[" + REMOVED + "]", text):
        removed.append(m.start() - gone)
        gone += 1
    return text.translate(_TRANSLATE), OffsetMap(removed)


def _join_surrogates(s: str) -> str:
    # "\ud83e\udde0" escapes decode to two lone surrogates in ruamel; in the
    # JavaScript string Roo builds they form one emoji, so join them here.
    if _SURROGATE_RE.search(s):
        return s.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return s


def _scalar_value(node: ScalarNode) -> Any:
    tag = str(node.tag)
    raw = node.value
    if node.style is None:
        # Only plain scalars are resolved to non-strings (YAML 1.2 core).
        if tag == _NULL:
            return None
        if tag == _BOOL:
            return raw.lower() == "true"
        if tag == _INT:
            try:
                return int(raw, 0)
            except ValueError:
                try:
                    return int(raw, 10)
                except ValueError:
                    return raw
        if tag == _FLOAT:
            try:
                return float(raw.replace(".", "", 1) if raw.lower().endswith("inf") else raw)
            except ValueError:
                return float("nan") if "nan" in raw.lower() else raw
    if node.style == ">":
        # ruamel's round-trip scanner marks each fold of a ">" scalar with
        # "\a" (a character that cannot occur raw in YAML); drop the marks.
        raw = raw.replace("\a", "")
    return _join_surrogates(raw)


_STYLE = {None: "plain", "'": "single", '"': "double", "|": "literal", ">": "folded"}


def _convert(node: Any, omap: OffsetMap, flow: bool, seen: dict[int, Node]) -> Node:
    done = seen.get(id(node))
    if done is not None:  # an alias: the same node again
        return done
    start, end = omap.start(node.start_mark.index), omap.end(node.end_mark.index)
    if isinstance(node, ScalarNode):
        out: Node = Scalar(_scalar_value(node), start, end, _STYLE.get(node.style, "plain"), flow)
        seen[id(node)] = out
        return out
    inner = flow or bool(getattr(node, "flow_style", False))
    if isinstance(node, MappingNode):
        mapping = Mapping([], start, end, inner)
        seen[id(node)] = mapping
        mapping.items = [(_convert(k, omap, inner, seen), _convert(v, omap, inner, seen)) for k, v in node.value]
        return mapping
    if isinstance(node, SequenceNode):
        seq = Sequence([], start, end, inner)
        seen[id(node)] = seq
        seq.items = [_convert(v, omap, inner, seen) for v in node.value]
        return seq
    raise SyntaxProblem(f"unsupported YAML node {type(node).__name__}", start)


def compose_yaml(text: str) -> Node | None:
    """Parse ``text`` as Roo does (normalise, YAML 1.2) into a positioned tree.

    Raises
    ------
    SyntaxProblem
        With the message and original-text offset of the YAML error.
    """
    norm, omap = normalise(text)
    yaml = YAML(typ="rt")
    yaml.Composer = _Composer
    # The composer recurses once per level; ruamel stops it cleanly at max_depth.
    yaml.max_depth = MAX_DEPTH
    try:
        root = yaml.compose(norm)
    except LimitProblem as exc:
        raise LimitProblem(exc.message, omap.start(exc.offset)) from None
    except ReaderError as exc:
        raise SyntaxProblem(f"character U+{exc.character:04X} is not allowed in YAML ({exc.reason})",
                            omap.start(exc.position)) from None
    except (ValueError, OverflowError) as exc:  # ruamel calls chr() on a "\U" escape past U+10FFFF unchecked
        bad = next((m for m in _BIG_ESCAPE.finditer(norm) if int(m["hex"], 16) > 0x10FFFF), None)
        raise SyntaxProblem("a \\U escape beyond U+10FFFF is not a character" if bad else str(exc),
                            None if bad is None else omap.start(bad.start("esc"))) from None
    except MaxDepthExceededError as exc:
        mark = exc.problem_mark
        raise SyntaxProblem(f"nesting is deeper than {MAX_DEPTH} levels",
                            None if mark is None else omap.start(mark.index)) from None
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        offset = None if mark is None else omap.start(mark.index)
        problem = getattr(exc, "problem", None) or str(exc).strip().splitlines()[0]
        context = getattr(exc, "context", None)
        msg = f"{context}: {problem}" if context else str(problem)
        cmark = getattr(exc, "context_mark", None)
        if cmark is not None and mark is not None and cmark.line != mark.line:
            if "end of stream" in str(problem):
                # An unterminated quote or bracket is noticed at the end of
                # the file; where it started is what the user must find.
                offset = omap.start(cmark.index)
            else:
                msg += f" (it started on line {norm.count(chr(10), 0, cmark.index) + 1})"
        raise SyntaxProblem(msg, offset) from None
    if root is None:
        return None
    _check_aliases(root, omap)
    return _convert(root, omap, False, {})


def _children(node: Any) -> list[Any]:
    if isinstance(node, MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, SequenceNode):
        return list(node.value)
    return []


def _check_aliases(root: Any, omap: OffsetMap) -> None:
    """Refuse a document whose aliases expand past :data:`ALIAS_BUDGET` nodes, nest too deep, or loop.

    The composed tree shares each anchored node among its aliases, so it is
    small even for a "billion laughs" document; every reader of the plain
    values (``to_python``, the checks) would expand it. So the expanded size
    and depth are computed here once per distinct node, iteratively, before
    anything expands it. Roo's own parser (npm ``yaml``, ``maxAliasCount``)
    rejects such documents too.
    """
    size: dict[int, int] = {}
    height: dict[int, int] = {}
    on_path: set[int] = set()
    distinct = 0
    first_shared: int | None = None  # offset of the first anchor that an alias repeats
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            kids = _children(node)
            size[key] = 1 + sum(size[id(k)] for k in kids)
            height[key] = 1 + max((height[id(k)] for k in kids), default=0)
            on_path.discard(key)
            continue
        if key in size:  # met again: an alias
            if first_shared is None:
                first_shared = omap.start(node.start_mark.index)
            continue
        if key in on_path:
            raise SyntaxProblem("an alias refers to a node that contains it (a recursive structure)",
                                omap.start(node.start_mark.index))
        on_path.add(key)
        distinct += 1
        stack.append((node, True))
        for kid in _children(node):
            if id(kid) in on_path:
                raise SyntaxProblem("an alias refers to a node that contains it (a recursive structure)",
                                    omap.start(kid.start_mark.index))
            if id(kid) not in size:
                stack.append((kid, False))
            elif first_shared is None:
                first_shared = omap.start(kid.start_mark.index)
    expanded = size[id(root)] - distinct
    if expanded > ALIAS_BUDGET:
        raise SyntaxProblem(f"aliases expand to {expanded} more nodes, past the limit of {ALIAS_BUDGET} "
                            "(a \"billion laughs\" document?); Roo refuses excessive aliasing too", first_shared)
    if height[id(root)] > MAX_DEPTH + 1:
        raise SyntaxProblem(f"with its aliases expanded, the document nests deeper than {MAX_DEPTH} levels",
                            first_shared)


# --- JSON -----------------------------------------------------------------

_WS = re.compile(r"[ \t\n\r]*")
_STRING = re.compile(r'"(?:[^"\\\x00-\x1f]|\\.)*"', re.S)
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")


class _JsonScanner:
    """Recursive-descent JSON parser that records every value's span."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.nodes = 0

    def ws(self, i: int) -> int:
        return _WS.match(self.text, i).end()

    def fail(self, msg: str, i: int) -> SyntaxProblem:
        return SyntaxProblem(msg, i)

    def value(self, i: int, depth: int) -> tuple[Node, int]:
        t = self.text
        if depth > MAX_DEPTH:
            raise self.fail(f"nesting is deeper than {MAX_DEPTH} levels", i)
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise LimitProblem(f"more than {MAX_NODES} JSON values (real .roomodes files have a few hundred)", i)
        if i >= len(t):
            raise self.fail("unexpected end of file, expected a value", i)
        ch = t[i]
        if ch == '"':
            return self.string(i)
        if ch == "{":
            return self.obj(i, depth)
        if ch == "[":
            return self.arr(i, depth)
        for word, val in (("true", True), ("false", False), ("null", None)):
            if t.startswith(word, i):
                return Scalar(val, i, i + len(word), "plain", True), i + len(word)
        m = _NUMBER.match(t, i)
        if m and m.end() > i:
            s = m.group()
            if len(s) > MAX_NUMBER_CHARS:
                raise self.fail(f"a number of {len(s)} characters (the limit is {MAX_NUMBER_CHARS})", i)
            num = float(s) if any(c in s for c in ".eE") else int(s)
            return Scalar(num, i, m.end(), "plain", True), m.end()
        raise self.fail(f"unexpected character {t[i]!r}, expected a value", i)

    def string(self, i: int) -> tuple[Scalar, int]:
        m = _STRING.match(self.text, i)
        if not m:
            j = i + 1
            while j < len(self.text) and self.text[j] not in '"\n':
                if self.text[j] == "\\":
                    j += 1
                elif self.text[j] < " ":
                    break
                j += 1
            raise self.fail("unterminated string or raw control character in a string", j)
        try:
            val = json.loads(m.group())
        except json.JSONDecodeError as exc:
            raise self.fail(f"bad string escape: {exc.msg}", i + exc.pos) from None
        return Scalar(_join_surrogates(val), i, m.end(), "double", True), m.end()

    def obj(self, i: int, depth: int) -> tuple[Mapping, int]:
        start, items = i, []
        i = self.ws(i + 1)
        if i < len(self.text) and self.text[i] == "}":
            return Mapping(items, start, i + 1, True), i + 1
        while True:
            if i >= len(self.text) or self.text[i] != '"':
                raise self.fail("expected a string key in double quotes", i)
            key, i = self.string(i)
            i = self.ws(i)
            if i >= len(self.text) or self.text[i] != ":":
                raise self.fail("expected ':' after the key", i)
            val, i = self.value(self.ws(i + 1), depth + 1)
            items.append((key, val))
            i = self.ws(i)
            if i < len(self.text) and self.text[i] == ",":
                i = self.ws(i + 1)
                continue
            if i < len(self.text) and self.text[i] == "}":
                return Mapping(items, start, i + 1, True), i + 1
            raise self.fail("expected ',' or '}' in an object", i)

    def arr(self, i: int, depth: int) -> tuple[Sequence, int]:
        start, items = i, []
        i = self.ws(i + 1)
        if i < len(self.text) and self.text[i] == "]":
            return Sequence(items, start, i + 1, True), i + 1
        while True:
            val, i = self.value(i, depth + 1)
            items.append(val)
            i = self.ws(i)
            if i < len(self.text) and self.text[i] == ",":
                i = self.ws(i + 1)
                continue
            if i < len(self.text) and self.text[i] == "]":
                return Sequence(items, start, i + 1, True), i + 1
            raise self.fail("expected ',' or ']' in an array", i)


def scan_json(text: str) -> Node:
    """Parse strict JSON (what ``JSON.parse`` accepts) into a positioned tree.

    Raises
    ------
    SyntaxProblem
        With the message and offset of the first error.
    """
    sc = _JsonScanner(text)
    i = sc.ws(0)
    node, i = sc.value(i, 0)
    i = sc.ws(i)
    if i != len(text):
        raise SyntaxProblem("unexpected text after the end of the JSON value", i)
    return node


def to_python(node: Node | None) -> Any:
    """Return the plain Python value of a tree (last duplicate key wins, as in JSON)."""
    if node is None or isinstance(node, Scalar):
        return None if node is None else node.value
    if isinstance(node, Sequence):
        return [to_python(n) for n in node.items]
    out: dict[Any, Any] = {}
    for k, v in node.items:
        key = k.value if isinstance(k, Scalar) else repr(to_python(k))
        try:
            out[key] = to_python(v)
        except RecursionError:  # a self-referencing alias
            out[key] = None
    return out


def content_end(text: str, node: Node) -> int:
    """End offset of a node's own text, without trailing blank lines.

    A block scalar's YAML end mark includes the blank lines after it; a block
    collection's may too. Edits and insertions need the end of the last line
    that actually holds content, so that those blank lines stay untouched.
    """
    if isinstance(node, Scalar):
        if node.style not in ("literal", "folded"):
            return node.end
        j = node.end
        while j > node.start and text[j - 1] in " \t\r\n":
            j -= 1
        nl = text.find("\n", j, node.end)
        end = node.end if nl < 0 else nl
        return end - 1 if end > j and text[end - 1] == "\r" else end
    if node.flow or not node.items:
        return node.end
    last = node.items[-1]
    return content_end(text, last[1] if isinstance(last, tuple) else last)


class LineIndex:
    """1-based line numbers for many offsets in one text, in O(log n) each."""

    def __init__(self, text: str) -> None:
        self._starts = [m.end() for m in re.finditer("\n", text)]

    def __call__(self, offset: int) -> int:
        return bisect.bisect_right(self._starts, offset) + 1
