"""Runs that wait for the user's approval: the pending list on disk, and the scheduler's approval gate.

A schedule (``[schedules."<id>"] approve = true``) or the TODO runs
(``[todo] approve = true``, ``[todos."<key>"] approve``) can require approval
in ``.orchestrator/config.toml``; so does the first run after an escalated
schedule was resumed (a *hold*). Such a run does not start when it comes due:
:class:`ApprovalGate` refuses it with ``retry`` (nothing is written to
``schedules.json``, the slot stays armed and is asked about again every tick)
and records it as *pending* in ``.orchestrator/approvals.json``. The user then
approves it (the next tick starts it, with one-off edited instructions if
given) or skips it (``lastSkippedTime``, see :mod:`orchestrator_gui.workspace.approvals`).

The file is ours (docs/formats.md §8 style): one JSON object,
``{"version": 1, "pending": [...], "holds": [...]}``, written atomically
(lock, compare, rename) and re-read on every change, because the scheduler
(``run``) and the faces (``runs approve``, the app) are often different
processes. Every value has a size or range limit; a bad file is a
``FILE:LINE`` :class:`~orchestrator_gui.problems.FormatError`.

Why edited instructions go through :meth:`ApprovalGate.engine`: the gate
protocol cannot change the task the scheduler built, so the gate remembers the
edit for the allowed task id and a thin engine wrapper swaps the text in at
``submit`` (the one-off edit never touches ``schedules.json``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from orchestrator_gui.engine.config import EngineConfig, load_config
from orchestrator_gui.engine.scheduler import Allow, Deny, Offer, Shared, StartRequest
from orchestrator_gui.formats.fileio import atomic_write, line_of_offset
from orchestrator_gui.formats.jsonpos import JNode, parse_json
from orchestrator_gui.formats.nextrun import iso_ms, to_ms
from orchestrator_gui.formats.schedules import load_schedules
from orchestrator_gui.problems import ConflictError, FormatError

#: Where the pending approvals live, relative to the workspace.
APPROVALS = Path(".orchestrator") / "approvals.json"
#: Limits: a file bigger than this is refused, so are more entries or longer texts.
MAX_BYTES = 4 * 1024 * 1024
MAX_ENTRIES = 500
MAX_TEXT = 200_000
MAX_SHORT = 1_000
MAX_REASONS = 20
MAX_DEPTH = 6
_ATTEMPTS = 8
KINDS = ("schedule", "todo")
STATES = ("pending", "approved")
_ID = re.compile(r"^[a-z]-[0-9a-f]{10}$")


@dataclass(frozen=True)
class Approval:
    """One run waiting for (or granted) approval.

    Attributes
    ----------
    id : str
        ``s-<10 hex>`` (schedule) or ``t-<10 hex>`` (TODO item): what ``runs approve`` takes.
    kind : {"schedule", "todo"}
    subject_id : str
        The schedule id or TODO item key.
    name, mode, instructions : str
        What would run (instructions as stored in the workspace when it came due).
    reasons : list of str
        Why it waits (the config key, a resume after escalation, the due time).
    due : str or None
        The slot (ISO), for schedules.
    requested : str
        When it started to wait (ISO).
    state : {"pending", "approved"}
    edited : str or None
        One-off instructions to run instead (an approval after an edit).
    """

    id: str
    kind: str
    subject_id: str
    name: str
    mode: str
    instructions: str
    reasons: list[str] = field(default_factory=list)
    due: str | None = None
    requested: str = ""
    state: str = "pending"
    edited: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (the file, ``runs pending --json``)."""
        return asdict(self)

    @property
    def runs_instructions(self) -> str:
        """The text that will run: the edit when there is one."""
        return self.edited if self.edited is not None else self.instructions


@dataclass(frozen=True)
class Hold:
    """A subject whose next run needs approval once (a resumed escalation), whatever the config says."""

    kind: str
    subject_id: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Approvals:
    """The content of ``approvals.json``."""

    pending: list[Approval] = field(default_factory=list)
    holds: list[Hold] = field(default_factory=list)

    def find(self, kind: str, subject_id: str) -> Approval | None:
        """The entry of one subject (there is at most one)."""
        return next((a for a in self.pending if a.kind == kind and a.subject_id == subject_id), None)

    def by_id(self, approval_id: str) -> Approval | None:
        return next((a for a in self.pending if a.id == approval_id), None)

    def hold(self, kind: str, subject_id: str) -> Hold | None:
        return next((h for h in self.holds if h.kind == kind and h.subject_id == subject_id), None)

    def to_bytes(self) -> bytes:
        # One entry per line: a hand edit or a FILE:LINE error points at one run.
        def block(name: str, rows: list[Any]) -> str:
            inner = ",\n".join("    " + json.dumps(r.to_dict(), ensure_ascii=False) for r in rows)
            return f'  "{name}": [\n{inner}\n  ]' if rows else f'  "{name}": []'
        return ("{\n  \"version\": 1,\n" + block("pending", self.pending) + ",\n"
                + block("holds", self.holds) + "\n}\n").encode("utf-8")


