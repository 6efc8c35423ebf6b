"""Splices that change one mode's ``groups`` list, entry by entry.

The new list is compared with the old one (:class:`difflib.SequenceMatcher`
over the entries' values), and only the entries that differ are touched:
a removed entry loses its own line (block style) or its element and one
comma (flow style, JSON), an added one is written next to its neighbours
in their style. Entries that stay, with their options, comments and
quoting, keep their bytes. The caller re-parses the result and accepts it
only when the mode then reads as exactly the new list.
"""

from __future__ import annotations

import difflib
import json
from typing import Any

from orchestrator_gui.formats import roomodes_write as w
from orchestrator_gui.formats.fileio import line_of_offset
from orchestrator_gui.formats.roomodes_edit import EditContext, replace_candidates
from orchestrator_gui.formats.roomodes_layout import (
    FlowLayout,
    Splice,
    TextStyle,
    after_line,
    colon_after,
    flow_layout,
    item_head,
    json_orders,
    json_text,
    line_end,
    node_end,
    yaml_scalars,
)
from orchestrator_gui.formats.roomodes_syntax import Mapping, Node, Scalar, Sequence
from orchestrator_gui.problems import FormatError


def _key(entry: Any) -> str:
    return json.dumps(entry, sort_keys=True, ensure_ascii=False)


def _options(entry: Any) -> tuple[str, dict[str, str]] | None:
    if isinstance(entry, (list, tuple)) and len(entry) == 2 and isinstance(entry[1], dict):
        return entry[0], entry[1]
    return None


def block_entry_lines(ctx: EditContext, style: TextStyle, entry: Any, prefix: str, newline: str) -> list[str]:
    """Lines of one new block-style group entry; ``prefix`` is the dash prefix (``"  - "``).

    The tuple form is written as Roo's writer does::

        - - edit
          - fileRegex: \\.md$
            description: Markdown only
    """
    def scalar(value: str, col: int) -> str:
        return yaml_scalars(ctx, style, value, column=col, indent=" " * (col + 2), newline=newline)[0]

    tuple_form = _options(entry)
    if tuple_form is None:
        return [prefix + scalar(str(entry), len(prefix))]
    name, options = tuple_form
    pad = " " * len(prefix)
    lines = [prefix + "- " + scalar(name, len(prefix) + 2)]
    for j, (k, v) in enumerate(options.items()):
        lead = pad + ("- " if j == 0 else "  ")
        lines.append(lead + k + ": " + scalar(str(v), len(lead) + len(k) + 2))
    return lines


def flow_entry(ctx: EditContext, entry: Any, escape_normalised: bool, quoted: bool) -> str:
    """One new flow-style (JSON) group entry; ``quoted=False`` writes names plain as the file does."""
    def name_text(name: str) -> str:
        plain = None if quoted else w.plain_scalar(name, True)
        return plain if plain is not None else json_text(ctx, name, escape_normalised)

    tuple_form = _options(entry)
    if tuple_form is None:
        return name_text(str(entry))
    name, options = tuple_form
    inner = ", ".join(json_text(ctx, k, escape_normalised) + ": " + json_text(ctx, str(v), escape_normalised)
                      for k, v in options.items())
    return "[" + name_text(name) + ", {" + inner + "}]"


def flow_groups(ctx: EditContext, groups: list[Any], layout: FlowLayout | None, escape_normalised: bool,
                quoted: bool = True) -> str:
    """A whole new flow-style groups list, spaced like ``layout`` (one line when ``None``)."""
    if not groups:
        return "[]"
    entries = [flow_entry(ctx, g, escape_normalised, quoted) for g in groups]
    if layout is None:
        return "[" + ", ".join(entries) + "]"
    return "[" + layout.open + layout.sep.join(entries) + layout.close + "]"


