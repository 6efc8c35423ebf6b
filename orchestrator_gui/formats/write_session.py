"""Edit sessions: a read-modify-write done under the file's lock, retried on conflicts; ``--force``.

An edit reads a file, changes it in memory and writes it back. Inside
:func:`edit_session`, :func:`orchestrator_gui.formats.fileio.read_bytes`
takes the file's lock (:mod:`orchestrator_gui.formats.file_lock`) and waits
until no other program has it open for writing before reading; the lock is
held until the session ends, so two of our writers never edit from the
same bytes. Programs that take no lock are caught when the edit is written
(:mod:`orchestrator_gui.formats.write_commit`) as a
:class:`~orchestrator_gui.problems.ConflictError`; :func:`run_edit` then
runs the whole edit again on the fresh bytes.

:func:`write_options` carries ``--force`` down to the writers without
changing every signature in between.
"""

from __future__ import annotations

import contextlib
import os
import random
import stat
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import TypeVar

from orchestrator_gui.formats.file_lock import FileLock, release
from orchestrator_gui.formats.write_guard import Guard
from orchestrator_gui.problems import ConflictError, FormatError

T = TypeVar("T")

#: How often, and for how long at most, an edit is re-read and re-applied after another
#: program changed the file (a program that rewrites it every few milliseconds may take many).
EDIT_ATTEMPTS = 200
EDIT_DEADLINE_S = 15.0

_force: ContextVar[bool] = ContextVar("orchestrator_force_write", default=False)
_session: ContextVar[EditSession | None] = ContextVar("orchestrator_edit_session", default=None)


class EditSession:
    """What an edit session holds: file locks, and the guards that watch each file since it was read."""

    def __init__(self) -> None:
        self.locks: list[FileLock] = []
        self._guards: dict[tuple[int, int], Guard] = {}

    def keep_guard(self, guard: Guard) -> None:
        """Keep watching a file that was read, until it is written or the session ends."""
        old = self._guards.pop(guard.key, None)
        if old is not None:
            old.close()
        self._guards[guard.key] = guard

    def take_guard(self, key: tuple[int, int]) -> Guard | None:
        """The guard watching the file ``key`` since it was read (the caller closes it)."""
        return self._guards.pop(key, None)

    def close(self) -> None:
        for guard in self._guards.values():
            guard.close()
        self._guards.clear()
        for lock in reversed(self.locks):
            release(lock)
        self.locks.clear()


class WriteProtectedError(FormatError):
    """The file is read-only (no write permission, or no ``w`` bit at all); nothing was written."""


@contextlib.contextmanager
def write_options(*, force: bool = False) -> Iterator[None]:
    """Within this block, writers write read-only files too when ``force`` is true."""
    token = _force.set(bool(force))
    try:
        yield
    finally:
        _force.reset(token)


def force_enabled() -> bool:
    """Whether the current :func:`write_options` allow writing read-only files."""
    return _force.get()


def check_writable(path: str, st: os.stat_result, name: str) -> None:
    """Refuse to change a read-only file unless forced.

    A file is read-only when its mode has no ``w`` bit at all (``chmod a-w``,
    which the user did on purpose, so even root is refused), or when the
    effective user may not write it.

    Raises
    ------
    WriteProtectedError
        With the advice to use ``--force``.
    """
    if force_enabled():
        return
    mode = stat.S_IMODE(st.st_mode)
    if not mode & 0o222:
        why = f"mode {mode:04o} has no write permission"
    else:
        effective = os.access in getattr(os, "supports_effective_ids", set())
        kwargs = {"effective_ids": True} if effective else {}
        if os.access(path, os.W_OK, **kwargs):
            return
        why = "you have no write permission"
    raise WriteProtectedError(name, f"the file is read-only (use --force to write anyway): {why}; "
                                    "nothing was written")


def current_session() -> EditSession | None:
    """The current :func:`edit_session` (``None`` outside one)."""
    return _session.get()


@contextlib.contextmanager
def edit_session(*, force: bool | None = None) -> Iterator[None]:
    """Hold the lock of every workspace file read within this block until it ends.

    Parameters
    ----------
    force : bool, optional
        Also set :func:`write_options` (``None`` keeps the current setting).
    """
    session = EditSession()
    token = _session.set(session)
    ftoken = _force.set(bool(force)) if force is not None else None
    try:
        yield
    finally:
        if ftoken is not None:
            _force.reset(ftoken)
        _session.reset(token)
        session.close()


def run_edit(edit: Callable[[], T], *, force: bool | None = None, attempts: int = EDIT_ATTEMPTS) -> T:
    """Run ``edit`` (read, change, save) in an :func:`edit_session`, again on each conflict.

    Parameters
    ----------
    edit : callable
        Reads the file(s) it changes with the format loaders and saves them.
        It must have no effect before its save succeeds (it is run again
        from the start after a conflict).
    force : bool, optional
        Write read-only files too.
    attempts : int
        At most this many runs (1..1000), and none started after :data:`EDIT_DEADLINE_S`.

    Returns
    -------
    Whatever ``edit`` returns.

    Raises
    ------
    ConflictError
        The file changed under every attempt.
    FormatError
        Whatever ``edit`` raises otherwise (e.g. the line it edits is no
        longer a checklist item): the edit no longer applies.
    """
    attempts = max(1, min(int(attempts), 1000))
    deadline = time.monotonic() + EDIT_DEADLINE_S
    for attempt in range(attempts):
        try:
            with edit_session(force=force):
                return edit()
        except ConflictError:
            if attempt == attempts - 1 or time.monotonic() >= deadline:
                raise
        # A short random pause: a program that rewrites the file in a loop is
        # then unlikely to hit the same window again.
        time.sleep(random.uniform(0.0005, 0.002 * min(attempt + 1, 10)))
    raise AssertionError("unreachable")  # pragma: no cover


__all__ = ["EDIT_ATTEMPTS", "EDIT_DEADLINE_S", "EditSession", "WriteProtectedError", "check_writable",
           "current_session", "edit_session", "force_enabled", "run_edit", "write_options"]
