"""Resource-aware parallelism: how many tasks may run now, within ``[limits]``, and why.

:func:`allowed_concurrency` is pure: from the configured limits, the CPU
count, the 1-minute load average and the thinkers' rate limits it computes
what may run now::

    capacity = cpus * load_per_cpu
    factor   = min(1, capacity / load)                    # 1 when load is unknown or 0
    agents   = clamp(floor(agent_tasks * factor), 1, agent_tasks)
    transforms = clamp(floor(transforms * factor), 1, transforms)
    transforms = 1 while a thinker is rate-limited (HTTP 429 until its Retry-After)
    threads  = clamp(floor(thread_limit * factor), 1, thread_limit)

So it falls as the load rises above what the machine carries, rises again
as it drops, never goes above the configured limits nor below 1 (work
always moves on). A rate-limited thinker is asked once at a time until its
``Retry-After`` has passed.

:class:`ConcurrencyGovernor` samples the machine (``os.cpu_count()``,
``os.getloadavg()``) at most every ``interval_s`` seconds, reads the rate
limits, and gives the engine the effective :class:`LimitsConfig` as tasks
start (:mod:`.executor`); :attr:`Concurrency.text` is the status bar's
"transforms 2 of 4 — load 3.1 on 2 CPUs".

:data:`RATE_LIMITS` is the process's register of rate-limited thinkers: the
HTTP thinker notes each 429 there (:mod:`.thinkers.http`), since a thinker's
limit is its API key's, whoever calls it.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from orchestrator_gui.engine.config import LimitsConfig

#: Environment variable that, set to ``0``, keeps the configured limits whatever the load (test suites,
#: benchmarks: runs whose parallelism must not depend on what else the machine does).
ADAPT_ENV = "ORCHESTRATOR_ADAPT_CONCURRENCY"
#: Seconds a 429 without a readable Retry-After holds a thinker back.
DEFAULT_RETRY_AFTER_S = 30.0
#: Longest hold one 429 may ask for (an hour): a bigger Retry-After is clipped.
MAX_RETRY_AFTER_S = 3600.0


class RateLimits:
    """Thinkers that answered HTTP 429, each until its ``Retry-After`` (thread-safe).

    Parameters
    ----------
    clock : callable, optional
        Seconds on a monotonic scale (default :func:`time.monotonic`).
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._until: dict[str, float] = {}

    def note(self, thinker: str, retry_after_s: float | None, now: float | None = None) -> float:
        """Record a 429 from ``thinker``: held back ``retry_after_s`` seconds (default 30, at most an hour).

        Returns the time (on :attr:`clock`'s scale) until which it is held.
        """
        wait = DEFAULT_RETRY_AFTER_S if retry_after_s is None or not math.isfinite(retry_after_s) else retry_after_s
        wait = min(max(float(wait), 0.0), MAX_RETRY_AFTER_S)
        t = self.clock() if now is None else float(now)
        with self._lock:
            until = max(self._until.get(thinker, -math.inf), t + wait)
            self._until[thinker] = until
        return until

    def active(self, now: float | None = None) -> dict[str, float]:
        """The thinkers held back at ``now`` -> until when (expired entries are dropped)."""
        t = self.clock() if now is None else float(now)
        with self._lock:
            for name in [n for n, u in self._until.items() if u <= t]:
                del self._until[name]
            return dict(self._until)

    def clear(self) -> None:
        """Forget every rate limit."""
        with self._lock:
            self._until.clear()


#: The process's rate-limit register (see the module docstring).
RATE_LIMITS = RateLimits()


@dataclass(frozen=True)
class Concurrency:
    """What may run now, and why.

    Attributes
    ----------
    agent_tasks, transforms, threads : int
        Allowed now.
    limits : LimitsConfig
        Configured.
    cpus : int or None
    load : float or None
        1-minute load average.
    rate_limited : dict of str to float
        Thinker -> seconds left of its rate limit.
    """

    agent_tasks: int
    transforms: int
    threads: int
    limits: LimitsConfig
    cpus: int | None = None
    load: float | None = None
    rate_limited: tuple[tuple[str, float], ...] = ()

    @property
    def reduced(self) -> bool:
        """Fewer than the configured limits may run."""
        return (self.agent_tasks < self.limits.agent_tasks or self.transforms < self.limits.transforms
                or self.threads < self.limits.thread_limit)

    @property
    def why(self) -> str:
        """The reason in words ("" at full limits)."""
        parts = []
        by_load = (self.agent_tasks < self.limits.agent_tasks or self.threads < self.limits.thread_limit
                   or (self.transforms < self.limits.transforms and not self.rate_limited))
        if by_load and self.load is not None and self.cpus:
            parts.append(f"load {self.load:.1f} on {self.cpus} CPU{'s' if self.cpus != 1 else ''}")
        for name, left in self.rate_limited:
            parts.append(f"thinker {name!r} rate-limited for {math.ceil(left):g} s")
        return "; ".join(parts)

    @property
    def text(self) -> str:
        """For the status bar: ``"agents 1 of 1, transforms 2 of 4 — load 3.1 on 2 CPUs"``."""
        head = (f"agents {self.agent_tasks} of {self.limits.agent_tasks}, "
                f"transforms {self.transforms} of {self.limits.transforms}")
        return f"{head} — {self.why}" if self.why else head

    def to_dict(self) -> dict:
        """JSON-ready form (limits as configured and allowed, with the reason)."""
        return {"agent_tasks": self.agent_tasks, "transforms": self.transforms, "threads": self.threads,
                "limits": {"agent_tasks": self.limits.agent_tasks, "transforms": self.limits.transforms,
                           "threads": self.limits.thread_limit},
                "cpus": self.cpus, "load": self.load, "rate_limited": dict(self.rate_limited),
                "reduced": self.reduced, "text": self.text}

    def effective_limits(self) -> LimitsConfig:
        """The :class:`LimitsConfig` the task queue enforces now."""
        return LimitsConfig(agent_tasks=self.agent_tasks, transforms=self.transforms, threads=self.threads)


