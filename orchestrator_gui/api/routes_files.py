"""REST resources of the workspace files: TODO, schedules, memory, timing, modes.

Each handler only translates the request into one call of the application
layer (``workspace.todo_edits``, ``schedule_edits``, ``logs``) run on the
session's thread, and its result into a response. File resources carry an
``ETag`` (the hash of the file's bytes); a write with ``If-Match`` naming
another version is refused with 409 and the current version.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Header, Path, Query, Response, status

from orchestrator_gui.api import models as m
from orchestrator_gui.workspace import logs, schedule_edits, todo_edits
from orchestrator_gui.workspace.file_edits import Written
from orchestrator_gui.workspace.todo_ids import parse_item_ref

IfMatch = Header(None, alias="If-Match", max_length=200, description="The version (ETag) the edit is based on.")
ItemRef = Path(max_length=200, description="Line number, or item id (item/<hash>) from GET /todo.")
ScheduleId = Path(min_length=1, max_length=200)


def version(value: str | None) -> str | None:
    """The ETag an ``If-Match`` header names (quotes and a weak prefix dropped); ``*`` stays ``*``."""
    if value is None:
        return None
    value = value.strip()
    if value.startswith("W/"):
        value = value[2:]
    return value.strip('"') or None


def tag(response: Response, etag: str | None) -> None:
    """Put the file's version in the ``ETag`` header."""
    if etag:
        response.headers["ETag"] = f'"{etag}"'


def written(response: Response, w: Written) -> m.Written:
    tag(response, w.etag)
    return m.Written(etag=w.etag, changed=w.changed, result=w.value or {})


def _ref(value: str | None) -> int | str | None:
    return None if value is None else parse_item_ref(value)


def _zone(tz: str | None) -> Any:
    from orchestrator_gui.formats.timezones import local_zone, named_zone

    return named_zone(tz) if tz else local_zone()


