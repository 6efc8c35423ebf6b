"""Exceptions raised by the thought-graph model."""

from __future__ import annotations


class GraphError(Exception):
    """Base class of thought-graph errors."""


class NodeNotFound(GraphError, KeyError):
    """No node has the given id."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0]) if self.args else "node not found"


class EdgeNotFound(GraphError, KeyError):
    """No edge has the given ``(src, dst, type)``."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "edge not found"


class DuplicateError(GraphError, ValueError):
    """A node id or an edge ``(src, dst, type)`` exists already."""


class StaleEditError(GraphError, ValueError):
    """An edit's recorded "before" state does not match the graph, so it cannot be applied exactly."""


class RollbackError(GraphError, RuntimeError):
    """Undoing a failed transaction failed too: the graph may be inconsistent (a bug)."""
