"""The fleet tests' PostgreSQL server really stops and starts again (a partition must cut something)."""

from __future__ import annotations

import psycopg
import pytest


def test_stop_cuts_every_connection_and_start_serves_again(postgres, fleet_dsn):
    with psycopg.connect(fleet_dsn, autocommit=True) as c:
        c.execute("create table t (x int)")
        c.execute("insert into t values (1)")
    postgres.stop()
    assert not postgres.running
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(fleet_dsn, connect_timeout=2)
    postgres.start()
    with psycopg.connect(fleet_dsn) as c:
        assert c.execute("select x from t").fetchall() == [(1,)]
