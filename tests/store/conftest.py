"""Fixtures of the store tests: a migrated fleet database and a factory of shared stores on it."""

from __future__ import annotations

import pytest


@pytest.fixture
def fleet_db(fleet_dsn):
    """A fresh database on the session's real PostgreSQL server, with the fleet schema."""
    from orchestrator_gui.store.postgres_schema import migrate

    migrate(fleet_dsn)
    return fleet_dsn


@pytest.fixture
def open_pg(fleet_db, tmp_path):
    """``open_pg(machine)``: a PostgresGraphStore on ``fleet_db`` with its own local folder; closed afterwards."""
    from orchestrator_gui.store.postgres import PostgresGraphStore

    opened = []

    def factory(machine: str, **kwargs):
        store = PostgresGraphStore.open(fleet_db, local_path=tmp_path / machine / "graph.db", machine=machine,
                                        **kwargs)
        opened.append(store)
        return store

    yield factory
    for store in opened:
        store.close()

