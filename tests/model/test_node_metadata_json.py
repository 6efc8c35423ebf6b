"""Node and edge metadata must survive a JSON round trip, whether validated from Python or from JSON."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from orchestrator_gui.model.nodes import Edge, Node

_NODES = TypeAdapter(list[Node])


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400", "-1e999"])
@pytest.mark.parametrize("where", ['{{"x": {v}}}', '{{"x": [1, {{"y": [{v}]}}]}}'])
def test_non_finite_numbers_parsed_from_json_are_refused(literal, where):
    # The JSON parser accepts these; stored as-is they would make every later save fail.
    meta = where.format(v=literal)
    with pytest.raises(ValidationError, match="metadata must be JSON-serialisable"):
        _NODES.validate_json(f'[{{"id": "a", "metadata": {meta}}}]')
    with pytest.raises(ValidationError, match="metadata must be JSON-serialisable"):
        Edge.model_validate_json(f'{{"src": "a", "dst": "b", "type": "parent", "metadata": {meta}}}')


def test_python_values_that_do_not_round_trip_are_still_refused():
    for bad in ({"t": (1, 2)}, {1: "int key"}, {"f": float("nan")}, {"o": object()}):
        with pytest.raises(ValidationError):
            Node(id="a", metadata=bad)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=20,
)


@given(st.dictionaries(st.text(max_size=5), _JSON, max_size=4))
def test_json_and_python_validation_agree_on_valid_metadata(meta):
    text = json.dumps([{"id": "a", "metadata": meta}])
    from_json = _NODES.validate_json(text)[0]
    assert from_json.metadata == meta
    assert from_json == Node(id="a", metadata=meta)
