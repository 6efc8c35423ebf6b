"""The bundled demo workspace: valid, realistic, and never modified in place."""

from __future__ import annotations

import hashlib
import json

from orchestrator_gui.cli.main import main
from orchestrator_gui.demo import BUNDLED_DEMO, demo_workspace


def tree_digest(root):
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(root)).encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def test_demo_is_copied_to_user_data_and_bundle_stays_untouched(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    bundled = tree_digest(BUNDLED_DEMO)
    assert main(["--demo", "check", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    copy = demo_workspace()
    assert copy.is_relative_to(tmp_path / "data")
    sid = json.loads((copy / ".roo" / "schedules.json").read_text())["schedules"][0]["id"]
    assert main(["--demo", "schedules", "disable", sid]) == 0
    assert main(["--demo", "todo", "check", str(_first_open_line(capsys))]) == 0
    assert tree_digest(BUNDLED_DEMO) == bundled
    assert tree_digest(copy) != bundled
    demo_workspace(reset=True)
    assert tree_digest(copy) == bundled


def _first_open_line(capsys):
    capsys.readouterr()
    main(["--demo", "todo", "list", "--json", "--state", "open"])
    return json.loads(capsys.readouterr().out)[0]["line"]


def test_demo_has_every_kind_of_content(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    counts = {}
    for cmd in ("schedules", "todo", "memory", "timing", "modes"):
        assert main(["--demo", cmd, "list", "--json"]) == 0
        counts[cmd] = json.loads(capsys.readouterr().out)
    assert len(counts["schedules"]) >= 3 and any(not s["active"] for s in counts["schedules"])
    states = {i["state"] for i in counts["todo"]}
    assert {"open", "done"} <= states and any(i["depth"] > 0 for i in counts["todo"])
    assert len(counts["memory"]) >= 24
    assert {r["status"] for r in counts["timing"]} >= {"started", "completed", "failed"}
    assert len(counts["modes"]) >= 3
