"""One thread watches every running agent process: output, exit, time limits, cancellation.

The runner spawns a process (on whatever thread asked for it) and hands it
to a :class:`ProcessWatcher`; that thread's ``poll`` set holds, for every
running process, its stdout and stderr pipes and a pidfd (readable once the
process has exited), plus one wake-up pipe for new processes and cancels.
Its timeout is the nearest deadline of any process (80 % warning, time
limit, SIGKILL after the grace period). Output is appended raw to the run's
log and handed on decoded; when a process is done, its callback gets the
outcome, in the watcher thread.

Why one thread for all instead of one blocked worker per run: the workers
then only spawn, and the waiting is done by a thread that handles many
events per wake-up. With a dozen runs at once, a dozen threads that each
wake for every chunk of output (and each needs the GIL back after every
syscall) cost more CPU than the runs' own bookkeeping; engine_bench, 2 cores:
a spawn-and-hand-over prototype ran ``echo`` 1.15x as fast as the plain
thread pool that waits in each thread.

Stopping a run is SIGTERM to its group and to every other process of the
run (:mod:`~orchestrator_gui.engine.process_tree`: also descendants that
left the group with ``setsid``, and orphans the engine adopted as child
subreaper), then, if anything of the run is still alive after the grace
period, freezing and SIGKILL of all of it. When the leader exits by itself,
what is left of the run is stopped the same way. A run ends when its leader
has exited, its pipes are closed and nothing of it is alive; a process the
engine cannot recognise that holds our pipes is abandoned after the grace
period.
"""

from __future__ import annotations

import codecs
import contextlib
import math
import os
import select
import signal
import subprocess
import threading
import time
import traceback
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from orchestrator_gui.engine import process_tree
from orchestrator_gui.engine.tasks import CancelToken

#: ``emit(type, payload)``: ``"output"`` ({stream, text}) or ``"warning"`` ({elapsed_s, limit_s}).
Emit = Callable[[str, dict[str, Any]], None]

_READ = 65536
#: poll() events of a readable descriptor (hang-up and error included: read() then sees EOF).
_READABLE = select.POLLIN | select.POLLHUP | select.POLLERR
#: Name of the watcher thread (the engine starts agent runs directly from it).
THREAD_NAME = "orchestrator-processes"
#: An idle watcher thread ends after this many seconds (the next process starts a new one).
_IDLE_EXIT_S = 10.0
#: Without pidfds (not Linux >= 5.3) exits are noticed by polling this often.
_NO_PIDFD_POLL_S = 0.05
#: How often a stopped run whose leader is gone is looked at for processes still alive.
_LEFTOVER_POLL_S = 0.05


@dataclass
class Outcome:
    """How a watched process ended.

    Attributes
    ----------
    status : str or None
        ``"timeout"`` or ``"cancelled"`` when we stopped it, else None (it exited by itself).
    warned : bool
        The 80 % warning was given.
    exit_code : int or None
        ``Popen.returncode`` (negative: killed by that signal).
    stderr_tail : bytes
        The last bytes of stderr.
    last_byte : bytes
        The last byte of output written to the log (b"" if none).
    """

    status: str | None
    warned: bool
    exit_code: int | None
    stderr_tail: bytes
    last_byte: bytes


