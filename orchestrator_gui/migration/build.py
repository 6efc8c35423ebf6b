"""Build the thought graph from a workspace, and keep it in step with the files afterwards.

:func:`build_graph` makes a fresh graph: every workspace item becomes a node
(see :mod:`.extract`), the derived edges are added (see :mod:`.relate`) and
:class:`~orchestrator_gui.migration.place.ShellPlanner` seeds every position
(children around their parent, linked nodes near their targets) and the
force-directed layout of :mod:`orchestrator_gui.model.sphere_force` settles
them, deterministically: connected nodes and sections end up together. A
relayout of an existing graph stays an explicit user operation.

:func:`update_graph` compares a graph with the files as they are now and
returns one :class:`~orchestrator_gui.model.transactions.Transaction` of
primitive edits that brings the file-backed part of the graph up to date:

* every planned item is matched with the node it continues: by key, and for
  items whose key hashes their text (TODO headings and items, schedule
  sections) by position and neighbours (:mod:`.matching`), so an edited,
  moved or indented item keeps its node and id (its ``source.key`` follows
  the text); nodes no item continues are removed; the other items are added
  (with their natural id, or ``#n`` appended when that id is taken), placed
  near their parent or a node they link to, without moving any existing node;
* nodes whose title, content, status, metadata, tags or source line changed
  get one ``UpdateNode`` per changed field (a title/content change also
  records the previous version in ``history`` and bumps ``updated``);
* derived edges (``metadata["by"] == "migration"``) are added and removed to
  match; edges a user drew are left alone;
* nodes without a workspace ``source`` (user thoughts), every position, and
  layer, score, confidence and access counts are never touched.

Neither function ever writes to the workspace; the transaction is returned,
not applied, so the caller decides (and the undo stack and store see it as
one change).
"""

from __future__ import annotations

import operator
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from orchestrator_gui.formats.todo_model import construct_unchecked
from orchestrator_gui.formats.workspace import Workspace
from orchestrator_gui.migration.continuity import continued_ids
from orchestrator_gui.migration.extract import MIGRATION_FILES, Item, paused_gc, read_workspace
from orchestrator_gui.migration.relate import BY, EdgeKey, derive_edges
from orchestrator_gui.model.bulk import build as bulk_build
from orchestrator_gui.model.bulk import check_spherical_array
from orchestrator_gui.model.coords import to_cartesian, to_spherical
from orchestrator_gui.model.errors import DuplicateError, NodeNotFound
from orchestrator_gui.model.graph import ThoughtGraph
from orchestrator_gui.model.nodes import (
    EDGE_TYPE_INDEX,
    KIND_INDEX,
    LAYER_INDEX,
    SHELL_RADII,
    STATUS_INDEX,
    ContentVersion,
    Edge,
    EdgeType,
    Layer,
    Node,
    NodeKind,
)
from orchestrator_gui.model.pruning import PRUNED_KEY
from orchestrator_gui.model.transactions import AddEdge, AddNode, RemoveEdge, RemoveNode, Transaction, UpdateNode

# The placement and layout modules (.place, model.shell_placement, model.layout) are imported in the
# functions that place nodes, not here: they load scipy.spatial (some 40 MB of memory), and every
# command that imports the application layer imports this module, while only builds and syncs that
# add nodes place any.

#: ``Provenance.actor`` of migration transactions.
ACTOR = "migration"
#: Fields a rebuild keeps equal to the files, in the order their updates are emitted.
#: Metadata keys that other parts of the app write on file-backed nodes and the files know nothing
#: of: what the engine recorded about a run (workspace/run_nodes.py) and prune marks (model/pruning.py).
PRESERVED_METADATA_KEYS = frozenset({"log", "exit_code", "duration_s", "result", "dry_run", PRUNED_KEY})
SYNCED_FIELDS = ("title", "content", "status", "metadata", "tags", "source", "kind")
_CONTENT_FIELDS = frozenset({"title", "content", "status", "metadata", "tags"})
_VERSIONED_FIELDS = frozenset({"title", "content"})
#: A fresh build of more nodes than this gets the linear-time layout of :func:`_bulk_placed` instead of the
#: per-node planner and the force-directed layout (about 4 s for 20 000 nodes on one core, growing faster).
BULK_LAYOUT_NODES = 20_000
#: Order in which new nodes are placed: link targets before the nodes linking to them. Goal headings
#: rank with the other headings (a heading's parent, plan or goal, comes before it in line order).
_PLACE_ORDER = {k: i for i, k in enumerate((NodeKind.MODE, NodeKind.SCHEDULE, NodeKind.PLAN, NodeKind.TODO,
                                             NodeKind.RUN, NodeKind.MEMORY))}
