"""Waiting for a shared store to catch up (the fleet's store tests)."""

from __future__ import annotations

from polling import until


def pulled_to(store, seq: int, *, timeout: float = 10.0) -> None:
    """Pull ``store`` until it has applied journal record ``seq``."""
    until(lambda: store.pull() is not None and store.last_seq >= seq, timeout=timeout,
          what=f"{store.machine} to reach journal seq {seq}")
