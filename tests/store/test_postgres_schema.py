"""Fleet schema migrations: versioned in the package, idempotent, and required before a shared store opens."""

from __future__ import annotations

import psycopg
import pytest

from orchestrator_gui.problems import FormatError
from orchestrator_gui.store.postgres import PostgresGraphStore
from orchestrator_gui.store.postgres_schema import migrate, migrations


def test_migrate_creates_the_graph_tables_once_and_reports_the_version(fleet_dsn):
    numbers = [m.version for m in migrations()]
    assert numbers == sorted(numbers) and numbers[0] == 1
    assert migrate(fleet_dsn) == numbers[-1]
    assert migrate(fleet_dsn) == numbers[-1]  # a second run applies nothing and does not fail
    with psycopg.connect(fleet_dsn) as conn:
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        applied = [r[0] for r in conn.execute("SELECT version FROM schema_migrations ORDER BY version")]
    assert {"journal", "snapshot", "schema_migrations"} <= tables
    assert applied == numbers


def test_a_database_without_the_schema_is_refused_naming_fleet_init(fleet_dsn, tmp_path):
    with pytest.raises(FormatError, match="fleet init"):
        PostgresGraphStore.open(fleet_dsn, local_path=tmp_path / "graph.db", machine="m1")


def test_an_unreachable_database_is_a_clear_error_without_the_password(postgres, tmp_path):
    dsn = f"postgresql://someone:s3cret-pw@127.0.0.1:{postgres.port + 1}/nothing"
    with pytest.raises(FormatError) as err:
        PostgresGraphStore.open(dsn, local_path=tmp_path / "graph.db", machine="m1", connect_timeout_s=1)
    text = str(err.value) + err.value.file
    assert "cannot reach the fleet database" in text
    assert "s3cret" not in text
