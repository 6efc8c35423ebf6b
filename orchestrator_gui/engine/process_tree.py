"""Every process of a run, found through ``/proc``; the engine process as a child subreaper.

Why: a runner's descendant that calls ``setsid()`` leaves the run's process
group, so ``killpg`` misses it, and once its parent exits it is re-parented
to init, out of the engine's reach. While runs are going on, the engine
process is a *child subreaper* (``prctl(PR_SET_CHILD_SUBREAPER)``, Linux):
orphans of its descendants are re-parented to it instead, so they stay
findable. A run's processes are then

* the descendants of the run's leader, and
* the engine's adopted children that came from the run: same session as the
  leader, or ``ORCHESTRATOR_TASK_ID=<the run's id>`` in their environment
  (what a ``setsid`` grandchild inherited from the runner), started after
  the leader, with all their descendants.

:func:`kill_run` freezes them all (SIGSTOP, again until no new process
appears, so none can fork away in between), kills them and reaps the ones
that became the engine's children. Signals go through pidfds checked
against the start time seen in ``/proc``, so a pid reused meanwhile is never
hit.

Adopted children are the engine's to reap: nobody else waits for them.
:func:`reap_orphans` reaps only zombies that are certainly not a
``subprocess.Popen`` child of this process (reaping one of those would make
its ``wait()`` report exit status 0): processes seen as members of a run
(pid and start time), and children whose session is neither ours nor their
own (a child we fork keeps our session, or gets its own by ``setsid``).

A process that cleared its environment (``env -i``), called ``setsid`` and
lost its parent before the engine looked is not recognised; nor is such an
orphan that died before the engine looked (a zombie shows no environment),
which then stays a zombie of the engine process. Without ``/proc``
(not Linux) everything here finds nothing and the process group is all the
engine stops, as before.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
import threading
import time
from typing import NamedTuple

#: ``prctl`` option (linux/prctl.h).
PR_SET_CHILD_SUBREAPER = 36
#: Most processes one run may have that we look at (a fork bomb must not make the engine loop forever).
MAX_PROCESSES = 20000
#: Most rounds of freezing newly found processes before killing.
MAX_FREEZE_ROUNDS = 32
#: Most run members remembered for reaping (oldest forgotten first).
MAX_REMEMBERED = 8192
#: How much of ``/proc/<pid>/environ`` is searched for the run's id.
MAX_ENVIRON_BYTES = 1 << 20
#: The environment variable that tags a run's processes (set by the runner).
TAG_VARIABLE = b"ORCHESTRATOR_TASK_ID"

_PROC = "/proc"
_lock = threading.Lock()
_holders = 0
_on = False
_prctl: object = None  # libc's prctl once looked up; False where there is none
_remembered: dict[int, int] = {}  # pid -> start time of processes seen as members of a run
_leaders: set[int] = set()  # runs' leaders: our own Popen children, never adopted ones
#: CONFIG_PROC_CHILDREN: /proc/<pid>/task/<tid>/children lists a thread's children.
_HAS_CHILDREN_FILES = os.path.exists(f"{_PROC}/self/task/{os.getpid()}/children")


class _Stat(NamedTuple):
    state: str
    ppid: int
    pgid: int
    sid: int
    start: int


def _read(path: str, limit: int = 65536) -> bytes:
    """At most ``limit`` bytes of a /proc file (small reads: most of these files are tiny)."""
    # os.open/os.read: a run's end reads a few of these, and open() costs several times more.
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        data = os.read(fd, min(limit, 4096))
        if len(data) < min(limit, 4096):
            return data
        parts = [data]
        size = len(data)
        while size < limit:
            chunk = os.read(fd, min(limit - size, 65536))
            if not chunk:
                break
            parts.append(chunk)
            size += len(chunk)
        return b"".join(parts)
    finally:
        os.close(fd)


def _stat(pid: int) -> _Stat | None:
    """State, parent, group, session and start time (clock ticks after boot) of ``pid``; None if gone."""
    try:
        data = _read(f"{_PROC}/{pid}/stat")
        # The command name may hold spaces and ")": the fields start after the last ")".
        rest = data[data.rindex(b")") + 2:].split()
        return _Stat(rest[0].decode("ascii", "replace"), int(rest[1]), int(rest[2]), int(rest[3]), int(rest[19]))
    except (OSError, ValueError, IndexError):
        return None


def _children(pid: int) -> list[int]:
    """The children of ``pid``: every thread's ``children`` file, or a scan of /proc without them."""
    if not _HAS_CHILDREN_FILES:
        return _children_by_scan(pid)
    out: list[int] = []
    try:
        tids = os.listdir(f"{_PROC}/{pid}/task")
    except OSError:
        return out
    for tid in tids:  # a child belongs to the thread that forked it (adopted ones: to any thread)
        try:
            out.extend(int(x) for x in _read(f"{_PROC}/{pid}/task/{tid}/children", 1 << 20).split())
        except (OSError, ValueError):
            continue
    return out


