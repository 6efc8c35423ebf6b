"""Source text for one replaced ``.roomodes`` scalar, in a chosen style.

Each ``*_scalar`` function returns the text to splice over a scalar's span,
or ``None`` when the value cannot be written in that style safely. The
caller re-parses after every splice and checks the value, so these rules are
deliberately conservative rather than a full YAML emitter.

Every writer escapes (or refuses) the characters Roo Code normalises before
parsing (smart quotes, NBSP, dashes, zero-width joiners): written raw, Roo
would read something else than what the user typed.
"""

from __future__ import annotations

import json
import re

from orchestrator_gui.formats.roomodes_syntax import NORMALISED_CHARS

#: Line width used when folding long double-quoted or ``>`` scalars; it is
#: what PyYAML and the origin files use.
WIDTH = 80

_ESCAPE_RE = re.compile(r"\\(?:x([0-9A-Fa-f]{2})|u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|.)", re.S)
_SHORT = {"\0": "\\0", "\a": "\\a", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\v": "\\v",
          "\f": "\\f", "\r": "\\r", "\x1b": "\\e", '"': '\\"', "\\": "\\\\"}
_PLAIN_FIRST_BAD = set("-?:,[]{}#&*!|>'\"%@`")
#: Values YAML 1.1 readers (PyYAML, used by the origin's own tools) or the
#: 1.2 core schema would not read back as a string when written plain.
_NOT_A_STRING = re.compile(
    r"(?i:y|n|yes|no|on|off|true|false|null|~|[-+]?(?:\.inf|\.nan)|"
    r"[-+]?[0-9][0-9_,:.]*(?:e[-+]?[0-9]+)?|0x[0-9a-f_]+|0o[0-7_]+|0b[01_]+|[-+]?\.[0-9]+(?:e[-+]?[0-9]+)?)"
)


def _needs_escape(ch: str) -> bool:
    """Whether a character cannot be written raw inside a quoted scalar."""
    o = ord(ch)
    return (
        o < 0x20 or 0x7F <= o <= 0x9F or ch in NORMALISED_CHARS
        or ch in "\u2028\u2029\ufeff\ufffe\uffff" or 0xD800 <= o <= 0xDFFF
    )


def _printable_raw(value: str) -> bool:
    return not any(_needs_escape(c) for c in value if c != "\t")


def escapes_non_ascii(raw: str) -> bool | None:
    """Whether a quoted scalar's source writes non-ASCII characters as escapes.

    Returns True (escapes seen), False (raw non-ASCII seen) or None (neither).
    """
    for m in _ESCAPE_RE.finditer(raw):
        hexd = m.group(1) or m.group(2) or m.group(3)
        if hexd and int(hexd, 16) >= 0x80:
            return True
    if any(ord(c) >= 0x80 for c in raw):
        return False
    return None


def plain_scalar(value: str, flow: bool) -> str | None:
    """A plain scalar, if the value reads back unchanged and as a string."""
    if not value or value != value.strip() or "\n" in value or "\t" in value:
        return None
    if not _printable_raw(value) or value[0] in _PLAIN_FIRST_BAD:
        return None
    if ": " in value or " #" in value or value.endswith(":") or _NOT_A_STRING.fullmatch(value):
        return None
    if flow and any(c in value for c in ",[]{}"):
        return None
    return value


def single_scalar(value: str) -> str | None:
    """A single-quoted scalar on one line (``'`` doubled)."""
    if "\n" in value or "\r" in value or not _printable_raw(value):
        return None
    return "'" + value.replace("'", "''") + "'"


def _dq_char(ch: str, escape_non_ascii: bool) -> str:
    if ch in _SHORT:
        return _SHORT[ch]
    o = ord(ch)
    if _needs_escape(ch) or (escape_non_ascii and o >= 0x80):
        # PyYAML's choice of escape width, uppercase hex as in the origin files.
        if o <= 0xFF:
            return f"\\x{o:02X}"
        if o <= 0xFFFF:
            return f"\\u{o:04X}"
        return f"\\U{o:08X}"
    return ch


def double_scalar(value: str, *, escape_non_ascii: bool, fold_indent: str | None,
                  column: int, newline: str) -> str:
    """A YAML double-quoted scalar.

    With ``fold_indent`` set, long lines are folded exactly as PyYAML's
    emitter does (the origin files were written by it, so an unchanged value
    gives unchanged bytes): a line ends in ``\\`` (an escaped line break)
    after a space or an escape once it passes :data:`WIDTH`, and a following
    space is written as ``\\ `` because leading blanks would be dropped.
    ``column`` is where the opening quote sits.
    """
    if fold_indent is None:
        return '"' + "".join(_dq_char(c, escape_non_ascii) for c in value) + '"'
    out, col, start, end, n = ['"'], column + 1, 0, 0, len(value)
    while end <= n:
        ch = value[end] if end < n else None
        if ch is None or _dq_char(ch, escape_non_ascii) != ch:
            if start < end:
                out.append(value[start:end])
                col += end - start
                start = end
            if ch is not None:
                data = _dq_char(ch, escape_non_ascii)
                out.append(data)
                col += len(data)
                start = end + 1
        if 0 < end < n - 1 and (ch == " " or start >= end) and col + (end - start) > WIDTH:
            out.append(value[start:end] + "\\" + newline + fold_indent)
            start = max(start, end)
            col = len(fold_indent)
            if value[start] == " ":
                out.append("\\")
                col += 1
        end += 1
    out.append(value[start:])
    out.append('"')
    return "".join(out)


