"""Approval use cases: list the runs waiting for approval, approve (optionally edited), skip; gate TODO runs.

Written once here and used by every face: ``orchestrator-gui runs
pending/approve/skip``, the app's Runs panel and (later) the API. The pending
list itself and the scheduler's gate are in :mod:`orchestrator_gui.engine.approvals`.

* **approve**: the entry is marked approved; the scheduler's next tick starts
  the run (the app turns its loop at once). With ``instructions`` the run gets
  that text once; ``.roo/schedules.json`` keeps its ``taskInstructions``.
* **skip**: for a schedule, exactly what Roo writes for a skipped run
  (:func:`~orchestrator_gui.engine.scheduler.skipped_updates`: ``lastSkippedTime``
  = now and the re-armed ``nextExecutionTime``), nothing else; the entry goes.
  A TODO run's entry simply goes (TODO.md has no skip field).
* **resume** of an escalated schedule: the pause is cleared and its next run
  waits for approval (a *hold*), whatever ``approve`` says.
* **TODO runs**: :func:`gate_todo` is asked before a TODO run starts.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import tzinfo
from pathlib import Path
from typing import Any

from orchestrator_gui.engine.approvals import (
    MAX_SHORT,
    MAX_TEXT,
    Approval,
    Approvals,
    Hold,
    load_approvals,
    now_ms,
    request,
    required_by_config,
    update_approvals,
)
from orchestrator_gui.engine.config import EngineConfig, load_config
from orchestrator_gui.engine.scheduler import skipped_updates
from orchestrator_gui.engine.writeback import write_runtime_fields
from orchestrator_gui.formats.timezones import local_zone

SCHEDULES = Path(".roo") / "schedules.json"


class ApprovalPending(Exception):
    """A run was not started: it waits for approval (``approval`` says which entry)."""

    def __init__(self, approval: Approval) -> None:
        self.approval = approval
        super().__init__(f"{approval.kind} {approval.subject_id} waits for approval ({approval.id}): "
                         f"orchestrator-gui runs approve {approval.id}")


def pending(root: str | os.PathLike[str]) -> list[Approval]:
    """Every run waiting for (or approved and not yet started), oldest first. Raises ``FormatError``."""
    return list(load_approvals(root).pending)


def _take(doc: Approvals, approval_id: str) -> Approval:
    found = doc.by_id(approval_id)
    if found is None:
        raise KeyError(f"no run waits for approval under id {approval_id!r} (see 'runs pending')")
    return found


def approve(root: str | os.PathLike[str], approval_id: str, instructions: str | None = None) -> Approval:
    """Approve a waiting run, with one-off ``instructions`` when given; returns the updated entry.

    Raises
    ------
    KeyError
        No entry with that id.
    ValueError
        Empty or over-long instructions.
    FormatError
        ``approvals.json`` is bad (nothing written).
    """
    if instructions is not None and not instructions.strip():
        raise ValueError("the edited instructions are empty")
    if instructions is not None and len(instructions) > MAX_TEXT:
        raise ValueError(f"the edited instructions are longer than {MAX_TEXT} characters")

    def change(doc: Approvals) -> Approval:
        found = _take(doc, approval_id)
        new = Approval(**{**found.to_dict(), "state": "approved", "edited": instructions})
        doc.pending[doc.pending.index(found)] = new
        return new
    return update_approvals(root, change)


def skip(root: str | os.PathLike[str], approval_id: str, *, now: int | None = None,
         tz: tzinfo | None = None) -> Approval:
    """Skip a waiting run: Roo's skip write-back for a schedule, then the entry goes; returns it.

    ``tz`` is the zone of schedule dates and hours for the re-armed next run
    (default: this machine's, as the scheduler's).

    Raises
    ------
    KeyError
        No entry with that id, or the schedule is gone from ``schedules.json``.
    FormatError
        ``approvals.json`` is bad, or ``schedules.json`` cannot be written (the entry then stays).
    """
    at = now_ms() if now is None else now
    entry = _take(load_approvals(root), approval_id)
    if entry.kind == "schedule":
        from orchestrator_gui.problems import FormatError

        path = Path(root) / SCHEDULES
        zone = tz if tz is not None else local_zone()
        res = write_runtime_fields(path, entry.subject_id, lambda cur: skipped_updates(cur, at, zone))
        if not res.ok:
            if "no schedule" in str(res.error or "").lower():
                raise KeyError(str(res.error))
            raise FormatError(str(path), f"skip not written: {res.error}")

    def change(doc: Approvals) -> Approval:
        found = _take(doc, approval_id)
        doc.pending.remove(found)
        doc.holds = [h for h in doc.holds if not (h.kind == found.kind and h.subject_id == found.subject_id)]
        return found
    return update_approvals(root, change)


def hold(root: str | os.PathLike[str], kind: str, subject_id: str, reason: str) -> None:
    """Make the subject's next run wait for approval once (whatever the config says)."""
    def change(doc: Approvals) -> None:
        if doc.hold(kind, subject_id) is None:
            doc.holds.append(Hold(kind, subject_id, reason[:MAX_SHORT]))
    update_approvals(root, change)


