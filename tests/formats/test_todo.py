"""TODO.md reader/editor on the real fixtures (docs/formats.md §2, §6 cases 9-12, §7)."""

from __future__ import annotations

from pathlib import Path

import pytest
from shared_fixtures import LOCAL_DATA, fixture_files

from orchestrator_gui.formats.todo import TodoDocument, load_todo
from orchestrator_gui.problems import FormatError

LOCAL = sorted((LOCAL_DATA / "todo").glob("*.md"))
ALL = fixture_files("todo") or LOCAL

E0AF = "e0af0f6f"
CLOUDRON = "cloudron-netbird"
ROBODOG = "robodog"


def todo_fixture(part: str) -> Path:
    """A fixture by name part: the shared copy, else the small copy in tests/data."""
    for p in fixture_files("todo") + LOCAL:
        if part in p.name:
            return p
    pytest.skip(f"todo fixture *{part}* not available")


def shared(part: str) -> Path:
    matches = [p for p in fixture_files("todo") if part in p.name]
    if len(matches) != 1:
        pytest.skip(f"shared todo fixture *{part}* not available")
    return matches[0]


def lines_of(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True)


def changed_lines(a: bytes, b: bytes) -> list[int]:
    la, lb = lines_of(a), lines_of(b)
    assert len(la) == len(lb)
    return [k + 1 for k, (x, y) in enumerate(zip(la, lb)) if x != y]


def test_fixtures_present():
    assert ALL, "no TODO fixtures found (neither shared nor tests/data/todo)"


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_noop_round_trip(path: Path):
    raw = path.read_bytes()
    doc = load_todo(path)
    assert doc.data == raw
    assert not doc.dirty
    assert doc.items, "every TODO fixture has at least one item"
    assert all(p.severity != "error" for p in doc.problems())


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_toggle_every_checkbox_and_back(path: Path):
    raw = path.read_bytes()
    doc = load_todo(path)
    for item in list(doc.items):
        if item.state == "done":
            doc.uncheck(item.line)
        else:
            doc.check(item.line)
        assert len(doc.data) == len(raw)
        diff = [k for k, (a, b) in enumerate(zip(raw, doc.data)) if a != b]
        assert len(diff) == 1, f"line {item.line}: {len(diff)} bytes changed"
        assert doc.item_at(item.line).state == ("open" if item.state == "done" else "done")
        if item.state == "other":  # no way back to '-' or '*' through check/uncheck
            doc = TodoDocument(path, raw)
            continue
        if item.state == "done":
            doc.check(item.line)
        else:
            doc.uncheck(item.line)
        assert doc.data == raw, f"line {item.line} did not toggle back"


def test_counts_origin_head_e0af0f6f():
    doc = load_todo(todo_fixture(E0AF))
    assert len(doc.items) == 27  # SOURCES.md: "origin HEAD; 27 items"
    assert [i.line for i in doc.items[:10]] == [15, 20, 30, 35, 40, 41, 48, 55, 66, 71]
    assert all(i.depth == 0 and i.bullet == "-" for i in doc.items)
    assert sum(i.state == "done" for i in doc.items) == 9  # line 40 is open
    assert doc.item_at(15).section == "High priority planning items"
    assert doc.item_at(82).text == "**Spherical Coordinates System Planning**"
    assert [h.text for h in doc.headings[:2]] == [
        "Loop Orchestrator - Development Planning & Oversight",
        "✅ CURRENT PROJECT STATUS - PRODUCTION READY"]


