"""Fleet tests: the session's PostgreSQL is stopped for real at the end (see ``fleet_setup.stop_server``)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session", autouse=True)
def _stop_postgres_for_real(postgres):
    yield
    from fleet_setup import stop_server

    if postgres.running and (postgres.data / "postmaster.pid").exists():
        stop_server(postgres)
