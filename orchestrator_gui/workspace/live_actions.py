"""The graph and run actions of a live workspace, for faces that serve it to other threads (the API).

Each function takes a :class:`~orchestrator_gui.workspace.live.LiveWorkspace`
and does what the CLI's command or the app's menu does, with the work
split between threads the way the app splits it:

* a **transform** is checked and its inputs copied on the owner thread
  (:meth:`~orchestrator_gui.workspace.thinking.Thinking.prepare`), built on
  the engine (a thinker may take seconds; the graph stays free meanwhile)
  and applied on the owner thread as one undoable transaction, which fails
  cleanly when an input changed meanwhile;
* **undo/redo/restore/link** are one call on the owner thread each, on the
  session's one history (in the app: Edit ▸ Undo undoes what an agent did);
* **runs** come from the engine (queued, running) and the run records
  (finished), logs from ``.orchestrator/runs/`` only, by validated task id.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

from orchestrator_gui.model.transforms import changes
from orchestrator_gui.workspace.thinking import TransformRequest

#: Longest a transform may take before the caller gets a timeout (it goes on and is applied if it ends).
TRANSFORM_TIMEOUT_S = 300.0
#: Most bytes of a run log one answer returns.
MAX_LOG_BYTES = 1024 * 1024
#: Task ids are the engine's UUIDs; anything else never names a file.
TASK_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z_-]{0,99}")
#: Graph export formats.
EXPORT_FORMATS = ("json", "graphml", "gexf")


class ActionError(Exception):
    """An action was refused or failed; the message says why (no traceback, no secret)."""


class NotFound(ActionError):
    """What the action names does not exist."""


def _empty() -> dict[str, Any]:
    return {"transaction": None, "created": [], "changed": [], "removed": []}


def transform(live: Any, request: TransformRequest, *, timeout_s: float = TRANSFORM_TIMEOUT_S) -> dict[str, Any]:
    """Run a Graph-of-Thoughts transform: ``{"transaction", "created", "changed", "removed"}`` (+ scores, candidates).

    Raises
    ------
    ActionError
        The transform failed or timed out (nothing applied), or its result no longer applies.
    ValueError, KeyError, GraphError
        The request is wrong (unknown node, bad count): nothing was started.
    """
    session = live.session

    def prepare() -> Any:
        if request.op == "score":
            from orchestrator_gui.workspace.dynamics import refresh

            refresh(session.graph)  # score reads attention: computed from the activation now, as the CLI does
        return session.thinking.prepare(session.graph, request)

    task = live.call(prepare)
    if live.engine is None:
        from orchestrator_gui.engine.tasks import CancelToken

        outcome = task.fn(CancelToken())  # built here, on a snapshot: the owner thread stays free
    else:
        handle = live.engine.submit(task)
        try:
            result = handle.result(timeout_s)
        except TimeoutError:
            handle.cancel("timeout")
            raise ActionError(f"{request.op}: no result within {timeout_s:g} s (cancelled)") from None
        if result.status != "completed":
            raise ActionError(f"{request.op}: {result.status}: {result.error or 'no result'}")
        outcome = result.value

    def apply() -> dict[str, Any]:
        tx = outcome.transaction
        committed = session.apply(tx) if tx.edits else None
        out = changes(committed) if committed is not None else _empty()
        if request.op == "score":
            out["scores"] = {i: session.graph.node(i).score for i in request.ids if i in session.graph}
        if request.speculative is not None:
            out["candidates"] = outcome.candidates
        return out

    return live.call(apply)


def link(live: Any, src: str, dst: str, edge_type: str, *, unlink: bool = False) -> dict[str, Any]:
    """Add (or with ``unlink`` remove) the edge ``src -[edge_type]-> dst`` as one undoable transaction."""
    from orchestrator_gui.model import operations

    def do() -> dict[str, Any]:
        g = live.session.graph
        if src == dst:
            raise ValueError("an edge joins two different nodes")
        tx = (operations.unlink(g, src, dst, edge_type) if unlink else operations.link(g, src, dst, edge_type))
        return changes(live.session.apply(tx))

    return live.call(do)


def step(session: Any, which: str) -> tuple[str, Any]:
    """Undo or redo the newest step of ``session``'s one history; returns its text and the ``Undone``.

    What ``graph undo``/``redo`` and the API's ``/undo``/``/redo`` both do.

    Raises
    ------
    ActionError
        Nothing to undo (redo), or the step cannot be taken back (``cannot undo 'TEXT': why``);
        nothing changed.
    """
    from orchestrator_gui.model.errors import GraphError

    if which not in ("undo", "redo"):
        raise ValueError("which must be undo or redo")
    history = session.history
    if not (history.can_undo if which == "undo" else history.can_redo):
        raise ActionError(f"nothing to {which}")
    text = history.undo_text if which == "undo" else history.redo_text
    try:
        return text, (history.undo() if which == "undo" else history.redo())
    except (GraphError, IndexError, KeyError, ValueError, OSError) as exc:
        why = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
        raise ActionError(f"cannot {which} {text!r}: {why}") from None


def undo_redo(live: Any, which: str) -> dict[str, Any]:
    """Undo or redo the newest step of the session's one history (graph steps and file steps alike)."""
    if which not in ("undo", "redo"):
        raise ValueError("which must be undo or redo")

    def do() -> dict[str, Any]:
        text, done = step(live.session, which)
        out = changes(done.committed) if done.committed is not None else _empty()
        out["step"] = text
        out["files"] = [live.relative(p) for p in done.written]
        return out

    return live.call(do)


