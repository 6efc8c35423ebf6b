"""Shared test fixtures: paths to the real-world fixture files and isolated settings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from shared_fixtures import LOCAL_DATA, REPO_ROOT, SHARED_FIXTURES, fixture, fixture_files  # noqa: F401

# Engine tests' parallelism must not depend on the machine's load (engine/concurrency.py adapts to it;
# tests/engine/test_concurrency.py sets the switch itself).
os.environ["ORCHESTRATOR_ADAPT_CONCURRENCY"] = "0"


@pytest.fixture(autouse=True)
def _isolate_user_dirs(tmp_path_factory, monkeypatch):
    """Keep user settings and data folders out of the real home directory."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))


@pytest.fixture(scope="session")
def postgres(tmp_path_factory):
    """A real PostgreSQL server for the whole session (fails, never skips, when it can't start)."""
    import shutil
    import tempfile

    from postgres_server import PostgresServer

    # Not under pytest's basetemp: that folder is 0700 and another pytest session resets it,
    # locking the server's own user (postgres, when we are root) out of its data folder.
    root = Path(tempfile.mkdtemp(prefix="orchestrator-pg-"))
    root.chmod(0o711)
    server = PostgresServer(root / "cluster")
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def fleet_dsn(postgres, request):
    """A DSN to a fresh, empty database on the session's PostgreSQL server."""
    import re
    import uuid

    stem = re.sub(r"[^a-z0-9_]", "_", request.node.name.lower())[:40]
    if not postgres.running:
        postgres.start()
    return postgres.create_database(f"t_{stem}_{uuid.uuid4().hex[:8]}")
