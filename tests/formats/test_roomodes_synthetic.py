""".roomodes on small hand-made files: YAML 1.2, Roo's normalisation, styles, errors, added keys."""

from __future__ import annotations

import codecs

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator_gui.formats.roomodes import ModesDocument, load_modes
from orchestrator_gui.problems import FormatError

BASE = """customModes:
  - slug: a
    name: Plain Name
    roleDefinition: 'single quoted'
    whenToUse: "double quoted"
    description: |-
      literal
      block
    customInstructions: >-
      folded
      block
    groups:
      - read
"""


def doc_of(text: str | bytes, name: str = "m.yaml") -> ModesDocument:
    return ModesDocument(name, text.encode() if isinstance(text, str) else text)


def messages(doc: ModesDocument) -> list[tuple[int | None, str, str]]:
    return [(p.line, p.severity, p.message) for p in doc.problems()]


def test_base_reads_every_style():
    m = doc_of(BASE).mode("a")
    assert (m.name, m.role_definition, m.when_to_use) == ("Plain Name", "single quoted", "double quoted")
    assert (m.description, m.custom_instructions) == ("literal\nblock", "folded block")
    assert m.line == 2 and m.groups[0].name == "read"


@pytest.mark.parametrize("word", ["yes", "no", "on", "off", "Yes", "NO", "y", "n"])
def test_yaml_1_2_words_stay_strings(word):
    doc = doc_of(BASE.replace("name: Plain Name", f"name: {word}"))
    assert doc.mode("a").name == word
    assert doc.problems() == []


@pytest.mark.parametrize("value", ["yes", "no", "true", "null", "~", "123", "1.5", "", " padded ", "- dash", "a: b",
                                   "x #y", "[list]", "line\nbreak", "tab\there"])
def test_plain_scalar_that_would_change_meaning_gets_quoted(value):
    doc = doc_of(BASE)
    doc.set_field("a", "name", value)
    line = doc.data.decode().split("\n")[2]
    assert line.startswith('    name: "'), line
    assert doc_of(doc.data).mode("a").name == value


def test_values_that_need_no_quotes_stay_plain():
    doc = doc_of(BASE)
    doc.set_field("a", "name", "🧪 Tester v2 (beta), café:latest # 1")
    assert doc.data.decode().split("\n")[2] == '    name: "🧪 Tester v2 (beta), café:latest # 1"'
    doc = doc_of(BASE)  # the edit above made that scalar double-quoted, and it stays so
    doc.set_field("a", "name", "🧪 Tester v2 (beta), café:latest#1")
    assert doc.data.decode().split("\n")[2] == "    name: 🧪 Tester v2 (beta), café:latest#1"


def test_single_quoted_keeps_style_and_doubles_quotes():
    doc = doc_of(BASE)
    doc.set_field("a", "roleDefinition", "it's \"fine\"")
    assert doc.data.decode().split("\n")[3] == "    roleDefinition: 'it''s \"fine\"'"
    doc.set_field("a", "roleDefinition", "two\nlines")
    assert doc.data.decode().split("\n")[3] == '    roleDefinition: "two\\nlines"'


def test_block_scalars_pick_chomping_from_the_value():
    doc = doc_of(BASE)
    doc.set_field("a", "description", "ends with newline\n")
    assert "    description: |\n      ends with newline\n    customInstructions" in doc.data.decode()
    assert doc_of(doc.data).mode("a").description == "ends with newline\n"
    doc.set_field("a", "customInstructions", "para one\npara two\n\npara three")
    assert "    customInstructions: >-\n      para one\n\n      para two\n\n\n      para three\n    groups:" in doc.data.decode()
    assert doc_of(doc.data).mode("a").custom_instructions == "para one\npara two\n\npara three"


def test_block_scalar_that_cannot_hold_the_value_becomes_double_quoted():
    doc = doc_of(BASE)
    doc.set_field("a", "description", "  starts with spaces")
    assert '    description: "  starts with spaces"\n' in doc.data.decode()
    assert doc_of(doc.data).mode("a").description == "  starts with spaces"


def test_long_folded_line_is_wrapped_at_80_columns():
    doc = doc_of(BASE)
    words = " ".join(f"word{i}" for i in range(40))
    doc.set_field("a", "customInstructions", words)
    lines = doc.data.decode().split("\n")
    block = lines[lines.index("    customInstructions: >-") + 1: lines.index("    groups:")]
    assert len(block) > 2 and all(len(ln) <= 80 for ln in block)
    assert doc_of(doc.data).mode("a").custom_instructions == words