def test_details_tab_and_two_spaces_and_orphans_e0af0f6f():
    doc = load_todo(todo_fixture(E0AF))
    first = doc.item_at(15)
    assert first.end_line == 18
    assert first.details[0].startswith("\t- **Coordination Context**")
    newer = doc.item_at(82)
    assert newer.details[0].startswith("  - **Planning Context**")
    assert doc.item_at(40).details == [] and doc.item_at(40).end_line == 40
    # Lines 62-64 attach where indentation puts them (line 55), blank line kept.
    doc_item = doc.item_at(55)
    assert doc_item.end_line == 64
    assert doc_item.details[5] == ""
    assert doc_item.details[6] == "\t- **Planning Context**: Optional enhancement for comprehensive timeout monitoring"
    infos = [p for p in doc.problems() if p.line == 62]
    assert len(infos) == 1 and infos[0].severity == "info" and "line 55" in infos[0].message


def test_cloudron_ignores_front_matter_fences_and_comments():
    doc = load_todo(todo_fixture(CLOUDRON))
    assert len(doc.items) == 17  # 9 backlog + 8 done; not the 5 fenced examples
    lines = [i.line for i in doc.items]
    assert not set(range(14, 21)) & set(lines)  # fenced example block
    assert not set(range(92, 102)) & set(lines)  # TOON comment with CSV rows
    assert doc.headings[0].text == "TODO" and doc.headings[0].line == 4
    assert doc.item_at(60).section == "Backlog" and doc.item_at(103).section == "Done"
    assert doc.item_at(103).state == "done"


def test_robodog_multibox_and_glued_fence():
    path = todo_fixture(ROBODOG)
    raw = path.read_bytes()
    doc = load_todo(path)
    assert [(i.line, i.boxes) for i in doc.items] == [
        (5, "[x][x][-]"), (25, "[x][x][x]"), (35, "[x][x][x]"), (50, "[x][-][-]"), (65, "[x][x][-]")]
    # The column-0 ```knowledge block under the item belongs to it.
    assert doc.item_at(25).end_line == 32
    assert doc.item_at(65).end_line == 71
    doc.uncheck(50)
    assert lines_of(doc.data)[49].startswith(b"- [ ][-][-] test agent loop")
    assert changed_lines(raw, doc.data) == [50]


def test_makeslide_bare_items_nested_and_star():
    doc = load_todo(shared("1319823e"))
    assert len(doc.items) == 84
    assert all(i.bullet is None for i in doc.items)
    child = doc.item_at(13)
    assert (child.depth, child.parent_line, child.indent) == (1, 12, "    ")
    star = doc.item_at(347)
    assert (star.state, star.marker) == ("other", "*")
    assert [p.severity for p in doc.problems() if p.line == 347] == ["warning"]
    assert [i.line for i in doc.items if i.state == "open"] == [529]
    assert doc.item_at(529).section == "Fifth batch"


def test_makeslide_nested_dash_items():
    doc = load_todo(shared("769a4a88"))
    assert len(doc.items) == 143
    parent = doc.item_at(27)
    assert (parent.end_line, parent.details) == (33, [])
    assert [i.parent_line for i in doc.items if 28 <= i.line <= 33] == [27] * 6
    assert doc.item_at(28).depth == 1


def test_duplicate_titles_are_reported_not_merged():
    doc = load_todo(shared("d9837c72"))
    assert doc.item_at(40).text == doc.item_at(44).text
    dup = [p for p in doc.problems() if p.line == 44]
    assert len(dup) == 1 and dup[0].severity == "info" and "line 40" in dup[0].message
    # The bold plan bullets without a checkbox are not items.
    assert len(doc.items) == 8


# ----------------------------------------------------------------- editing


def test_add_copies_tab_or_two_space_detail_style():
    path = todo_fixture(E0AF)
    raw = path.read_bytes()
    doc = load_todo(path)
    assert doc.add("Tab child", under=15) == 19
    assert lines_of(doc.data)[18] == b"\t- [ ] Tab child\n"
    assert doc.item_at(19).parent_line == 15
    doc = load_todo(path)
    assert doc.add("Space child", under=82) == 86
    assert lines_of(doc.data)[85] == b"  - [ ] Space child\n"
    assert doc.data == b"".join(lines_of(raw)[:85] + [b"  - [ ] Space child\n"] + lines_of(raw)[85:])


