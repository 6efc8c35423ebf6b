"""The engine's own settings: ``.orchestrator/config.toml``.

Our settings never go into Roo's files (the extension drops unknown keys).
The file is read with :mod:`tomllib` and validated by pydantic models; a
file that does not parse, or has a value of the wrong type, raises
:class:`~orchestrator_gui.problems.FormatError` with the line, like
the workspace files, and ``orchestrator-gui check`` reports it too.

Example
-------
.. code-block:: toml

    runner = ["python", "agent.py", "--mode", "{mode}", "--file", "{instructions_file}"]
    env = { AGENT_LOG = "1" }        # added to the runner's environment
    cwd = "."                         # relative to the workspace (default)
    grace_s = 5                       # SIGTERM → SIGKILL grace period

    [timeouts]
    todo_s = 3600                     # default for TODO tasks
    schedule_s = 7200                 # default for schedule tasks
    warn_fraction = 0.8               # the "time almost up" warning

    [limits]
    agent_tasks = 1                   # concurrent runner processes per workspace
    transforms = 4
    threads = 5                       # global worker limit (default agent_tasks + transforms)

    [modes.architect]                 # optional per-mode override
    runner = ["claude", "-p", "{instructions}"]
    env = { MODEL = "big" }

    [schedules."1761981872582"]
    timeout_s = 900                   # per-schedule override; 0 = no limit
    no_timeout = false                # explicit opt-out of any limit
    paused = false                    # set to true by 3-strike escalation
    approve = true                    # its runs wait for approval (runs pending / approve / skip)

    [todos."<todo item id>"]          # same keys for TODO items
    no_timeout = true

    [fleet]                           # several machines, one PostgreSQL (engine/fleet_config.py)
    database = "postgresql://loop@db.example/loop"   # no password here: ~/.pgpass or PGPASSWORD
    machine = "build-box-2"           # default: the host name
    dead_after_s = 60                 # 5..3600: silence after which a machine's claims are lost
    heartbeat_s = 5                   # 0.5..60
    offline = "pause"                 # "pause" | "local": due slots while the database is down

    [dynamics]                        # suppression and adaptive concurrency (engine/config_dynamics.py)
    suppress_below = 0.05             # 0..1: activation under which a node is idle (0 = never suppress)
    suppress_after_s = 600            # 1..2592000: idle this long -> suppressed (dimmed, out of `next`)
    adapt_concurrency = true          # machine load and thinker 429s lower [limits], never raise them

    [thinkers]                        # content sources of the graph transforms
    default = "local"                 # used without --thinker (default: the built-in "offline")
    scorer = "local"                  # scores speculative candidates (default: ``default``)

    [thinkers.backends.local]         # an OpenAI-compatible server (Ollama, llama.cpp, ...)
    type = "http"
    base_url = "http://127.0.0.1:11434/v1"
    model = "llama3.2"
    api_key_env = "OPENAI_API_KEY"    # the *name* of the variable holding the key; optional

    [thinkers.backends.tool]          # any local program: JSON on stdin, JSON on stdout
    type = "command"
    command = ["python", "think.py"]

    See :mod:`orchestrator_gui.engine.thinkers` for every backend key.

Placeholders in runner templates (each argument is expanded on its own, in
one pass, so text never gets re-expanded): ``{instructions}``,
``{instructions_file}``, ``{mode}``, ``{task_id}``, ``{schedule_id}``,
``{workspace}``. Without any runner, runs are dry runs (nothing spawned).
A placeholder inside code that a shell or interpreter parses, as in
``["sh", "-c", "agent {instructions}"]``, is an error in ``check`` and the
runner refuses to start it (:mod:`~orchestrator_gui.engine.runner_shell`).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from orchestrator_gui.engine.config_dynamics import DynamicsConfig
from orchestrator_gui.engine.config_thinkers import (
    OFFLINE_THINKER,
    ThinkerBackendConfig,
    ThinkersConfig,
)
from orchestrator_gui.engine.config_toml import key_lines, line_of, load_toml
from orchestrator_gui.engine.fleet_config import dsn_has_password
from orchestrator_gui.engine.missed import DEFAULT_GRACE_MS, MAX_BACKFILL, MissedPolicy
from orchestrator_gui.engine.runner_shell import find_code_placeholder
from orchestrator_gui.formats.fileio import decode_text, read_bytes
from orchestrator_gui.problems import FormatError, Problem

if TYPE_CHECKING:
    from orchestrator_gui.engine.tasks import Task

#: Where the config lives, relative to the workspace root.
CONFIG = Path(".orchestrator") / "config.toml"
#: Where run logs and instruction files go.
RUNS_DIR = Path(".orchestrator") / "runs"
#: The placeholders a runner template may use.
PLACEHOLDERS = ("instructions", "instructions_file", "mode", "task_id", "schedule_id", "workspace")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


class _Section(BaseModel):
    # strict: TOML is typed, so "3600" (a string) for a number is an error, not a conversion.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def _check_runner(value: list[str] | None) -> list[str] | None:
    if value is not None and (not value or not value[0].strip()):
        raise ValueError("runner must be a non-empty list whose first item names the program")
    return value


#: Longest time limit of a run, in seconds (7 days). Longer values would overflow the
#: millisecond timeouts of the process watcher's waits; 0 still means "no limit".
MAX_TIMEOUT_S = 7 * 24 * 3600.0
#: Longest SIGTERM -> SIGKILL grace period (an hour).
MAX_GRACE_S = 3600.0


class TimeoutsConfig(_Section):
    """``[timeouts]``: default limits in seconds (0 = no limit, at most :data:`MAX_TIMEOUT_S`)."""

    todo_s: float = Field(3600.0, ge=0, le=MAX_TIMEOUT_S)
    schedule_s: float = Field(7200.0, ge=0, le=MAX_TIMEOUT_S)
    transform_s: float = Field(0.0, ge=0, le=MAX_TIMEOUT_S)
    warn_fraction: float = Field(0.8, gt=0, lt=1)


class LimitsConfig(_Section):
    """``[limits]``: concurrency per resource, and the global thread limit."""

    agent_tasks: int = Field(1, ge=1, le=256)
    transforms: int = Field(4, ge=1, le=256)
    threads: int | None = Field(None, ge=1, le=512)

    @property
    def thread_limit(self) -> int:
        """The global limit: ``threads``, else ``agent_tasks + transforms``."""
        return self.threads if self.threads is not None else self.agent_tasks + self.transforms


class ModeConfig(_Section):
    """``[modes.<slug>]``: a per-mode runner, environment and working folder."""

    runner: list[str] | None = None
    env: dict[str, str] = Field(default_factory=dict)
    cwd: str | None = None

    @field_validator("runner")
    @classmethod
    def _runner(cls, value: list[str] | None) -> list[str] | None:
        return _check_runner(value)


class SchedulerSettings(BaseModel):
    """``[scheduler]`` in ``.orchestrator/config.toml``.

    Attributes
    ----------
    missed : {"once", "skip", "all"}
        Missed-run policy (see :mod:`.missed`).
    missed_grace_s : float
        How late a due time may be and still count as on time.
    max_backfill : int
        Most catch-up runs of one schedule under ``all``.
    tick_s : float
        How often the loop looks at the schedules.
    """

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    missed: MissedPolicy = Field(MissedPolicy.ONCE, strict=False)  # TOML gives a string
    missed_grace_s: float = Field(DEFAULT_GRACE_MS / 1000, ge=0, le=86400)
    max_backfill: int = Field(MAX_BACKFILL, ge=1, le=1000)
    tick_s: float = Field(1.0, gt=0, le=3600)


class TodoSettings(BaseModel):
    """``[todo]`` in ``.orchestrator/config.toml`` (and ``check_off_on_success`` in ``[todos."<key>"]``)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    check_off_on_success: bool = False
    mode: str = "code"
    approve: bool = False  # every TODO run waits in the pending-approval list (engine/approvals.py)


