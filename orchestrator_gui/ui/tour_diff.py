"""The byte diff the guided tour shows after a TODO tick: what changed in the file, as bytes, in its line.

Pure functions (no Qt), so the tour's claim "exactly one byte changes" is
computed from the file's real bytes before and after the write, not
asserted by the tour's text.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

#: Bytes of the changed line shown on each side of the change (the line is cut beyond).
CONTEXT_BYTES = 32
#: Longest run of changed bytes shown (a larger edit is shown cut, with its real size said).
SHOWN_CHANGE_BYTES = 80


@dataclass(frozen=True)
class ByteDiff:
    """The one changed region between two versions of a file.

    Attributes
    ----------
    offset : int
        Byte offset of the first byte that differs.
    line : int
        1-based line of ``offset`` in the old bytes.
    removed, added : bytes
        The old and the new bytes of the changed region (common prefix and suffix left out).
    prefix, suffix : bytes
        Unchanged bytes of the same line before and after the region (at most
        :data:`CONTEXT_BYTES` each; never across a line end).
    changed : int
        Number of byte positions that differ: for a same-length region, the
        positions whose bytes differ; otherwise the longer side's length.
    prefix_cut, suffix_cut : bool
        Whether the line goes on beyond ``prefix`` / ``suffix``.
    """

    offset: int
    line: int
    removed: bytes
    added: bytes
    prefix: bytes
    suffix: bytes
    changed: int
    prefix_cut: bool = False
    suffix_cut: bool = False


def byte_diff(before: bytes, after: bytes) -> ByteDiff | None:
    """The changed region between ``before`` and ``after``; ``None`` when they are equal.

    Parameters
    ----------
    before, after : bytes
        The file's bytes before and after a write.

    Returns
    -------
    ByteDiff or None
    """
    if before == after:
        return None
    limit = min(len(before), len(after))
    start = 0
    while start < limit and before[start] == after[start]:
        start += 1
    tail = 0
    while tail < limit - start and before[-1 - tail] == after[-1 - tail]:
        tail += 1
    removed = before[start:len(before) - tail]
    added = after[start:len(after) - tail]
    if len(removed) == len(added):
        changed = sum(a != b for a, b in zip(removed, added))
    else:
        changed = max(len(removed), len(added))
    line_start = before.rfind(b"\n", 0, start) + 1
    shown_from = max(line_start, start - CONTEXT_BYTES)
    rest = before[start + len(removed):]
    end = rest.find(b"\n")
    line_rest = len(rest) if end < 0 else end
    return ByteDiff(offset=start, line=before.count(b"\n", 0, start) + 1, removed=removed, added=added,
                    prefix=before[shown_from:start], suffix=rest[:min(line_rest, CONTEXT_BYTES)], changed=changed,
                    prefix_cut=shown_from > line_start, suffix_cut=line_rest > CONTEXT_BYTES)


def _text(data: bytes) -> str:
    """Bytes as readable text: UTF-8 where valid, ``\\xNN`` elsewhere; control characters escaped."""
    out = []
    for ch in data.decode("utf-8", errors="backslashreplace"):
        out.append(ch if ch.isprintable() or ch == " " else ch.encode("unicode_escape").decode("ascii"))
    return "".join(out)


def _changed(data: bytes) -> str:
    """The changed bytes, spaces made visible (a ticked box turns a space into ``x``)."""
    cut = data[:SHOWN_CHANGE_BYTES]
    text = _text(cut).replace(" ", "␣")
    return text + ("…" if len(data) > len(cut) else "")


def describe(diff: ByteDiff) -> str:
    """One line: where and how much (``"line 17, byte 512: 1 byte changed (␣ → x)"``)."""
    what = f"{diff.changed} byte{'s' if diff.changed != 1 else ''} changed"
    if diff.changed == 1 and len(diff.removed) == len(diff.added) == 1:
        what += f" ({_changed(diff.removed)} → {_changed(diff.added)})"
    return f"line {diff.line}, byte {diff.offset}: {what}"


def diff_html(diff: ByteDiff, *, removed_color: str = "#c0392b", added_color: str = "#1e8449") -> str:
    """The diff as two rows of monospace rich text (before, after), the changed bytes coloured.

    Parameters
    ----------
    diff : ByteDiff
    removed_color, added_color : str
        Background colours of the old and the new bytes.
    """
    pre = ("…" if diff.prefix_cut else "") + html.escape(_text(diff.prefix))
    suf = html.escape(_text(diff.suffix)) + ("…" if diff.suffix_cut else "")

    def row(label: str, data: bytes, color: str) -> str:
        mark = html.escape(_changed(data)) if data else ""
        return (f"<tr><td style='padding-right:8px'><i>{label}</i></td>"
                f"<td style='font-family:monospace; white-space:pre'>{pre}"
                f"<span style='background:{color}; color:#ffffff'>{mark}</span>{suf}</td></tr>")

    return (f"<table cellspacing='0' style='margin-top:4px; margin-bottom:4px'>"
            f"{row('before:', diff.removed, removed_color)}{row('after:', diff.added, added_color)}</table>")
