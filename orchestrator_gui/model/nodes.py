"""Value types of the thought graph: node and edge kinds, layers, shells, flags, and the pydantic models.

Nodes and edges are frozen pydantic models.  The graph hands them out for
reading; every change goes through a transaction, which replaces the model.
(The ``metadata`` dict inside a node is not deep-frozen: treat it as read-only.)

Each enum's member order is fixed: the position of a member is the integer code
stored in the numpy mirrors (``kind_index``, ``layer_index``, ``status_index``
and the edge ``type`` array), so new members may only be appended.
"""

from __future__ import annotations

import enum
import json
import math
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from orchestrator_gui.model.coords import check_spherical


class NodeKind(enum.StrEnum):
    """What a node stands for."""

    GOAL = "goal"
    PLAN = "plan"
    TASK = "task"
    SCHEDULE = "schedule"
    TODO = "todo"
    MEMORY = "memory"
    RUN = "run"
    MODE = "mode"
    THOUGHT = "thought"
    QUESTION = "question"
    SUMMARY = "summary"


class Layer(enum.StrEnum):
    """The shell a node lives on: goals inside, navigation in the middle, execution outside."""

    GOAL = "goal"
    NAVIGATION = "navigation"
    EXECUTION = "execution"


class NodeStatus(enum.StrEnum):
    """Life-cycle state of a node (a checked TODO item is ``done``, an unchecked one ``open``)."""

    OPEN = "open"
    ACTIVE = "active"
    BLOCKED = "blocked"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    ARCHIVED = "archived"


class EdgeType(enum.StrEnum):
    """Typed, directed relations, read ``src <type> dst``.

    ``parent`` points from the parent to the child.  ``serves`` points from
    work (a plan, an item, a schedule) to the goal it advances: the goal's
    progress rolls up from it (:mod:`orchestrator_gui.model.planning`).
    ``evidence_for`` (shown as *supports*) and ``contradicts`` point from a
    piece of evidence to what it speaks for or against
    (:mod:`orchestrator_gui.model.epistemic`).
    """

    PARENT = "parent"
    DEPENDS_ON = "depends_on"
    DERIVED_FROM = "derived_from"
    MENTIONS = "mentions"
    SIMILAR = "similar"
    SCHEDULED_BY = "scheduled_by"
    RAN_AS = "ran_as"
    EVIDENCE_FOR = "evidence_for"
    SERVES = "serves"
    CONTRADICTS = "contradicts"


class NodeFlag(enum.IntFlag):
    """Bits of the per-node ``flags`` mirror (view and engine state, not node content)."""

    NONE = 0
    SELECTED = 1
    SUPPRESSED = 2
    ACTIVE = 4
    ESCALATED = 8
    PINNED = 16
    HIDDEN = 32
    HIGHLIGHTED = 64
    NEXT = 128  # the TODO item ``next`` ranks first (the Next panel marks it)


KINDS: tuple[NodeKind, ...] = tuple(NodeKind)
LAYERS: tuple[Layer, ...] = tuple(Layer)
STATUSES: tuple[NodeStatus, ...] = tuple(NodeStatus)
EDGE_TYPES: tuple[EdgeType, ...] = tuple(EdgeType)
KIND_INDEX: dict[str, int] = {k.value: i for i, k in enumerate(KINDS)}
LAYER_INDEX: dict[str, int] = {k.value: i for i, k in enumerate(LAYERS)}
STATUS_INDEX: dict[str, int] = {k.value: i for i, k in enumerate(STATUSES)}
EDGE_TYPE_INDEX: dict[str, int] = {k.value: i for i, k in enumerate(EDGE_TYPES)}

#: Shell radius of each layer; index ``i`` belongs to ``LAYERS[i]``.
SHELL_RADII: dict[Layer, float] = {Layer.GOAL: 1.0, Layer.NAVIGATION: 2.0, Layer.EXECUTION: 3.0}

#: The layer a node of each kind gets when none is given.
DEFAULT_LAYER: dict[NodeKind, Layer] = {
    NodeKind.GOAL: Layer.GOAL,
    NodeKind.SCHEDULE: Layer.GOAL,
    NodeKind.MODE: Layer.GOAL,
    NodeKind.PLAN: Layer.NAVIGATION,
    NodeKind.QUESTION: Layer.NAVIGATION,
    NodeKind.SUMMARY: Layer.NAVIGATION,
    NodeKind.MEMORY: Layer.NAVIGATION,
    NodeKind.THOUGHT: Layer.NAVIGATION,
    NodeKind.TASK: Layer.EXECUTION,
    NodeKind.TODO: Layer.EXECUTION,
    NodeKind.RUN: Layer.EXECUTION,
}


def shell_radius(layer: Layer | str) -> float:
    """Radius of the shell of ``layer``."""
    return SHELL_RADII[Layer(layer)]


def check_json(value: dict[str, Any], what: str) -> dict[str, Any]:
    """Reject values that would not survive a JSON round trip unchanged."""
    if value:
        try:
            text = json.dumps(value, allow_nan=False, sort_keys=True)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{what} must be JSON-serialisable: {exc}") from exc
        if json.loads(text) != value:
            raise ValueError(f"{what} does not survive a JSON round trip (use str keys, lists not tuples)")
    return value


