"""Splices that append a new mode to ``customModes`` or remove one mode's bytes.

*Remove* cuts exactly one entry: in a block list its lines from the ``-``
through its last content line, plus the blank lines right after it (the
last entry: right before it), so the spacing between the others stays as
it was; in a flow list (JSON) the element and one comma. Comments on lines
of their own stay where they are. Removing the only entry of a block list
leaves ``customModes: []``.

*Add* appends after the last entry, in the file's own style
(:mod:`~orchestrator_gui.formats.roomodes_layout`): the dash and key
indentation of the last mode, its key order, blank lines between modes if
the file has them, the quoting habits of the file's text, and for JSON the
spacing of the last mode's object and ``groups`` array.

The caller (:class:`~orchestrator_gui.formats.roomodes.ModesDocument`)
re-parses every candidate and keeps the first that reads back as exactly
the intended change.
"""

from __future__ import annotations

from typing import Any

from orchestrator_gui.formats.roomodes_edit import EditContext
from orchestrator_gui.formats.roomodes_groups import block_entry_lines, flow_groups
from orchestrator_gui.formats.roomodes_layout import (
    FlowLayout,
    Splice,
    TextStyle,
    after_line,
    colon_after,
    column,
    flow_layout,
    item_head,
    json_orders,
    json_text,
    line_end,
    node_end,
    yaml_scalars,
)
from orchestrator_gui.formats.roomodes_syntax import Mapping, Node, Scalar, Sequence

#: Key order of a new mode where the file shows none (Roo's own writer's order).
DEFAULT_ORDER = ("slug", "name", "roleDefinition", "whenToUse", "description", "customInstructions", "groups",
                 "source")


def order_fields(fields: dict[str, Any], reference: list[str]) -> list[tuple[str, Any]]:
    """``fields`` in the key order of ``reference`` (a mode of the file); keys it lacks follow their
    predecessor in :data:`DEFAULT_ORDER`."""
    def rank(key: str) -> tuple[float, int]:
        d = DEFAULT_ORDER.index(key) if key in DEFAULT_ORDER else len(DEFAULT_ORDER)
        if key in reference:
            return float(reference.index(key)), d
        before = [reference.index(k) for k in DEFAULT_ORDER[:d] if k in reference]
        return (max(before) + 0.5 if before else -0.5), d

    return sorted(fields.items(), key=lambda kv: rank(kv[0]))


# -- remove -------------------------------------------------------------------------------------------


def remove_splice(ctx: EditContext, key: Node, seq: Sequence, index: int) -> Splice:
    """The splice that removes item ``index`` of the ``customModes`` list ``seq`` (``key`` is its key)."""
    text, items = ctx.text, seq.items
    if seq.flow:
        if len(items) == 1:
            return seq.start + 1, seq.end - 1, ""
        if index < len(items) - 1:
            return items[index].start, items[index + 1].start, ""
        return items[index - 1].end, items[index].end, ""
    start = item_head(ctx, items[index]).start
    end = after_line(text, node_end(text, items[index]))
    if len(items) == 1:
        return colon_after(ctx, key, seq) + 1, line_end(text, end - 1) if end > start else end, " []"
    if index < len(items) - 1:
        following = item_head(ctx, items[index + 1]).start
        while end < following and not text[end:after_line(text, end)].strip():
            end = after_line(text, end)  # the blank lines after it go too: those before it now separate the rest
    else:
        previous = after_line(text, node_end(text, items[index - 1]))
        if previous <= start and not text[previous:start].strip():
            start = previous
        if end == len(text) and not text.endswith("\n") and start > 0:
            start = line_end(text, start - 1)  # the file keeps ending without a line break
    return start, end, ""


# -- add ------------------------------------------------------------------------------------------------


def add_candidates(ctx: EditContext, root: Mapping, key: Node, seq: Sequence, modes: list[Mapping],
                   fields: dict[str, Any]) -> list[list[Splice]]:
    """Candidate edits appending a mode with ``fields`` (text values and a ``groups`` list) to ``seq``.

    Parameters
    ----------
    ctx : EditContext
    root : Mapping
        The document's top-level mapping.
    key : Node
        The ``customModes`` key.
    seq : Sequence
        The ``customModes`` list.
    modes : list of Mapping
        The file's mode mappings (the last one is the style reference).
    fields : dict
        The new mode's keys and values.
    """
    reference = modes[-1] if modes else None
    ref_keys = [k.value for k, _ in reference.items if isinstance(k, Scalar)] if reference else []
    ordered = order_fields(fields, [k for k in ref_keys if isinstance(k, str)])
    if seq.flow and (seq.items or ctx.format == "json" or root.flow):
        return _flow_add(ctx, root, key, seq, reference, ordered)
    return _block_add(ctx, key, seq, modes, ordered)