def resume(root: str | os.PathLike[str], subject_id: str, kind: str = "schedule", *, engine: Any = None,
           session: Any = None) -> bool:
    """Resume a paused item; an escalated one's next run then waits for approval. False: it was not paused.

    See :func:`orchestrator_gui.workspace.pauses.resume` for what clearing a pause writes.
    """
    from orchestrator_gui.workspace.pauses import paused
    from orchestrator_gui.workspace.pauses import resume as clear

    was = paused(root, kind).get(subject_id)
    changed = clear(root, subject_id, kind, engine=engine, session=session)
    if was is not None and was.by == "escalation":
        hold(root, kind, subject_id, f"resumed after escalation ({was.reason}): approve its next run")
    return changed


def asks_approval(root: str | os.PathLike[str], kind: str, subject_id: str) -> bool:
    """Whether the config makes this subject's runs wait (the app's "Ask before running" box)."""
    return required_by_config(load_config(root), kind, subject_id) is not None


def set_approve(root: str | os.PathLike[str], kind: str, subject_id: str, value: bool) -> bool:
    """Write ``approve = true/false`` under ``[schedules."<id>"]`` (``[todos."<key>"]``); False: unchanged.

    Only that one value's bytes change (comments and layout stay); retried
    when another program wrote the config meanwhile.

    Raises
    ------
    FormatError
        The config does not parse, or kept changing (nothing written).
    """
    from orchestrator_gui.engine.config import config_path
    from orchestrator_gui.engine.config_toml import set_table_value
    from orchestrator_gui.formats.fileio import atomic_write, decode_text
    from orchestrator_gui.problems import ConflictError, FormatError

    path = config_path(root)
    name = str(path)
    for _ in range(5):
        try:
            data: bytes | None = path.read_bytes()
        except FileNotFoundError:
            data = None
        except OSError as exc:
            raise FormatError(name, f"cannot read: {exc.strerror or exc}") from None
        text = decode_text(data, name)[0] if data is not None else ""
        bom = b"\xef\xbb\xbf" if data is not None and data.startswith(b"\xef\xbb\xbf") else b""
        new = set_table_value(text, ("schedules" if kind == "schedule" else "todos", subject_id), "approve",
                              bool(value), name)
        if new == text:
            return False
        try:
            atomic_write(path, bom + new.encode("utf-8"), expected=data, create=data is None)
            return True
        except ConflictError:
            continue
    raise ConflictError(name, "changed on disk during every attempt to write it; nothing was written")


def gate_todo(root: str | os.PathLike[str], run: Any, *, config: EngineConfig | None = None,
              now: int | None = None) -> Approval | None:
    """Ask before a TODO run (:class:`~orchestrator_gui.engine.todo_runs.TodoRun`) starts.

    Returns None when it may start (``run.task`` then carries an approved
    edit's instructions), or the waiting entry (nothing was started).
    """
    cfg = config or load_config(root)
    reasons = []
    by_config = required_by_config(cfg, "todo", run.key)
    if by_config:
        reasons.append(by_config)
    held = load_approvals(root).hold("todo", run.key)
    if held is not None:
        reasons.append(held.reason)
    if not reasons:
        return None
    at = now_ms() if now is None else now
    entry, approved = request(root, kind="todo", subject_id=run.key, name=run.text, mode=run.task.mode,
                              instructions=run.task.instructions,
                              reasons=reasons + [f"TODO.md line {run.line}"],
                              due=None, now_ms=at)
    if not approved:
        return entry
    if entry.edited is not None:
        run.task = run.task.model_copy(update={"instructions": entry.edited})
    return None


def pending_by_subject(root: str | os.PathLike[str]) -> dict[tuple[str, str], Approval]:
    """``(kind, subject_id) -> entry``: what the graph flags and the status bar counts."""
    return {(a.kind, a.subject_id): a for a in load_approvals(root).pending}


def flag_nodes(graph: Any, waiting: dict[tuple[str, str], Approval], before: list[str] = ()) -> list[str]:
    """Outline the nodes of runs that wait for approval; returns their ids (pass them as ``before`` next time).

    Why the ``ESCALATED`` bit: it is the view's "needs a person" outline
    (orange) and a waiting run needs exactly that. A node of ``before`` that
    no longer waits loses it, unless it is paused (its pause set the bit; a
    paused schedule never reaches the approval gate, so the two never mix).
    """
    from orchestrator_gui.model.identity import subject_node
    from orchestrator_gui.model.nodes import NodeFlag

    marked: list[str] = []
    for kind, sid in waiting:
        nid = subject_node(graph, kind, sid)
        if nid and nid in graph:
            marked.append(nid)
    gone = [n for n in before if n not in marked and n in graph and "paused" not in graph.node(n).metadata]
    if gone:
        graph.set_flags(gone, NodeFlag.ESCALATED, False)
    if marked:
        graph.set_flags(marked, NodeFlag.ESCALATED, True)
    return marked


def status_text(root: str | os.PathLike[str], on_error: Callable[[Exception], None] | None = None) -> str:
    """The status bar's words: ``"2 runs wait for approval"``, or "" when none (or the file is bad)."""
    try:
        waiting = [a for a in load_approvals(root).pending if a.state == "pending"]
    except Exception as exc:  # noqa: BLE001 - a status bar never raises; the panel shows the error
        if on_error is not None:
            on_error(exc)
        return ""
    if not waiting:
        return ""
    return f"{len(waiting)} run{'s' if len(waiting) != 1 else ''} wait{'s' if len(waiting) == 1 else ''} for approval"


__all__ = ["ApprovalPending", "approve", "asks_approval", "flag_nodes", "gate_todo", "hold", "pending",
           "pending_by_subject", "resume", "set_approve", "skip", "status_text"]