def test_add_to_section_follows_blank_line_habit():
    path = todo_fixture(E0AF)
    raw = lines_of(path.read_bytes())
    doc = load_todo(path)
    line = doc.add("New planning item", section="high priority planning ITEMS")
    assert line == 28
    assert doc.data == b"".join(raw[:26] + [b"\n", b"- [ ] New planning item\n"] + raw[26:])
    assert doc.item_at(28).section == "High priority planning items"
    with pytest.raises(FormatError, match="no heading"):
        doc.add("x", section="No such heading")

    cloud = todo_fixture(CLOUDRON)
    raw = lines_of(cloud.read_bytes())
    doc = load_todo(cloud)  # "Done" items are adjacent, "Backlog" items blank-separated
    assert doc.add("t023 Adjacent", section="Done") == 111
    assert doc.data == b"".join(raw[:110] + [b"- [ ] t023 Adjacent\n"] + raw[110:])
    doc = load_todo(cloud)
    assert doc.add("t024 Spaced", section="Backlog") == 78
    assert doc.data == b"".join(raw[:76] + [b"\n", b"- [ ] t024 Spaced\n"] + raw[76:])


def test_add_bare_style_and_bare_child():
    path = shared("1319823e")
    raw = lines_of(path.read_bytes())
    doc = load_todo(path)
    assert doc.add("bare child", under=12) == 14
    assert doc.data == b"".join(raw[:13] + [b"    [ ] bare child\n"] + raw[13:])
    doc = load_todo(path)
    assert doc.add("next batch task", section="Fifth batch") == 530
    assert lines_of(doc.data)[529] == b"[ ] next batch task\n"


def test_add_without_final_newline_keeps_that_state():
    path = shared("c45ad2ca")
    raw = path.read_bytes()
    assert not raw.endswith(b"\n")
    doc = load_todo(path)
    line = doc.add("Appended")
    assert doc.data == raw + b"\n\n- [ ] Appended"
    assert doc.item_at(line).text == "Appended"

    robodog = todo_fixture(ROBODOG)
    raw = robodog.read_bytes()
    doc = load_todo(robodog)
    doc.add("next", under=65)
    assert doc.data == raw.replace(b"  - plan: temp\\plan.md\n```knowledge\nremove simple ui\n```",
                                   b"  - plan: temp\\plan.md\n```knowledge\nremove simple ui\n```\n"
                                   b"  - [ ][ ][ ] next")


def test_add_rejects_bad_titles_and_leaves_data():
    doc = load_todo(todo_fixture(E0AF))
    before = doc.data
    for bad in ["", "   ", "two\nlines", "cr\rhere"]:
        with pytest.raises(FormatError):
            doc.add(bad)
    with pytest.raises(FormatError) as err:
        doc.add("x", under=16)
    assert err.value.line == 16 and "no TODO item at line 16" in str(err.value)
    assert doc.data == before


def test_remove_takes_details_and_fixes_double_blank():
    path = todo_fixture(E0AF)
    raw = lines_of(path.read_bytes())
    doc = load_todo(path)
    doc.remove(55)  # lines 55-64 incl. the orphan-looking details, plus one blank
    assert doc.data == b"".join(raw[:54] + raw[65:])
    assert b"\n\n\n" not in doc.data
    assert doc.item_at(55).text == "Orchestrator integration planning completed"
    assert len(doc.items) == 26

    nested = shared("769a4a88")
    raw = lines_of(nested.read_bytes())
    doc = load_todo(nested)
    doc.remove(27)  # parent with six nested items
    assert doc.data == b"".join(raw[:26] + raw[33:])
    assert len(doc.items) == 143 - 7


def test_remove_last_item_keeps_no_final_newline():
    path = todo_fixture(ROBODOG)
    raw = lines_of(path.read_bytes())
    doc = load_todo(path)
    doc.remove(65)
    assert doc.data == b"".join(raw[:63]) + b"# todo  task 5"


