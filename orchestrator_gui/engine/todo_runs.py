"""Run a TODO.md item as an agent task, and check it off afterwards if the user asked for that.

The task's instructions are the item's text followed by its detail lines
(dedented), its priority is ``todo`` (after schedules, before transforms),
and its subject id is the item's stable key (the thought graph's
``item/<hash>`` key, see :func:`~orchestrator_gui.model.identity.todo_item_key`),
so failures, escalation and the graph all refer to the same item.

Checking off is opt-in: ``[todo] check_off_on_success = true`` in
``.orchestrator/config.toml``, or per item in ``[todos."<key or text>"]``.
Only a *completed* run that really ran (not a dry run) checks the item off.
Agents edit TODO.md while they run, so the item is found again by its key
(its text and position among equal texts) rather than by its old line, and
the one-byte edit is retried when the file changes under us.
"""

from __future__ import annotations

import os
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestrator_gui.engine.tasks import RunResult, Task, todo_task
from orchestrator_gui.formats.todo import load_todo
from orchestrator_gui.formats.workspace import TODO
from orchestrator_gui.model.identity import todo_item_key, todo_item_keys
from orchestrator_gui.problems import ConflictError, FormatError

_ATTEMPTS = 5


def todo_instructions(text: str, details: list[str]) -> str:
    """The instructions of a TODO task: the item's text, then its details (dedented, blank edges trimmed)."""
    body = textwrap.dedent("\n".join(details)).strip("\n")
    return f"{text}\n{body}" if body else text


@dataclass
class TodoRun:
    """A TODO item handed to the engine.

    Attributes
    ----------
    line, key, text : int, str, str
        The item as it was when the run started.
    task : Task
    handle : TaskHandle or None
    check_off : bool
        Whether a completed run checks the item off.
    checked : bool or None
        After :meth:`finish`: True when the item was checked off, False when
        that was wanted but not done, None when not wanted.
    note : str or None
        Why it was not checked off (or that it already was).
    """

    line: int
    key: str
    text: str
    task: Task
    handle: Any = None
    check_off: bool = False
    checked: bool | None = None
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        res: RunResult | None = self.handle.result(0) if self.handle is not None and self.handle.done() else None
        return {"line": self.line, "key": self.key, "text": self.text, "task_id": self.task.task_id,
                "check_off": self.check_off, "checked": self.checked, "note": self.note,
                "result": res.model_dump(mode="json") if res is not None else None}


def prepare_todo_run(root: str | os.PathLike[str], line: int, *, mode: str = "code",
                     check_off: bool = False) -> TodoRun:
    """Build the task for the item on ``line`` of ``<root>/TODO.md``.

    Raises
    ------
    FormatError
        No TODO.md, or no checklist item on that line.
    """
    path = Path(root) / TODO
    doc = load_todo(path)
    item = next((it for it in doc.items if it.line == line), None)
    if item is None:
        raise FormatError(str(path), f"no checklist item on line {line}", line=line if line > 0 else None)
    key = todo_item_key(doc.items, line)
    task = todo_task(key, item.text, mode=mode, instructions=todo_instructions(item.text, item.details),
                     meta={"line": line, "todo_key": key})
    run = TodoRun(line=line, key=key, text=item.text, task=task, check_off=check_off)
    if item.state == "done":
        run.note = "the item was already checked when the run started"
    return run


def check_off(root: str | os.PathLike[str], key: str, *, attempts: int = _ATTEMPTS) -> tuple[bool, str | None]:
    """Check off the item with ``key`` (one byte changes); returns ``(done, why not)``.

    Already-checked items count as done. The file is re-read on every
    attempt, so edits made by agents meanwhile are kept.
    """
    path = Path(root) / TODO
    why: str | None = None
    for _ in range(max(1, attempts)):
        try:
            doc = load_todo(path)
            keys = todo_item_keys(doc.items)
            item = next((it for it in doc.items if keys[it.line] == key), None)
            if item is None:
                return False, f"{path}: the item is gone or was reworded while it ran; not checked off"
            if item.state == "done":
                return True, None
            doc.check(item.line)
            doc.save()
            return True, None
        except ConflictError as exc:
            why = f"{exc} (changed on disk {attempts} times)"
            continue
        except FormatError as exc:
            return False, str(exc)
    return False, why


def finish(run: TodoRun, root: str | os.PathLike[str], result: RunResult) -> None:
    """After the run: check the item off when wanted and the run really completed."""
    if not run.check_off:
        return
    if result.status != "completed":
        run.checked, run.note = False, f"not checked off: the run ended {result.status}"
        return
    if result.dry_run:
        run.checked, run.note = False, "not checked off: dry run, nothing was done"
        return
    run.checked, why = check_off(root, run.key)
    if why:
        run.note = why


__all__ = ["TodoRun", "check_off", "finish", "prepare_todo_run", "todo_instructions"]
