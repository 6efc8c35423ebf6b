"""Griffe extension for the API pages: prose after a numpydoc entry list becomes a *Notes* section.

Several docstrings end a ``Parameters`` or ``Attributes`` list with a plain
paragraph (as Python's own docs do). numpydoc has no such paragraph: its
parser reads the paragraph's first line as one more entry, whose "name" is a
sentence, and mkdocstrings then fails on it. This extension, loaded by
``mkdocs.yml`` for ``scripts/build-docs`` only, puts a ``Notes`` header before
such a paragraph, so the text shows as written. The code is not changed.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

#: Sections whose entries are names (``name : type`` or ``a, b : type`` or a bare name).
NAME_SECTIONS = {"parameters", "other parameters", "attributes", "params", "arguments", "args"}
_UNDERLINE = re.compile(r"^\s*-{3,}\s*$")
_ENTRY = re.compile(r"^\*{0,2}[A-Za-z_]\w*(\s*,\s*\*{0,2}[A-Za-z_]\w*)*\s*(:.*)?$")


def add_notes_headers(text: str) -> str:
    """``text`` with ``Notes`` headers before prose paragraphs inside name sections."""
    lines = text.split("\n")
    out: list[str] = []
    section = ""
    for i, line in enumerate(lines):
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if line.strip() and _UNDERLINE.match(nxt):
            section = line.strip().lower()
        elif (section in NAME_SECTIONS and line.strip() and not line[:1].isspace() and out and not out[-1].strip()
              and not _UNDERLINE.match(line) and not _ENTRY.match(line)):
            out += ["Notes", "-----"]
            section = "notes"
        out.append(line)
    return "\n".join(out)


class ProseAfterEntries(griffe.Extension):
    """Apply :func:`add_notes_headers` to every docstring griffe loads."""

    def on_instance(self, *, obj: Any, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = add_notes_headers(obj.docstring.value)
