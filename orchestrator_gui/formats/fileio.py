"""Safe reading and atomic, conflict-checked writing of workspace files.

The workspace files belong to the user and to other tools that rewrite them
while we run (the Roo extension rewrites ``schedules.json`` every minute
during a long task, agents append to ``TODO.md``). So every write:

1. happens under the file's lock, which all our writers take
   (:mod:`orchestrator_gui.formats.file_lock`);
2. refuses with :class:`ConflictError` if the file's bytes are not the ones
   the editor started from, and keeps checking (inotify, open writers) until
   the new file is in place, so a write by another program is never lost;
3. replaces the file atomically, keeping its owner, group, mode, symbolic
   links and hard links, and fsyncs the file and its folder.

The protocol itself is in :mod:`orchestrator_gui.formats.write_commit` and
docs/write-protocol.md. Inside an edit session
(:func:`orchestrator_gui.formats.write_session.edit_session`) reading a file
takes its lock and holds it until the session ends, so a whole
read-modify-write is serialised against our other writers.

Reading turns every low-level failure (missing file, a folder, permission
denied, binary garbage, UTF-16, an absurdly large file) into a
:class:`FormatError` naming the file and, where possible, the line.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import stat
import tempfile  # noqa: F401 - the module write_commit takes temporary files from (tests patch it here)
import time
from pathlib import Path

from orchestrator_gui.formats import file_lock
from orchestrator_gui.formats.write_commit import QUIET_ATTEMPTS, WRITER_WAIT_S, commit
from orchestrator_gui.formats.write_guard import Guard
from orchestrator_gui.formats.write_session import EditSession, current_session
from orchestrator_gui.problems import ConflictError, FormatError

#: Workspace files are hand-sized text; the largest real one seen is 827 KB.
#: Anything past this limit is refused rather than loaded into the UI.
MAX_FILE_BYTES = 20 * 1024 * 1024

UTF8_BOM = codecs.BOM_UTF8


def stat_regular_file(path: str | os.PathLike[str], name: str) -> os.stat_result:
    """``os.stat`` of a file we are about to read or write, with the same clean errors everywhere.

    Raises
    ------
    FormatError
        Missing, not permitted, not accessible, a directory, or not a regular file.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise FormatError(name, "file not found") from None
    except PermissionError:
        raise FormatError(name, "permission denied") from None
    except OSError as exc:
        raise FormatError(name, f"cannot access file: {exc.strerror or exc}") from None
    if stat.S_ISDIR(st.st_mode):
        raise FormatError(name, "is a directory, expected a file")
    if not stat.S_ISREG(st.st_mode):
        raise FormatError(name, "is not a regular file")
    return st


