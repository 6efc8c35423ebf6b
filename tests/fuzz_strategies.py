"""Hypothesis strategies for fuzzing the readers: real files mutated in hostile ways, and raw bytes.

Shared by ``tests/formats/test_fuzz_readers.py`` (a few examples, small
sizes) and ``benchmarks/fuzz.py`` (minutes of examples, full sizes). Like
``shared_fixtures`` it is a plain module beside the tests, so both can
import it without the tests becoming a package.

Most examples start from a valid file (a real fixture or a built-in sample)
and apply one to four mutations: deep nesting, huge numbers, surrogates
(escaped and raw), control characters, byte-order marks, mixed line endings,
YAML anchors and aliases, giant lines, format tokens spliced in, and plain
deletions, duplications, truncations and byte flips. The rest are raw bytes
or arbitrary text. Sizes stay below the 20 MB file limit that
``read_bytes`` enforces before any reader sees the data.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable, Sequence

from hypothesis import strategies as st

#: Longest input produced: below ``fileio.MAX_FILE_BYTES`` (20 MB), which no reader is ever handed more than.
MAX_INPUT = 8 * 1024 * 1024
#: Longest input of the in-process unit tests.
SMALL_INPUT = 256 * 1024

# Nesting depths around the 128-level limit, and far past it (a parser without the check overflows its stack).
DEPTHS = (2, 64, 127, 128, 129, 300, 1_000, 20_000, 200_000)
# Giant lines: long enough to find quadratic scans, short enough for a 2 s budget on a linear one.
GIANT = (1_000, 65_536, 500_000, 2_000_000, 6_000_000)
NUMBER_LENGTHS = (17, 100, 101, 309, 400, 4_300, 4_301, 20_000)
SPECIAL_NUMBERS = (b"1e999", b"-1e999", b"1e-999", b"NaN", b"Infinity", b"-Infinity", b"-0", b"0x1F", b"1_000",
                   b"inf", b"nan", b".5", b"5.", b"+1", b"00012", b"1e+", b"-", b"1" * 4301 + b".5", b"0." + b"0" * 5000)
SURROGATES = (b"\\ud800", b"\\udc00", b"\\uDBFF\\uDFFF", b"\\ud800\\ud800", b"\\\\ud800", b"\\udc00\\ud800",
              b"\xed\xa0\x80", b"\xed\xb0\x80", b"\xf4\x90\x80\x80", b"\\U0001F600", b"\\x00", b"\\u0000",
              b"\\", b"\\u12", "\U0001f600".encode(), "\u00e9".encode(), b"\xc3", b"\xe2\x82")
CONTROLS = tuple(bytes([c]) for c in (*range(0, 32), 127)) + tuple(
    chr(c).encode() for c in (0x85, 0xA0, 0x2028, 0x2029, 0x200B, 0x200E, 0x202E, 0xFEFF, 0xFFFD, 0xFFFF)
) + (b"\x80", b"\xff", b"\xfe", b"\xc0\x80")
BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE, codecs.BOM_UTF8 * 2)
# YAML hazards: billion laughs, self-reference, merge keys, undefined aliases, tags, directives, documents.
LAUGHS = b"a: &a [x, x, x, x, x, x, x, x, x]\n" + b"".join(
    b"%c: &%c [*%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c]\n" % ((ord("a") + i + 1,) * 2 + (ord("a") + i,) * 9)
    for i in range(8))
YAML_SNIPPETS = (
    LAUGHS, b"x: &s [*s]\n", b"&r\n- *r\n", b"<<: *base\n", b"base: &base {a: 1}\nm:\n  <<: *base\n",
    b"*undefined\n", b"- &a\n- *a\n", b"? [a, b]\n: c\n", b"!!python/object/apply:os.system [echo]\n",
    b"!!binary aGVsbG8=\n", b"!custom x\n", b"%YAML 1.1\n---\n", b"---\n...\n---\n", b"--- |\n  text\n",
    b"key: |-\n    block\n  bad\n", b"key: >+\n\n", b"\t- tab\n", b"{a: 1, a: 2}\n", b"[a, b\n",
    b"'unterminated\n", b'"\\xZZ"\n', b"a: &x b\nc: *x\n" * 50, b"customModes: *m\n", b"customModes: &m [*m]\n",
    b"- !!map {slug: x}\n", b"&a [*a, *a]\n", b"!!set {a, b}\n", b"!!timestamp 2001-12-14\n", b"2001-12-14: x\n",
    b"? |\n  k\n: v\n", b"- - - - - - x\n",
)
# Values that are valid syntax but hostile content, for the value-swapping mutation.
HOSTILE_LITERALS = (
    b'""', b'" "', b'"\\u0000"', b'"\\ud800"', b'"\\n\\r\\t"', b"null", b"true", b"false", b"0", b"-1",
    b"-0", b"2147483648", b"9223372036854775808", b"1" * 25, b"1e308", b"1e309", b"-1e308", b"5e-324", b"0.1",
    b"[]", b"{}", b"[[[]]]", b'{"a": {"b": []}}', b"inf", b"nan", b"-inf", b"1979-05-27T07:32:00Z",
    b"9999-12-31", b"0000-00-00", b"'x'", b"'''\n'''", b'"""\n"""', b"|\n  block", b">-", b"~", b"&a x", b"*a",
    b'"' + b"x" * 5000 + b'"', b'"{mode} {unknown}"', b'"../../../etc/passwd"', b'"http://[::1"',
)
XML_LITERALS = (b"&amp;", b"&lt;&gt;", b"&#0;", b"&#x1F;", b"&#xD800;", b"&#1114112;", b"&undefined;", b"&",
                b"]]>", b"<![CDATA[x]]>", b"\x00", b"\x1b[31m", b"NaN", b"INF", b"-INF", b"1e400", b"true ",
                b"<x/>", b"&#10;&#13;", b"\\u0000")
# Every quantifier bounded or disjoint from its neighbours: a line of a million spaces must not
# backtrack (an earlier, overlapping version spent minutes on one).
_ASSIGNMENT = re.compile(rb'(?m)^[ \t]{0,40}-?[ \t]{0,4}"?[\w.$-][\w.$ -]{0,59}"?[ \t]{0,8}[:=][ \t]{0,8}([^\r\n]*)')
# An XML attribute value (group 2) or element text (group 5) of GraphML and GEXF.
_XML_VALUE = re.compile(rb'(=")([^"<>]{0,200})(")|(>)([^<>]{1,200})(<)')
#: JSON values for tree edits: specials first, then arbitrary small trees.
JSON_SPECIALS = (None, True, False, 0, -1, 2**31, 2**63, -(2**63) - 1, 10**400, 1e308, -0.0, 5e-324, float("inf"),
                 float("nan"), "", " ", "\x00", "\ud800", "\udfff\ud800", "\u2028", "x" * 100_000, "9" * 30,
                 "1e999", "2025-13-45T25:61:00Z", [], {}, [None], {"": None}, [[[[]]]])
_JSON_LEAF = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=50)
JSON_VALUES = st.one_of(st.sampled_from(JSON_SPECIALS), st.recursive(
    _JSON_LEAF, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=8))
_NUMBER_RUN = re.compile(rb"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


def _at(draw: Callable, data: bytes) -> int:
    """A position in ``data`` (0 .. len), uniform rather than hypothesis's bias to small integers."""
    return draw(st.integers(0, 1 << 30)) % (len(data) + 1)