# --- Roo's pre-parse normalisation -----------------------------------------

def test_smart_quotes_can_break_the_file_for_roo():
    # Roo turns “…” into ASCII quotes before parsing: this name becomes
    # '"Smart" name', which is not valid YAML, so Roo cannot load the file.
    text = "customModes:\n  - slug: a\n    name: \u201cSmart\u201d name\n    roleDefinition: r\n    groups: [read]\n"
    with pytest.raises(FormatError, match="invalid YAML") as info:
        doc_of(text)
    assert info.value.line == 3


def test_smart_quotes_make_a_quoted_scalar_for_roo():
    doc = doc_of("customModes:\n  - slug: a\n    name: \u201cSmart name\u201d\n    roleDefinition: r\u2014s\u00a0t\n"
                 "    groups: [read]\n")
    assert doc.mode("a").name == "Smart name"
    assert doc.mode("a").role_definition == "r-s t"


def test_edit_after_removed_zero_width_chars_hits_the_right_bytes():
    text = "customModes:\n  - slug: a\u200b\u200c\n    description: \u200bkeep\u200d\n    name: Old\n    roleDefinition: r\n    groups: [read]\n"
    doc = doc_of(text)
    assert doc.mode("a").description == "keep"
    doc.set_field("a", "name", "New")
    assert doc.data == text.replace("name: Old", "name: New").encode()


def test_written_values_escape_characters_roo_would_normalise():
    value = "“q” ‘s’ a\u00a0b c\u2014d e\u200bf"
    doc = doc_of(BASE)
    for key in ("name", "roleDefinition", "whenToUse", "description", "customInstructions"):
        doc.set_field("a", key, value)
    again = doc_of(doc.data)
    m = again.mode("a")
    assert [m.name, m.role_definition, m.when_to_use, m.description, m.custom_instructions] == [value] * 5
    assert "“" not in doc.data.decode() and "\u200b" not in doc.data.decode()


# --- line endings, BOM -------------------------------------------------------

def test_crlf_and_bom_survive_edits_and_added_keys():
    data = codecs.BOM_UTF8 + BASE.replace("\n", "\r\n").encode()
    doc = doc_of(data)
    doc.set_field("a", "description", "new\nliteral")
    doc.set_field("a", "name", "line\nbreak")
    doc.set_field("a", "customInstructions", "x " * 60)
    doc.set_field("a", "whenToUse", "w")
    assert doc.data.startswith(codecs.BOM_UTF8)
    assert doc.data.count(b"\n") == doc.data.count(b"\r\n")
    assert b"    description: |-\r\n      new\r\n      literal\r\n" in doc.data
    m = doc_of(doc.data).mode("a")
    assert (m.description, m.name, m.custom_instructions) == ("new\nliteral", "line\nbreak", ("x " * 60))


# --- adding a key ------------------------------------------------------------

def test_add_key_to_block_mapping_after_trailing_comment():
    text = "customModes:\n  - slug: a\n    name: A\n    roleDefinition: r\n    groups: [read]  # tools\n  - slug: b\n    name: B\n    roleDefinition: r\n    groups: [read]\n"
    doc = doc_of(text)
    doc.set_field("a", "whenToUse", "when: now")
    assert doc.data.decode() == text.replace("# tools\n", '# tools\n    whenToUse: "when: now"\n')
    doc.set_field("b", "description", "last")
    assert doc.data.decode().endswith('    groups: [read]\n    description: "last"\n')


def test_add_key_after_block_scalar_leaves_blank_lines():
    text = "customModes:\n- slug: a\n  name: A\n  roleDefinition: r\n  groups:\n  - read\n  customInstructions: |-\n    one\n\n\n- slug: b\n  name: B\n  roleDefinition: r\n  groups: [read]\n"
    doc = doc_of(text)
    doc.set_field("a", "description", "d")
    assert doc.data.decode() == text.replace("    one\n", '    one\n  description: "d"\n')
    assert doc_of(doc.data).mode("a").custom_instructions == "one"


PRETTY = ('{\n  "customModes": [\n    {\n      "slug": "a",\n      "name": "A",\n      "roleDefinition": "r",\n'
          '      "groups": ["read"]\n    }\n  ]\n}')
COMPACT = '{"customModes":[{"slug":"a","name":"A","roleDefinition":"r","groups":["read"]}]}'
SPACED = '{"customModes": [{ "slug": "a", "name": "A", "roleDefinition": "r", "groups": ["read"] }]}'