_PLACE_ORDER[NodeKind.GOAL] = _PLACE_ORDER[NodeKind.PLAN]


@dataclass(frozen=True)
class WorkspacePlan:
    """What the files say the graph should hold.

    Attributes
    ----------
    nodes : dict of str to Node
        File-backed nodes by id, in a deterministic order (modes, schedules
        with their sections, TODO headings and items by line, memory entries,
        runs); their positions are placeholders.
    parents : dict of str to str
        Child id -> parent id for every ``parent`` edge.
    edges : dict of (src, dst, type) to Edge
        Every derived edge.
    """

    nodes: dict[str, Node]
    parents: dict[str, str]
    edges: dict[EdgeKey, Edge]

    def kind_counts(self) -> dict[str, int]:
        """Number of nodes of each kind."""
        out: dict[str, int] = {}
        for n in self.nodes.values():
            out[n.kind.value] = out.get(n.kind.value, 0) + 1
        return out


def _workspace(workspace: Workspace | str | os.PathLike[str]) -> Workspace:
    return workspace if isinstance(workspace, Workspace) else Workspace.at(workspace)


def plan_workspace(workspace: Workspace | str | os.PathLike[str], *, now: float | None = None,
                   items: dict[str, list[Item]] | None = None) -> WorkspacePlan:
    """Read the workspace files and return the nodes and edges they call for.

    Parameters
    ----------
    workspace : Workspace or path-like
    now : float, optional
        ``created``/``updated`` for items without a time of their own (TODO
        lines, modes); by default the modification time of their file.
    items : dict, optional
        The items already read (:func:`~orchestrator_gui.migration.extract.read_workspace`);
        given, no file is read here.

    Raises
    ------
    FormatError
        When a workspace file exists but cannot be read or parsed. Missing
        files simply contribute no nodes.
    """
    if items is None:
        items = read_workspace(_workspace(workspace), now)
    flat: list[Item] = [it for group in items.values() for it in group]
    return WorkspacePlan(
        nodes={it.id: it.node for it in flat},
        parents={it.id: it.parent for it in flat if it.parent is not None},
        edges=derive_edges(items),
    )


def _json(node: Node, name: str) -> Any:
    return node.model_dump(mode="json", include={name})[name]


def _is_migrated(node: Node) -> bool:
    return node.source is not None and node.source.file in MIGRATION_FILES


#: The synced fields of a node as one tuple: comparing two tuples is one C call, where comparing
#: field by field is seven Python-level getattr/compare pairs per node (1.5 s of a 300k-node sync).
_synced = operator.attrgetter(*SYNCED_FIELDS)


def _node_updates(old: Node, new: Node, actor: str) -> list[UpdateNode]:
    if _synced(old) == _synced(new):
        return []  # the usual case of a sync: the file says what the node already holds
    edits: list[UpdateNode] = []
    changed: set[str] = set()
    for name in SYNCED_FIELDS:
        if getattr(old, name) == getattr(new, name):
            # Equal values have equal JSON forms: no dump needed (a sync of a 300 000-node graph
            # compares 2 million fields, nearly all unchanged). Unequal ones are compared as JSON below.
            continue
        before, after = _json(old, name), _json(new, name)
        if name == "metadata":
            # The engine records what a run did (log path, exit code, ...) and pruning marks
            # branches on the same nodes; the files know nothing of it, so a rebuild keeps them.
            kept = {k: v for k, v in before.items() if k in PRESERVED_METADATA_KEYS and k not in after}
            after = {**after, **kept}
        if before != after:
            edits.append(UpdateNode(node_id=old.id, field=name, old=before, new=after))
            changed.add(name)
    if changed & _VERSIONED_FIELDS:
        version = ContentVersion(time=new.updated, title=old.title, content=old.content, actor=actor)
        history = _json(old, "history")
        edits.append(UpdateNode(node_id=old.id, field="history", old=history,
                                new=history + [version.model_dump(mode="json")]))
    if changed & _CONTENT_FIELDS and old.updated != new.updated:
        edits.append(UpdateNode(node_id=old.id, field="updated", old=old.updated, new=new.updated))
    return edits


