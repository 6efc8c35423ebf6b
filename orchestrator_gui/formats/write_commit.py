"""The commit of every rewrite: replace a file only if nobody changed it, losing no one's write.

This is the implementation of :func:`orchestrator_gui.formats.fileio.atomic_write`;
docs/write-protocol.md explains the choices. In short, under the file's lock
(:mod:`~orchestrator_gui.formats.file_lock`, which serialises our own writers):

1. watch the file with inotify, then check that its bytes are still the ones
   the edit was based on (else :class:`ConflictError`);
2. write the new bytes to a temporary file beside the real target (symbolic
   links are resolved), give it the file's owner, group and mode, fsync it;
3. just before committing, re-verify: no inotify event since step 1, the
   name still names the same inode, no other process has it open for writing;
4. swap the two names with ``renameat2(RENAME_EXCHANGE)`` and verify what was
   swapped out: the same inode, still untouched, nobody writing to it. On a
   mismatch, swap back: the other program's write stays in the file, and the
   edit is retried or reported as a conflict;
5. unlink the old file (now under the temporary name) and fsync the folder.

A write that lands anywhere between the check and the swap is therefore
detected and kept. A file with several hard links, or whose owner a rename
could not keep, is written in place instead (under the lock, after the same
checks), because a rename would detach it from its other names or owner.
"""

from __future__ import annotations

import os
import stat
import tempfile
import time

from orchestrator_gui.formats import file_lock
from orchestrator_gui.formats.write_guard import Guard
from orchestrator_gui.formats.write_session import check_writable, current_session
from orchestrator_gui.formats.write_swap import exchange, rename_noreplace
from orchestrator_gui.problems import ConflictError, FormatError

#: How long a commit waits for another program to close the file it is writing.
WRITER_WAIT_S = 10.0
#: Commits retried while the bytes stay as expected but something touched the
#: file (a ``chmod``, a rewrite with identical bytes, a writer that just closed it).
QUIET_ATTEMPTS = 25

CHANGED = ("file changed on disk since it was read (another program wrote to it); "
           "nothing was written. Reload it and repeat the change")
DELETED = "file was deleted on disk since it was read; nothing was written"


def commit(path: str | os.PathLike[str], data: bytes, *, expected: bytes | None, create: bool = False,
           wait_s: float = WRITER_WAIT_S) -> None:
    """Replace ``path`` with ``data`` if it still holds ``expected``; see the module docstring.

    Parameters
    ----------
    path : path-like
        File to replace (a symbolic link is followed; the link stays).
    data : bytes
        New content.
    expected : bytes or None
        The bytes the edit was based on; ``None``: the file must not exist.
    create : bool
        Allow creating a missing file (and its folder).
    wait_s : float
        How long to wait for another program to close the file (0..3600 s).

    Raises
    ------
    ConflictError
        The file is not (or no longer) what the edit was based on.
    WriteProtectedError
        The file is read-only and writing was not forced.
    FormatError
        It cannot be written (permissions, a folder, disk full ...), or
        another program kept it open for writing for ``wait_s``.
    """
    name = str(path)
    real = os.path.realpath(path)
    data = bytes(data)
    try:
        st: os.stat_result | None = os.stat(real)
    except (FileNotFoundError, NotADirectoryError):
        st = None
    except PermissionError:
        raise FormatError(name, "permission denied") from None
    except OSError as exc:
        raise FormatError(name, f"cannot access file: {exc.strerror or exc}") from None
    if st is None:
        if not create:
            raise ConflictError(name, DELETED)
        _create(real, data, name)
        return
    if stat.S_ISDIR(st.st_mode):
        raise FormatError(name, "is a directory, expected a file")
    if not stat.S_ISREG(st.st_mode):
        raise FormatError(name, "is not a regular file")
    if expected is None:
        raise ConflictError(name, CHANGED)
    check_writable(real, st, name)
    deadline = time.monotonic() + min(max(float(wait_s), 0.0), 3600.0)
    for attempt in range(QUIET_ATTEMPTS):
        try:
            lock = file_lock.acquire(real, name)
        except FileNotFoundError:
            raise ConflictError(name, DELETED) from None
        except PermissionError:
            raise FormatError(name, "permission denied") from None
        except OSError as exc:
            raise FormatError(name, f"cannot access file: {exc.strerror or exc}") from None
        try:
            if _attempt(lock, real, data, expected, name, deadline, first=attempt == 0):
                return
        finally:
            file_lock.release(lock)
    raise ConflictError(name, "other programs kept touching the file; nothing was written. Try again")


