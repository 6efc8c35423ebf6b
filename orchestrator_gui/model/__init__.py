"""Pure data model: the spherical thought graph (no Qt, no vispy).

Modules
-------
Graph core, lowest first (none imports graph.py at run time, so there is no import circle;
loading also uses layout for default positions):

errors              exceptions of the model
coords              spherical coordinate convention and vectorised conversions
nodes               Node/Edge models, kinds, layers, shell radii, flags
arrays              low-level numpy column stores (NodeStore, EdgeStore), packed edge keys
adjacency           CSR edge incidence per node with an overlay of recent changes
node_table          NodeTable: node models + row/handle index + numpy mirror columns
edge_table          EdgeTable: edge columns + edge metadata + incidence index
events              psygnal signals and the EventBatcher (one burst per transaction)
dynamic             DynamicValues: setters of activation, attention, flags/selection
transactions        primitive edits, Transaction, provenance, UndoStack
mutate              the six primitive edits applied to the node and edge tables
loading             bulk loading: validated columns -> node and edge tables
forms               JSON dict / columnar / networkx forms of a graph, and dict/columns -> tables
graph               ThoughtGraph: composes the above; queries, mirrors, apply/undo/redo

Built on the graph:

bulk                ThoughtGraph-returning bulk builders (graph_from_arrays, build)
serialize           graph from dict/columns, JSON/GraphML/GEXF bytes and files
queries             neighbourhood, BFS/DFS, shortest path, subgraph, search, filters
operations          edit, move, link, unlink, delete, add_thought transactions
identity            stable ids of file-backed nodes and occurrence keys of workspace items
layout              deterministic placement on the shells, relayout, neighbour_ratio (layout quality)
sphere_force        force-directed placement on the shells: edges and sections pull, same-shell nodes repel
shell_placement     spiral placement with a spatial hash for batches of new nodes
text                hashed TF-IDF vectors and cosine similarity (plain numpy)
display             node titles as the user should read them (Markdown markers, emoji fallback)
activation          temporal activation: what the orchestrator is thinking about now
activation_temporal per-row recency, frequency, priority and schedule vectors
attention           personalised PageRank over the graph (sparse matrix)
epistemic           confidence from evidence, unsupported goals, open questions
planning            goal -> navigation -> execution decomposition and progress roll-up
next_work           what next: open TODO items ranked by due schedules, goals, dynamics, with reasons
pruning             pruning, expansion and compression without losing nodes
suppression         idle nodes suppressed after a while; re-activated by a touch, an edit, a due schedule, a run
thinker             thinkers: where transform content comes from
transforms          the Graph-of-Thoughts transforms, one API for every operation
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
