"""Screen-space label placement and display text: pure numpy checks, no GL.

The placer's promises are checked as properties over random layouts (up to
10k points), random texts (very long ones, emoji, CJK) and canvases down to
200x150: shown boxes never overlap, never leave the canvas, never cover a
labelled node's centre, and forced labels are kept when they fit.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestrator_gui.model.display import display_text, strip_markdown, strip_pictographs
from orchestrator_gui.model.graph import ThoughtGraph
from orchestrator_gui.render import arrays
from orchestrator_gui.render.labels import (
    ELLIPSIS,
    MARGIN,
    SIDES,
    approx_width,
    elide,
    label_budget,
    place_labels,
)

WORDS = ["TW-012", "Parser", "rejects", "constituent", "files", "\U0001f501", "合併", "→", "**bold**", "`code`",
         "x" * 120, "Loop", "heartbeat", "\U0001f3d7\ufe0f", "a", ""]


def overlapping_pairs(rects: np.ndarray) -> int:
    """Pairs of boxes whose interiors intersect (brute force, O(k^2))."""
    x0, y0, x1, y1 = (rects[:, k] for k in range(4))
    ov = (x0[:, None] < x1[None]) & (x0[None] < x1[:, None]) & (y0[:, None] < y1[None]) & (y0[None] < y1[:, None])
    np.fill_diagonal(ov, False)
    return int(ov.sum() // 2)


def random_layout(seed: int, n: int, size: tuple[int, int], spread: float):
    """``n`` points in a blob around the canvas centre (some outside, some NaN) and random texts."""
    rng = np.random.default_rng(seed)
    w, h = size
    xy = np.column_stack([w / 2 + spread * w * rng.normal(size=n), h / 2 + spread * h * rng.normal(size=n)])
    xy[rng.random(n) < 0.02] = np.nan  # behind the camera
    texts = [" ".join(rng.choice(WORDS, size=rng.integers(1, 6))) for _ in range(n)]
    return xy, texts, rng


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.sampled_from([0, 1, 2, 5, 40, 300, 2000, 10_000]),
    size=st.tuples(st.integers(200, 1600), st.integers(150, 1000)),
    spread=st.floats(0.02, 0.8),
    radius=st.floats(0.0, 12.0),
    n_forced=st.integers(0, 6),
    with_obstacles=st.booleans(),
)
def test_shown_labels_never_overlap_and_stay_inside(seed, n, size, spread, radius, n_forced, with_obstacles):
    xy, texts, rng = random_layout(seed, n, size, spread)
    texts = [display_text(t) for t in texts]
    forced = np.zeros(n, dtype=bool)
    forced[:n_forced] = True
    obstacles = xy[rng.random(n) < 0.5] if with_obstacles and n else None
    placed = place_labels(xy, texts, size, forced=forced, radius=radius, obstacles=obstacles)
    keep = placed.keep
    rects = placed.rects[keep]
    w, h = size
    assert overlapping_pairs(rects) == 0
    assert (rects[:, 0] >= MARGIN).all() and (rects[:, 1] >= MARGIN).all()
    assert (rects[:, 2] <= w - MARGIN).all() and (rects[:, 3] <= h - MARGIN).all()
    assert np.isnan(placed.rects[~keep]).all()
    # Only on-screen nodes get a label, with text, a known side and a box as wide as that text.
    assert not keep[~np.isfinite(xy).all(axis=1)].any()
    for i in placed.shown:
        assert placed.texts[i] and 0 <= placed.sides[i] < len(SIDES)
        assert placed.rects[i, 2] - placed.rects[i, 0] == np.ceil(approx_width(placed.texts[i]))
        assert placed.texts[i] == texts[i] or placed.texts[i].endswith(ELLIPSIS)
    # No label covers the centre of a labelled node (its own included) -- except that a forced label
    # with no other room may cover another forced node (two hovered/selected nodes on top of each other).
    centres, fk = xy[keep], forced[keep]
    inside = ((centres[:, None, 0] >= rects[None, :, 0]) & (centres[:, None, 0] < rects[None, :, 2])
              & (centres[:, None, 1] >= rects[None, :, 1]) & (centres[:, None, 1] < rects[None, :, 3]))
    assert not (inside & ~(fk[:, None] & fk[None, :])).any()
    if obstacles is not None:
        # Labels that are not forced never cover another visible node (obstacle) either.
        free = rects[~forced[keep]]
        pts = obstacles[np.isfinite(obstacles).all(axis=1)].astype(np.int64)
        hits = ((pts[:, None, 0] >= free[None, :, 0]) & (pts[:, None, 0] < free[None, :, 2])
                & (pts[:, None, 1] >= free[None, :, 1]) & (pts[:, None, 1] < free[None, :, 3]))
        assert not hits.any()


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    size=st.tuples(st.integers(200, 1600), st.integers(150, 1000)),
    text=st.text(min_size=1, max_size=200).filter(lambda t: t.strip()),
)
def test_a_forced_label_is_kept_whenever_it_fits(seed, size, text):
    rng = np.random.default_rng(seed)
    w, h = size
    n = 200
    xy = np.column_stack([rng.uniform(0, w, n), rng.uniform(0, h, n)])
    xy[0] = (rng.uniform(30, w - 30), rng.uniform(30, h - 30))  # the forced node, well inside the canvas
    texts = [text] + ["neighbour label"] * (n - 1)
    forced = np.zeros(n, dtype=bool)
    forced[0] = True
    placed = place_labels(xy, texts, size, forced=forced, radius=6.0)
    assert placed.keep[0]
    assert placed.texts[0] == text or placed.texts[0].endswith(ELLIPSIS)


def test_forced_labels_come_first_and_others_avoid_their_discs():
    xy = np.array([[300.0, 200.0], [310.0, 200.0], [100.0, 100.0]])
    placed = place_labels(xy, ["other", "forced", "far"], (600, 400), forced=[False, True, False], radius=6.0)
    assert placed.keep[1] and placed.keep[2]
    # 'other' sits 10 px from the forced node: wherever it went, it covers neither disc centre.
    if placed.keep[0]:
        r = placed.rects[0]
        for x, y in xy[:2]:
            assert not (r[0] <= x < r[2] and r[1] <= y < r[3])


def test_long_text_is_elided_at_the_canvas_edge():
    text = "TW-012 Parser rejects constituent files with Windows line endings"
    # Node near the right edge of a narrow canvas, its left side blocked by a forced label.
    xy = np.array([[180.0, 75.0], [60.0, 75.0]])
    placed = place_labels(xy, [text, "blocker blocker"], (200, 150), forced=[True, True], radius=4.0)
    assert placed.keep[0]
    shown = placed.texts[0]
    assert shown.endswith(ELLIPSIS) and len(shown) < len(text)
    assert text.startswith(shown[:-1].rstrip())
    assert placed.rects[0, 2] <= 200 - MARGIN


def test_elide():
    assert elide("short", 100) == "short"
    cut = elide("x" * 100, 60)
    assert cut.endswith(ELLIPSIS) and approx_width(cut) <= 60
    assert elide("abcdef", 5) == ""  # not even a few characters fit
    cut = elide("spaced words here", 70)
    assert cut.endswith(ELLIPSIS) and not cut[:-1].endswith(" ")  # no space before the ellipsis


def test_max_width_elides_and_forced_labels_get_more_room():
    text = "word " * 60
    xy = np.array([[400.0, 300.0], [400.0, 100.0]])
    placed = place_labels(xy, [text, text], (1600, 1000), forced=[False, True], max_width=200,
                          forced_max_width=400)
    assert placed.keep.all()
    widths = placed.rects[:, 2] - placed.rects[:, 0]
    assert widths[0] <= 200 < widths[1] <= 400
    assert all(t.endswith(ELLIPSIS) for t in placed.texts)


def test_labels_move_around_their_node_when_the_right_is_taken():
    # Two nodes side by side: the second's right-hand label would overlap the first's.
    xy = np.array([[200.0, 200.0], [150.0, 200.0]])
    placed = place_labels(xy, ["first label", "second label"], (600, 400), radius=5.0)
    assert placed.keep.all()
    assert SIDES[placed.sides[0]] == "right" and SIDES[placed.sides[1]] != "right"


def test_preferred_side_is_kept_when_free():
    xy = np.array([[300.0, 200.0]])
    placed = place_labels(xy, ["label"], (600, 400), prefer=np.array([SIDES.index("below")]))
    assert SIDES[placed.sides[0]] == "below"
    r = placed.rects[0]
    assert r[1] > 200  # below the node, clear of its disc


def test_reserved_boxes_stay_free():
    xy = np.array([[300.0, 200.0]])
    right_of_node = np.array([[305.0, 180.0, 600.0, 220.0]])
    placed = place_labels(xy, ["label"], (600, 400), radius=4.0, reserved=right_of_node)
    r = placed.rects[0]
    assert placed.keep[0] and (r[2] <= 305 or r[3] <= 180 or r[1] >= 220)


def test_canvas_too_small_shows_nothing_and_empty_input_is_fine():
    assert not place_labels(np.array([[5.0, 5.0]]), ["a"], (3, 3)).keep.any()
    empty = place_labels(np.zeros((0, 2)), [], (800, 600))
    assert empty.keep.shape == (0,) and empty.rects.shape == (0, 4)


def test_budget_grows_with_spread_and_density():
    rng = np.random.default_rng(3)
    pts = rng.normal(size=(5000, 2))
    far = label_budget(np.column_stack([800 + 20 * pts[:, 0], 500 + 20 * pts[:, 1]]), (1600, 1000))
    near = label_budget(np.column_stack([800 + 300 * pts[:, 0], 500 + 300 * pts[:, 1]]), (1600, 1000))
    assert 0 < far < near  # zooming in spreads the nodes over more label slots
    base = np.column_stack([800 + 300 * pts[:, 0], 500 + 300 * pts[:, 1]])
    assert label_budget(base, (1600, 1000), 0.25) < label_budget(base, (1600, 1000), 1) < \
        label_budget(base, (1600, 1000), 4)
    assert label_budget(np.full((3, 2), np.nan), (800, 600)) == 0


def test_placement_of_ten_thousand_candidates_is_exact_and_bounded():
    # Not a timing test (that is the benchmark's job): the grid keeps a 10k-candidate pass linear.
    xy, texts, _ = random_layout(11, 10_000, (1600, 1000), 0.25)
    placed = place_labels(xy, texts, (1600, 1000), radius=4.0)
    assert 50 < placed.keep.sum() < 10_000
    assert overlapping_pairs(placed.rects[placed.keep]) == 0


# -- display text ---------------------------------------------------------------------------------
@pytest.mark.parametrize("raw, shown", [
    ("**TW-012 Parser rejec", "TW-012 Parser rejec"),
    ("- **Finding**: strip `\\r`", "Finding: strip \\r"),
    ("Fix `__init__.py` __now__", "Fix __init__.py now"),
    ("[docs](http://example.org) and ~~old~~ *new* _em_", "docs and old new em"),
    ("snake_case_name and 2 * 3 * 4", "snake_case_name and 2 * 3 * 4"),
    ("# Heading\n  with a line break", "Heading with a line break"),
    ("\U0001f501 Loop Orchestrator", "Loop Orchestrator"),
    ("\U0001f3d7\ufe0f Architect \U0001f44d\U0001f3fd", "Architect"),
    ("\U0001f1eb\U0001f1f7 1\ufe0f\u20e3 first", "1 first"),
    ("合併 feature → master", "合併 feature → master"),
    ("", ""),
])
def test_display_text(raw, shown):
    out = display_text(raw)
    assert out == shown
    assert "**" not in out and "`" not in out and "\n" not in out


def test_font_check_replaces_missing_symbols():
    lacks_arrows = lambda ch: ch != "→"  # noqa: E731
    assert strip_pictographs("a → b", lacks_arrows) == "a -> b"
    assert strip_pictographs("ok \u2705", lambda ch: True) == "ok \u2705"  # the font has it: kept
    assert strip_markdown("**a** `b`") == "a b"


def test_label_candidates_show_clean_titles_and_rank_activation_first():
    g = ThoughtGraph.from_arrays(
        ["a", "b", "c"], ["goal", "task", "task"], titles=["**Bold** `code`", "Second", "Third"],
        activation=[0.0, 0.0, 0.9], attention=[0.0, 0.8, 0.0], now=0.0)
    cands = arrays.label_candidates(g, top_k=3)
    assert [i for i, _, _ in cands] == ["c", "b", "a"]  # activation, then attention, then the rest
    assert dict((i, t) for i, t, _ in cands)["a"] == "Bold code"
    rows, n_forced = arrays.label_rows(g, 1, ["a"], "b", visible=np.array([False, False, True]))
    assert rows.tolist() == [1, 0, 2] and n_forced == 2  # hovered, selected, then the visible best


def test_a_reserved_box_off_the_canvas_reserves_nothing_on_it():
    # A box wholly above the canvas (a shell name the camera has left behind) once became a
    # negative slice end and blocked every row, so even the hovered label found no place.
    xy = np.array([[400.0, 300.0]])
    off = np.array([[200.0, -190.0, 240.0, -157.0], [-150.0, -386.0, -85.0, -354.0]])
    placed = place_labels(xy, ["Loop Orchestrator"], (800, 600), forced=[True], reserved=off)
    assert placed.keep[0]
    placed = place_labels(xy, ["Loop Orchestrator"], (800, 600), forced=[False], reserved=off)
    assert placed.keep[0]