def _edge_changes(
    graph: ThoughtGraph, plan: WorkspacePlan, keep: Iterable[str], removed: set[str],
    kept: set[str] = frozenset(),
) -> tuple[list, list]:
    """``RemoveEdge`` edits for stale derived edges and ``AddEdge`` edits for missing ones."""
    removals: list[RemoveEdge] = []
    present: set[EdgeKey] = set()
    # Only nodes with outgoing edges have any to check: found once from the edge columns rather than
    # by asking every kept node (a 300 000-entry log mostly has none).
    ea = graph.edge_arrays()
    sources = set(graph.ids_of(np.unique(ea.src))) if len(ea.src) else set()
    for node_id in keep:
        if node_id not in sources:
            continue
        for e in graph.edges_of(node_id, "out"):
            if e.metadata.get("by") != BY:
                present.add(e.key)  # a user's edge of the same type: never duplicated, never removed
                continue
            if e.dst in removed:
                continue  # goes with the node
            if e.dst in kept:
                present.add(e.key)  # to a node another machine's file holds: its edge stays with it
                continue
            wanted = plan.edges.get(e.key)
            if wanted is not None and wanted.weight == e.weight and wanted.metadata == e.metadata:
                present.add(e.key)
            else:
                removals.append(RemoveEdge(src=e.src, dst=e.dst, type=e.type))
    additions = [AddEdge(edge=e) for k, e in plan.edges.items() if k not in present]
    return removals, additions


def _renamed(plan: WorkspacePlan, rename: dict[str, str]) -> WorkspacePlan:
    """``plan`` with the planned ids ``rename`` maps renamed (in nodes, parents and edges), order kept."""
    if not rename:
        return plan
    nodes = {rename.get(i, i): (n if i not in rename else n.model_copy(update={"id": rename[i]}))
             for i, n in plan.nodes.items()}
    parents = {rename.get(c, c): rename.get(p, p) for c, p in plan.parents.items()}
    edges: dict[EdgeKey, Edge] = {}
    for (src, dst, type_), e in plan.edges.items():
        s2, d2 = rename.get(src, src), rename.get(dst, dst)
        edges[(s2, d2, type_)] = e if (s2, d2) == (src, dst) else e.model_copy(update={"src": s2, "dst": d2})
    return WorkspacePlan(nodes=nodes, parents=parents, edges=edges)


def _placed(graph: ThoughtGraph, plan: WorkspacePlan, new_ids: list[str]) -> list[Node]:
    """The new nodes with positions chosen by a :class:`ShellPlanner` (existing nodes never move)."""
    if not new_ids:
        return []  # nothing to place: no planner (it indexes every node of the graph)
    from orchestrator_gui.migration.place import ShellPlanner  # imported here: see the note on imports above

    if len(graph) == 0 and len(new_ids) > BULK_LAYOUT_NODES:
        return _bulk_placed(plan, new_ids)
    adding: dict[Layer, int] = {}
    for i in new_ids:
        layer = plan.nodes[i].layer
        adding[layer] = adding.get(layer, 0) + 1
    planner = ShellPlanner(graph, adding)
    out_links: dict[str, list[str]] = {}
    for src, dst, type_ in plan.edges:
        if type_ != EdgeType.PARENT.value:
            out_links.setdefault(src, []).append(dst)
    rank = {i: n for n, i in enumerate(plan.nodes)}
    # Parents and link targets first: modes, schedules, plans (headings in line order), items, runs, memory.
    order = sorted(new_ids, key=lambda i: (_PLACE_ORDER.get(plan.nodes[i].kind, 99), rank[i]))
    placed: dict[str, Node] = {}
    for i in order:
        node = plan.nodes[i]
        t, p, r = planner.place(i, node.layer, parent=plan.parents.get(i), near=out_links.get(i, ()))
        placed[i] = node.model_copy(update={"theta": t, "phi": p, "r": r})
    if len(graph) == 0 and placed:
        # Nothing exists yet, so nothing can jump: a fresh build gets the full force-directed
        # layout (sections as patches, runs beside what they ran), seeded from the planner's spots.
        placed = _arranged(plan, placed)
    return [placed[i] for i in new_ids]


def _bulk_placed(plan: WorkspacePlan, new_ids: list[str]) -> list[Node]:
    """A fresh build of more than :data:`BULK_LAYOUT_NODES` nodes: each shell's nodes, in file order, on
    consecutive points of :func:`~orchestrator_gui.model.shell_placement.patch_lattice`.

    The planner walks a spiral per node and the force-directed layout repeats
    k-d tree passes over all nodes; together they took minutes for a
    300 000-entry memory log. File order keeps a section's items (and a
    schedule's steps) together, so they still form patches, in linear time.
    A later "relayout" gives the full force-directed layout.
    """
    from orchestrator_gui.model.shell_placement import patch_lattice  # imported here: see the note on imports above

    nodes = [plan.nodes[i] for i in new_ids]
    by_layer: dict[Layer, list[int]] = {}
    for k, node in enumerate(nodes):
        by_layer.setdefault(node.layer, []).append(k)
    placed: list[Node] = nodes[:]
    make = construct_unchecked
    for layer, rows in by_layer.items():
        sph = to_spherical(patch_lattice(len(rows)))
        radius = SHELL_RADII[layer]
        for k, t, p in zip(rows, sph[:, 0].tolist(), sph[:, 1].tolist(), strict=True):
            # What model_copy(update=...) makes (no validation either), without its per-call overhead.
            values = nodes[k].__dict__.copy()
            values["theta"], values["phi"], values["r"] = t, p, radius
            placed[k] = make(Node, values)
    return placed


