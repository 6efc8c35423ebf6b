"""The CLI contract scripts rely on: commands, JSON shapes and exit codes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from shared_fixtures import fixture

from orchestrator_gui.cli.main import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def ws(tmp_path, monkeypatch):
    """A workspace made of real fixture files, with the CLI run from inside it."""
    (tmp_path / ".roo").mkdir()
    shutil.copyfile(fixture("schedules", "ryantulloch"), tmp_path / ".roo" / "schedules.json")
    shutil.copyfile(fixture("todo", "e0af0f6f"), tmp_path / "TODO.md")
    shutil.copyfile(fixture("memory", "persistent-memory__e0af0f6f"), tmp_path / "persistent-memory.md")
    shutil.copyfile(fixture("timing", "task_timing__e0af0f6f"), tmp_path / "task_timing.tsv")
    shutil.copyfile(fixture("roomodes", "34367220"), tmp_path / ".roomodes")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_usage_errors_exit_2(capsys):
    assert run(capsys, "no-such-command")[0] == 2
    assert run(capsys)[0] == 2
    assert run(capsys, "todo", "check")[0] == 2
    assert run(capsys, "todo", "check", "abc")[0] == 2
    code, _, err = run(capsys, "schedules", "add", "--name", "n", "--mode", "code", "--instructions", "i",
                       "--every", "10 fortnights")
    assert code == 2 and "--every" in err


def test_schedules_list_json_and_next_run(ws, capsys):
    sid = json.loads((ws / ".roo" / "schedules.json").read_bytes())["schedules"][0]["id"]
    rows = json.loads(run(capsys, "schedules", "list", "--json")[1])
    assert [r["active"] for r in rows] == [False, False]
    assert [r["next_run"] for r in rows] == [None, None], "inactive schedules never run"
    assert run(capsys, "schedules", "enable", sid)[0] == 0
    code, out, _ = run(capsys, "schedules", "list", "--json", "--now", "2025-05-09T00:21:01.357Z",
                       "--tz", "Europe/London")
    rows = json.loads(out)
    assert code == 0 and len(rows) == 2
    assert set(rows[0]) == {"id", "name", "mode", "active", "interval", "unit", "next_run", "paused", "pause"}
    assert (rows[0]["paused"], rows[0]["pause"]) == (False, None)
    assert rows[0]["next_run"] == "2025-05-09T00:56:00.000Z"
    assert rows[0]["interval"] == "35" and rows[0]["unit"] == "minute"


def test_schedules_enable_disable_set_add_remove(ws, capsys):
    path = ws / ".roo" / "schedules.json"
    original = path.read_bytes()
    sid = json.loads(original)["schedules"][0]["id"]
    assert run(capsys, "schedules", "enable", sid)[0] == 0
    assert len(path.read_bytes()) == len(original) - 1
    assert run(capsys, "schedules", "disable", sid)[0] == 0
    assert path.read_bytes() == original

    assert run(capsys, "schedules", "set", sid, "timeInterval=20", "selectedDays=mon,tue")[0] == 0
    sched = json.loads(path.read_bytes())["schedules"][0]
    assert sched["timeInterval"] == "20" and sched["selectedDays"]["mon"] and not sched["selectedDays"]["sun"]

    code, _, err = run(capsys, "schedules", "set", sid, "timeUnit=fortnight")
    assert code == 1 and "timeUnit" in err
    code, _, err = run(capsys, "schedules", "set", sid, "id=123")
    assert code == 1 and "read-only" in err

    code, out, _ = run(capsys, "--json", "schedules", "add", "--name", "Digest", "--mode", "ask",
                       "--instructions", "summarise $(whoami) `date` \"quoted\"", "--every", "2h")
    new_id = json.loads(out)["id"]
    added = json.loads(path.read_bytes())["schedules"][-1]
    assert added["id"] == new_id and added["timeInterval"] == "2" and added["timeUnit"] == "hour"
    assert added["taskInstructions"] == "summarise $(whoami) `date` \"quoted\""
    assert run(capsys, "schedules", "remove", new_id)[0] == 0
    assert len(json.loads(path.read_bytes())["schedules"]) == 2
    assert run(capsys, "schedules", "remove", "nope")[0] == 1


def test_todo_list_and_edits(ws, capsys):
    path = ws / "TODO.md"
    code, out, _ = run(capsys, "todo", "list", "--json")
    items = json.loads(out)
    assert code == 0 and len(items) == 27
    assert set(items[0]) == {"line", "id", "state", "text", "depth", "section"}
    assert {i["state"] for i in items} <= {"open", "done", "other"}
    first_open = next(i for i in items if i["state"] == "open")
    before = path.read_bytes()
    assert run(capsys, "todo", "check", str(first_open["line"]))[0] == 0
    after = path.read_bytes()
    assert len(after) == len(before) and sum(a != b for a, b in zip(before, after)) == 1
    assert run(capsys, "todo", "uncheck", str(first_open["line"]))[0] == 0
    assert path.read_bytes() == before

    code, out, _ = run(capsys, "--json", "todo", "add", "Write the release notes", "--under", str(first_open["line"]))
    line = json.loads(out)["line"]
    listed = json.loads(run(capsys, "todo", "list", "--json")[1])
    new = next(i for i in listed if i["line"] == line)
    assert new["text"] == "Write the release notes" and new["depth"] == first_open["depth"] + 1
    assert run(capsys, "todo", "edit", str(line), "Write the changelog")[0] == 0
    assert "Write the changelog" in path.read_text()
    assert run(capsys, "todo", "remove", str(line))[0] == 0
    assert path.read_bytes() == before
    code, _, err = run(capsys, "todo", "check", "2")
    assert code == 1 and "TODO.md:2: error:" in err


def test_memory_and_timing_append_only_touch_the_tail(ws, capsys):
    mem = ws / "persistent-memory.md"
    before = mem.read_bytes()
    n = len(json.loads(run(capsys, "memory", "list", "--json")[1]))
    assert run(capsys, "memory", "add", "--mode", "code", "--id", "cli_test", "Checked the CLI")[0] == 0
    after = mem.read_bytes()
    assert after.startswith(before.rstrip(b"\n")) and b"[code] - [cli_test]" in after
    assert len(json.loads(run(capsys, "memory", "list", "--json")[1])) == n + 1

    tsv = ws / "task_timing.tsv"
    before = tsv.read_bytes()
    rows = json.loads(run(capsys, "timing", "list", "--json")[1])
    code, _, _ = run(capsys, "timing", "add", "--mode", "code", "--task-id", "t42", "--task", "Ship\tit",
                     "--start", "2026-11-26T06:00:00Z", "--end", "2026-11-26T06:10:00.500Z",
                     "--result", "completed", "--priority", "todo")
    assert code == 0
    after = tsv.read_bytes()
    assert after.startswith(before)
    rows2 = json.loads(run(capsys, "timing", "list", "--json")[1])
    assert len(rows2) == len(rows) + 1
    last = rows2[-1]
    assert last["task_id"] == "t42" and last["duration"] == "600" and last["task"] == "Ship it"
    assert last["priority"] == "todo" and last["status"] == "completed"


def test_modes_list(ws, capsys):
    code, out, _ = run(capsys, "modes", "list", "--json")
    modes = json.loads(out)
    assert code == 0 and len(modes) > 20
    assert {"slug", "name", "groups"} <= set(modes[0])


def test_init_creates_a_valid_workspace_and_refuses_to_overwrite(tmp_path, capsys):
    target = tmp_path / "new"
    assert run(capsys, "init", str(target))[0] == 0
    for rel in (".roo/schedules.json", "TODO.md", "persistent-memory.md", "task_timing.tsv"):
        assert (target / rel).is_file(), rel
    code, out, _ = run(capsys, "-w", str(target), "check", "--json")
    assert code == 0 and json.loads(out) == []
    assert len(json.loads(run(capsys, "-w", str(target), "schedules", "list", "--json")[1])) == 1
    mem = json.loads(run(capsys, "-w", str(target), "memory", "list", "--json")[1])
    assert len(mem) == 1
    code, _, err = run(capsys, "init", str(target))
    assert code == 1 and "refusing to overwrite" in err


def test_check_json_reports_problems_with_file_and_line(ws, capsys):
    (ws / ".roo" / "schedules.json").write_text('{"schedules": [{"id": "1", "name": "x", "mode": "code", '
                                                '"taskInstructions": "t", "scheduleType": "time", "timeUnit": "week"}]}')
    code, out, _ = run(capsys, "check", "--json")
    problems = json.loads(out)
    assert code == 1
    assert all(set(p) == {"file", "line", "severity", "message"} for p in problems)
    bad = [p for p in problems if p["file"] == str(Path(".roo") / "schedules.json") and p["severity"] == "error"]
    assert bad and "timeUnit" in bad[0]["message"] and bad[0]["line"] == 1


def test_console_script_runs_without_traceback(tmp_path):
    exe = Path(sys.executable).with_name("orchestrator-gui")
    (tmp_path / "TODO.md").write_bytes(b"- [ ] a\n\x00\x01\x02garbage")
    res = subprocess.run([str(exe), "-w", str(tmp_path), "todo", "list"], capture_output=True, text=True)
    assert res.returncode == 1
    assert "Traceback" not in res.stderr
    assert res.stderr.startswith(f"{tmp_path / 'TODO.md'}:2: error:")
