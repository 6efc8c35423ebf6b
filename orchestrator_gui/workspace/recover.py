"""``graph recover``: a new graph store from a damaged one, keeping every thought that can still be read.

What it does, in order (the store and the workspace files are left alone until the last step;
the new store is written beside them under a temporary name, ``graph.db.recovering``):

1. **Salvage** (:func:`~orchestrator_gui.store.salvage.salvage`): a copy of
   ``graph.db`` and its ``-wal`` is read row by row; unreadable pages and
   rows are skipped and counted.
2. **Rebuild**: the workspace files are read and built into a graph exactly
   as ``graph build`` builds a new store (``build_graph``).  If the newest
   readable ``reset`` record of the journal is an *import* (a graph the files
   do not hold), its base snapshot is the starting point instead, when it
   was salvaged intact.
3. **Replay** the salvaged transactions after that reset, oldest first, each
   journaled in the new store under its own id, so history, undo and redo go
   on.  File syncs (operation ``sync_workspace``, both the app's automatic
   ones, which are marked not undoable, and ``graph build``'s undoable ones)
   and the undos and redos of syncs are skipped: steps 2 and 5 read the files
   as they are now, which supersedes them.  Everything else is replayed: the
   user's edits, transforms, restores, and the not-undoable records the
   engine wrote (run details the files do not hold).  A transaction that no
   longer applies exactly is adapted (:func:`~orchestrator_gui.store.rebase.adapt`)
   and, failing that, reported as lost.
4. **Rescue** from the newest snapshot that is intact: user-made nodes
   (nodes without a workspace source) it holds that are still missing, and
   that no salvaged transaction deleted later, are added back with their
   links, in one not-undoable ``recover`` transaction.  This brings back
   thoughts whose journal records sat on a damaged page.
5. **Sync** with the files (as every open of the workspace does) and close
   the new store with a snapshot.
6. **Swap**: the damaged ``graph.db`` (with ``-wal``, ``-shm``, ``.seq``) is set
   aside as ``graph.db.damaged-YYYYmmddTHHMMSS`` and the new store takes its
   place atomically (:func:`~orchestrator_gui.store.setaside.install`).  If the
   store changed on disk meanwhile (the app still open), nothing is swapped.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from orchestrator_gui.formats.workspace import Workspace
from orchestrator_gui.migration import build_graph, update_graph
from orchestrator_gui.migration.extract import read_workspace
from orchestrator_gui.model.graph import ThoughtGraph
from orchestrator_gui.model.transactions import AddEdge, AddNode, RemoveNode, Transaction
from orchestrator_gui.problems import ConflictError, FormatError
from orchestrator_gui.store import GraphStore, store_path
from orchestrator_gui.store.rebase import adapt
from orchestrator_gui.store.records import RecordError, decode, decode_tx
from orchestrator_gui.store.salvage import Salvaged, SnapshotRow, salvage
from orchestrator_gui.store.setaside import COMPANIONS, aside_path, fingerprint, finish, install
from orchestrator_gui.store.sidecar import LOST_KEY, parse_lost, read_seq, seq_path
from orchestrator_gui.store.snapshot import CODEC, SnapshotError, decode_graph, snapshot_checksum
from orchestrator_gui.workspace.history import not_undoable

#: Operation of the migration's file syncs (``update_graph``): superseded by the rebuild.
SYNC_OPERATION = "sync_workspace"
#: Reset operations whose state is the files' (a rebuild replaces it); any other reset is an import.
BUILD_OPERATIONS = frozenset({"build_graph", "recover"})
#: Provenance actor of what recover writes itself.
ACTOR = "recover"
#: At most this many per-transaction lines in the report (the counts cover them all).
MAX_DETAILS = 50


@dataclass
class RecoverReport:
    """What ``graph recover`` saved and what was lost (``to_dict`` is ``graph recover --json``).

    Attributes
    ----------
    store : str
        The new store (``.orchestrator/graph.db``).
    set_aside : list of str
        The damaged files, now under ``graph.db.damaged-<time>`` names.
    damaged : bool
        SQLite found damage in the old file (or could not read it at all).
    damage : list of str
        What SQLite said about it (a few lines).
    journal : dict
        ``salvaged`` (intact records read), ``lost`` (records that existed
        and were not: unreadable pages and rows, damaged contents, records
        only in a lost ``-wal``), ``lost_is_lower_bound`` (the unreadable
        part runs to the end and nothing tells how long it was),
        ``unreadable`` (true when not one record could be read),
        ``lost_earlier`` (lost with a ``-wal`` file before, as recorded).
    transactions : dict
        ``replayed`` exactly, ``adapted`` to the rebuilt graph, ``already``
        (nothing left to do), ``failed`` (lost), ``file_syncs`` (skipped:
        the files were read again), ``before_reset`` (older than the newest
        build or import; kept only in the damaged file's history).
    user_nodes : dict
        ``recovered`` (user-made nodes in the new graph), ``rescued``
        (of those, brought back from a snapshot).
    snapshots : dict
        ``salvaged`` (intact), ``lost`` (damaged, or in unreadable ranges:
        ``lost_is_lower_bound`` then), ``used`` (id of the snapshot rescued
        from or started from, or ``None``).
    graph : dict
        ``nodes``, ``edges`` of the new graph.
    details : list of str
        One line per lost range or transaction (at most ``MAX_DETAILS``).
    """

    store: str
    set_aside: list[str] = field(default_factory=list)
    damaged: bool = False
    damage: list[str] = field(default_factory=list)
    journal: dict[str, Any] = field(default_factory=dict)
    transactions: dict[str, int] = field(default_factory=dict)
    user_nodes: dict[str, int] = field(default_factory=dict)
    snapshots: dict[str, Any] = field(default_factory=dict)
    graph: dict[str, int] = field(default_factory=dict)
    details: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return asdict(self)

    def summary(self) -> list[str]:
        """The report as a few sentences, for a person."""
        j, t, u, s = self.journal, self.transactions, self.user_nodes, self.snapshots
        aside = self.set_aside[0] if self.set_aside else "(nothing)"
        lines = [f"recovered {self.store}; the old file is now {aside}"]
        if j["unreadable"]:
            count = "" if j["lost_is_lower_bound"] else f" ({j['lost']} records)"
            lines.append(f"journal: lost{count}, not one record could be read; the graph was built from the "
                         "workspace files" + (f" and {u['rescued']} thoughts rescued from a snapshot"
                                              if u["rescued"] else ""))
        else:
            more = "at least " if j["lost_is_lower_bound"] else ""
            lines.append(f"journal: {j['salvaged']} records salvaged, {more}{j['lost']} lost")
        if j["lost_earlier"]:
            lines.append(f"         ({j['lost_earlier']} more were lost earlier with a deleted -wal file)")
        lines.append(f"transactions: {t['replayed']} replayed, {t['adapted']} adapted to the rebuilt graph, "
                     f"{t['failed']} no longer applied, {t['file_syncs']} file syncs superseded by the rebuild"
                     + (f", {t['before_reset']} older than the last build or import" if t["before_reset"] else ""))
        lines.append(f"user-made nodes: {u['recovered']} recovered"
                     + (f" ({u['rescued']} of them from snapshot {s['used']})" if u["rescued"] else ""))
        more = "at least " if s["lost_is_lower_bound"] else ""
        lines.append(f"snapshots: {s['salvaged']} salvaged, {more}{s['lost']} lost")
        lines.append(f"graph: {self.graph['nodes']} nodes, {self.graph['edges']} edges")
        return lines


@dataclass
class _Plan:
    """The salvaged journal sorted out: what to replay, from which starting point."""

    valid: int = 0
    damaged_rows: list[int] = field(default_factory=list)
    reset_seq: int = 0
    reset_operation: str | None = None
    replay: list[tuple[int, Transaction]] = field(default_factory=list)
    syncs: int = 0
    before_reset: int = 0
    removed_after: dict[str, int] = field(default_factory=dict)  # node id -> seq of the newest removal


def _plan(saved: Salvaged) -> _Plan:
    plan = _Plan()
    resets: list[tuple[int, str]] = []
    txs: list[tuple[int, Transaction]] = []
    for row in saved.journal:
        try:
            if row.kind == "reset":
                data = decode(row)
                resets.append((row.seq, str(data.get("operation", row.operation))))
            elif row.kind == "tx":
                txs.append((row.seq, decode_tx(row)))
            else:
                raise RecordError(f"unknown record kind {row.kind!r}")
        except RecordError:
            plan.damaged_rows.append(row.seq)
            continue
        plan.valid += 1
    if resets:
        plan.reset_seq, plan.reset_operation = max(resets)
    skipped: set[str] = set()
    for seq, tx in txs:
        for edit in tx.edits:
            if isinstance(edit, RemoveNode):
                plan.removed_after[edit.node_id] = seq
        if seq < plan.reset_seq:
            plan.before_reset += 1
        elif tx.provenance.operation == SYNC_OPERATION or tx.provenance.params.get("of") in skipped:
            skipped.add(tx.id)  # an undo or redo of a skipped sync is skipped with it
            plan.syncs += 1
        else:
            plan.replay.append((seq, tx))
    return plan


def _usable_snapshots(saved: Salvaged) -> list[SnapshotRow]:
    return sorted((s for s in saved.snapshots if s.codec == CODEC and snapshot_checksum(s.last_seq, s.data)
                   == s.checksum), key=lambda s: (s.last_seq, s.id), reverse=True)


def _decoded(snap: SnapshotRow) -> ThoughtGraph | None:
    try:
        return decode_graph(snap.data)
    except SnapshotError:
        return None


def _base(ws: Workspace, items: dict, plan: _Plan, snaps: list[SnapshotRow], details: list[str]
          ) -> tuple[ThoughtGraph, int | None]:
    """The starting graph: a fresh build, or the imported graph of the newest reset when it is intact."""
    if plan.reset_operation is not None and plan.reset_operation not in BUILD_OPERATIONS:
        for snap in snaps:
            if snap.last_seq == plan.reset_seq and snap.kind == "base":
                graph = _decoded(snap)
                if graph is not None:
                    return graph, snap.id
        details.append(f"the graph replaced by '{plan.reset_operation}' at journal record {plan.reset_seq} "
                       "could not be salvaged; started from the workspace files instead")
    return build_graph(ws, items=items), None


def _apply(store: GraphStore, tx: Transaction) -> str | None:
    """Apply ``tx`` to the store's graph (journaled): ``None``, or why the graph refused it.

    A failure of the store itself (``FormatError``: the new file cannot be
    written) is raised: the recovery cannot go on without it.
    """
    try:
        store.graph.apply(tx, record=False)
    except FormatError:
        raise
    except Exception as exc:  # noqa: BLE001 - the model's refusals (stale edit, missing node, ...) are reported
        return f"{type(exc).__name__}: {exc}"
    return None


def _replay(store: GraphStore, plan: _Plan, counts: dict[str, int], details: list[str]) -> None:
    for seq, tx in plan.replay:
        first = _apply(store, tx)
        if first is None:
            counts["replayed"] += 1
            continue
        changed = adapt(tx, store.graph)
        if changed is None:
            counts["already"] += 1
            continue
        second = _apply(store, changed)
        if second is None:
            counts["adapted"] += 1
            continue
        counts["failed"] += 1
        if len(details) < MAX_DETAILS:
            details.append(f"journal record {seq} ({tx.description or tx.provenance.operation}) no longer "
                           f"applies: {first}; adapted: {second}")


def _rescue(store: GraphStore, plan: _Plan, snaps: list[SnapshotRow]) -> tuple[int, int | None]:
    """Add back user-made nodes the newest intact snapshot holds and nothing deleted later; ``(count, id)``."""
    for snap in snaps:
        if snap.last_seq < plan.reset_seq:
            return 0, None
        old = _decoded(snap)
        if old is None:
            continue
        g = store.graph
        back = [n for n in old.nodes() if n.source is None and n.id not in g
                and plan.removed_after.get(n.id, -1) <= snap.last_seq]
        if not back:
            return 0, snap.id
        ids = {n.id for n in back}
        edits: list = [AddNode(node=n, state=old.state(n.id)) for n in back]
        seen: set[tuple[str, str, str]] = set()
        for n in back:
            for e in old.edges_of(n.id):
                ends_ok = all(end in ids or end in g for end in (e.src, e.dst))
                if ends_ok and e.key not in seen and not (e.src in g and e.dst in g and g.has_edge(*e.key)):
                    seen.add(e.key)
                    edits.append(AddEdge(edge=e))
        tx = not_undoable(Transaction.create(
            "recover", edits, actor=ACTOR, params={"snapshot": snap.id, "after": snap.last_seq},
            description=f"Thoughts rescued from snapshot {snap.id} (graph recover)"))
        if _apply(store, tx) is not None:  # not expected (every edit was checked): then the rescue is left out
            changed = adapt(tx, store.graph)
            if changed is None or _apply(store, changed) is not None:
                return 0, None
        return len(back), snap.id
    return 0, None


def _remove(path: Path) -> None:
    for p in (path, *(Path(f"{path}{s}") for s in COMPANIONS), seq_path(path)):
        try:
            p.unlink()
        except FileNotFoundError:
            pass


def _journal_counts(saved: Salvaged, plan: _Plan, side: int) -> dict[str, Any]:
    """The journal part of the report; ``side`` is the old store's ``graph.db.seq`` (0: none)."""
    read = saved.journal_read
    top = max((r.seq for r in saved.journal), default=0)
    runs_to_end = any(last >= 2**62 for _, last in read.gaps) or read.missing or saved.error is not None
    known = max(top, side)
    lost = max(0, known - plan.valid)
    earlier = sum(r["count"] for r in parse_lost(saved.meta.get(LOST_KEY)))
    return {"salvaged": plan.valid, "lost": lost, "lost_is_lower_bound": runs_to_end and side <= top,
            "unreadable": plan.valid == 0 and (runs_to_end or known > 0), "lost_earlier": earlier}


def recover(root: str | os.PathLike[str], *, now: float | None = None) -> RecoverReport:
    """Recover the graph store of the workspace at ``root`` (see the module docstring).

    Parameters
    ----------
    root : path-like
        The workspace folder.
    now : float, optional
        The time in the set-aside name (default: now).

    Returns
    -------
    RecoverReport

    Raises
    ------
    FormatError
        No store to recover, a workspace file that cannot be read, a file
        that is not this program's store, or the store changed meanwhile
        (:class:`ConflictError`); nothing was changed then.
    """
    ws = Workspace.at(root)
    db = store_path(ws.root)
    before = fingerprint(db)
    side = read_seq(db) or 0  # read before the swap moves it aside
    saved = salvage(db)
    items = read_workspace(ws)
    plan = _plan(saved)
    snaps = _usable_snapshots(saved)
    details: list[str] = []
    for first, last in saved.journal_read.gaps:
        lo, hi = max(first, 1), last
        details.append(f"journal records {lo}..{'end' if hi >= 2**62 else hi}: on an unreadable page")
    for seq in [*saved.journal_read.bad_rows, *plan.damaged_rows][:MAX_DETAILS]:
        details.append(f"journal record {seq}: damaged")
    counts = {"replayed": 0, "adapted": 0, "already": 0, "failed": 0}
    fresh = db.with_name(db.name + ".recovering")
    _remove(fresh)
    try:
        base, base_snap = _base(ws, items, plan, snaps, details)
        # Not fsynced commit by commit (thousands of replays): the finished file is fsynced once below.
        store = GraphStore.open(fresh, durable=False, snapshot_every=10**9)
        try:
            store.replace_graph(base, operation="recover", actor=ACTOR, params={"from": str(db)},
                                description="Recover the graph store (graph recover)")
            _replay(store, plan, counts, details)
            rescued, rescue_snap = _rescue(store, plan, snaps)
            sync = update_graph(store.graph, ws, items=items)
            if sync.edits:
                store.graph.apply(not_undoable(sync), record=False)
        except BaseException:
            store.close(snapshot=False)
            raise
        graph = store.graph
        report_graph = {"nodes": graph.number_of_nodes(), "edges": graph.number_of_edges()}
        user_nodes = sum(1 for n in graph.nodes() if n.source is None)
        store.close(snapshot=True)  # its last connection: SQLite checkpoints the WAL into the file and deletes it
        finish(fresh)
        if fingerprint(db) != before:
            raise ConflictError(str(db), "the store changed while it was being recovered (is the app still "
                                         "open?); nothing was replaced. Close it and run 'orchestrator-gui graph "
                                         "recover' again")
        moved = install(db, fresh, aside_path(db, now if now is not None else time.time()))
    except BaseException:
        _remove(fresh)
        raise
    unreadable_snaps = bool(saved.snapshot_read.gaps) or saved.snapshot_read.missing
    return RecoverReport(
        store=str(db),
        set_aside=[str(p) for p in moved],
        damaged=bool(saved.damage) or saved.error is not None,
        damage=([saved.error] if saved.error else saved.damage)[:5],
        journal=_journal_counts(saved, plan, side),
        transactions={**counts, "file_syncs": plan.syncs, "before_reset": plan.before_reset},
        user_nodes={"recovered": user_nodes, "rescued": rescued},
        snapshots={"salvaged": len(snaps), "lost": len(saved.snapshots) - len(snaps)
                   + len(saved.snapshot_read.bad_rows), "lost_is_lower_bound": unreadable_snaps,
                   "used": rescue_snap if rescued else base_snap},
        graph=report_graph,
        details=details[:MAX_DETAILS],
    )


__all__ = ["RecoverReport", "recover"]
