"""Write-back of the scheduler's runtime fields: only those values' bytes change, conflicts are retried."""

from __future__ import annotations

import difflib
import json
import re
import shutil
from datetime import UTC

import pytest
from shared_fixtures import fixture, fixture_files

from orchestrator_gui.engine import writeback
from orchestrator_gui.engine.scheduler import skipped_updates, started_updates, waiting_updates
from orchestrator_gui.engine.writeback import write_runtime_fields
from orchestrator_gui.formats.nextrun import parse_js_iso
from orchestrator_gui.formats.schedules import load_schedules

UTC = UTC
NOW = parse_js_iso("2026-11-26T06:00:03.191Z")
ROO_FIXTURES = [p for p in fixture_files("schedules") if "FOREIGN" not in p.name]
RUNTIME = ("lastExecutionTime", "lastSkippedTime", "lastTaskId", "nextExecutionTime")


def copy(tmp_path, src):
    dst = tmp_path / ".roo" / "schedules.json"
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)
    return dst


def changed(a: bytes, b: bytes) -> list[str]:
    return [ln for ln in difflib.ndiff(a.decode().split("\n"), b.decode().split("\n")) if ln[:1] in "+-"]


def test_there_are_fixtures():
    if not ROO_FIXTURES:
        pytest.skip("shared fixtures not available (../shared/fixtures/schedules is absent)")
    assert len(ROO_FIXTURES) >= 21


@pytest.mark.parametrize("path", ROO_FIXTURES, ids=lambda p: p.name)
def test_run_writeback_changes_only_runtime_values(tmp_path, path):
    target = copy(tmp_path, path)
    before = target.read_bytes()
    original = load_schedules(target)
    for sched in original.schedules:
        if sched.schedule_type != "time":
            continue
        res = write_runtime_fields(target, sched.id, lambda raw: started_updates(raw, NOW, "task-0001", UTC))
        assert res.ok, res.error
    after = target.read_bytes()
    doc = load_schedules(target)
    # every other value and the key order of existing keys are untouched; updatedAt never moves
    for old, new in zip(original.schedules, doc.schedules):
        kept = [k for k in old.raw if k not in RUNTIME and k != "active"]
        assert [k for k in new.raw if k in kept] == kept
        assert {k: new.raw[k] for k in kept} == {k: old.raw[k] for k in kept}
        if "updatedAt" in old.raw:
            assert new.raw["updatedAt"] == old.raw["updatedAt"]
        if old.schedule_type == "time" and new.raw.get("active") is not False:
            assert new.raw["lastExecutionTime"] == "2026-11-26T06:00:03.191Z"
            assert new.raw["lastTaskId"] == "task-0001"
    # textually: only lines holding runtime keys change (plus the comma a newly appended key needs)
    for line in changed(before, after):
        body = line[2:]
        if re.search(r'"({}|active)": '.format("|".join(RUNTIME)), body):
            continue
        assert line[:1] in "+-" and body.rstrip(",") in {ln[2:].rstrip(",") for ln in changed(before, after)
                                                           if ln[:1] != line[:1]}, line
    # the final-newline state and the file's own layout are kept
    assert after.endswith(b"\n") == before.endswith(b"\n")
    assert doc.canonical


def test_only_the_values_bytes_change_when_keys_exist(tmp_path):
    path = copy(tmp_path, fixture("schedules", "a1a74f8f"))
    before = path.read_bytes()
    sid = load_schedules(path).schedules[0].id
    res = write_runtime_fields(path, sid, {"lastExecutionTime": "2026-11-26T06:00:03.191Z",
                                           "lastTaskId": "dc087996-78a6-4875-822a-6e875d7a8875",
                                           "nextExecutionTime": "2026-11-26T07:00:00.191Z"})
    assert res.ok and res.changed and res.attempts == 1
    after = path.read_bytes()
    assert len(before.split(b"\n")) == len(after.split(b"\n"))
    diff = [(a, b) for a, b in zip(before.split(b"\n"), after.split(b"\n")) if a != b]
    assert {re.match(rb'\s*"(\w+)"', a).group(1) for a, _ in diff} <= {
        b"lastExecutionTime", b"lastTaskId", b"nextExecutionTime"}
    for a, b in diff:  # same key, same indentation, only the string value differs
        assert a.split(b": ", 1)[0] == b.split(b": ", 1)[0]


def test_expiry_removes_next_time_and_deactivates(tmp_path):
    path = copy(tmp_path, fixture("schedules", "a1a74f8f"))
    sid = load_schedules(path).schedules[0].id
    res = write_runtime_fields(path, sid, {"active": False, "nextExecutionTime": None})
    assert res.ok
    raw = load_schedules(path).get(sid).raw
    assert raw["active"] is False and "nextExecutionTime" not in raw