class SubjectConfig(_Section):
    """``[schedules."<id>"]`` / ``[todos."<id>"]``: per-item overrides and state."""

    timeout_s: float | None = Field(None, ge=0, le=MAX_TIMEOUT_S)
    no_timeout: bool = False
    paused: bool = False
    check_off_on_success: bool | None = None  # TODO items: check off after a successful run
    approve: bool | None = None  # its runs wait for the user's approval (engine/approvals.py)


#: Range of ``[fleet] dead_after_s`` and ``heartbeat_s`` (seconds).
DEAD_AFTER_RANGE_S, HEARTBEAT_RANGE_S = (5.0, 3600.0), (0.5, 60.0)
#: A machine name: what ``fleet status`` and the runs table show; no spaces or control characters.
_MACHINE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class FleetConfig(_Section):
    """``[fleet]``: run this loop on several machines that share one PostgreSQL database.

    The resolved settings (environment variables included) come from
    :func:`orchestrator_gui.engine.fleet_config.fleet_settings`.

    Attributes
    ----------
    database : str or None
        A libpq connection string or ``postgresql://`` URI, without a password
        (libpq's ``passfile``/``PGPASSWORD`` supply it); ``ORCHESTRATOR_FLEET_DSN`` wins.
    machine : str or None
        This machine's name (default: the host name; ``ORCHESTRATOR_MACHINE`` wins).
    dead_after_s : float
        Silence after which a machine's running claims are marked lost.
    heartbeat_s : float
        How often a machine writes its heartbeat.
    offline : {"pause", "local"}
        What the engine does with a due slot while the database is unreachable.
    """

    database: str | None = Field(None, min_length=1, max_length=4096)
    machine: str | None = None
    dead_after_s: float = Field(60.0, ge=DEAD_AFTER_RANGE_S[0], le=DEAD_AFTER_RANGE_S[1])
    heartbeat_s: float = Field(5.0, ge=HEARTBEAT_RANGE_S[0], le=HEARTBEAT_RANGE_S[1])
    offline: Literal["pause", "local"] = "pause"

    @model_validator(mode="before")
    @classmethod
    def _no_password_key(cls, data: Any) -> Any:
        if isinstance(data, dict) and any(str(k).lower() in ("password", "passwd") for k in data):
            raise ValueError("a password may not be stored in config.toml; use libpq's passfile "
                             "(~/.pgpass) or the PGPASSWORD environment variable")
        return data

    @model_validator(mode="after")
    def _beats_before_death(self) -> FleetConfig:
        if self.dead_after_s < 2 * self.heartbeat_s:
            # One late heartbeat must not make a live machine look dead and lose its running claims.
            raise ValueError(f"dead_after_s ({self.dead_after_s:g}) must be at least twice heartbeat_s "
                             f"({self.heartbeat_s:g})")
        return self

    @field_validator("database")
    @classmethod
    def _no_password(cls, value: str | None) -> str | None:
        if value is not None and dsn_has_password(value):
            raise ValueError("a password may not be stored in config.toml; use libpq's passfile "
                             "(~/.pgpass) or the PGPASSWORD environment variable")
        return value

    @field_validator("machine")
    @classmethod
    def _machine(cls, value: str | None) -> str | None:
        if value is not None and not _MACHINE_NAME.match(value):
            raise ValueError("a machine name is 1 to 64 letters, digits, '.', '_' or '-', starting "
                             "with a letter or digit")
        return value