def test_edit_changes_only_title_bytes():
    path = todo_fixture(E0AF)
    raw = path.read_bytes()
    doc = load_todo(path)
    doc.edit(82, "**Spherical Coordinates (renamed)**")
    assert changed_lines(raw, doc.data) == [82]
    assert lines_of(doc.data)[81] == b"- [ ] **Spherical Coordinates (renamed)**\n"
    assert doc.item_at(82).details == load_todo(path).item_at(82).details
    with pytest.raises(FormatError) as err:
        doc.edit(83, "not an item line")
    assert err.value.line == 83
    with pytest.raises(FormatError):
        doc.edit(82, "line\nbreak")


def test_indent_outdent_round_trip():
    path = todo_fixture(E0AF)
    raw = path.read_bytes()
    doc = load_todo(path)
    doc.indent(20)
    shifted = lines_of(doc.data)
    assert shifted[19] == b"\t- [x] Strategic MCP server development planning\n"
    assert shifted[20].startswith(b"\t\t- **Planning Context**")
    assert doc.item_at(20).parent_line == 15
    assert doc.item_at(15).end_line == 26
    doc.outdent(20)
    assert doc.data == raw
    with pytest.raises(FormatError, match="no item above"):
        doc.indent(15)
    with pytest.raises(FormatError, match="top level"):
        doc.outdent(15)

    nested = shared("769a4a88")
    raw = nested.read_bytes()
    doc = load_todo(nested)
    doc.outdent(33)
    assert lines_of(doc.data)[32].startswith(b"- [ ] [`routes/pdfs.assets.ts`]")
    assert doc.item_at(33).parent_line is None
    doc.indent(33)
    assert doc.data == raw


def test_move_round_trip_blank_separated():
    path = todo_fixture(E0AF)
    raw = path.read_bytes()
    doc = load_todo(path)
    doc.move(30, before_line=48)  # "Task definition audit" before "MCP server production readiness"
    titles = [i.text for i in doc.items[2:8]]
    assert titles == ["Runtime enforcement planning oversight",
                      "Automated CI check planning (optional enhancement)",
                      "Test suite analysis and quality assessment",
                      "Task definition audit coordination",
                      "MCP server production readiness validation",
                      "Documentation comprehensive update"]
    assert len(doc.data) == len(raw) and b"\n\n\n" not in doc.data
    moved = doc.items[5]
    assert moved.details == load_todo(path).item_at(30).details
    doc.move(moved.line, before_line=doc.items[2].line)
    assert doc.data == raw

    doc.move(30, None)  # to the end of its section
    assert doc.items[9].text == "Task definition audit coordination"
    assert doc.items[9].section == "Implementation planning context"
    doc.move(doc.items[9].line, before_line=doc.items[2].line)  # "Runtime…" moved up to 30
    assert doc.data == raw


def test_move_adjacent_and_nested_round_trip():
    cloud = todo_fixture(CLOUDRON)
    raw = cloud.read_bytes()
    doc = load_todo(cloud)
    doc.move(110, before_line=103)
    assert lines_of(doc.data)[102].startswith(b"- [x] t011 ")
    assert changed_lines(raw, doc.data) == list(range(103, 111))
    doc.move(103, before_line=None)
    assert doc.data == raw
    with pytest.raises(FormatError, match="no TODO item"):
        doc.move(103, before_line=104 + 100)

    nested = shared("769a4a88")
    raw = nested.read_bytes()
    doc = load_todo(nested)
    doc.move(32, before_line=28)
    assert doc.items[1].text.startswith("[`routes/pdfs.video.ts`]")
    assert doc.item_at(28).parent_line == 27
    doc.move(28, before_line=33)
    assert doc.data == raw
    with pytest.raises(FormatError, match="own range"):
        doc.move(27, before_line=30)
