"""Limits every reader enforces on hostile input: nesting depth, number length, lone surrogates.

Python's parsers recurse once per nesting level (``json``, ``tomllib``,
ruamel.yaml's composer) and stop with a ``RecursionError`` somewhere past a
few hundred levels, depending on how deep the caller's stack already is.
So every reader checks the nesting *before* parsing, against one explicit
limit that no real file comes near (docs/formats.md §0.5), and reports the
line where it is exceeded.

The other two hazards come from JSON escapes: an integer literal of more
than 4300 digits makes ``int()`` raise ``ValueError``, and a ``\\ud800``
escape without its partner yields a string that cannot be encoded as UTF-8
(so printing or storing it fails far from where it was read).

Public API
----------
``MAX_DEPTH``, ``MAX_NUMBER_CHARS``, ``ALIAS_BUDGET``
``json_nesting_offset(data, limit) -> int | None``
``toml_nesting_offset(text, limit) -> int | None``
``lone_surrogate_offset(text) -> int | None`` (for raw JSON text)
``has_lone_surrogate(value) -> bool`` (for decoded strings)
``load_json(data, name) -> Any`` (``json.loads`` with all of the above, errors as ``FormatError``)
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import numpy as np

from orchestrator_gui.problems import FormatError

#: Deepest nesting of lists/objects/tables any reader accepts. Real files
#: nest at most 6 levels; 128 leaves each parser's recursion far from
#: Python's limit of 1000 frames even when called from a deep stack.
MAX_DEPTH = 128
#: Longest JSON number literal accepted. A JavaScript number has 17
#: significant digits; 100 characters leaves room for any exponent form.
MAX_NUMBER_CHARS = 100
#: Most nodes that YAML aliases may add when expanded (a "billion laughs"
#: document adds 9**9). Roo's parser refuses excessive aliasing too.
ALIAS_BUDGET = 10_000
#: Most lines of a line-based file (``TODO.md``, ``persistent-memory.md``). Each line is a Python
#: string while the file is open (about 60 bytes and more apiece), so 20 MB of 2-byte lines took 42
#: times the file's size; real files have thousands of lines, the checklist benchmark a million.
MAX_LINES = 2_000_000

_SURROGATE = re.compile("[\ud800-\udfff]")
# A \uD800-\uDBFF escape not followed by a \uDC00-\uDFFF one, or a low one not preceded by a
# high one; an escape counts only after an even run of backslashes (``\\ud800`` is text).
_LONE_ESCAPE = re.compile(
    r"(?<!\\)(?:\\\\)*(?P<esc>\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    r"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2})"
)
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_NOT_BRACKET = re.compile(rb"[^\[\]{}]+")
_JSON_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.S)
_TOML_TOKEN = re.compile(r'"""(?:[^\\]|\\.)*?"""|\'\'\'.*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'[^\'\n]*\'|#[^\n]*|[\[\]{}]',
                         re.S)
_LONG_NUMBER = re.compile(rb"[-+0-9.eE]{%d,}" % (MAX_NUMBER_CHARS + 1))
_CHUNK = 1 << 24


def _first_too_deep(text: str, tokens: re.Pattern[str], limit: int) -> int | None:
    """Offset of the first bracket opening level ``limit + 1``; strings and comments are skipped."""
    depth = 0
    for m in tokens.finditer(text):
        ch = m.group()
        if ch in "[{":
            depth += 1
            if depth > limit:
                return m.start()
        elif ch in "]}":
            depth = max(depth - 1, 0)
    return None


def _backslashes_before(quotes: np.ndarray, slashes: np.ndarray, carry: int) -> np.ndarray:
    """Length of the backslash run right before each quote (``carry``: a run the chunk starts inside)."""
    run = np.zeros(quotes.size, dtype=np.int64)
    if slashes.size:
        # Each backslash's run start: runs are consecutive positions.
        firsts = np.concatenate(([0], np.flatnonzero(np.diff(slashes) != 1) + 1))
        run_start = np.repeat(slashes[firsts], np.diff(np.concatenate((firsts, [slashes.size]))))
        at = np.minimum(np.searchsorted(slashes, quotes - 1), slashes.size - 1)
        hit = slashes[at] == quotes - 1
        run[hit] = quotes[hit] - run_start[at[hit]]
        run[hit & (run_start[at] == 0)] += carry
    run[quotes == 0] = carry
    return run


def _json_too_deep(raw: bytes, limit: int) -> bool:
    """True when JSON ``raw`` nests deeper than ``limit`` (brackets inside strings do not count).

    Vectorised over chunks: quotes preceded by an odd run of backslashes are
    escaped; a bracket is inside a string when an odd number of real quotes
    precede it. State carried between chunks: inside a string or not, the
    length of a backslash run reaching the chunk's end, and the depth.
    """
    in_string, carry_bs, depth = 0, 0, 0
    for start in range(0, len(raw), _CHUNK):
        arr = np.frombuffer(raw, dtype=np.uint8, count=min(_CHUNK, len(raw) - start), offset=start)
        quotes = np.flatnonzero(arr == 0x22)
        slashes = np.flatnonzero(arr == 0x5C)
        if quotes.size and (slashes.size or carry_bs):
            quotes = quotes[_backslashes_before(quotes, slashes, carry_bs) % 2 == 0]
        low = arr | 0x20  # "[" -> "{" and "]" -> "}": no other byte maps onto either
        brackets = np.flatnonzero((low == 0x7B) | (low == 0x7D))
        if brackets.size:
            outside = (np.searchsorted(quotes, brackets) + in_string) % 2 == 0
            brackets = brackets[outside]
            steps = np.where(arr[brackets] & 0x02, 1, -1)  # bit 0x02: set in "[" and "{", clear in "]" and "}"
            levels = np.cumsum(steps, dtype=np.int64) + depth
            if levels.size:
                if int(levels.max()) > limit:
                    return True
                depth = int(levels[-1])
        in_string = (in_string + quotes.size) % 2
        tail = len(arr) - 1
        if slashes.size and slashes[-1] == tail:
            breaks = np.flatnonzero(np.diff(slashes) != 1)
            first = int(slashes[breaks[-1] + 1]) if breaks.size else int(slashes[0])
            carry_bs = tail - first + 1 + (carry_bs if first == 0 else 0)
        else:
            carry_bs = 0
    return False


def json_nesting_offset(data: bytes | str, limit: int = MAX_DEPTH) -> int | None:
    """Where JSON ``data`` first nests deeper than ``limit`` (offset into ``data``), or ``None``.

    Linear and vectorised (:func:`_json_too_deep`); only a document that is
    too deep is walked again token by token to find the offset.

    Parameters
    ----------
    data : bytes or str
        The JSON text (UTF-8 bytes or decoded).
    limit : int
        Deepest nesting allowed.
    """
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if raw.count(b"[") + raw.count(b"{") <= limit or not _json_too_deep(raw, limit):
        return None
    text = data if isinstance(data, str) else data.decode("utf-8", "replace")
    offset = _first_too_deep(text, _JSON_TOKEN, limit)
    if offset is not None and not isinstance(data, str):
        offset = len(text[:offset].encode("utf-8"))
    return offset if offset is not None else 0


def toml_nesting_offset(text: str, limit: int = MAX_DEPTH) -> int | None:
    """Where TOML ``text`` first nests arrays or inline tables deeper than ``limit``, or ``None``.

    Strings (all four kinds) and comments are skipped, so brackets inside
    them do not count. Table headers count one or two levels, which is far
    below any limit.
    """
    if text.count("[") + text.count("{") <= limit:
        return None
    return _first_too_deep(text, _TOML_TOKEN, limit)


def lone_surrogate_offset(text: str) -> int | None:
    """Offset of the first ``\\uD800``–``\\uDFFF`` escape in JSON ``text`` that has no partner, or ``None``."""
    if "\\u" not in text and "\\U" not in text:
        return None
    m = _LONE_ESCAPE.search(text)
    return None if m is None else m.start("esc")


def has_lone_surrogate(value: str) -> bool:
    """True when a decoded string holds a surrogate code point (it cannot be written as UTF-8)."""
    return _SURROGATE.search(value) is not None


def _line_of(data: bytes | str, offset: int) -> int:
    nl = b"\n" if isinstance(data, bytes) else "\n"
    return data.count(nl, 0, offset) + 1  # type: ignore[arg-type]


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"the number {text[:20]}... is out of range" if len(text) > 20
                         else f"the number {text} is out of range")
    return value


def json_limit_error(data: bytes | str, limit: int = MAX_DEPTH) -> tuple[str, int] | None:
    """The first structural limit JSON ``data`` breaks, as ``(message, line)``, or ``None``.

    Checks the nesting depth and lone surrogate escapes; both would only
    fail far away (a ``RecursionError`` in the parser, a ``UnicodeEncodeError``
    when the value is printed or stored). Numbers are checked by
    :func:`load_json` while parsing.
    """
    offset = json_nesting_offset(data, limit)
    if offset is not None:
        return f"nesting is deeper than {limit} levels", _line_of(data, offset)
    text = data if isinstance(data, str) else data.decode("utf-8", "replace")
    lone = lone_surrogate_offset(text)
    if lone is not None:
        return (f"the escape {text[lone:lone + 6]} is half of a UTF-16 surrogate pair; "
                "it is not a character and cannot be stored as UTF-8", _line_of(text, lone))
    return None


def _number_error(text: str, exc: ValueError) -> tuple[str, int | None]:
    """Why ``json.loads`` refused a number (too many digits for ``int``, out of float range), and where."""
    blanked = _JSON_STRING.sub(lambda s: b"_" * len(s.group()), text.encode("utf-8", "surrogatepass"))
    m = _LONG_NUMBER.search(blanked)
    if m is not None:
        return f"a number is longer than {MAX_NUMBER_CHARS} characters ({len(m.group())})", _line_of(blanked, m.start())
    return str(exc), None


def load_json(data: bytes | str, name: str, *, limit: int = MAX_DEPTH) -> Any:
    """``json.loads`` behind the limits of this module.

    Parameters
    ----------
    data : bytes or str
        UTF-8 JSON text.
    name : str
        The file (or source) named in errors.
    limit : int
        Deepest nesting allowed.

    Returns
    -------
    Any
        The decoded value; every float in it is finite.

    Raises
    ------
    FormatError
        ``invalid JSON`` with the line for a syntax error, invalid UTF-8, or
        a broken limit: too deep, a lone surrogate, an integer with more
        digits than ``int`` converts or a number outside the float range.
    """
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FormatError(name, f"not UTF-8 text (byte {exc.start})", line=_line_of(data, exc.start)) from None
    else:
        text = data
    broken = json_limit_error(text, limit)
    if broken is not None:
        raise FormatError(name, f"refused: {broken[0]}", line=broken[1])
    try:
        return json.loads(text, parse_float=_finite_float, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise FormatError(name, f"invalid JSON: {exc.msg} (column {exc.colno})", line=exc.lineno) from None
    except ValueError as exc:  # int() past 4300 digits, or a float out of range
        message, line = _number_error(text, exc)
        raise FormatError(name, f"refused: {message}", line=line) from None
    except RecursionError:  # unreachable after the depth check; kept so a parser change cannot crash us
        raise FormatError(name, f"refused: nesting is deeper than {limit} levels") from None


def check_line_count(name: str, data: bytes) -> None:
    """Refuse ``data`` of more than :data:`MAX_LINES` lines, naming the first line past the limit."""
    if len(data) <= 2 * MAX_LINES:
        return  # cannot hold that many lines (each has at least a character and its break)
    lines = data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n") + (not data.endswith((b"\n", b"\r")))
    if lines > MAX_LINES:
        raise FormatError(name, f"refused: the file has more than {MAX_LINES:,} lines (real ones have thousands)",
                          line=MAX_LINES + 1)


def _no_constant(text: str) -> float:
    raise ValueError(f"{text} is not JSON (JavaScript's JSON.parse rejects it)")


__all__ = [
    "ALIAS_BUDGET",
    "MAX_DEPTH",
    "MAX_LINES",
    "MAX_NUMBER_CHARS",
    "check_line_count",
    "has_lone_surrogate",
    "json_limit_error",
    "json_nesting_offset",
    "load_json",
    "lone_surrogate_offset",
    "toml_nesting_offset",
]