@pytest.mark.parametrize("text,expected", [
    (PRETTY, PRETTY.replace('["read"]\n', '["read"],\n      "whenToUse": "w\\u2014\u00e9"\n')),
    (COMPACT, COMPACT.replace('["read"]}', '["read"],"whenToUse":"w\\u2014\u00e9"}')),
    (SPACED, SPACED.replace('["read"] }', '["read"], "whenToUse": "w\\u2014\u00e9" }')),
], ids=["pretty", "compact", "spaced"])
def test_add_key_to_json_object_copies_its_layout(text, expected):
    doc = doc_of(text, "m.json")
    doc.set_field("a", "when_to_use", "w\u2014\u00e9")
    assert doc.data.decode() == expected
    assert doc_of(doc.data).mode("a").when_to_use == "w\u2014\u00e9"


def test_add_key_to_yaml_flow_mapping():
    doc = doc_of("customModes:\n  - {slug: a, name: b, roleDefinition: r, groups: [read]}\n")
    doc.set_field("a", "whenToUse", "x, y")
    assert doc.data == b'customModes:\n  - {slug: a, name: b, roleDefinition: r, groups: [read], whenToUse: "x, y"}\n'


def test_fill_an_empty_value():
    doc = doc_of("customModes:\n  - slug: a\n    name:\n    roleDefinition: r\n    groups: [read]\n")
    assert messages(doc) == [(3, "error", "'name' of mode 'a' is empty (null); Roo rejects the whole file")]
    doc.set_field("a", "name", "Filled")
    assert doc.data == b"customModes:\n  - slug: a\n    name: Filled\n    roleDefinition: r\n    groups: [read]\n"


# --- refusals leave the data alone --------------------------------------------

@pytest.mark.parametrize("text,slug,key,match", [
    (BASE, "zz", "name", "no mode with slug 'zz'"),
    (BASE, "a", "groups", "cannot edit 'groups'"),
    (BASE, "a", "slug", "cannot edit 'slug'"),
    (BASE + "  - slug: a\n    name: A2\n    roleDefinition: r\n    groups: [read]\n", "a", "name", "used by 2 modes"),
    (BASE.replace("name: Plain Name", "name: [x]"), "a", "name", "is a list"),
    (BASE.replace("name: Plain Name", "name: &n Plain"), "a", "name", "anchor"),
    (BASE.replace("    name: Plain Name\n", "    name: A\n    name: B\n"), "a", "name", "more than once"),
])
def test_set_field_refusals(text, slug, key, match):
    doc = doc_of(text)
    with pytest.raises(FormatError, match=match):
        doc.set_field(slug, key, "v")
    assert doc.data == text.encode() and not doc.dirty


def test_unchanged_value_writes_nothing():
    doc = doc_of(BASE)
    doc.set_field("a", "customInstructions", "folded block")
    assert not doc.dirty


# --- validation ----------------------------------------------------------------

def test_schema_problems_with_lines():
    text = """customModes:
  - slug: bad slug
    name: ""
    roleDefinition: r
    groups:
      - read
      - read
      - browser
      - teleport
      - - edit
        - fileRegex: "(unclosed"
          color: red
    source: local
    model: gpt
  - slug: ok
    name: 12
    roleDefinition: r
    whenToUse:
    groups: read
  - slug: ok
    name: dup
    roleDefinition: r
    groups: [mcp]
  - just a string
x-extra: 1
"""
    got = messages(doc_of(text))
    rej = "; Roo rejects the whole file"
    assert got == [
        (2, "error", "slug 'bad slug' may contain only letters, digits and '-'" + rej),
        (3, "error", "'name' of mode 'bad slug' is empty" + rej),
        (7, "error", "group 'read' appears twice in mode 'bad slug'" + rej),
        (8, "warning", "group 'browser' of mode 'bad slug' is deprecated; current Roo drops it"),
        (9, "error", "unknown group 'teleport' in mode 'bad slug' (known: read, edit, command, mcp, modes)" + rej),
        (10, "error", "fileRegex '(unclosed' of group 'edit' in mode 'bad slug' does not compile "
                      "(missing ), unterminated subpattern at position 0; checked with Python's re, "
                      "an approximation of JavaScript RegExp)" + rej),
        (10, "warning", "option 'color' of group 'edit' in mode 'bad slug' is not in Roo's schema"),
        (13, "error", "source 'local' of mode 'bad slug' is invalid (must be 'project' or 'global')" + rej),
        (14, "warning", "key 'model' of mode 'bad slug' is not in Roo's schema; Roo ignores it"),
        (16, "error", "'name' of mode 'ok' must be text, not 12" + rej),
        (18, "error", "'whenToUse' of mode 'ok' is empty (null); remove it or give it text" + rej),
        (19, "error", "'groups' of mode 'ok' must be a list" + rej),
        (20, "error", "duplicate slug 'ok' (first on line 15); Roo rejects the whole file"),
        (24, "error", "mode #4 is not a mapping of keys; Roo rejects the whole file"),
        (25, "warning", "unknown top-level key 'x-extra'; Roo reads only 'customModes'"),
    ]


