"""One advisory lock per workspace file, shared by all our writers (docs/write-protocol.md).

The lock is ``flock(LOCK_EX)`` on the file itself, the lock timing appends
always took. A rewrite replaces the file by a new inode, so a waiter may wake
up holding the lock of a file that is no longer there: after locking, the
path is looked up again, and if it names another inode by now the lock is
dropped and taken on that one. Locking the file (not a lock file beside it)
leaves no clutter in the user's folders, follows symbolic links, and covers
every hard link of the file.

``flock`` locks belong to an open file description, so two threads with
their own ``open`` exclude each other like two processes. A thread that
already holds a file's lock gets it again at once (the count goes up): a CLI
edit holds the lock from its read to its write, and the write takes the same
lock inside.
"""

from __future__ import annotations

import os
import stat
import threading
import time
from dataclasses import dataclass

from orchestrator_gui.problems import FormatError

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]
    import msvcrt

#: How long an edit waits for another of our writers before giving up. Far
#: longer than any edit holds it (milliseconds); reached only if a writer hangs.
LOCK_WAIT_S = 30.0

_local = threading.local()


@dataclass(eq=False)
class FileLock:
    """A held lock: the descriptor it lives on, the inode, and how often this thread took it.

    ``lease_owner`` is the guard (:mod:`~orchestrator_gui.formats.write_guard`)
    whose read lease is on the descriptor, if any.
    """

    fd: int
    key: tuple[int, int]
    path: str
    count: int = 1
    owns_fd: bool = True
    lease_owner: object | None = None


def _held() -> dict[tuple[int, int], FileLock]:
    held = getattr(_local, "held", None)
    if held is None:
        held = _local.held = {}
    return held


def key_of(st: os.stat_result) -> tuple[int, int]:
    """The identity of a file: ``(st_dev, st_ino)``."""
    return st.st_dev, st.st_ino


def _try_lock(fd: int) -> bool:
    if fcntl is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True
    # pragma: no cover - Windows: lock one byte far past any real file end, so
    # that readers of the content are not blocked by the mandatory lock.
    os.lseek(fd, 2**31 - 2, os.SEEK_SET)
    try:
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    except OSError:
        return False
    return True


def _unlock(fd: int) -> None:
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return
    os.lseek(fd, 2**31 - 2, os.SEEK_SET)  # pragma: no cover - Windows
    msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)


def _wait_lock(fd: int, name: str, wait_s: float | None) -> None:
    if wait_s is None and fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_EX)  # blocks without the GIL: the cheapest wait for appenders
        return
    deadline = time.monotonic() + (LOCK_WAIT_S if wait_s is None else wait_s)
    pause = 0.0002
    while not _try_lock(fd):
        if time.monotonic() >= deadline:
            raise FormatError(name, "another orchestrator-gui process has been writing the file for "
                                    f"{LOCK_WAIT_S if wait_s is None else wait_s:g} s; nothing was written")
        time.sleep(pause)
        pause = min(pause * 2, 0.01)


def _same(path: str, key: tuple[int, int]) -> bool:
    try:
        return key_of(os.stat(path)) == key
    except OSError:
        return False


def lock_fd(fd: int, path: str, name: str, *, wait_s: float | None = None) -> FileLock | None:
    """Lock the file open on ``fd`` (the caller keeps the descriptor).

    Parameters
    ----------
    fd : int
        An open descriptor of the file.
    path : str
        The name it was opened by.
    name : str
        File name for messages.
    wait_s : float or None
        Give up after this long; ``None`` blocks.

    Returns
    -------
    FileLock or None
        ``None`` when ``path`` names another file by the time the lock is
        held (it was replaced): the lock is released, reopen and try again.
    """
    key = key_of(os.fstat(fd))
    held = _held()
    mine = held.get(key)
    if mine is not None:
        mine.count += 1
        return mine
    _wait_lock(fd, name, wait_s)
    if not _same(path, key):
        _unlock(fd)
        return None
    lock = held[key] = FileLock(fd, key, path, owns_fd=False)
    return lock


def acquire(path: str, name: str, *, wait_s: float | None = LOCK_WAIT_S) -> FileLock:
    """Lock the file that ``path`` names (following symbolic links).

    Parameters
    ----------
    path : str
        The file; it must exist.
    name : str
        File name for messages.
    wait_s : float or None
        Give up after this long; ``None`` blocks.

    Returns
    -------
    FileLock
        Held by this thread; pass it to :func:`release`. Its ``fd`` is a
        read-only descriptor of the locked inode.

    Raises
    ------
    OSError
        ``FileNotFoundError``, ``PermissionError`` ... from opening it.
    FormatError
        Not a regular file, or still locked after ``wait_s``.
    """
    flags = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
    flags |= getattr(os, "O_NONBLOCK", 0)
    held = _held()
    if held:
        # Already ours (an edit session locked it when it read it): no open, which a watch
        # on the file would take for another program's.
        try:
            mine = held.get(key_of(os.stat(path)))
        except OSError:
            mine = None
        if mine is not None:
            mine.count += 1
            return mine
    while True:
        fd = os.open(path, flags)
        try:
            st = os.fstat(fd)
            if stat.S_ISDIR(st.st_mode):
                raise FormatError(name, "is a directory, expected a file")
            if not stat.S_ISREG(st.st_mode):
                raise FormatError(name, "is not a regular file")
            key = key_of(st)
            held = _held()
            mine = held.get(key)
            if mine is not None:
                os.close(fd)
                mine.count += 1
                return mine
            _wait_lock(fd, name, wait_s)
            if _same(path, key):
                lock = held[key] = FileLock(fd, key, path)
                return lock
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)  # replaced while we waited: lock the file that is there now


def release(lock: FileLock) -> None:
    """Release one :func:`acquire`/:func:`lock_fd` of this thread; the last one unlocks."""
    lock.count -= 1
    if lock.count > 0:
        return
    _held().pop(lock.key, None)
    try:
        _unlock(lock.fd)
    finally:
        if lock.owns_fd:
            os.close(lock.fd)


__all__ = ["LOCK_WAIT_S", "FileLock", "acquire", "key_of", "lock_fd", "release"]
