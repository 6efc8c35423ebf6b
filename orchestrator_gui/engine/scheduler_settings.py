"""Settings of the scheduler and of TODO runs, and the activity of our runs.

The engine's own config model (:mod:`.config`) covers the runner, limits and
timeouts; these tables live in the same ``.orchestrator/config.toml`` and are
read here from the raw TOML, with the same ``FILE:LINE`` errors::

    [scheduler]
    missed = "once"            # missed-run policy: "once" (default, as Roo), "skip" or "all"
    missed_grace_s = 120       # a due time this late still counts as on time
    max_backfill = 24          # most catch-up runs of one schedule under "all"
    tick_s = 1.0               # how often the loop looks at the schedules

    [todo]
    check_off_on_success = false   # check a TODO item off when its run completes
    mode = "code"                  # mode of TODO runs

    [todos."<item key or exact item text>"]
    check_off_on_success = true    # per-item override
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from orchestrator_gui.engine.config import RUNS_DIR, SchedulerSettings, TodoSettings, config_path, read_config
from orchestrator_gui.problems import FormatError


def _section(cf: Any, name: str, model: type[BaseModel], data: Any) -> Any:
    try:
        return model.model_validate(data if data is not None else {})
    except ValidationError as exc:
        e = exc.errors(include_url=False)[0]
        loc = (name, *e["loc"])
        raise FormatError(cf.name, f"{'.'.join(map(str, loc))}: {e['msg']} (got {e.get('input')!r})",
                          line=cf.line_of(loc)) from None


@dataclass(frozen=True)
class EngineSettings:
    """Our scheduler and TODO settings, read from the raw config (the engine ignores these tables)."""

    scheduler: SchedulerSettings = field(default_factory=SchedulerSettings)
    todo: TodoSettings = field(default_factory=TodoSettings)
    #: ``[todos."<key>"] check_off_on_success`` per TODO item key or exact item text.
    check_off: dict[str, bool] = field(default_factory=dict)

    def check_off_for(self, *keys: str | None) -> bool:
        """Whether to check a TODO item off after a successful run (per-item override first)."""
        for k in keys:
            if k is not None and k in self.check_off:
                return self.check_off[k]
        return self.todo.check_off_on_success


def load_settings(root: str | os.PathLike[str]) -> EngineSettings:
    """Read ``[scheduler]``, ``[todo]`` and per-item check-off flags; defaults when the file is absent.

    Raises
    ------
    FormatError
        A bad value, with the file and line (like the rest of the config).
    """
    path = config_path(root)
    if not os.path.lexists(path):
        return EngineSettings()
    cf = read_config(path)
    raw = cf.raw
    sched = _section(cf, "scheduler", SchedulerSettings, raw.get("scheduler"))
    todo = _section(cf, "todo", TodoSettings, raw.get("todo"))
    check_off: dict[str, bool] = {}
    todos = raw.get("todos")
    if isinstance(todos, dict):
        for key, table in todos.items():
            if isinstance(table, dict) and "check_off_on_success" in table:
                value = table["check_off_on_success"]
                if not isinstance(value, bool):
                    loc = ("todos", key, "check_off_on_success")
                    raise FormatError(cf.name, f"todos.\"{key}\".check_off_on_success must be true or false "
                                               f"(got {value!r})", line=cf.line_of(loc))
                check_off[key] = value
    return EngineSettings(scheduler=sched, todo=todo, check_off=check_off)


def run_log_activity(root: str | os.PathLike[str]) -> dict[str, int]:
    """Last activity (epoch ms) of every run that has a log under ``.orchestrator/runs/``."""
    out: dict[str, int] = {}
    folder = Path(root) / RUNS_DIR
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return out
    for entry in entries:
        if entry.name.endswith(".log") and entry.is_file():
            try:
                out[entry.name[:-4]] = entry.stat().st_mtime_ns // 1_000_000
            except OSError:
                continue
    return out


__all__ = ["EngineSettings", "SchedulerSettings", "TodoSettings", "load_settings", "run_log_activity"]