def json_scalar(value: str, *, escape_non_ascii: bool, escape_normalised: bool = True) -> str:
    """A JSON string that YAML also reads back unchanged.

    Astral characters stay raw even when escaping: ``\\uD83E\\uDDE0``
    surrogate pairs are JSON but YAML readers decode them to two lone
    surrogates. ``escape_normalised=False`` writes smart quotes and dashes
    raw: right for a file Roo can only read with ``JSON.parse`` (its YAML
    parse already fails), where escaping them could make the YAML parse
    succeed and change what Roo sees in *other* modes.
    """
    out = ['"']
    for ch in value:
        o = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch in "\n\r\t\b\f":
            out.append(json.dumps(ch)[1:-1])
        elif ch in NORMALISED_CHARS and not escape_normalised:
            out.append(ch)
        elif (_needs_escape(ch) or (escape_non_ascii and 0x80 <= o <= 0xFFFF)) and not 0xD800 <= o <= 0xDFFF:
            out.append(f"\\u{o:04x}")
        elif 0xD800 <= o <= 0xDFFF:
            return json.dumps(value)  # a lone surrogate: let json pick
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _block_lines(value: str) -> tuple[list[str], str] | None:
    """Split a value for a block scalar and pick its chomping indicator."""
    if value.endswith("\n\n") or "\r" in value or not _printable_raw(value.replace("\n", "")):
        return None
    if value.endswith("\n"):
        return value[:-1].split("\n"), ""
    return value.split("\n"), "-"


def _header(old_header: str, kind: str, chomp: str) -> str:
    # Keep an explicit indentation indicator and any trailing comment of the
    # original header; only the chomping indicator follows the new value.
    m = re.match(r"[|>]([1-9]?)[+-]?([1-9]?)(.*)", old_header)
    digit, rest = (m.group(1) or m.group(2), m.group(3)) if m else ("", "")
    return kind + digit + chomp + rest


def literal_scalar(value: str, *, old_header: str, indent: str, newline: str) -> str | None:
    """A ``|`` block scalar with the original indentation."""
    split = _block_lines(value)
    if split is None:
        return None
    lines, chomp = split
    if lines == [""]:
        lines = []
    first = next((ln for ln in lines if ln.strip()), "")
    if first[:1] in (" ", "\t"):
        return None  # would need an indentation indicator
    body = "".join(newline + (indent + ln if ln else "") for ln in lines)
    return _header(old_header, "|", chomp) + body


def _fold(line: str, room: int) -> list[str]:
    """Break a folded-scalar line at single spaces between words."""
    out: list[str] = []
    while len(line) > room:
        cut = -1
        for k in range(room, 0, -1):
            if line[k] == " " and line[k - 1] != " " and k + 1 < len(line) and line[k + 1] != " ":
                cut = k
                break
        if cut < 0:
            break
        out.append(line[:cut])
        line = line[cut + 1:]
    out.append(line)
    return out


def folded_scalar(value: str, *, old_header: str, indent: str, newline: str) -> str | None:
    """A ``>`` block scalar with the original indentation.

    Between two ordinary lines a value line break is written as a blank
    source line (a single source line break folds into a space); next to a
    "more indented" line (one starting with a blank) line breaks are kept
    as they are, so one fewer blank line is needed. Ordinary lines longer
    than :data:`WIDTH` are folded at single spaces.
    """
    split = _block_lines(value)
    if split is None:
        return None
    segments, chomp = split
    src: list[str] = []
    prev: str | None = None
    pending = 0  # empty value lines since the previous non-empty one
    for seg in segments:
        if not seg:
            pending += 1
            continue
        spaced = seg[0] in " \t"
        if prev is None:
            if spaced:
                return None  # would need an indentation indicator
            src.extend([""] * pending)
        else:
            keeps = spaced or prev[0] in " \t"
            src.extend([""] * (pending if keeps else pending + 1))
        src.extend([seg] if spaced else _fold(seg, max(20, WIDTH - len(indent))))
        prev, pending = seg, 0
    body = "".join(newline + (indent + ln if ln else "") for ln in src)
    return _header(old_header, ">", chomp) + body