def _names(real: str, key: tuple[int, int]) -> bool:
    """Whether ``real`` still names the inode ``key``."""
    try:
        return file_lock.key_of(os.stat(real)) == key
    except OSError:
        return False


def _attempt(lock: file_lock.FileLock, real: str, data: bytes, expected: bytes, name: str,
             deadline: float, *, first: bool) -> bool:
    """One try under the lock: True when committed, False to try again, ConflictError when changed."""
    session = current_session()
    # The first try goes on with the watch the edit's read started (in an edit session).
    guard = session.take_guard(lock.key) if session is not None and first else None
    if guard is None:
        try:
            guard = Guard(real, lock)
        except OSError:
            return False  # gone meanwhile: the next acquire says so
    try:
        st = os.fstat(lock.fd)
        names = None if st.st_nlink > 1 else (real,)
        if not first:
            # Something touched the file last time: do not even read while a program is writing it.
            guard.wait_for_writers(names, name, deadline)
        if not _names(real, lock.key):
            return False  # replaced between lock and watch: the watch may be on the new file
        if _read(lock.fd, len(expected) + 1) != expected:
            raise ConflictError(name, CHANGED)
        st = os.fstat(lock.fd)
        in_place = st.st_nlink > 1 or not _can_keep_owner(st)
        tmp = _Temp(real, data, name, keep=None if in_place else st)
        try:
            # Re-verify immediately before the commit, with the new bytes durable; the scan for
            # writers (slow, when due) first, so that the last check is microseconds before the swap.
            if guard.writers(names) or guard.changed() or not _names(real, lock.key):
                return False
            if in_place:
                guard.release_lease()  # our own open for writing would break it
                _write_in_place(real, data, name)
                return True
            try:
                swapped = exchange(tmp.path, real)
            except FileNotFoundError:
                return False
            except OSError as exc:
                raise FormatError(name, f"cannot write: {exc.strerror or exc}") from None
            if not swapped:
                # No RENAME_EXCHANGE here (other systems, some file systems): a plain rename
                # right after the checks above; the remaining window is microseconds wide.
                _replace(tmp, real, name)
                return True
            # From here the temporary name names the file we replaced (removed on success).
            if not _swapped_out_ok(tmp.path, lock, expected, guard, (real, tmp.path) if names else None):
                _swap_back(tmp, real)
                return False
            tmp.remove()
            _fsync_dir(os.path.dirname(real))
            return True
        finally:
            tmp.remove()
    finally:
        guard.close()


def _swapped_out_ok(old: str, lock: file_lock.FileLock, expected: bytes, guard: Guard,
                    names: tuple[str, ...] | None) -> bool:
    """Whether the file swapped out is the one we read, untouched, with nobody writing to it."""
    try:
        if file_lock.key_of(os.lstat(old)) != lock.key:
            return False  # another program replaced the file just before the swap
    except OSError:
        return False
    if not guard.watching:
        # Without inotify: compare the bytes again (the writers are scanned every time).
        return _read(lock.fd, len(expected) + 1) == expected and not guard.writers(names)
    # Our own swap moved it (IN_MOVE_SELF); anything else is someone else's doing. A writer
    # that opened it inside the window and has not written yet is found by the scan.
    return not guard.changed_but_moved() and not guard.writers(names)


def _swap_back(tmp: _Temp, real: str) -> None:
    """Put the swapped-out file back under its name; the new file ends up under the temporary name."""
    try:
        exchange(tmp.path, real)
    except OSError:
        # Our new file was removed from under its name meanwhile: give the old one its name back.
        try:
            rename_noreplace(tmp.path, real)
            tmp.path = ""
        except OSError:
            pass
        return
    try:
        if file_lock.key_of(os.lstat(tmp.path)) != tmp.key:
            # A third program replaced our file in the instant it was in place: its file is
            # newer than the one we swapped out, so it keeps the name.
            exchange(tmp.path, real)
            return
    except OSError:
        return
    # The temporary name is our new file again: the caller removes it.