class EngineConfig(_Section):
    """The whole ``config.toml``; every key is optional.

    Attributes
    ----------
    runner : list of str or None
        Argument-list template; ``None`` (and no mode override) means dry runs.
    env : dict
        Extra environment variables for every runner process.
    cwd : str or None
        Working folder, relative to the workspace (default: the workspace).
    grace_s : float
        Seconds between SIGTERM and SIGKILL when a run is stopped.
    timeouts, limits : see :class:`TimeoutsConfig`, :class:`LimitsConfig`.
    modes : dict of str to ModeConfig
    schedules, todos : dict of str to SubjectConfig
        Keyed by schedule id / TODO item id.
    thinkers : ThinkersConfig
        Named thinker backends and the default thinker.
    fleet : FleetConfig or None
        ``[fleet]``: the shared PostgreSQL database; None without the table.
    """

    runner: list[str] | None = None
    env: dict[str, str] = Field(default_factory=dict)
    cwd: str | None = None
    grace_s: float = Field(5.0, ge=0, le=MAX_GRACE_S)
    timeouts: TimeoutsConfig = Field(default_factory=TimeoutsConfig)
    limits: LimitsConfig = Field(default_factory=LimitsConfig)
    modes: dict[str, ModeConfig] = Field(default_factory=dict)
    schedules: dict[str, SubjectConfig] = Field(default_factory=dict)
    todos: dict[str, SubjectConfig] = Field(default_factory=dict)
    thinkers: ThinkersConfig = Field(default_factory=ThinkersConfig)
    scheduler: SchedulerSettings = Field(default_factory=SchedulerSettings)
    todo: TodoSettings = Field(default_factory=TodoSettings)
    dynamics: DynamicsConfig = Field(default_factory=DynamicsConfig)  # engine/config_dynamics.py
    fleet: FleetConfig | None = None  # None: no [fleet] table, the machine runs alone

    @field_validator("runner")
    @classmethod
    def _runner(cls, value: list[str] | None) -> list[str] | None:
        return _check_runner(value)

    # ------------------------------------------------------------ look-ups

    def runner_for(self, mode: str) -> list[str] | None:
        """The template for ``mode``: ``[modes.<mode>] runner``, else ``runner``, else None (dry run)."""
        override = self.modes.get(mode)
        if override is not None and override.runner is not None:
            return list(override.runner)
        return list(self.runner) if self.runner is not None else None

    def env_for(self, mode: str) -> dict[str, str]:
        """Extra environment for ``mode``: top-level ``env`` updated by the mode's ``env``."""
        env = dict(self.env)
        override = self.modes.get(mode)
        if override is not None:
            env.update(override.env)
        return env

    def cwd_for(self, mode: str) -> str | None:
        """Working folder for ``mode`` (relative to the workspace), or None for the workspace."""
        override = self.modes.get(mode)
        if override is not None and override.cwd is not None:
            return override.cwd
        return self.cwd

    def subject(self, kind: str, subject_id: str | None) -> SubjectConfig | None:
        """The ``[schedules."<id>"]`` / ``[todos."<id>"]`` table of an item, if any."""
        if subject_id is None:
            return None
        table = self.schedules if kind == "schedule" else self.todos if kind == "todo" else {}
        return table.get(subject_id)

    def is_paused(self, kind: str, subject_id: str | None) -> bool:
        """Whether the item is paused in our config (by escalation or by hand)."""
        sub = self.subject(kind, subject_id)
        return bool(sub and sub.paused)

    def timeout_for(self, task: Task) -> float | None:
        """The limit for ``task`` in seconds, ``None`` for no limit.

        Order: the task's ``no_timeout`` / ``timeout_s``; the item's table
        (``no_timeout``, ``timeout_s``); the ``[timeouts]`` default of its kind.
        A value of 0 anywhere means "no limit".
        """
        if task.no_timeout:
            return None
        if task.timeout_s is not None:
            return task.timeout_s or None
        sub = self.subject(task.kind, task.subject_id)
        if sub is not None:
            if sub.no_timeout:
                return None
            if sub.timeout_s is not None:
                return sub.timeout_s or None
        default = {"schedule": self.timeouts.schedule_s, "todo": self.timeouts.todo_s,
                   "transform": self.timeouts.transform_s}[task.kind]
        return default or None

    def templates(self) -> list[tuple[tuple[str, ...], list[str]]]:
        """Every runner template with its key path (for validation)."""
        out: list[tuple[tuple[str, ...], list[str]]] = []
        if self.runner is not None:
            out.append((("runner",), self.runner))
        for slug, mode in self.modes.items():
            if mode.runner is not None:
                out.append((("modes", slug, "runner"), mode.runner))
        return out


