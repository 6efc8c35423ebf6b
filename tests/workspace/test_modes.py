"""The .roomodes use case: locked edits, three-way merge with another program's write, add/remove, refusals."""

from __future__ import annotations

import os
import stat
import threading

import pytest

from orchestrator_gui.formats.fileio import atomic_write
from orchestrator_gui.formats.roomodes import ModesDocument, load_modes
from orchestrator_gui.formats.write_session import WriteProtectedError, write_options
from orchestrator_gui.problems import FormatError
from orchestrator_gui.workspace import modes as use

BASE = """\
customModes:
  - slug: writer
    name: Writer
    roleDefinition: You write.
    whenToUse: For prose.
    groups:
      - read
      - edit
  - slug: other
    name: Other
    roleDefinition: You do other things.
    groups:
      - read
"""


@pytest.fixture
def path(tmp_path):
    p = tmp_path / ".roomodes"
    p.write_text(BASE, encoding="utf-8")
    return p


def outside_edit(path, slug, key, value):
    """Another program changes one field (with our lossless editor, so only that value's bytes change)."""
    doc = load_modes(path)
    if key == "groups":
        doc.set_groups(slug, value)
    else:
        doc.set_field(slug, key, value)
    path.write_bytes(doc.data)
    return doc.data


def test_update_writes_only_the_changed_values(path):
    outcome = use.update_mode(path, "writer", {"roleDefinition": "You write well.", "groups": ["read"]})
    assert outcome.written and set(outcome.changed) == {"roleDefinition", "groups"}
    assert path.read_text() == BASE.replace("You write.", "You write well.").replace("      - edit\n", "")
    assert outcome.before == BASE.encode() and outcome.after == path.read_bytes()


def test_setting_the_same_values_writes_nothing(path):
    stamp = os.stat(path).st_mtime_ns
    outcome = use.update_mode(path, "writer", {"name": "Writer", "groups": ["read", "edit"]})
    assert outcome.status == "unchanged" and os.stat(path).st_mtime_ns == stamp


def test_another_programs_change_to_another_field_is_kept_without_asking(path):
    base = use.mode_fields(load_modes(path), "writer")
    theirs = outside_edit(path, "writer", "whenToUse", "For essays.")
    asked = []
    outcome = use.update_mode(path, "writer", {"name": "Essayist"}, base=base, choose=asked.append)
    assert asked == [] and outcome.written and outcome.theirs_changed == ("whenToUse",)
    assert path.read_bytes() == theirs.replace(b"name: Writer", b"name: Essayist")


@pytest.mark.parametrize("answer", [True, False, None])
def test_the_same_field_changed_on_both_sides_is_asked_with_both_values(path, answer):
    base = use.mode_fields(load_modes(path), "writer")
    theirs = outside_edit(path, "writer", "roleDefinition", "Theirs.")
    asked = []

    def choose(conflicts):
        asked.append([(c.key, c.base, c.mine, c.theirs) for c in conflicts])
        return answer

    outcome = use.update_mode(path, "writer", {"roleDefinition": "Mine.", "name": "Mine too"}, base=base,
                              choose=choose)
    assert asked == [[("roleDefinition", "You write.", "Mine.", "Theirs.")]]
    doc = load_modes(path)
    if answer is None:
        assert outcome.status == "cancelled" and path.read_bytes() == theirs
    else:
        assert outcome.written and doc.mode("writer").name == "Mine too"
        assert doc.mode("writer").role_definition == ("Mine." if answer else "Theirs.")


def test_without_a_chooser_a_conflict_writes_nothing(path):
    base = use.mode_fields(load_modes(path), "writer")
    theirs = outside_edit(path, "writer", "name", "Theirs")
    outcome = use.update_mode(path, "writer", {"name": "Mine"}, base=base)
    assert outcome.status == "conflict" and [c.theirs for c in outcome.conflicts] == ["Theirs"]
    assert path.read_bytes() == theirs


