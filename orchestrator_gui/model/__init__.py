"""Pure data model: the spherical thought graph (no Qt, no vispy).

Modules
-------
coords        spherical coordinate convention and vectorised conversions
nodes         Node/Edge models, kinds, layers, shell radii, flags
graph         ThoughtGraph: nodes, edges, numpy mirrors, apply/undo/redo
transactions  primitive edits, Transaction, provenance, UndoStack
operations    edit, move, link, unlink, delete, add_thought
queries       neighbourhood, BFS/DFS, shortest path, subgraph, search, filters
layout        deterministic placement on the shells, relayout
serialize     JSON round trip, GraphML/GEXF export
events        psygnal signals and the one-burst-per-transaction batching
"""

from orchestrator_gui.model.errors import (
    DuplicateError,
    EdgeNotFound,
    GraphError,
    NodeNotFound,
    RollbackError,
    StaleEditError,
)
from orchestrator_gui.model.events import ChangeSummary, GraphEvents
from orchestrator_gui.model.graph import EdgeArrays, ThoughtGraph
from orchestrator_gui.model.nodes import (
    SHELL_RADII,
    ContentVersion,
    Edge,
    EdgeType,
    Layer,
    Node,
    NodeFlag,
    NodeKind,
    NodeState,
    NodeStatus,
    Source,
)
from orchestrator_gui.model.transactions import (
    AddEdge,
    AddNode,
    MoveNode,
    Provenance,
    RemoveEdge,
    RemoveNode,
    Transaction,
    UndoStack,
    UpdateNode,
)

__all__ = [
    "SHELL_RADII",
    "AddEdge",
    "AddNode",
    "ChangeSummary",
    "ContentVersion",
    "DuplicateError",
    "Edge",
    "EdgeArrays",
    "EdgeNotFound",
    "EdgeType",
    "GraphError",
    "GraphEvents",
    "Layer",
    "MoveNode",
    "Node",
    "NodeFlag",
    "NodeKind",
    "NodeNotFound",
    "NodeState",
    "NodeStatus",
    "Provenance",
    "RemoveEdge",
    "RemoveNode",
    "RollbackError",
    "Source",
    "StaleEditError",
    "ThoughtGraph",
    "Transaction",
    "UndoStack",
    "UpdateNode",
]
