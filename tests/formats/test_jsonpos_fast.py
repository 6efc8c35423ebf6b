"""``parse_json``'s fast path gives the exact parser's tree, positions and errors.

Deep containers come from the C decoder and get their positions on demand;
anything the C decoder would judge differently falls back to the exact
parser. These tests compare both paths on the real fixtures, on random
documents and on every kind of refusal.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shared_fixtures import fixture_files

from orchestrator_gui.formats import jsonpos
from orchestrator_gui.formats.fileio import line_of_offset
from orchestrator_gui.formats.jsonpos import JNode, LineIndex, duplicate_keys, parse_json
from orchestrator_gui.problems import FormatError


def exact(text: str) -> JNode:
    """The exact parser alone (the fast path switched off)."""
    pos = jsonpos._WS.match(text, 0).end()
    node, end = jsonpos._value(text, pos, "s.json", 0)
    assert jsonpos._WS.match(text, end).end() == len(text)
    return node


def flat(node: JNode) -> list:
    """Every node's kind, span and value, members with key positions, depth first (expands lazy nodes)."""
    out = [(node.kind, node.start, node.end, node.value)]
    for key, kpos, child in node.members:
        out.append((key, kpos))
        out.extend(flat(child))
    for child in node.items:
        out.extend(flat(child))
    return out


def same_as_exact(text: str) -> None:
    fast = parse_json(text, "s.json")
    slow = exact(text)
    assert fast.to_python() == slow.to_python()
    assert duplicate_keys(fast) == duplicate_keys(slow)
    assert flat(fast) == flat(slow)  # expanding the lazy nodes gives the exact positions


@pytest.mark.parametrize("path", fixture_files("schedules"), ids=lambda p: p.name[:50])
def test_fixtures_parse_as_the_exact_parser(path):
    same_as_exact(path.read_text(encoding="utf-8"))


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(JSON, st.sampled_from([None, 2, 0]))
def test_random_documents_parse_as_the_exact_parser(value, indent):
    same_as_exact(json.dumps(value, indent=indent, ensure_ascii=False))


DEEP = '{"a": [{"b": {"c": %s}}]}'


@pytest.mark.parametrize("inner", [
    '{"x": 1, "x": 2}',            # a duplicate key deep down: kept with its position
    '[1, 2,]',                     # a trailing comma
    'NaN', '-Infinity',            # not JSON
    '"\\ud800"',                   # a lone surrogate
    "1" * 150,                     # a number longer than MAX_NUMBER_CHARS
    "[" * 200 + "]" * 200,         # deeper than MAX_DEPTH
    '{"x": tru}', '"a\tb"', '01', '{"x" 1}', '[1 2]',
])
def test_refusals_and_duplicates_match_the_exact_parser(inner):
    text = DEEP % inner
    try:
        exact(text)
    except FormatError as exc:
        with pytest.raises(FormatError) as got:
            parse_json(text, "s.json")
        assert (got.value.message, got.value.line) == (exc.message, exc.line)
        return
    same_as_exact(text)


def test_lazy_values_are_fresh_copies():
    root = parse_json(DEEP % '{"days": {"mon": true}}', "s.json")
    inner = root.get("a").items[0].get("b")
    assert inner._lazy is not None  # depth 3: decoded in C
    first = inner.to_python()
    first["c"]["days"]["mon"] = False
    assert inner.to_python() == {"c": {"days": {"mon": True}}}


def test_line_index_matches_line_of_offset():
    text = "a\nbb\n\nccc\nd"
    index = LineIndex(text)
    assert [index.line(k) for k in range(-1, len(text) + 2)] == \
        [line_of_offset(text, k) for k in range(-1, len(text) + 2)]
