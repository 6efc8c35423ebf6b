"""Text in XML 1.0 files: a reversible escape for the characters XML cannot hold, quoting, and a safe parser.

Which characters XML 1.0 cannot hold
------------------------------------
XML 1.0 documents may only contain ``#x9 | #xA | #xD | [#x20-#xD7FF] |
[#xE000-#xFFFD] | [#x10000-#x10FFFF]``, not even as character references.
Node text from agent loops holds the others now and then: an ANSI colour
code (``ESC``) copied from a terminal into a TODO line, ``\\x01`` or a NUL in
a title, a lone surrogate that a broken decoder left behind.  A file with one
of them is not well-formed, and Gephi, Cytoscape and every XML parser refuse
the whole file.

The escape
----------
:func:`escape` writes each such character as ``\\u{HEX}`` (lower-case hex, no
leading zeros: ``ESC`` is ``\\u{1b}``, NUL ``\\u{0}``, U+FFFE ``\\u{fffe}``) --
the notation of Rust and JavaScript, readable in any viewer.  So that the
escape can be undone exactly, a backslash that is followed by ``u{`` in the
original text is written as ``\\u{5c}``; every other backslash (Windows paths,
regular expressions) is left alone.  :func:`unescape` turns every
``\\u{HEX}`` back into its character, so ``unescape(escape(s)) == s`` for every
string without surrogates.

A lone surrogate (U+D800..U+DFFF) is not a character at all and cannot be
written in UTF-8 (nor in JSON, nor in the graph store), so :func:`escape`
replaces it with U+FFFD REPLACEMENT CHARACTER; that one change is not
reversible, and :func:`unescape` refuses an escape of a surrogate.

Tab, line feed and carriage return are allowed, but an XML parser turns a
raw carriage return into a line feed, and a raw tab or line feed *inside an
attribute value* into a space.  :func:`quote_text` and :func:`quote_attr`
therefore write them as character references (``&#13;``, ``&#9;``, ``&#10;``),
which every parser hands back unchanged.

Parsing
-------
:func:`parse_xml` runs expat over a whole document and calls a handler per
element.  It refuses any ``DOCTYPE`` (a document type can declare entities
that expand to gigabytes -- "billion laughs" -- or fetch external files), so
entity references other than the five predefined ones are errors too; it
limits element nesting to :data:`~orchestrator_gui.formats.limits.MAX_DEPTH`;
and every failure is a :class:`~orchestrator_gui.problems.FormatError` with
the line expat reports.
"""

from __future__ import annotations

import codecs
import re
from typing import Protocol
from xml.parsers import expat

from orchestrator_gui.formats.limits import MAX_DEPTH
from orchestrator_gui.problems import FormatError

#: Name of the escape written in an export's header, so an importer knows to undo it.
ESCAPE_NAME = "backslash-u-brace"

# What XML 1.0 forbids, and a backslash that would start an escape.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]|\\\\(?=u\\{)")
_ESCAPE = re.compile(r"\\u\{([0-9a-fA-F]{1,6})\}")
_TEXT_SPECIAL = re.compile("[&<>\r]")
_ATTR_SPECIAL = re.compile('[&<>"\t\n\r]')
_TEXT_REFS = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"}
_ATTR_REFS = {**_TEXT_REFS, '"': "&quot;", "\t": "&#9;", "\n": "&#10;"}


def _escape_one(m: re.Match[str]) -> str:
    c = m.group()
    if "\ud800" <= c <= "\udfff":
        return "\ufffd"
    return f"\\u{{{ord(c):x}}}"


def escape(text: str) -> str:
    """``text`` with every character XML 1.0 forbids written as ``\\u{HEX}`` (see the module docstring).

    Lone surrogates become U+FFFD; everything else is reversed by :func:`unescape`.
    """
    return _FORBIDDEN.sub(_escape_one, text) if _FORBIDDEN.search(text) else text


def _unescape_one(m: re.Match[str]) -> str:
    code = int(m.group(1), 16)
    if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        raise ValueError(f"the escape {m.group()} is not a character")
    return chr(code)


def unescape(text: str) -> str:
    """Undo :func:`escape`: every ``\\u{HEX}`` becomes its character.

    Raises
    ------
    ValueError
        For an escape of a surrogate or of a number past U+10FFFF.
    """
    return _ESCAPE.sub(_unescape_one, text) if "\\u{" in text else text


