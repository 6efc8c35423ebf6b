"""Resource-aware parallelism: what may run falls with load and a thinker's 429, rises again, within [limits]."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator_gui.engine.concurrency import (
    ConcurrencyGovernor,
    RateLimits,
    adapt_enabled,
    allowed_concurrency,
)
from orchestrator_gui.engine.config import EngineConfig, LimitsConfig
from orchestrator_gui.engine.executor import ThreadExecutor
from orchestrator_gui.engine.tasks import transform_task
from orchestrator_gui.engine.thinkers.base import BackendError
from orchestrator_gui.engine.thinkers.http import HttpThinker
from orchestrator_gui.model.thinker import ThinkerContext

WAIT = 20.0
LIMITS = LimitsConfig(agent_tasks=2, transforms=4, threads=6)


def test_concurrency_falls_as_load_rises_and_rises_as_it_drops():
    calm = allowed_concurrency(LIMITS, 2, 0.5)
    assert (calm.agent_tasks, calm.transforms, calm.threads) == (2, 4, 6) and not calm.reduced
    assert calm.text == "agents 2 of 2, transforms 4 of 4"
    busy = allowed_concurrency(LIMITS, 2, 3.1)  # 2 CPUs carry 2: 2 / 3.1 of the limits
    assert (busy.agent_tasks, busy.transforms, busy.threads) == (1, 2, 3)
    assert busy.text == "agents 1 of 2, transforms 2 of 4 — load 3.1 on 2 CPUs"
    swamped = allowed_concurrency(LIMITS, 2, 40.0)
    assert (swamped.agent_tasks, swamped.transforms, swamped.threads) == (1, 1, 1)  # never below 1
    assert allowed_concurrency(LIMITS, 2, 2.0).transforms == 4  # load at capacity: still the full limit
    assert allowed_concurrency(LIMITS, 2, 3.1, load_per_cpu=2.0).transforms == 4  # a machine that carries more
    # Unknown load or CPU count, or adaptation off: the configured limits.
    for c in (allowed_concurrency(LIMITS, None, 9.0), allowed_concurrency(LIMITS, 2, None),
              allowed_concurrency(LIMITS, 2, 9.0, adapt=False)):
        assert (c.agent_tasks, c.transforms, c.threads) == (2, 4, 6)


@settings(max_examples=300, deadline=None)
@given(agents=st.integers(1, 256), transforms=st.integers(1, 256), threads=st.none() | st.integers(1, 512),
       cpus=st.none() | st.integers(-1, 512), load=st.none() | st.floats(allow_nan=True, allow_infinity=True),
       per_cpu=st.floats(0.1, 16), held=st.booleans())
def test_never_outside_the_configured_limits(agents, transforms, threads, cpus, load, per_cpu, held):
    limits = LimitsConfig(agent_tasks=agents, transforms=transforms, threads=threads)
    c = allowed_concurrency(limits, cpus, load, rate_limited={"t": 10.0} if held else None, now=0.0,
                            load_per_cpu=per_cpu)
    assert 1 <= c.agent_tasks <= agents and 1 <= c.transforms <= transforms
    assert 1 <= c.threads <= limits.thread_limit
    if held:
        assert c.transforms == 1
    effective = c.effective_limits()
    assert effective.agent_tasks == c.agent_tasks and effective.thread_limit == c.threads


def test_a_rate_limit_holds_transforms_to_one_until_retry_after():
    clock = [100.0]
    rl = RateLimits(clock=lambda: clock[0])
    gov = ConcurrencyGovernor(LIMITS, probe=lambda: (8, 0.1), rate_limits=rl, interval_s=0.0)
    assert gov.current().transforms == 4
    rl.note("cloud", 12.0)
    now = gov.current()
    assert now.transforms == 1 and now.agent_tasks == 2  # agent runs do not call thinkers
    assert now.text == "agents 2 of 2, transforms 1 of 4 — thinker 'cloud' rate-limited for 12 s"
    clock[0] += 11.5
    assert gov.current().transforms == 1
    clock[0] += 1.0
    assert gov.current().transforms == 4 and rl.active() == {}
    # No Retry-After: 30 s; a later 429 never shortens a hold; a huge one is clipped to an hour.
    assert rl.note("cloud", None) == clock[0] + 30.0
    assert rl.note("cloud", 1.0) == clock[0] + 30.0
    assert rl.note("other", 1e9) == clock[0] + 3600.0


def test_the_adapt_switch_and_its_environment_override(monkeypatch):
    monkeypatch.delenv("ORCHESTRATOR_ADAPT_CONCURRENCY", raising=False)
    assert adapt_enabled(True) and not adapt_enabled(False)
    monkeypatch.setenv("ORCHESTRATOR_ADAPT_CONCURRENCY", "0")
    assert not adapt_enabled(True)


class _Load:
    """The machine's load as the test sets it (the engine asks it like os.getloadavg)."""

    def __init__(self) -> None:
        self.value = 0.0

    def __call__(self) -> tuple[int, float]:
        return 2, self.value


def _wait_until(pred, timeout: float = WAIT) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.01)
    return pred()


def test_the_engine_starts_fewer_transforms_under_load_and_more_when_it_drops(tmp_path):
    load = _Load()
    load.value = 8.0  # four times what 2 CPUs carry
    cfg = EngineConfig(limits=LimitsConfig(agent_tasks=1, transforms=4, threads=8))
    gov = ConcurrencyGovernor(cfg.limits, probe=load, rate_limits=RateLimits(), interval_s=0.05)
    eng = ThreadExecutor(tmp_path, cfg, governor=gov, track_time=False, track_failures=False)
    gate = threading.Event()
    lock = threading.Lock()
    active, peak = [0], [0]

    def fn(token):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        try:
            assert gate.wait(WAIT)
        finally:
            with lock:
                active[0] -= 1
        return True

    try:
        handles = [eng.submit(transform_task(fn)) for _ in range(6)]
        assert _wait_until(lambda: active[0] == 1)
        time.sleep(0.3)  # several re-checks pass: still one, the load has not changed
        assert active[0] == 1 and len(eng.queued()) == 5
        assert eng.concurrency.text == "agents 1 of 1, transforms 1 of 4 — load 8.0 on 2 CPUs"
        load.value = 1.0  # the load drops: the engine starts more without anything finishing
        assert _wait_until(lambda: active[0] == 4)
        assert eng.concurrency.text == "agents 1 of 1, transforms 4 of 4"
        assert len(eng.queued()) == 2 and peak[0] == 4  # never over the configured limit
        gate.set()
        assert all(h.result(WAIT).value is True for h in handles)
        assert peak[0] == 4
    finally:
        gate.set()
        eng.shutdown()


class _TooMany(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server API
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = b'{"error": {"message": "slow down"}}'
        self.send_response(429)
        self.send_header("Retry-After", "120")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def too_many():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _TooMany)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_a_429_from_the_http_thinker_lowers_transform_concurrency_until_retry_after(too_many):
    clock = [1000.0]
    rl = RateLimits(clock=lambda: clock[0])
    thinker = HttpThinker(too_many, "m", name="cloud", retries=0, rate_limits=rl)
    with pytest.raises(BackendError, match="HTTP 429: slow down"):
        thinker.generate("x", ThinkerContext(), 1)
    assert rl.active() == {"cloud": 1120.0}
    gov = ConcurrencyGovernor(LIMITS, probe=lambda: (8, 0.0), rate_limits=rl, interval_s=0.0)
    assert gov.current().transforms == 1
    clock[0] = 1120.5
    assert gov.current().transforms == 4
