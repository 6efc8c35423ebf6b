"""Errors as JSON problem details (RFC 9457): the CLI's ``FILE:LINE`` messages, no traceback, no secret.

A :class:`~orchestrator_gui.problems.FormatError` keeps its file (relative to
the workspace) and line as extra members, so a client can point at the
place the CLI would print. A stale ``If-Match`` is 409 with the file's
current version (``etag`` member and ``ETag`` header). Anything unexpected
is a bare 500: its details go to the server's log only.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from orchestrator_gui.model.errors import GraphError, NodeNotFound, StaleEditError
from orchestrator_gui.problems import ConflictError, FormatError
from orchestrator_gui.workspace.file_edits import StaleVersion
from orchestrator_gui.workspace.live_actions import ActionError, NotFound

log = logging.getLogger("orchestrator_gui.api")
PROBLEM = "application/problem+json"
#: Longest message sent back (a message quoting user data stays short).
MAX_DETAIL = 2000


def problem(status: int, title: str, detail: str, headers: dict[str, str] | None = None,
            **extra: Any) -> JSONResponse:
    """A problem-details response."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail[:MAX_DETAIL], **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _relative(root: Path, file: str) -> str:
    try:
        return Path(file).resolve().relative_to(root.resolve()).as_posix()
    except (ValueError, OSError):
        return Path(file).name


def install(app: FastAPI, root: Path) -> None:
    """Register the handlers that turn exceptions into problem details."""

    def where(exc: FormatError) -> dict[str, Any]:
        file = _relative(root, exc.file)
        return {"file": file, "line": exc.line,
                "message": f"{file}:{exc.line}: error: {exc.message}" if exc.line else f"{file}: error: {exc.message}"}

    async def stale(_: Request, exc: StaleVersion) -> JSONResponse:
        info = where(exc)
        headers = {"ETag": f'"{exc.current}"'} if exc.current else None
        return problem(409, "Conflict", info["message"], headers=headers, file=info["file"], etag=exc.current)

    async def conflict(_: Request, exc: ConflictError) -> JSONResponse:
        info = where(exc)
        return problem(409, "Conflict", info["message"], file=info["file"], line=info["line"])

    async def format_error(_: Request, exc: FormatError) -> JSONResponse:
        info = where(exc)
        status = 404 if exc.message.startswith(("no item with id", "no TODO item", "no schedule with id")) else 422
        return problem(status, "Not Found" if status == 404 else "Unprocessable Content", info["message"],
                       file=info["file"], line=info["line"])

    async def not_found(_: Request, exc: Exception) -> JSONResponse:
        text = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
        return problem(404, "Not Found", text)

    async def refused(_: Request, exc: Exception) -> JSONResponse:
        return problem(422, "Unprocessable Content", str(exc))

    async def action(_: Request, exc: Exception) -> JSONResponse:
        return problem(409, "Conflict", str(exc))

    async def validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))[:200],
                   "type": e.get("type")} for e in exc.errors()[:20]]
        return problem(422, "Unprocessable Content", "the request does not match its schema", errors=errors)

    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(exc.status_code, "Error", str(exc.detail), headers=getattr(exc, "headers", None))

    async def crash(request: Request, exc: Exception) -> JSONResponse:
        log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        return problem(500, "Internal Server Error", "the server could not do this; its log says why")

    app.add_exception_handler(StaleVersion, stale)
    app.add_exception_handler(ConflictError, conflict)
    app.add_exception_handler(FormatError, format_error)
    app.add_exception_handler(NotFound, not_found)
    app.add_exception_handler(NodeNotFound, not_found)
    app.add_exception_handler(KeyError, not_found)
    app.add_exception_handler(ActionError, action)
    app.add_exception_handler(StaleEditError, action)  # an input changed while a transform was built
    app.add_exception_handler(GraphError, refused)
    app.add_exception_handler(ValueError, refused)
    app.add_exception_handler(RequestValidationError, validation)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, crash)


__all__ = ["PROBLEM", "install", "problem"]
