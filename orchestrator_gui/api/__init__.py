"""The local API: REST, a WebSocket of events and MCP over the application layer (a thin face, like ``cli``).

Nothing here decides anything about the workspace: every resource and tool
is one call of ``orchestrator_gui.workspace`` on the live session, and
this package only translates requests, checks who may ask (``security``)
and serves (``server``).

Modules
-------
app          create_app: the FastAPI app (REST, /events, /mcp) behind the guard
security     Guard (host, origin, token, body size) and the per-user token
routes_files TODO, schedules, memory, timing, modes (ETag / If-Match)
routes_graph graph reads, transforms, undo/redo/history/restore/export, runs
events_ws    the /events WebSocket (sequence numbers, ?since= resume)
mcp_server   the MCP server: twelve tools, the workspace files as resources
errors       problem-details responses (FILE:LINE, no traceback, no token)
models       request and response bodies
server       ApiServer: uvicorn on a bound socket (foreground or a thread)
embedded     start_local_server: the server inside the desktop app (app.py hands it to the window)
"""