def test_problems_never_rewrite():
    text = BASE.replace("- read", "- browser")
    doc = doc_of(text)
    doc.problems()
    assert doc.data == text.encode() and not doc.dirty


# --- unreadable files -------------------------------------------------------------

@pytest.mark.parametrize("text,name,line,match", [
    ("customModes:\n  - slug: a\n    name: b\n   roleDefinition: r\n", "m.yaml", 4, "invalid YAML"),
    ("customModes:\n  - slug: a\n    name: \"open\n    roleDefinition: r\n\n", "m.yaml", 3, "invalid YAML.*quoted scalar"),
    ("customModes:\n\t- slug: a\n", "m.yaml", 2, "invalid YAML.*'\\\\t'"),
    ('{\n  "customModes": [\n    {"slug": "a"}\n    {"slug": "b"}\n  ]\n}', "m.json", 4, "invalid JSON: expected ',' or ']'"),
    ('{\n  "customModes": [\n    {"slug" "a"}\n  ]\n}', "m.json", 3, "invalid JSON: expected ':' after the key"),
    ('{"customModes": []} trailing', "m.json", 1, "invalid JSON: unexpected text"),
    ("- a\n- b\n", "m.yaml", 1, "top level must be a mapping"),
    ("modes: []\n", "m.yaml", 1, "no 'customModes' key"),
    ("x: 1\ncustomModes:\n  slug: a\n", "m.yaml", 2, "'customModes' must be a list"),
    ("customModes:\n", "m.yaml", 1, "'customModes' must be a list"),
    ("# nothing here\n", "m.yaml", 1, "file is empty"),
])
def test_broken_files_raise_format_error_with_line(text, name, line, match, tmp_path):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(FormatError, match=match) as info:
        load_modes(path)
    assert info.value.line == line
    assert info.value.file == str(path)


def test_json_with_smart_quotes_falls_back_to_json_parse():
    text = '{"customModes": [{"slug": "a", "name": "say \u201chi\u201d \u2014 ok", "roleDefinition": "r", "groups": ["read"]}]}'
    doc = doc_of(text, "m.json")
    assert doc.mode("a").name == "say \u201chi\u201d \u2014 ok"  # JSON.parse of the original text


def test_utf16_file_is_refused(tmp_path):
    path = tmp_path / ".roomodes"
    path.write_bytes("customModes: []\n".encode("utf-16"))
    with pytest.raises(FormatError, match="UTF-16"):
        load_modes(path)


# --- any text survives every style ---------------------------------------------------

STYLES = {
    "plain": BASE,
    "json": '{\n  "customModes": [\n    {\n      "slug": "a",\n      "name": "A",\n      "roleDefinition": "r",\n'
            '      "whenToUse": "w",\n      "description": "d",\n      "customInstructions": "c",\n'
            '      "groups": ["read"]\n    }\n  ]\n}',
    "pyyaml": 'customModes:\n- slug: a\n  name: "\\U0001F9E0 A"\n  roleDefinition: "long text that is\\\n    \\ folded"\n'
              "  whenToUse: w\n  description: d\n  customInstructions: c\n  groups:\n  - read\n",
}
KEYS = ("name", "roleDefinition", "whenToUse", "description", "customInstructions")
ATTRS = ("name", "role_definition", "when_to_use", "description", "custom_instructions")


@settings(max_examples=40, deadline=None)
@given(style=st.sampled_from(sorted(STYLES)), value=st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), max_size=120))
def test_any_text_reads_back_exactly(style, value):
    doc = doc_of(STYLES[style], "m.json" if style == "json" else "m.yaml")
    for key, attr in zip(KEYS, ATTRS):
        doc.set_field("a", key, value)
        assert getattr(doc_of(doc.data).mode("a"), attr) == value
