"""A minimal Linux inotify watch on one file, through ctypes (no dependency).

The write protocol (docs/write-protocol.md) watches the file it is about to
replace from the moment it verifies the bytes until the swap, so a write by a
program that takes no lock is seen even when it lands between two checks.
Only the events that mean "someone changed this inode" matter; readers
(``IN_ACCESS``, ``IN_CLOSE_NOWRITE``) are not watched. ``IN_OPEN`` is watched
separately: it tells the protocol that someone opened the file inside the
critical window, so a writer that has opened it but not written yet must be
looked for.

Elsewhere (macOS, Windows) or when the kernel refuses a watch (the per-user
instance or watch limit is reached), :meth:`Watch.start` returns ``None``
and the protocol falls back to its other checks.
"""

from __future__ import annotations

import ctypes
import errno
import os
import struct
import sys
import threading

IN_MODIFY = 0x00000002
IN_ATTRIB = 0x00000004
IN_CLOSE_WRITE = 0x00000008
IN_OPEN = 0x00000020
IN_DELETE_SELF = 0x00000400
IN_MOVE_SELF = 0x00000800
IN_UNMOUNT = 0x00002000
IN_Q_OVERFLOW = 0x00004000
IN_IGNORED = 0x00008000
_IN_NONBLOCK = os.O_NONBLOCK
_IN_CLOEXEC = 0o2000000

#: Events that mean the inode's content, metadata or name changed. IN_IGNORED
#: (the watch is gone: inode deleted, file system unmounted) and a queue
#: overflow are treated as changes too: nothing can be known any more.
CHANGES = (IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_DELETE_SELF | IN_MOVE_SELF
           | IN_UNMOUNT | IN_Q_OVERFLOW | IN_IGNORED)
_WATCHED = IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_OPEN | IN_DELETE_SELF | IN_MOVE_SELF
_HEADER = struct.Struct("iIII")  # wd, mask, cookie, len (struct inotify_event)

_libc = None
if sys.platform.startswith("linux"):
    try:
        _libc = ctypes.CDLL(None, use_errno=True)
        _libc.inotify_init1.argtypes = [ctypes.c_int]
        _libc.inotify_add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
        _libc.inotify_rm_watch.argtypes = [ctypes.c_int, ctypes.c_int]
    except (OSError, AttributeError):  # pragma: no cover - a libc without inotify
        _libc = None


class _Instance:
    """The process's one inotify instance, shared by all watches.

    Closing an inotify descriptor waits for a kernel grace period (~10 ms),
    while adding and removing a watch costs microseconds; so watches come
    and go on one long-lived instance. Events are read by whoever drains and
    handed to every watch of their watch descriptor (two watches of one file
    share a descriptor).
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.fd = -1
        self.pid = -1
        self.subs: dict[int, list[Watch]] = {}

    def _ensure(self) -> int:
        if self.fd < 0 or self.pid != os.getpid():
            # A forked child shares its parent's instance (and would steal its events): make its own.
            self.subs = {}
            self.fd = _libc.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC)
            self.pid = os.getpid()
        return self.fd

    def pump(self) -> None:
        """Read every queued event and add it to its watches' masks (call with the lock held)."""
        while True:
            try:
                buf = os.read(self.fd, 64 * 1024)
            except BlockingIOError:
                return
            except InterruptedError:  # pragma: no cover
                continue
            off = 0
            while off + _HEADER.size <= len(buf):
                wd, ev, _cookie, length = _HEADER.unpack_from(buf, off)
                off += _HEADER.size + length
                targets = ([w for ws in self.subs.values() for w in ws] if ev & IN_Q_OVERFLOW
                           else self.subs.get(wd, ()))
                for w in targets:
                    w._mask |= ev

    def add(self, path: str) -> Watch | None:
        with self.lock:
            fd = self._ensure()
            if fd < 0:
                return None  # EMFILE/ENFILE/ENOMEM: too many instances
            wd = _libc.inotify_add_watch(fd, os.fsencode(path), _WATCHED)
            if wd < 0:
                err = ctypes.get_errno()
                if err in (errno.ENOSPC, errno.ENOMEM):
                    return None  # the per-user watch limit
                raise OSError(err, os.strerror(err), path)
            # Events already queued for this descriptor happened before this watch began.
            self.pump()
            watch = Watch(wd)
            self.subs.setdefault(wd, []).append(watch)
            return watch

    def drain(self, watch: Watch) -> int:
        with self.lock:
            if self.pid == os.getpid():
                self.pump()
            mask, watch._mask = watch._mask, 0
            return mask

    def remove(self, watch: Watch) -> None:
        with self.lock:
            if self.pid != os.getpid():
                return
            self.pump()
            subs = self.subs.get(watch.wd)
            if subs is None or watch not in subs:
                return
            subs.remove(watch)
            if not subs:
                del self.subs[watch.wd]
                _libc.inotify_rm_watch(self.fd, watch.wd)  # its IN_IGNORED finds no watch and is dropped


_instance = _Instance()


class Watch:
    """A watch on one file's inode, on the process's shared inotify instance.

    Use :meth:`start`; read the accumulated events with :meth:`drain`;
    always :meth:`close`.
    """

    def __init__(self, wd: int) -> None:
        self.wd = wd
        self._mask = 0
        self._open = True

    @classmethod
    def start(cls, path: str) -> Watch | None:
        """Watch the inode that ``path`` names now; ``None`` where inotify is unavailable.

        Parameters
        ----------
        path : str
            The file (symbolic links are followed).

        Returns
        -------
        Watch or None
            ``None`` on other systems or when the kernel refuses (limits);
            the caller then relies on its other checks.

        Raises
        ------
        OSError
            The path does not exist or cannot be searched.
        """
        if _libc is None:
            return None
        return _instance.add(path)

    def drain(self) -> int:
        """Return the OR of the masks of all events since the last call (0: none)."""
        return _instance.drain(self)

    def close(self) -> None:
        """Stop watching (idempotent)."""
        if self._open:
            self._open = False
            _instance.remove(self)


__all__ = ["CHANGES", "IN_MOVE_SELF", "IN_OPEN", "Watch"]