def test_the_question_is_asked_outside_the_lock_and_asked_again_when_theirs_moves(path):
    """While the user decides, another writer (taking our lock) must get through; its new value is asked about."""
    base = use.mode_fields(load_modes(path), "writer")
    outside_edit(path, "writer", "name", "Theirs 1")
    seen = []

    def choose(conflicts):
        seen.append(conflicts[0].theirs)
        if len(seen) == 1:
            def writer():
                data = path.read_bytes()
                doc = ModesDocument(path, data)
                doc.set_field("writer", "name", "Theirs 2")
                atomic_write(path, doc.data, expected=data)
            t = threading.Thread(target=writer)
            t.start()
            t.join(timeout=20)
            assert not t.is_alive(), "the edit held the file's lock while asking"
        return True

    outcome = use.update_mode(path, "writer", {"name": "Mine"}, base=base, choose=choose)
    assert seen == ["Theirs 1", "Theirs 2"]
    assert outcome.written and load_modes(path).mode("writer").name == "Mine"


def test_bad_values_are_refused_with_the_modes_line_and_nothing_written(path):
    cases = [({"name": ""}, "name must not be empty"), ({"groups": ["read", "fly"]}, "unknown group 'fly'"),
             ({"groups": [["edit", {"fileRegex": "[a-"}]]}, "does not compile")]
    for changes, fragment in cases:
        with pytest.raises(FormatError) as exc:
            use.update_mode(path, "writer", changes)
        assert fragment in str(exc.value) and exc.value.line == 2
        assert path.read_text() == BASE
    with pytest.raises(FormatError, match=r":1: error: no mode with slug 'nope'"):
        use.update_mode(path, "nope", {"name": "x"})
    with pytest.raises(FormatError, match="cannot edit 'slug'"):
        use.update_mode(path, "writer", {"slug": "x"})
    assert path.read_text() == BASE


def test_add_creates_the_file_and_appends_and_refuses_a_taken_slug(tmp_path, path):
    fresh = tmp_path / "new" / ".roomodes"
    outcome = use.add_mode(fresh, "first", name="First", role_definition="Be first.", groups=["read"])
    assert outcome.written and outcome.before is None
    assert load_modes(fresh).mode("first").role_definition == "Be first."
    use.add_mode(path, "third", name="Third", role_definition="r", groups=["read", "command"], when_to_use="Now.")
    assert path.read_text().startswith(BASE) and load_modes(path).mode("third").when_to_use == "Now."
    before = path.read_bytes()
    with pytest.raises(FormatError, match=r":9: error: a mode with slug 'other' exists already"):
        use.add_mode(path, "other", name="O", role_definition="r", groups=[])
    assert path.read_bytes() == before


def test_remove_refuses_when_the_mode_changed_since_it_was_shown(path):
    shown = use.mode_fields(load_modes(path), "other")
    theirs = outside_edit(path, "other", "roleDefinition", "Changed meanwhile.")
    outcome = use.remove_mode(path, "other", base=shown)
    assert outcome.status == "conflict" and outcome.theirs_changed == ("roleDefinition",)
    assert path.read_bytes() == theirs
    outcome = use.remove_mode(path, "other")
    assert outcome.written and path.read_text() == BASE.split("  - slug: other")[0]


def test_read_only_file_is_refused_unless_forced(path):
    os.chmod(path, stat.S_IRUSR | stat.S_IRGRP)
    with pytest.raises(WriteProtectedError):
        use.update_mode(path, "writer", {"name": "Forced"})
    assert path.read_text() == BASE
    with write_options(force=True):
        use.update_mode(path, "writer", {"name": "Forced"})
    assert load_modes(path).mode("writer").name == "Forced"
    assert stat.S_IMODE(os.stat(path).st_mode) == stat.S_IRUSR | stat.S_IRGRP


def test_the_writer_callback_gets_the_bytes(path):
    calls = []

    def write(p, before, after):
        calls.append((p, before, after))
        use.write_file(p, before, after)

    use.remove_mode(path, "writer", write=write)
    assert len(calls) == 1 and calls[0][1] == BASE.encode() and calls[0][2] == path.read_bytes()
