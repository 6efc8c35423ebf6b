"""Numbered events of a live workspace, kept for a while so a client that reconnects loses nothing.

Every change a face should hear of (a graph transaction, a file that changed,
a run that started or ended, a write refused as stale) is one
:class:`LiveEvent` with the next sequence number. The journal keeps the
newest :data:`CAPACITY` events in memory. A subscriber attaches with the
last number it has seen and atomically receives what it missed, then every
new event in order; when what it missed is no longer kept (or it comes
from an earlier run of the server, told by the journal's ``epoch``), it is
told to resync (read the state again) instead.

Publishing is thread-safe and cheap for the publisher: each event is
serialised once, and a subscriber's callback must only hand it over (for
example to an event loop's queue), never block.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

#: Events kept for clients that reconnect.
CAPACITY = 10_000


@dataclass(frozen=True)
class LiveEvent:
    """One event: ``seq`` (1, 2, …), ``type``, ``time`` (Unix seconds), ``data`` and its JSON text."""

    seq: int
    type: str
    time: float
    data: dict[str, Any]
    text: str = field(repr=False, default="")

    def to_dict(self) -> dict[str, Any]:
        """The event as the API sends it."""
        return {"seq": self.seq, "type": self.type, "time": self.time, "data": self.data}


Subscriber = Callable[[LiveEvent], None]


class EventJournal:
    """The numbered events of one live workspace (see the module docstring).

    Parameters
    ----------
    capacity : int
        Events kept for late subscribers (1 to 1,000,000).
    """

    def __init__(self, capacity: int = CAPACITY) -> None:
        if not 1 <= capacity <= 1_000_000:
            raise ValueError("capacity must be between 1 and 1,000,000")
        #: Names this run of the journal: sequence numbers of another epoch mean nothing here.
        self.epoch = secrets.token_hex(8)
        self._lock = threading.Lock()
        self._events: deque[LiveEvent] = deque(maxlen=capacity)
        self._seq = 0
        self._subscribers: list[Subscriber] = []

    @property
    def last_seq(self) -> int:
        """The number of the newest event (0 before the first)."""
        return self._seq

    def publish(self, type_: str, data: dict[str, Any]) -> LiveEvent:
        """Number ``data`` as the next event of type ``type_``, keep it and hand it to every subscriber."""
        with self._lock:
            self._seq += 1
            now = time.time()
            payload = {"seq": self._seq, "type": type_, "time": now, "data": data}
            event = LiveEvent(self._seq, type_, now, data, json.dumps(payload, ensure_ascii=False, default=str))
            self._events.append(event)
            # Handed over under the lock, so each subscriber sees the events in order and none twice.
            for fn in list(self._subscribers):
                fn(event)
        return event

    def missed(self, since: int, epoch: str | None = None) -> list[LiveEvent] | None:
        """The events after ``since`` still kept, or ``None`` when some are lost (or ``epoch`` is another one)."""
        with self._lock:
            return self._missed(since, epoch)

    def _missed(self, since: int, epoch: str | None) -> list[LiveEvent] | None:
        if (epoch is not None and epoch != self.epoch) or since > self._seq or since < 0:
            return None
        if since == self._seq:
            return []
        first = self._events[0].seq if self._events else self._seq + 1
        if since + 1 < first:
            return None
        return list(self._events)[since + 1 - first:]

    def attach(self, fn: Subscriber, since: int | None = None, epoch: str | None = None
               ) -> tuple[list[LiveEvent] | None, Callable[[], None]]:
        """Subscribe ``fn`` and return ``(missed, detach)`` atomically.

        ``missed`` is ``[]`` without ``since``, the events after ``since``
        when they are all kept, ``None`` when the subscriber must resync.
        ``fn`` then gets every event published after them, in order.
        """
        with self._lock:
            missed = [] if since is None else self._missed(since, epoch)
            self._subscribers.append(fn)

        def detach() -> None:
            with self._lock:
                if fn in self._subscribers:
                    self._subscribers.remove(fn)

        return missed, detach

    @property
    def subscribers(self) -> int:
        """How many subscribers are attached."""
        return len(self._subscribers)


__all__ = ["CAPACITY", "EventJournal", "LiveEvent", "Subscriber"]