def test_expiry_on_a_hand_formatted_file_empties_instead_of_removing(tmp_path):
    path = tmp_path / "schedules.json"
    path.write_text('{"schedules": [{"id": "a", "name": "n", "mode": "code", "taskInstructions": "x",\n'
                    '  "scheduleType": "time", "active": true, "nextExecutionTime": "2025-01-01T00:00:00.000Z"}]}\n')
    res = write_runtime_fields(path, "a", {"active": False, "nextExecutionTime": None})
    assert res.ok and "emptied instead of removed" in res.note
    assert path.read_text() == ('{"schedules": [{"id": "a", "name": "n", "mode": "code", "taskInstructions": "x",\n'
                                '  "scheduleType": "time", "active": false, "nextExecutionTime": ""}]}\n')


def test_adding_a_key_to_a_hand_formatted_file_is_refused_not_reformatted(tmp_path):
    path = tmp_path / "schedules.json"
    text = '{"schedules": [{"id": "a", "name": "n", "mode": "code", "taskInstructions": "x", "scheduleType": "time"}]}'
    path.write_text(text)
    res = write_runtime_fields(path, "a", {"lastSkippedTime": "2025-01-01T00:00:00.000Z"})
    assert not res.ok and "laid out" in res.error
    assert path.read_text() == text


def test_unchanged_values_write_nothing(tmp_path):
    path = copy(tmp_path, fixture("schedules", "a1a74f8f"))
    sched = load_schedules(path).schedules[0]
    mtime = path.stat().st_mtime_ns
    res = write_runtime_fields(path, sched.id, {"lastTaskId": sched.raw["lastTaskId"]})
    assert res.ok and not res.changed and path.stat().st_mtime_ns == mtime


def test_missing_schedule_or_file_is_reported_not_raised(tmp_path):
    path = copy(tmp_path, fixture("schedules", "a1a74f8f"))
    res = write_runtime_fields(path, "no-such-id", {"lastTaskId": "x"})
    assert not res.ok and "no schedule with id" in res.error
    res = write_runtime_fields(tmp_path / "nope.json", "x", {"lastTaskId": "x"})
    assert not res.ok and res.error


def test_only_runtime_keys_may_be_written(tmp_path):
    path = copy(tmp_path, fixture("schedules", "a1a74f8f"))
    sid = load_schedules(path).schedules[0].id
    with pytest.raises(ValueError):
        write_runtime_fields(path, sid, {"taskInstructions": "rm -rf /"})


def _external_rewrite(monkeypatch, path, mutate, times=1):
    """Make the next ``times`` loads be followed by a rewrite of the file (as the extension does every minute)."""
    real = writeback.load_schedules
    state = {"left": times}

    def load_then_rewrite(p):
        doc = real(p)
        if state["left"] > 0:
            state["left"] -= 1
            obj = json.loads(path.read_bytes())
            mutate(obj)
            path.write_bytes(json.dumps(obj, indent=2, ensure_ascii=False).encode())
        return doc

    monkeypatch.setattr(writeback, "load_schedules", load_then_rewrite)
    return state


def test_conflict_is_retried_on_fresh_content_and_keeps_the_external_change(tmp_path, monkeypatch):
    path = copy(tmp_path, fixture("schedules", "a1a74f8f"))
    sid = load_schedules(path).schedules[0].id

    def extension_wait_retry(obj):  # the extension wrote a wait-retry for this schedule meanwhile
        obj["schedules"][0]["lastSkippedTime"] = "2026-11-26T05:59:00.500Z"
        obj["schedules"][0]["name"] = "renamed in VS Code"

    _external_rewrite(monkeypatch, path, extension_wait_retry)
    res = write_runtime_fields(path, sid, lambda raw: skipped_updates(raw, NOW, UTC))
    assert res.ok and res.attempts == 2
    raw = load_schedules(path).get(sid).raw
    assert raw["name"] == "renamed in VS Code"  # never clobbered
    assert raw["lastSkippedTime"] == "2026-11-26T06:00:03.191Z"
    assert raw["nextExecutionTime"] == skipped_updates(raw, NOW, UTC)["nextExecutionTime"]


def test_a_file_that_keeps_changing_gives_up_without_writing(tmp_path, monkeypatch):
    path = copy(tmp_path, fixture("schedules", "a1a74f8f"))
    sid = load_schedules(path).schedules[0].id
    counter = {"n": 0}

    def bump(obj):
        counter["n"] += 1
        obj["schedules"][0]["lastSkippedTime"] = f"2026-11-26T05:5{counter['n']}:00.000Z"

    _external_rewrite(monkeypatch, path, bump, times=99)
    res = write_runtime_fields(path, sid, waiting_updates(NOW), attempts=3)
    assert not res.ok and res.attempts == 3 and "changed on disk" in res.error
    assert load_schedules(path).get(sid).raw["lastSkippedTime"] == "2026-11-26T05:53:00.000Z"