def _groups_offset(ctx: EditContext, modes: list[Mapping], fallback: int) -> tuple[int, bool]:
    """How far a mode's block ``groups`` items are indented past the ``groups`` key, and whether the
    file writes ``groups`` as flow lists instead."""
    flow = False
    for mode in reversed(modes):
        for k, v in mode.items:
            if not (isinstance(k, Scalar) and k.value == "groups" and isinstance(v, Sequence) and v.items):
                continue
            if v.flow:
                flow = True
                continue
            head = item_head(ctx, v.items[0])
            if "\n" not in head.prefix:
                dash = len(head.prefix) - len(head.prefix.lstrip(" "))
                return dash - column(ctx.text, k.start), False
    return fallback, flow


def _block_add(ctx: EditContext, key: Node, seq: Sequence, modes: list[Mapping],
               fields: list[tuple[str, Any]]) -> list[list[Splice]]:
    text, nl = ctx.text, ctx.file_newline
    style = TextStyle.of(ctx, modes)
    key_col = column(text, key.start)
    if seq.items:
        head = item_head(ctx, seq.items[-1])
        prefix, col = head.prefix, head.key_column
        dash_col = len(prefix) - len(prefix.lstrip(" "))
    else:
        dash_col = key_col + 2
        prefix, col = " " * dash_col + "- ", dash_col + 2
    offset, flow_groups_style = _groups_offset(ctx, modes, dash_col - key_col)
    candidates: list[list[Splice]] = []
    for pick in (0, -1):  # the file's style for every value; then double quotes, which write anything
        lines: list[str] = []
        for i, (k, v) in enumerate(fields):
            lead = prefix if i == 0 else " " * col
            if k == "groups":
                if flow_groups_style or not v:
                    lines.append(lead + "groups: " + flow_groups(ctx, v, None, True, quoted=False))
                else:
                    lines.append(lead + "groups:")
                    dash = " " * (col + offset) + "- "
                    lines.extend(ln for e in v for ln in block_entry_lines(ctx, style, e, dash, nl))
                continue
            options = yaml_scalars(ctx, style, v, column=col + len(k) + 2, indent=" " * (col + 2), newline=nl)
            lines.append(lead + k + ": " + options[pick])
        body = nl.join(lines)
        if not seq.items:
            at = colon_after(ctx, key, seq) + 1
            candidates.append([(at, seq.end, nl + body)])
            continue
        gap = ""
        if len(seq.items) >= 2:
            between = text[after_line(text, node_end(text, seq.items[-2])):item_head(ctx, seq.items[-1]).start]
            gap = between if between and not between.strip() else ""
        at = after_line(text, node_end(text, seq.items[-1]))
        if at == len(text) and not text.endswith("\n"):
            candidates.append([(at, at, nl + gap + body)])
        else:
            candidates.append([(at, at, gap + body + nl)])
    return candidates


def _default_layout(text: str, root: Mapping, key: Node, seq: Sequence) -> tuple[FlowLayout, str, str]:
    """Object layout, and the gaps after ``[`` and before ``]``, for a first mode in a flow list."""
    if "\n" not in text[root.start:seq.start]:
        return FlowLayout("", ", ", ": ", ""), "", ""
    key_col = column(text, key.start)
    unit = " " * (key_col or 2)
    item = " " * key_col + unit
    return FlowLayout("\n" + item + unit, ",\n" + item + unit, ": ", "\n" + item), "\n" + item, "\n" + " " * key_col


def _flow_add(ctx: EditContext, root: Mapping, key: Node, seq: Sequence, reference: Mapping | None,
              fields: list[tuple[str, Any]]) -> list[list[Splice]]:
    text = ctx.text
    layout = flow_layout(text, reference) if reference is not None and reference.flow else None
    default, opened, closed = _default_layout(text, root, key, seq)
    layout = layout or default
    groups_layout = None
    quoted_keys = ctx.format == "json"
    if reference is not None and reference.flow:
        for k, v in reference.items:
            quoted_keys = quoted_keys or (isinstance(k, Scalar) and k.style != "plain")
            if isinstance(k, Scalar) and k.value == "groups" and isinstance(v, Sequence) and v.flow:
                groups_layout = flow_layout(text, v)
    candidates: list[list[Splice]] = []
    for escape in json_orders(ctx):
        parts = []
        for k, v in fields:
            name = json_text(ctx, k, escape) if quoted_keys else k
            value = flow_groups(ctx, v, groups_layout, escape) if k == "groups" else json_text(ctx, v, escape)
            parts.append(name + layout.colon + value)
        entry = "{" + layout.open + layout.sep.join(parts) + layout.close + "}"
        if not seq.items:
            candidates.append([(seq.start + 1, seq.end - 1, opened + entry + closed)])
            continue
        seq_layout = flow_layout(text, seq)
        sep = seq_layout.sep if seq_layout is not None else ", "
        at = seq.items[-1].end
        candidates.append([(at, at, sep + entry)])
    return candidates


__all__ = ["DEFAULT_ORDER", "add_candidates", "order_fields", "remove_splice"]
