"""Split a schedule's ``taskInstructions`` into sections (Markdown headings, else numbered steps)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_HEADING = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t]*#*[ \t]*$")
_FENCE = re.compile(r"^[ \t]{0,3}(```+|~~~+)")
_STEP = re.compile(r"^(\d+)[.)][ \t]+(\S.*)$")
#: Longest title kept for a step (the rest stays in the content).
STEP_TITLE_CHARS = 120


@dataclass(frozen=True)
class Section:
    """One section of an instruction text.

    Attributes
    ----------
    title : str
        Heading text, or the text of a numbered step (shortened).
    content : str
        The section's own text: the lines after its heading up to the next
        heading of any level (sub-sections are sections of their own), or the
        whole step with its continuation lines.
    parent : int or None
        Index of the enclosing section in the returned list, ``None`` at top level.
    """

    title: str
    content: str
    parent: int | None


def _outside_fences(lines: list[str]) -> list[bool]:
    """For each line, True when it is not inside (or delimiting) a fenced code block."""
    out: list[bool] = []
    fence: str | None = None
    for line in lines:
        m = _FENCE.match(line)
        if fence is None and m:
            fence = m.group(1)[0] * 3
            out.append(False)
        elif fence is not None:
            if m and m.group(1).startswith(fence):
                fence = None
            out.append(False)
        else:
            out.append(True)
    return out


def _body(lines: list[str], start: int, end: int) -> str:
    return "\n".join(lines[start:end]).strip("\n").rstrip()


def _heading_sections(lines: list[str], heads: list[tuple[int, int, str]]) -> list[Section]:
    # A single top-level heading that opens the text is the document title, not a section.
    top = min(level for _, level, _ in heads)
    first_content = next((i for i, line in enumerate(lines) if line.strip()), 0)
    if sum(1 for _, level, _ in heads if level == top) == 1 and heads[0][1] == top and heads[0][0] == first_content:
        heads = heads[1:]
    out: list[Section] = []
    stack: list[tuple[int, int]] = []  # (level, index in out)
    for n, (line_no, level, title) in enumerate(heads):
        end = heads[n + 1][0] if n + 1 < len(heads) else len(lines)
        while stack and stack[-1][0] >= level:
            stack.pop()
        out.append(Section(title=title, content=_body(lines, line_no + 1, end), parent=stack[-1][1] if stack else None))
        stack.append((level, len(out) - 1))
    return out


def _step_sections(lines: list[str], outside: list[bool]) -> list[Section]:
    starts = [(i, m.group(2)) for i, line in enumerate(lines) if outside[i] and (m := _STEP.match(line))]
    out: list[Section] = []
    for n, (i, text) in enumerate(starts):
        end = starts[n + 1][0] if n + 1 < len(starts) else len(lines)
        title = text if len(text) <= STEP_TITLE_CHARS else text[: STEP_TITLE_CHARS - 1].rstrip() + "…"
        out.append(Section(title=title, content=_body(lines, i, end), parent=None))
    return out


def split_sections(text: str) -> list[Section]:
    """Sections of an instruction text, in order.

    Headings (outside fenced code) define the sections, nested by level; a
    lone top-level heading on the first line is taken as the title and
    skipped. Without section headings, top-level numbered steps (``1. …``,
    ``2) …``) are the sections. Text with neither has no sections.
    """
    lines = text.replace("\r\n", "\n").split("\n")
    outside = _outside_fences(lines)
    heads = [
        (i, len(m.group(1)), m.group(2))
        for i, line in enumerate(lines)
        if outside[i] and (m := _HEADING.match(line)) and m.group(2)
    ]
    if heads:
        sections = _heading_sections(lines, heads)
        if sections:
            return sections
    return _step_sections(lines, outside)
