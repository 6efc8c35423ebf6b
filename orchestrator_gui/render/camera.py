"""Camera of the 3D view: a turntable with middle-drag pan, a change hook, state and eased flights.

Mouse: left-drag rotates, right-drag or wheel/pinch zooms, middle-drag pans.
Shift + left-drag is left to the view
(rubber-band selection), so this camera ignores it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from vispy.scene.cameras import TurntableCamera
from vispy.util import keys

#: Camera pose shown by "reset camera".
DEFAULT_STATE: dict[str, Any] = {
    "center": (0.0, 0.0, 0.0),
    "azimuth": 30.0,
    "elevation": 22.0,
    "roll": 0.0,
    "fov": 40.0,
    "scale_factor": 7.4,
}

#: Near/far ratio: small enough for the 16-bit depth buffer of ``canvas.render()``
#: (a value of ~1e6, vispy's default, makes markers z-fight; see docs/rendering.md §4.1).
DEPTH_VALUE = 100.0


class OrbitCamera(TurntableCamera):
    """TurntableCamera that reports every change and pans with the middle button.

    Parameters
    ----------
    on_change : callable, optional
        Called (no arguments) whenever the view changes: drag, zoom, flight,
        resize.  The scene uses it for level of detail while moving.
    """

    def __init__(self, on_change: Callable[[], None] | None = None, **kwargs: Any) -> None:
        self._on_change = None  # vispy calls view_changed() during __init__
        kwargs.setdefault("fov", DEFAULT_STATE["fov"])
        super().__init__(**kwargs)
        self.depth_value = DEPTH_VALUE
        self._on_change = on_change
        self._pan_start: tuple[np.ndarray, tuple[float, float, float]] | None = None

    def view_changed(self) -> None:
        """vispy hook: the pose changed; notify, then let vispy update the transform."""
        super().view_changed()
        if self._on_change is not None:
            self._on_change()

    def viewbox_mouse_event(self, event) -> None:
        """Route mouse events: shift+left is not ours, middle-drag pans, the rest is vispy's turntable."""
        if event.handled or not self.interactive:
            return
        me = event.mouse_event
        if event.type == "mouse_move" and event.press_event is not None:
            if 1 in event.buttons and keys.SHIFT in me.modifiers:
                return  # rubber band
            if 1 in event.buttons and me.press_event is not None and keys.CONTROL in me.press_event.modifiers:
                return  # drag-to-link (the view's LinkDrag), even if Ctrl is let go on the way
            if 3 in event.buttons:
                self._pan(event)
                return
        if event.type == "mouse_release":
            self._pan_start = None
        super().viewbox_mouse_event(event)

    def _pan(self, event) -> None:
        # Same maths as vispy's shift+left translate, bound to the middle button.
        p1 = np.asarray(event.mouse_event.press_event.pos, dtype=float)
        p2 = np.asarray(event.mouse_event.pos, dtype=float)
        if self._pan_start is None:
            self._pan_start = (p1, tuple(self.center))
        norm = float(np.mean(self._viewbox.size))
        dist = (p1 - p2) / norm * self._scale_factor
        dist[1] *= -1
        dx, dy, dz = self._dist_to_trans(dist)
        ff = self._flip_factors
        up, forward, right = self._get_dim_vectors()
        dx, dy, dz = right * dx + forward * dy + up * dz
        c = self._pan_start[1]
        self.center = (c[0] + ff[0] * dx, c[1] + ff[1] * dy, c[2] + ff[2] * dz)

    # -- state ---------------------------------------------------------------------------
    def get_pose(self) -> dict[str, Any]:
        """JSON-friendly pose (for settings persistence)."""
        return {
            "center": [float(v) for v in self.center],
            "azimuth": float(self.azimuth),
            "elevation": float(self.elevation),
            "roll": float(self.roll),
            "fov": float(self.fov),
            "scale_factor": float(self.scale_factor),
        }

    def set_pose(self, state: dict[str, Any]) -> None:
        """Apply a pose from :meth:`get_pose`; unknown keys are ignored, bad values raise ``ValueError``."""
        def num(key: str) -> float | None:
            if key not in state:
                return None
            value = float(state[key])
            if not math.isfinite(value):
                raise ValueError(f"camera {key} must be finite")
            return value

        if "center" in state:
            center = tuple(float(v) for v in state["center"])
            if len(center) != 3 or not all(math.isfinite(v) for v in center):
                raise ValueError("camera center must be three finite numbers")
            self.center = center
        for key in ("azimuth", "elevation", "roll", "fov"):
            value = num(key)
            if value is not None:
                setattr(self, key, value)
        sf = num("scale_factor")
        if sf is not None:
            if sf <= 0:
                raise ValueError("camera scale_factor must be positive")
            self.scale_factor = sf
        self.view_changed()


def ease(t: float) -> float:
    """Smooth ease-in-out on ``[0, 1]`` (cubic smoothstep)."""
    t = min(1.0, max(0.0, t))
    return t * t * (3.0 - 2.0 * t)


def interpolate_pose(a: dict[str, Any], b: dict[str, Any], t: float) -> dict[str, Any]:
    """Pose between ``a`` and ``b`` at eased fraction ``t``; azimuth takes the short way round."""
    e = ease(t)
    out = dict(b)
    out["center"] = [float(x + (y - x) * e) for x, y in zip(a["center"], b["center"], strict=True)]
    for key in ("elevation", "roll", "fov"):
        out[key] = a[key] + (b[key] - a[key]) * e
    d_az = (b["azimuth"] - a["azimuth"] + 180.0) % 360.0 - 180.0
    out["azimuth"] = a["azimuth"] + d_az * e
    # Zoom geometrically so a big zoom change does not feel like a jump at the end.
    out["scale_factor"] = float(a["scale_factor"] * (b["scale_factor"] / a["scale_factor"]) ** e)
    return out