def _in_place(ctx: EditContext, node: Node, new: Any, pick: int) -> list[Splice] | None:
    """Splices that change a tuple entry's option values where they are, or ``None`` when more changes.

    ``["edit", {fileRegex: a}]`` -> ``["edit", {fileRegex: b}]`` touches only
    the regex's scalar (in its own style, ``pick`` 0; double-quoted, ``pick`` -1).
    """
    wanted = _options(new)
    if wanted is None or not (isinstance(node, Sequence) and len(node.items) == 2
                              and isinstance(node.items[0], Scalar) and node.items[0].value == wanted[0]
                              and isinstance(node.items[1], Mapping)):
        return None
    pairs = {k.value: (k, v) for k, v in node.items[1].items if isinstance(k, Scalar)}
    if set(pairs) != set(wanted[1]) or len(pairs) != len(node.items[1].items):
        return None
    out: list[Splice] = []
    for name, (key, value) in pairs.items():
        if isinstance(value, Scalar) and value.value == wanted[1][name]:
            continue
        try:
            candidates = replace_candidates(ctx, key, value, wanted[1][name])
        except FormatError:  # an anchor or a nested value: the whole entry is rewritten instead
            return None
        out.append(candidates[pick])
    return out


def _replaced(ctx: EditContext, items: list[Node], new: list[Any], ops: tuple[int, int, int, int],
              pick: int) -> list[Splice] | None:
    """In-place splices for a one-to-one replacement of tuple entries (see :func:`_in_place`)."""
    i1, i2, j1, j2 = ops
    if i2 - i1 != j2 - j1:
        return None
    edits = [_in_place(ctx, items[i1 + n], new[j1 + n], pick) for n in range(i2 - i1)]
    return None if any(e is None for e in edits) else [s for e in edits for s in e]


def _quoted(items: list[Node]) -> bool:
    """Whether a list's scalar entries are quoted (JSON, or YAML written with quotes)."""
    names = [i for i in items if isinstance(i, Scalar)]
    return not names or any(i.style != "plain" for i in names)


def _flow_splices(ctx: EditContext, seq: Sequence, old: list[Any], new: list[Any], escape_normalised: bool,
                  pick: int) -> list[Splice]:
    items, text = seq.items, ctx.text
    layout = flow_layout(text, seq)
    quoted = ctx.format == "json" or _quoted(items)
    if not items or not new:
        # From or to an empty list: the whole inside of the brackets.
        inner = flow_groups(ctx, new, None, escape_normalised, quoted)[1:-1]
        return [(seq.start + 1, seq.end - 1, inner)]
    sep = layout.sep if layout is not None else ", "
    out: list[Splice] = []
    ops = difflib.SequenceMatcher(None, [_key(e) for e in old], [_key(e) for e in new], autojunk=False).get_opcodes()
    for tag, i1, i2, j1, j2 in ops:
        if tag == "equal":
            continue
        in_place = _replaced(ctx, items, new, (i1, i2, j1, j2), pick) if tag == "replace" else None
        if in_place is not None:
            out.extend(in_place)
            continue
        added = sep.join(flow_entry(ctx, e, escape_normalised, quoted) for e in new[j1:j2])
        if i1 < i2 and added:  # replaced: the new entries where the old ones were
            out.append((items[i1].start, items[i2 - 1].end, added))
        elif i1 < i2:  # removed: the entries and the comma after them (before them, at the end)
            if i2 < len(items):
                out.append((items[i1].start, items[i2].start, ""))
            else:
                out.append((items[i1 - 1].end, items[i2 - 1].end, ""))
        elif i1 < len(items):
            out.append((items[i1].start, items[i1].start, added + sep))
        else:
            out.append((items[-1].end, items[-1].end, sep + added))
    return out


