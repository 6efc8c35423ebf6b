"""Value edits splice bytes: only the edited values change, in any text, and the document reads right after."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from orchestrator_gui.formats.jsonpos import stringify
from orchestrator_gui.formats.schedules import ScheduleDocument

NOW = datetime(2026, 12, 5, 6, 0, 0, tzinfo=UTC)


def _schedule(i: int, name: str) -> dict:
    return {"id": f"s{i}", "name": name, "mode": "code", "modeDisplayName": "💻 Code",
            "taskInstructions": f"Work on «{name}»\nthen report ✓", "scheduleType": "time",
            "timeInterval": "5", "timeUnit": "minute", "selectedDays": {"mon": True, "tue": False},
            "active": True, "createdAt": "2026-01-01T00:00:00.000Z", "updatedAt": "2026-01-01T00:00:00.000Z"}


@pytest.fixture(params=["ascii", "non-ascii"])
def doc(request, tmp_path):
    names = ["plain", "second"] if request.param == "ascii" else ["Überprüfung 🚀", "第二"]
    data = stringify({"schedules": [_schedule(i, n) for i, n in enumerate(names)]}).encode()
    if request.param == "ascii":
        data = data.replace("💻".encode(), b"C").replace("«".encode(), b"<").replace("»".encode(), b">")
        data = data.replace("✓".encode(), b"ok")
        assert data.isascii()
    path = tmp_path / "schedules.json"
    path.write_bytes(data)
    return ScheduleDocument(path, data)


def test_a_value_edit_changes_only_its_bytes_and_updated_at(doc):
    before = doc.data
    doc.set_values("s1", {"timeInterval": "45", "name": "renamed ✎"}, now=NOW)
    after = json.loads(doc.data)
    expected = json.loads(before)
    expected["schedules"][1].update(timeInterval="45", name="renamed ✎", updatedAt="2026-12-05T06:00:00.000Z")
    assert after == expected
    # Every other byte is where it was: the file is the old one with three values replaced.
    old, new = before.decode(), doc.data.decode()
    for a, b in (('"5"', '"45"'), ('"second"' if "second" in old else '"第二"', '"renamed ✎"'),
                 ('"2026-01-01T00:00:00.000Z"\n    }\n  ]', '"2026-12-05T06:00:00.000Z"\n    }\n  ]')):
        i = old.rindex(a)
        old = old[:i] + b + old[i + len(a):]
    assert old == new


def test_the_document_reads_the_edit_and_edits_again(doc):
    doc.set_values("s0", {"taskInstructions": "line one\nline two ✓"}, now=NOW)
    assert doc.get("s0").raw["taskInstructions"] == "line one\nline two ✓"
    assert doc.get("s1").line > doc.get("s0").line  # positions re-read from the new bytes
    doc.set_values("s1", {"active": False}, now=NOW)
    doc.set_values("s0", {"timeInterval": "7"}, now=NOW)
    data = json.loads(doc.data)
    assert [s["active"] for s in data["schedules"]] == [True, False]
    assert data["schedules"][0]["timeInterval"] == "7"
    assert data["schedules"][0]["taskInstructions"] == "line one\nline two ✓"
    assert doc.problems() == []
    doc.save()
    assert ScheduleDocument(doc.path, doc.path.read_bytes()).get("s0").time_interval == "7"


def test_a_duplicate_key_changes_on_every_occurrence(tmp_path):
    text = ('{\n  "schedules": [\n    {\n      "id": "d", "name": "é", "mode": "code", "taskInstructions": "x", '
            '"scheduleType": "time", "timeInterval": "1", "timeInterval": "2"\n    }\n  ]\n}')
    doc = ScheduleDocument(tmp_path / "s.json", text.encode())
    doc.set_values("d", {"timeInterval": "9"}, touch_updated=False)
    assert doc.data.decode() == text.replace('"1"', '"9"').replace('"2"', '"9"')
