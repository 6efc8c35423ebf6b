"""The ASGI application: REST resources, the events WebSocket and the MCP endpoint, behind the guard.

:func:`create_app` assembles the faces of one
:class:`~orchestrator_gui.workspace.live.LiveWorkspace`: the file resources
(``routes_files``), the graph and run resources (``routes_graph``), the
``/events`` WebSocket (``events_ws``) and the MCP server over streamable
HTTP at ``/mcp`` (``mcp_server``), every one of them behind
:class:`~orchestrator_gui.api.security.Guard`. OpenAPI is at
``/openapi.json`` and the interactive docs at ``/docs`` (visit
``/docs?token=…`` once: the page then works with a cookie).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from orchestrator_gui import __version__
from orchestrator_gui.api import errors, models
from orchestrator_gui.api.events_ws import events_router
from orchestrator_gui.api.routes_files import files_router
from orchestrator_gui.api.routes_graph import graph_router
from orchestrator_gui.api.security import LOOPBACK, MAX_BODY, Guard

DESCRIPTION = """The live thought graph and workspace files of one Loop Orchestrator workspace.

Every request needs `Authorization: Bearer <token>` (`orchestrator-gui serve --show-token`).
File resources carry an `ETag`; send it back as `If-Match` and a write of a version you did not see is
refused with 409. Events stream on the WebSocket `/events` (resume with `?since=SEQ&epoch=E`).
The same actions are MCP tools at `/mcp` (streamable HTTP).
"""


#: Swagger UI's files, shipped with the package (``resources/swagger-ui``, swagger-ui-dist 5, Apache-2.0).
SWAGGER_DIR = Path(__file__).resolve().parent.parent / "resources" / "swagger-ui"
#: Where the server serves them.
SWAGGER_URL = "/static/swagger-ui"


def _self_hosted_docs(app: FastAPI) -> None:
    """``/docs`` with Swagger UI served by this server: it works on a machine without internet (no CDN)."""
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.responses import HTMLResponse
    from fastapi.staticfiles import StaticFiles

    app.mount(SWAGGER_URL, StaticFiles(directory=SWAGGER_DIR), name="swagger-ui")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title=f"{app.title} - docs",
                                   swagger_js_url=f"{SWAGGER_URL}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{SWAGGER_URL}/swagger-ui.css",
                                   swagger_favicon_url=f"{SWAGGER_URL}/favicon-32x32.png")


def create_app(live: Any, token: str, *, hosts: Iterable[str] = LOOPBACK, origins: Iterable[str] = (),
               max_body: int = MAX_BODY, mcp: bool = True) -> Guard:
    """The guarded ASGI app serving ``live``.

    Parameters
    ----------
    live : LiveWorkspace
    token : str
        The bearer token every request must carry.
    hosts : iterable of str
        Host names the server answers to.
    origins : iterable of str
        Browser origins allowed (CORS is answered for these only; none by default).
    max_body : int
        Largest request body, bytes.
    mcp : bool
        Serve the MCP endpoint at ``/mcp``.

    Returns
    -------
    Guard
        The ASGI app (its ``app`` attribute is the FastAPI application).
    """
    origins = tuple(origins)
    session_manager = None
    mcp_server = None
    if mcp:
        from mcp.server.streamable_http_manager import StreamableHTTPASGIApp
        from mcp.server.transport_security import TransportSecuritySettings

        from orchestrator_gui.api.mcp_server import build_mcp

        mcp_server = build_mcp(live)
        # Host and Origin are checked by the guard, for /mcp as for everything else.
        mcp_server.streamable_http_app(
            streamable_http_path="/mcp", max_request_body_size=max_body,
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False))
        session_manager = mcp_server.session_manager

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if session_manager is None:
            yield
            return
        async with session_manager.run():
            yield

    app = FastAPI(title="Loop Orchestrator local API", version=__version__, description=DESCRIPTION,
                  docs_url=None, redoc_url=None, openapi_url="/openapi.json", lifespan=lifespan)
    _self_hosted_docs(app)
    app.state.live = live
    app.state.mcp = mcp_server
    errors.install(app, live.root)

    @app.get("/status", response_model=models.Status, tags=["meta"], summary="The server and its workspace")
    def status() -> models.Status:
        def read() -> models.Status:
            g = live.session.graph
            return models.Status(workspace=str(live.root), version=__version__, epoch=live.journal.epoch,
                                 last_seq=live.journal.last_seq, engine=live.engine is not None,
                                 store=live.session.store is not None, nodes=g.number_of_nodes(),
                                 edges=g.number_of_edges())

        return live.call(read)

    app.include_router(files_router(live))
    app.include_router(graph_router(live))
    app.include_router(events_router(live))
    if session_manager is not None:
        app.add_route("/mcp", StreamableHTTPASGIApp(session_manager), methods=["GET", "POST", "DELETE"],
                      include_in_schema=False)
    if origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=list(origins), allow_credentials=False,
                           allow_methods=["GET", "POST", "PATCH", "DELETE"],
                           allow_headers=["Authorization", "Content-Type", "If-Match"], expose_headers=["ETag"])
    return Guard(app, token, hosts=hosts, origins=origins, max_body=max_body)


__all__ = ["DESCRIPTION", "create_app"]
