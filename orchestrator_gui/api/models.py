"""Request and response bodies of the local API (pydantic): every string and number has a bound.

The bounds keep one request small (titles one line of at most
:data:`MAX_TEXT` characters, id lists of at most :data:`MAX_IDS`); what a
value means is checked by the application layer, which answers with the
CLI's messages.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from orchestrator_gui.model.nodes import EdgeType

#: Longest text field (a title, an instruction, a memory entry).
MAX_TEXT = 20_000
#: Most node ids in one transform.
MAX_IDS = 100


def _text() -> Any:
    return Field(min_length=1, max_length=MAX_TEXT)


def _name() -> Any:
    return Field(min_length=1, max_length=200)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- shared -------------------------------------------------------------------------------------
class Written(BaseModel):
    """A file edit's answer: the file's new version and what the edit says it did."""

    ok: bool = True
    etag: str | None = Field(description="The file's version after the edit (send it as If-Match next time).")
    changed: bool = Field(description="False when the edit changed nothing (nothing was written).")
    result: dict[str, Any] = Field(default_factory=dict)


class Changes(BaseModel):
    """What a graph transaction did."""

    transaction: str | None
    created: list[str] = Field(default_factory=list)
    changed: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)
    scores: dict[str, float] | None = None
    candidates: list[dict[str, Any]] | None = None
    step: str | None = Field(None, description="Undo/redo: the step's text.")
    files: list[str] | None = Field(None, description="Undo/redo of a file edit: the files written.")


class Status(BaseModel):
    """The server and its workspace."""

    workspace: str
    version: str
    epoch: str = Field(description="Names this run of the event journal (see /events).")
    last_seq: int
    engine: bool
    store: bool
    nodes: int
    edges: int


# -- files ---------------------------------------------------------------------------------------
class TodoItem(BaseModel):
    line: int
    id: str
    state: Literal["open", "done", "other"]
    text: str
    depth: int
    section: str | None


class TodoList(BaseModel):
    etag: str | None
    items: list[TodoItem]


class TodoAdd(_Strict):
    text: str = _text()
    section: str | None = Field(None, max_length=MAX_TEXT, description="Add at the end of this section.")
    under: str | None = Field(None, max_length=200, description="Add as the last sub-item of this item (line or id).")


class TodoEdit(_Strict):
    text: str = _text()
    raw: bool = Field(False, description="Write the text exactly as given, dropping the old markup.")


class TodoMove(_Strict):
    before: str | None = Field(None, max_length=200,
                               description="Item (line or id) to move before; null: after its last sibling.")


class ScheduleRow(BaseModel):
    id: str
    name: str
    mode: str
    active: bool
    interval: str | None
    unit: str | None
    line: int
    next_run: str | None
    paused: bool
    pause: dict[str, Any] | None
    fields: dict[str, Any] | None = None


class ScheduleList(BaseModel):
    etag: str | None
    schedules: list[ScheduleRow]
    notes: list[str] = Field(default_factory=list)


class ScheduleAdd(_Strict):
    name: str = _name()
    mode: str = _name()
    instructions: str = _text()
    interval: str = Field(pattern=r"^[1-9][0-9]{0,5}$", description="Whole number of units.")
    unit: Literal["minute", "hour", "day"]


class SchedulePatch(_Strict):
    fields: dict[str, str | bool | dict[str, bool] | None] = Field(
        min_length=1, max_length=30,
        description="Keys of the file (taskInstructions, timeInterval, active …) with values of the types it "
                    "stores (numbers as strings); null removes a key.")


class RunStarted(BaseModel):
    task_id: str
    dry_run: str | None = Field(description="Why nothing really starts (no runner configured), or null.")


class Resumed(BaseModel):
    id: str
    resumed: bool


class MemoryEntry(BaseModel):
    line: int
    end_line: int
    form: str
    timestamp: str
    mode: str | None
    id: str | None
    summary: str
    section: str | None


class MemoryList(BaseModel):
    etag: str | None
    entries: list[MemoryEntry]


class MemoryAppend(_Strict):
    mode: str = Field(min_length=1, max_length=100)
    id: str = Field(min_length=1, max_length=200)
    text: str = _text()


class TimingPage(BaseModel):
    rows: list[dict[str, Any]]
    more: bool
    offset: int
    limit: int


class TimingAppend(_Strict):
    mode: str = Field(min_length=1, max_length=100)
    task_id: str = Field(min_length=1, max_length=200)
    task: str = _text()
    start: datetime
    end: datetime | None = None
    result: str = Field(min_length=1, max_length=MAX_TEXT)
    priority: Literal["schedule", "todo"]


class ModeRow(BaseModel):
    slug: str
    name: str
    groups: list[str]
    source: str | None = None
    line: int | None = None


class ModeList(BaseModel):
    etag: str | None
    modes: list[ModeRow]


# -- graph ---------------------------------------------------------------------------------------
class NodeBrief(BaseModel):
    id: str
    kind: str
    layer: str
    status: str
    title: str
    score: float
    activation: float
    attention: float
    file: str | None
    line: int | None


class NodePage(BaseModel):
    total: int
    offset: int
    limit: int
    nodes: list[NodeBrief]


class NodeDetail(BaseModel):
    node: dict[str, Any]
    state: dict[str, Any]
    edges: list[dict[str, Any]]
    neighbours: list[NodeBrief]
    truncated: bool


class SearchHits(BaseModel):
    query: str
    nodes: list[NodeBrief]


class Transform(_Strict):
    ids: list[str] = Field(min_length=1, max_length=MAX_IDS)
    n: int = Field(3, ge=1, le=50, description="generate: at most this many children; keep-best: how many to keep.")
    feedback: str = Field("", max_length=MAX_TEXT, description="refine: the feedback.")
    in_place: bool = Field(False, description="refine: edit the node itself.")
    thinker: str | None = Field(None, max_length=100, description="A thinker named in config.toml.")
    speculative: int | None = Field(None, ge=1, le=16)
    keep: int = Field(1, ge=1, le=16)
    scorer: str | None = Field(None, max_length=100)


class Link(_Strict):
    src: str = Field(min_length=1, max_length=1000)
    dst: str = Field(min_length=1, max_length=1000)
    type: EdgeType


class Unlink(_Strict):
    src: str = Field(min_length=1, max_length=1000)
    dst: str = Field(min_length=1, max_length=1000)
    type: EdgeType | None = None


class Restore(_Strict):
    tx_id: str = Field(min_length=1, max_length=100)


class HistoryState(BaseModel):
    can_undo: bool
    undo: str
    can_redo: bool
    redo: str
    entries: list[dict[str, Any]]


class RunRow(BaseModel):
    task_id: str | None
    kind: str | None
    subject_id: str | None
    title: str | None
    mode: str | None
    state: str
    status: str | None
    dry_run: bool | None = None
    started_at: str | None = None
    ended_at: str | None = None
    duration_s: float | None = None
    error: str | None = None


class RunLog(BaseModel):
    task_id: str
    size: int
    offset: int
    text: str


class Cancelled(BaseModel):
    task_id: str
    cancelled: bool


class PendingApproval(BaseModel):
    """A run waiting for approval (``orchestrator-gui runs pending``)."""

    id: str
    kind: str
    subject_id: str
    name: str
    mode: str
    instructions: str
    reasons: list[str]
    due: str | None = None
    requested: str
    state: str
    edited: str | None = None


class ApproveBody(BaseModel):
    """Approve, optionally with one-off instructions (``schedules.json`` keeps its own)."""

    instructions: str | None = Field(None, min_length=1, max_length=200_000)