def check_json_parsed(value: dict[str, Any], what: str) -> dict[str, Any]:
    """:func:`check_json` for a value that was itself parsed from JSON.

    Such a value holds only str, int, float, bool, None, lists and str-keyed
    dicts, so the one thing that breaks its round trip is a non-finite float
    (the parser accepts ``NaN``, ``Infinity`` and ``1e400``).  Walking the value
    for those is several times cheaper than :func:`check_json`'s dump and
    reload, which doubled the time to load a 300k-node snapshot.
    """
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        values = item.values() if isinstance(item, dict) else item
        for v in values:
            kind = type(v)
            if kind is str or kind is int or kind is bool or v is None:
                continue  # the common case: metadata is mostly strings
            if kind is float:
                if not math.isfinite(v):
                    raise ValueError(
                        f"{what} must be JSON-serialisable: Out of range float values are not JSON compliant"
                    )
            else:  # a list or a dict: the only containers JSON has
                stack.append(v)
    return value


class Source(BaseModel):
    """Where a file-backed node came from, so the UI can jump to it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    file: str = Field(min_length=1, description="Workspace-relative path of the file.")
    key: str = Field(min_length=1, description="Stable key of the item inside the file.")
    line: int | None = Field(default=None, ge=1, description="1-based line, if known.")


class ContentVersion(BaseModel):
    """One earlier version of a node's title and content."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    time: float = Field(description="When this version was replaced (Unix seconds).")
    title: str
    content: str
    actor: str = "user"


class Node(BaseModel):
    """A thought-graph node.

    Times are Unix seconds (float, UTC).  ``theta``/``phi``/``r`` follow the
    convention of :mod:`orchestrator_gui.model.coords` and must be canonical.
    When ``layer`` is omitted it defaults from ``kind`` (:data:`DEFAULT_LAYER`);
    when ``r`` is omitted it is the layer's shell radius.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    # identity
    id: str = Field(min_length=1)
    kind: NodeKind = NodeKind.THOUGHT
    title: str = ""
    content: str = ""
    metadata: dict[str, Any] = Field(default_factory=dict)
    tags: tuple[str, ...] = ()
    # placement: the defaults of layer and r follow the kind and the layer. Default factories that
    # read the fields validated before them, not a "before" model validator: such a validator makes
    # pydantic build a Python dict of every node it validates from JSON (a third of loading a graph).
    layer: Layer = Field(default_factory=lambda data: DEFAULT_LAYER.get(data.get("kind"), Layer.NAVIGATION))
    theta: float = 0.0
    phi: float = 0.0
    r: float = Field(default_factory=lambda data: SHELL_RADII.get(data.get("layer"), 2.0))
    # timing
    created: float = 0.0
    updated: float = 0.0
    access_count: int = Field(default=0, ge=0)
    last_activated: float | None = None
    # state
    score: float = 0.0
    confidence: float = 1.0
    status: NodeStatus = NodeStatus.OPEN
    # provenance
    source: Source | None = None
    history: tuple[ContentVersion, ...] = ()

    @field_validator("metadata")
    @classmethod
    def _metadata_json(cls, v: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        return check_json_parsed(v, "metadata") if info.mode == "json" else check_json(v, "metadata")

    @model_validator(mode="after")
    def _canonical_position(self) -> Node:
        check_spherical(self.theta, self.phi, self.r)
        return self

    @property
    def spherical(self) -> tuple[float, float, float]:
        """``(theta, phi, r)``."""
        return (self.theta, self.phi, self.r)


class Edge(BaseModel):
    """A typed, weighted, directed edge.  ``(src, dst, type)`` identifies it.

    Two edges of different types may join the same pair; a second edge of the
    same type between the same pair is refused (change its weight by removing
    and re-adding it, which :func:`~orchestrator_gui.model.operations.link` does).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    src: str = Field(min_length=1)
    dst: str = Field(min_length=1)
    type: EdgeType
    weight: float = 1.0
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("metadata")
    @classmethod
    def _metadata_json(cls, v: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        return check_json_parsed(v, "metadata") if info.mode == "json" else check_json(v, "metadata")

    @model_validator(mode="after")
    def _no_self_loop(self) -> Edge:
        if self.src == self.dst:
            raise ValueError(f"self-loop on {self.src!r} is not allowed")
        return self

    @property
    def key(self) -> tuple[str, str, str]:
        """``(src, dst, type)``: the identity of the edge."""
        return (self.src, self.dst, self.type.value)


class NodeState(BaseModel):
    """The dynamic per-node values that live only in the numpy mirrors."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    activation: float = 0.0
    attention: float = 0.0
    flags: int = Field(default=0, ge=0, lt=2**32)

    def is_default(self) -> bool:
        """True when all values are the defaults of a fresh node."""
        return self.activation == 0.0 and self.attention == 0.0 and self.flags == 0


def finite(value: float, what: str) -> float:
    """Return ``value`` as float, or raise ``ValueError`` if it is not finite."""
    f = float(value)
    if not math.isfinite(f):
        raise ValueError(f"{what} must be finite, got {value!r}")
    return f
