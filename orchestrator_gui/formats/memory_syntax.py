"""Line grammar of ``persistent-memory.md`` log files (docs/formats.md §3.2).

This module holds the pieces of the memory-log reader that look at one line
at a time: the entry regexes, lenient timestamp parsing, the JavaScript
``toISOString`` formatter, and the code-fence / HTML-comment tracker. The
document model and the editors live in :mod:`orchestrator_gui.formats.memory`.

The grammar is deliberately line-based, not a CommonMark AST: the files are
written by AI agents that mix three entry syntaxes, and every edit must map
back to an exact line range.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from orchestrator_gui.formats.fileio import strip_terminator, terminator  # noqa: F401 - re-exported for formats.memory

# The four entry syntaxes, as given in docs/formats.md §3.2 (translated to Python's
# named-group syntax). They are matched against a line without its terminator.
HEAD_ENTRY = re.compile(
    r"^(?P<h>#{2,3})[ \t]+\[(?P<ts>[^\]]+)\][ \t]+\[(?P<mode>[^\]]+)\][ \t]+-[ \t]+"
    r"\[(?P<id>[^\]]+)\](?::[ \t]*(?P<summary>.*))?[ \t]*$"
)
LINE_ENTRY = re.compile(
    r"^\[(?P<ts>\d{4}-\d\d-\d\dT[^\]]+)\][ \t]+\[(?P<mode>[^\]]+)\][ \t]+-[ \t]+"
    r"\[(?P<id>[^\]]+)\]:[ \t]*(?P<text>.*)$"
)
MEMBANK = re.compile(r"^\[(?P<ts>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\][ \t]+-[ \t]+(?P<text>.*)$")
DATE_HEAD = re.compile(r"^##[ \t]+(?P<date>\d{4}-\d\d-\d\d)[ \t]+-[ \t]+(?P<title>.+)$")

# Looser shapes that only decide whether a line that is *not* an entry
# deserves an info finding ("looks like an entry but is not one"), e.g. the
# resonance template ``## [Date] - [Decision Topic]`` or origin
# ``persistent_data.md`` lines whose id is not in brackets.
_ENTRY_LIKE_HEAD = re.compile(r"^#{2,6}[ \t]+\[(?P<ts>[^\]]*)\][ \t]+(?:\[[^\]]*\][ \t]+)?-[ \t]")
_ENTRY_LIKE_LINE = re.compile(r"^\[(?P<ts>[^\]]*)\][ \t]+(?:\[[^\]]*\][ \t]+)?-[ \t]")

# ATX heading: up to 3 spaces, 1-6 '#', then blank or end of line.
# Greedy title plus str.rstrip keeps this linear even on 5 KB lines of blanks.
_HEADING = re.compile(r"^ {0,3}(?P<h>#{1,6})(?:[ \t]+(?P<title>.*))?$")

# Fences: any indentation is accepted (fences inside list items are indented),
# which is more lenient than CommonMark's 0-3 spaces on purpose: hiding a real
# entry is worse than not hiding an indented-code-block curiosity.
_FENCE_OPEN = re.compile(r"^[ \t]*(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_FENCE_CLOSE = re.compile(r"^[ \t]*(?P<fence>`{3,}|~{3,})[ \t]*$")
_COMMENT_OPEN = re.compile(r"^ {0,3}<!--")

_ISO = re.compile(
    r"^(?P<y>\d{4})-(?P<mo>\d\d)-(?P<d>\d\d)"
    r"(?:[Tt ](?P<H>\d\d):(?P<M>\d\d)(?::(?P<S>\d\d)(?:[.,](?P<f>\d+))?)?)?"
    r"[ \t]*(?P<tz>[Zz]|UTC|[+-]\d\d:?\d\d)?$"
)

#: Level given to entries that are not headings, so that any heading ends them.
LINE_LEVEL = 7


#: The form nearly every timestamp has (``toISOString()`` and Python's ``isoformat`` + ``Z``):
#: parsed by ``datetime.fromisoformat`` in C, with the same result as the general path below.
_COMMON = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?Z")


def parse_timestamp(raw: str) -> datetime | None:
    """Parse a log timestamp leniently; return an aware UTC datetime or None.

    Accepts what agents and tools actually wrote: ``…T18:54:09.633Z``,
    ``…T15:13:07.748530Z``, ``…T03:34:02.000Z``, no fraction, a space instead
    of ``T`` (memory-bank ``2025-08-04 20:46:00``), a numeric offset, a bare
    date, and no zone at all. Values without a zone are taken as UTC, which is
    what every writer of these files meant.

    Parameters
    ----------
    raw : str
        The timestamp as written (surrounding blanks are ignored).

    Returns
    -------
    datetime or None
        The instant in UTC, or ``None`` when ``raw`` is not a valid timestamp
        (``Date``, ``timestamp``, ``2025-13-01``, …).
    """
    raw = raw.strip()
    if _COMMON.fullmatch(raw) is not None:
        try:
            return datetime.fromisoformat(raw)
        except ValueError:  # month 13, hour 24, ...
            return None
    m = _ISO.match(raw)
    if m is None:
        return None
    frac = (m["f"] or "")[:6].ljust(6, "0")
    try:
        dt = datetime(
            int(m["y"]), int(m["mo"]), int(m["d"]),
            int(m["H"] or 0), int(m["M"] or 0), int(m["S"] or 0), int(frac),
            tzinfo=UTC,
        )
    except ValueError:
        return None
    tz = m["tz"]
    if tz and tz[0] in "+-":
        digits = tz[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        # 10:00+02:00 is 08:00 UTC: subtract the offset.
        try:
            dt = dt - offset if tz[0] == "+" else dt + offset
        except OverflowError:
            return None
    return dt


def format_timestamp(dt: datetime) -> str:
    """Format ``dt`` exactly like JavaScript ``Date.prototype.toISOString``.

    Parameters
    ----------
    dt : datetime
        The instant. An aware value is converted to UTC; a naive value is
        taken to be UTC already.

    Returns
    -------
    str
        ``YYYY-MM-DDTHH:MM:SS.mmmZ`` (milliseconds truncated, as JS keeps only
        milliseconds).
    """
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC)
    return (
        f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}T{dt.hour:02d}:{dt.minute:02d}:"
        f"{dt.second:02d}.{dt.microsecond // 1000:03d}Z"
    )




def is_blank(line: str) -> bool:
    """Whether ``line`` holds only whitespace (terminator included)."""
    return not line.strip()


@dataclass(slots=True)
class Heading:
    """An ATX heading outside code: its level and cleaned title."""

    level: int
    title: str


def match_heading(text: str) -> Heading | None:
    """Return the ATX heading on ``text`` (a line without terminator), if any."""
    if "#" not in text[:4]:
        return None
    m = _HEADING.match(text)
    if m is None:
        return None
    title = (m["title"] or "").strip()
    # An optional closing '#' run counts only when preceded by a blank
    # ("# C#" keeps its '#').
    bare = title.rstrip("#")
    if bare != title and (not bare or bare[-1] in " \t"):
        title = bare.rstrip()
    return Heading(len(m["h"]), title)


@dataclass(slots=True)
class EntryMatch:
    """The fields of one line that starts a log entry."""

    form: str
    level: int
    timestamp_raw: str
    mode: str | None
    id: str | None
    summary: str
    timestamp: datetime | None = None


def match_entry(text: str) -> tuple[EntryMatch | None, str | None]:
    """Classify one line (without terminator) outside code.

    Parameters
    ----------
    text : str
        The line.

    Returns
    -------
    entry : EntryMatch or None
        The entry this line starts, when it matches one of the four syntaxes
        *and* its timestamp parses.
    rejected : str or None
        When the line looks like an entry but is not one, why (a sentence for
        an info finding); otherwise ``None``.
    """
    if not text or text[0] not in "#[":
        return None, None
    if text[0] == "#":
        m = HEAD_ENTRY.match(text)
        if m is not None:
            ts = parse_timestamp(m["ts"])
            if ts is None:
                return None, _bad_ts(m["ts"], "heading")
            return EntryMatch("heading", len(m["h"]), m["ts"], m["mode"], m["id"],
                              (m["summary"] or "").rstrip(), ts), None
        m = DATE_HEAD.match(text)
        if m is not None:
            ts = parse_timestamp(m["date"])
            if ts is None:
                return None, _bad_ts(m["date"], "heading")
            return EntryMatch("date_heading", 2, m["date"], None, None, m["title"].rstrip(), ts), None
        m = _ENTRY_LIKE_HEAD.match(text)
        if m is not None:
            if parse_timestamp(m["ts"]) is None:
                return None, _bad_ts(m["ts"], "heading")
            return None, (
                "heading looks like a log entry but does not follow "
                "'## [timestamp] [mode] - [id]'; treated as a plain heading"
            )
        return None, None
    m = LINE_ENTRY.match(text)
    if m is not None:
        ts = parse_timestamp(m["ts"])
        if ts is None:
            return None, _bad_ts(m["ts"], "line")
        return EntryMatch("line", LINE_LEVEL, m["ts"], m["mode"], m["id"], m["text"].rstrip(), ts), None
    m = MEMBANK.match(text)
    if m is not None:
        ts = parse_timestamp(m["ts"])
        if ts is None:
            return None, _bad_ts(m["ts"], "line")
        return EntryMatch("membank", LINE_LEVEL, m["ts"], None, None, m["text"].rstrip(), ts), None
    m = _ENTRY_LIKE_LINE.match(text)
    if m is not None:
        if parse_timestamp(m["ts"]) is None:
            return None, _bad_ts(m["ts"], "line")
        return None, (
            "line looks like a log entry but does not follow "
            "'[timestamp] [mode] - [id]: text' (is the id in brackets?); not counted as an entry"
        )
    return None, None


def _bad_ts(ts: str, what: str) -> str:
    plain = "plain heading" if what == "heading" else "plain text"
    return f"{what} looks like a log entry but its timestamp '{ts}' does not parse; treated as {plain}"


class CodeTracker:
    """Follow fenced code blocks and multi-line HTML comments line by line.

    Call :meth:`feed` for every line in order; it returns True when the line
    is code or comment (or a fence/comment delimiter), i.e. when it cannot
    start an entry, a heading or a section.
    """

    def __init__(self) -> None:
        self.fence: str | None = None
        self.open_line: int | None = None
        self.kind: str | None = None

    def feed(self, text: str, lineno: int) -> bool:
        """Advance over ``text`` (line ``lineno``, no terminator); return True if inside code."""
        if self.kind == "fence":
            m = _FENCE_CLOSE.match(text)
            fence = self.fence or ""
            if m is not None and m["fence"][0] == fence[0] and len(m["fence"]) >= len(fence):
                self.kind = self.fence = self.open_line = None
            return True
        if self.kind == "comment":
            if "-->" in text:
                self.kind = self.open_line = None
            return True
        if "`" in text or "~" in text:
            m = _FENCE_OPEN.match(text)
            # A backtick fence's info string cannot hold a backtick, else
            # "```x```" (inline code on its own line) would open a fence.
            if m is not None and not (m["fence"][0] == "`" and "`" in m["info"]):
                self.kind, self.fence, self.open_line = "fence", m["fence"], lineno
                return True
        m = _COMMENT_OPEN.match(text)
        if m is not None:
            if "-->" not in text[m.end():]:
                self.kind, self.open_line = "comment", lineno
            return True
        return False
