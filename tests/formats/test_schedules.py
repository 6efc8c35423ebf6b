"""schedules.json: lossless round trips, minimal edits, validation and safe writes."""

from __future__ import annotations

import difflib
import json
import shutil
from datetime import UTC, datetime

import pytest
from shared_fixtures import fixture, fixture_files

from orchestrator_gui.formats.schedules import UI_KEY_ORDER, empty_schedules, load_schedules
from orchestrator_gui.problems import ConflictError, FormatError, ReadOnlyError

NOW = datetime(2026, 11, 26, 6, 0, 0, 123000, tzinfo=UTC)
ROO_FIXTURES = [p for p in fixture_files("schedules") if "FOREIGN" not in p.name]


def changed_lines(a: bytes, b: bytes) -> list[str]:
    return [ln for ln in difflib.ndiff(a.decode().split("\n"), b.decode().split("\n")) if ln[:1] in "+-"]


def copy(tmp_path, src):
    dst = tmp_path / ".roo" / "schedules.json"
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)
    return dst


def test_fixture_folder_is_present():
    if not fixture_files("schedules"):
        pytest.skip("shared fixtures not available (../shared/fixtures/schedules is absent)")
    assert len(fixture_files("schedules")) >= 22


@pytest.mark.parametrize("path", fixture_files("schedules"), ids=lambda p: p.name)
def test_round_trip_is_byte_identical(path):
    doc = load_schedules(path)
    assert doc.data == path.read_bytes()
    assert not doc.dirty
    if "FOREIGN" in path.name:
        assert doc.foreign and doc.schedules == []
    else:
        assert doc.canonical, "every roo-scheduler fixture is in the extension's own layout"
        assert len(doc.schedules) == len(json.loads(path.read_bytes())["schedules"])


def test_foreign_schema_is_read_only(tmp_path):
    path = copy(tmp_path, fixture("schedules", "FOREIGN"))
    doc = load_schedules(path)
    assert any("not a Roo Scheduler file" in p.message for p in doc.problems())
    with pytest.raises(ReadOnlyError):
        doc.set_active("daily-orchestration", False)
    with pytest.raises(ReadOnlyError):
        doc.add(name="x", mode="code", instructions="y", interval="1", unit="hour")


@pytest.mark.parametrize("path", ROO_FIXTURES, ids=lambda p: p.name)
def test_toggle_changes_one_line_and_twice_restores(path):
    doc = load_schedules(path)
    for sched in doc.schedules:
        if "active" not in sched.raw:
            continue
        before = doc.data
        doc.set_active(sched.id, not sched.active)
        diff = changed_lines(before, doc.data)
        assert len(diff) == 2 and '"active"' in diff[0] and '"active"' in diff[1]
        assert len(doc.data) == len(before) + (1 if sched.active else -1)
        doc.set_active(sched.id, sched.active)
        assert doc.data == before


@pytest.mark.parametrize("path", ROO_FIXTURES, ids=lambda p: p.name)
def test_editing_a_field_changes_only_that_value_and_updated_at(path):
    doc = load_schedules(path)
    sched = doc.schedules[0]
    before = doc.data
    doc.set_values(sched.id, {"timeInterval": "45"}, now=NOW)
    diff = changed_lines(before, doc.data)
    old_lines = [d for d in diff if d.startswith("-")]
    new_lines = [d for d in diff if d.startswith("+")]
    keys = {d.split('"')[1] for d in new_lines}
    if "updatedAt" in sched.raw:
        assert keys == {"timeInterval", "updatedAt"} and len(old_lines) == 2
        assert doc.schedules[0].updated_at == "2026-11-26T06:00:00.123Z"
    else:  # the extension appends a missing key at the end of the object
        assert "timeInterval" in keys and "updatedAt" in keys
        assert list(doc.schedules[0].raw)[-1] == "updatedAt"
    assert doc.schedules[0].time_interval == "45"
    assert doc.schedules[0].created_at == sched.created_at
    assert doc.schedules[0].last_execution_time == sched.last_execution_time


def test_runtime_fields_do_not_bump_updated_at():
    doc = load_schedules(fixture("schedules", "a1a74f8f"))
    sched = doc.schedules[0]
    doc.set_values(sched.id, {"lastExecutionTime": "2026-11-26T06:00:00.000Z", "lastTaskId": "t-1"})
    assert doc.schedules[0].updated_at == sched.updated_at
    assert len(changed_lines(doc.original, doc.data)) == 4


def test_removed_next_execution_key_is_appended_at_the_end():
    doc = load_schedules(fixture("schedules", "52282bdb"))
    sched = doc.schedules[0]
    assert "nextExecutionTime" not in sched.raw
    doc.set_values(sched.id, {"nextExecutionTime": "2026-06-01T00:00:00.000Z"}, touch_updated=False)
    assert list(doc.schedules[0].raw)[-1] == "nextExecutionTime"
    doc.set_values(sched.id, {"nextExecutionTime": None}, touch_updated=False)
    assert doc.data == doc.original


