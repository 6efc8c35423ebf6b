""".roomodes on the real fixtures: lossless reads, one-scalar edits, validation, safe saves."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from shared_fixtures import LOCAL_DATA, fixture, fixture_files

from orchestrator_gui.formats.roomodes import ModesDocument, load_modes
from orchestrator_gui.problems import ConflictError

FIXTURES = fixture_files("roomodes")
LOCAL = sorted((LOCAL_DATA / "roomodes").glob("*"))
ALL = FIXTURES + LOCAL

#: Exact mode counts (and file syntax) of the known fixtures.
EXPECTED = {
    "8315b4a7": (26, "yaml"),
    "34367220": (25, "yaml"),
    "kyle-apex": (3, "json"),
    "RooCodeInc": (7, "yaml"),
    "ryantulloch": (0, "json"),
    "jsboigeEpita": (1, "yaml"),
    "n5-system": (6, "json"),
    "maozdemir": (15, "json"),
}
TRICKY = '🚀 New "name" \\ with: colon # hash'


def _ids(p: Path) -> str:
    return p.name


def _changed_region(old: bytes, new: bytes) -> tuple[int, int]:
    """Byte range of ``old`` that differs from ``new`` (common prefix/suffix removed)."""
    n = min(len(old), len(new))
    pre = 0
    while pre < n and old[pre] == new[pre]:
        pre += 1
    suf = 0
    while suf < n - pre and old[len(old) - 1 - suf] == new[len(new) - 1 - suf]:
        suf += 1
    return pre, len(old) - suf


def test_fixture_folder_is_present():
    assert len(LOCAL) == 2
    if not FIXTURES:
        pytest.skip("shared fixtures not available (../shared/fixtures/roomodes is absent)")
    assert len(FIXTURES) >= 8


@pytest.mark.parametrize("path", ALL, ids=_ids)
def test_no_op_round_trip_is_byte_identical(path):
    doc = load_modes(path)
    assert doc.data == path.read_bytes()
    assert not doc.dirty
    # Setting every text field to the value it already has changes nothing.
    for mode in doc.modes:
        for key in ("name", "role_definition", "when_to_use", "description", "custom_instructions"):
            if getattr(mode, key):
                doc.set_field(mode.slug, key, getattr(mode, key))
    assert doc.data == path.read_bytes()


@pytest.mark.parametrize("path", ALL, ids=_ids)
def test_mode_counts_and_format(path):
    doc = load_modes(path)
    known = [v for k, v in EXPECTED.items() if k in path.name]
    assert len(known) == 1, "every fixture needs an expected mode count"
    count, fmt = known[0]
    assert len(doc.modes) == count
    assert doc.format == fmt
    assert all(m.line >= 2 for m in doc.modes)


def test_first_modes_and_lines():
    origin = load_modes(fixture("roomodes", "34367220"))
    first = origin.modes[0]
    assert (first.slug, first.name, first.line) == ("optimization-memory", "🧠 Memory Optimization", 2)
    assert first.role_definition.startswith("You are 🧠 Memory Optimization specialist responsible for optimizing")
    assert [g.name for g in first.groups] == ["browser", "command", "edit", "mcp", "read"]
    assert first.source == "project"
    roo = load_modes(fixture("roomodes", "RooCodeInc"))
    translate = roo.mode("translate")
    assert translate.groups[2].name == "edit"
    assert translate.groups[2].options == {
        "fileRegex": r"(.*\.(md|ts|tsx|js|jsx)$|.*\.json$)", "description": "Source code, translation files, and documentation"}
    kyle = load_modes(fixture("roomodes", "kyle-apex"))
    assert kyle.mode("test").groups[3].options["fileRegex"].startswith("(__tests__/")


def test_folded_scalar_reads_like_yaml():
    doc = load_modes(fixture("roomodes", "jsboigeEpita"))
    role = doc.modes[0].role_definition
    assert "\a" not in role  # ruamel's internal fold markers must not leak
    assert role.startswith("Vous êtes Roo, un gestionnaire de projets stratégique qui supervise des initiatives")
    assert "exclusivement sur:\n\n1. L'analyse" in role


WITH_MODES = [p for p in ALL if load_modes(p).modes]


@pytest.mark.parametrize("value", [TRICKY, "Plain Name"], ids=["tricky", "plain"])
@pytest.mark.parametrize("path", WITH_MODES, ids=_ids)
def test_editing_a_name_changes_only_that_scalar(path, value):
    base = load_modes(path)
    picks = sorted({0, len(base.modes) // 2, len(base.modes) - 1})
    for i in picks:
        doc = load_modes(path)
        slug = doc.modes[i].slug
        start, end = doc.source_range(slug, "name")
        doc.set_field(slug, "name", value)
        lo, hi = _changed_region(doc.original, doc.data)
        assert start <= lo and hi <= end, f"bytes outside the name of {slug} changed"
        again = ModesDocument(path, doc.data)
        assert again.modes[i].name == value
        assert again.format == base.format
        # Every other field of every mode reads exactly as before.
        for j, (m_old, m_new) in enumerate(zip(base.modes, again.modes)):
            if j == i:
                assert m_new.model_copy(update={"name": m_old.name}) == m_old
            else:
                assert m_new == m_old
        assert [p.message for p in again.problems()] == [p.message for p in base.problems()]


def test_tricky_name_in_each_style():
    cases = {
        "34367220": 'name: "\\U0001F680 New \\"name\\" \\\\ with: colon # hash"',
        "RooCodeInc": 'name: "🚀 New \\"name\\" \\\\ with: colon # hash"',
        "kyle-apex": '"name": "🚀 New \\"name\\" \\\\ with: colon # hash"',
    }
    for part, expected in cases.items():
        doc = load_modes(fixture("roomodes", part))
        doc.set_field(doc.modes[0].slug, "name", TRICKY)
        assert expected.encode() in doc.data, part


def test_plain_scalar_stays_plain_and_escapes_stay_escapes():
    roo = load_modes(fixture("roomodes", "RooCodeInc"))
    roo.set_field("translate", "name", "🌍 Translator")
    assert b"\n    name: \xf0\x9f\x8c\x8d Translator\n" in roo.data
    origin = load_modes(fixture("roomodes", "8315b4a7"))
    origin.set_field("optimization-memory", "name", "🧹 Memory Cleanup ≥ 1")
    assert b'\n  name: "\\U0001F9F9 Memory Cleanup \\u2265 1"\n' in origin.data


def test_pyyaml_folded_double_quoted_scalar_keeps_its_folding():
    doc = load_modes(fixture("roomodes", "34367220"))
    mode = doc.modes[0]
    doc.set_field(mode.slug, "whenToUse", mode.when_to_use.replace("cleaning", "cleaning 🧹 and scrubbing"))
    old_lines = doc.original.decode().split("\n")
    new_lines = doc.data.decode().split("\n")
    assert old_lines[7:9] == [
        '  whenToUse: "Use \\U0001F9E0 Memory Optimization for cleaning, restructuring, and\\',
        "    \\ ensuring compliance of persistent data.\"",
    ]
    assert new_lines[7:10] == [
        '  whenToUse: "Use \\U0001F9E0 Memory Optimization for cleaning \\U0001F9F9 and scrubbing,\\',
        "    \\ restructuring, and ensuring compliance of persistent data.\"",
        "  groups:",
    ]
    assert new_lines[:7] == old_lines[:7] and new_lines[9:] == old_lines[9:]


def test_folded_block_scalar_edit_touches_one_line():
    doc = load_modes(fixture("roomodes", "jsboigeEpita"))
    mode = doc.modes[0]
    doc.set_field(mode.slug, "customInstructions",
                  mode.custom_instructions.replace("Tout le contexte", "Tout le bon contexte"))
    old, new = doc.original.decode().split("\n"), doc.data.decode().split("\n")
    diff = [(a, b) for a, b in zip(old, new) if a != b]
    assert len(old) == len(new)
    assert diff == [("         * Tout le contexte nécessaire du projet parent",
                     "         * Tout le bon contexte nécessaire du projet parent")]


def test_literal_block_scalar_keeps_its_style():
    doc = load_modes(fixture("roomodes", "RooCodeInc"))
    doc.set_field("issue-fixer", "roleDefinition", "Line one\n\n  indented two\nthree")
    assert b"    roleDefinition: |-\n      Line one\n\n        indented two\n      three\n    whenToUse:" in doc.data
    assert ModesDocument("x", doc.data).mode("issue-fixer").role_definition == "Line one\n\n  indented two\nthree"


def test_json_without_final_newline_stays_so():
    doc = load_modes(fixture("roomodes", "kyle-apex"))
    doc.set_field("boomerang", "customInstructions", "Line 1\nTab\there — “quoted”")
    assert not doc.data.endswith(b"\n")
    assert b'"Line 1\\nTab\\there \\u2014 \\u201cquoted\\u201d"' in doc.data
    assert ModesDocument("x", doc.data).mode("boomerang").custom_instructions == "Line 1\nTab\there — “quoted”"


def test_json_that_only_json_parse_reads_stays_that_way():
    # Raw “smart quotes” in maozdemir break Roo's YAML parse (they become '"'),
    # so Roo reads it with JSON.parse and sees ’ and – unchanged. An edit
    # must not "repair" the YAML path and so change the other modes.
    path = fixture("roomodes", "maozdemir")
    base = load_modes(path)
    assert base.mode("integration").custom_instructions.endswith("summary of what’s been connected.")
    tutorial = base.mode("tutorial").custom_instructions
    doc = load_modes(path)
    doc.set_field("tutorial", "customInstructions", tutorial.replace("onboarding", "on-boarding"))
    again = ModesDocument(path, doc.data)
    assert again.mode("integration") == base.mode("integration")
    assert again.mode("tutorial").custom_instructions == tutorial.replace("onboarding", "on-boarding")
    assert "“" in again.mode("tutorial").custom_instructions


def test_problems_of_n5_fixture():
    doc = load_modes(fixture("roomodes", "n5-system"))
    problems = doc.problems()
    source_errors = [p for p in problems if "source 'local'" in p.message]
    assert [p.line for p in source_errors] == [9, 28, 39, 50, 61, 72]
    assert all(p.severity == "error" and "rejects the whole file" in p.message for p in source_errors)
    extra = {(p.line, p.message.split("'")[1]) for p in problems if "not in Roo's schema" in p.message}
    assert {(7, "version"), (8, "enabled"), (10, "familyDefinitions"), (22, "family"),
            (23, "allowedFamilyTransitions"), (25, "model")} <= extra
    assert all(p.severity == "warning" for p in problems if "not in Roo's schema" in p.message)
    assert doc.mode("n5-code-micro").extra_keys == ["family", "allowedFamilyTransitions", "model"]
    assert doc.mode("n5-mode-family-validator").extra_keys == ["version", "enabled", "familyDefinitions"]
    missing = [p for p in problems if "has no" in p.message]
    assert [(p.line, p.message) for p in missing] == [
        (3, "mode 'n5-mode-family-validator' has no 'roleDefinition'; Roo rejects the whole file"),
        (3, "mode 'n5-mode-family-validator' has no 'groups' list; Roo rejects the whole file"),
    ]
    assert [p.line for p in problems] == sorted(p.line for p in problems)


@pytest.mark.parametrize("part", ["8315b4a7", "34367220"])
def test_origin_reports_deprecated_browser_only(part):
    doc = load_modes(fixture("roomodes", part))
    problems = doc.problems()
    assert problems and all(p.severity == "warning" and "'browser'" in p.message for p in problems)
    assert len(problems) == sum(1 for m in doc.modes if any(g.name == "browser" for g in m.groups))
    assert problems[0].line == 11 and problems[0].format().endswith(
        ":11: warning: group 'browser' of mode 'optimization-memory' is deprecated; current Roo drops it")


def test_clean_fixtures_have_no_problems():
    assert load_modes(fixture("roomodes", "RooCodeInc")).problems() == []
    assert load_modes(fixture("roomodes", "ryantulloch")).problems() == []


def test_misplaced_file_under_dot_roo_is_flagged(tmp_path):
    dst = tmp_path / ".roo" / ".roomodes"
    dst.parent.mkdir()
    shutil.copyfile(fixture("roomodes", "ryantulloch"), dst)
    problems = load_modes(dst).problems()
    assert len(problems) == 1 and problems[0].severity == "warning" and ".roo/" in problems[0].message


def test_save_writes_edit_and_refuses_external_change(tmp_path):
    dst = tmp_path / ".roomodes"
    shutil.copyfile(fixture("roomodes", "RooCodeInc"), dst)
    doc = load_modes(dst)
    doc.set_field("translate", "description", "Edited")
    doc.save()
    assert load_modes(dst).mode("translate").description == "Edited"
    assert not doc.dirty

    doc.set_field("translate", "description", "Edited twice")
    other = dst.read_bytes().replace(b"Edited", b"Changed elsewhere")
    dst.write_bytes(other)
    with pytest.raises(ConflictError):
        doc.save()
    assert dst.read_bytes() == other
