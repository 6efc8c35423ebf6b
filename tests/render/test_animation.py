"""Animation maths and the animator's start/stop discipline (no GL, fake clock and timer)."""

from __future__ import annotations

import numpy as np
import pytest

from orchestrator_gui.render.animation import Animator, NodeAnimation, node_frame
from orchestrator_gui.render.camera import ease, interpolate_pose


def test_ease_endpoints_and_monotonic():
    ts = np.linspace(0, 1, 11)
    vals = [ease(t) for t in ts]
    assert vals[0] == 0 and vals[-1] == 1 and vals == sorted(vals)
    assert ease(-1) == 0 and ease(2) == 1


def test_node_frame_goes_from_start_to_end():
    start = np.zeros((2, 3))
    end = np.array([[1.0, 0, 0], [0, 2.0, 0]])
    anim = NodeAnimation(["a", "b"], start, end, 0.2, 1.0, duration=1.0, t0=10.0, fade=0.25)
    pos, scale, alpha = node_frame(anim, 10.0)
    assert np.allclose(pos, start) and scale == pytest.approx(0.2) and alpha == pytest.approx(1.0)
    pos, scale, alpha = node_frame(anim, 10.5)
    assert np.allclose(pos, end * 0.5) and scale == pytest.approx(0.6) and alpha == pytest.approx(0.625)
    pos, scale, alpha = node_frame(anim, 99.0)
    assert np.allclose(pos, end) and scale == 1.0 and alpha == pytest.approx(0.25)


def test_pose_interpolation_takes_short_way_round_and_zooms_geometrically():
    a = {"center": [0, 0, 0], "azimuth": 350.0, "elevation": 0.0, "roll": 0.0, "fov": 40.0, "scale_factor": 8.0}
    b = {"center": [2, 0, 0], "azimuth": 10.0, "elevation": 20.0, "roll": 0.0, "fov": 40.0, "scale_factor": 2.0}
    mid = interpolate_pose(a, b, 0.5)
    assert mid["azimuth"] == pytest.approx(360.0)  # through 0, not back through 180
    assert mid["scale_factor"] == pytest.approx(4.0)
    assert mid["center"] == pytest.approx([1, 0, 0])
    assert interpolate_pose(a, b, 1.0)["scale_factor"] == pytest.approx(2.0)


class FakeTimer:
    def __init__(self, cb):
        self.cb, self.running, self.starts = cb, False, 0

    def start(self):
        self.running, self.starts = True, self.starts + 1

    def stop(self):
        self.running = False


def test_animator_runs_only_while_busy():
    now = [0.0]
    remaining = [3]

    def on_frame(t):
        remaining[0] -= 1
        return remaining[0] > 0

    timers = []
    anim = Animator(make_timer=lambda cb: timers.append(FakeTimer(cb)) or timers[-1], on_frame=on_frame,
                    clock=lambda: now[0])
    anim.kick()
    anim.kick()  # idempotent while running
    assert len(timers) == 1 and timers[0].running and timers[0].starts == 1
    for _ in range(3):
        timers[0].cb()
    assert not timers[0].running and not anim.running and anim.frames == 3


class _Graph:
    """The few graph reads an animation frame makes (ids -> rows, positions, edge count)."""

    def __init__(self, n: int) -> None:
        self.ids = [f"n{i}" for i in range(n)]
        self.positions = np.arange(3 * n, dtype=np.float32).reshape(n, 3)

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, node_id: str) -> bool:
        return node_id in self.ids

    def rows_of(self, ids):
        return np.array([self.ids.index(i) for i in ids], dtype=np.int64)

    def number_of_edges(self) -> int:
        return 0


class _Patched:
    def __init__(self) -> None:
        self.calls: list[str] = []
        self.buffers = type("B", (), {"n": 0})()

    def patch(self, name, rows, values) -> None:
        self.calls.append(name)


def _scene(n: int):
    from orchestrator_gui.render.scene_motion import MotionMixin

    class Scene(MotionMixin):
        def __init__(self) -> None:
            self.graph = _Graph(n)
            self._pos = self.graph.positions.copy()
            self._sizes = np.ones(n, np.float32)
            self._colors = np.ones((n, 4), np.float32)
            self._dirty: set[str] = set()
            self._flush_timer = FakeTimer(None)
            self._flight = None
            self._anims: list[NodeAnimation] = []
            self._after_flush: list = []
            self._hold_draw = False
            self.nodes, self.edges = _Patched(), _Patched()
            self.canvas = type("C", (), {"update": lambda self: None})()
            self.pushed: list[np.ndarray] = []

        def _busy(self) -> None:
            pass

        def _push_positions(self, rows) -> None:
            self.pushed.append(np.asarray(rows))

    return Scene()


def test_a_frame_waits_while_the_graph_has_rows_the_buffers_lack():
    scene = _scene(4)
    kids = ["n2", "n3"]
    start = np.zeros((2, 3), np.float32)
    scene._anims.append(NodeAnimation(kids, start, scene.graph.positions[2:].copy(), 0.2, 1.0, 1.0, 0.0))
    # a transform lands: the graph grows, the buffers (self._pos) do not until the next flush
    scene.graph.ids += ["n4", "n5"]
    scene.graph.positions = np.arange(18, dtype=np.float32).reshape(6, 3)
    scene._dirty.add("append")
    assert scene._frame_step(0.5) is True  # still animating
    assert scene.pushed == [] and scene.nodes.calls == []  # nothing indexed past the buffers
    assert scene._flush_timer.running
    # the flush brings the buffers level; the next frame catches up with the clock and ends in place
    scene._pos = scene.graph.positions.copy()
    scene._sizes, scene._colors = np.ones(6, np.float32), np.ones((6, 4), np.float32)
    scene._dirty.clear()
    scene._pos[2:4] = 0.0
    assert scene._frame_step(2.0) is False
    assert np.allclose(scene._pos, scene.graph.positions)
    assert scene.pushed and set(scene.pushed[-1].tolist()) == {2, 3}
