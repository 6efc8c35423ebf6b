"""Which other processes hold a file open for writing (Linux ``/proc``).

A program that rewrites a file in place (``open(O_TRUNC)``, write, close, as
Node's ``fs.writeFile`` does) may pause between writes. Replacing the file
then would send the rest of its write to an unlinked inode, and cut the file
short. So the write protocol does not commit while another process has the
file open for writing, and waits (bounded) for it to finish.

``/proc/PID/fd/N`` names every open file; ``/proc/PID/fdinfo/N`` holds its
open flags. Only processes this user may inspect are seen (all of them for
root); elsewhere the scan finds nothing and the other checks remain.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable

from orchestrator_gui.problems import FormatError

_PROC = "/proc"
_HAVE_PROC = os.path.isdir(os.path.join(_PROC, "self", "fdinfo"))
_DELETED = " (deleted)"


def _flags(pid: str, fd: str) -> int | None:
    try:
        with open(f"{_PROC}/{pid}/fdinfo/{fd}", "rb") as fh:
            for line in fh:
                if line.startswith(b"flags:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        return None
    return None


def _comm(pid: str) -> str:
    try:
        with open(f"{_PROC}/{pid}/comm", "rb") as fh:
            return fh.read(64).decode("utf-8", "replace").strip() or "?"
    except OSError:
        return "?"


def writers(key: tuple[int, int], names: Iterable[str] | None) -> list[tuple[int, str]]:
    """Return ``(pid, command name)`` of other processes with the inode open for writing.

    Parameters
    ----------
    key : (int, int)
        ``(st_dev, st_ino)`` of the file.
    names : iterable of str or None
        Names the file may be open under; an open file whose ``/proc`` link
        has another base name is skipped without a ``stat`` (the scan is
        then ~3x cheaper). ``None`` checks every open file (a file with
        several hard links may be open under any of them).

    Returns
    -------
    list of (int, str)
        Empty where ``/proc`` is not available.
    """
    if not _HAVE_PROC:
        return []
    bases = None if names is None else {os.path.basename(n) for n in names}
    me = str(os.getpid())
    found: list[tuple[int, str]] = []
    try:
        pids = os.listdir(_PROC)
    except OSError:  # pragma: no cover
        return []
    for pid in pids:
        if not pid.isdigit() or pid == me:
            continue
        fd_dir = f"{_PROC}/{pid}/fd/"
        try:
            fds = os.listdir(fd_dir)
        except OSError:  # gone, or another user's process
            continue
        for fd in fds:
            try:
                link = os.readlink(fd_dir + fd)
            except OSError:
                continue
            if not link.startswith("/"):
                continue  # pipe:, socket:, anon_inode:
            if bases is not None:
                base = link.removesuffix(_DELETED).rpartition("/")[2]
                if base not in bases:
                    continue
            try:
                st = os.stat(fd_dir + fd)
            except OSError:
                continue
            if (st.st_dev, st.st_ino) != key:
                continue
            flags = _flags(pid, fd)
            if flags is None or flags & os.O_ACCMODE != os.O_RDONLY:
                found.append((int(pid), _comm(pid)))
                break
    return found


def wait_for_writers(key: tuple[int, int], names: Iterable[str] | None, name: str, deadline: float) -> None:
    """Return once no other process has the file open for writing; poll until ``deadline``.

    Raises
    ------
    FormatError
        A process still has it open for writing at ``deadline`` (its pid
        and command name are given so the user can see who).
    """
    names = None if names is None else list(names)
    pause = 0.002
    while True:
        busy = writers(key, names)
        if not busy:
            return
        if time.monotonic() >= deadline:
            pid, comm = busy[0]
            raise FormatError(name, f"another program ({comm}, pid {pid}) keeps the file open for writing; "
                                    "nothing was written. Try again when it has finished")
        time.sleep(pause)
        pause = min(pause * 2, 0.05)


__all__ = ["wait_for_writers", "writers"]
