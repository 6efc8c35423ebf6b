"""Structure checks of ``persistent-memory.md`` (docs/formats.md §3.1, §3.4).

Findings only: the checks never change the file.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from orchestrator_gui.problems import Problem

#: Line budget of the origin's ``optimization-memory`` rules (§3.1).
MAX_LINES = 300
#: The three top-level sections, in their required order (§3.1).
REQUIRED_SECTIONS = (
    "Non-Obvious Implementation Patterns",
    "Development & Debug Commands",
    "System Updates & Status",
)


class _Section(Protocol):
    line: int
    title: str


def section_problems(name: str, sections: Sequence[_Section]) -> list[Problem]:
    """Warn about missing, repeated or out-of-order required ``# `` sections.

    Parameters
    ----------
    name : str
        File name for the findings.
    sections : sequence of MemorySection
        The file's top-level sections in file order.

    Returns
    -------
    list of Problem
        Warnings; a title differing only in case is named in the hint, since
        agents repeatedly "corrected" exactly that in the origin's history.
    """
    out: list[Problem] = []
    seen: dict[str, _Section] = {}
    order: list[_Section] = []
    for sec in sections:
        if sec.title not in REQUIRED_SECTIONS:
            continue
        if sec.title in seen:
            out.append(Problem(
                file=name, line=sec.line, severity="warning",
                message=f"section '# {sec.title}' appears again (first at line "
                        f"{seen[sec.title].line}); the file must have it once",
            ))
            continue
        seen[sec.title] = sec
        order.append(sec)
    for title in REQUIRED_SECTIONS:
        if title in seen:
            continue
        near = [s for s in sections if s.title.casefold() == title.casefold()]
        hint = (f"; line {near[0].line} has '# {near[0].title}', which differs in case"
                if near else "")
        out.append(Problem(file=name, line=near[0].line if near else None, severity="warning",
                           message=f"required section '# {title}' is missing{hint}"))
    ranks = [REQUIRED_SECTIONS.index(s.title) for s in order]
    for k in range(1, len(order)):
        if ranks[k] < ranks[k - 1]:
            out.append(Problem(
                file=name, line=order[k].line, severity="warning",
                message=f"section '# {order[k].title}' comes after '# {order[k - 1].title}'; "
                        "required order is: " + ", ".join(REQUIRED_SECTIONS),
            ))
            break
    return out