def _arranged(plan: WorkspacePlan, placed: dict[str, Node]) -> dict[str, Node]:
    """``placed`` moved to :func:`~orchestrator_gui.model.layout.arrange_directions` (rows in file order)."""
    from orchestrator_gui.model.layout import arrange_directions  # imported here: see the note on imports above

    ids = [i for i in plan.nodes if i in placed]
    row = {i: r for r, i in enumerate(ids)}
    nodes = [placed[i] for i in ids]
    seed = to_cartesian(np.array([(n.theta, n.phi, 1.0) for n in nodes]))
    keys = [k for k in plan.edges if k[0] in row and k[1] in row]
    u = arrange_directions(
        seed,
        np.array([LAYER_INDEX[n.layer.value] for n in nodes]),
        np.array([KIND_INDEX[n.kind.value] for n in nodes]),
        np.array([row[s] for s, _, _ in keys], dtype=np.int64),
        np.array([row[d] for _, d, _ in keys], dtype=np.int64),
        np.array([EDGE_TYPE_INDEX[t] for _, _, t in keys], dtype=np.int64),
        texts=lambda rows: [f"{nodes[r].title} {nodes[r].content}" for r in rows.tolist()],
    )
    sph = to_spherical(u)
    return {i: n.model_copy(update={"theta": float(t), "phi": float(p)})
            for i, n, (t, p, _) in zip(ids, nodes, sph.tolist(), strict=True)}


def _diff(graph: ThoughtGraph, plan: WorkspacePlan, *, actor: str,
          keep_files: frozenset[str] = frozenset()) -> tuple[list, dict[str, int]]:
    current = {n.id: n for n in graph.nodes() if _is_migrated(n)}
    plan = _renamed(plan, continued_ids(graph, current, plan.nodes))
    missing = [i for i in current if i not in plan.nodes]
    kept = {i for i in missing if current[i].source is not None and current[i].source.file in keep_files}
    removed = [i for i in missing if i not in kept]
    removed_set = set(removed)
    new_ids: list[str] = []
    keep: list[str] = []  # every node whose derived edges may already exist
    updates: list[UpdateNode] = []
    for i, node in plan.nodes.items():
        old = current.get(i)
        if old is None and i in graph:
            old = graph.node(i)  # a file-backed id held by a node the files did not make (rare)
        if old is None:
            new_ids.append(i)
            continue
        keep.append(i)
        updates.extend(_node_updates(old, node, actor))
    edge_removals, edge_additions = _edge_changes(graph, plan, keep, removed_set, kept)
    added = _placed(graph, plan, new_ids)
    edits: list = [*edge_removals, *(RemoveNode(node_id=i) for i in removed), *updates,
                   *(AddNode(node=n) for n in added), *edge_additions]
    stats = {
        "nodes_added": len(added),
        "nodes_removed": len(removed),
        "nodes_updated": len({u.node_id for u in updates}),
        "edges_added": len(edge_additions),
        "edges_removed": len(edge_removals),
    }
    return edits, stats


