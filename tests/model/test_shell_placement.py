"""The shared shell placer: spatial hash, spiral search, ShellPlanner rules, and the migration's alias."""

from __future__ import annotations

import math

import numpy as np

from orchestrator_gui.model import ThoughtGraph
from orchestrator_gui.model import operations as ops
from orchestrator_gui.model.coords import spiral_points, to_cartesian
from orchestrator_gui.model.nodes import SHELL_RADII, Layer
from orchestrator_gui.model.shell_placement import (
    BATCH,
    ShellPlanner,
    SphereHash,
    min_separation,
    spiral_search,
)


def unit_of(sph: tuple[float, float, float]) -> np.ndarray:
    return np.asarray(to_cartesian((sph[0], sph[1], 1.0)), dtype=float)


def test_hash_rejects_exactly_what_is_closer_than_sep():
    h = SphereHash(0.05)
    h.add((0.0, 0.0, 1.0))
    for angle, free in ((0.049, False), (0.051, True), (math.pi / 2, True)):
        assert h.free((math.sin(angle), 0.0, math.cos(angle))) is free


def test_spiral_search_skips_taken_slots_and_reports_exhaustion():
    center = np.array([0.0, 0.0, 1.0])
    h = SphereHash(0.02)
    slots = spiral_points(center, 0, 3, 0.02)
    for p in slots[:2].tolist():
        h.add(p)
    point, index = spiral_search(h, center, 0, 0.02, 1)
    assert index == 2 and np.array_equal(point, slots[2])
    crowded = SphereHash(3.0)  # one point blocks almost the whole sphere
    crowded.add((0.0, 0.0, -1.0))
    crowded.add((0.0, 0.0, 1.0))
    assert spiral_search(crowded, center, 5, 0.02, 2) is None


def test_planner_keeps_separation_and_is_deterministic():
    g = ThoughtGraph()
    g.apply(ops.add_thought(g, "root", kind="plan", node_id="root", now=0.0))

    def plan() -> list[tuple[float, float, float]]:
        sp = ShellPlanner(g, {Layer.NAVIGATION: 40})
        out = [sp.place(f"c{i}", Layer.NAVIGATION, parent="root") for i in range(20)]
        out += [sp.place(f"f{i}", Layer.NAVIGATION) for i in range(20)]
        return out

    first = plan()
    assert first == plan()
    assert {r for _, _, r in first} == {SHELL_RADII[Layer.NAVIGATION]}
    assert g.node("root").layer == Layer.NAVIGATION  # so the root counts on the same shell
    dirs = np.array([unit_of(s) for s in first] + [g.positions[0] / g.spherical[0, 2]])
    cos = dirs @ dirs.T
    np.fill_diagonal(cos, -1)
    assert math.acos(min(cos.max(), 1.0)) >= min_separation(len(dirs)) - 1e-9


def test_first_children_go_on_the_parent_spiral():
    g = ThoughtGraph()
    g.apply(ops.add_thought(g, "root", kind="plan", node_id="root", now=0.0))
    one = ShellPlanner(g, {Layer.NAVIGATION: 2})
    both = [unit_of(one.place(c, Layer.NAVIGATION, parent="root")) for c in "ab"]
    root = g.positions[0] / g.spherical[0, 2]
    sep = min_separation(3)
    for d in both:
        assert sep - 1e-9 <= math.acos(min(float(d @ root), 1.0)) < 3 * sep
    assert math.acos(min(float(both[0] @ both[1]), 1.0)) >= sep - 1e-9


def test_a_child_joins_the_middle_of_the_family_it_has_already():
    g = ThoughtGraph()
    g.apply(ops.add_thought(g, "Section", kind="plan", node_id="root", now=0.0))
    for i in range(8):
        g.apply(ops.add_thought(g, f"item {i}", kind="todo", parent="root", node_id=f"c{i}", now=1.0))
    kids = g.positions[g.rows_of([f"c{i}" for i in range(8)])] / SHELL_RADII[Layer.EXECUTION]
    family = np.vstack([kids, g.positions[g.row_of("root")] / g.spherical[g.row_of("root"), 2]])
    centre = family.sum(axis=0) / np.linalg.norm(family.sum(axis=0))
    planner = ShellPlanner(g, {Layer.EXECUTION: 2})
    new = [unit_of(planner.place(f"n{i}", Layer.EXECUTION, parent="root")) for i in range(2)]
    assert unit_of(ShellPlanner(g, {Layer.EXECUTION: 2}).place("n0", Layer.EXECUTION, parent="root")).tolist() \
        == new[0].tolist()  # a fresh planner gives the same spot
    rim = float(np.arccos(np.clip(kids @ centre, -1, 1)).max())
    sep = min_separation(10)
    for d in new:
        # Inside the family's patch, or just at its rim when the patch is packed (as Placer packs it) ...
        assert math.acos(min(float(d @ centre), 1.0)) < rim + sep
        assert math.acos(min(float((kids @ d).max()), 1.0)) >= sep - 1e-9  # ... without overlapping it
    assert math.acos(min(float(new[0] @ new[1]), 1.0)) >= sep - 1e-9


def test_migration_uses_the_model_placer():
    from orchestrator_gui.migration.place import ShellPlanner as MigrationPlanner

    assert MigrationPlanner is ShellPlanner
    assert BATCH > 0
