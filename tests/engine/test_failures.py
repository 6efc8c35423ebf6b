"""3-strike escalation: memory entry, pause in our config, reset on success, clearing."""

from __future__ import annotations

import shutil
import threading
import tomllib
from datetime import UTC, datetime
from pathlib import Path

from shared_fixtures import fixture

from orchestrator_gui.engine.failures import FailureTracker
from orchestrator_gui.engine.tasks import RunResult
from orchestrator_gui.formats.memory import load_memory

T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def result(status: str, subject: str = "1761981872582", kind: str = "schedule", **kw) -> RunResult:
    base = dict(task_id=f"run-{status}", kind=kind, subject_id=subject, title="Nightly build", mode="code",
                status=status, exit_code=2 if status == "failed" else (-15 if status == "timeout" else 0),
                started_at=T0, ended_at=T0, duration_s=1.0, timeout_s=900,
                command=["python", "agent.py", "--file", "in struct.md"],
                stderr_tail="Traceback (most recent call last):\n  boom\nValueError: bad input\n")
    base.update(kw)
    return RunResult(**base)


def workspace(tmp_path: Path) -> Path:
    shutil.copyfile(fixture("memory", "persistent-memory__e0af0f6f"), tmp_path / "persistent-memory.md")
    cfg = tmp_path / ".orchestrator" / "config.toml"
    cfg.parent.mkdir()
    cfg.write_bytes(b'# my runner\r\nrunner = ["python", "agent.py"]\r\n\r\n[schedules."1761981872582"]\r\n'
                    b'timeout_s = 900\r\n')
    return tmp_path


def test_third_consecutive_failure_escalates_once(tmp_path):
    ws = workspace(tmp_path)
    memory_before = (ws / "persistent-memory.md").read_bytes()
    config_before = (ws / ".orchestrator" / "config.toml").read_bytes()
    seen = []
    tracker = FailureTracker(ws, on_escalate=seen.append)
    assert tracker.record(result("failed")) is None
    assert tracker.record(result("timeout")) is None
    assert tracker.count("schedule", "1761981872582") == 2
    esc = tracker.record(result("failed", task_id="run-3"))
    assert esc is not None and seen == [esc]
    assert (esc.failures, esc.paused, esc.errors, esc.exit_code, esc.task_id) == (3, True, [], 2, "run-3")

    # Our config: one line spliced after the existing header, nothing else touched.
    config = (ws / ".orchestrator" / "config.toml").read_bytes()
    assert config == config_before.replace(b'"]\r\ntimeout_s', b'"]\r\npaused = true\r\ntimeout_s')
    assert tomllib.loads(config.decode())["schedules"]["1761981872582"] == {"paused": True, "timeout_s": 900}

    # Memory: the old bytes are a prefix; the new entry is in the §3.4 format.
    memory = (ws / "persistent-memory.md").read_bytes()
    assert memory.startswith(memory_before)
    doc = load_memory(ws / "persistent-memory.md")
    entry = doc.entry_at(esc.memory_line)
    assert entry is not None and entry is doc.entries[-1]
    assert (entry.form, entry.mode, entry.id) == ("heading", "orchestrator", "escalation_1761981872582")
    assert entry.timestamp == esc.time.replace(microsecond=esc.time.microsecond // 1000 * 1000)
    assert entry.body == [
        '- **Escalation**: Schedule "Nightly build" (1761981872582) failed 3 times in a row; paused in '
        ".orchestrator/config.toml until the escalation is cleared",
        "  - Command: python agent.py --file 'in struct.md'",
        "  - Exit code: 2 (failed)",
        "  - Stderr tail: Traceback (most recent call last): | boom | ValueError: bad input",
        f"  - Time: {entry.timestamp_raw}",
        "  - Run: run-3",
    ] and entry.summary == ""
    assert doc.entry_text(entry.line).startswith(f"## [{entry.timestamp_raw}] [orchestrator] - "
                                                 "[escalation_1761981872582]")
    assert [p for p in doc.problems() if p.severity == "error"] == []

    # More failures count on but do not escalate again.
    assert tracker.record(result("failed")) is None
    assert tracker.count("schedule", "1761981872582") == 4
    assert (ws / "persistent-memory.md").read_bytes() == memory


def test_success_resets_and_cancel_or_dry_run_do_not_count(tmp_path):
    tracker = FailureTracker(workspace(tmp_path))
    tracker.record(result("failed"))
    tracker.record(result("failed"))
    tracker.record(result("cancelled"))
    tracker.record(result("completed", dry_run=True))
    assert tracker.count("schedule", "1761981872582") == 2
    tracker.record(result("completed"))
    assert tracker.count("schedule", "1761981872582") == 0
    tracker.record(result("failed"))
    tracker.record(result("failed"))
    assert not tracker.is_escalated("schedule", "1761981872582")
    assert "paused" not in (tmp_path / ".orchestrator" / "config.toml").read_text()


def test_clear_unpauses_and_starts_counting_again(tmp_path):
    ws = workspace(tmp_path)
    tracker = FailureTracker(ws)
    for _ in range(3):
        tracker.record(result("failed"))
    path = ws / ".orchestrator" / "config.toml"
    paused = path.read_bytes()
    assert tracker.clear_escalation("1761981872582") is True
    assert path.read_bytes() == paused.replace(b"paused = true", b"paused = false")
    assert not tracker.is_escalated("schedule", "1761981872582") and tracker.count("schedule", "1761981872582") == 0
    assert tracker.clear_escalation("1761981872582") is False       # nothing left to clear
    for _ in range(3):
        last = tracker.record(result("failed"))
    assert last is not None and b"paused = true" in path.read_bytes()


def test_todo_items_escalate_into_their_own_table_and_files_are_created(tmp_path):
    tracker = FailureTracker(tmp_path)  # neither memory nor config exists yet
    for _ in range(3):
        esc = tracker.record(result("failed", subject="fix [the] build", kind="todo"))
    assert esc is not None and esc.errors == []
    assert tomllib.loads((tmp_path / ".orchestrator" / "config.toml").read_text()) == \
        {"todos": {"fix [the] build": {"paused": True}}}
    doc = load_memory(tmp_path / "persistent-memory.md")
    assert [e.id for e in doc.entries] == ["escalation_fix_the_build"]
    assert doc.entries[0].body[0].startswith('- **Escalation**: TODO item "Nightly build" (fix [the] build)')


def test_an_unparseable_config_is_reported_not_raised(tmp_path):
    ws = workspace(tmp_path)
    (ws / ".orchestrator" / "config.toml").write_text("runner = [\n")
    tracker = FailureTracker(ws)
    for _ in range(3):
        esc = tracker.record(result("failed"))
    assert esc is not None and not esc.paused and esc.memory_line is not None
    assert esc.errors == [f"could not pause it in our config: {ws / '.orchestrator' / 'config.toml'}:1: error: "
                          "cannot edit, invalid TOML: Invalid value"]
    assert (ws / ".orchestrator" / "config.toml").read_text() == "runner = [\n"


def test_counting_is_thread_safe_and_escalates_exactly_once(tmp_path):
    tracker = FailureTracker(workspace(tmp_path))
    gate = threading.Barrier(8)
    escalations = []

    def worker():
        gate.wait()
        for _ in range(50):
            esc = tracker.record(result("failed"))
            if esc is not None:
                escalations.append(esc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert tracker.count("schedule", "1761981872582") == 400
    assert len(escalations) == 1
    assert [e.id for e in load_memory(tmp_path / "persistent-memory.md").entries].count(
        "escalation_1761981872582") == 1