def _scaled(limit: int, factor: float) -> int:
    return int(min(max(math.floor(limit * factor + 1e-9), 1), limit))


def allowed_concurrency(limits: LimitsConfig, cpus: int | None, load: float | None, *,
                        rate_limited: dict[str, float] | None = None, now: float = 0.0,
                        load_per_cpu: float = 1.0, adapt: bool = True) -> Concurrency:
    """What may run now (pure; see the module docstring for the formula).

    Parameters
    ----------
    limits : LimitsConfig
        The configured ``[limits]``.
    cpus : int or None
        ``os.cpu_count()`` (None or < 1: unknown, no load scaling).
    load : float or None
        The 1-minute load average (None or not finite: unknown).
    rate_limited : dict of str to float, optional
        Thinker -> until when it is rate-limited (same scale as ``now``).
    now : float
    load_per_cpu : float
        Load per CPU the machine may carry (> 0).
    adapt : bool
        False: always the configured limits.
    """
    known_load = load is not None and math.isfinite(load) and load >= 0
    known_cpus = cpus is not None and cpus >= 1
    held = tuple(sorted((name, until - now) for name, until in (rate_limited or {}).items() if until > now))
    if not adapt:
        return Concurrency(limits.agent_tasks, limits.transforms, limits.thread_limit, limits,
                           cpus if known_cpus else None, float(load) if known_load else None)
    factor = 1.0
    if known_load and known_cpus and load > 0:
        factor = min(1.0, cpus * max(load_per_cpu, 1e-6) / float(load))
    agents = _scaled(limits.agent_tasks, factor)
    transforms = 1 if held else _scaled(limits.transforms, factor)
    threads = _scaled(limits.thread_limit, factor)
    return Concurrency(agents, transforms, threads, limits, cpus if known_cpus else None,
                       float(load) if known_load else None, held)


def adapt_enabled(configured: bool) -> bool:
    """``[dynamics] adapt_concurrency``, unless :data:`ADAPT_ENV` is ``0``."""
    return configured and os.environ.get(ADAPT_ENV, "1").strip() != "0"


def machine_load() -> tuple[int | None, float | None]:
    """``(os.cpu_count(), 1-minute load average)``; None for what this platform does not tell."""
    try:
        load = os.getloadavg()[0]
    except (OSError, AttributeError):
        load = None
    return os.cpu_count(), load


class ConcurrencyGovernor:
    """Samples the machine and the rate limits and says what may run now (thread-safe).

    Parameters
    ----------
    limits : LimitsConfig
    adapt : bool
    load_per_cpu : float
    probe : callable, optional
        ``probe() -> (cpus, load)`` (default :func:`machine_load`).
    rate_limits : RateLimits, optional
        Default :data:`RATE_LIMITS`.
    clock : callable, optional
        Monotonic seconds (default: the rate limits' clock).
    interval_s : float
        Longest time a sample of the machine is reused.
    """

    def __init__(self, limits: LimitsConfig, *, adapt: bool = True, load_per_cpu: float = 1.0,
                 probe: Callable[[], tuple[int | None, float | None]] | None = None,
                 rate_limits: RateLimits | None = None, clock: Callable[[], float] | None = None,
                 interval_s: float = 1.0) -> None:
        self.limits = limits
        self.adapt = adapt
        self.load_per_cpu = load_per_cpu
        self.probe = probe or machine_load
        self.rate_limits = rate_limits if rate_limits is not None else RATE_LIMITS
        self.clock = clock or self.rate_limits.clock
        self.interval_s = interval_s
        self._lock = threading.Lock()
        self._sample: tuple[float, int | None, float | None] | None = None
        self._last: Concurrency | None = None

    def configure(self, limits: LimitsConfig, *, adapt: bool | None = None, load_per_cpu: float | None = None) -> None:
        """New configured limits (and settings) from the next decision on."""
        with self._lock:
            self.limits = limits
            if adapt is not None:
                self.adapt = adapt
            if load_per_cpu is not None:
                self.load_per_cpu = load_per_cpu
            self._sample = None

    def current(self) -> Concurrency:
        """What may run now (the machine sampled at most every ``interval_s``)."""
        now = self.clock()
        with self._lock:
            if self._sample is None or now - self._sample[0] >= self.interval_s:
                cpus, load = self.probe() if self.adapt else (None, None)
                self._sample = (now, cpus, load)
            _, cpus, load = self._sample
            held = self.rate_limits.active(now) if self.adapt else {}
            self._last = allowed_concurrency(self.limits, cpus, load, rate_limited=held, now=now,
                                             load_per_cpu=self.load_per_cpu, adapt=self.adapt)
            return self._last

    @property
    def last(self) -> Concurrency:
        """The latest decision (computes one when there is none yet)."""
        return self._last if self._last is not None else self.current()


__all__ = [
    "ADAPT_ENV", "DEFAULT_RETRY_AFTER_S", "MAX_RETRY_AFTER_S", "RATE_LIMITS", "Concurrency", "ConcurrencyGovernor",
    "RateLimits", "adapt_enabled", "allowed_concurrency", "machine_load",
]
