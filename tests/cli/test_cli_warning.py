"""The 80 % time-limit warning of a real ``run`` process: in the run log, the run records and the run's graph node."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from test_cli_dry_run import make_ws

from orchestrator_gui.model.identity import run_node_id
from orchestrator_gui.store import GraphStore

PY = sys.executable
EXE = str(Path(sys.executable).with_name("orchestrator-gui"))
NOW = "2026-03-02T09:00:30.000Z"
SLOW = "import time; print('working', flush=True); time.sleep(60)"


def test_a_run_past_80_percent_of_its_limit_is_warned_in_log_records_and_graph(tmp_path):
    ws, sid = make_ws(tmp_path, "")
    (ws / ".orchestrator" / "config.toml").write_text(
        f'runner = [{json.dumps(PY)}, "-c", {json.dumps(SLOW)}]\ngrace_s = 1\n\n'
        f'[schedules."{sid}"]\ntimeout_s = 1.5\n', encoding="utf-8")
    res = subprocess.run([EXE, "run", "--once", "--now", NOW, "--tz", "UTC", "--json", "-w", str(ws)],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 1, res.stderr  # it timed out
    [fired] = json.loads(res.stdout)["fired"]
    result = fired["result"]
    assert re.search(rf"task {fired['task_id']}: \d+ % of the 1.5 s time limit used after", res.stderr), res.stderr
    assert (result["status"], result["warned"]) == ("timeout", True)

    # The run log: the warning line between the output and the end, on a line of its own.
    log = Path(result["log_path"]).read_text()
    m = re.search(r"^working\n# warning: (\d+\.\d) s of the 1.5 s time limit used \(80 %\); "
                  r"the run is stopped at the limit\n# finished: timeout", log, re.M)
    assert m is not None, log
    assert 1.2 <= float(m.group(1)) < 1.5

    # Our run records: the warning, then the run.
    recs = [json.loads(line) for line in (ws / ".orchestrator" / "runs.jsonl").read_text().splitlines()]
    assert [(r["record"], r["task_id"]) for r in recs] == [("warning", fired["task_id"]), ("run", fired["task_id"])]
    assert recs[0]["limit_s"] == 1.5 and recs[0]["subject_id"] == sid and recs[1]["warned"] is True

    # The run's node in the graph.
    with GraphStore.open_workspace(ws, readonly=True) as store:
        meta = store.graph.node(run_node_id(fired["task_id"])).metadata
    assert re.fullmatch(r"(8\d|9\d) % of the 1.5 s time limit used after 1\.\d s", meta["warning"]), meta["warning"]
