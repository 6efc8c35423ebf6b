"""The Qt executor adapter: QThreadPool workers, signals delivered on the main thread with plain values."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # no widgets here: any platform plugin will do

import json  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402

import pytest  # noqa: E402

from orchestrator_gui.engine.config import EngineConfig  # noqa: E402
from orchestrator_gui.engine.tasks import todo_task, transform_task  # noqa: E402

pytest.importorskip("PySide6")
from orchestrator_gui.ui.executor_qt import QtExecutor  # noqa: E402

TIMEOUT_MS = 20000


@pytest.fixture
def executor(qtbot, tmp_path):
    made: list[QtExecutor] = []

    def make(**cfg) -> QtExecutor:
        ex = QtExecutor(tmp_path, EngineConfig.model_validate(cfg))
        made.append(ex)
        return ex
    yield make
    for ex in made:
        ex.shutdown()


def test_signals_arrive_on_the_main_thread_with_plain_values(qtbot, executor):
    ex = executor()
    main = threading.get_ident()
    worker_thread: list[int] = []
    seen: list[tuple] = []
    ex.started.connect(lambda tid, kind, info: seen.append(("started", threading.get_ident(), tid, kind, info)))
    ex.progress.connect(lambda tid, ev, data: seen.append(("progress", threading.get_ident(), tid, ev, data)))
    ex.finished.connect(lambda tid, res: seen.append(("finished", threading.get_ident(), tid, res)))

    def fn(token):
        worker_thread.append(threading.get_ident())
        return sum(range(1000))

    with qtbot.waitSignal(ex.finished, timeout=TIMEOUT_MS) as blocker:
        handle = ex.submit(transform_task(fn, task_id="tr-1", title="sum"))
    task_id, result = blocker.args
    assert task_id == "tr-1" and result["status"] == "completed" and result["kind"] == "transform"
    assert handle.result(1).value == 499500
    assert worker_thread and worker_thread[0] != main           # the work ran on a pool thread
    assert [s[0] for s in seen] == ["progress", "started", "finished"]
    assert {s[1] for s in seen} == {main}                       # every slot ran on the main thread
    for s in seen:
        assert all(isinstance(a, (str, dict)) for a in s[2:])
        json.dumps(s[2:])                                       # plain values only
    assert seen[0][3] == "queued" and seen[1][4] == {"subject_id": None, "timeout_s": None, "no_timeout": True}


def test_a_failing_run_emits_output_then_finished_and_failed(qtbot, executor, tmp_path):
    ex = executor(runner=[sys.executable, "-c", "import sys; print('hello'); sys.exit(4)"])
    outputs: list[str] = []
    got: list[tuple] = []
    ex.progress.connect(lambda tid, ev, data: ev == "output" and outputs.append(data["text"]))
    ex.finished.connect(lambda *args: got.append(("finished", *args)))
    ex.failed.connect(lambda *args: got.append(("failed", *args)))
    with qtbot.waitSignals([ex.finished, ex.failed], timeout=TIMEOUT_MS, order="strict"):
        ex.submit(todo_task("item-1", "say hello", task_id="run-1"))
    assert [g[0] for g in got] == ["finished", "failed"]
    finished_args, failed_args = got[0][1:], got[1][1:]
    assert finished_args[0] == "run-1" and finished_args[1]["exit_code"] == 4
    assert failed_args[:2] == ("run-1", "exit 4") and failed_args[2]["status"] == "failed"
    assert "".join(outputs) == "hello\n"
    assert (tmp_path / "task_timing.tsv").read_text().count("run-1") == 2


def test_cancel_and_shutdown_through_the_adapter(qtbot, executor, tmp_path):
    script = tmp_path / "sleep.py"
    script.write_text("import time\nprint('ready', flush=True)\ntime.sleep(60)\n")
    ex = executor(runner=[sys.executable, str(script)], limits={"agent_tasks": 1})
    with qtbot.waitSignal(ex.progress, timeout=TIMEOUT_MS,
                          check_params_cb=lambda tid, ev, data: ev == "output" and "ready" in data["text"]):
        first = ex.submit(todo_task("a", "long", task_id="long-1"))
    second = ex.submit(todo_task("b", "queued", task_id="long-2"))
    with qtbot.waitSignal(ex.finished, timeout=TIMEOUT_MS,
                          check_params_cb=lambda tid, res: tid == "long-1") as blocker:
        assert ex.cancel("long-1")
    assert blocker.args[1]["status"] == "cancelled"
    ex.shutdown()
    assert first.result(0).status == "cancelled" and second.result(0).status == "cancelled"
    assert ex.pool.activeThreadCount() == 0


def test_a_wave_of_100_and_a_submit_from_a_slot_deliver_every_event_in_order(qtbot, executor):
    # Jobs submitted on the GUI thread are started from a pool thread, also
    # while a slot is running: nothing may be lost or reordered.
    ex = executor(limits={"transforms": 100, "threads": 100})
    main = threading.get_ident()
    seen: dict[str, list[str]] = {}
    threads: set[int] = set()

    def note(kind, tid):
        seen.setdefault(tid, []).append(kind)
        threads.add(threading.get_ident())
    ex.progress.connect(lambda tid, ev, data: note(ev, tid))
    ex.started.connect(lambda tid, kind, info: note("started", tid))

    def on_finished(tid, res):
        note("finished", tid)
        if tid == "w-0":  # a slot that submits
            ex.submit(transform_task(lambda tok: 1, task_id="late"))
    ex.finished.connect(on_finished)
    handles = ex.submit_batch([transform_task(lambda tok: sum(range(2000)), task_id=f"w-{i}") for i in range(100)])
    qtbot.waitUntil(lambda: len(seen) == 101 and all(v[-1] == "finished" for v in seen.values()), timeout=TIMEOUT_MS)
    assert all(h.result(1).status == "completed" for h in handles)
    assert all(v == ["queued", "started", "finished"] for v in seen.values())
    assert threads == {main}


def test_a_flood_of_events_is_delivered_whole_and_in_order_without_freezing_the_loop(qtbot, executor):
    # Events are coalesced: a worker's flood reaches the GUI thread in a few
    # turns, each within a time budget, so other events (a timer here) get
    # their turn in between, and nothing is lost or reordered.
    from orchestrator_gui.engine.executor import EngineEvent

    ex = executor()
    got: list[int] = []
    turns: list[int] = []
    ex.progress.connect(lambda tid, ev, data: got.append(data["n"]))
    total = 30000

    def flood():
        for n in range(total):
            ex._queue_event(EngineEvent("output", "t-1", "todo", None, {"n": n}))
    worker = threading.Thread(target=flood)
    worker.start()
    worker.join()
    from PySide6.QtCore import QTimer

    QTimer.singleShot(0, lambda: turns.append(len(got)))   # queued behind the wake-up
    qtbot.waitUntil(lambda: len(got) == total and bool(turns), timeout=TIMEOUT_MS)
    assert got == list(range(total))
    assert 0 < turns[0] < total      # the timer ran while the flood was still being delivered


def test_flush_delivers_everything_queued_at_once(qtbot, executor):
    from orchestrator_gui.engine.executor import EngineEvent

    ex = executor()
    got: list[int] = []
    ex.progress.connect(lambda tid, ev, data: got.append(data["n"]))
    for n in range(500):
        ex._queue_event(EngineEvent("output", "t-1", "todo", None, {"n": n}))
    assert got == []                 # queued for the next turn of the loop, not delivered inside the call
    ex.flush()
    assert got == list(range(500))


def test_a_finished_slot_can_read_the_result_even_when_the_engine_is_slow_to_hand_it_over(qtbot, executor):
    """``finished`` reaches the main thread only once the task's handle has its result.

    The engine emits "finished" and then resolves the handle; another listener that takes a moment
    in between (here 0.3 s) let the signal arrive first, and ``handle.result(0)`` raised
    TimeoutError in the graph actions' slot (the transform was lost).
    """
    import time

    ex = executor()
    ex.engine.add_listener(lambda ev: time.sleep(0.3) if ev.type == "finished" else None)
    handles: dict = {}
    got: list = []
    ex.finished.connect(lambda tid, res: got.append(handles[tid].result(0).value))
    handles["tr-slow"] = ex.submit(transform_task(lambda token: 42, task_id="tr-slow", title="answer"))
    qtbot.waitUntil(lambda: bool(got), timeout=TIMEOUT_MS)
    assert got == [42]
