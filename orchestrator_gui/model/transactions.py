"""Transactions: lists of primitive edits, each with an exact inverse, plus provenance and undo/redo.

Primitive edits
---------------
``AddNode``, ``RemoveNode``, ``UpdateNode``, ``AddEdge``, ``RemoveEdge`` and
``MoveNode``.  Each is a frozen pydantic model with an ``op`` tag, so a
transaction serialises to a plain JSON-able dict (:meth:`Transaction.to_dict`)
and back.

An edit may be given *unresolved* (for example ``RemoveNode(node_id="a")``);
applying it returns the *resolved* edit, which records everything needed to
undo it exactly: the removed node, its dynamic state, its incident edges in
removal order and the rows everything occupied.  The transaction the graph
commits holds resolved edits only, so ``tx.inverse()`` always exists and
restores the graph -- rows included -- to the identical state.

``UpdateNode`` and ``MoveNode`` carry their "before" values; the graph refuses
(:class:`~orchestrator_gui.model.errors.StaleEditError`) to apply them if the
graph does not hold exactly those values, because the inverse would then not
be exact.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator

from orchestrator_gui.model.nodes import Edge, EdgeType, Node, NodeState

_FROZEN = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

#: Node fields an ``UpdateNode`` may change (positions change through ``MoveNode``).
UPDATABLE_FIELDS = frozenset(Node.model_fields) - {"id", "theta", "phi", "r"}

Position = tuple[float, float, float]


class EdgeRecord(BaseModel):
    """An edge and the row it occupied (when removed) or should occupy (when added)."""

    model_config = _FROZEN
    edge: Edge
    row: int = Field(ge=0)


class AddNode(BaseModel):
    """Add ``node``, then ``edges`` in order (the latter only when undoing a removal)."""

    model_config = _FROZEN
    op: Literal["add_node"] = "add_node"
    node: Node
    row: int | None = Field(default=None, ge=0, description="Row to insert at; None appends.")
    state: NodeState = NodeState()
    edges: tuple[EdgeRecord, ...] = ()

    def inverse(self) -> RemoveNode:
        """The removal that undoes this addition (the edit must be resolved)."""
        _need(self.row is not None, self)
        return RemoveNode(
            node_id=self.node.id, node=self.node, row=self.row, state=self.state, edges=tuple(reversed(self.edges))
        )


class RemoveNode(BaseModel):
    """Remove a node with all its incident edges.

    Resolved, it records the node, its state and row, and the incident edges in
    the order they were removed with the rows they had.
    """

    model_config = _FROZEN
    op: Literal["remove_node"] = "remove_node"
    node_id: str
    node: Node | None = None
    row: int | None = Field(default=None, ge=0)
    state: NodeState | None = None
    edges: tuple[EdgeRecord, ...] | None = None

    def inverse(self) -> AddNode:
        """The addition that undoes this removal (the edit must be resolved)."""
        resolved = self.node is not None and self.row is not None and self.state is not None
        _need(resolved and self.edges is not None, self)
        return AddNode(node=self.node, row=self.row, state=self.state, edges=tuple(reversed(self.edges)))


class UpdateNode(BaseModel):
    """Set one field of a node from ``old`` to ``new`` (values in their JSON form)."""

    model_config = _FROZEN
    op: Literal["update_node"] = "update_node"
    node_id: str
    field: str
    old: Any
    new: Any

    @field_validator("field")
    @classmethod
    def _updatable(cls, v: str) -> str:
        if v not in UPDATABLE_FIELDS:
            raise ValueError(f"field {v!r} cannot be updated (allowed: {', '.join(sorted(UPDATABLE_FIELDS))})")
        return v

    def inverse(self) -> UpdateNode:
        """Swap ``old`` and ``new``."""
        return UpdateNode(node_id=self.node_id, field=self.field, old=self.new, new=self.old)


class AddEdge(BaseModel):
    """Add an edge, optionally at a given edge row."""

    model_config = _FROZEN
    op: Literal["add_edge"] = "add_edge"
    edge: Edge
    row: int | None = Field(default=None, ge=0)

    def inverse(self) -> RemoveEdge:
        """The removal that undoes this addition (the edit must be resolved)."""
        _need(self.row is not None, self)
        e = self.edge
        return RemoveEdge(src=e.src, dst=e.dst, type=e.type, edge=e, row=self.row)


class RemoveEdge(BaseModel):
    """Remove the edge ``(src, dst, type)``; resolved, it records the edge and its row."""

    model_config = _FROZEN
    op: Literal["remove_edge"] = "remove_edge"
    src: str
    dst: str
    type: EdgeType
    edge: Edge | None = None
    row: int | None = Field(default=None, ge=0)

    def inverse(self) -> AddEdge:
        """The addition that undoes this removal (the edit must be resolved)."""
        _need(self.edge is not None and self.row is not None, self)
        return AddEdge(edge=self.edge, row=self.row)


class MoveNode(BaseModel):
    """Move one or more nodes to new ``(theta, phi, r)`` positions (one edit for a whole relayout)."""

    model_config = _FROZEN
    op: Literal["move_node"] = "move_node"
    node_ids: tuple[str, ...]
    new: tuple[Position, ...]
    old: tuple[Position, ...] | None = None

    def inverse(self) -> MoveNode:
        """Move back (the edit must be resolved)."""
        _need(self.old is not None, self)
        return MoveNode(node_ids=self.node_ids, new=self.old, old=self.new)


Edit = Annotated[AddNode | RemoveNode | UpdateNode | AddEdge | RemoveEdge | MoveNode, Field(discriminator="op")]
_EDITS = TypeAdapter(tuple[Edit, ...])


def _need(ok: bool, edit: BaseModel) -> None:
    if not ok:
        raise ValueError(f"{type(edit).__name__} is not resolved; only applied edits have an exact inverse")


def is_resolved(edit: BaseModel) -> bool:
    """True when ``edit`` records everything its inverse needs."""
    try:
        edit.inverse()  # type: ignore[attr-defined]
    except ValueError:
        return False
    return True


def _json_params(params: dict[str, Any]) -> dict[str, Any]:
    try:
        return json.loads(json.dumps(params, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"transaction params must be JSON-serialisable: {exc}") from exc


class Provenance(BaseModel):
    """Who or what produced a transaction, how and when."""

    model_config = _FROZEN
    operation: str = Field(min_length=1, description="Operation name, e.g. 'edit' or 'undo'.")
    params: dict[str, Any] = Field(default_factory=dict, description="The operation's parameters (JSON).")
    actor: str = Field(default="user", description="'user', an engine component, an agent mode...")
    time: float = Field(description="Unix seconds when the transaction was created.")

    @field_validator("params")
    @classmethod
    def _params_json(cls, v: dict[str, Any]) -> dict[str, Any]:
        return _json_params(v)


class Transaction(BaseModel):
    """An atomic, reversible change: primitive edits plus provenance."""

    model_config = _FROZEN
    id: str = Field(min_length=1)
    description: str = ""
    provenance: Provenance
    edits: tuple[Edit, ...]

    @classmethod
    def create(
        cls,
        operation: str,
        edits: list | tuple,
        *,
        params: dict[str, Any] | None = None,
        description: str | None = None,
        actor: str = "user",
        now: float | None = None,
        tx_id: str | None = None,
    ) -> Transaction:
        """Build a transaction with a fresh id and the current time."""
        return cls(
            id=tx_id or uuid.uuid4().hex,
            description=operation if description is None else description,
            provenance=Provenance(
                operation=operation, params=params or {}, actor=actor, time=time.time() if now is None else now
            ),
            edits=tuple(edits),
        )

    def is_resolved(self) -> bool:
        """True when every edit records what its inverse needs (committed transactions do)."""
        return all(is_resolved(e) for e in self.edits)

    def inverse(self, *, operation: str = "undo", actor: str | None = None, now: float | None = None) -> Transaction:
        """A transaction that undoes this one exactly: inverted edits in reverse order."""
        return Transaction.create(
            operation,
            [e.inverse() for e in reversed(self.edits)],
            params={"of": self.id},
            description=f"{operation.capitalize()} {self.description}",
            actor=self.provenance.actor if actor is None else actor,
            now=now,
        )

    def replay(self, *, operation: str = "redo", actor: str | None = None, now: float | None = None) -> Transaction:
        """The same edits under a new id (used by redo)."""
        return Transaction.create(
            operation,
            self.edits,
            params={"of": self.id},
            description=self.description,
            actor=self.provenance.actor if actor is None else actor,
            now=now,
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (see :meth:`from_dict`)."""
        return self.model_dump(mode="json")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Transaction:
        """Inverse of :meth:`to_dict`; raises ``pydantic.ValidationError`` on malformed input."""
        return cls.model_validate(data)


