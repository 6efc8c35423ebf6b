"""The local time zone, with its daylight-saving rules, and zone names.

Schedules fire on the wall clock of the machine running the Roo Scheduler
(:mod:`orchestrator_gui.formats.nextrun`), so "local" must be the machine's
zone with all its rules, not the UTC offset it happens to have today:
``datetime.now().astimezone().tzinfo`` is a fixed offset, and a schedule
computed with it in winter for a summer date is an hour off.

:func:`local_zone` finds the zone the way the C library does: the ``TZ``
environment variable when it is set (a zone name, a zone file, or a POSIX rule
string such as ``CET-1CEST,M3.5.0,M10.5.0/3``), else ``/etc/localtime``.  Only
when none of these can be read does it fall back to the current fixed offset.

Public API
----------
``local_zone() -> tzinfo``
``named_zone(name) -> tzinfo`` (``ValueError`` when unknown)
``parse_instant(text) -> datetime`` (aware UTC; ``ValueError`` when malformed)
"""

from __future__ import annotations

import io
import os
import re
import struct
from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

#: The system's zone file (a link into a zoneinfo tree on most Unix systems, a copy in some containers).
LOCALTIME = "/etc/localtime"
_ZONEINFO_DIR = "zoneinfo/"
# A POSIX TZ rule always has a standard-time name (3+ letters or <...>) followed by an offset.
_POSIX_RULE = re.compile(r"^(?:[A-Za-z]{3,}|<[+\-0-9A-Za-z]+>)[+-]?\d")


def local_zone() -> tzinfo:
    """The local time zone, daylight saving included.

    Returns
    -------
    tzinfo
        A :class:`zoneinfo.ZoneInfo` built from ``TZ`` or ``/etc/localtime``
        (so its ``utcoffset`` is right on any date), :data:`datetime.timezone.utc`
        when ``TZ`` is set but empty (as the C library reads it), and the
        current fixed UTC offset only when no zone can be found at all.

    Notes
    -----
    ``TZ`` is read on every call, so a change made with ``os.environ`` (and
    ``time.tzset``) is seen at once; loaded zones are cached.
    """
    if "TZ" in os.environ:
        value = os.environ["TZ"]
        spec = value[1:] if value.startswith(":") else value
        if not spec:
            return UTC
        zone = _zone_from_spec(spec)
    else:
        zone = _system_zone()
    if zone is not None:
        return zone
    # No readable zone: the current offset is all there is (right until the next DST change).
    return datetime.now().astimezone().tzinfo or UTC


def named_zone(name: str) -> tzinfo:
    """The zone called ``name``: an IANA name (``Europe/London``), a POSIX TZ rule or a zone file.

    Parameters
    ----------
    name : str
        Anything ``TZ`` may hold, without the optional leading ``:``.

    Returns
    -------
    tzinfo

    Raises
    ------
    ValueError
        When ``name`` is neither a known zone nor a valid rule.
    """
    spec = name.strip()
    zone = _zone_from_spec(spec) if spec else None
    if zone is None:
        raise ValueError(f"unknown time zone {name!r}")
    return zone


def parse_instant(text: str) -> datetime:
    """Parse an ISO 8601 time (``Z``, an offset, or none meaning UTC) to an aware UTC datetime.

    Parameters
    ----------
    text : str
        For example ``2025-11-01T06:00:00Z`` or ``2025-11-01T07:00:00+01:00``.

    Returns
    -------
    datetime
        In UTC.

    Raises
    ------
    ValueError
        When ``text`` is not an ISO time.
    """
    v = text.strip()
    if v.endswith(("Z", "z")):
        v = v[:-1] + "+00:00"
    dt = datetime.fromisoformat(v)
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def _zone_from_spec(spec: str) -> tzinfo | None:
    """A zone from a ``TZ`` value without its ``:``: a file path, a zone name or a POSIX rule."""
    if spec.startswith("/"):
        return _zone_from_path(spec)
    try:
        return ZoneInfo(spec)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        pass
    return _zone_from_rule(spec) if _POSIX_RULE.match(spec) else None


def _system_zone() -> tzinfo | None:
    try:
        path = os.path.realpath(LOCALTIME)
    except OSError:
        return None
    return _zone_from_path(path)


def _zone_from_path(path: str) -> tzinfo | None:
    """The zone of a TZif file: by its name when it sits in a zoneinfo tree, else read from the file."""
    if _ZONEINFO_DIR in path:
        try:
            return ZoneInfo(path.split(_ZONEINFO_DIR, 1)[1])
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass  # e.g. a "posix/" or "right/" tree the zone search path lacks: read the file itself
    try:
        st = os.stat(path)
    except OSError:
        return None
    return _zone_from_file(path, st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=16)
def _zone_from_file(path: str, _mtime_ns: int, _size: int) -> tzinfo | None:
    # mtime and size are part of the cache key so that a replaced zone file is read again.
    try:
        with open(path, "rb") as f:
            return ZoneInfo.from_file(f, key=path)  # a key gives a stable repr, which caches compare
    except (OSError, ValueError):
        return None


@lru_cache(maxsize=16)
def _zone_from_rule(rule: str) -> tzinfo | None:
    """A zone following the POSIX TZ rule string ``rule`` (e.g. ``CET-1CEST,M3.5.0,M10.5.0/3``).

    zoneinfo reads such rules only from the footer of a TZif file, so this
    wraps the rule in a minimal version-2 file: no transitions, one
    placeholder local time type, and the rule, which then governs all times.
    """
    try:
        footer = rule.encode("ascii")
    except UnicodeEncodeError:
        return None
    header = b"TZif2" + bytes(15) + struct.pack(">6l", 0, 0, 0, 0, 1, 4)  # 0 transitions, 1 type, 4 chars
    block = struct.pack(">lBB", 0, 0, 0) + b"UTC\0"
    data = header + block + header + block + b"\n" + footer + b"\n"
    try:
        return ZoneInfo.from_file(io.BytesIO(data), key=rule)
    except ValueError:
        return None


__all__ = ["LOCALTIME", "local_zone", "named_zone", "parse_instant"]