class Watched:
    """One running process and what the watcher knows about it.

    Parameters
    ----------
    proc : subprocess.Popen
        Started with ``start_new_session=True`` and stdout/stderr pipes.
    log : int
        The run log's descriptor; output is appended to it (the caller closes it).
    token : CancelToken
    emit : callable
        See :data:`Emit`; called in the watcher thread.
    limit_s : float or None
        Time limit; None = none.
    warn_fraction, grace_s : float
        When to warn (share of the limit); SIGTERM → SIGKILL delay.
    tail_bytes : int
        How much of stderr's end to keep.
    t0 : float
        ``time.monotonic()`` at the start of the run.
    on_done : callable
        ``on_done(outcome)`` in the watcher thread once the process is reaped.
    tag : str, optional
        The run's ``ORCHESTRATOR_TASK_ID``: recognises its processes that left the group.
    """

    def __init__(self, proc: subprocess.Popen[bytes], log: int, token: CancelToken, emit: Emit,
                 limit_s: float | None, warn_fraction: float, grace_s: float, tail_bytes: int, t0: float,
                 on_done: Callable[[Outcome], None], tag: str | None = None) -> None:
        self.proc, self.log, self.token, self.emit, self.tag = proc, log, token, emit, tag
        self.limit, self.grace, self.tail_bytes, self.t0 = limit_s, grace_s, tail_bytes, t0
        self.on_done = on_done
        self.deadline = t0 + limit_s if limit_s else None
        self.warn_at = t0 + limit_s * warn_fraction if limit_s else None
        self.tail = bytearray()
        self.last_byte = b""
        self.status: str | None = None
        self.warned = False
        self.exited = False
        self.term_at: float | None = None   # when SIGTERM went to the group
        self.killed = False
        self.abandon_at: float | None = None  # give up on pipes held by an escaped process
        self.leftover_check: float | None = None  # stopped, leader gone, some of the run still alive
        self.clean = False  # the leader is gone and nothing of the run was found alive
        self.pidfd: int | None = None
        self.fds: list[int] = []  # registered with the watcher's poll set
        assert proc.stdout is not None and proc.stderr is not None
        self.streams = {proc.stdout.fileno(): "stdout", proc.stderr.fileno(): "stderr"}
        self.decoders = {name: codecs.getincrementaldecoder("utf-8")("replace") for name in self.streams.values()}

    # ------------------------------------------------------------ per turn

    def step(self, now: float) -> bool:
        """Apply the deadlines and the cancel flag; True once the process is done."""
        if self.warn_at is not None and not self.warned and now >= self.warn_at:
            self.warned = True
            self.emit("warning", {"elapsed_s": now - self.t0, "limit_s": self.limit})
        if self.status is None and self.deadline is not None and now >= self.deadline:
            self.status = "timeout"
        if self.status is None and self.token.cancelled:
            self.status = "cancelled"
        stop = self.status is not None or (self.exited and bool(self.streams))
        # start_new_session: the leader's pid is the group and session id. The leader is
        # not reaped before reap(), so that pid cannot name another process meanwhile.
        leader = self.proc.pid
        if stop and self.term_at is None:
            process_tree.signal_run(leader, self.tag, signal.SIGTERM)
            self.term_at = now
        if self.term_at is not None and not self.killed and now >= self.term_at + self.grace:
            process_tree.kill_run(leader, self.tag)
            self.killed = True
            self.abandon_at = now + max(self.grace, 1.0)
        if self.abandon_at is not None and self.exited and now >= self.abandon_at:
            # Something we could not recognise as the run's keeps our pipes
            # open; the run itself is dead, so stop reading.
            return True
        if self.pidfd is None and not self.exited:
            self.exited = self.proc.poll() is not None
        if not self.exited or self.streams:
            return False
        self.leftover_check = None
        if not self.killed:
            # The leader is gone: the run is over once nothing of it is alive. What is left
            # gets SIGTERM (once) and SIGKILL at the grace deadline; whatever of it was
            # re-parented to us and has died is reaped here, so it leaves no zombie.
            if self.term_at is not None:
                process_tree.reap_orphans()
            if process_tree.run_processes(leader, self.tag, exited=True):
                if self.term_at is None:
                    process_tree.signal_run(leader, self.tag, signal.SIGTERM)
                    self.term_at = now
                self.leftover_check = now + _LEFTOVER_POLL_S
                return False
            self.clean = True
        return True

    def next_wake(self) -> float | None:
        """The monotonic time this process next needs a look (None: only on events)."""
        # A passed abandon time only matters once the leader has exited (its pidfd wakes us):
        # a process stuck in the kernel after SIGKILL must not make the watcher spin.
        abandon = self.abandon_at if self.abandon_at is not None and (
            self.exited or self.abandon_at > time.monotonic()) else None
        waits = [t for t in (None if self.warned else self.warn_at,
                             self.deadline if self.status is None else None,
                             self.term_at + self.grace if self.term_at is not None and not self.killed else None,
                             abandon, self.leftover_check)
                 if t is not None]
        if self.pidfd is None and not self.exited:
            waits.append(time.monotonic() + _NO_PIDFD_POLL_S)
        return min(waits) if waits else None

    def read(self, fd: int) -> bool:
        """Read one chunk from a pipe; False at end of file (the pipe is then closed for us)."""
        data = os.read(fd, _READ)
        name = self.streams[fd]
        if not data:
            del self.streams[fd]
            rest = self.decoders[name].decode(b"", final=True)
            if rest:
                self.emit("output", {"stream": name, "text": rest})
            return False
        _write_bytes(self.log, data)
        self.last_byte = data[-1:]
        if name == "stderr":
            self.tail += data
            if len(self.tail) > self.tail_bytes:
                del self.tail[:len(self.tail) - self.tail_bytes]
        text = self.decoders[name].decode(data)
        if text:
            self.emit("output", {"stream": name, "text": text})
        return True

    def reap(self) -> Outcome:
        """Stop what is left of the run, reap the leader, close our descriptors."""
        leader = self.proc.pid
        # The leader is exited but not yet reaped, so its pid (the group id)
        # cannot have been reused: whatever is left of the run goes now.
        if not self.exited:  # an error in the watcher: do not leave the process behind
            process_tree.kill_run(leader, self.tag)
        elif not (self.killed or self.clean):  # a path that skipped step's last look
            process_tree.signal_run(leader, self.tag, signal.SIGTERM)
        self.proc.wait()
        if self.term_at is not None or not self.clean:
            # Something of the run was stopped: what of it was re-parented to us and has
            # died since is reaped now (the rest by the watcher's sweep when it goes idle).
            process_tree.reap_orphans()
        for f in (self.proc.stdout, self.proc.stderr):
            with contextlib.suppress(OSError):
                f.close()  # type: ignore[union-attr]
        if self.pidfd is not None:
            with contextlib.suppress(OSError):
                os.close(self.pidfd)
            self.pidfd = None
        return Outcome(self.status, self.warned, self.proc.returncode, bytes(self.tail), self.last_byte)