def read_bytes(path: str | os.PathLike[str], *, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """Read a workspace file's bytes, raising :class:`FormatError` on any failure.

    Parameters
    ----------
    path : path-like
        File to read.
    max_bytes : int
        Files larger than this are refused with a clear message.

    Returns
    -------
    bytes
        The file's exact content.
    """
    name = str(path)
    st = stat_regular_file(path, name)
    check_size(name, st.st_size, max_bytes)
    session = current_session()
    if session is not None:
        return _read_for_edit(path, name, session, max_bytes)
    return _read(path, name, max_bytes)


def _read(path: str | os.PathLike[str], name: str, max_bytes: int) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read(max_bytes + 1)
    except PermissionError:
        raise FormatError(name, "permission denied") from None
    except IsADirectoryError:
        raise FormatError(name, "is a directory, expected a file") from None
    except OSError as exc:
        raise FormatError(name, f"cannot read file: {exc.strerror or exc}") from None


def _open(path: str | os.PathLike[str], name: str):  # noqa: ANN202 - a binary file object
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise FormatError(name, "file not found") from None
    except PermissionError:
        raise FormatError(name, "permission denied") from None
    except IsADirectoryError:
        raise FormatError(name, "is a directory, expected a file") from None
    except OSError as exc:
        raise FormatError(name, f"cannot read file: {exc.strerror or exc}") from None


def check_size(name: str, size: int, max_bytes: int = MAX_FILE_BYTES) -> None:
    """Refuse a file of ``size`` bytes past ``max_bytes`` with the reader's message."""
    if size > max_bytes:
        raise FormatError(
            name,
            f"file is too large ({size / 1e6:.1f} MB; the limit is "
            f"{max_bytes / 1e6:.0f} MB); refusing to load it",
        )


def _read_for_edit(path: str | os.PathLike[str], name: str, session: EditSession, max_bytes: int) -> bytes:
    """In an edit session: take the file's lock for the rest of the session, then read a whole version.

    Another program may be in the middle of writing the file (it takes no
    lock): the read waits until nobody has it open for writing (bounded by
    :data:`WRITER_WAIT_S`), and is repeated when the file changed while it
    was read, so the edit never starts from half a file. The file stays
    watched (:class:`~orchestrator_gui.formats.write_guard.Guard`) until it
    is written, so the commit knows what happened since this read.
    """
    real = os.path.realpath(path)
    deadline = time.monotonic() + WRITER_WAIT_S
    for _ in range(QUIET_ATTEMPTS):
        lock = _lock(real, name)
        # Opened before the watch starts, so that our own open is not taken for someone else's.
        with _open(path, name) as fh:
            if file_lock.key_of(os.fstat(fh.fileno())) != lock.key:
                file_lock.release(lock)
                continue  # replaced since it was locked
            session.locks.append(lock)  # held until the session ends
            try:
                guard: Guard | None = Guard(real, lock)
            except OSError:
                continue
            try:
                names = None if os.fstat(fh.fileno()).st_nlink > 1 else (real,)
                for _ in range(3):  # (without a lease) a scan again when somebody opened it meanwhile
                    guard.wait_for_writers(names, name, deadline)
                    guard.changed()  # what changed up to now is in what we read below
                    if not guard.writers(names):
                        break
                if not _names(real, lock.key):
                    continue
                try:
                    data = fh.read(max_bytes + 1)
                except OSError as exc:
                    raise FormatError(name, f"cannot read file: {exc.strerror or exc}") from None
                if guard.watching and guard.changed():
                    continue  # written while we read it
                # Writers may open it while the edit is made (the watch sees what they do); the
                # commit takes the lease again.
                guard.release_lease()
                session.keep_guard(guard)
                guard = None
                return data
            finally:
                if guard is not None:
                    guard.close()
    raise ConflictError(name, "file kept changing while it was read; nothing was written. Try again")


def _lock(real: str, name: str) -> file_lock.FileLock:
    try:
        return file_lock.acquire(real, name)
    except FileNotFoundError:
        raise FormatError(name, "file not found") from None
    except PermissionError:
        raise FormatError(name, "permission denied") from None
    except OSError as exc:
        raise FormatError(name, f"cannot read file: {exc.strerror or exc}") from None


def _names(real: str, key: tuple[int, int]) -> bool:
    try:
        return file_lock.key_of(os.stat(real)) == key
    except OSError:
        return False


def line_of_offset(data: bytes | str, offset: int) -> int:
    """Return the 1-based line number containing byte/char ``offset``."""
    nl = b"\n" if isinstance(data, bytes) else "\n"
    return data.count(nl, 0, max(0, offset)) + 1


def decode_text(data: bytes, name: str, *, allow_bom: bool = True) -> tuple[str, bool]:
    """Decode a workspace text file strictly as UTF-8.

    Parameters
    ----------
    data : bytes
        Raw file content.
    name : str
        File name used in error messages.
    allow_bom : bool
        Whether a UTF-8 byte-order mark is acceptable (it is kept by the
        caller). ``schedules.json`` must not have one, because the Roo
        extension's ``JSON.parse`` fails on it.

    Returns
    -------
    text : str
        Decoded text without the BOM.
    has_bom : bool
        Whether the data started with a UTF-8 BOM.
    """
    if data.startswith(codecs.BOM_UTF16_LE) or data.startswith(codecs.BOM_UTF16_BE):
        raise FormatError(name, "file is UTF-16 encoded; save it as UTF-8", line=1)
    has_bom = data.startswith(UTF8_BOM)
    if has_bom and not allow_bom:
        raise FormatError(
            name,
            "file starts with a UTF-8 byte-order mark (BOM); Roo cannot parse it. "
            "Save it as UTF-8 without BOM",
            line=1,
        )
    body = data[len(UTF8_BOM):] if has_bom else data
    nul = body.find(b"\x00")
    if nul >= 0:
        line = line_of_offset(body, nul)
        # A NUL every other byte is the signature of BOM-less UTF-16 text.
        if body[1:200:2].count(0) > len(body[1:200:2]) // 2:
            raise FormatError(name, "file looks UTF-16 encoded; save it as UTF-8", line=line)
        raise FormatError(name, "file contains NUL bytes: binary data, not text", line=line)
    try:
        return body.decode("utf-8"), has_bom
    except UnicodeDecodeError as exc:
        line = line_of_offset(body, exc.start)
        raise FormatError(
            name, f"invalid UTF-8 byte 0x{body[exc.start]:02x}: binary data or a non-UTF-8 encoding",
            line=line,
        ) from None


def digest(data: bytes) -> str:
    """Return a short content hash used to detect external changes."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def atomic_write(
    path: str | os.PathLike[str],
    data: bytes,
    *,
    expected: bytes | None,
    create: bool = False,
) -> None:
    """Replace ``path`` with ``data`` atomically, if nobody changed it meanwhile.

    Takes the file's lock, verifies the bytes, and commits by the protocol of
    :mod:`orchestrator_gui.formats.write_commit`: a write by another program
    at any moment up to the commit is detected and kept (the edit then
    fails with :class:`ConflictError`, or is committed after it when the
    bytes are unchanged). Symbolic links are written through, hard links
    stay linked, owner, group and mode are kept.

    Parameters
    ----------
    path : path-like
        File to replace.
    data : bytes
        New content.
    expected : bytes or None
        The bytes the caller read and edited. If the file on disk differs,
        :class:`ConflictError` is raised and nothing is written. ``None``
        means the file must not exist yet (only with ``create=True``).
    create : bool
        Allow creating a new file (and its parent folder).

    Raises
    ------
    ConflictError
        The file changed (or appeared, or vanished) since it was read.
    WriteProtectedError
        The file is read-only, outside :func:`~orchestrator_gui.formats.write_session.write_options`
        with ``force=True``.
    FormatError
        It cannot be written.
    """
    commit(path, data, expected=expected, create=create)


def split_lines(text: str) -> list[str]:
    """Split text into lines, each keeping its own terminator (``\\n``, ``\\r\\n`` or none)."""
    # str.splitlines would also split on a lone \r, \x0b, \x1c, U+2028 …;
    # the workspace formats only know \n and \r\n, so split on \n and let a
    # preceding \r travel with its line.
    out: list[str] = []
    start = 0
    while True:
        i = text.find("\n", start)
        if i < 0:
            if start < len(text):
                out.append(text[start:])
            return out
        out.append(text[start:i + 1])
        start = i + 1


def strip_terminator(line: str) -> str:
    """Return ``line`` without its ``\\n`` or ``\\r\\n`` terminator."""
    if line.endswith("\r\n"):
        return line[:-2]
    if line.endswith("\n"):
        return line[:-1]
    return line


def terminator(line: str) -> str:
    """Return the terminator of ``line``: ``"\\r\\n"``, ``"\\n"`` or ``""``."""
    return line[len(strip_terminator(line)):]


def dominant_newline(lines: list[str]) -> str:
    """Return ``"\\r\\n"`` if most terminated lines use CRLF, else ``"\\n"``."""
    crlf = sum(1 for ln in lines if ln.endswith("\r\n"))
    lf = sum(1 for ln in lines if ln.endswith("\n")) - crlf
    return "\r\n" if crlf > lf else "\n"


class TextFile:
    """A workspace file held in memory with the bytes it was read from.

    Editors keep ``original`` (what was read) and ``data`` (the edited
    bytes). :meth:`save` writes ``data`` atomically, refusing if the file on
    disk no longer equals ``original``.

    Parameters
    ----------
    path : path-like
        Location of the file.
    data : bytes
        Its content as read.
    """

    def __init__(self, path: str | os.PathLike[str], data: bytes) -> None:
        self.path = Path(path)
        self.name = str(path)
        self.original = data
        self.data = data

    @property
    def dirty(self) -> bool:
        """Whether there are edits not yet saved."""
        return self.data != self.original

    def changed_on_disk(self) -> bool:
        """Return True if the file on disk no longer has the bytes we read."""
        try:
            return self.path.read_bytes() != self.original
        except OSError:
            return True

    def save(self) -> None:
        """Write the edited bytes atomically; see :func:`atomic_write`."""
        if not self.dirty:
            return
        atomic_write(self.path, self.data, expected=self.original)
        self.original = self.data
