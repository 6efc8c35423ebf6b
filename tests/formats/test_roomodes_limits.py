""".roomodes against hostile input found by benchmarks/fuzz.py: reused anchors, node and size limits, escapes."""

from __future__ import annotations

import warnings

import pytest

from orchestrator_gui.formats.roomodes import MAX_MODES_BYTES, ModesDocument
from orchestrator_gui.formats.roomodes_syntax import MAX_NODES
from orchestrator_gui.problems import FormatError

MODE = b"customModes:\n  - slug: a\n    name: A\n    roleDefinition: r\n    groups: [read]\n"


def test_a_reused_anchor_reads_without_a_warning_and_each_alias_takes_the_latest():
    text = (b"customModes:\n  - slug: a\n    name: &n First\n    roleDefinition: *n\n"
            b"  - slug: b\n    name: &n Second\n    roleDefinition: *n\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # ruamel's ReusedAnchorWarning went to stderr before
        doc = ModesDocument(".roomodes", text)
    assert [(m.slug, m.name, m.role_definition) for m in doc.modes] == [
        ("a", "First", "First"), ("b", "Second", "Second")]


def test_a_file_with_more_yaml_nodes_than_the_limit_is_refused_at_the_line_past_it():
    # MODE is 13 nodes and each unknown key adds two (key and value): 4,993 keys make 9,999 nodes.
    keys = b"".join(b"    k%d: v\n" % i for i in range(4994))
    doc = ModesDocument(".roomodes", MODE + keys[:keys.index(b"    k4993:")])
    assert doc.modes[0].extra_keys[-1] == "k4992"
    with pytest.raises(FormatError) as info:
        ModesDocument(".roomodes", MODE + keys)
    # Node 10,001 is the value of the 4,994th key, on line 5 + 4994.
    assert str(info.value) == (f".roomodes:4999: error: refused: more than {MAX_NODES} YAML nodes "
                               "(real .roomodes files have a few hundred)")


def test_a_json_file_that_only_json_reads_is_held_to_the_same_node_limit():
    # U+0080 is not printable in YAML, so only Roo's JSON.parse fallback reads this file.
    text = ('{"note": "\u0080",\n "customModes": [' + "1," * MAX_NODES + "1]}").encode()
    with pytest.raises(FormatError, match=r"^\.roomodes:2: error: refused: more than 10000 JSON values"):
        ModesDocument(".roomodes", text)
    small = ModesDocument(".roomodes", ('{"note": "\u0080",\n "customModes": []}').encode())
    assert small._view.via == "json" and small.modes == []


def test_a_file_over_the_size_limit_is_refused_before_parsing():
    big = MODE + b"# " + b"x" * MAX_MODES_BYTES + b"\n"
    with pytest.raises(FormatError, match=r"^\.roomodes: error: refused: the file has 1,048,\d+ bytes"):
        ModesDocument(".roomodes", big)
    assert len(ModesDocument(".roomodes", big[:MAX_MODES_BYTES - 1] + b"\n").modes) == 1


@pytest.mark.parametrize("escape", [b"\\U99999999", b"\\U1e999F9E", b"\\U00110000"])
def test_a_unicode_escape_beyond_the_last_character_is_a_yaml_error_with_its_line(escape):
    # ruamel raised OverflowError / ValueError from chr() for these (minimized by benchmarks/fuzz.py).
    text = MODE + b'    description: "ok \\\\U99999999 is text, ' + escape + b' is not"\n'
    with pytest.raises(FormatError) as info:
        ModesDocument(".roomodes", text)
    assert str(info.value) == ".roomodes:6: error: invalid YAML: a \\U escape beyond U+10FFFF is not a character"
    assert ModesDocument(".roomodes", MODE + b'    description: "\\U0010FFFF"\n').modes[0].description == "\U0010ffff"


def test_the_slowest_yaml_at_the_size_limit_is_still_read():
    # Found by benchmarks/fuzz.py (which times it): a double-quoted scalar broken after every
    # character is ruamel's slowest input; at the old 4 MB limit it took about 6 s to read.
    body = b"|\n" * ((MAX_MODES_BYTES - 200) // 2)
    data = b'customModes:\n  - slug: a\n    name: A\n    roleDefinition: "' + body + b'x"\n    groups: [read]\n'
    assert len(data) <= MAX_MODES_BYTES
    modes = ModesDocument(".roomodes", data).modes
    assert [m.slug for m in modes] == ["a"] and modes[0].role_definition.startswith("| | |")
