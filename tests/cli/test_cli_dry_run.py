"""A dry run is a rehearsal: real ``run`` processes that start nothing leave every workspace file as it was.

The agents and the Roo extension read ``task_timing.tsv`` and ``schedules.json``;
a dry run must not look like a run there. It is recorded only under
``.orchestrator/`` (its run log and our run records).
"""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator_gui.cli.main import main
from orchestrator_gui.formats.schedules import load_schedules
from orchestrator_gui.formats.todo import load_todo
from orchestrator_gui.model.identity import run_node_id
from orchestrator_gui.store import GraphStore

PY = sys.executable
EXE = str(Path(sys.executable).with_name("orchestrator-gui"))
NOW = "2026-03-02T09:00:30.000Z"
WAIT = 60
#: The files the agents and the Roo extension read and write.
WORKSPACE_FILES = (".roo/schedules.json", "TODO.md", "task_timing.tsv", "persistent-memory.md", ".roomodes")
RECORDER = """
import os
open(os.path.join(os.environ["ORCHESTRATOR_WORKSPACE"], "ran.txt"), "a").write("ran\\n")
"""


def quiet(*argv: str) -> int:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return main(list(argv))


def make_ws(tmp_path: Path, config: str) -> tuple[Path, str]:
    """A workspace (init + graph) whose first schedule is due at NOW; returns it and that schedule's id."""
    ws = tmp_path / "ws"
    assert quiet("init", str(ws)) == 0
    (ws / ".orchestrator").mkdir(exist_ok=True)
    (ws / ".orchestrator" / "config.toml").write_text(config, encoding="utf-8")
    assert quiet("graph", "build", "-w", str(ws)) == 0
    doc = load_schedules(ws / ".roo" / "schedules.json")
    sid = doc.schedules[0].id
    doc.set_values(sid, {"nextExecutionTime": "2026-03-02T09:00:00.000Z"})
    doc.save()
    (ws / ".roomodes").write_text('{"customModes": []}\n', encoding="utf-8")
    # Each file exists, so "unchanged" means the same bytes, not "still absent".
    assert all((ws / name).is_file() for name in WORKSPACE_FILES)
    return ws, sid


def snapshot(ws: Path) -> dict[str, bytes | None]:
    return {name: (ws / name).read_bytes() if (ws / name).exists() else None for name in WORKSPACE_FILES}


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([EXE, *args], capture_output=True, text=True, timeout=WAIT)


def records(ws: Path) -> list[dict]:
    return [json.loads(line) for line in (ws / ".orchestrator" / "runs.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("how", ["--dry-run with a runner", "no runner configured"])
def test_run_once_dry_run_writes_no_workspace_file(tmp_path, how):
    rec = tmp_path / "rec.py"
    rec.write_text(RECORDER)
    config = f"runner = [{json.dumps(PY)}, {json.dumps(str(rec))}]\n" if how.startswith("--dry-run") else ""
    ws, sid = make_ws(tmp_path, config)
    before = snapshot(ws)
    flags = ["--dry-run"] if how.startswith("--dry-run") else []

    res = cli("run", "--once", *flags, "--now", NOW, "--tz", "UTC", "--json", "-w", str(ws))
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr and "nothing will be started and no workspace file written" in res.stderr
    summary = json.loads(res.stdout)
    [fired] = summary["fired"]
    assert summary["dry_run"] is True and fired["result"]["dry_run"] is True
    assert fired["writeback"]["changed"] is False and fired["writeback"]["note"] == "dry run: not written"

    # Every workspace file is byte for byte what it was; nothing was started.
    assert snapshot(ws) == before
    assert not (ws / "ran.txt").exists()
    # Recorded under .orchestrator/ only: the run log and our run record.
    log = ws / ".orchestrator" / "runs" / f"{fired['task_id']}.log"
    assert "# DRY RUN" in log.read_text()
    [record] = records(ws)
    assert (record["record"], record["task_id"], record["subject_id"], record["dry_run"]) == \
        ("run", fired["task_id"], sid, True)
    assert record["dry_reason"] == ("dry run requested" if flags else
                                    "no runner is configured in .orchestrator/config.toml")
    # No run node either: the graph mirrors runs of the loop, and a rehearsal is none.
    with GraphStore.open_workspace(ws, readonly=True) as store:
        assert run_node_id(fired["task_id"]) not in store.graph

    # Nothing was written back, so the schedule is still due: a second rehearsal fires it again.
    again = cli("run", "--once", *flags, "--now", NOW, "--tz", "UTC", "--json", "-w", str(ws))
    assert again.returncode == 0 and len(json.loads(again.stdout)["fired"]) == 1
    assert snapshot(ws) == before and len(records(ws)) == 2


def test_text_output_says_dry_run_never_completed(tmp_path):
    ws, _ = make_ws(tmp_path, "")
    res = cli("run", "--once", "--now", NOW, "--tz", "UTC", "-w", str(ws))
    assert res.returncode == 0, res.stderr
    [line] = [ln for ln in res.stdout.splitlines() if ln.startswith("fired")]
    assert "  dry run  " in line and "completed" not in line


def test_a_dry_run_arms_nothing_and_expires_nothing(tmp_path):
    # A rehearsal writes no runtime field at all: not even the arming of a schedule without a next time.
    ws, sid = make_ws(tmp_path, "")
    doc = load_schedules(ws / ".roo" / "schedules.json")
    doc.set_values(sid, {"nextExecutionTime": ""})
    doc.save()
    before = snapshot(ws)
    res = cli("run", "--once", "--now", "2026-03-02T08:10:00.000Z", "--tz", "UTC", "-w", str(ws))
    assert res.returncode == 0, res.stderr
    assert snapshot(ws) == before
    assert "dry run: ['nextExecutionTime'] not written to schedules.json" in \
        (ws / ".orchestrator" / "scheduler.log").read_text()


def test_a_dry_todo_run_writes_no_workspace_file(tmp_path):
    ws, _ = make_ws(tmp_path, "[todo]\ncheck_off_on_success = true\n")
    line = load_todo(ws / "TODO.md").items[0].line
    before = snapshot(ws)
    res = cli("run", "--todo", str(line), "--json", "-w", str(ws))
    assert res.returncode == 1  # it did not complete a real run (and did not check the item off)
    todo = json.loads(res.stdout)["todo"]
    assert todo["result"]["dry_run"] is True and todo["checked"] is False
    assert "dry run - nothing was started" in res.stderr
    assert snapshot(ws) == before
    assert [r["dry_run"] for r in records(ws)] == [True]
