"""Fixtures of the store tests: a migrated fleet database and a factory of shared stores on it."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _reap_postgres_after_the_session(request):
    """As root, the session fixture's ``stop()`` leaves postgres running (``runuser`` does not pass the
    signal on; see ``pg_wait.stop_server``): a test that uses the server has it stopped for real at the end."""
    config = request.config
    if "postgres" in request.fixturenames and not getattr(config, "_fleet_pg_reaper", False):
        server = request.getfixturevalue("postgres")
        config._fleet_pg_reaper = True
        config.add_cleanup(lambda: _reap(server))


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


def _reap(server) -> None:
    import os
    import signal

    pid_file = server.data / "postmaster.pid"
    try:
        os.kill(int(pid_file.read_text().split("\n", 1)[0]), signal.SIGINT)
    except (OSError, ValueError):
        pass  # stopped already
