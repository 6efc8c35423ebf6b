"""Big fresh builds: the linear-time layout above BULK_LAYOUT_NODES, and nodes made without per-node validation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError
from ws_helpers import demo_copy, origin_workspace

from orchestrator_gui.formats.workspace import Workspace
from orchestrator_gui.migration import build, build_graph
from orchestrator_gui.migration.extract import Item, check_metadata, read_workspace
from orchestrator_gui.model.layout import min_separation
from orchestrator_gui.model.nodes import LAYER_INDEX, SHELL_RADII, Layer, Node, NodeKind
from orchestrator_gui.model.shell_placement import patch_lattice

#: Fields Node validation fills in itself (layer and r from the kind; the rest are defaults).
DERIVED = ("layer", "r", "theta", "phi", "access_count", "last_activated", "score", "confidence", "history")


@pytest.fixture
def demo(tmp_path) -> Path:
    return demo_copy(tmp_path)


def unit(g, ids) -> np.ndarray:
    rows = g.rows_of(list(ids))
    return g.positions[rows] / g.spherical[rows, 2:3]


@pytest.mark.parametrize("make", [demo_copy, origin_workspace])
def test_nodes_equal_what_validation_makes(tmp_path, make):
    for group in read_workspace(Workspace.at(make(tmp_path))).values():
        for it in group:
            given = {k: v for k, v in it.node.__dict__.items() if k not in DERIVED}
            assert Node(**given) == it.node
            assert Node(**given).model_dump() == it.node.model_dump()


def test_bad_metadata_is_refused_as_node_validation_refuses_it():
    good = Node(id="a", kind=NodeKind.MEMORY, metadata={"x": 1})
    bad = good.model_copy(update={"metadata": {"x": float("nan")}})  # model_copy does not validate
    check_metadata([Item(good)])
    with pytest.raises(ValidationError) as got:
        check_metadata([Item(good), Item(bad)])
    with pytest.raises(ValidationError) as expected:
        Node(id="a", kind=NodeKind.MEMORY, metadata={"x": float("nan")})
    assert got.value.errors()[0]["msg"] == expected.value.errors()[0]["msg"]


def test_patch_lattice_is_even_and_local():
    for n in (0, 1, 2, 3, 500, 20_000):
        pts = patch_lattice(n)
        assert pts.shape == (n, 3) and np.allclose(np.linalg.norm(pts, axis=1), 1.0)
        if n > 2:
            dots = np.clip(pts @ pts.T, -1, 1) if n <= 500 else None
            if dots is not None:
                np.fill_diagonal(dots, -1)
                assert np.arccos(dots.max()) >= min_separation(n)
            step = np.arccos(np.clip(np.sum(pts[1:] * pts[:-1], axis=1), -1, 1))
            # consecutive points are neighbours: a run of them is a patch, not a ring round the sphere
            assert np.median(step) < 2.0 * np.sqrt(4 * np.pi / n)
    assert np.array_equal(patch_lattice(777), patch_lattice(777))


def test_a_build_above_the_threshold_gets_the_bulk_layout(demo, monkeypatch):
    monkeypatch.setattr(build, "BULK_LAYOUT_NODES", 10)
    g = build_graph(demo)
    again = build_graph(demo)
    for layer in Layer:
        rows = np.flatnonzero(g.layer_index == LAYER_INDEX[layer.value])
        if len(rows) < 2:
            continue
        assert np.allclose(g.spherical[rows, 2], SHELL_RADII[layer])
        u = g.positions[rows] / g.spherical[rows, 2:3]
        dots = np.clip(u @ u.T, -1, 1)
        np.fill_diagonal(dots, -1)
        assert np.arccos(dots.max()) >= min_separation(len(rows)) - 1e-9
    assert all(g.node(i).spherical == again.node(i).spherical for i in g.node_ids())  # deterministic
    # file order keeps a section's items together: closer to each other than to the rest of their shell
    todo = [n for n in g.nodes() if n.kind is NodeKind.TODO]
    parents = {e.dst: e.src for e in g.edges() if e.type.value == "parent"}
    sec = np.array([parents.get(n.id, "") for n in todo])
    u = unit(g, [n.id for n in todo])
    ang = np.arccos(np.clip(u @ u.T, -1, 1))
    same = (sec[:, None] == sec[None, :]) & ~np.eye(len(todo), dtype=bool)
    assert ang[same].mean() < 0.6 * ang[sec[:, None] != sec[None, :]].mean()


def test_a_build_below_the_threshold_is_unchanged(demo, monkeypatch):
    small = build_graph(demo)
    monkeypatch.setattr(build, "_bulk_placed", lambda *a: pytest.fail("bulk layout used below the threshold"))
    again = build_graph(demo)
    assert json.dumps([small.node(i).spherical for i in small.node_ids()]) == \
        json.dumps([again.node(i).spherical for i in again.node_ids()])
