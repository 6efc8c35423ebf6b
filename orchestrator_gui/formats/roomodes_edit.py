"""Candidate splices for one ``.roomodes`` field edit (replace or add a scalar).

Each function returns splices ``(start, end, new_text)`` in order of
preference: the scalar's own style first, then the closest safe style
(double-quoted). :meth:`ModesDocument.set_field` applies the first one whose
re-parse gives exactly the requested change.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from orchestrator_gui.formats import roomodes_write as w
from orchestrator_gui.formats.fileio import dominant_newline, line_of_offset, split_lines
from orchestrator_gui.formats.roomodes_syntax import Mapping, Node, Scalar, Sequence, content_end
from orchestrator_gui.problems import FormatError

Splice = tuple[int, int, str]


@dataclass
class EditContext:
    """The document being edited: name, text (no BOM), format and parse path."""

    name: str
    text: str
    format: str  # "yaml" or "json": the file's own syntax, kept by edits
    via: str  # "yaml" or "json": the parser Roo succeeds with

    @cached_property
    def file_newline(self) -> str:
        return dominant_newline(split_lines(self.text))

    @cached_property
    def file_escapes(self) -> bool:
        """Whether the file writes non-ASCII as escapes (PyYAML's default)."""
        return bool(w.escapes_non_ascii(self.text))


def _newline(ctx: EditContext, raw: str) -> str:
    if "\r\n" in raw:
        return "\r\n"
    if "\n" in raw:
        return "\n"
    return ctx.file_newline


def replace_candidates(ctx: EditContext, key: Node, node: Node, value: str) -> list[Splice]:
    """Splices that replace the scalar ``node`` (the value of ``key``) with ``value``.

    Raises
    ------
    FormatError
        The field is a list or mapping, or carries a YAML anchor, tag or alias.
    """
    text = ctx.text
    if not isinstance(node, Scalar):
        kind = "a list" if isinstance(node, Sequence) else "a mapping"
        raise FormatError(ctx.name, f"this field is {kind}, not text; edit it by hand",
                          line=line_of_offset(text, node.start))
    start, end = node.start, content_end(text, node)
    if start == end:
        # An empty value ("name:") has its mark at the next token, maybe
        # lines below; the new value belongs right after the colon.
        colon = text.find(":", content_end(text, key), start)
        if colon < 0:
            raise FormatError(ctx.name, "cannot locate this empty field; edit it by hand",
                              line=line_of_offset(text, key.start))
        start = end = colon + 1
    raw = text[start:end]
    if raw[:1] in ("&", "!", "*"):
        raise FormatError(ctx.name, "this field has a YAML anchor, tag or alias; edit it by hand",
                          line=line_of_offset(text, start))
    used = w.escapes_non_ascii(raw)
    escape = ctx.file_escapes if used is None else used
    newline = _newline(ctx, raw)
    line_start = text.rfind("\n", 0, start) + 1
    column = start - line_start
    lead = " " if start == end else ""  # an empty plain scalar right after "key:"
    if ctx.format == "json" or ctx.via == "json":
        # Keep the parser Roo succeeds with: escaped smart characters when
        # its YAML parse works, raw ones when only JSON.parse does.
        order = (True, False) if ctx.via == "yaml" else (False, True)
        return [(start, end, lead + w.json_scalar(value, escape_non_ascii=escape, escape_normalised=e))
                for e in order]
    dq = lead + w.double_scalar(value, escape_non_ascii=escape, fold_indent=None,
                                column=column, newline=newline)
    if node.style in ("literal", "folded"):
        header = raw.split("\n", 1)[0].rstrip("\r")
        body = raw[len(header):].lstrip("\r\n").split("\n")
        first = next((ln for ln in body if ln.strip()), None)
        indent = first[: len(first) - len(first.lstrip(" "))] if first else " " * (column + 2)
        make = w.literal_scalar if node.style == "literal" else w.folded_scalar
        preferred = make(value, old_header=header, indent=indent, newline=newline)
    elif node.style == "double":
        preferred = None
        if "\n" in raw:
            cont = raw.split("\n", 1)[1]
            fold = cont[: len(cont) - len(cont.lstrip(" "))] or " " * (column + 2)
            preferred = w.double_scalar(value, escape_non_ascii=escape, fold_indent=fold,
                                        column=column, newline=newline)
    elif node.style == "single":
        preferred = w.single_scalar(value)
    else:
        plain = w.plain_scalar(value, node.flow)
        preferred = None if plain is None else lead + plain
    return [(start, end, c) for c in (preferred, dq) if c is not None]

def insert_candidates(ctx: EditContext, mapping: Mapping, key: str, value: str,
                  line: int) -> list[Splice]:
    text = ctx.text
    if not mapping.items:
        raise FormatError(ctx.name, f"cannot add {key!r} to an empty mode mapping", line=line)
    escape = ctx.file_escapes
    last_key, last_value = mapping.items[-1]
    at = content_end(text, last_value)
    if mapping.flow:
        # JSON object or YAML flow mapping: copy the separators around the last key.
        before = text[: last_key.start]
        gap = before[len(before.rstrip(" \t\r\n")):]
        colon = text[content_end(text, last_key): last_value.start]
        json_like = ctx.format == "json" or (isinstance(last_key, Scalar) and last_key.style == "double")
        order = (True, False) if ctx.via == "yaml" else (False, True)
        if json_like:
            head = w.json_scalar(key, escape_non_ascii=False) + colon
            news = [head + w.json_scalar(value, escape_non_ascii=escape, escape_normalised=e) for e in order]
        else:
            news = [key + colon + w.double_scalar(value, escape_non_ascii=escape, fold_indent=None,
                                                  column=0, newline="\n")]
        return [(at, at, "," + gap + new) for new in news]
    # Block mapping: a new line after the last key's value (and after a
    # trailing comment on that line), at the first key's column.
    nl = text.find("\n", at)
    pos = len(text) if nl < 0 else (nl - 1 if nl > 0 and text[nl - 1] == "\r" else nl)
    first_key = mapping.items[0][0]
    column = first_key.start - (text.rfind("\n", 0, first_key.start) + 1)
    newline = _newline(ctx, text[pos:pos + 2]) if nl >= 0 else _newline(ctx, "")
    new = newline + " " * column + key + ": " + w.double_scalar(
        value, escape_non_ascii=escape, fold_indent=None, column=column + len(key) + 2, newline=newline)
    return [(pos, pos, new)]
