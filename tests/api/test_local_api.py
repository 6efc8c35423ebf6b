"""Tools ▸ Local API: the in-app server serves the app's live session; its actions are on the app's undo stack.

The Qt part runs in a process of its own (``local_api_probe.py``, offscreen
platform), so this test never creates a QApplication in the test process
(the GUI tests want theirs on a real X display).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

PROBE = Path(__file__).with_name("local_api_probe.py")


def test_agent_actions_land_in_the_app_and_undo_with_edit_undo(workspace, tmp_path):
    token = "local-" + "k" * 40
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "ORCHESTRATOR_API_TOKEN": token,
           "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    out = subprocess.run([sys.executable, str(PROBE), str(workspace), token], env=env, capture_output=True,
                         text=True, timeout=180)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert "error" not in result, result.get("error")
    assert result["url"].startswith("http://127.0.0.1:")
    assert result["check"]["changed"] and result["check"]["result"]["state"] == "done"
    assert len(result["generate"]["created"]) == 2 and result["created_in_app_graph"]
    # One event per action: the check with the graph sync it caused, then the transform.
    kinds = [(e["type"], [f["file"] for f in e["data"].get("files", [])]) for e in result["events"]]
    assert kinds == [("files", ["TODO.md"]), ("transaction", []), ("files", ["persistent-memory.md"])]
    assert result["events"][0]["data"]["transactions"] and result["events"][2]["data"]["transactions"]
    assert result["append"]["ok"]
    # The app's Edit ▸ Undo takes back what the agent did, newest first.
    assert result["undo_texts"][0].startswith("Generate") and result["undo_texts"][1].startswith("Check")
    assert result["created_after_undo"] == [] and result["todo_restored"] and result["stopped"]
