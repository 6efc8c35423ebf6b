"""Run by test_local_api.py in a process of its own (Qt, offscreen): Tools ▸ Local API on a real app session.

An agent (a thread here) checks a TODO item and generates thoughts through
the in-app server; then the app's own Edit ▸ Undo takes both back. Prints
one JSON object with what happened.
"""

from __future__ import annotations

import json
import sys
import threading
import time

import httpx
from PySide6.QtCore import QObject
from PySide6.QtWidgets import QApplication

from orchestrator_gui.app import start_local_api
from orchestrator_gui.ui.errors import ErrorReporter
from orchestrator_gui.ui.local_api import LocalApi
from orchestrator_gui.ui.session import WorkspaceSession


class Window(QObject):
    """The parts of the main window the Local API uses."""

    def __init__(self, root: str) -> None:
        super().__init__()
        self.reporter = ErrorReporter()
        self.session = WorkspaceSession(root, self.reporter, parent=self)
        from orchestrator_gui.ui.executor_qt import QtExecutor

        self.executor = QtExecutor(self.session.root)  # the app's engine: transforms are built on its pool
        self.run_control = None


def main(root: str, token: str) -> int:
    app = QApplication.instance() or QApplication([])
    win = Window(root)
    api = LocalApi(win, start_local_api)
    url = api.start()
    out: dict = {"url": url, "gui_thread": threading.get_ident()}
    done = threading.Event()

    def agent() -> None:
        try:
            c = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60)
            item = c.get("/todo", params={"state": "open"}).json()["items"][0]
            out["check"] = c.post(f"/todo/{item['id']}/check").json()
            node = c.get("/graph/search", params={"q": "tide", "limit": 1}).json()["nodes"][0]["id"]
            out["generate"] = c.post("/graph/transforms/generate", json={"ids": [node], "n": 2}).json()
            out["append"] = c.post("/memory", json={"mode": "code", "id": "agent-1", "text": "seen"}).json()
        except Exception as exc:  # noqa: BLE001 - reported to the test
            out["error"] = repr(exc)
        finally:
            done.set()

    before = (win.session.root / "TODO.md").read_bytes()
    threading.Thread(target=agent, daemon=True).start()
    deadline = time.monotonic() + 60
    while not done.is_set() and time.monotonic() < deadline:
        app.processEvents()  # the GUI thread serves the requests between its own events
        time.sleep(0.002)
    # Until the app's file watcher has nothing pending: a write it had not taken in would show up now.
    app.processEvents()
    while win.session.watcher._timer.isActive() and time.monotonic() < deadline + 10:
        app.processEvents()
        time.sleep(0.005)
    app.processEvents()
    graph = win.session.graph
    created = out.get("generate", {}).get("created", [])
    out["created_in_app_graph"] = bool(created) and all(i in graph for i in created)
    out["events"] = [e.to_dict() for e in api.live.journal.missed(0)]
    out["undo_texts"] = [win.session.undo.undo_text]
    win.session.undo.undo()  # Edit ▸ Undo: the agent's generate
    out["created_after_undo"] = [i for i in created if i in graph]
    out["undo_texts"].append(win.session.undo.undo_text)
    win.session.undo.undo()  # Edit ▸ Undo: the agent's TODO check
    out["todo_restored"] = (win.session.root / "TODO.md").read_bytes() == before
    api.stop()
    out["stopped"] = not api.running
    win.executor.shutdown(wait=True, cancel=True)
    win.session.close()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1], sys.argv[2]))
