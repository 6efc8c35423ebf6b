"""A new workspace: the four files Roo's loop needs, in the formats their owners write (``init``, the app's
"Create a workspace here").

Nothing is ever overwritten: a folder that already holds any of the files is refused whole.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from orchestrator_gui.formats.fileio import atomic_write
from orchestrator_gui.formats.jsonpos import stringify
from orchestrator_gui.formats.nextrun import iso_ms, to_ms
from orchestrator_gui.formats.schedules import new_schedule
from orchestrator_gui.formats.workspace import MEMORY, SCHEDULES, TIMING, TODO


def init_files(now: datetime) -> dict[Path, bytes]:
    """The files of a new workspace, in the formats their owners write."""
    stamp = iso_ms(to_ms(now))
    sched = new_schedule(
        str(to_ms(now)), "Work through TODO.md", "code",
        "Read TODO.md, pick the first open item, do it, check it off, and log what you did "
        "in persistent-memory.md and task_timing.tsv.",
        "1", "hour", stamp, "Code",
    )
    schedules = stringify({"schedules": [sched]})  # the extension writes no final newline
    todo = (
        "# TODO\n\n"
        "## Next\n\n"
        "- [ ] Describe the project goal in this file\n"
        "  - **Note**: agents pick the first open item\n"
        "- [ ] Configure the schedule in .roo/schedules.json\n"
    )
    memory = (
        "# Non-Obvious Implementation Patterns\n\n"
        "# Development & Debug Commands\n\n"
        "# System Updates & Status\n\n"
        f"## [{stamp}] [orchestrator] - [workspace_init]\n"
        "- **Finding**: Workspace created by orchestrator-gui init\n"
    )
    timing = "timestamp\tmode\ttask_id\tstart_time\tend_time\tduration\ttask\tresult\tpriority\n"
    return {SCHEDULES: schedules.encode(), TODO: todo.encode(), MEMORY: memory.encode(), TIMING: timing.encode()}


def init_workspace(root: str | Path, now: datetime) -> list[Path]:
    """Create the workspace files in ``root`` (made if missing); return their paths.

    Raises
    ------
    NotADirectoryError
        ``root`` exists and is not a folder.
    FileExistsError
        Any of the files exists already (nothing is written then).
    """
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise NotADirectoryError(f"{root}: exists and is not a folder")
    files = init_files(now)
    existing = [str(root / rel) for rel in files if (root / rel).exists()]
    if existing:
        raise FileExistsError("refusing to overwrite existing files: " + ", ".join(existing))
    for rel, data in files.items():
        atomic_write(root / rel, data, expected=None, create=True)
    return [root / rel for rel in files]


__all__ = ["init_files", "init_workspace"]
