"""Line-level TOML helpers for ``.orchestrator/config.toml``: key lines and minimal edits.

``tomllib`` parses but neither reports where a key is nor writes. The config
is the user's file, so we never re-serialise it: to say *which line* has a
wrong type we scan the text for table headers and ``key =`` lines, and to
pause a schedule we splice one line in (or append a table), then re-parse
the result and refuse the edit unless it means exactly what we intended.
"""

from __future__ import annotations

import copy
import re
import sys
import tomllib
from typing import Any

from orchestrator_gui.formats.fileio import dominant_newline, split_lines, strip_terminator, terminator
from orchestrator_gui.formats.limits import MAX_DEPTH, toml_nesting_offset
from orchestrator_gui.problems import FormatError

# One key segment: bare, "basic" (with escapes) or 'literal'; segments joined by dots.
_SEG = r"""(?:[A-Za-z0-9_-]+|"(?:[^"\\\n]|\\.)*"|'[^'\n]*')"""
_KEY = rf"{_SEG}(?:[ \t]*\.[ \t]*{_SEG})*"
_HEADER = re.compile(rf"^[ \t]*(\[\[?)[ \t]*(?P<key>{_KEY})[ \t]*\]\]?[ \t]*(?:#.*)?$")
_KEYLINE = re.compile(rf"^[ \t]*(?P<key>{_KEY})[ \t]*=")
_BARE = re.compile(r"^[A-Za-z0-9_-]+$")
#: Longest config text parsed. Real files are a few KB; tomllib reads about 6 MB a second in pure
#: Python, so a file of megabytes (the workspace file limit is 20 MB) would stall every load for seconds.
MAX_CONFIG_CHARS = 1024 * 1024
#: Most parts of one dotted key (``a.b.c`` has 3). Real keys have at most 4; tomllib builds a key
#: part by part in quadratic time (a key of 166 000 parts takes over half a minute).
MAX_KEY_PARTS = 32
# Where a key can start (a line, a table header, an inline table, after a comma), then 33 or more parts.
_KEY_PART = r"""(?:[A-Za-z0-9_-]+|"(?:[^"\\\n]|\\.)*"|'[^'\n]*')"""
_LONG_KEY = re.compile(rf"(?m)(?:^|[\[{{,])[ \t]*(?:{_KEY_PART}[ \t]*\.[ \t]*){{{MAX_KEY_PARTS}}}")
# A run of decimal digits (underscores allowed) past the 4300 that int() converts; tomllib raises a
# bare ValueError for it, without a position.
_LONG_INT = re.compile(r"[0-9][0-9_]{4300,}")
_TOML_MSG = re.compile(r"^(?P<msg>.*?) \((?:at line (?P<line>\d+), column (?P<col>\d+)|at end of document)\)$")


def parse_key(key: str) -> tuple[str, ...] | None:
    """Return the path of a dotted TOML key as written (``a."b c".d`` → ``('a', 'b c', 'd')``)."""
    try:
        doc: Any = tomllib.loads(f"{key} = 0")
    except tomllib.TOMLDecodeError:
        return None
    path: list[str] = []
    while isinstance(doc, dict) and len(doc) == 1:
        (k, doc), = doc.items()
        path.append(k)
    return tuple(path)


def quote_key(key: str) -> str:
    """Write one key segment: bare when possible, else a basic string with escapes."""
    return key if _BARE.match(key) else basic_string(key)


def basic_string(text: str) -> str:
    """Write ``text`` as a TOML basic string (``"..."`` with escapes)."""
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def toml_error(exc: tomllib.TOMLDecodeError, text: str) -> tuple[str, int]:
    """Split a ``tomllib`` message into (message, 1-based line); end of document → last line."""
    m = _TOML_MSG.match(str(exc))
    if m is None:
        return str(exc), 1
    if m["line"] is not None:
        return m["msg"], int(m["line"])
    return m["msg"], max(1, len(split_lines(text)))


def load_toml(text: str, name: str, what: str = "invalid TOML") -> dict[str, Any]:
    """``tomllib.loads`` behind the limits: size, nesting depth, integer length; every failure a ``FormatError``.

    Parameters
    ----------
    text : str
        The TOML text.
    name : str
        The file named in errors.
    what : str
        How the message starts (``invalid TOML``, ``cannot edit, invalid TOML``).

    Raises
    ------
    FormatError
        With the line: a syntax error, nesting deeper than ``MAX_DEPTH``
        (tomllib recurses once per level), or an integer of more decimal
        digits than ``int()`` converts (4300 by default: tomllib then raises
        a bare ``ValueError``), a dotted key of more than
        :data:`MAX_KEY_PARTS` parts. Without a line: more than
        :data:`MAX_CONFIG_CHARS` characters.
    """
    if len(text) > MAX_CONFIG_CHARS:
        raise FormatError(name, f"{what}: the file has {len(text):,} characters, more than the {MAX_CONFIG_CHARS:,} "
                                "a config may have (real ones are a few KB)")
    long_key = _LONG_KEY.search(text)
    if long_key is not None:
        raise FormatError(name, f"{what}: a dotted key has more than {MAX_KEY_PARTS} parts",
                          line=text.count("\n", 0, long_key.start()) + 1)
    too_deep = toml_nesting_offset(text)
    if too_deep is not None:
        raise FormatError(name, f"{what}: nesting is deeper than {MAX_DEPTH} levels",
                          line=text.count("\n", 0, too_deep) + 1)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg, line = toml_error(exc, text)
        raise FormatError(name, f"{what}: {msg}", line=line) from None
    except ValueError as exc:  # int() past sys.get_int_max_str_digits() digits
        m = _LONG_INT.search(text)
        if m is None:
            raise FormatError(name, f"{what}: {exc}") from None
        raise FormatError(name, f"{what}: an integer has more than {sys.get_int_max_str_digits()} digits",
                          line=text.count("\n", 0, m.start()) + 1) from None