def approvals_path(root: str | os.PathLike[str]) -> Path:
    """``<root>/.orchestrator/approvals.json``."""
    return Path(root) / APPROVALS


def approval_id(kind: str, subject_id: str, requested: str) -> str:
    """A short id, new for every wait (so an old id never approves a newer run)."""
    h = hashlib.blake2b(f"{kind}\0{subject_id}\0{requested}".encode(), digest_size=5).hexdigest()
    return f"{kind[0]}-{h}"


# -- reading -------------------------------------------------------------------------------------
def _fail(path: Path, text: str, node: JNode | None, msg: str) -> FormatError:
    return FormatError(str(path), msg, line=line_of_offset(text, node.start) if node is not None else 1)


def _string(path: Path, text: str, obj: JNode, key: str, *, limit: int, optional: bool = False) -> str | None:
    node = obj.get(key)
    if node is None or node.kind == "null":
        if optional:
            return None
        raise _fail(path, text, obj, f"approval entry has no {key!r}")
    if node.kind != "string":
        raise _fail(path, text, node, f"{key!r} must be a string")
    if len(node.value) > limit:
        raise _fail(path, text, node, f"{key!r} is longer than {limit} characters")
    return str(node.value)


def _entry(path: Path, text: str, obj: JNode) -> Approval:
    if obj.kind != "object":
        raise _fail(path, text, obj, "each pending approval must be an object")
    s = lambda k, **kw: _string(path, text, obj, k, limit=kw.pop("limit", MAX_SHORT), **kw)  # noqa: E731
    kind = s("kind")
    if kind not in KINDS:
        raise _fail(path, text, obj.get("kind"), f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    state, aid = s("state"), s("id")
    if state not in STATES:
        raise _fail(path, text, obj.get("state"), f"state must be one of {', '.join(STATES)}, not {state!r}")
    if not _ID.match(aid or ""):
        raise _fail(path, text, obj.get("id"), f"id {aid!r} is not an approval id (like s-0123456789)")
    reasons_node = obj.get("reasons")
    reasons: list[str] = []
    if reasons_node is not None:
        if reasons_node.kind != "array" or len(reasons_node.items) > MAX_REASONS:
            raise _fail(path, text, reasons_node, f"'reasons' must be a list of at most {MAX_REASONS} strings")
        for r in reasons_node.items:
            if r.kind != "string" or len(r.value) > MAX_SHORT:
                raise _fail(path, text, r, f"each reason must be a string of at most {MAX_SHORT} characters")
            reasons.append(str(r.value))
    return Approval(id=str(aid), kind=str(kind), subject_id=str(s("subject_id")), name=str(s("name")),
                    mode=str(s("mode")), instructions=str(s("instructions", limit=MAX_TEXT)), reasons=reasons,
                    due=s("due", optional=True), requested=str(s("requested")), state=str(state),
                    edited=s("edited", limit=MAX_TEXT, optional=True))


def parse_approvals(data: bytes, path: Path) -> Approvals:
    """Parse the bytes of ``approvals.json``.

    Raises
    ------
    FormatError
        ``FILE:LINE``: too big, not JSON, too deep, a wrong type, an unknown
        kind or state, a text over its limit, too many entries.
    """
    if len(data) > MAX_BYTES:
        raise FormatError(str(path), f"larger than {MAX_BYTES} bytes; refusing to read it", line=1)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FormatError(str(path), f"not UTF-8: {exc.reason}",
                          line=line_of_offset(data, exc.start)) from None
    if not text.strip():
        return Approvals()
    root = parse_json(text, str(path))
    if root.kind != "object":
        raise _fail(path, text, root, "must be a JSON object with \"pending\" and \"holds\"")
    depth = _depth(root)
    if depth > MAX_DEPTH:
        raise _fail(path, text, root, f"nested {depth} levels deep; at most {MAX_DEPTH}")
    version = root.get("version")
    if version is not None and (version.kind != "number" or version.value != 1):
        raise _fail(path, text, version, "version must be 1")
    out = Approvals()
    pending = root.get("pending")
    if pending is not None:
        if pending.kind != "array":
            raise _fail(path, text, pending, "'pending' must be a list")
        if len(pending.items) > MAX_ENTRIES:
            raise _fail(path, text, pending, f"more than {MAX_ENTRIES} pending approvals")
        out.pending = [_entry(path, text, n) for n in pending.items]
    holds = root.get("holds")
    if holds is not None:
        if holds.kind != "array" or len(holds.items) > MAX_ENTRIES:
            raise _fail(path, text, holds, f"'holds' must be a list of at most {MAX_ENTRIES} entries")
        for n in holds.items:
            if n.kind != "object":
                raise _fail(path, text, n, "each hold must be an object")
            kind = _string(path, text, n, "kind", limit=MAX_SHORT)
            if kind not in KINDS:
                raise _fail(path, text, n.get("kind"), f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
            out.holds.append(Hold(str(kind), str(_string(path, text, n, "subject_id", limit=MAX_SHORT)),
                                  str(_string(path, text, n, "reason", limit=MAX_SHORT))))
    return out


def _depth(node: JNode, level: int = 1) -> int:
    children = [v for _, _, v in node.members] if node.kind == "object" else node.items if node.kind == "array" else []
    return max((_depth(c, level + 1) for c in children), default=level)


def _read(path: Path) -> bytes | None:
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise FormatError(str(path), f"cannot read: {exc.strerror or exc}") from None
    return data


def load_approvals(root: str | os.PathLike[str]) -> Approvals:
    """The workspace's approvals (empty when the file does not exist). Raises ``FormatError``."""
    path = approvals_path(root)
    data = _read(path)
    return Approvals() if data is None else parse_approvals(data, path)


def update_approvals(root: str | os.PathLike[str], change: Callable[[Approvals], Any]) -> Any:
    """Read, ``change`` in place, write atomically; retried when another process wrote meanwhile.

    Returns what ``change`` returned. Nothing is written when the file is bad
    (``FormatError``), when ``change`` raises, or when it changed nothing.
    """
    path = approvals_path(root)
    for attempt in range(_ATTEMPTS):
        data = _read(path)
        doc = Approvals() if data is None else parse_approvals(data, path)
        result = change(doc)
        new = doc.to_bytes()
        if data is not None and new == data:
            return result
        try:
            atomic_write(path, new, expected=data, create=data is None)
            return result
        except ConflictError:
            if attempt == _ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


# -- the rule --------------------------------------------------------------------------------------
def required_by_config(config: EngineConfig, kind: str, subject_id: str) -> str | None:
    """Why ``config`` makes this subject's runs wait for approval, or None."""
    sub = config.subject(kind, subject_id)
    table = "schedules" if kind == "schedule" else "todos"
    if sub is not None and sub.approve is not None:
        return f'[{table}."{subject_id}"] approve = true in .orchestrator/config.toml' if sub.approve else None
    if kind == "todo" and config.todo.approve:
        return "[todo] approve = true in .orchestrator/config.toml"
    return None


def request(root: str | os.PathLike[str], *, kind: str, subject_id: str, name: str, mode: str,
            instructions: str, reasons: list[str], due: str | None, now_ms: int) -> tuple[Approval, bool]:
    """Make ``subject_id``'s run wait, or find its existing entry; returns ``(entry, approved)``.

    An approved entry is consumed (removed, with the subject's hold) and
    returned with ``approved=True``: the caller starts the run.
    """
    def change(doc: Approvals) -> tuple[Approval, bool]:
        found = doc.find(kind, subject_id)
        if found is not None and found.state == "approved":
            doc.pending.remove(found)
            doc.holds = [h for h in doc.holds if not (h.kind == kind and h.subject_id == subject_id)]
            return found, True
        if found is not None:
            # What the user approves is what runs now: the workspace's current text, mode and reasons.
            fresh = replace(found, name=name[:MAX_SHORT], mode=mode[:MAX_SHORT], instructions=instructions[:MAX_TEXT],
                            reasons=[r[:MAX_SHORT] for r in reasons][:MAX_REASONS], due=due)
            if fresh != found:
                doc.pending[doc.pending.index(found)] = fresh
            return fresh, False
        if len(doc.pending) >= MAX_ENTRIES:
            raise FormatError(str(approvals_path(root)), f"{MAX_ENTRIES} runs already wait for approval; "
                              "approve or skip some first", line=1)
        requested = iso_ms(now_ms)
        entry = Approval(approval_id(kind, subject_id, requested), kind, subject_id, name[:MAX_SHORT],
                         mode[:MAX_SHORT], instructions[:MAX_TEXT], [r[:MAX_SHORT] for r in reasons][:MAX_REASONS],
                         due, requested)
        doc.pending.append(entry)
        return entry, False
    return update_approvals(root, change)


# -- the gate ----------------------------------------------------------------------------------------
class ApprovalGate:
    """The scheduler's start gate for runs that need approval (see the module doc).

    Parameters
    ----------
    root : path-like
        The workspace.
    config : callable, optional
        ``config() -> EngineConfig``; default: read the workspace's config at every start.
    on_pending : callable, optional
        ``on_pending(approval)`` when a run starts to wait (the graph flags its node).
    """

    def __init__(self, root: str | os.PathLike[str], *, config: Callable[[], EngineConfig] | None = None,
                 on_pending: Callable[[Approval], None] | None = None) -> None:
        self.root = Path(root)
        self._config = config or (lambda: load_config(self.root))
        self.on_pending = on_pending
        self._lock = threading.Lock()
        self._edits: dict[str, str] = {}  # allowed task id -> one-off instructions (until submitted)

    def reasons(self, kind: str, subject_id: str) -> list[str]:
        """Why this subject's next run waits; [] when it may start."""
        out = []
        by_config = required_by_config(self._config(), kind, subject_id)
        if by_config:
            out.append(by_config)
        hold = load_approvals(self.root).hold(kind, subject_id)
        if hold is not None:
            out.append(hold.reason)
        return out

    def sync(self, schedule_ids: list[str]) -> dict[str, Shared]:
        return {}

    def before_start(self, request_: StartRequest) -> Allow | Deny:
        """Allow an approved run (consuming its approval); make any other run that needs approval wait."""
        sid = request_.schedule_id
        reasons = self.reasons("schedule", sid)
        if not reasons:
            return Allow()
        try:
            sched = load_schedules(self.root / ".roo" / "schedules.json").get(sid)
            name, mode, text = sched.name, sched.mode, sched.task_instructions
        except (FormatError, KeyError):
            name, mode, text = request_.name, "", ""
        due = iso_ms(request_.due_ms) if request_.due_ms is not None else None
        entry, approved = request(self.root, kind="schedule", subject_id=sid, name=name, mode=mode,
                                  instructions=text, reasons=reasons + ([f"due at {due}"] if due else []),
                                  due=due, now_ms=request_.now_ms)
        if approved:
            if entry.edited is not None:
                with self._lock:
                    if len(self._edits) >= MAX_ENTRIES:
                        self._edits.clear()  # ids of runs a later gate refused: never submitted
                    self._edits[request_.task_id] = entry.edited
            return Allow(f"approved ({entry.id}{', edited instructions' if entry.edited is not None else ''})")
        if entry.requested == iso_ms(request_.now_ms) and self.on_pending is not None:
            self.on_pending(entry)
        return Deny(f"waits for approval ({entry.id}): orchestrator-gui runs approve {entry.id}", retry=True)

    def after_finish(self, request_: StartRequest, result: Any) -> None:
        return None

    def offers(self, now_ms: int) -> list[Offer]:
        return []

    def edited(self, task_id: str) -> str | None:
        """Take the one-off instructions approved for ``task_id`` (None when not edited)."""
        with self._lock:
            return self._edits.pop(task_id, None)

    def engine(self, engine: Any) -> Any:
        """``engine`` with ``submit`` running an approved edit's instructions (give this to the Scheduler)."""
        return EditingEngine(engine, self)


class EditingEngine:
    """An engine that runs the approved one-off instructions of a task; everything else is the engine's."""

    def __init__(self, engine: Any, gate: ApprovalGate) -> None:
        self._engine = engine
        self._gate = gate

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)

    def submit(self, task: Any) -> Any:
        text = self._gate.edited(task.task_id)
        if text is not None:
            task = task.model_copy(update={"instructions": text})
        return self._engine.submit(task)


def now_ms() -> int:
    """The system clock in epoch ms."""
    return to_ms(datetime.now(UTC))


__all__ = ["APPROVALS", "Approval", "ApprovalGate", "Approvals", "EditingEngine", "Hold", "approval_id",
           "approvals_path", "load_approvals", "parse_approvals", "request", "required_by_config",
           "update_approvals"]
