"""``config_toml``: hostile TOML found by benchmarks/fuzz.py is refused with a ``FormatError`` and a line."""

from __future__ import annotations

import sys

import pytest

from orchestrator_gui.engine.config_toml import MAX_CONFIG_CHARS, MAX_KEY_PARTS, load_toml, set_table_value
from orchestrator_gui.problems import FormatError

# 4301 digits: one more than int() converts by default, so tomllib raises a bare ValueError on it.
LONG = "1" * (sys.get_int_max_str_digits() + 1)


def test_pausing_a_schedule_in_a_config_with_a_huge_integer_is_refused_with_its_line():
    text = f'[timeouts]\ntodo_s = {LONG}\n[schedules."s1"]\npaused = false\n'
    with pytest.raises(FormatError) as info:
        set_table_value(text, ("schedules", "s1"), "paused", True, "config.toml")
    assert info.value.line == 2
    assert str(info.value).startswith("config.toml:2: error: cannot edit, invalid TOML: an integer has more than")


def test_load_toml_refuses_every_hostile_input_with_a_format_error():
    assert load_toml("a = 1_000\nb = [[1]]\n", "c.toml") == {"a": 1000, "b": [[1]]}
    with pytest.raises(FormatError, match=r"^c\.toml:3: error: invalid TOML: an integer has more than"):
        load_toml(f"a = 1\nb = 2\nc = -{LONG}\n", "c.toml")
    with pytest.raises(FormatError, match=r"^c\.toml:1: error: invalid TOML: nesting is deeper than 128 levels"):
        load_toml("a = " + "[" * 5000 + "]" * 5000, "c.toml")
    with pytest.raises(FormatError, match=r"^c\.toml:2: error: invalid TOML: "):
        load_toml("a = 1\nb = = 2\n", "c.toml")
    # Hexadecimal integers have no digit limit in int(); a long one is just a number.
    assert load_toml("h = 0x" + "f" * 5000 + "\n", "c.toml")["h"] == int("f" * 5000, 16)


def test_a_config_of_megabytes_is_refused_before_tomllib_reads_it():
    # Found by benchmarks/fuzz.py: 8 MB of escapes in one string kept tomllib busy for seconds, twice
    # (pausing a schedule parses the file before and after the edit).
    text = '[schedules."s1"]\npaused = false\nnote = """' + "\\\\" * (MAX_CONFIG_CHARS // 2) + '"""\n'
    with pytest.raises(FormatError, match=r"^config\.toml: error: cannot edit, invalid TOML: the file has 1,048,6\d\d "
                                          r"characters, more than the 1,048,576 a config may have"):
        set_table_value(text, ("schedules", "s1"), "paused", True, "config.toml")
    small = text.replace("\\\\" * (MAX_CONFIG_CHARS // 2), "\\\\" * 1000)
    assert 'paused = true' in set_table_value(small, ("schedules", "s1"), "paused", True, "config.toml")


@pytest.mark.parametrize("where", ["{key} = 1", "[{key}]", "t = {{ {key} = 1 }}"])
def test_a_dotted_key_of_too_many_parts_is_refused_with_its_line(where):
    # Found by benchmarks/fuzz.py: tomllib builds a dotted key in quadratic time ("1. 1. 1. ..." of
    # 500 KB took over half a minute); real keys have at most four parts.
    fits = where.format(key=".".join(["k"] * MAX_KEY_PARTS))
    assert load_toml(f"a = 1\n{fits}\n", "c.toml")
    long = where.format(key=" . ".join(['"k"'] * (MAX_KEY_PARTS + 1)))
    with pytest.raises(FormatError, match=rf"^c\.toml:2: error: invalid TOML: a dotted key has more than "
                                          rf"{MAX_KEY_PARTS} parts$"):
        load_toml(f"a = 1\n{long}\n", "c.toml")
    # The same text inside a string value is no key.
    assert load_toml(f'a = "{".".join(["1"] * 100)}"\n', "c.toml")["a"].count(".") == 99


@pytest.mark.parametrize("text, message", [
    ("a = 1\n" + "i1" + ". 1" * 40 + " = 2\n", r"^c\.toml:2: error: invalid TOML: a dotted key has more than 32 parts$"),
    ("x = 1\nz = 2\n" + "y = " + "1" * 4400 + "\n", r"^c\.toml:3: error: invalid TOML: an integer has more than"),
    ("# pad\n" * (MAX_CONFIG_CHARS // 6 + 1), r"^c\.toml: error: invalid TOML: the file has 1,048,5\d\d characters"),
])
def test_the_config_file_loader_applies_every_limit_of_load_toml(text, message):
    # Found by benchmarks/fuzz.py: ConfigFile (what check, the engine and the app load) called tomllib
    # itself and skipped these limits; a 2 MB "i1. 1. 1. ..." key kept it busy for 704 s.
    from orchestrator_gui.engine.config import ConfigFile

    with pytest.raises(FormatError, match=message):
        ConfigFile("c.toml", text.encode())
