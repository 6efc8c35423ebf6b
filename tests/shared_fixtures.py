"""Paths to the real-world fixture files, importable from any test as ``shared_fixtures``.

This is a plain module rather than part of ``conftest.py``: with several
``conftest.py`` files in the tree, ``from conftest import …`` would resolve
to whichever one was imported first.
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
#: Real files from public projects, laid beside the repository (see ../shared/fixtures/SOURCES.md).
SHARED_FIXTURES = REPO_ROOT.parent / "shared" / "fixtures"
#: Small copies kept in the repository so the core tests also run without ../shared.
LOCAL_DATA = Path(__file__).resolve().parent / "data"


def fixture_files(kind: str, pattern: str = "*") -> list[Path]:
    """Return every shared fixture of one kind (``schedules``, ``todo``, ``memory``, ``timing``, ``roomodes``)."""
    folder = SHARED_FIXTURES / kind
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob(pattern) if p.is_file())


def fixture(kind: str, name_part: str) -> Path:
    """Return the one shared fixture of ``kind`` whose name contains ``name_part``."""
    matches = [p for p in fixture_files(kind) if name_part in p.name]
    if len(matches) != 1:
        pytest.skip(f"fixture {kind}/*{name_part}* not available ({len(matches)} matches)")
    return matches[0]
