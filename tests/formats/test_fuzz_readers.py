"""Every reader returns or raises its documented clean error on hostile input: a short, repeatable
version of ``benchmarks/fuzz.py`` (same reader table and strategies, run in-process, small inputs).

The readers: schedules, TODO, memory, timing, ``.roomodes``, ``config.toml``
(read, then a schedule paused in it), graph imports, and the answers of the
HTTP and command thinkers (see ``tests/fuzz_targets.py``).
"""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from fuzz_strategies import inputs
from fuzz_targets import Target, run_target, seeds, targets
from hypothesis import HealthCheck, given, settings

from orchestrator_gui.problems import FormatError, Problem

TARGETS = targets()
EXAMPLES = 30


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_reader_returns_or_refuses_cleanly_and_silently(name: str, tmp_path: Path):
    target = TARGETS[name]

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(inputs(seeds(target, max_bytes=20_000), target.tokens, big=False))
    def check(data: bytes) -> None:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            outcome = run_target(target, data, tmp_path)
        assert outcome.kind != "crash", f"{name} crashed on {data[:300]!r}:\n{outcome.detail}"
        assert not caught, f"{name} let a warning out on {data[:300]!r}: {caught[0].message}"

    check()


def test_the_oracle_tells_crashes_from_clean_refusals(tmp_path: Path):
    def call(data: bytes, scratch: Path) -> list[str]:
        if data == b"refuse":
            raise FormatError("f.md", "bad", line=3)
        if data == b"crash":
            return [][1]
        return [Problem(file="f.md", line=1, message=data.decode("utf-8", "surrogateescape")).format()]

    target = Target("probe", call, "format", (), (), ())
    assert run_target(target, b"ok", tmp_path).kind == "ok"
    assert run_target(target, b"refuse", tmp_path).kind == "clean"
    crash = run_target(target, b"crash", tmp_path)
    assert crash.kind == "crash" and crash.signature.startswith("IndexError@") and "IndexError" in crash.detail
    # A message that cannot be printed as UTF-8 (a lone surrogate) fails later, far from the reader.
    assert run_target(target, b"\xff", tmp_path).signature == "unprintable text from probe"


def test_the_benchmark_prints_one_flat_json_object_per_run(tmp_path: Path):
    """``benchmarks/fuzz.py`` end to end for 3 s on one reader: worker process, report, exit status."""
    script = Path(__file__).resolve().parents[2] / "benchmarks" / "fuzz.py"
    res = subprocess.run([sys.executable, str(script), "--minutes", "0.05", "--readers", "todo", "--seed", "1",
                          "--out", str(tmp_path), "--json"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-3000:]
    report = json.loads(res.stdout)
    assert all(not isinstance(v, dict | list) for v in report.values())
    assert report["readers"] == "todo" and report["todo_examples"] > 0
    assert report["examples"] == report["todo_examples"] and report["crashes"] == report["todo_crashes"] == 0
    assert 50 < report["todo_peak_rss_mb"] < 4096 and report["todo_base_rss_mb"] <= report["todo_peak_rss_mb"]
