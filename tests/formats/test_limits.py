"""Reader limits (issue 13, docs/formats.md §0.5): depth, aliases, numbers, surrogates, schedule ranges, dates."""

from __future__ import annotations

import json
import random
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator_gui.formats import limits
from orchestrator_gui.formats.jsonpos import parse_json
from orchestrator_gui.formats.limits import (
    MAX_DEPTH,
    json_nesting_offset,
    load_json,
    lone_surrogate_offset,
    toml_nesting_offset,
)
from orchestrator_gui.formats.nextrun import MAX_MS, expiration_ms, next_execution_ms, parse_local, to_ms
from orchestrator_gui.formats.roomodes import MAX_MODES_BYTES, ModesDocument
from orchestrator_gui.formats.schedule_values import range_problems, validate_values
from orchestrator_gui.problems import FormatError


def reference_too_deep(text: str, limit: int) -> bool:
    """A plain character walk, the definition the vectorised check must agree with."""
    depth, in_string, escaped = 0, False, False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return True
        elif ch in "]}":
            depth -= 1
    return False


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='ab[]{}"\\ \n', max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(alphabet='k[]{"\\', max_size=3), inner,
                                                                max_size=3),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(json_values, st.integers(min_value=0, max_value=6), st.sampled_from([1, 2, 3, 5, 1 << 24]))
def test_the_vectorised_depth_check_agrees_with_a_character_walk(value, limit, chunk):
    text = json.dumps(value)
    old = limits._CHUNK
    limits._CHUNK = chunk  # small chunks exercise the state carried from one chunk to the next
    try:
        assert limits._json_too_deep(text.encode(), limit) == reference_too_deep(text, limit)
    finally:
        limits._CHUNK = old


def test_depth_limit_edges_in_every_json_reader():
    ok, deep = "[" * MAX_DEPTH + "]" * MAX_DEPTH, "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)
    assert json_nesting_offset(ok) is None and json_nesting_offset(deep) == MAX_DEPTH
    assert load_json(ok, "x") is not None
    with pytest.raises(FormatError, match="deeper than 128"):
        load_json(deep, "x")
    assert json_nesting_offset('"' + "[" * 1000 + '"') is None  # brackets in a string do not count
    with pytest.raises(FormatError) as exc:
        load_json("{\n\n" + '"a": ' * 0 + "[" * 100_000, "big.json")
    assert exc.value.line == 3
    parse_json(ok, "s.json")
    with pytest.raises(FormatError, match="deeper than 128"):
        parse_json("[" * 100_000, "s.json")


@pytest.mark.parametrize("text, offset", [
    (r'"\ud800"', 1), (r'"a\udc00"', 2), (r'["\ud83e\udde0", "\udfff"]', 18),
    (r'"\ud83e\udde0"', None), (r'"\\ud800"', None), (r'"\\\ud800"', 3), ('"\U0001f9e0"', None),
])
def test_lone_surrogate_escapes_are_found(text, offset):
    assert lone_surrogate_offset(text) == offset
    if offset is None:
        assert load_json(text, "x") == json.loads(text)
    else:
        with pytest.raises(FormatError, match="surrogate"):
            load_json(text, "x")


def test_numbers_int_cannot_convert_and_floats_past_the_double_range_are_refused():
    with pytest.raises(FormatError, match="longer than 100 characters") as exc:
        load_json('{\n"a": ' + "1" * 5000 + "}", "x")
    assert exc.value.line == 2
    with pytest.raises(FormatError, match="out of range"):
        load_json("[1e999]", "x")
    with pytest.raises(FormatError):
        load_json("[NaN]", "x")
    assert load_json('["' + "1" * 5000 + '"]', "x") == ["1" * 5000]  # digits in a string are text
    with pytest.raises(FormatError, match="a number of 5000 characters"):
        parse_json('{"a": ' + "1" * 5000 + "}", "s.json")


def test_toml_depth():
    assert toml_nesting_offset("a = " + "{b = " * 128 + "1" + "}" * 128) is None
    assert toml_nesting_offset("a = " + "{b = " * 1000 + "1" + "}" * 1000) == 4 + 5 * 128
    assert toml_nesting_offset('a = "' + "[" * 1000 + '"\n# ' + "{" * 1000) is None  # string and comment


