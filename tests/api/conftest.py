"""Fixtures of the API tests (the helpers they use are in ``api_helpers``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from api_helpers import copy_demo, serve, stop


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return copy_demo(tmp_path / "ws")


@pytest.fixture
def served(workspace: Path):
    s = serve(workspace)
    try:
        yield s
    finally:
        stop(s)
