"""Colour themes of the 3D view (pure data, no GL).

Colours are RGBA floats in ``[0, 1]``.  Kind colours are indexed like
:data:`orchestrator_gui.model.nodes.KINDS`, edge colours like
:data:`orchestrator_gui.model.nodes.EDGE_TYPES`, so the arrays code can look
them up with one fancy-index instead of a Python loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from orchestrator_gui.model.nodes import EDGE_TYPES, KINDS


def _hex(code: str, alpha: float = 1.0) -> tuple[float, float, float, float]:
    code = code.lstrip("#")
    r, g, b = (int(code[i : i + 2], 16) / 255.0 for i in (0, 2, 4))
    return (r, g, b, alpha)


@dataclass(frozen=True)
class Theme:
    """Everything the view needs to colour a frame.

    Attributes
    ----------
    name : str
        ``"dark"`` or ``"light"``.
    background : tuple
        Canvas clear colour.
    kinds : dict
        Node kind name -> RGBA.
    edges : dict
        Edge type name -> RGBA (alpha is the maximum; weight scales it down).
    shell : tuple
        Colour of the guide spheres (alpha already faint).
    selected, hovered, running, escalated, next : tuple
        Outline colours (``running``: a transform is working on the node; ``escalated``: paused
        after repeated failures; ``next``: the TODO item ranked first to work on).
    label, label_selected : tuple
        Text colours.
    """

    name: str
    background: tuple[float, float, float, float]
    kinds: dict[str, tuple[float, float, float, float]]
    edges: dict[str, tuple[float, float, float, float]]
    shell: tuple[float, float, float, float]
    selected: tuple[float, float, float, float]
    hovered: tuple[float, float, float, float]
    label: tuple[float, float, float, float]
    label_selected: tuple[float, float, float, float]
    running: tuple[float, float, float, float] = (0.3, 0.79, 0.94, 1.0)
    #: Outline of an escalated node (a schedule paused after repeated failures): it needs a person.
    escalated: tuple[float, float, float, float] = (0.96, 0.45, 0.2, 1.0)
    #: Outline of the TODO item to work on next (``next``'s first): green, "go".
    next: tuple[float, float, float, float] = (0.45, 0.9, 0.45, 1.0)
    #: Colour of the shells' names (Goals, Plans, Execution).
    shell_label: tuple[float, float, float, float] = (0.55, 0.62, 0.72, 0.9)
    #: How far activation pushes a node colour towards ``highlight`` (0..1).
    activation_gain: float = 0.65
    highlight: tuple[float, float, float, float] = (1.0, 1.0, 1.0, 1.0)
    _kind_table: np.ndarray = field(init=False, repr=False, compare=False)
    _edge_table: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Lookup tables in enum order; frozen dataclass, hence object.__setattr__.
        object.__setattr__(self, "_kind_table", np.array([self.kinds[k.value] for k in KINDS], dtype=np.float32))
        object.__setattr__(self, "_edge_table", np.array([self.edges[t.value] for t in EDGE_TYPES], dtype=np.float32))

    @property
    def kind_table(self) -> np.ndarray:
        """(len(KINDS), 4) float32 RGBA per kind code."""
        return self._kind_table

    @property
    def edge_table(self) -> np.ndarray:
        """(len(EDGE_TYPES), 4) float32 RGBA per edge type code."""
        return self._edge_table


DARK = Theme(
    name="dark",
    background=_hex("#10141b"),
    kinds={
        "goal": _hex("#ffd166"),
        "plan": _hex("#4cc9f0"),
        "task": _hex("#f8961e"),
        "schedule": _hex("#c77dff"),
        "todo": _hex("#7bd88f"),
        "memory": _hex("#5e8bff"),
        "run": _hex("#ef476f"),
        "mode": _hex("#e0aaff"),
        "thought": _hex("#d8dee9"),
        "question": _hex("#ff9f9f"),
        "summary": _hex("#2ec4b6"),
    },
    edges={
        "parent": _hex("#8fa6c1", 0.5),
        "depends_on": _hex("#f8961e", 0.5),
        "derived_from": _hex("#2ec4b6", 0.45),
        "mentions": _hex("#6f86a8", 0.2),
        "similar": _hex("#6f86a8", 0.15),
        "scheduled_by": _hex("#c77dff", 0.35),
        "ran_as": _hex("#ef476f", 0.3),
        "evidence_for": _hex("#7bd88f", 0.4),
        "serves": _hex("#f2c94c", 0.4),
        "contradicts": _hex("#ff6b6b", 0.45),
    },
    shell=_hex("#6b7d99", 0.22),
    shell_label=_hex("#8a9bb5", 0.95),
    selected=_hex("#ffffff"),
    hovered=_hex("#ffe66d"),
    label=_hex("#c9d1d9", 0.95),
    label_selected=_hex("#ffffff"),
    running=_hex("#4cc9f0"),
    highlight=_hex("#ffffff"),
)

LIGHT = Theme(
    name="light",
    background=_hex("#f4f5f7"),
    kinds={
        "goal": _hex("#c98a00"),
        "plan": _hex("#0e7fa8"),
        "task": _hex("#d9640a"),
        "schedule": _hex("#8a3fd1"),
        "todo": _hex("#2f9e44"),
        "memory": _hex("#3461d9"),
        "run": _hex("#d6335b"),
        "mode": _hex("#a35fd6"),
        "thought": _hex("#5c6773"),
        "question": _hex("#e05555"),
        "summary": _hex("#12968a"),
    },
    edges={
        "parent": _hex("#4a5a6e", 0.5),
        "depends_on": _hex("#d9640a", 0.5),
        "derived_from": _hex("#12968a", 0.45),
        "mentions": _hex("#6b778a", 0.28),
        "similar": _hex("#6b778a", 0.2),
        "scheduled_by": _hex("#8a3fd1", 0.35),
        "ran_as": _hex("#d6335b", 0.3),
        "evidence_for": _hex("#2f9e44", 0.4),
        "serves": _hex("#b8860b", 0.4),
        "contradicts": _hex("#c92a2a", 0.45),
    },
    shell=_hex("#5a6678", 0.24),
    shell_label=_hex("#4a5668", 0.95),
    selected=_hex("#111111"),
    hovered=_hex("#e67700"),
    label=_hex("#2b3340", 0.95),
    label_selected=_hex("#000000"),
    running=_hex("#0077b6"),
    activation_gain=0.55,
    highlight=_hex("#ffeb3b"),
)

THEMES: dict[str, Theme] = {"dark": DARK, "light": LIGHT}


def get_theme(theme: Theme | str) -> Theme:
    """A :class:`Theme` from itself or its name; raises ``ValueError`` for an unknown name."""
    if isinstance(theme, Theme):
        return theme
    try:
        return THEMES[theme]
    except KeyError:
        raise ValueError(f"unknown theme {theme!r} (expected one of {sorted(THEMES)})") from None