@pytest.mark.parametrize("name_part", ["a1a74f8f", "e9483b82"])
def test_add_and_remove_keep_layout_and_final_newline(tmp_path, name_part):
    path = copy(tmp_path, fixture("schedules", name_part))
    original = path.read_bytes()
    doc = load_schedules(path)
    new = doc.add(name="Nightly digest", mode="architect", instructions='Say "hi"\nthen stop', interval="6",
                  unit="hour", now=NOW)
    doc.save()
    data = path.read_bytes()
    assert data.endswith(b"\n") == original.endswith(b"\n")
    assert list(new.raw) == list(UI_KEY_ORDER)
    assert new.id == "1795672800123" and new.created_at == new.updated_at == "2026-11-26T06:00:00.123Z"
    # everything before the closing of the old last schedule is untouched
    old_end = original.rstrip(b"\n").rfind(b"}\n  ]")
    assert data[:old_end] == original[:old_end]
    doc.remove(new.id)
    doc.save()
    assert path.read_bytes() == original


def test_duplicate_clears_history(tmp_path):
    doc = load_schedules(copy(tmp_path, fixture("schedules", "a1a74f8f")))
    src = doc.schedules[0]
    dup = doc.duplicate(src.id, now=NOW)
    assert dup.name == src.name + " (copy)" and dup.task_instructions == src.task_instructions
    assert dup.last_execution_time == "" and dup.id != src.id


def test_save_refuses_when_file_changed_on_disk(tmp_path):
    path = copy(tmp_path, fixture("schedules", "a1a74f8f"))
    doc = load_schedules(path)
    doc.set_active(doc.schedules[0].id, False)
    external = path.read_bytes().replace(b'"name": "', b'"name": "X', 1)
    path.write_bytes(external)
    with pytest.raises(ConflictError, match="changed on disk"):
        doc.save()
    assert path.read_bytes() == external


def test_atomic_write_keeps_permissions(tmp_path):
    path = copy(tmp_path, fixture("schedules", "a1a74f8f"))
    path.chmod(0o640)
    doc = load_schedules(path)
    doc.set_active(doc.schedules[0].id, False)
    doc.save()
    assert path.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in path.parent.iterdir()] == ["schedules.json"], "no temp file left behind"


def test_non_canonical_file_allows_value_edits_but_refuses_restructuring(tmp_path):
    path = tmp_path / "schedules.json"
    path.write_text('{"schedules": [ {"id": "1", "name": "a", "mode": "code", "taskInstructions": "x",\n'
                    '   "scheduleType": "time", "timeInterval": "5", "timeUnit": "minute", "active": true} ]}\n')
    doc = load_schedules(path)
    assert not doc.canonical
    doc.set_active("1", False)
    assert doc.data == path.read_bytes().replace(b'"active": true', b'"active": false')
    with pytest.raises(ReadOnlyError, match="not laid out"):
        doc.remove("1")


def test_validation_reports_each_problem_at_its_line(tmp_path):
    path = tmp_path / "schedules.json"
    sched = {"id": "1", "name": "", "mode": "code", "taskInstructions": "x", "scheduleType": "time",
             "timeInterval": 10, "timeUnit": "week", "taskInteraction": "wait", "startDate": "2026-1-1",
             "startHour": "25", "active": "yes"}
    path.write_text(json.dumps({"schedules": [sched, dict(sched, name="b")]}, indent=2))
    problems = load_schedules(path).problems()
    text = path.read_text().split("\n")
    by_msg = {p.message.split(": ", 1)[1].split(" ")[0]: p for p in problems if p.message.startswith("schedule ")}
    for key in ("name", "timeInterval", "timeUnit", "startDate", "startHour", "active"):
        assert key in by_msg, key
        assert f'"{key}"' in text[by_msg[key].line - 1]
    assert any("duplicate schedule id" in p.message for p in problems)
    assert all(p.file == str(path) for p in problems)


def test_every_real_fixture_validates_without_errors():
    for path in ROO_FIXTURES:
        errors = [p for p in load_schedules(path).problems() if p.severity == "error"]
        assert errors == [], (path.name, errors)


@pytest.mark.parametrize("content, line, fragment", [
    (b'{\n  "schedules": [\n    {"id": "1",}\n  ]\n}', 3, "trailing comma"),
    (b'{\n  "schedules": [\n', 3, "unexpected end"),
    (b'\xef\xbb\xbf{"schedules": []}', 1, "byte-order mark"),
    (b'{"schedules": [NaN]}', 1, "unexpected character"),
    (b'', 1, "empty"),
])
def test_bad_json_is_a_clear_error_with_line(tmp_path, content, line, fragment):
    path = tmp_path / "schedules.json"
    path.write_bytes(content)
    with pytest.raises(FormatError) as err:
        load_schedules(path)
    assert err.value.line == line and fragment in err.value.message
    assert path.read_bytes() == content


def test_new_document_creates_roo_folder(tmp_path):
    path = tmp_path / ".roo" / "schedules.json"
    doc = empty_schedules(path)
    doc.add(name="n", mode="code", instructions="i", interval="1", unit="hour", now=NOW)
    doc.save()
    assert json.loads(path.read_text())["schedules"][0]["name"] == "n"
    assert not path.read_bytes().endswith(b"\n")
