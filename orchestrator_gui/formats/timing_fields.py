"""Value and raw-line helpers for the timing reader and writer (docs/formats.md §4.3).

Kept apart from :mod:`orchestrator_gui.formats.timing_read` so the column
rules (``iso()``, ``ts()``) and the byte-level line splitting that respects
UTF-16 fragments can be read and tested on their own.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

#: The spec's ``iso()``: ISO-8601 date-time, up to 9 fraction digits, optional offset.
ISO_RE = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:?\d\d)?$")
#: Epoch seconds (optionally fractional) or 13-digit epoch milliseconds.
EPOCH_RE = re.compile(r"^\d{9,10}(?:\.\d+)?$|^\d{13}$")
#: A UTF-16LE run: ASCII-range code units, each a non-NUL byte followed by NUL.
UTF16_RUN_RE = re.compile(rb"(?:[^\x00]\x00)+")


def is_iso(value: str) -> bool:
    """Return whether ``value`` is an ISO-8601 date-time as the spec's ``iso()`` defines it."""
    return ISO_RE.match(value) is not None


def is_ts(value: str) -> bool:
    """Return whether ``value`` is ISO-8601 or epoch seconds/milliseconds (the spec's ``ts()``)."""
    return ISO_RE.match(value) is not None or EPOCH_RE.match(value) is not None


def parse_instant(value: str | None) -> float | None:
    """Return POSIX seconds for an ISO-8601 or epoch value, or ``None`` if it does not parse.

    Fractions of up to 9 digits are kept (``datetime.fromisoformat`` would
    need at most 6); a value without offset is taken as UTC, like the rest of
    the file.
    """
    if not value:
        return None
    m = ISO_RE.match(value)
    if m is None:
        if EPOCH_RE.match(value) is None:
            return None
        return int(value) / 1000.0 if len(value) == 13 else float(value)
    year, month, day, hour, minute, second, frac, tz = m.groups()
    # The date part repeats row after row: its midnight is computed once (and checked by datetime).
    midnight = _MIDNIGHTS.get(value[:10])
    if midnight is None:
        try:
            midnight = datetime(int(year), int(month), int(day), tzinfo=UTC).timestamp()
        except ValueError:
            return None
        if len(_MIDNIGHTS) < _MIDNIGHT_CACHE:
            _MIDNIGHTS[value[:10]] = midnight
    h, mi, sec = int(hour), int(minute), int(second)
    if h > 23 or mi > 59 or sec > 59:  # what datetime() refuses
        return None
    seconds = float(int(midnight) + h * 3600 + mi * 60 + sec) + (float("0." + frac) if frac else 0.0)
    if tz and tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        seconds -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])).total_seconds()
    return seconds


#: ``YYYY-MM-DD`` -> POSIX seconds of its midnight (UTC), for :func:`parse_instant`; bounded.
_MIDNIGHTS: dict[str, float] = {}
_MIDNIGHT_CACHE = 100_000


def parse_number(value: str | None) -> float | None:
    """Return ``value`` as a float, or ``None`` when empty or not numeric."""
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        return None


def decode_fragment(content: bytes) -> str:
    """Decode a line holding UTF-16LE runs amid UTF-8 bytes, best effort, on one line."""
    parts: list[str] = []
    pos = 0
    for m in UTF16_RUN_RE.finditer(content):
        parts.append(content[pos:m.start()].replace(b"\x00", b"").decode("utf-8", "replace"))
        parts.append(m.group().decode("utf-16-le", "replace"))
        pos = m.end()
    parts.append(content[pos:].replace(b"\x00", b"").decode("utf-8", "replace"))
    # The fragment's own CR/LF code units and the CRLFs around it are noise for display.
    return " ".join(p.strip() for p in re.split(r"[\r\n]+", "".join(parts)) if p.strip())


def split_raw_lines(data: bytes) -> list[tuple[int, int]]:
    """Return ``(start, end)`` byte spans of the rows, terminators included.

    A ``\\n`` that is the low byte of a UTF-16LE code unit is not a line end,
    so a UTF-16 fragment stays in one span. Linear in ``len(data)``.
    """
    protected: set[int] = set()
    if b"\x00" in data:
        for m in UTF16_RUN_RE.finditer(data):
            p = data.find(b"\n", m.start(), m.end())
            while p >= 0:
                if (p - m.start()) % 2 == 0:
                    protected.add(p)
                p = data.find(b"\n", p + 1, m.end())
    spans: list[tuple[int, int]] = []
    start = 0
    pos = data.find(b"\n")
    while pos >= 0:
        if pos not in protected:
            spans.append((start, pos + 1))
            start = pos + 1
        pos = data.find(b"\n", pos + 1)
    if start < len(data):
        spans.append((start, len(data)))
    return spans