def history_state(live: Any) -> dict[str, Any]:
    """What undo and redo would do now: ``{"can_undo", "undo", "can_redo", "redo"}``."""
    def do() -> dict[str, Any]:
        h = live.session.history
        return {"can_undo": h.can_undo, "undo": h.undo_text, "can_redo": h.can_redo, "redo": h.redo_text}

    return live.call(do)


def restore(live: Any, tx_id: str) -> dict[str, Any]:
    """Return the graph to its state right after ``tx_id`` as one undoable transaction (as ``graph restore``)."""
    def do() -> dict[str, Any]:
        session = live.session
        if session.store is None:
            raise ActionError("the graph is held in memory: there is no journal to restore from")
        try:
            committed = session.store.restore(tx_id)
        except (KeyError, LookupError, ValueError) as exc:
            raise NotFound(str(exc).strip("'\"")) from None
        if committed is None:
            return _empty()
        session.history.record(committed)  # undoable like any transaction the session applies
        return changes(committed)

    return live.call(do)


def export_bytes(live: Any, fmt: str) -> bytes:
    """The graph exported as ``fmt`` (json, graphml or gexf), as ``graph export`` writes it."""
    from orchestrator_gui.store import export_graph

    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"format must be one of {', '.join(EXPORT_FORMATS)}")

    def do() -> bytes:
        with tempfile.TemporaryDirectory(prefix="orchestrator-export-") as tmp:
            path = Path(tmp) / f"graph.{fmt}"
            export_graph(live.session.graph, path, fmt)
            return path.read_bytes()

    return live.call(do)


# -- runs ------------------------------------------------------------------------------------
def _engine(live: Any) -> Any:
    if live.engine is None:
        raise ActionError("no engine: this server runs nothing")
    return live.engine


def run_now(live: Any, schedule_id: str) -> dict[str, Any]:
    """Start a schedule's task now: ``{"task_id", "dry_run"}`` (``dry_run``: why nothing really starts, or None).

    The command is the one ``.orchestrator/config.toml`` configures for the schedule's mode; a request never names one.
    """
    _engine(live)
    if live.runs is None:
        raise ActionError("no runs: this server runs nothing")

    def do() -> dict[str, Any]:
        from orchestrator_gui.problems import FormatError

        try:
            reason = live.runs.dry_run_reason(schedule_id)
            handle = live.runs.run_now(schedule_id)
        except FormatError as exc:
            if "no schedule with id" in exc.message:
                raise NotFound(exc.message) from None
            raise
        return {"task_id": handle.task_id, "dry_run": reason}

    return live.call(do)