def quote_text(text: str) -> str:
    """Element content for already :func:`escape`\\ d ``text``: ``& < >`` and carriage returns as references."""
    return _TEXT_SPECIAL.sub(lambda m: _TEXT_REFS[m.group()], text) if _TEXT_SPECIAL.search(text) else text


def quote_attr(text: str) -> str:
    """An attribute value (without the quotes) for already :func:`escape`\\ d ``text``.

    ``& < > "`` and tab, line feed and carriage return are written as
    references, so attribute-value normalisation cannot turn them into spaces.
    """
    return _ATTR_SPECIAL.sub(lambda m: _ATTR_REFS[m.group()], text) if _ATTR_SPECIAL.search(text) else text


class XmlHandler(Protocol):
    """What :func:`parse_xml` calls, element by element, in document order."""

    def start(self, ns: str, tag: str, attrs: dict[str, str], line: int) -> None:
        """An element opens: its namespace URI ("" for none), local name, attributes and line."""

    def end(self, ns: str, tag: str, text: str, line: int) -> None:
        """An element closes; ``text`` is its character content after its last child element."""


def parse_xml(data: bytes, name: str, handler: XmlHandler, *, max_depth: int = MAX_DEPTH) -> None:
    """Parse a whole XML document, refusing what could make parsing itself hostile.

    Parameters
    ----------
    data : bytes
        The document, read as UTF-8 whatever its declaration says (UTF-16 is refused).
    name : str
        File name for error messages.
    handler : XmlHandler
        Receives the elements; it may raise :class:`FormatError` to stop.
    max_depth : int
        Deepest element nesting accepted (1..``MAX_DEPTH``).

    Raises
    ------
    FormatError
        ``FILE:LINE`` for a document that is not well-formed, that has a
        ``DOCTYPE`` or an entity, that nests deeper than ``max_depth``, or
        whatever the handler refuses.
    """
    if not 1 <= max_depth <= MAX_DEPTH:
        raise ValueError(f"max_depth must be in 1..{MAX_DEPTH}")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise FormatError(name, "file is UTF-16 encoded; save it as UTF-8", line=1)
    # Always UTF-8, whatever the declaration says: exports are UTF-8, and expat would otherwise look up
    # any codec the file names. The separator never occurs in a namespace URI: "uri local" splits cleanly.
    parser = expat.ParserCreate(encoding="UTF-8", namespace_separator=" ")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.buffer_text = True
    parser.buffer_size = 1 << 16
    depth = 0
    text: list[str] = []

    def refuse(message: str) -> None:
        raise FormatError(name, message, line=parser.CurrentLineNumber)

    def doctype(*_: object) -> None:
        refuse("a DOCTYPE is not accepted (it could declare entities that expand without bound); remove it")

    def entity(*_: object) -> None:
        refuse("entity declarations are not accepted; remove them")

    names: dict[str, tuple[str, str]] = {}  # "uri local" -> (uri, local); a document uses a handful of names

    def split(qname: str) -> tuple[str, str]:
        found = names.get(qname)
        if found is None:
            ns, _, local = qname.rpartition(" ")
            found = names[qname] = (ns, local)
        return found

    def start(qname: str, attrs: dict[str, str]) -> None:
        nonlocal depth
        depth += 1
        if depth > max_depth:
            refuse(f"elements nest deeper than {max_depth} levels")
        text.clear()
        ns, local = names.get(qname) or split(qname)
        handler.start(ns, local, attrs, parser.CurrentLineNumber)

    def end(qname: str) -> None:
        nonlocal depth
        depth -= 1
        content = "".join(text) if text else ""
        text.clear()
        ns, local = names.get(qname) or split(qname)
        handler.end(ns, local, content, parser.CurrentLineNumber)

    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = entity
    parser.UnparsedEntityDeclHandler = entity
    parser.ExternalEntityRefHandler = lambda *_: refuse("external entities are not accepted") or 0
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text.append
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise FormatError(name, f"not well-formed XML: {expat.ErrorString(exc.code)} (column {exc.offset + 1})",
                          line=exc.lineno) from None
    except (LookupError, UnicodeError) as exc:  # unreachable with the encoding fixed; kept as a net
        raise FormatError(name, f"cannot decode the file: {exc}", line=parser.CurrentLineNumber) from None


__all__ = ["ESCAPE_NAME", "XmlHandler", "escape", "parse_xml", "quote_attr", "quote_text", "unescape"]