class _Temp:
    """The new content, durable, in a temporary file beside the target."""

    def __init__(self, real: str, data: bytes, name: str, *, keep: os.stat_result | None,
                 mode: int | None = None) -> None:
        folder, base = os.path.split(real)
        try:
            fd, self.path = tempfile.mkstemp(prefix=f".{base}.", suffix=".tmp", dir=folder or ".")
        except PermissionError:
            raise FormatError(name, "permission denied: cannot write in its folder") from None
        except OSError as exc:
            raise FormatError(name, f"cannot write: {exc.strerror or exc}") from None
        try:
            _write_all(fd, data, 0)
            if keep is not None:
                mine = os.fstat(fd)
                if (mine.st_uid, mine.st_gid) != (keep.st_uid, keep.st_gid) and hasattr(os, "fchown"):
                    os.fchown(fd, keep.st_uid, keep.st_gid)  # before the mode: chown clears set-id bits
                mode = stat.S_IMODE(keep.st_mode)
            if mode is not None:
                if hasattr(os, "fchmod"):
                    os.fchmod(fd, mode)
                else:  # pragma: no cover - Windows
                    os.chmod(self.path, mode)
            os.fsync(fd)
            self.key = file_lock.key_of(os.fstat(fd))
        except BaseException as exc:
            os.close(fd)
            self.remove()
            if isinstance(exc, OSError):
                raise FormatError(name, f"cannot write: {exc.strerror or exc}") from None
            raise
        os.close(fd)

    def remove(self) -> None:
        """Unlink whatever the temporary name holds (idempotent)."""
        if self.path:
            try:
                os.unlink(self.path)
            except OSError:
                pass
            self.path = ""


def _replace(tmp: _Temp, real: str, name: str) -> None:
    try:
        os.replace(tmp.path, real)
    except OSError as exc:
        raise FormatError(name, f"cannot write: {exc.strerror or exc}") from None
    tmp.path = ""
    _fsync_dir(os.path.dirname(real))


def _create(real: str, data: bytes, name: str) -> None:
    """Create a missing file, refusing if another program creates it first."""
    folder = os.path.dirname(real)
    try:
        os.makedirs(folder or ".", exist_ok=True)
    except OSError as exc:
        raise FormatError(name, f"cannot create folder: {exc.strerror or exc}") from None
    tmp = _Temp(real, data, name, keep=None, mode=0o666 & ~_umask())
    try:
        try:
            if rename_noreplace(tmp.path, real):
                tmp.path = ""
            else:
                try:
                    os.link(tmp.path, real)  # fails if the name exists: a create that never replaces
                except FileExistsError:
                    raise
                except OSError:  # pragma: no cover - no hard links (FAT, some FUSE): check, then rename
                    if os.path.lexists(real):
                        raise FileExistsError(real) from None
                    os.replace(tmp.path, real)
                    tmp.path = ""
        except FileExistsError:
            raise ConflictError(name, "file was created on disk meanwhile (another program wrote it); "
                                      "nothing was written") from None
        except OSError as exc:
            raise FormatError(name, f"cannot write: {exc.strerror or exc}") from None
    finally:
        tmp.remove()
    _fsync_dir(folder or ".")


def _write_in_place(real: str, data: bytes, name: str) -> None:
    """Overwrite the file's own inode (hard links, foreign owner): content, then length, then fsync."""
    try:
        fd = os.open(real, os.O_WRONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))
    except PermissionError:
        raise FormatError(name, "permission denied") from None
    except OSError as exc:
        raise FormatError(name, f"cannot write: {exc.strerror or exc}") from None
    try:
        _write_all(fd, data, 0)
        os.ftruncate(fd, len(data))
        os.fsync(fd)
    except OSError as exc:
        raise FormatError(name, f"cannot write: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def _can_keep_owner(st: os.stat_result) -> bool:
    """Whether a new file of ours can get ``st``'s owner and group (always as root)."""
    if not hasattr(os, "geteuid"):  # pragma: no cover - Windows has no owners to keep
        return True
    euid = os.geteuid()
    if euid == 0:
        return True
    return st.st_uid == euid and (st.st_gid == os.getegid() or st.st_gid in os.getgroups())


def _read(fd: int, limit: int) -> bytes:
    """Up to ``limit`` bytes from the start of the open file."""
    chunks, pos = [], 0
    while pos < limit:
        chunk = _pread(fd, min(limit - pos, 1 << 20), pos)
        if not chunk:
            break
        chunks.append(chunk)
        pos += len(chunk)
    return b"".join(chunks)


def _pread(fd: int, size: int, offset: int) -> bytes:
    if hasattr(os, "pread"):
        return os.pread(fd, size, offset)
    os.lseek(fd, offset, os.SEEK_SET)  # pragma: no cover - Windows
    return os.read(fd, size)


def _write_all(fd: int, data: bytes, offset: int) -> None:
    view = memoryview(data)
    while view:
        if hasattr(os, "pwrite"):
            n = os.pwrite(fd, view, offset)
        else:  # pragma: no cover - Windows
            os.lseek(fd, offset, os.SEEK_SET)
            n = os.write(fd, view)
        view, offset = view[n:], offset + n


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_dir(folder: str) -> None:
    try:
        dfd = os.open(folder or ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


__all__ = ["CHANGED", "DELETED", "QUIET_ATTEMPTS", "WRITER_WAIT_S", "commit"]
