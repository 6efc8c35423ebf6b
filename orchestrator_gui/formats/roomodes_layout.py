"""How a ``.roomodes`` file is laid out, so new text is written in the file's own style.

Adding a mode or a tool group writes text the file did not have. It should
look as if the file's author had written it: the same indentation, dash
placement and key order, the same quoting (plain scalars and ``|-`` blocks
as Roo's own writer, double quotes with ``\\U`` escapes folded at 80 columns
as PyYAML, JSON with the file's spacing). This module measures those
habits on the text (:class:`TextStyle`, :func:`flow_layout`) and renders
scalars with them; the splices themselves are in
:mod:`~orchestrator_gui.formats.roomodes_entries` and
:mod:`~orchestrator_gui.formats.roomodes_groups`.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from orchestrator_gui.formats import roomodes_write as w
from orchestrator_gui.formats.fileio import line_of_offset
from orchestrator_gui.formats.roomodes_edit import EditContext
from orchestrator_gui.formats.roomodes_syntax import Mapping, Node, Scalar, Sequence, content_end, normalise
from orchestrator_gui.problems import FormatError

Splice = tuple[int, int, str]
_DASH_HEAD = re.compile(r"[ \t]*-[ \t]+")
_DASH_LINE = re.compile(r"[ \t]*-[ \t]*\r?")


def apply_splices(text: str, splices: list[Splice]) -> str:
    """Apply non-overlapping splices (any order) to ``text``."""
    for start, end, new in sorted(splices, key=lambda s: s[0], reverse=True):
        text = text[:start] + new + text[end:]
    return text


def same_reading(a: Any, b: Any) -> bool:
    """Whether two plain values are equal once Roo's character normalisation is applied to every string.

    Removing a mode that only ``JSON.parse`` could read (smart quotes
    around a YAML flow scalar) lets Roo's YAML parse succeed again, which
    normalises the other modes' text: their bytes are unchanged, and Roo
    reads them as it reads any such file.
    """
    def norm(v: Any) -> Any:
        if isinstance(v, str):
            return normalise(v)[0]
        if isinstance(v, list):
            return [norm(x) for x in v]
        if isinstance(v, dict):
            return {k: norm(x) for k, x in v.items()}
        return v

    return norm(a) == norm(b)


def line_start(text: str, pos: int) -> int:
    """Offset where the line holding ``pos`` starts."""
    return text.rfind("\n", 0, pos) + 1


def after_line(text: str, pos: int) -> int:
    """Offset just after the line break ending the line that holds ``pos`` (the text's end if none)."""
    nl = text.find("\n", pos)
    return len(text) if nl < 0 else nl + 1


def line_end(text: str, pos: int) -> int:
    """Offset of the line break (``\\r\\n`` or ``\\n``) ending the line that holds ``pos``."""
    nl = text.find("\n", pos)
    if nl < 0:
        return len(text)
    return nl - 1 if nl > 0 and text[nl - 1] == "\r" else nl


def column(text: str, pos: int) -> int:
    """0-based column of ``pos``."""
    return pos - line_start(text, pos)


def node_end(text: str, node: Node) -> int:
    """End of the last character of ``node``'s own text (an empty last value ends at its key)."""
    if isinstance(node, Scalar) or node.flow or not node.items:
        return content_end(text, node)
    last = node.items[-1]
    if isinstance(last, tuple):
        key, value = last
        if isinstance(value, Scalar) and value.start == value.end:
            # "key:" with no value: the mark sits at the next token, maybe on a later line.
            colon = text.find(":", content_end(text, key))
            return content_end(text, key) if colon < 0 else colon + 1
        return node_end(text, value)
    return node_end(text, last)


def colon_after(ctx: EditContext, key: Node, value: Node) -> int:
    """Offset of the ``:`` between a key and its value."""
    colon = ctx.text.find(":", content_end(ctx.text, key), max(value.start, content_end(ctx.text, key) + 1))
    if colon < 0:
        raise FormatError(ctx.name, "cannot locate the ':' after this key; edit it by hand",
                          line=line_of_offset(ctx.text, key.start))
    return colon


@dataclass(frozen=True)
class ItemHead:
    """Where a block sequence item starts: its dash line, and how a new item's first line begins."""

    start: int  # start of the line holding the item's '-'
    prefix: str  # text a new item's first line starts with ("  - ", or "  -\n    ")
    key_column: int  # column of the item's content (a mapping's keys)


def item_head(ctx: EditContext, item: Node) -> ItemHead:
    """The :class:`ItemHead` of one item of a block sequence.

    Raises
    ------
    FormatError
        The ``-`` is not where a block sequence has it (edited by hand oddly).
    """
    text = ctx.text
    start = line_start(text, item.start)
    head = text[start:item.start]
    if _DASH_HEAD.fullmatch(head):
        return ItemHead(start, head, len(head))
    if not head.strip(" \t") and start > 0:
        prev = line_start(text, start - 1)
        dash = text[prev:start - 1]
        if _DASH_LINE.fullmatch(dash):
            nl = "\r\n" if dash.endswith("\r") else "\n"
            return ItemHead(prev, dash.rstrip("\r") + nl + head, len(head))
    raise FormatError(ctx.name, "cannot locate this list item's '-'; edit it by hand",
                      line=line_of_offset(text, item.start))


@dataclass(frozen=True)
class TextStyle:
    """The quoting habits of a YAML file's text fields.

    Attributes
    ----------
    double : bool
        Text is double-quoted even where a plain scalar would do (JSON-like or hand-written files).
    single : bool
        Single quotes are the usual quoting where a plain scalar would do.
    fold : bool
        Long double-quoted scalars are folded with ``\\`` line breaks (PyYAML's output).
    block : str or None
        ``literal`` or ``folded``: how multi-line text is written (``None``: double-quoted).
    escapes : bool
        Non-ASCII is written as escapes (PyYAML's default), so such text is double-quoted.
    """

    double: bool
    single: bool
    fold: bool
    block: str | None
    escapes: bool

    @classmethod
    def of(cls, ctx: EditContext, mappings: list[Mapping]) -> TextStyle:
        """Measure the style of the text values of ``mappings`` (the file's modes)."""
        text, escapes = ctx.text, ctx.file_escapes
        quoting: Counter[str] = Counter()  # styles of values that could have been plain
        blocks: Counter[str] = Counter()
        fold = False
        for mapping in mappings:
            for _key, value in mapping.items:
                if not isinstance(value, Scalar) or not isinstance(value.value, str):
                    continue
                raw = text[value.start:value.end]
                if value.style in ("literal", "folded"):
                    blocks[value.style] += 1
                    continue
                fold = fold or (value.style == "double" and "\n" in raw)
                v = value.value
                if "\n" in v or w.plain_scalar(v, value.flow) is None or (escapes and not v.isascii()) \
                        or column(text, value.start) + len(v) > w.WIDTH:
                    continue
                quoting[value.style] += 1
        if blocks:
            block: str | None = "folded" if blocks["folded"] > blocks["literal"] else "literal"
        elif fold or escapes:
            block = None  # PyYAML writes multi-line text double-quoted
        else:
            block = "literal"  # Roo's own writer (and a new file)
        plain, double, single = quoting["plain"], quoting["double"], quoting["single"]
        return cls(double=double > plain + single, single=single > plain + double, fold=fold, block=block,
                   escapes=escapes)


def yaml_scalars(ctx: EditContext, style: TextStyle, value: str, *, column: int, indent: str,
                 newline: str) -> list[str]:
    """Candidate source texts for a new block-context YAML scalar, best first.

    ``column`` is where the scalar starts, ``indent`` the indentation of a
    block scalar's lines and of folded continuation lines. Every list ends
    with a plain double-quoted scalar, which can write any text.
    """
    out: list[str | None] = []
    non_ascii = any(ord(c) >= 0x80 for c in value)
    long = column + len(value) > w.WIDTH
    if "\n" not in value and not style.double and not (style.escapes and non_ascii) \
            and not (style.fold and long):
        out.append(w.single_scalar(value) if style.single else None)
        out.append(w.plain_scalar(value, False))
    if "\n" in value and style.block is not None and not (style.escapes and non_ascii):
        make = w.literal_scalar if style.block == "literal" else w.folded_scalar
        out.append(make(value, old_header="|-" if style.block == "literal" else ">-", indent=indent,
                        newline=newline))
    if style.fold:
        out.append(w.double_scalar(value, escape_non_ascii=style.escapes, fold_indent=indent, column=column,
                                   newline=newline))
    out.append(w.double_scalar(value, escape_non_ascii=style.escapes, fold_indent=None, column=column,
                               newline=newline))
    seen: list[str] = []
    for text in out:
        if text is not None and text not in seen:
            seen.append(text)
    return seen


def json_orders(ctx: EditContext) -> tuple[bool, bool]:
    """Whether to escape Roo's normalised characters in new JSON strings, preferred choice first.

    Escaped when Roo reads the file with its YAML parser, raw when only
    ``JSON.parse`` works (see :func:`~orchestrator_gui.formats.roomodes_write.json_scalar`).
    """
    return (True, False) if ctx.via == "yaml" else (False, True)


def json_text(ctx: EditContext, value: str, escape_normalised: bool) -> str:
    """A JSON string for ``value`` with the file's escaping of non-ASCII."""
    return w.json_scalar(value, escape_non_ascii=ctx.file_escapes, escape_normalised=escape_normalised)


@dataclass(frozen=True)
class FlowLayout:
    """The spacing of a flow (JSON) collection: after the opener, between items, around ``:``, before the closer."""

    open: str
    sep: str
    colon: str
    close: str


_BLANK = re.compile(r"[ \t\r\n]*")


def flow_layout(text: str, node: Mapping | Sequence) -> FlowLayout | None:
    """The spacing of a non-empty flow collection, or ``None`` when it holds comments or is empty."""
    if not node.items:
        return None
    first = node.items[0]
    first_start = first[0].start if isinstance(first, tuple) else first.start
    opened = text[node.start + 1:first_start]
    if isinstance(first, tuple):
        colon = text[content_end(text, first[0]):first[1].start]
    else:
        colon = ": "
    if len(node.items) >= 2:
        second = node.items[1]
        end_first = first[1].end if isinstance(first, tuple) else first.end
        sep = text[end_first:(second[0].start if isinstance(second, tuple) else second.start)]
    else:
        sep = "," + (opened or " ")
    last = node.items[-1]
    closed = text[(last[1].end if isinstance(last, tuple) else last.end):node.end - 1]
    if not (_BLANK.fullmatch(opened) and _BLANK.fullmatch(closed) and colon.strip() == ":"
            and sep.strip() == "," and _BLANK.fullmatch(sep.replace(",", "", 1))):
        return None
    return FlowLayout(opened, sep, colon, closed)


def nested_layout(outer: FlowLayout, unit: str = "  ") -> FlowLayout:
    """The layout one level deeper than ``outer`` (multi-line JSON indents by ``unit`` more)."""
    if "\n" not in outer.open:
        return FlowLayout("", ", ", ": ", "")
    return FlowLayout(outer.open + unit, outer.sep + unit, ": ", outer.open)


__all__ = ["FlowLayout", "ItemHead", "Splice", "TextStyle", "after_line", "apply_splices", "colon_after", "column",
           "flow_layout", "item_head", "json_orders", "json_text", "line_end", "line_start", "nested_layout",
           "node_end", "same_reading", "yaml_scalars"]