def _children_by_scan(pid: int) -> list[int]:
    out = []
    for name in os.listdir(_PROC):
        if name.isdigit():
            st = _stat(int(name))
            if st is not None and st.ppid == pid:
                out.append(int(name))
    return out


def _has_tag(pid: int, tag: bytes) -> bool:
    try:
        env = _read(f"{_PROC}/{pid}/environ", MAX_ENVIRON_BYTES)
    except OSError:
        return False
    return env.startswith(tag) or b"\0" + tag in env


# ----------------------------------------------------------------- subreaper

def hold_subreaper() -> bool:
    """Make this process a child subreaper (counted: until as many :func:`release_subreaper`).

    Returns
    -------
    bool
        Whether it is one now (False where ``prctl`` is missing: not Linux).
    """
    global _holders, _on
    with _lock:
        _holders += 1
        if _holders == 1:
            _on = _set_subreaper(True)
        return _on


def release_subreaper() -> None:
    """Undo one :func:`hold_subreaper`; the last one turns the subreaper off again.

    Off while no run is going on, so programs that the app starts detached
    (a browser opened by a link) are not adopted and left unreaped.
    """
    global _holders, _on
    with _lock:
        if _holders > 0:
            _holders -= 1
            if _holders == 0 and _on:
                _set_subreaper(False)
                _on = False


def _set_subreaper(on: bool) -> bool:
    global _prctl
    if _prctl is None:
        _prctl = False
        if sys.platform.startswith("linux"):
            with contextlib.suppress(OSError, AttributeError):
                import ctypes

                prctl = ctypes.CDLL(None, use_errno=True).prctl
                # int prctl(int option, unsigned long arg2, ...): the kernel reads whole registers.
                prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
                prctl.restype = ctypes.c_int
                _prctl = prctl
    if _prctl is False:
        return False
    return bool(_prctl(PR_SET_CHILD_SUBREAPER, int(on), 0, 0, 0) == 0)  # type: ignore[operator]


def add_leader(pid: int) -> None:
    """Note a run's leader (a child this process started): never taken for an adopted orphan."""
    with _lock:
        _leaders.add(pid)


def remove_leader(pid: int) -> None:
    """Forget a leader once its ``Popen`` has reaped it."""
    with _lock:
        _leaders.discard(pid)


def _adoptable_children() -> list[int]:
    """Our children that may have been adopted: those of the main thread, less the runs' leaders.

    The kernel hands an orphan to the subreaper's first live thread (kernel/exit.c,
    find_new_reaper -> find_alive_thread), which is the main thread while it lives; children
    forked by other threads are attached to those threads and are never adopted ones. Reading
    one file instead of every thread's matters: a run's end looks here.
    """
    me = os.getpid()
    try:
        main = [int(x) for x in _read(f"{_PROC}/{me}/task/{me}/children", 1 << 20).split()] \
            if _HAS_CHILDREN_FILES else _children(me)
    except (OSError, ValueError):  # the main thread has ended: any thread may hold them
        main = _children(me)
    with _lock:
        leaders = set(_leaders)
    return [pid for pid in main if pid not in leaders]


# ----------------------------------------------------------------- finding

def run_processes(leader: int, tag: str | None, *, exited: bool = False) -> dict[int, int]:
    """The living processes of the run led by ``leader`` (the leader itself excluded).

    Parameters
    ----------
    leader : int
        The run's first process (not yet reaped: its pid is the run's session and group id).
    tag : str or None
        The run's ``ORCHESTRATOR_TASK_ID``; None looks at the session only.
    exited : bool
        The caller knows the leader has exited (its children are then ours): with no
        candidate among our children the answer is known without reading anything else.

    Returns
    -------
    dict of int to int
        pid -> start time. Each is remembered for :func:`reap_orphans`.
    """
    my_sid = os.getsid(0)
    candidates = []
    for child in _adoptable_children():
        st = _stat(child)
        # Gone, dead, or in our session: a run's process has the leader's session or one of its
        # own (setsid) and can never rejoin ours; a child we are just starting still has ours.
        if st is not None and st.state != "Z" and st.sid != my_sid:
            candidates.append((child, st))
    if exited and not candidates:
        return {}  # the usual end of a run: one small read
    lead = _stat(leader)
    if lead is None:
        return {}
    needle = TAG_VARIABLE + b"=" + tag.encode() + b"\0" if tag else None
    roots = [] if lead.state == "Z" else _children(leader)  # an exited leader's children are re-parented
    for child, st in candidates:
        if st.start < lead.start:
            continue  # older than the run
        if st.sid == leader or (needle is not None and _has_tag(child, needle)):
            roots.append(child)
    found: dict[int, int] = {}
    todo = roots
    while todo and len(found) < MAX_PROCESSES:
        pid = todo.pop()
        if pid in found or pid == leader:
            continue
        st = _stat(pid)
        if st is None or st.state == "Z":
            continue
        found[pid] = st.start
        todo.extend(_children(pid))
    with _lock:
        for pid, start in found.items():
            _remembered.pop(pid, None)
            _remembered[pid] = start
        while len(_remembered) > MAX_REMEMBERED:
            del _remembered[next(iter(_remembered))]
    return found