def _block_splices(ctx: EditContext, style: TextStyle, key: Node, seq: Sequence, old: list[Any], new: list[Any],
                   pick: int) -> list[Splice]:
    text, items, nl = ctx.text, seq.items, ctx.file_newline
    if not new:
        # "groups: []": an empty block sequence does not exist.
        colon = colon_after(ctx, key, seq)
        return [(colon + 1, line_end(text, node_end(text, seq)), " []")]
    heads = [item_head(ctx, i) for i in items]
    prefix = next((h.prefix for h in heads if "\n" not in h.prefix), heads[0].prefix)
    out: list[Splice] = []
    ops = difflib.SequenceMatcher(None, [_key(e) for e in old], [_key(e) for e in new], autojunk=False).get_opcodes()
    for tag, i1, i2, j1, j2 in ops:
        if tag == "equal":
            continue
        in_place = _replaced(ctx, items, new, (i1, i2, j1, j2), pick) if tag == "replace" else None
        if in_place is not None:
            out.extend(in_place)
            continue
        lines = [ln for e in new[j1:j2] for ln in block_entry_lines(ctx, style, e, prefix, nl)]
        block = "".join(ln + nl for ln in lines)
        if i1 < len(items):
            start = heads[i1].start
            end = after_line(text, node_end(text, items[i2 - 1])) if i2 > i1 else start
            if not block and end == len(text) and not text.endswith("\n"):
                start = line_end(text, start - 1)  # the file keeps ending without a line break
            out.append((start, end, block))
        else:
            at = after_line(text, node_end(text, items[-1]))
            if at == len(text) and not text.endswith("\n"):
                out.append((at, at, nl + block[:-len(nl)]))
            else:
                out.append((at, at, block))
    return out


def groups_candidates(ctx: EditContext, style: TextStyle, mode: Mapping, entry: tuple[Node, Node] | None,
                      old: list[Any], new: list[Any], line: int) -> list[list[Splice]]:
    """Candidate edits (each a set of splices) turning a mode's ``groups`` from ``old`` into ``new``.

    Parameters
    ----------
    ctx : EditContext
    style : TextStyle
        The file's quoting habits (for new block entries).
    mode : Mapping
        The mode's mapping (where a missing ``groups`` key is added).
    entry : (key, value) or None
        The ``groups`` key and value nodes; ``None`` when the key is missing.
    old, new : list
        The entries as plain values.
    line : int
        The mode's line, for messages.

    Raises
    ------
    FormatError
        ``groups`` is there but is not a list (a scalar or a mapping): edit it by hand.
    """
    orders = json_orders(ctx)
    if entry is None:
        return _add_key(ctx, style, mode, new, line)
    key, seq = entry
    if not isinstance(seq, Sequence):
        raise FormatError(ctx.name, "'groups' of this mode is not a list; edit it by hand",
                          line=line_of_offset(ctx.text, key.start))
    if seq.flow or not seq.items:
        return [_flow_splices(ctx, seq, old, new, e, pick) for pick in (0, -1) for e in orders]
    return [_block_splices(ctx, style, key, seq, old, new, pick) for pick in (0, -1)]


def _add_key(ctx: EditContext, style: TextStyle, mode: Mapping, new: list[Any], line: int) -> list[list[Splice]]:
    text, nl = ctx.text, ctx.file_newline
    if not mode.items:
        raise FormatError(ctx.name, "cannot add 'groups' to an empty mode mapping", line=line)
    last_key, last_value = mode.items[-1]
    if mode.flow:
        layout = flow_layout(text, mode)
        at = last_value.end
        sep, colon = (layout.sep, layout.colon) if layout is not None else (", ", ": ")
        quoted = ctx.format == "json" or (isinstance(last_key, Scalar) and last_key.style == "double")
        name = '"groups"' if quoted else "groups"
        return [[(at, at, sep + name + colon + flow_groups(ctx, new, None, e, quoted))] for e in json_orders(ctx)]
    first = mode.items[0][0]
    col = first.start - (text.rfind("\n", 0, first.start) + 1)
    at = line_end(text, node_end(text, mode))
    head = " " * col + "groups:"
    if not new:
        return [[(at, at, nl + head + " []")]]
    lines = [head] + [ln for e in new for ln in block_entry_lines(ctx, style, e, " " * (col + 2) + "- ", nl)]
    return [[(at, at, "".join(nl + ln for ln in lines))]]


__all__ = ["block_entry_lines", "flow_entry", "flow_groups", "groups_candidates"]
