"""Shared test fixtures: paths to the real-world fixture files and isolated settings."""

from __future__ import annotations

import pytest
from shared_fixtures import LOCAL_DATA, REPO_ROOT, SHARED_FIXTURES, fixture, fixture_files  # noqa: F401


@pytest.fixture(autouse=True)
def _isolate_user_dirs(tmp_path_factory, monkeypatch):
    """Keep user settings and data folders out of the real home directory."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
