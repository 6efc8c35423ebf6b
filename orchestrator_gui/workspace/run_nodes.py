"""Runs in the thought graph: a ``run`` node per run, linked to its schedule or TODO item, and live activation.

Mirroring runs into the graph is an application concern, not execution, so
it lives here, above the engine (which knows nothing of the graph or store).

Identity
--------
A run node gets the id the workspace migration gives the same run when it
reads ``task_timing.tsv`` (``task_timing.tsv::run/<task_id>``, see
:mod:`orchestrator_gui.model.identity`), so a later ``graph build``/sync
updates our node instead of adding a twin. Its subject is found through the
graph (:func:`~orchestrator_gui.model.identity.subject_node`: by the
schedule's id, or by the TODO item's key and, failing that, its line), never
by hashing the item's text: an item keeps its node when its text is edited,
so the node's id need not be the one its key would give. The node found when
a run starts is the one its end is recorded on. It is linked to its subject with a
``scheduled_by`` edge (the migration's relation for "this run was launched by
that schedule / worked on that TODO item"), marked ``{"by": "engine"}`` so a
rebuild treats it as a user-drawn edge and keeps it.

Activation (set directly on the dynamic mirrors; they are not undoable)
-----------------------------------------------------------------------
* a due schedule (or a TODO item about to run): activation 1, flag ``ACTIVE``;
* a running task: its run node activation 1, flag ``ACTIVE``;
* a finished run: ``ACTIVE`` cleared on it and its subject; a failed or
  timed-out run keeps activation 1 and gets ``ESCALATED`` (drawn red); a
  successful one settles at :data:`DONE_ACTIVATION`;
* :meth:`GraphSync.set_escalated` is for the 3-strike escalation (the
  schedule or TODO node turns red).

Marks (journaled, not undoable)
-------------------------------
* a **dry run** gets no run node: it is a rehearsal, not a run of the loop
  (its record and log are under ``.orchestrator/``); its subject is only
  lit up while it lasts;
* a run that passed 80 % of its time limit gets ``metadata["warning"]``
  (what the Inspector shows) and stays lit;
* a **paused** schedule or TODO item (:meth:`GraphSync.mark_paused`) gets
  status ``blocked`` and ``metadata["paused"]`` (``{reason, since, by}``),
  until it is resumed (then ``active``, or ``archived`` for an inactive
  schedule). The 3D view has no colour of its own for a status; the
  Inspector shows it, and the ``ESCALATED`` flag is set as well.

The structural changes go through one :class:`Transaction` per event, applied
through the :class:`~orchestrator_gui.store.store.GraphStore` when the
workspace has one (``.orchestrator/graph.db``), so they are journaled and
undoable. A graph problem never stops a run: it is recorded in
:attr:`GraphSync.problems` and reported by the caller.

All methods are thread-safe (one lock) but must be called on the thread that
owns the graph: a store's SQLite connection belongs to the thread that opened
it. Engine events arrive in worker threads, so :meth:`GraphSync.listener`
only queues them and the owning thread applies them with :meth:`GraphSync.process`.
"""

from __future__ import annotations

import collections
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from orchestrator_gui.migration.place import ShellPlanner
from orchestrator_gui.model.graph import ThoughtGraph
from orchestrator_gui.model.identity import (  # noqa: F401 - re-exported: the ids of the nodes this module adds
    TIMING_FILE,
    run_node_id,
    schedule_node_id,
    subject_node,
    subject_node_id,
    todo_item_key,
    todo_node_id,
)
from orchestrator_gui.model.nodes import Edge, EdgeType, Layer, Node, NodeFlag, NodeKind, NodeStatus, Source
from orchestrator_gui.model.transactions import AddEdge, AddNode, Transaction, UpdateNode

#: ``Provenance.actor`` of the engine's graph transactions and ``metadata["by"]`` of its edges.
ACTOR = "engine"
#: Activation a successful run settles at (a failed one stays at 1).
DONE_ACTIVATION = 0.4
_STATUS = {"completed": NodeStatus.DONE, "failed": NodeStatus.FAILED, "timeout": NodeStatus.FAILED,
           "cancelled": NodeStatus.CANCELLED}


