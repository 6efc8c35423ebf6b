"""Our run records (``.orchestrator/runs.jsonl``): incremental reads, many writers, damaged and hostile files."""

from __future__ import annotations

import json
import multiprocessing
from datetime import UTC, datetime

from orchestrator_gui.engine import run_records
from orchestrator_gui.engine.run_records import RunRecords, event_record, run_record
from orchestrator_gui.engine.tasks import RunResult

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def result(status: str, task_id: str, subject: str = "s1", **kw) -> RunResult:
    return RunResult(task_id=task_id, kind="schedule", subject_id=subject, title="t", status=status,
                     started_at=T0, ended_at=T0, duration_s=1.0, **kw)


def test_failures_fold_and_a_second_reader_sees_only_what_is_new(tmp_path):
    a = RunRecords.for_workspace(tmp_path)
    b = RunRecords.for_workspace(tmp_path)  # another process, in effect
    a.append(run_record(result("failed", "r1")), run_record(result("timeout", "r2")))
    assert b.refresh().failures == {("schedule", "s1"): 2}
    a.append(run_record(result("cancelled", "r3")), run_record(result("completed", "r4", dry_run=True)))
    assert b.refresh().failures == {("schedule", "s1"): 2}  # neither a cancel nor a dry run counts
    a.append(run_record(result("completed", "r5")))
    assert b.refresh().failures == {}
    a.append(run_record(result("failed", "r6")), event_record("escalated", "schedule", "s1", task_id="r6"))
    state = b.refresh()
    assert state.failures == {("schedule", "s1"): 1} and ("schedule", "s1") in state.escalations
    a.append(event_record("resumed", "schedule", "s1"))
    state = b.refresh()
    assert state.failures == {} and state.escalations == {} and ("schedule", "s1") in state.resumed
    assert list(state.runs) == ["r1", "r2", "r3", "r4", "r5", "r6"]
    assert b.problems == []


def _append_many(path: str, worker: int) -> None:
    recs = RunRecords(path)
    for k in range(200):
        recs.append(run_record(result("failed", f"w{worker}-{k}")))


def test_processes_appending_at_once_lose_and_tear_nothing(tmp_path):
    path = tmp_path / ".orchestrator" / "runs.jsonl"
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_append_many, args=(str(path), w)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0] * 4
    lines = path.read_text().splitlines()
    assert len(lines) == 800 and all(json.loads(line)["record"] == "run" for line in lines)
    assert RunRecords(path).refresh().failures == {("schedule", "s1"): 800}


def test_damaged_lines_are_skipped_and_reported_and_a_torn_end_is_not_joined(tmp_path):
    path = tmp_path / "runs.jsonl"
    good = json.dumps(run_record(result("failed", "ok-1")))
    path.write_bytes(b"\n".join([
        b"not json at all",
        b"[" * 200 + b"]" * 200,                     # deeper than any reader accepts
        b'{"record": "run", "n": 1' + b"0" * 5000 + b"}",  # a number no int() converts
        b"\xff\xfe broken utf-8",
        b'"a string, not a record"',
        good.encode(),
        b'{"record": "run", "task_id": "torn',       # a writer died mid-line: no newline
    ]))
    recs = RunRecords(path)
    state = recs.refresh()
    assert list(state.runs) == ["ok-1"] and state.failures == {("schedule", "s1"): 1}
    assert len(recs.problems) == 5 and all(p.startswith(f"{path}: skipped") for p in recs.problems)
    recs.append(run_record(result("failed", "ok-2")))  # starts on a line of its own
    fresh = RunRecords(path)
    assert list(fresh.refresh().runs) == ["ok-1", "ok-2"] and fresh.state.failures[("schedule", "s1")] == 2


def test_a_huge_file_is_read_from_its_tail_and_an_endless_line_is_skipped(tmp_path, monkeypatch):
    monkeypatch.setattr(run_records, "MAX_SCAN", 8192)
    monkeypatch.setattr(run_records, "MAX_LINE", 1024)
    path = tmp_path / "runs.jsonl"
    recs = RunRecords(path)
    for k in range(200):  # ~80 KB: only the last 8 KB are read by a new reader
        recs.append(run_record(result("failed", f"r{k}")))
    fresh = RunRecords(path)
    state = fresh.refresh()
    assert 5 < len(state.runs) < 50 and "r199" in state.runs and "r0" not in state.runs
    with open(path, "ab") as fh:
        fh.write(b"x" * 2000 + b"\n")
    recs.append(run_record(result("completed", "after")))
    state = fresh.refresh()
    assert "after" in state.runs and state.failures == {}
    assert any("more than 1024 bytes" in p for p in fresh.problems)


def test_a_replaced_or_truncated_file_is_read_again_from_the_start(tmp_path):
    path = tmp_path / "runs.jsonl"
    recs = RunRecords(path)
    recs.append(run_record(result("failed", "a")), run_record(result("failed", "b")))
    reader = RunRecords(path)
    assert reader.refresh().failures[("schedule", "s1")] == 2
    path.write_text(json.dumps(run_record(result("failed", "c"))) + "\n")
    assert list(reader.refresh().runs) == ["c"] and reader.state.failures[("schedule", "s1")] == 1
    path.unlink()
    assert reader.refresh().runs == {}
