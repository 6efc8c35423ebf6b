"""MCP through the SDK's own client, over stdio (``orchestrator-gui mcp``) and over HTTP (``/mcp``).

Each lists the tools, reads a resource, runs a search and a generate; the
generate is then undone through REST: in the same process for HTTP, and
across processes for stdio (the REST server opened afterwards continues the
journal's undo history).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys

import httpx2
from api_helpers import TOKEN, serve, stop
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from orchestrator_gui.api.mcp_server import RESOURCES, TOOL_COUNT


async def _exercise(client: Client) -> dict:
    """List, read, search and generate; returns what the generate created."""
    tools = (await client.list_tools()).tools
    names = [t.name for t in tools]
    assert 10 <= len(names) == TOOL_COUNT <= 12
    assert {"graph_search", "graph_transform", "todo_edit", "schedule_edit", "runs"} <= set(names)
    assert all(t.description and "\n" not in t.description for t in tools)
    assert len(json.dumps([t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in tools])) <= 6000
    uris = [str(r.uri) for r in (await client.list_resources()).resources]
    assert uris == [f"workspace://{name}" for name, _, _ in RESOURCES]
    todo = await client.read_resource("workspace://TODO.md")
    assert todo.contents[0].text.startswith("# tidewatch")
    hits = await client.call_tool("graph_search", {"query": "tide prediction", "limit": 3})
    assert not hits.is_error
    found = json.loads(hits.content[0].text)
    assert found
    generated = await client.call_tool("graph_transform", {"op": "generate", "ids": [found[0]["id"]], "n": 2})
    assert not generated.is_error, generated.content[0].text
    result = json.loads(generated.content[0].text)
    assert len(result["created"]) == 2 and result["transaction"]
    refused = await client.call_tool("todo_edit", {"action": "check", "item": "99999"})
    assert refused.is_error and "TODO.md:99999: error:" in refused.content[0].text
    assert "/" not in refused.content[0].text.split("TODO.md")[0]  # no absolute path, no traceback
    return {**result, "found": [h["id"] for h in found]}


def test_mcp_over_http_then_undo_through_rest(served):
    async def run() -> dict:
        async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}) as http:
            async with Client(streamable_http_client(served.url + "/mcp", http_client=http)) as client:
                return await _exercise(client)

    result = asyncio.run(run())
    rest = served.client.get("/graph/search", params={"q": "tide prediction", "limit": 3}).json()["nodes"]
    assert [n["id"] for n in rest] == result["found"]
    for node_id in result["created"]:
        assert served.client.get(f"/graph/nodes/{node_id}").status_code == 200
    undone = served.client.post("/undo").json()
    assert sorted(undone["removed"]) == sorted(result["created"])
    for node_id in result["created"]:
        assert served.client.get(f"/graph/nodes/{node_id}").status_code == 404


def test_mcp_over_stdio_then_undo_through_rest(workspace):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    # --init: the graph goes to the copy's .orchestrator/, where the REST server opened next finds it.
    params = StdioServerParameters(command=sys.executable, args=["-m", "orchestrator_gui", "mcp", "-w",
                                                                 str(workspace), "--init"], env=env)

    async def run() -> dict:
        async with Client(params) as client:
            return await _exercise(client)

    result = asyncio.run(run())
    served = serve(workspace)  # another process: it continues the history from the journal
    try:
        for node_id in result["created"]:
            assert served.client.get(f"/graph/nodes/{node_id}").status_code == 200
        undone = served.client.post("/undo").json()
        assert sorted(undone["removed"]) == sorted(result["created"])
        assert served.client.get(f"/graph/nodes/{result['created'][0]}").status_code == 404
    finally:
        stop(served)
