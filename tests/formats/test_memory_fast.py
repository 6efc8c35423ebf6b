"""The memory-log reader's shortcuts give what its general paths give.

Timestamps of the common ``toISOString()`` form are parsed by
``datetime.fromisoformat``; entries are built without pydantic validation.
Both must be indistinguishable from the general, validated path.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shared_fixtures import fixture_files

from orchestrator_gui.formats import memory_syntax
from orchestrator_gui.formats.memory import MemoryDocument, MemoryEntry


def general(raw: str):
    """parse_timestamp with its fast path switched off."""
    saved = memory_syntax._COMMON
    memory_syntax._COMMON = memory_syntax.re.compile(r"(?!)")  # matches nothing
    try:
        return memory_syntax.parse_timestamp(raw)
    finally:
        memory_syntax._COMMON = saved




@settings(max_examples=500, deadline=None)
@given(st.integers(0, 9999), st.integers(0, 14), st.integers(0, 33), st.integers(0, 25), st.integers(0, 61),
       st.integers(0, 61), st.text(alphabet="0123456789", max_size=9), st.sampled_from(["Z", "", "z", "+01:00"]))
def test_fast_timestamps_equal_the_general_path(y, mo, d, h, mi, s, frac, zone):
    raw = f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}{'.' + frac if frac else ''}{zone}"
    assert memory_syntax.parse_timestamp(raw) == general(raw)
    assert memory_syntax.parse_timestamp(f" {raw} ") == general(f" {raw} ")


@pytest.mark.parametrize("path", fixture_files("memory"), ids=lambda p: p.name[:50])
def test_entries_equal_validated_models(path):
    doc = MemoryDocument(path.name, path.read_bytes())
    for e in doc.entries:
        assert MemoryEntry(**e.model_dump()) == e
        assert e.timestamp == general(e.timestamp_raw)
    assert doc.line_count == len(path.read_bytes().decode("utf-8-sig").splitlines())
