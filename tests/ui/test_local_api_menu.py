"""Tools ▸ Local API in the real window: an agent's transform over HTTP shows in the window and Ctrl+Z takes it back.

The requests run on a worker thread (as an agent's would, from another
process): each is served on the GUI thread between its events, so the test
waits with ``qtbot.waitUntil`` while the event loop turns.
"""

from __future__ import annotations

import threading

import pytest

pytest.importorskip("httpx")
pytest.importorskip("fastapi")

import httpx  # noqa: E402

from orchestrator_gui.app import wire_local_api  # noqa: E402
from orchestrator_gui.ui.local_api import LocalApi  # noqa: E402

TOKEN = "menu-" + "m" * 40


def _agent(url: str, out: dict) -> threading.Event:
    """Run the agent's requests on a thread; the returned event is set when they are done."""
    done = threading.Event()

    def work() -> None:
        try:
            out["no_token"] = httpx.get(url + "/status", timeout=30).status_code
            with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60) as c:
                node = c.get("/graph/search", params={"q": "tide", "limit": 1}).json()["nodes"][0]["id"]
                out["node"] = node
                r = c.post("/graph/transforms/generate", json={"ids": [node], "n": 2})
                out["status"], out["generate"] = r.status_code, r.json()
        except Exception as exc:  # noqa: BLE001 - reported by the test
            out["error"] = repr(exc)
        finally:
            done.set()

    threading.Thread(target=work, daemon=True).start()
    return done


def test_tools_local_api_serves_the_window_graph_and_undo_takes_an_agents_transform_back(window, qtbot,
                                                                                          monkeypatch):
    monkeypatch.setenv("ORCHESTRATOR_API_TOKEN", TOKEN)
    wire_local_api(window)  # what the app does for its window
    action = window.acts["local_api"]
    nodes_before = window.session.graph.number_of_nodes()

    action.trigger()  # Tools ▸ Local API: on
    api = window.findChild(LocalApi)
    assert api is not None and api.running and action.isChecked()
    assert api.url.startswith("http://127.0.0.1:")

    out: dict = {}
    done = _agent(api.url, out)
    qtbot.waitUntil(done.is_set, timeout=60_000)  # the GUI thread serves the requests meanwhile
    assert "error" not in out, out["error"]
    assert out["no_token"] == 401
    assert out["status"] == 200, out["generate"]
    created = out["generate"]["created"]
    assert len(created) == 2
    graph = window.session.graph
    assert all(i in graph for i in created)  # the agent's thoughts are in the window's own graph
    assert graph.number_of_nodes() == nodes_before + 2
    assert window.acts["undo"].isEnabled() and window.acts["undo"].text().startswith("&Undo Generate")

    window.acts["undo"].trigger()  # Edit ▸ Undo (Ctrl+Z)
    qtbot.waitUntil(lambda: not any(i in window.session.graph for i in created), timeout=10_000)
    assert window.session.graph.number_of_nodes() == nodes_before

    url = api.url
    action.trigger()  # Tools ▸ Local API: off
    assert not api.running and not action.isChecked()
    with pytest.raises(httpx.TransportError):
        httpx.get(url + "/status", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)


def test_closing_the_workspace_stops_the_local_api(window, qtbot, monkeypatch):
    monkeypatch.setenv("ORCHESTRATOR_API_TOKEN", TOKEN)
    wire_local_api(window)
    action = window.acts["local_api"]
    action.trigger()
    api = window.findChild(LocalApi)
    url = api.url
    assert api.running

    window.close_workspace()  # or another workspace opened: the served session is gone
    qtbot.waitUntil(lambda: not api.running, timeout=10_000)
    assert not action.isChecked()
    with pytest.raises(httpx.TransportError):
        httpx.get(url + "/status", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)


def test_without_the_app_wiring_the_menu_says_so_and_starts_nothing(window):
    said: list[str] = []
    window.reporter.message.connect(lambda text, _ms: said.append(text))
    action = window.acts["local_api"]
    action.trigger()  # a window made without OrchestratorApp has no server to start
    assert window.findChild(LocalApi) is None and not action.isChecked()
    assert any("not available" in t for t in said)
