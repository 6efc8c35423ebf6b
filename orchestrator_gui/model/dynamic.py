"""Dynamic per-node values of a ThoughtGraph: activation, attention and flags (selection).

These live only in the node table's mirror columns.  The engine and the view
rewrite them many times a second, so they are set directly -- not through
transactions -- and are not undoable; they still emit (batched) events.
:class:`DynamicValues` is composed into
:class:`~orchestrator_gui.model.graph.ThoughtGraph`, which forwards its
``set_activation``/``set_attention``/``set_flags``/``select``/``selected_ids``
here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from orchestrator_gui.model.events import EventBatcher
from orchestrator_gui.model.node_table import NodeTable
from orchestrator_gui.model.nodes import NodeFlag


class DynamicValues:
    """Setters for the dynamic columns of ``nodes``, recording their events in ``batcher``.

    Parameters
    ----------
    nodes : NodeTable
        Whose ``activation``, ``attention`` and ``flags`` columns are set.
    batcher : EventBatcher
        Where the changes are recorded.
    """

    def __init__(self, nodes: NodeTable, batcher: EventBatcher) -> None:
        self._nodes = nodes
        self._batcher = batcher

    def _rows_arg(self, where: Any) -> np.ndarray | None:
        """``None`` (all rows), an int array of rows, or ids -> rows."""
        if where is None:
            return None
        if isinstance(where, np.ndarray) and where.dtype.kind in "iu":
            if len(where) and (where.min() < 0 or where.max() >= len(self._nodes)):
                raise IndexError("row out of range")
            return where
        if isinstance(where, str):
            where = [where]
        return self._nodes.rows(where)

    def _set(self, column: str, values: Any, where: Any) -> None:
        rows = self._rows_arg(where)
        arr = self._nodes.column(column)
        vals = np.asarray(values, dtype=arr.dtype)
        if not np.all(np.isfinite(vals)):
            raise ValueError(f"{column} values must be finite")
        if rows is None:
            arr[:] = vals
            self._batcher.record(column, None)
        else:
            arr[rows] = vals
            self._batcher.record(column, self._nodes.column("ids")[rows].tolist())

    def set_activation(self, values: Any, where: Any = None) -> None:
        """Set activation of all rows (``where=None``), of given rows (int array) or of given ids."""
        self._set("activation", values, where)

    def set_attention(self, values: Any, where: Any = None) -> None:
        """Set attention of all rows, given rows or given ids (like :meth:`set_activation`)."""
        self._set("attention", values, where)

    def set_flags(self, where: Any, mask: int | NodeFlag, on: bool = True) -> None:
        """Set (``on``) or clear the bits ``mask`` on the given rows or ids (``None``: all)."""
        rows = self._rows_arg(where)
        flags = self._nodes.column("flags")
        target = slice(None) if rows is None else rows
        before = flags[target].copy()
        if on:
            flags[target] |= np.uint32(mask)
        else:
            flags[target] &= ~np.uint32(mask)
        changed = np.flatnonzero(before != flags[target])
        if len(changed):
            changed_rows = changed if rows is None else rows[changed]
            with self._batcher.batch():
                self._batcher.record("flags", self._nodes.column("ids")[changed_rows].tolist())
                if int(mask) & NodeFlag.SELECTED:
                    self._batcher.record("selection")

    def select(self, ids: Iterable[str], mode: str = "replace") -> None:
        """Change the selection: ``replace``, ``add``, ``remove`` or ``toggle`` the given ids."""
        rows = self._nodes.rows(ids)
        with self._batcher.batch():
            if mode == "replace":
                keep = np.zeros(len(self._nodes), dtype=bool)
                keep[rows] = True
                self.set_flags(np.flatnonzero(~keep), NodeFlag.SELECTED, on=False)
                self.set_flags(rows, NodeFlag.SELECTED, on=True)
            elif mode == "add":
                self.set_flags(rows, NodeFlag.SELECTED, on=True)
            elif mode == "remove":
                self.set_flags(rows, NodeFlag.SELECTED, on=False)
            elif mode == "toggle":
                sel = (self._nodes.column("flags")[rows] & NodeFlag.SELECTED) != 0
                self.set_flags(rows[sel], NodeFlag.SELECTED, on=False)
                self.set_flags(rows[~sel], NodeFlag.SELECTED, on=True)
            else:
                raise ValueError(f"unknown selection mode {mode!r}")

    def selected_ids(self) -> tuple[str, ...]:
        """Ids of the selected nodes, in row order."""
        return self._nodes.ids_flagged(NodeFlag.SELECTED)