def _insert(data: bytes, at: int, piece: bytes) -> bytes:
    return data[:at] + piece + data[at:]


def _line_start(draw: Callable, data: bytes) -> int:
    """The start of a line: a random position moved back to the line's beginning (linear scans are too slow
    on multi-megabyte inputs)."""
    return data.rfind(b"\n", 0, _at(draw, data)) + 1


def _inside_string(draw: Callable, data: bytes) -> int:
    """A position right after a double quote (often inside a JSON string), else anywhere."""
    quotes = [m.end() for m in re.finditer(rb'"', data[:1 << 20])]
    return quotes[draw(st.integers(0, len(quotes) - 1))] if quotes else _at(draw, data)


class Mutator:
    """The mutation operators, bound to one reader's dictionary and sizes.

    Parameters
    ----------
    seeds : sequence of bytes
        Valid files of the reader's format (splices take pieces of them).
    tokens : sequence of bytes
        Format tokens worth splicing in (``- [ ] ``, ``"schedules"``, ``[[``, ...).
    big : bool
        Full sizes (the benchmark) or small ones (the unit tests, which run in-process).
    """

    def __init__(self, seeds: Sequence[bytes], tokens: Sequence[bytes], big: bool) -> None:
        self.seeds = list(seeds)
        self.tokens = list(tokens) or [b"x"]
        self.depths = DEPTHS if big else tuple(d for d in DEPTHS if d <= 1_000)
        self.giant = GIANT if big else tuple(g for g in GIANT if g <= 65_536)
        self.lengths = NUMBER_LENGTHS if big else tuple(n for n in NUMBER_LENGTHS if n <= 4_301)
        self.max_input = MAX_INPUT if big else SMALL_INPUT
        self.ops: list[Callable[[Callable, bytes], bytes]] = [
            self.nest, self.number, self.surrogate, self.control, self.bom, self.newlines, self.yaml,
            self.giant_line, self.token, self.delete, self.duplicate, self.truncate, self.flip, self.splice,
            self.repeat_line, self.value_swap, self.value_swap, self.json_tree, self.json_tree,
        ]

    def nest(self, draw: Callable, data: bytes) -> bytes:
        depth = draw(st.sampled_from(self.depths))
        opener, closer = draw(st.sampled_from([
            (b"[", b"]"), (b'{"a":', b"}"), (b"{a: ", b"}"), (b"{a=", b"}"), (b"- ", b""), (b"[{", b"}]"),
            (b'{"schedules":[', b"]}"), (b"a = [", b"]"),
        ]))
        close = draw(st.booleans())
        if opener == b"a = [":  # TOML: one key, then plain arrays
            piece = b"\nk = " + b"[" * depth + b"1" + (b"]" * depth if close else b"") + b"\n"
        else:
            piece = opener * depth + b"1" + (closer * depth if close else b"")
        at = draw(st.sampled_from([0, _at(draw, data), len(data)]))
        return _insert(data, at, piece)

    def number(self, draw: Callable, data: bytes) -> bytes:
        if draw(st.booleans()):
            piece = draw(st.sampled_from(SPECIAL_NUMBERS))
        else:
            digits = b"9" * draw(st.sampled_from(self.lengths))
            piece = draw(st.sampled_from([digits, b"-" + digits, b"0." + digits, b"1e" + digits[:6], digits + b".0"]))
        runs = list(_NUMBER_RUN.finditer(data[:1 << 20]))
        if runs and draw(st.booleans()):  # replace an existing number: the structure around it stays valid
            m = runs[draw(st.integers(0, len(runs) - 1))]
            return data[:m.start()] + piece + data[m.end():]
        return _insert(data, _at(draw, data), piece)

    def surrogate(self, draw: Callable, data: bytes) -> bytes:
        return _insert(data, _inside_string(draw, data), draw(st.sampled_from(SURROGATES)))

    def control(self, draw: Callable, data: bytes) -> bytes:
        piece = draw(st.sampled_from(CONTROLS)) * draw(st.sampled_from([1, 1, 2, 100]))
        return _insert(data, draw(st.sampled_from([_at(draw, data), _inside_string(draw, data)])), piece)

    def bom(self, draw: Callable, data: bytes) -> bytes:
        piece = draw(st.sampled_from(BOMS))
        return _insert(data, draw(st.sampled_from([0, 0, _line_start(draw, data)])), piece)

    def newlines(self, draw: Callable, data: bytes) -> bytes:
        how = draw(st.sampled_from(["crlf", "lf", "cr", "mix", "lone_cr", "ls", "vt"]))
        if how == "crlf":
            return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        if how == "lf":
            return data.replace(b"\r\n", b"\n")
        if how == "cr":
            return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r")
        if how == "mix":  # every k-th line ending becomes CRLF, or CR
            k = draw(st.integers(2, 5))
            lines = data.split(b"\n")
            if len(lines) > 100_000:  # a Python loop per line: too slow for a generator
                return data.replace(b"\n", b"\r\n")
            return b"".join(ln + (b"\r\n" if i % k == 0 else b"\r" if i % k == 1 else b"\n")
                            for i, ln in enumerate(lines[:-1])) + lines[-1]
        piece = {"lone_cr": b"\r", "ls": "\u2028".encode(), "vt": b"\x0b\x0c"}[how]
        return _insert(data, _at(draw, data), piece)

    def yaml(self, draw: Callable, data: bytes) -> bytes:
        piece = draw(st.sampled_from(YAML_SNIPPETS))
        at = _line_start(draw, data)
        if draw(st.booleans()):  # indented like the line it lands on, so it nests inside the document
            line = data[at:at + 200]
            indent = line[:len(line) - len(line.lstrip(b" "))]
            piece = b"".join(indent + ln for ln in piece.splitlines(keepends=True))
        return _insert(data, at, piece)

    def giant_line(self, draw: Callable, data: bytes) -> bytes:
        n = draw(st.sampled_from(self.giant))
        unit = draw(st.sampled_from([b"x", b" ", b"a ", b"- ", b"\\", b"\\\\", b'"', b"[", b"#", b"*", b"\t", b"`",
                                     b"<think>", b"1. ", b"\xe2\x80\x94", *self.tokens[:8]]))
        piece = (unit * (n // len(unit) + 1))[:n]
        return _insert(data, draw(st.sampled_from([_at(draw, data), _inside_string(draw, data)])), piece)

    def token(self, draw: Callable, data: bytes) -> bytes:
        piece = draw(st.sampled_from(self.tokens)) * draw(st.sampled_from([1, 1, 1, 3, 50]))
        at = draw(st.sampled_from([_at(draw, data), _line_start(draw, data)]))
        return _insert(data, at, piece)

    def delete(self, draw: Callable, data: bytes) -> bytes:
        at = _at(draw, data)
        return data[:at] + data[at + draw(st.sampled_from([1, 2, 8, 64, 1024])):]

    def duplicate(self, draw: Callable, data: bytes) -> bytes:
        at = _at(draw, data)
        chunk = data[at:at + draw(st.sampled_from([1, 16, 256, 4096]))] or b"\n"
        return _insert(data, at, chunk * min(draw(st.sampled_from([1, 2, 10, 1000])), self.max_input // len(chunk)))

    def truncate(self, draw: Callable, data: bytes) -> bytes:
        return data[:_at(draw, data)]

    def flip(self, draw: Callable, data: bytes) -> bytes:
        if not data:
            return bytes([draw(st.integers(0, 255))])
        at = _at(draw, data) % len(data)
        return data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1:]

    def splice(self, draw: Callable, data: bytes) -> bytes:
        other = draw(st.sampled_from(self.seeds)) if self.seeds else b""
        start = _at(draw, other)
        return _insert(data, _at(draw, data), other[start:start + draw(st.sampled_from([16, 256, 4096]))])

    def repeat_line(self, draw: Callable, data: bytes) -> bytes:
        start = _line_start(draw, data)
        end = data.find(b"\n", start) + 1 or len(data)
        line = data[start:end] or b"\n"
        copies = min(draw(st.sampled_from([2, 100, 10_000])), self.max_input // len(line))
        return data[:end] + line * copies + data[end:]

    def value_swap(self, draw: Callable, data: bytes) -> bytes:
        """Replace the value of one ``key = value``, ``key: value`` or ``"key": value`` line: the file stays
        well-formed more often than not, so the checks behind the parser get hostile values."""
        xml = data.lstrip()[:1] == b"<"
        found = list((_XML_VALUE if xml else _ASSIGNMENT).finditer(data[:1 << 20]))
        if not found:
            return self.token(draw, data)
        m = found[draw(st.integers(0, len(found) - 1))]
        group = (5 if m.group(5) is not None else 2) if xml else 1
        start, end = m.start(group), m.end(group)
        if not xml:  # keep a JSON line's trailing comma and the line's CR, replace only the value
            end = start + len(data[start:end].rstrip(b" \t\r").removesuffix(b",").rstrip(b" \t"))
        piece = draw(st.sampled_from(HOSTILE_LITERALS + XML_LITERALS if xml else HOSTILE_LITERALS))
        return data[:start] + piece + data[end:]

    def json_tree(self, draw: Callable, data: bytes) -> bytes:
        """Parse JSON ``data``, replace, delete, duplicate or wrap one value, and write it out again."""
        try:
            doc = json.loads(data) if len(data) < 1 << 20 else None
        except (ValueError, RecursionError):
            doc = None
        if not isinstance(doc, dict | list):
            return self.value_swap(draw, data)
        slots: list[tuple[dict | list, str | int]] = []
        stack: list[dict | list] = [doc]
        while stack and len(slots) < 5000:
            node = stack.pop()
            for k in (list(node) if isinstance(node, dict) else range(len(node))):
                slots.append((node, k))
                if isinstance(node[k], dict | list):
                    stack.append(node[k])
        if slots:
            parent, key = slots[draw(st.integers(0, len(slots) - 1))]
            how = draw(st.sampled_from(["replace", "replace", "delete", "duplicate", "wrap", "add"]))
            if how == "replace":
                parent[key] = draw(JSON_VALUES)
            elif how == "delete":
                del parent[key]
            elif how == "wrap":
                parent[key] = [parent[key]] if draw(st.booleans()) else {"v": parent[key]}
            elif how == "duplicate" and isinstance(parent, list):
                parent.insert(int(key), parent[key])
            elif isinstance(parent, dict):
                new_key = draw(st.sampled_from(["", "id", "__proto__", "schedules", "nodes", "x" * 300]))
                parent[new_key] = draw(JSON_VALUES)
        text = json.dumps(doc, indent=draw(st.sampled_from([None, 2, 2, "\t"])), ensure_ascii=draw(st.booleans()))
        return text.encode("utf-8", "surrogatepass")

    def mutated(self) -> st.SearchStrategy[bytes]:
        """A seed with one to four mutations applied."""

        @st.composite
        def build(draw: Callable) -> bytes:
            data = draw(st.sampled_from(self.seeds)) if self.seeds else b""
            for _ in range(draw(st.integers(1, 4))):
                op = draw(st.sampled_from(self.ops))
                data = op(draw, data)[:self.max_input]
            return data

        return build()


def inputs(seeds: Sequence[bytes], tokens: Sequence[bytes] = (), *, big: bool = True) -> st.SearchStrategy[bytes]:
    """Inputs for one reader: eight in ten are mutated seeds, the rest raw bytes or arbitrary text.

    Parameters
    ----------
    seeds : sequence of bytes
        Valid files to start from (may be empty: then only raw input and mutations of ``b""``).
    tokens : sequence of bytes
        The format's own tokens, spliced in by the ``token`` mutation.
    big : bool
        Full sizes (deep nesting to 200 000 levels, 6 MB lines); ``False`` keeps each input small.
    """
    mutator = Mutator(seeds, tokens, big)
    raw = st.binary(max_size=4096 if big else 512)
    text = st.text(max_size=2000 if big else 300).map(lambda s: s.encode("utf-8", "surrogatepass"))
    tokens_soup = st.lists(st.sampled_from(list(tokens) or [b"x"]), max_size=40).map(b"".join)
    return st.integers(0, 9).flatmap(
        lambda k: raw if k == 0 else text if k == 1 else tokens_soup if k == 2 else mutator.mutated())


__all__ = ["MAX_INPUT", "Mutator", "inputs"]