def _handle_row(h: Any) -> dict[str, Any]:
    t = h.task
    return {"task_id": t.task_id, "kind": t.kind, "subject_id": t.subject_id, "title": t.title,
            "mode": getattr(t, "mode", None), "state": h.state, "status": None}


def list_runs(live: Any, limit: int = 100) -> list[dict[str, Any]]:
    """Queued and running tasks (newest first), then finished runs from the records (newest first), ``limit`` in all."""
    from orchestrator_gui.engine.run_records import RunRecords

    if not 1 <= limit <= 1000:
        raise ValueError("limit must be between 1 and 1000")
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    eng = live.engine
    if eng is not None:
        for h in [*eng.running(), *eng.queued()]:
            if h.task.kind in ("schedule", "todo"):
                rows.append(_handle_row(h))
                seen.add(h.task_id)
    records = eng.records if eng is not None else RunRecords.for_workspace(live.root)
    for rec in reversed(list(records.refresh().runs.values())):
        if len(rows) >= limit:
            break
        if rec.get("task_id") in seen:
            continue
        rows.append({"task_id": rec.get("task_id"), "kind": rec.get("kind"), "subject_id": rec.get("subject_id"),
                     "title": rec.get("title"), "mode": rec.get("mode"), "state": "done", "status": rec.get("status"),
                     "dry_run": rec.get("dry_run"), "started_at": rec.get("started_at"),
                     "ended_at": rec.get("ended_at"), "duration_s": rec.get("duration_s"), "error": rec.get("error")})
    return rows[:limit]


def run_log(live: Any, task_id: str, *, tail: int = 64 * 1024) -> dict[str, Any]:
    """The end of a run's log (at most ``tail`` bytes): ``{"task_id", "size", "offset", "text"}``.

    Raises
    ------
    NotFound
        A task id that is not one, or a run without a log.
    """
    from orchestrator_gui.engine.runner import run_paths

    if not TASK_ID.fullmatch(task_id):
        raise NotFound(f"no run {task_id[:40]!r}")
    if not 1 <= tail <= MAX_LOG_BYTES:
        raise ValueError(f"tail must be between 1 and {MAX_LOG_BYTES}")
    log = run_paths(live.root, task_id)[0]
    runs_dir = (Path(live.root) / ".orchestrator" / "runs").resolve()
    try:
        real = log.resolve(strict=True)
        real.relative_to(runs_dir)  # a planted link never leads out of the runs folder
        with open(real, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            start = max(0, size - tail)
            fh.seek(start)
            data = fh.read(tail)
    except (OSError, ValueError):
        raise NotFound(f"run {task_id} has no log") from None
    return {"task_id": task_id, "size": size, "offset": start, "text": data.decode("utf-8", "replace")}


def cancel_run(live: Any, task_id: str) -> dict[str, Any]:
    """Cancel a queued or running task: ``{"task_id", "cancelled"}`` (False when it had already ended)."""
    eng = _engine(live)
    if not TASK_ID.fullmatch(task_id) or eng.handle(task_id) is None:
        raise NotFound(f"no queued or running task {task_id[:40]!r}")
    return {"task_id": task_id, "cancelled": bool(eng.cancel(task_id, "cancelled through the API"))}


__all__ = ["ActionError", "EXPORT_FORMATS", "MAX_LOG_BYTES", "NotFound", "TRANSFORM_TIMEOUT_S", "cancel_run",
           "export_bytes", "history_state", "link", "list_runs", "restore", "run_log", "run_now", "step", "transform",
           "undo_redo"]