def edits_from_list(data: list) -> tuple:
    """Validate a list of edit dicts (each with its ``op`` tag)."""
    return _EDITS.validate_python(data)


class UndoStack:
    """Undo and redo stacks of committed transactions, with descriptions.

    Undoing applies ``tx.inverse()`` as a new transaction (operation ``undo``);
    redoing applies ``tx.replay()`` (operation ``redo``).  Both go through
    ``graph.apply`` like any change, so a store journals them like any other
    transaction and they are all-or-nothing too.
    """

    def __init__(self, limit: int = 1000) -> None:
        self.limit = limit
        self.undo_items: list[Transaction] = []
        self.redo_items: list[Transaction] = []

    @property
    def can_undo(self) -> bool:
        """True when there is something to undo."""
        return bool(self.undo_items)

    @property
    def can_redo(self) -> bool:
        """True when there is something to redo."""
        return bool(self.redo_items)

    @property
    def undo_description(self) -> str | None:
        """Description of what :meth:`undo` would undo."""
        return self.undo_items[-1].description if self.undo_items else None

    @property
    def redo_description(self) -> str | None:
        """Description of what :meth:`redo` would redo."""
        return self.redo_items[-1].description if self.redo_items else None

    def push(self, tx: Transaction) -> None:
        """Record a newly committed transaction; this clears the redo stack."""
        self.undo_items.append(tx)
        del self.undo_items[: -self.limit]
        self.redo_items.clear()

    def clear(self) -> None:
        """Forget all history."""
        self.undo_items.clear()
        self.redo_items.clear()

    def undo(self, graph: Any, *, actor: str | None = None) -> Transaction:
        """Undo the latest transaction on ``graph``; return the committed undo transaction."""
        if not self.undo_items:
            raise IndexError("nothing to undo")
        tx = self.undo_items[-1]
        done = graph.apply(tx.inverse(actor=actor), record=False)
        self.undo_items.pop()
        self.redo_items.append(tx)
        return done

    def redo(self, graph: Any, *, actor: str | None = None) -> Transaction:
        """Redo the latest undone transaction; return the committed redo transaction."""
        if not self.redo_items:
            raise IndexError("nothing to redo")
        tx = self.redo_items[-1]
        done = graph.apply(tx.replay(actor=actor), record=False)
        self.redo_items.pop()
        self.undo_items.append(done)
        return done
