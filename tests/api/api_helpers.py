"""Helpers of the API tests: a copy of the demo workspace, opened live and served by uvicorn on a free port.

A module of its own (not ``conftest``): test modules import these by name, and a plain ``from conftest import``
resolves to whichever conftest was imported first when other test folders run in the same session.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from shared_fixtures import REPO_ROOT

from orchestrator_gui.api.app import create_app
from orchestrator_gui.api.server import ApiServer
from orchestrator_gui.workspace.live_host import open_live

TOKEN = "test-token-" + "x" * 32
DEMO = REPO_ROOT / "resources" / "demo"


@dataclass
class Served:
    """A running server: its URL, the workspace, the live workspace behind it and a client with the token."""

    url: str
    root: Path
    host: Any
    server: Any
    client: httpx.Client

    @property
    def live(self) -> Any:
        return self.host.live

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/events"


def copy_demo(dest: Path) -> Path:
    """A private copy of the demo workspace (its files only: no graph store yet)."""
    shutil.copytree(DEMO, dest, ignore=shutil.ignore_patterns(".orchestrator"))
    return dest


def serve(root: Path, *, engine: bool = True) -> Served:
    host = open_live(root, engine=engine, init=True)  # the tests' own copy: a graph store may be made in it
    try:
        server = ApiServer(create_app(host.live, TOKEN), "127.0.0.1", 0).start()
    except BaseException:
        host.close()
        raise
    client = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)
    return Served(server.url, root, host, server, client)


def stop(served: Served) -> None:
    served.client.close()
    served.server.stop()
    served.host.close()



def recv_json(ws: Any, timeout: float = 10.0) -> dict:
    """The next message of a websockets (sync) connection, parsed."""
    return json.loads(ws.recv(timeout=timeout))
