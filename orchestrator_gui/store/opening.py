"""Open a workspace's thought-graph store: the embedded SQLite file, or the fleet's PostgreSQL database.

The application layer resolves the fleet settings (``[fleet]`` of the
workspace config, see ``engine/fleet_config.py``) and passes them here; the
store layer does not read configuration itself, and what it returns is only
ever used through :class:`~orchestrator_gui.store.base.GraphStoreAPI`.
"""

from __future__ import annotations

import os
from typing import Any, Protocol

from orchestrator_gui.store.base import GraphStoreAPI


class FleetTarget(Protocol):
    """The part of the fleet settings the store needs (``engine.fleet_config.FleetSettings`` has it)."""

    dsn: str
    machine: str


def open_graph_store(workspace: str | os.PathLike[str], *, fleet: FleetTarget | None = None,
                     **kwargs: Any) -> GraphStoreAPI:
    """The store of ``workspace``: :class:`PostgresGraphStore` with ``fleet``, else :class:`GraphStore`.

    Parameters
    ----------
    workspace : path-like
        The workspace folder.
    fleet : FleetTarget, optional
        The fleet database and this machine's name; ``None`` (no ``[fleet]``) keeps the embedded default.
    **kwargs
        ``readonly``, ``snapshot_every``, ``keep_snapshots`` (both stores).

    Returns
    -------
    GraphStoreAPI

    Raises
    ------
    FormatError
        The store cannot be opened (damaged file, unreachable or uninitialised database).
    """
    if fleet is None:
        from orchestrator_gui.store.store import GraphStore

        return GraphStore.open_workspace(workspace, **kwargs)
    from orchestrator_gui.store.postgres import PostgresGraphStore

    return PostgresGraphStore.open_workspace(workspace, conninfo=fleet.dsn, machine=fleet.machine, **kwargs)


__all__ = ["FleetTarget", "open_graph_store"]
