"""3-strike escalation across processes, the pause it sets, and ``schedules resume``.

``run --once`` started by cron is a new process each time: the failure count
must come from the durable run records, so the third failing process
escalates. The pause then shows in ``schedules list`` (with the reason and
the time) and on the schedule's graph node, and ``schedules resume`` clears it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

from test_cli_dry_run import make_ws

from orchestrator_gui.formats.memory import load_memory
from orchestrator_gui.formats.schedules import load_schedules
from orchestrator_gui.model.identity import schedule_node_id
from orchestrator_gui.model.nodes import NodeStatus
from orchestrator_gui.store import GraphStore

PY = sys.executable
EXE = str(Path(sys.executable).with_name("orchestrator-gui"))
WAIT = 60
#: The schedule runs every hour at :00; each cron run comes half a minute after a due time.
HOURS = ["2026-03-02T09:00:30.000Z", "2026-03-02T10:00:30.000Z", "2026-03-02T11:00:30.000Z",
         "2026-03-02T12:00:30.000Z"]


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([EXE, *args], capture_output=True, text=True, timeout=WAIT)


def cron_run(ws: Path, now: str) -> dict:
    res = subprocess.run([PY, "-m", "orchestrator_gui", "run", "--once", "--now", now, "--tz", "UTC", "--json",
                          "-w", str(ws)], capture_output=True, text=True, timeout=WAIT)
    assert "Traceback" not in res.stderr, res.stderr
    return json.loads(res.stdout)


def listed(ws: Path, sid: str) -> dict:
    res = cli("schedules", "list", "--json", "--now", HOURS[0], "--tz", "UTC", "-w", str(ws))
    assert res.returncode == 0, res.stderr
    return next(r for r in json.loads(res.stdout) if r["id"] == sid)


def node_status(ws: Path, sid: str) -> tuple[NodeStatus, dict | None]:
    with GraphStore.open_workspace(ws, readonly=True) as store:
        node = store.graph.node(schedule_node_id(sid))
        return node.status, node.metadata.get("paused")


def test_three_failing_cron_processes_escalate_and_resume_clears_it(tmp_path):
    ws, sid = make_ws(tmp_path, f'runner = [{json.dumps(PY)}, "-c", "import sys; sys.exit(3)"]\n')
    config = ws / ".orchestrator" / "config.toml"

    for k in range(3):
        summary = cron_run(ws, HOURS[k])
        [fired] = summary["fired"]
        assert fired["result"]["status"] == "failed" and fired["result"]["exit_code"] == 3
        paused_now = listed(ws, sid)["paused"]
        assert paused_now is (k == 2), f"after failure {k + 1}: paused={paused_now}"

    # The third process escalated: our config, the memory log, the list and the graph say so.
    assert tomllib.loads(config.read_text())["schedules"][sid]["paused"] is True
    assert load_memory(ws / "persistent-memory.md").entries[-1].id == f"escalation_{sid}"
    row = listed(ws, sid)
    assert row["active"] is True  # Roo's own flag is never touched
    assert row["pause"]["by"] == "escalation" and row["pause"]["reason"] == "failed 3 times in a row (last: exit 3)"
    assert row["pause"]["since"].startswith("20") and row["pause"]["task_id"] == fired["task_id"]
    text = cli("schedules", "list", "--now", HOURS[0], "--tz", "UTC", "-w", str(ws)).stdout
    assert "PAUSED" in text.splitlines()[0] and "failed 3 times in a row" in text
    status, mark = node_status(ws, sid)
    assert status is NodeStatus.BLOCKED and mark["reason"] == row["pause"]["reason"]

    # A fourth cron run does not fire it.
    summary = cron_run(ws, HOURS[3])
    assert summary["fired"] == [] and [d["action"] for d in summary["skipped"]] == ["paused"]

    # Resume: the pause is gone everywhere, and the count starts again (one more failure does not re-escalate).
    res = cli("schedules", "resume", sid, "-w", str(ws))
    assert res.returncode == 0, res.stderr
    assert f"resumed schedule {sid}" in res.stdout and "failed 3 times in a row" in res.stdout
    assert tomllib.loads(config.read_text())["schedules"][sid]["paused"] is False
    assert listed(ws, sid)["paused"] is False
    assert node_status(ws, sid) == (NodeStatus.ACTIVE, None)
    doc = load_schedules(ws / ".roo" / "schedules.json")
    doc.set_values(sid, {"nextExecutionTime": "2026-03-02T12:00:00.000Z"})
    doc.save()
    # The resumed schedule's next run waits for approval (issue 15), then runs once approved.
    waiting = cron_run(ws, HOURS[3])
    assert waiting["fired"] == [] and "waits for approval" in waiting["not_started"][0]["reason"]
    [row] = json.loads(cli("runs", "pending", "--json", "-w", str(ws)).stdout)["pending"]
    assert "resumed after escalation" in row["reasons"][0]
    assert cli("runs", "approve", row["id"], "-w", str(ws)).returncode == 0
    [fired] = cron_run(ws, HOURS[3])["fired"]
    assert fired["result"]["status"] == "failed" and listed(ws, sid)["paused"] is False


def test_resume_of_a_schedule_that_is_not_paused_or_unknown(tmp_path):
    ws, sid = make_ws(tmp_path, "")
    res = cli("schedules", "resume", sid, "--json", "-w", str(ws))
    assert res.returncode == 0 and json.loads(res.stdout) == {"ok": True, "id": sid, "resumed": False}
    res = cli("schedules", "resume", "no-such-id", "-w", str(ws))
    assert res.returncode == 1 and "no schedule with id 'no-such-id'" in res.stderr
    assert not (ws / ".orchestrator" / "runs.jsonl").exists()


def test_a_pause_set_by_hand_is_listed_and_resumed(tmp_path):
    ws, sid = make_ws(tmp_path, "")
    config = ws / ".orchestrator" / "config.toml"
    config.write_text(f'[schedules."{sid}"]\npaused = true\n', encoding="utf-8")
    row = listed(ws, sid)
    assert row["paused"] is True and row["pause"] == {"reason": "paused in .orchestrator/config.toml",
                                                       "since": None, "by": "config", "task_id": None}
    assert cli("schedules", "resume", sid, "-w", str(ws)).returncode == 0
    assert config.read_text() == f'[schedules."{sid}"]\npaused = false\n'
    assert listed(ws, sid)["paused"] is False


def test_a_broken_config_still_lists_the_schedules_and_says_why(tmp_path):
    ws, sid = make_ws(tmp_path, "runner = [\n")
    res = cli("schedules", "list", "--json", "-w", str(ws))
    assert res.returncode == 0
    assert [r["id"] for r in json.loads(res.stdout)][0] == sid
    assert res.stderr.startswith(f"{ws / '.orchestrator' / 'config.toml'}:1: error: invalid TOML")