def update_graph(graph: ThoughtGraph, workspace: Workspace | str | os.PathLike[str], *, now: float | None = None,
                 actor: str = ACTOR, tx_id: str | None = None,
                 items: dict[str, list[Item]] | None = None, keep_files: Iterable[str] = ()) -> Transaction:
    """The transaction that brings the file-backed nodes and derived edges of ``graph`` up to date.

    Parameters
    ----------
    graph : ThoughtGraph
        Only read; apply the result with ``graph.apply(tx)``.
    workspace : Workspace or path-like
    now : float, optional
        Fallback item time (see :func:`plan_workspace`) and the transaction's time.
    actor : str
        Provenance actor and the actor of recorded content versions.
    tx_id : str, optional
        Transaction id (default: a fresh UUID).
    items : dict, optional
        The workspace items already read (see :func:`plan_workspace`).
    keep_files : iterable of str
        Workspace files (``"task_timing.tsv"``) whose nodes are added and updated but never removed
        when this copy of the file lacks them: in a fleet every machine syncs its own copy into one
        shared graph, and another machine's runs are not in this machine's log.

    Returns
    -------
    Transaction
        Operation ``sync_workspace``; ``params`` holds the workspace and the
        numbers of nodes and edges added, removed and updated. It has no edits
        when the graph is already up to date.

    Raises
    ------
    FormatError
        When a workspace file exists but cannot be read; nothing is planned then,
        so a half-read workspace never deletes nodes.
    """
    ws = _workspace(workspace)
    edits, stats = _diff(graph, plan_workspace(ws, now=now, items=items), actor=actor,
                         keep_files=frozenset(keep_files))
    summary = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in stats.items() if v) or "no changes"
    return Transaction.create("sync_workspace", edits, params={"workspace": str(ws.root), **stats},
                              description=f"Update from workspace files ({summary})", actor=actor, now=now,
                              tx_id=tx_id)


def build_graph(workspace: Workspace | str | os.PathLike[str], *, now: float | None = None,
                items: dict[str, list[Item]] | None = None) -> ThoughtGraph:
    """A fresh graph of the workspace: all items, derived edges and a deterministic layout.

    The graph's undo stack is empty (a fresh build is not an undoable change).

    Parameters
    ----------
    workspace : Workspace or path-like
    now : float, optional
        Fallback item time (see :func:`plan_workspace`).
    items : dict, optional
        The workspace items already read (see :func:`plan_workspace`).

    Raises
    ------
    FormatError
        When a workspace file exists but cannot be read or parsed.
    """
    with paused_gc():
        plan = plan_workspace(workspace, now=now, items=items)
        return _assembled(_placed(ThoughtGraph(), plan, list(plan.nodes)), plan.edges.values())


def _assembled(nodes: list[Node], edges: Iterable[Edge]) -> ThoughtGraph:
    """The graph that adding ``nodes`` and then ``edges`` to an empty graph, in order, makes.

    Loaded as columns (:func:`orchestrator_gui.model.bulk.build`, as a
    snapshot is) rather than applied as one ``AddNode``/``AddEdge`` edit per
    item: the same rows, handles, models and edge metadata, without a
    validated edit model, a resolved copy and a ``node_added`` event per node
    (a 300 000-entry memory log: seconds). Nothing can be listening to a
    graph that does not exist yet, and a fresh build is not undoable.

    Raises
    ------
    NodeNotFound
        An edge names a node that is not in ``nodes``.
    DuplicateError
        Two nodes share an id, or two edges their ``(src, dst, type)``.
    """
    n = len(nodes)
    row = {node.id: k for k, node in enumerate(nodes)}
    if len(row) != n:
        raise DuplicateError("node ids must be unique")
    edges = list(edges)
    try:
        src = np.fromiter((row[e.src] for e in edges), dtype=np.int64, count=len(edges))
        dst = np.fromiter((row[e.dst] for e in edges), dtype=np.int64, count=len(edges))
    except KeyError as exc:
        raise NodeNotFound(f"no node {exc.args[0]!r}") from None
    sph = np.array([(node.theta, node.phi, node.r) for node in nodes], dtype=np.float64).reshape(n, 3)
    check_spherical_array(sph)
    # The enums are StrEnums, which hash and compare as their values: the *_INDEX tables (keyed by value)
    # take the members directly, without an Enum.value property call per node.
    return bulk_build(
        nodes,
        sph=sph,
        kind=np.fromiter((KIND_INDEX[node.kind] for node in nodes), dtype=np.int8, count=n),
        layer=np.fromiter((LAYER_INDEX[node.layer] for node in nodes), dtype=np.int8, count=n),
        status=np.fromiter((STATUS_INDEX[node.status] for node in nodes), dtype=np.int8, count=n),
        created=np.fromiter((node.created for node in nodes), dtype=np.float64, count=n),
        updated=np.fromiter((node.updated for node in nodes), dtype=np.float64, count=n),
        activation=np.zeros(n, dtype=np.float64),
        attention=np.zeros(n, dtype=np.float64),
        flags=np.zeros(n, dtype=np.uint32),
        edge_src=src,
        edge_dst=dst,
        edge_type=np.fromiter((EDGE_TYPE_INDEX[e.type] for e in edges), dtype=np.int8, count=len(edges)),
        edge_weight=np.fromiter((e.weight for e in edges), dtype=np.float64, count=len(edges)),
        edge_metadata={k: e.metadata for k, e in enumerate(edges) if e.metadata},
    )