def _seconds(value: Any) -> float:
    if value is None:
        return time.time()
    if hasattr(value, "timestamp"):
        return float(value.timestamp())
    return float(value)


def summary_of(result: Any) -> str:
    """``result.summary()``, or the bare status when that cannot be formatted; never "completed" for a dry run."""
    if getattr(result, "dry_run", False):
        return "dry run - nothing was started" if result.status == "completed" else f"dry run - {result.status}"
    try:
        return str(result.summary())
    except Exception:  # noqa: BLE001 - an odd result (timeout without a limit) must not lose the status
        return str(result.status)


class GraphSync:
    """Mirrors engine runs into a thought graph.

    Parameters
    ----------
    graph : ThoughtGraph or None
        The graph to update; ``None`` disables everything (no store in the workspace).
    apply : callable, optional
        How to commit a transaction; by default ``graph.apply`` (see
        :meth:`for_session` for the journaled, not-undoable way).
    workspace : path-like, optional
        Root used to make log paths workspace-relative.
    """

    def __init__(self, graph: ThoughtGraph | None, *, apply: Callable[[Transaction], Any] | None = None,
                 workspace: str | os.PathLike[str] | None = None) -> None:
        self.graph = graph
        self._apply = apply or (graph.apply if graph is not None else None)
        self.workspace = Path(workspace) if workspace is not None else None
        self._lock = threading.RLock()
        #: Messages about graph updates that could not be made (the runs themselves are unaffected).
        self.problems: list[str] = []
        self._inbox: collections.deque[tuple[Any, dict[str, Any]]] = collections.deque()
        self._engine: Any = None
        #: Task id -> the subject node its run started on (its end goes to the same node).
        self._run_subjects: dict[str, str] = {}

    # -- engine events ----------------------------------------------------------------------
    def attach(self, engine: Any) -> Callable[[], None]:
        """Listen to ``engine``'s events (see :meth:`listener`); returns the remover."""
        self._engine = engine
        return engine.add_listener(self.listener)

    def listener(self, event: Any) -> None:
        """Engine listener (any thread): queue run events (started, finished, warning, escalated) to apply."""
        if self.graph is None or event.type not in ("started", "finished", "escalated", "warning") \
                or event.kind not in ("schedule", "todo"):
            return
        info: dict[str, Any] = {}
        if event.type == "started":
            handle = self._engine.handle(event.task_id) if self._engine is not None else None
            task = getattr(handle, "task", None)
            dry_run_for = getattr(self._engine, "dry_run_for", None)
            meta = getattr(task, "meta", None) or {}
            info = {"title": getattr(task, "title", ""), "mode": getattr(task, "mode", ""),
                    "started_at": time.time(), "line": meta.get("line"),
                    "dry_run": bool(task is not None and dry_run_for and dry_run_for(task))}
        self._inbox.append((event, info))

    def process(self) -> int:
        """Apply the queued engine events (call on the graph's thread); returns how many."""
        from orchestrator_gui.engine.runner import run_paths
        from orchestrator_gui.engine.tasks import RunResult

        n = 0
        while self._inbox:
            ev, info = self._inbox.popleft()
            n += 1
            if ev.type == "started" and info.get("dry_run"):
                # lit while it lasts; no run node for a rehearsal
                self.subject_due(ev.kind, ev.subject_id, line=info.get("line"), task_id=ev.task_id)
            elif ev.type == "started":
                log = str(run_paths(self.workspace, ev.task_id)[0]) if self.workspace is not None else None
                self.run_started(task_id=ev.task_id, kind=ev.kind, subject_id=ev.subject_id,
                                 title=str(info.get("title") or ""), mode=str(info.get("mode") or ""),
                                 started_at=info.get("started_at"), log_path=log, subject_line=info.get("line"))
            elif ev.type == "finished":
                try:
                    result = RunResult.model_validate(ev.data)
                except Exception as exc:  # noqa: BLE001
                    self.problems.append(f"graph not updated (run finished): {exc}")
                    continue
                if result.dry_run:
                    self.subject_idle(result.kind, result.subject_id, task_id=result.task_id)
                else:
                    self.run_finished(result)
            elif ev.type == "warning":
                self.run_warning(ev.task_id, ev.data)
            elif ev.type == "escalated":
                self.set_escalated(ev.kind, ev.subject_id, True)
                self.mark_paused(ev.kind, ev.subject_id, _pause_of(ev.data))
        return n

    # -- opening ----------------------------------------------------------------------------
    @classmethod
    def for_session(cls, session: Any) -> GraphSync:
        """Mirror runs into ``session``'s graph: journaled, never on the undo history.

        ``session`` may be ``None`` or read-only: the sync is then disabled.
        """
        if session is None or session.readonly:
            return cls(None, workspace=session.root if session is not None else None)
        return cls(session.graph, apply=lambda tx: session.apply(tx, undoable=False), workspace=session.root)

    @property
    def enabled(self) -> bool:
        """True when there is a graph to update."""
        return self.graph is not None

    def close(self) -> None:
        """Stop updating the graph (the session that owns it stays open)."""
        with self._lock:
            self.graph = None

    # -- helpers ----------------------------------------------------------------------------
    def _guard(self, what: str, fn: Callable[[ThoughtGraph], Any]) -> Any:
        with self._lock:
            if self.graph is None:
                return None
            try:
                return fn(self.graph)
            except Exception as exc:  # noqa: BLE001 - the graph is a mirror; a run never fails because of it
                self.problems.append(f"graph not updated ({what}): {type(exc).__name__}: {exc}")
                return None

    @staticmethod
    def _light(g: ThoughtGraph, ids: list[str], activation: float, flag: NodeFlag, on: bool) -> None:
        present = [i for i in ids if i and i in g]
        if present:
            with g.batch():
                g.set_activation([activation] * len(present), present)
                g.set_flags(present, flag, on)

    def _rel_log(self, log_path: str | None) -> str | None:
        if not log_path:
            return None
        if self.workspace is not None:
            try:
                return Path(os.path.relpath(Path(log_path).resolve(), self.workspace.resolve())).as_posix()
            except ValueError:
                pass
        return log_path

    # -- events -----------------------------------------------------------------------------
    def subject_due(self, kind: str, subject_id: str | None, *, line: int | None = None,
                    task_id: str | None = None) -> None:
        """A schedule became due (or a TODO item, on ``line``, is about to run): light it up.

        With ``task_id`` (a dry run), :meth:`subject_idle` of the same task puts out the same node.
        """

        def do(g: ThoughtGraph) -> None:
            sid = subject_node(g, kind, subject_id, line=line)
            if sid and task_id:
                self._run_subjects[task_id] = sid
            self._light(g, [sid or ""], 1.0, NodeFlag.ACTIVE, True)

        self._guard("due", do)

    def subject_idle(self, kind: str, subject_id: str | None, *, line: int | None = None,
                     task_id: str | None = None) -> None:
        """A dry run of the subject ended: it is no longer lit."""

        def do(g: ThoughtGraph) -> None:
            sid = (self._run_subjects.pop(task_id, None) if task_id else None) \
                or subject_node(g, kind, subject_id, line=line)
            self._light(g, [sid or ""], 0.0, NodeFlag.ACTIVE, False)

        self._guard("dry run", do)

    def run_started(self, *, task_id: str, kind: str, subject_id: str | None, title: str, mode: str,
                    started_at: Any = None, log_path: str | None = None,
                    subject_line: int | None = None) -> str | None:
        """Add (or revive) the run node, link it to its subject, light both up; returns the run node id.

        ``subject_line`` is the TODO item's line when the run was prepared:
        how the item's node is found when the graph does not know its key
        (the item was edited and the graph has not synced yet).
        """

        def do(g: ThoughtGraph) -> str:
            rid = run_node_id(task_id)
            sid = self._run_subjects.get(task_id) or subject_node(g, kind, subject_id, line=subject_line)
            if sid:
                self._run_subjects[task_id] = sid
            t = _seconds(started_at)
            meta = {"task_id": task_id, "mode": mode, "priority": kind, "subject_id": subject_id,
                    "result": "started", "duration_s": None, "log": self._rel_log(log_path), "by": ACTOR}
            edits: list[Any] = []
            if rid in g:
                old = g.node(rid)
                for name, new in (("status", NodeStatus.ACTIVE.value), ("metadata", {**old.metadata, **meta})):
                    before = old.model_dump(mode="json", include={name})[name]
                    if before != new:
                        edits.append(UpdateNode(node_id=rid, field=name, old=before, new=new))
            else:
                near = [sid] if sid and sid in g else []
                theta, phi, r = ShellPlanner(g, {Layer.EXECUTION: 1}).place(rid, Layer.EXECUTION, near=near)
                node = Node(id=rid, kind=NodeKind.RUN, title=title or task_id, content="", metadata=meta,
                            status=NodeStatus.ACTIVE, theta=theta, phi=phi, r=r, created=t, updated=t,
                            source=Source(file=TIMING_FILE, key=f"run/{task_id}"))
                edits.append(AddNode(node=node))
            if sid and sid in g and not g.has_edge(rid, sid, EdgeType.SCHEDULED_BY):
                edits.append(AddEdge(edge=Edge(src=rid, dst=sid, type=EdgeType.SCHEDULED_BY,
                                               metadata={"by": ACTOR, "via": "run"})))
            if edits:
                self._apply(Transaction.create("engine_run_started", edits, params={"task_id": task_id},
                                               description=f"Run started: {title or task_id}", actor=ACTOR))
            self._light(g, [rid, sid or ""], 1.0, NodeFlag.ACTIVE, True)
            g.set_flags([rid], NodeFlag.ESCALATED, False)
            return rid

        return self._guard("run started", do)

    def run_finished(self, result: Any) -> None:
        """Record a :class:`~orchestrator_gui.engine.tasks.RunResult`: status, duration, log; update activation."""

        def do(g: ThoughtGraph) -> None:
            rid = run_node_id(result.task_id)
            if rid not in g:
                self.run_started(task_id=result.task_id, kind=result.kind, subject_id=result.subject_id,
                                 title=result.title, mode=result.mode, started_at=result.started_at,
                                 log_path=result.log_path)
            if rid not in g:
                return
            sid = self._run_subjects.pop(result.task_id, None) or subject_node(g, result.kind, result.subject_id)
            if sid and sid not in g:
                sid = None
            old = g.node(rid)
            status = _STATUS.get(result.status, NodeStatus.FAILED)
            meta = {**old.metadata, "result": summary_of(result), "status": result.status,
                    "duration_s": round(float(result.duration_s), 3), "exit_code": result.exit_code,
                    "log": self._rel_log(result.log_path) or old.metadata.get("log"),
                    "dry_run": bool(result.dry_run)}
            end = _seconds(result.ended_at)
            edits = []
            for name, new in (("status", status.value), ("metadata", meta), ("updated", end)):
                before = old.model_dump(mode="json", include={name})[name]
                if before != new:
                    edits.append(UpdateNode(node_id=rid, field=name, old=before, new=new))
            if edits:
                self._apply(Transaction.create("engine_run_finished", edits,
                                               params={"task_id": result.task_id, "status": result.status},
                                               description=f"Run {result.status}: {result.title or result.task_id}",
                                               actor=ACTOR))
            self._light(g, [rid, sid or ""], 0.0, NodeFlag.ACTIVE, False)
            failed = result.status in ("failed", "timeout")
            self._light(g, [rid], 1.0 if failed else DONE_ACTIVATION, NodeFlag.ESCALATED, failed)
            if sid and sid in g:
                g.set_activation([1.0 if failed else DONE_ACTIVATION], [sid])

        self._guard("run finished", do)

    def set_escalated(self, kind: str, subject_id: str | None, on: bool = True) -> None:
        """Turn a schedule's or TODO item's node red (3-strike escalation), or clear it."""
        self._guard("escalation", lambda g: self._light(g, [subject_node(g, kind, subject_id) or ""],
                                                        1.0 if on else 0.0, NodeFlag.ESCALATED, on))

    def run_warning(self, task_id: str, data: dict[str, Any]) -> None:
        """The run passed 80 % of its time limit: ``metadata["warning"]`` on its node, which stays lit."""

        def do(g: ThoughtGraph) -> None:
            rid = run_node_id(task_id)
            if rid not in g:
                return
            old = g.node(rid)
            text = warning_text(data)
            if old.metadata.get("warning") == text:
                return
            before = old.model_dump(mode="json", include={"metadata"})["metadata"]
            self._apply(Transaction.create(
                "engine_run_warning", [UpdateNode(node_id=rid, field="metadata", old=before,
                                                  new={**before, "warning": text})],
                params={"task_id": task_id}, description=f"Run near its time limit: {old.title}", actor=ACTOR))
            self._light(g, [rid], 1.0, NodeFlag.ACTIVE, True)

        self._guard("run warning", do)

    def mark_paused(self, kind: str, subject_id: str | None, pause: dict[str, Any] | None) -> bool:
        """Mark a schedule's or TODO item's node paused (status ``blocked``, ``metadata["paused"]``), or unmark it.

        Parameters
        ----------
        pause : dict or None
            ``{"reason", "since", "by", …}`` (plain values); None: resumed.

        Returns
        -------
        bool
            True when the node changed.
        """
        def do(g: ThoughtGraph) -> bool:
            nid = subject_node(g, kind, subject_id)
            if not nid or nid not in g:
                return False
            node = g.node(nid)
            meta = dict(node.metadata)
            if pause is not None:
                status = NodeStatus.BLOCKED
                meta["paused"] = {k: v for k, v in pause.items() if v is not None}
            elif "paused" in meta:
                meta.pop("paused", None)
                status = NodeStatus.ARCHIVED if meta.get("active") is False else \
                    (NodeStatus.ACTIVE if node.kind is NodeKind.SCHEDULE else NodeStatus.OPEN)
            else:
                return False
            edits = []
            for name, new in (("status", status.value), ("metadata", meta)):
                before = node.model_dump(mode="json", include={name})[name]
                if before != new:
                    edits.append(UpdateNode(node_id=nid, field=name, old=before, new=new))
            if edits:
                self._apply(Transaction.create(
                    "engine_paused" if pause is not None else "engine_resumed", edits,
                    params={"kind": kind, "subject_id": subject_id},
                    description=f"{'Paused' if pause is not None else 'Resumed'}: {node.title}", actor=ACTOR))
            g.set_flags([nid], NodeFlag.ESCALATED, pause is not None)
            return bool(edits)

        return bool(self._guard("pause", do))


def _pause_of(data: dict[str, Any]) -> dict[str, Any]:
    """The ``metadata["paused"]`` of an escalated event's payload (an ``Escalation`` dump)."""
    from orchestrator_gui.engine.failures import Escalation, escalation_reason

    try:
        reason = escalation_reason(Escalation.model_validate(data))
    except Exception:  # noqa: BLE001 - an odd payload still pauses the node
        reason = "escalated"
    return {"reason": reason, "since": data.get("time"), "by": "escalation", "task_id": data.get("task_id")}


def warning_text(data: dict[str, Any]) -> str:
    """``80 % of the 60 s time limit used after 48.0 s`` from a warning event's (or record's) payload."""
    try:
        elapsed, limit = float(data.get("elapsed_s") or 0.0), float(data.get("limit_s") or 0.0)
    except (TypeError, ValueError):
        return "near its time limit"
    share = f"{round(100 * elapsed / limit)} %" if limit > 0 else "most"
    return f"{share} of the {limit:g} s time limit used after {elapsed:.1f} s"
