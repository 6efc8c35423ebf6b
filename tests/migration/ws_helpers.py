"""Workspaces for the migration tests: the demo and the origin project's files, copied to a temp folder."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from shared_fixtures import fixture

from orchestrator_gui.cli.main import main
from orchestrator_gui.demo import BUNDLED_DEMO

#: Origin-project fixture (kind, name part) -> place in the workspace.
ORIGIN_FILES = {
    ("schedules", "a1a74f8f"): ".roo/schedules.json",
    ("todo", "TODO__e0af0f6f"): "TODO.md",
    ("memory", "persistent-memory__e0af0f6f"): "persistent-memory.md",
    ("timing", "task_timing__e0af0f6f"): "task_timing.tsv",
    ("roomodes", "34367220"): ".roomodes",
}


def origin_workspace(tmp_path: Path) -> Path:
    """A workspace assembled from the origin project's fixture files (writable copies)."""
    root = tmp_path / "origin"
    (root / ".roo").mkdir(parents=True)
    for (kind, part), rel in ORIGIN_FILES.items():
        shutil.copyfile(fixture(kind, part), root / rel)  # copyfile: the fixtures are read-only
    return root


def demo_copy(tmp_path: Path) -> Path:
    """A writable copy of the bundled demo workspace."""
    root = tmp_path / "demo"
    shutil.copytree(BUNDLED_DEMO, root)
    for p in root.rglob("*"):
        p.chmod(p.stat().st_mode | 0o200)
    return root


def tree_hashes(root: Path) -> dict[str, str]:
    """SHA-256 of every file under ``root`` by relative path."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def cli_json(capsys, *argv: str):
    """Run the CLI with ``--json`` and return its parsed stdout."""
    capsys.readouterr()
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)