# ----------------------------------------------------------------- signalling

def _send(pid: int, start: int, sig: int) -> None:
    """Signal ``pid`` if it is still the process that started at ``start``."""
    try:
        fd = os.pidfd_open(pid)  # pins the process: the check below and the signal concern the same one
    except ProcessLookupError:
        return
    except (AttributeError, OSError):
        fd = None
    try:
        st = _stat(pid)
        if st is None or st.start != start:
            return
        if fd is not None:
            signal.pidfd_send_signal(fd, sig)
        else:
            os.kill(pid, sig)
    except (OSError, AttributeError):
        pass
    finally:
        if fd is not None:
            os.close(fd)


def _killpg(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def signal_run(leader: int, tag: str | None, sig: int) -> dict[int, int]:
    """Send ``sig`` to the run's group and to every process of :func:`run_processes`; return those."""
    _killpg(leader, sig)
    found = run_processes(leader, tag)
    for pid, start in found.items():
        st = _stat(pid)
        if st is not None and st.pgid != leader:  # the group has it already: a second SIGTERM may mean "hurry"
            _send(pid, start, sig)
    return found


def kill_run(leader: int, tag: str | None, *, wait_s: float = 0.5) -> int:
    """SIGKILL every process of the run (the leader too), reaping what became our children.

    Parameters
    ----------
    leader : int
        The run's leader, not yet reaped (its ``Popen`` reaps it).
    tag : str or None
        See :func:`run_processes`.
    wait_s : float
        How long to wait for the killed processes to die before reaping
        (those still dying are reaped by a later :func:`reap_orphans`).

    Returns
    -------
    int
        How many processes besides the leader were killed.
    """
    _killpg(leader, signal.SIGSTOP)  # the group stops forking at once
    frozen: dict[int, int] = {}
    for _ in range(MAX_FREEZE_ROUNDS):
        new = {pid: start for pid, start in run_processes(leader, tag).items() if pid not in frozen}
        if not new:
            break
        for pid, start in new.items():
            _send(pid, start, signal.SIGSTOP)
        frozen.update(new)
    _killpg(leader, signal.SIGKILL)
    for pid, start in frozen.items():
        _send(pid, start, signal.SIGKILL)
    _wait_dead([leader, *frozen], wait_s)
    reap_orphans()
    return len(frozen)


def _wait_dead(pids: list[int], limit_s: float) -> None:
    """Wait until every pid has exited (zombies count), at most ``limit_s``."""
    fds = []
    for pid in pids:
        with contextlib.suppress(OSError, AttributeError):
            fds.append(os.pidfd_open(pid))
    try:
        end = time.monotonic() + limit_s
        waiting = list(fds)
        while waiting:
            left = end - time.monotonic()
            if left <= 0:
                break
            ready, _, _ = select.select(waiting, [], [], left)
            waiting = [fd for fd in waiting if fd not in ready]
    finally:
        for fd in fds:
            os.close(fd)


# ----------------------------------------------------------------- reaping

def reap_orphans() -> int:
    """Reap zombie children that are certainly adopted (see the module docstring); return how many."""
    me = os.getpid()
    try:
        my_sid = os.getsid(0)
    except OSError:  # pragma: no cover - always works for ourselves
        return 0
    reaped = 0
    for child in _adoptable_children():
        st = _stat(child)
        if st is None or st.state != "Z" or st.ppid != me:
            continue
        with _lock:
            known = _remembered.get(child) == st.start
        if known or st.sid not in (my_sid, child):
            with contextlib.suppress(ChildProcessError):
                if os.waitpid(child, os.WNOHANG)[0] == child:
                    reaped += 1
            with _lock:
                _remembered.pop(child, None)
    with _lock:
        members = list(_remembered.items())
    # Forget members that are gone (reaped elsewhere) or whose pid now names another process.
    stale = [pid for pid, start in members if getattr(_stat(pid), "start", None) != start]
    with _lock:
        for pid in stale:
            _remembered.pop(pid, None)
    return reaped


__all__ = [
    "MAX_PROCESSES",
    "PR_SET_CHILD_SUBREAPER",
    "TAG_VARIABLE",
    "add_leader",
    "hold_subreaper",
    "kill_run",
    "reap_orphans",
    "release_subreaper",
    "remove_leader",
    "run_processes",
    "signal_run",
]