class ProcessWatcher:
    """The thread that watches every process handed to :meth:`watch` (started on demand)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._new: list[Watched] = []
        self._look_at_all = False
        self._thread: threading.Thread | None = None
        flags = getattr(os, "O_CLOEXEC", 0) | os.O_NONBLOCK
        self._wake_r, self._wake_w = os.pipe2(flags) if hasattr(os, "pipe2") else os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        # Not at interpreter exit: the daemon thread may still be polling them then.
        weakref.finalize(self, _close_all, self._wake_r, self._wake_w).atexit = False

    def watch(self, w: Watched) -> None:
        """Watch a started process; ``w.on_done`` is called from the watcher thread."""
        w.token.add_callback(self._cancelled)
        with self._lock:
            if self._thread is None:
                thread = threading.Thread(target=self._run, name=THREAD_NAME, daemon=True)
                thread.start()  # may raise (no threads left): the caller then sees the error
                self._thread = thread
            self._new.append(w)
        self.wake()

    def wake(self) -> None:
        """Make the watcher look at its processes now (any thread)."""
        with contextlib.suppress(BlockingIOError, OSError):
            os.write(self._wake_w, b"x")

    def _cancelled(self) -> None:
        # A token was cancelled: every process gets a look on the next turn.
        self._look_at_all = True
        self.wake()

    def _run(self) -> None:
        poll = select.poll()
        poll.register(self._wake_r, select.POLLIN)
        owner: dict[int, Watched] = {}        # pipe or pidfd -> its process
        active: dict[Watched, float | None] = {}  # process -> when it next needs a look
        due: set[Watched] = set()             # processes to look at this turn
        while True:
            with self._lock:
                new, self._new = self._new, []
            for w in new:
                try:
                    self._adopt(w, poll, owner)
                except Exception:  # cannot watch it: stop it and report its end now
                    traceback.print_exc()
                    w.exited = w.proc.poll() is not None
                    self._finish(w, poll, owner)
                    continue
                active[w] = None
                due.add(w)
            now = time.monotonic()
            if self._look_at_all:
                self._look_at_all = False
                due.update(active)
            else:
                due.update(w for w, t in active.items() if t is not None and t <= now)
            # Only the processes with news or a passed deadline: with a dozen runs at once,
            # looking at every one on every event was a large share of the watcher's time.
            for w in due:
                if w not in active:
                    continue
                try:
                    done = w.step(now)
                except Exception:  # a bug: end this run rather than the watcher
                    traceback.print_exc()
                    done = True
                if done:
                    del active[w]
                    self._finish(w, poll, owner)
                else:
                    active[w] = w.next_wake()
            due.clear()
            wakes = [t for t in active.values() if t is not None]
            if wakes:
                timeout_ms: int | None = max(0, math.ceil((min(wakes) - time.monotonic()) * 1000))
            else:
                timeout_ms = None if active else int(_IDLE_EXIT_S * 1000)
            events = poll.poll(timeout_ms)
            if not events and not active:
                with self._lock:
                    if not self._new:
                        self._thread = None
                        # Leftovers that died since their run ended are adopted zombies: reap them.
                        process_tree.reap_orphans()
                        return
            for fd, _ in events:
                if fd == self._wake_r:
                    with contextlib.suppress(BlockingIOError):
                        while os.read(self._wake_r, 4096):
                            pass
                    continue
                w = owner.get(fd)
                if w is None:
                    continue
                due.add(w)
                try:
                    if fd == w.pidfd:
                        w.exited = True
                        poll.unregister(fd)
                        del owner[fd]
                    elif not w.read(fd):
                        poll.unregister(fd)
                        del owner[fd]
                except Exception:  # a bug: stop reading this descriptor, keep the watcher alive
                    traceback.print_exc()
                    with contextlib.suppress(KeyError):
                        poll.unregister(fd)
                    owner.pop(fd, None)
                    w.streams.pop(fd, None)

    @staticmethod
    def _adopt(w: Watched, poll: Any, owner: dict[int, Watched]) -> None:
        try:
            w.pidfd = os.pidfd_open(w.proc.pid)  # type: ignore[attr-defined]
        except (AttributeError, OSError):
            w.pidfd = None  # pragma: no cover - not Linux >= 5.3: polled instead
        w.fds = [*w.streams, *([w.pidfd] if w.pidfd is not None else [])]
        for fd in w.fds:
            poll.register(fd, _READABLE)
            owner[fd] = w

    def _finish(self, w: Watched, poll: Any, owner: dict[int, Watched]) -> None:
        for fd in [fd for fd in w.fds if owner.get(fd) is w]:
            with contextlib.suppress(KeyError):
                poll.unregister(fd)
            del owner[fd]
        w.token.remove_callback(self._cancelled)
        try:
            outcome = w.reap()
        except Exception:  # pragma: no cover - a bug; report what is known
            traceback.print_exc()
            outcome = Outcome(w.status, w.warned, w.proc.returncode, bytes(w.tail), w.last_byte)
        try:
            w.on_done(outcome)
        except Exception:
            traceback.print_exc()


def _write_bytes(fd: int, data: bytes) -> None:
    while data:
        n = os.write(fd, data)
        data = data[n:]


def _close_all(*fds: int) -> None:
    for fd in fds:
        with contextlib.suppress(OSError):
            os.close(fd)


__all__ = ["THREAD_NAME", "Emit", "Outcome", "ProcessWatcher", "Watched"]