def config_path(root: str | os.PathLike[str]) -> Path:
    """``<root>/.orchestrator/config.toml`` (relative roots stay relative)."""
    return CONFIG if str(root) in ("", ".") else Path(root) / CONFIG


def _dotted(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            seg = part if re.match(r"^[A-Za-z0-9_-]+$", part) else f'"{part}"'
            out += ("." if out else "") + seg
    return out or "(top level)"


def _drop(data: dict[str, Any], loc: tuple[Any, ...]) -> None:
    node: Any = data
    for k in loc[:-1]:
        node = node[k]
    node.pop(loc[-1], None)


class ConfigFile:
    """A parsed ``config.toml``: its bytes, its validated :class:`EngineConfig` and findings.

    Parameters
    ----------
    path : path-like
        The file (used in messages).
    data : bytes
        Its content.

    Raises
    ------
    FormatError
        Not UTF-8 text, invalid TOML, or a value of the wrong type (with the line).
    """

    def __init__(self, path: str | os.PathLike[str], data: bytes) -> None:
        self.path = Path(path)
        self.name = str(path)
        self.data = data
        self.text, _ = decode_text(data, self.name)
        # Every limit (size, nesting, key parts, integer digits) lives in load_toml: tomllib alone is
        # quadratic in a key's parts and recursive per nesting level.
        raw = load_toml(self.text, self.name)
        self.raw: dict[str, Any] = raw
        self._lines = key_lines(self.text)
        self.warnings: list[Problem] = []
        self.config = self._validate(raw)
        self.warnings.extend(self._template_problems())

    def line_of(self, loc: tuple[Any, ...]) -> int | None:
        """1-based line of a key path (longest known prefix), or None."""
        return line_of(self._lines, loc)

    def _validate(self, raw: dict[str, Any]) -> EngineConfig:
        import copy

        data = copy.deepcopy(raw)
        for _ in range(100):  # each round drops unknown keys; real errors raise at once
            try:
                return EngineConfig.model_validate(data)
            except ValidationError as exc:
                errors = exc.errors(include_url=False)
                real = [e for e in errors if e["type"] != "extra_forbidden"]
                if real:
                    e = real[0]
                    where = _dotted(tuple(e["loc"]))
                    got = e.get("input")
                    shown = f" (got {type(got).__name__} {got!r})" if not isinstance(got, dict) else ""
                    if tuple(e["loc"])[:1] == ("fleet",):
                        shown = ""  # the rejected value may hold a password: never echo it
                    msg = str(e["msg"]).removeprefix("Value error, ")
                    raise FormatError(self.name, f"{where}: {msg}{shown}", line=self.line_of(tuple(e["loc"]))) \
                        from None
                for e in errors:
                    loc = tuple(e["loc"])
                    self.warnings.append(Problem(
                        file=self.name, line=self.line_of(loc), severity="warning",
                        message=f"unknown key {_dotted(loc)} (ignored; check the spelling)"))
                    _drop(data, loc)
        raise FormatError(self.name, "too many unknown keys")  # pragma: no cover - defensive

    def _template_problems(self) -> list[Problem]:
        out: list[Problem] = []
        for loc, template in self.config.templates():
            found = find_code_placeholder(template, PLACEHOLDERS)
            if found is not None:
                # An error, yet the file still loads (thinkers, limits, the GUI keep working);
                # the runner refuses to start this template (runner.ProcessRunner.start).
                out.append(Problem(file=self.name, line=self.line_of(loc), severity="error",
                                   message=f"{_dotted((*loc, found.index))}: {found.message()}"))
            for arg in template:
                for name in _PLACEHOLDER.findall(arg):
                    if name not in PLACEHOLDERS:
                        out.append(Problem(
                            file=self.name, line=self.line_of(loc), severity="warning",
                            message=f"{_dotted(loc)}: unknown placeholder {{{name}}} is passed literally "
                                    f"(known: {', '.join('{' + p + '}' for p in PLACEHOLDERS)})"))
        return out

    def problems(self) -> list[Problem]:
        """Findings that did not stop loading (unknown keys and placeholders; placeholders in shell code)."""
        return sorted(self.warnings, key=lambda p: (p.line is None, p.line or 0))


def read_config(path: str | os.PathLike[str]) -> ConfigFile:
    """Read and validate one config file; raises FormatError (missing file included)."""
    return ConfigFile(path, read_bytes(path))


def load_config(root: str | os.PathLike[str]) -> EngineConfig:
    """The engine config of the workspace at ``root``; defaults when the file is absent.

    Raises
    ------
    FormatError
        The file exists but is not a readable, valid config.
    """
    path = config_path(root)
    if not os.path.lexists(path):
        return EngineConfig()
    return read_config(path).config


def config_problems(root: str | os.PathLike[str]) -> list[Problem]:
    """What ``check`` reports for the config: [] when absent, the error when unloadable."""
    path = config_path(root)
    if not os.path.lexists(path):
        return []
    try:
        return read_config(path).problems()
    except FormatError as exc:
        return [exc.problem]


__all__ = [
    "CONFIG",
    "MAX_GRACE_S",
    "MAX_TIMEOUT_S",
    "PLACEHOLDERS",
    "RUNS_DIR",
    "ConfigFile",
    "EngineConfig",
    "FleetConfig",
    "LimitsConfig",
    "ModeConfig",
    "OFFLINE_THINKER",
    "SubjectConfig",
    "ThinkerBackendConfig",
    "ThinkersConfig",
    "TimeoutsConfig",
    "config_path",
    "config_problems",
    "load_config",
    "read_config",
]
