"""The MCP server (official ``mcp`` SDK): twelve tools and the workspace files as resources.

Agent clients pay for every tool in their context window, so the purposes of
the origin's twenty tools (schedules, TODO, memory, timing, modes,
delegation) and the graph's (search, read a node and its neighbourhood,
transform, link evidence, attention/active/goals) are covered by
:data:`TOOL_COUNT` tools with one-line descriptions and small typed schemas
(``tool_list_chars`` in ``benchmarks/api_bench.py`` measures the list).
Each tool is one call of the application layer on the live workspace, as
the REST resources are; a refused call answers with the CLI's message.

The files are resources ``workspace://TODO.md`` and so on; the two
append-only logs are served from their end (:data:`MAX_RESOURCE_CHARS`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import Field

from orchestrator_gui import __version__
from orchestrator_gui.model.errors import GraphError
from orchestrator_gui.model.nodes import EdgeType
from orchestrator_gui.problems import FormatError
from orchestrator_gui.workspace import graph_read, live_actions, logs, schedule_edits, todo_edits
from orchestrator_gui.workspace.file_edits import StaleVersion, read_version
from orchestrator_gui.workspace.thinking import TransformRequest
from orchestrator_gui.workspace.todo_ids import parse_item_ref

#: Characters of a log file a resource read returns (its end).
MAX_RESOURCE_CHARS = 200_000
#: The workspace files served as resources: (file, MIME type, description).
RESOURCES = (
    ("TODO.md", "text/markdown", "The TODO checklist"),
    (".roo/schedules.json", "application/json", "Roo Scheduler schedules"),
    ("persistent-memory.md", "text/markdown", "The agents' memory log (its end)"),
    ("task_timing.tsv", "text/tab-separated-values", "Task timing log (its end)"),
    (".roomodes", "text/yaml", "Custom modes"),
)
TOOL_COUNT = 12

Item = Annotated[str, Field(max_length=200, description="TODO line number or item id")]
Ids = Annotated[list[Annotated[str, Field(max_length=1000)]], Field(min_length=1, max_length=100)]
Version = Annotated[str | None, Field(max_length=100, description="ETag the edit is based on")]
Short = Annotated[str, Field(max_length=200)]
Long = Annotated[str, Field(max_length=20_000)]
EdgeName = Literal["parent", "depends_on", "derived_from", "mentions", "similar", "scheduled_by", "ran_as",
                   "evidence_for", "serves", "contradicts"]


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def build_mcp(live: Any) -> Any:
    """An :class:`~mcp.server.mcpserver.MCPServer` serving ``live`` (a LiveWorkspace)."""
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ResourceError, ToolError

    root = live.root
    server = MCPServer("orchestrator-gui", version=__version__,
                       instructions="Loop Orchestrator: this workspace's schedules, TODO list, logs and thought graph.",
                       log_level="WARNING")

    def guarded(fn: Callable[[], Any]) -> str:
        try:
            return _json(fn())
        except StaleVersion as exc:
            raise ToolError(f"{live.relative(exc.file)}: {exc.message} (current version: {exc.current})") from None
        except FormatError as exc:
            raise ToolError(f"{live.relative(exc.file)}{f':{exc.line}' if exc.line else ''}: error: {exc.message}"
                            ) from None
        except (ValueError, KeyError, GraphError, live_actions.ActionError) as exc:
            raise ToolError(str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)) from None

    def tool(description: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            server.add_tool(fn, description=description, structured_output=False)
            registered = server._tool_manager.get_tool(fn.__name__)  # the SDK offers no public setter
            registered.parameters = compact(registered.parameters)
            return fn

        return register

    history = lambda: live.session.history  # read at each call: the session's one history

    @tool("List schedules with next run and pause.")
    def schedules_list() -> str:
        return guarded(lambda: schedule_edits.list_schedules(root)[:2])

    @tool("Change a schedule: enable, disable, set fields, add, remove, run now or resume.")
    def schedule_edit(action: Literal["enable", "disable", "set", "add", "remove", "run", "resume"],
                      id: Short = "", fields: dict[str, str | bool | None] | None = None,  # noqa: A002
                      name: Short = "", mode: Short = "", instructions: Long = "", interval: Short = "1",
                      unit: Literal["minute", "hour", "day"] = "hour", version: Version = None) -> str:
        def do() -> Any:
            if action in ("enable", "disable"):
                return live.call(schedule_edits.set_active, history(), root, id, action == "enable",
                                 if_match=version)
            if action == "set":
                return live.call(schedule_edits.set_fields, history(), root, id, dict(fields or {}),
                                 if_match=version)
            if action == "add":
                return live.call(schedule_edits.add_schedule, history(), root, name=name, mode=mode,
                                 instructions=instructions, interval=interval, unit=unit, if_match=version)
            if action == "remove":
                return live.call(schedule_edits.remove_schedule, history(), root, id, if_match=version)
            if action == "run":
                return live_actions.run_now(live, id)
            return {"id": id, "resumed": live.call(lambda: bool(live.runs.resume(id))) if live.runs else False}

        return guarded(lambda: _written(do()))

    @tool("List TODO.md items with ids, state and the file version.")
    def todo_list(state: Literal["open", "done", "other", "all"] = "open") -> str:
        return guarded(lambda: dict(zip(("items", "version"), todo_edits.list_items(root, state), strict=True)))

    @tool("Change TODO.md: check, uncheck, add, edit, move or remove an item.")
    def todo_edit(action: Literal["check", "uncheck", "add", "edit", "move", "remove"], item: Item = "",
                  text: Long = "", section: Short | None = None, before: Item | None = None,
                  version: Version = None) -> str:
        def do() -> Any:
            ref = parse_item_ref(item) if action != "add" else None
            if action in ("check", "uncheck"):
                return live.call(todo_edits.set_done, history(), root, ref, action == "check", if_match=version)
            if action == "add":
                under = parse_item_ref(item) if item else None
                return live.call(todo_edits.add_item, history(), root, text, section=section, under=under,
                                 if_match=version)
            if action == "edit":
                return live.call(todo_edits.edit_item, history(), root, ref, text, if_match=version)
            if action == "move":
                target = parse_item_ref(before) if before else None
                return live.call(todo_edits.move_item, history(), root, ref, target, if_match=version)
            return live.call(todo_edits.remove_item, history(), root, ref, if_match=version)

        return guarded(lambda: _written(do()))

    @tool("Append to persistent-memory.md (memory) or task_timing.tsv (timing).")
    def log_append(log: Literal["memory", "timing"], mode: Short, id: Short, text: Long,  # noqa: A002
                   result: Short = "completed", priority: Literal["schedule", "todo"] = "todo",
                   start: Short | None = None, end: Short | None = None) -> str:
        from orchestrator_gui.formats.timezones import parse_instant

        def do() -> Any:
            if log == "memory":
                out = logs.append_memory(root, mode, id, text)
                name = logs.MEMORY_FILE
            else:
                begin = parse_instant(start) if start else None
                if begin is None:
                    raise ValueError("timing: give start (ISO 8601)")
                out = logs.append_timing(root, mode=mode, task_id=id, task=text, start=begin,
                                         end=parse_instant(end) if end else None, result=result, priority=priority)
                name = logs.TIMING_FILE
            live.files_changed([name], written=True)  # on the session's thread, before its file watch looks
            return out

        return guarded(lambda: live.call(do))

    @tool("List custom modes (.roomodes).")
    def modes_list() -> str:
        return guarded(lambda: logs.mode_rows(root)[0])

    @tool("Search the thought graph: nodes whose text has every word, best first.")
    def graph_search(query: Annotated[str, Field(min_length=1, max_length=1000)], kind: Short | None = None,
                     limit: Annotated[int, Field(ge=1, le=200)] = 20) -> str:
        def do() -> Any:
            graph_read.check_filters(kind=kind)
            return live.call(lambda: graph_read.summaries(live.session.graph,
                                                          live.index.search(query, kind=kind, limit=limit)))

        return guarded(do)

    @tool("Read a node with its edges and neighbourhood.")
    def graph_node(id: Annotated[str, Field(max_length=1000)],  # noqa: A002
                   depth: Annotated[int, Field(ge=0, le=3)] = 1,
                   limit: Annotated[int, Field(ge=1, le=200)] = 30) -> str:
        return guarded(lambda: live.call(graph_read.node_detail, live.session.graph, id, depth=depth, limit=limit))

    @tool("Transform nodes (generate, refine, aggregate, score, keep-best, prune, expand, compress); undoable.")
    def graph_transform(op: Literal["generate", "refine", "aggregate", "score", "keep-best", "prune", "expand",
                                    "compress"], ids: Ids, n: Annotated[int, Field(ge=1, le=50)] = 3,
                        feedback: Long = "", thinker: Short | None = None) -> str:
        request = TransformRequest(op=op, ids=tuple(ids), n=n, feedback=feedback, thinkers=(thinker,), actor="mcp")
        return guarded(lambda: live_actions.transform(live, request))

    @tool("Link two nodes with a typed edge (evidence_for, contradicts, serves, depends_on ...); undoable.")
    def graph_link(src: Annotated[str, Field(max_length=1000)], dst: Annotated[str, Field(max_length=1000)],
                   type: EdgeName) -> str:  # noqa: A002
        return guarded(lambda: live_actions.link(live, src, dst, EdgeType(type).value))

    @tool("Overview of the graph: attention ranking, active nodes, goals or stats.")
    def graph_overview(view: Literal["attention", "active", "goals", "stats"],
                       limit: Annotated[int, Field(ge=1, le=200)] = 20) -> str:
        from orchestrator_gui.workspace.dynamics import refresh

        def do() -> Any:
            g = live.session.graph
            if view == "attention":
                refresh(g)
                return graph_read.attention(g, limit)
            if view == "active":
                return graph_read.active(g, refresh(g, attention=False), limit)
            if view == "goals":
                return graph_read.goals(g)[:limit]
            return graph_read.stats(g, live.session.store)

        return guarded(lambda: live.call(do))

    @tool("Runs: list them, read a run's log, or cancel one.")
    def runs(action: Literal["list", "log", "cancel"], task_id: Short = "",
             limit: Annotated[int, Field(ge=1, le=200)] = 20) -> str:
        def do() -> Any:
            if action == "list":
                return live_actions.list_runs(live, limit)
            if action == "log":
                return live_actions.run_log(live, task_id, tail=16 * 1024)
            return live_actions.cancel_run(live, task_id)

        return guarded(do)

    for name, mime, description in RESOURCES:
        def read(name: str = name) -> str:
            try:
                data = read_version(root / name)
            except FormatError as exc:
                raise ResourceError(str(exc)) from None
            if data is None:
                raise ResourceError(f"{name} does not exist in this workspace")
            text = data.decode("utf-8", "replace")
            if len(text) > MAX_RESOURCE_CHARS:  # an append-only log: its newest part
                text = text[-MAX_RESOURCE_CHARS:]
                text = text[text.find("\n") + 1:]
            return text

        server.resource(f"workspace://{name}", name=name, description=description, mime_type=mime)(
            _static(read))

    return server


def compact(schema: Any, key: str | None = None) -> Any:
    """A JSON schema without the ``title`` keywords pydantic adds (they repeat the names; clients pay for them)."""
    if isinstance(schema, dict):
        return {k: compact(v, k) for k, v in schema.items() if not (k == "title" and key != "properties")}
    if isinstance(schema, list):
        return [compact(v) for v in schema]
    return schema


def _static(fn: Callable[..., str]) -> Callable[[], str]:
    """``fn`` without parameters (a static resource's function takes none)."""
    return lambda: fn()


def _written(value: Any) -> Any:
    """A :class:`~orchestrator_gui.workspace.file_edits.Written` as plain values (with the file's new version)."""
    if hasattr(value, "etag") and hasattr(value, "changed"):
        return {"version": value.etag, "changed": value.changed, **(value.value or {})}
    return value


async def tool_list_chars(server: Any) -> int:
    """The serialised size of the tool list, in characters (what a client puts in its context)."""
    tools = await server.list_tools()
    return len(json.dumps([t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in tools],
                          ensure_ascii=False))


__all__ = ["MAX_RESOURCE_CHARS", "RESOURCES", "TOOL_COUNT", "build_mcp", "tool_list_chars"]