def files_router(live: Any) -> APIRouter:
    """The file resources of ``live`` (a :class:`~orchestrator_gui.workspace.live.LiveWorkspace`)."""
    r = APIRouter()
    root = live.root

    def history() -> Any:
        return live.session.history

    # -- TODO ------------------------------------------------------------------------------
    @r.get("/todo", response_model=m.TodoList, tags=["todo"], summary="List TODO.md items")
    def todo_list(response: Response, state: str = Query("all", pattern="^(open|done|other|all)$")) -> m.TodoList:
        items, etag = todo_edits.list_items(root, state)
        tag(response, etag)
        return m.TodoList(etag=etag, items=[m.TodoItem(**i) for i in items])

    @r.post("/todo", response_model=m.Written, status_code=status.HTTP_201_CREATED, tags=["todo"],
            summary="Add an item")
    def todo_add(body: m.TodoAdd, response: Response, if_match: str | None = IfMatch) -> m.Written:
        w = live.call(todo_edits.add_item, history(), root, body.text, section=body.section,
                      under=_ref(body.under), if_match=version(if_match))
        return written(response, w)

    for action, done in (("check", True), ("uncheck", False)):
        def toggle(response: Response, item: str = ItemRef, if_match: str | None = IfMatch,
                   _done: bool = done) -> m.Written:
            w = live.call(todo_edits.set_done, history(), root, parse_item_ref(item), _done,
                          if_match=version(if_match))
            return written(response, w)

        r.add_api_route(f"/todo/{{item:path}}/{action}", toggle, methods=["POST"], response_model=m.Written,
                        tags=["todo"], summary=f"{action.capitalize()} an item (one byte changes)",
                        name=f"todo_{action}")

    @r.post("/todo/{item:path}/move", response_model=m.Written, tags=["todo"], summary="Move an item")
    def todo_move(body: m.TodoMove, response: Response, item: str = ItemRef,
                  if_match: str | None = IfMatch) -> m.Written:
        w = live.call(todo_edits.move_item, history(), root, parse_item_ref(item), _ref(body.before),
                      if_match=version(if_match))
        return written(response, w)

    @r.patch("/todo/{item:path}", response_model=m.Written, tags=["todo"], summary="Edit an item's title")
    def todo_edit(body: m.TodoEdit, response: Response, item: str = ItemRef,
                  if_match: str | None = IfMatch) -> m.Written:
        w = live.call(todo_edits.edit_item, history(), root, parse_item_ref(item), body.text, raw=body.raw,
                      if_match=version(if_match))
        return written(response, w)

    @r.delete("/todo/{item:path}", response_model=m.Written, tags=["todo"], summary="Delete an item")
    def todo_delete(response: Response, item: str = ItemRef, if_match: str | None = IfMatch) -> m.Written:
        w = live.call(todo_edits.remove_item, history(), root, parse_item_ref(item), if_match=version(if_match))
        return written(response, w)

    # -- schedules ------------------------------------------------------------------------------
    @r.get("/schedules", response_model=m.ScheduleList, tags=["schedules"],
           summary="List schedules with next run and paused state")
    def schedules_list(response: Response, tz: str | None = Query(None, max_length=64)) -> m.ScheduleList:
        rows, etag, notes = schedule_edits.list_schedules(root, datetime.now(UTC), _zone(tz))
        tag(response, etag)
        return m.ScheduleList(etag=etag, schedules=[m.ScheduleRow(**row) for row in rows], notes=notes)

    @r.get("/schedules/{schedule_id}", response_model=m.ScheduleRow, tags=["schedules"], summary="One schedule")
    def schedule_get(response: Response, schedule_id: str = ScheduleId,
                     tz: str | None = Query(None, max_length=64)) -> m.ScheduleRow:
        row, etag = schedule_edits.get_schedule(root, schedule_id, datetime.now(UTC), _zone(tz))
        tag(response, etag)
        return m.ScheduleRow(**row)

    @r.post("/schedules", response_model=m.Written, status_code=status.HTTP_201_CREATED, tags=["schedules"],
            summary="Create a schedule")
    def schedule_add(body: m.ScheduleAdd, response: Response, if_match: str | None = IfMatch) -> m.Written:
        w = live.call(schedule_edits.add_schedule, history(), root, name=body.name, mode=body.mode,
                      instructions=body.instructions, interval=body.interval, unit=body.unit,
                      if_match=version(if_match))
        return written(response, w)

    @r.patch("/schedules/{schedule_id}", response_model=m.Written, tags=["schedules"], summary="Set fields")
    def schedule_patch(body: m.SchedulePatch, response: Response, schedule_id: str = ScheduleId,
                       if_match: str | None = IfMatch) -> m.Written:
        w = live.call(schedule_edits.set_fields, history(), root, schedule_id, dict(body.fields),
                      if_match=version(if_match))
        return written(response, w)

    for action, active in (("enable", True), ("disable", False)):
        def toggle_schedule(response: Response, schedule_id: str = ScheduleId, if_match: str | None = IfMatch,
                            _active: bool = active) -> m.Written:
            w = live.call(schedule_edits.set_active, history(), root, schedule_id, _active,
                          if_match=version(if_match))
            return written(response, w)

        r.add_api_route(f"/schedules/{{schedule_id}}/{action}", toggle_schedule, methods=["POST"],
                        response_model=m.Written, tags=["schedules"], summary=f"{action.capitalize()} a schedule",
                        name=f"schedule_{action}")

    @r.delete("/schedules/{schedule_id}", response_model=m.Written, tags=["schedules"], summary="Delete a schedule")
    def schedule_delete(response: Response, schedule_id: str = ScheduleId,
                        if_match: str | None = IfMatch) -> m.Written:
        w = live.call(schedule_edits.remove_schedule, history(), root, schedule_id, if_match=version(if_match))
        return written(response, w)

    @r.post("/schedules/{schedule_id}/run", response_model=m.RunStarted, tags=["schedules", "runs"],
            summary="Run a schedule now (the command comes from config.toml)")
    def schedule_run(schedule_id: str = ScheduleId) -> m.RunStarted:
        from orchestrator_gui.workspace.live_actions import run_now

        return m.RunStarted(**run_now(live, schedule_id))

    @r.post("/schedules/{schedule_id}/resume", response_model=m.Resumed, tags=["schedules"],
            summary="Clear a pause (after three failed runs, or set by hand)")
    def schedule_resume(schedule_id: str = ScheduleId) -> m.Resumed:
        from orchestrator_gui.workspace.approvals import resume

        def do() -> bool:
            if live.runs is not None:
                return bool(live.runs.resume(schedule_id))
            return bool(resume(root, schedule_id, "schedule", session=live.session))

        return m.Resumed(id=schedule_id, resumed=live.call(do))

    # -- memory, timing, modes ----------------------------------------------------------------------
    @r.get("/memory", response_model=m.MemoryList, tags=["memory"], summary="List persistent-memory.md entries")
    def memory_list(response: Response) -> m.MemoryList:
        rows, etag = logs.memory_entries(root)
        tag(response, etag)
        return m.MemoryList(etag=etag, entries=[m.MemoryEntry(**e) for e in rows])

    @r.post("/memory", status_code=status.HTTP_201_CREATED, tags=["memory"], summary="Append an entry")
    def memory_append(body: m.MemoryAppend) -> dict[str, Any]:
        return live.call(lambda: _appended(live, logs.MEMORY_FILE,
                                           logs.append_memory(root, body.mode, body.id, body.text)))

    @r.get("/timing", response_model=m.TimingPage, tags=["timing"], summary="The newest task_timing.tsv rows")
    def timing_list(limit: int = Query(logs.DEFAULT_PAGE, ge=1, le=10_000),
                    offset: int = Query(0, ge=0, le=10_000_000)) -> m.TimingPage:
        return m.TimingPage(**logs.timing_page(root, limit=limit, offset=offset))

    @r.post("/timing", status_code=status.HTTP_201_CREATED, tags=["timing"], summary="Append a row")
    def timing_append(body: m.TimingAppend) -> dict[str, Any]:
        return live.call(lambda: _appended(live, logs.TIMING_FILE, logs.append_timing(
            root, mode=body.mode, task_id=body.task_id, task=body.task, start=body.start, end=body.end,
            result=body.result, priority=body.priority)))

    @r.get("/modes", response_model=m.ModeList, tags=["modes"], summary="List custom modes (.roomodes)")
    def modes_list(response: Response) -> m.ModeList:
        rows, etag = logs.mode_rows(root)
        tag(response, etag)
        return m.ModeList(etag=etag, modes=[m.ModeRow(**row) for row in rows])

    return r


def _appended(live: Any, name: str, result: dict[str, Any]) -> dict[str, Any]:
    """An append this process made: one ``files`` event (and the graph synced), like any write."""
    live.files_changed([name], written=True)
    return {"ok": True, **result}


__all__ = ["files_router", "tag", "version", "written"]