# -- YAML ---------------------------------------------------------------------------------------------
def laughs(levels: int) -> str:
    lines = [f"a0: &a0 [{','.join(['lol'] * 9)}]"]
    lines += [f"a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join(lines + [f"customModes: *a{levels - 1}"]) + "\n"


def test_a_billion_laughs_roomodes_is_refused_within_100_ms():
    data = laughs(9).encode()
    assert len(data) < 450  # the file is 358 bytes: 9 levels of 9 aliases
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        with pytest.raises(FormatError, match="aliases expand to") as exc:
            ModesDocument(".roomodes", data)
        best = min(best, time.perf_counter() - started)
    assert best < 0.1, best
    assert exc.value.line == 1


def test_aliases_within_the_budget_are_read_and_loops_are_refused():
    doc = ModesDocument(".roomodes", b"x: &g [read, edit]\ncustomModes:\n  - slug: a\n    name: A\n"
                                     b"    roleDefinition: r\n    groups: *g\n")
    assert [g.name for g in doc.modes[0].groups] == ["read", "edit"]
    assert not [p for p in doc.problems() if p.severity == "error"]
    ModesDocument(".roomodes", laughs(3).encode())  # about 1 700 nodes added: within 10 000
    with pytest.raises(FormatError, match="aliases expand"):
        ModesDocument(".roomodes", laughs(5).encode())
    with pytest.raises(FormatError, match="recursive structure"):
        ModesDocument(".roomodes", b"customModes: &a\n  - *a\n")


@pytest.mark.parametrize("depth, refused", [(MAX_DEPTH - 2, False), (MAX_DEPTH + 1, True), (2000, True)])
def test_yaml_nesting_is_limited(depth, refused):
    block = "customModes:\n" + "".join("  " * (i + 1) + "-\n" for i in range(depth))
    flow = "customModes: " + "[" * depth + "]" * depth + "\n"
    for text in (block, flow):
        if refused:
            # The 2000-level block list (4 MB of indentation) is refused for its size, before parsing.
            too_big = len(text) > MAX_MODES_BYTES
            with pytest.raises(FormatError, match="may have at most" if too_big else "deeper than 128 levels"):
                ModesDocument(".roomodes", text.encode())
        else:
            ModesDocument(".roomodes", text.encode())  # read; its modes are reported by problems()


# -- schedule ranges and the end of time -----------------------------------------------------------------
@pytest.mark.parametrize("fields, ok", [
    ({"timeInterval": "3650", "timeUnit": "day"}, True),
    ({"timeInterval": "3651", "timeUnit": "day"}, False),
    ({"timeInterval": "87600", "timeUnit": "hour"}, True),
    ({"timeInterval": "87601", "timeUnit": "hour"}, False),
    ({"timeInterval": "5256000", "timeUnit": "minute"}, True),
    ({"timeInterval": "5256001", "timeUnit": "minute"}, False),
    ({"timeInterval": "9" * 5000, "timeUnit": "minute"}, False),
    ({"inactivityDelay": "10080"}, True),
    ({"inactivityDelay": "10081"}, False),
    ({"inactivityDelay": "0" * 30 + "5"}, True),
    ({"startDate": "2026-02-28", "startHour": "09"}, True),
    ({"startDate": "2026-02-30", "startHour": "09"}, False),
    ({"startDate": "1969-12-31", "startHour": "09"}, False),
    ({"expirationDate": "0001-01-01"}, False),
])
def test_schedule_ranges(fields, ok):
    s = {"id": "1", "name": "n", "mode": "code", "taskInstructions": "t", "scheduleType": "time",
         "timeInterval": "1", "timeUnit": "hour", **fields}
    assert (range_problems(s) == []) is ok
    assert (validate_values(s) == []) is ok


def test_next_runs_past_the_year_9999_are_none_never_an_overflow():
    end = to_ms(datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC))
    base = {"timeInterval": "1", "timeUnit": "day", "startMinute": "00"}
    for tz in (UTC, ZoneInfo("America/New_York"), ZoneInfo("Pacific/Kiritimati")):
        assert next_execution_ms(base, end, tz) is None
        assert next_execution_ms({**base, "lastExecutionTime": "9999-12-31T12:00:00.000Z"},
                                 to_ms(datetime(9999, 12, 31, 13, tzinfo=UTC)), tz) in (None,)
        assert next_execution_ms({**base, "timeInterval": "3000000"}, to_ms(datetime(2026, 3, 2, tzinfo=UTC)),
                                 tz) is None
        assert next_execution_ms({**base, "timeInterval": "7" * 5000}, 0, tz) is None
        got = parse_local("9999-12-31", "23", "59", tz)  # west of UTC this instant is past datetime's end
        assert got is None or got <= MAX_MS
        expiration_ms({"expirationDate": "9999-12-31"}, tz)  # no OverflowError
    rng = random.Random(13)
    for _ in range(200):  # random schedules near the end of time: a time or None, never an exception
        s = {"timeInterval": str(rng.randint(1, 3650)), "timeUnit": rng.choice(["minute", "hour", "day"]),
             "startMinute": f"{rng.randint(0, 59):02d}",
             "lastExecutionTime": f"9999-12-3{rng.randint(0, 1)}T0{rng.randint(0, 9)}:00:00.000Z"}
        got = next_execution_ms(s, end - rng.randint(0, 10**9), ZoneInfo("Europe/London"))
        assert got is None or got <= MAX_MS


@pytest.mark.parametrize("name", ["TODO.md", "persistent-memory.md"])
def test_a_line_based_file_of_more_than_two_million_lines_is_refused_with_the_first_line_past(name):
    # 20 MB of "a\n" (10 million lines) took 877 MB to check, 42 times the file; each line is a string.
    from orchestrator_gui.formats.limits import MAX_LINES
    from orchestrator_gui.formats.memory import MemoryDocument
    from orchestrator_gui.formats.todo import TodoDocument

    cls = TodoDocument if name == "TODO.md" else MemoryDocument
    cls(name, b"a\n" * MAX_LINES)  # exactly at the limit: read
    cls(name, b"a\r\n" * (MAX_LINES - 1) + b"a")
    for data in (b"a\n" * MAX_LINES + b"a", b"a\r" * (MAX_LINES + 1)):
        with pytest.raises(FormatError) as info:
            cls(name, data)
        assert str(info.value) == f"{name}:2000001: error: refused: the file has more than 2,000,000 lines " \
                                  "(real ones have thousands)"
