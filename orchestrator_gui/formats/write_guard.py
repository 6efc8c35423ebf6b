"""A file under guard from an edit's read to its commit (docs/write-protocol.md).

Programs that take no lock are seen in two ways:

* an inotify watch on the file's inode reports every change (content,
  metadata, a rename over it) from the moment the guard starts;
* open writers: a process that holds the file open for writing may write
  into it at any moment, so nothing is read while one does, and nothing is
  committed while one does.

Open writers are found with a Linux *read lease* (``F_SETLEASE F_RDLCK``) on
our read-only descriptor of the file, where the kernel grants one (the
file's owner, or root): the kernel refuses it while any process has the file
open for writing, and while it is held, a process that opens the file for
writing (or truncates it) is held up until we let go, and the lease shows it
(``F_GETLEASE`` turns to ``F_UNLCK``). That is exact and costs one system
call. We let go as soon as we see it, so such a writer waits milliseconds.
The kernel signals the holder when a lease is broken; the signal is set to
``SIGURG``, whose default action is to ignore it. A lease is held only for
the instant of a check and from the last check before a commit to the end of
the commit: between an edit's read and its commit, the inotify watch tells
whether a writer came and went (it cannot write, or even close the file
after opening it for writing, unseen).

Where no lease is granted (another user's file, a file system without
leases), ``/proc`` is scanned (:mod:`~orchestrator_gui.formats.write_openers`):
once after the watch began, and again only when the watch saw somebody open
the file since the last scan, since only an open can add a writer.
"""

from __future__ import annotations

import errno
import signal
import time
from collections.abc import Sequence

from orchestrator_gui.formats.file_lock import FileLock
from orchestrator_gui.formats.inotify import CHANGES, IN_MOVE_SELF, IN_OPEN, Watch
from orchestrator_gui.formats.write_openers import wait_for_writers, writers
from orchestrator_gui.problems import FormatError

try:
    import fcntl

    _F_SETLEASE, _F_GETLEASE, _F_SETSIG = fcntl.F_SETLEASE, fcntl.F_GETLEASE, fcntl.F_SETSIG
    _SIGNAL = int(getattr(signal, "SIGURG", 0))
except (ImportError, AttributeError):  # not Linux
    fcntl = None  # type: ignore[assignment]
    _SIGNAL = 0

#: errno values meaning "no lease for this file here" (not the owner, no lease support).
_NO_LEASE = {errno.EACCES, errno.EPERM, errno.EINVAL, errno.ENOLCK, errno.EBADF, errno.ENOSYS}


class Guard:
    """Guard one file: the inode ``lock`` is on, which ``real`` names when the guard starts.

    Parameters
    ----------
    real : str
        The file's resolved path.
    lock : FileLock
        Our lock of it; its read-only descriptor carries the lease.

    Raises
    ------
    OSError
        The file vanished before the watch began (the caller tries again).
    """

    def __init__(self, real: str, lock: FileLock) -> None:
        self.real = real
        self.lock = lock
        self.key = lock.key
        self.watch = Watch.start(real)
        self._scan_due = True
        self._pending = 0
        self._leasable = fcntl is not None and _SIGNAL != 0 and _leases_allowed()

    # -- changes -------------------------------------------------------------------------------
    @property
    def watching(self) -> bool:
        """Whether inotify watches (else the caller must compare bytes itself)."""
        return self.watch is not None

    def changed(self, *, ignore: int = 0) -> bool:
        """Whether the file changed since the last call.

        Parameters
        ----------
        ignore : int
            Event bits not to count (``IN_MOVE_SELF`` after our own swap).
        """
        self._pump()
        seen, self._pending = self._pending, 0
        return bool(seen & CHANGES & ~ignore)

    def changed_but_moved(self) -> bool:
        """:meth:`changed`, ignoring the move of the file by our own swap."""
        return self.changed(ignore=IN_MOVE_SELF)

    def _pump(self) -> None:
        if self.watch is not None:
            seen = self.watch.drain()
            if seen & IN_OPEN:
                self._scan_due = True
            self._pending |= seen

    # -- writers -------------------------------------------------------------------------------
    def _take_lease(self) -> bool:
        """Take the read lease; False while a writer has the file open (or leases are not granted)."""
        fd = self.lock.fd
        try:
            fcntl.fcntl(fd, _F_SETSIG, _SIGNAL)  # before the lease: the default SIGIO would kill us
            fcntl.fcntl(fd, _F_SETLEASE, fcntl.F_RDLCK)
        except BlockingIOError:
            return False
        except OSError as exc:
            if exc.errno in _NO_LEASE:
                self._leasable = False
                return False
            raise
        self.lock.lease_owner = self
        return True

    def _holds_lease(self) -> bool:
        if self.lock.lease_owner is not self:
            return False
        try:
            return fcntl.fcntl(self.lock.fd, _F_GETLEASE) == fcntl.F_RDLCK  # F_UNLCK: a writer is opening it
        except OSError:
            return False

    def release_lease(self) -> None:
        """Let go of the lease (a writer held up by it goes on at once)."""
        if self.lock.lease_owner is self:
            self.lock.lease_owner = None
            try:
                fcntl.fcntl(self.lock.fd, _F_SETLEASE, fcntl.F_UNLCK)
            except OSError:
                pass

    def writers(self, names: Sequence[str] | None) -> bool:
        """Whether another process has the file open for writing, or is opening it.

        With a lease this is one system call; a writer found lets go of it.
        Otherwise ``/proc`` is scanned when an open may have added a writer
        (call :meth:`changed` first; it notices opens).
        """
        if self._leasable:
            if self._holds_lease():
                return False
            if self.lock.lease_owner is self:  # a writer is opening it: let it go on
                self.release_lease()
                return True
            if self._take_lease():
                return False
            if self._leasable:
                return True  # refused: a writer has it open
        self._pump()
        if self.watch is not None and not self._scan_due:
            return False
        self._scan_due = False  # opens during the scan are noticed by the next changed()
        return bool(writers(self.key, names))

    def wait_for_writers(self, names: Sequence[str] | None, name: str, deadline: float) -> None:
        """Return once nobody has the file open for writing (polling until ``deadline``).

        Raises
        ------
        FormatError
            A writer still has it open at ``deadline``.
        """
        if self._leasable:
            if self._holds_lease():
                return
            self.release_lease()
            pause = 0.001
            while not self._take_lease():
                if not self._leasable:
                    break  # not granted after all: scan instead
                if time.monotonic() >= deadline:
                    busy = writers(self.key, names)
                    who = f"{busy[0][1]}, pid {busy[0][0]}" if busy else "pid unknown"
                    raise FormatError(name, f"another program ({who}) keeps the file open for writing; "
                                            "nothing was written. Try again when it has finished")
                time.sleep(pause)
                pause = min(pause * 2, 0.05)
            else:
                return
        self._pump()
        if self.watch is not None and not self._scan_due:
            return
        self._scan_due = False
        wait_for_writers(self.key, names, name, deadline)

    def close(self) -> None:
        """Stop guarding (idempotent)."""
        self.release_lease()
        if self.watch is not None:
            self.watch.close()
            self.watch = None


def _leases_allowed() -> bool:
    # The handler of the lease signal must be the default (ignore) or one installed on purpose.
    try:
        return signal.getsignal(_SIGNAL) is not None
    except (ValueError, OSError):  # pragma: no cover
        return False


__all__ = ["Guard"]
