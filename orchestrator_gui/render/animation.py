"""Short interpolations for the 3D view: camera flights, nodes growing out of a parent, nodes converging.

One vispy timer ticks at about 60 Hz only while something animates and stops
when the last animation ends, so an idle view draws nothing (render on
demand).  Each animation is a small object with ``step(now) -> done``; the
scene applies what it returns.  The maths (:func:`node_frame`) is pure so it
can be unit-tested without a clock or GL.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from orchestrator_gui.render.camera import ease


@dataclass
class NodeAnimation:
    """Nodes travelling from ``start`` to ``end`` positions while their size scale goes ``s0 -> s1``.

    ``ids`` are node ids (rows are looked up every frame, because rows move
    when other nodes are deleted).  ``fade`` optionally takes the alpha from
    1 towards ``fade`` (converging inputs dissolve into their result).
    """

    ids: list[str]
    start: np.ndarray
    end: np.ndarray
    s0: float
    s1: float
    duration: float
    t0: float
    fade: float | None = None
    kind: str = "growth"

    def fraction(self, now: float) -> float:
        """Elapsed fraction in ``[0, 1]``."""
        return 1.0 if self.duration <= 0 else min(1.0, max(0.0, (now - self.t0) / self.duration))


def node_frame(anim: NodeAnimation, now: float) -> tuple[np.ndarray, float, float]:
    """Positions (len(ids), 3), size scale and alpha scale of ``anim`` at time ``now``."""
    e = ease(anim.fraction(now))
    pos = (anim.start + (anim.end - anim.start) * e).astype(np.float32)
    scale = anim.s0 + (anim.s1 - anim.s0) * e
    alpha = 1.0 if anim.fade is None else 1.0 + (anim.fade - 1.0) * e
    return pos, float(scale), float(alpha)


@dataclass
class CameraFlight:
    """Camera pose interpolation from ``a`` to ``b``."""

    a: dict[str, Any]
    b: dict[str, Any]
    duration: float
    t0: float

    def fraction(self, now: float) -> float:
        """Elapsed fraction in ``[0, 1]``."""
        return 1.0 if self.duration <= 0 else min(1.0, max(0.0, (now - self.t0) / self.duration))


@dataclass
class Animator:
    """Runs animations on a timer that exists only while they do.

    Parameters
    ----------
    make_timer : callable
        ``make_timer(callback) -> timer`` with ``start()``/``stop()``; the
        scene passes a vispy ``app.Timer`` factory.
    on_frame : callable
        ``on_frame(now)`` applies the current frame of every animation.
    clock : callable
        Monotonic seconds (injectable for tests).
    """

    make_timer: Callable[[Callable[..., None]], Any]
    on_frame: Callable[[float], bool]
    clock: Callable[[], float] = time.perf_counter
    _timer: Any = field(default=None, init=False)
    running: bool = field(default=False, init=False)
    frames: int = field(default=0, init=False)

    def kick(self) -> None:
        """Make sure the timer runs (call after adding an animation)."""
        if self._timer is None:
            self._timer = self.make_timer(self._tick)
        if not self.running:
            self.running = True
            self._timer.start()

    def _tick(self, *_: Any) -> None:
        self.frames += 1
        busy = self.on_frame(self.clock())
        if not busy:
            self.stop()

    def stop(self) -> None:
        """Stop ticking (animations left unfinished are the scene's to snap)."""
        if self._timer is not None and self.running:
            self._timer.stop()
        self.running = False