def _strings_toggle(line: str) -> int:
    # Multi-line strings: lines inside them must not be taken for keys/headers.
    return line.count('"""') + line.count("'''")


def key_lines(text: str) -> dict[tuple[str, ...], int]:
    """Map every table header and ``key =`` line to its 1-based line number.

    The path of a key line is the enclosing table's path plus the dotted key.
    Lines inside multi-line strings are skipped. The first occurrence wins.
    """
    out: dict[tuple[str, ...], int] = {}
    table: tuple[str, ...] = ()
    in_string = False
    for number, raw in enumerate(split_lines(text), start=1):
        line = strip_terminator(raw)
        toggles = _strings_toggle(line)
        if in_string:
            in_string = toggles % 2 == 0
            continue
        m = _HEADER.match(line)
        if m is not None:
            path = parse_key(m["key"])
            if path is not None:
                table = path
                out.setdefault(table, number)
            continue
        m = _KEYLINE.match(line)
        if m is not None:
            path = parse_key(m["key"])
            if path is not None:
                out.setdefault(table + path, number)
        in_string = toggles % 2 == 1
    return out


def line_of(lines: dict[tuple[str, ...], int], loc: tuple[Any, ...]) -> int | None:
    """Line of the longest prefix of ``loc`` (a pydantic error location) that has one."""
    keys = tuple(str(k) for k in loc if isinstance(k, str))
    for n in range(len(keys), 0, -1):
        if keys[:n] in lines:
            return lines[keys[:n]]
    return None


def _with_flag(doc: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    new = copy.deepcopy(doc)
    node = new
    for k in path[:-1]:
        node = node.setdefault(k, {})
    node[path[-1]] = value
    return new


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return basic_string(value)
    raise TypeError(f"unsupported TOML value {value!r}")


def set_table_value(text: str, table: tuple[str, ...], key: str, value: Any, name: str) -> str:
    """Return ``text`` with ``[<table>] key = value`` set, changing as few bytes as possible.

    Strategies, in order, each verified by re-parsing (the result must equal
    the old document with exactly that one value set):

    1. the table has a ``key = …`` line: replace that line's value only;
    2. the table has a ``[header]``: insert ``key = value`` after it;
    3. append a new ``[table]`` with the key at the end of the file.

    Raises
    ------
    FormatError
        The text does not parse, or no strategy gives the intended document
        (e.g. the table is an inline table); nothing is changed then.
    """
    doc = load_toml(text, name, "cannot edit, invalid TOML")
    want = _with_flag(doc, table + (key,), value)
    if doc == want:
        return text
    lines = split_lines(text)
    nl = dominant_newline(lines)
    found = key_lines(text)
    rendered = _toml_value(value)
    candidates: list[str] = []
    if table + (key,) in found:
        i = found[table + (key,)] - 1
        body = strip_terminator(lines[i])
        m = _KEYLINE.match(body)
        if m is not None:
            comment = ""
            rest = body[m.end():]
            hash_at = rest.find("#")
            if hash_at >= 0 and rest.count('"', 0, hash_at) % 2 == 0 and rest.count("'", 0, hash_at) % 2 == 0:
                comment = "  " + rest[hash_at:]
            new_line = f"{body[:m.end()]} {rendered}{comment}" + terminator(lines[i])
            candidates.append("".join(lines[:i] + [new_line] + lines[i + 1:]))
    if table in found:
        i = found[table] - 1
        head = lines[i] if terminator(lines[i]) else lines[i] + nl
        tail = nl if terminator(lines[i]) else ""
        insert = f"{quote_key(key)} = {rendered}" + (nl if i + 1 < len(lines) else tail)
        candidates.append("".join(lines[:i] + [head, insert] + lines[i + 1:]))
    header = "[" + ".".join(quote_key(k) for k in table) + "]"
    if not lines:
        candidates.append(f"{header}{nl}{quote_key(key)} = {rendered}{nl}")
    else:
        last = lines[-1]
        sep = "" if terminator(last) else nl
        blank = "" if not strip_terminator(last).strip() else nl
        final = nl if terminator(last) else ""
        candidates.append(text + sep + blank + f"{header}{nl}{quote_key(key)} = {rendered}" + final)
    for cand in candidates:
        try:
            if tomllib.loads(cand) == want:
                return cand
        except ValueError:  # TOMLDecodeError is one
            continue
    raise FormatError(name, f"cannot set {'.'.join(table + (key,))} without rewriting the file "
                            "(the table is written in a form this editor does not splice); set it by hand")


__all__ = ["MAX_CONFIG_CHARS", "MAX_KEY_PARTS", "key_lines", "line_of", "load_toml", "parse_key", "quote_key",
           "set_table_value", "toml_error"]
