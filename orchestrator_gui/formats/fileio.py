"""Safe reading and atomic, conflict-checked writing of workspace files.

The workspace files belong to the user and to other tools that rewrite them
while we run (the Roo extension rewrites ``schedules.json`` every minute
during a long task). So every write here:

1. re-reads the file and refuses with :class:`ConflictError` if its bytes are
   not the ones the editor started from;
2. writes a temporary file in the same folder, fsyncs it, copies the original
   permissions, and renames it over the original (atomic on POSIX);
3. fsyncs the folder so the rename itself survives a crash.

Reading turns every low-level failure (missing file, a folder, permission
denied, binary garbage, UTF-16, an absurdly large file) into a
:class:`FormatError` naming the file and, where possible, the line.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import stat
import tempfile
from pathlib import Path

from orchestrator_gui.problems import ConflictError, FormatError

#: Workspace files are hand-sized text; the largest real one seen is 827 KB.
#: Anything past this limit is refused rather than loaded into the UI.
MAX_FILE_BYTES = 20 * 1024 * 1024

UTF8_BOM = codecs.BOM_UTF8


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
    if st.st_size > max_bytes:
        raise FormatError(
            name,
            f"file is too large ({st.st_size / 1e6:.1f} MB; the limit is "
            f"{max_bytes / 1e6:.0f} MB); refusing to load it",
        )
    try:
        with open(path, "rb") as fh:
            return fh.read(max_bytes + 1)
    except PermissionError:
        raise FormatError(name, "permission denied") from None
    except IsADirectoryError:
        raise FormatError(name, "is a directory, expected a file") from None
    except OSError as exc:
        raise FormatError(name, f"cannot read file: {exc.strerror or exc}") from None


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
    """
    name = str(path)
    p = Path(path)
    try:
        current: bytes | None = p.read_bytes()
    except FileNotFoundError:
        current = None
    except IsADirectoryError:
        raise FormatError(name, "is a directory, expected a file") from None
    except PermissionError:
        raise FormatError(name, "permission denied") from None
    if current is None and not create:
        raise ConflictError(name, "file was deleted on disk since it was read; nothing was written")
    if current is not None and (expected is None or digest(current) != digest(expected)):
        raise ConflictError(
            name,
            "file changed on disk since it was read (another program wrote to it); "
            "nothing was written. Reload it and repeat the change",
        )
    if current is None:
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise FormatError(name, f"cannot create folder: {exc.strerror or exc}") from None
        mode = 0o666 & ~_umask()
    else:
        mode = stat.S_IMODE(p.stat().st_mode)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=str(p.parent))
    except PermissionError:
        raise FormatError(name, "permission denied: cannot write in its folder") from None
    except OSError as exc:
        raise FormatError(name, f"cannot write: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, p)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise FormatError(name, f"cannot write: {exc.strerror or exc}") from None
        raise
    _fsync_dir(p.parent)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_dir(folder: Path) -> None:
    try:
        dfd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


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
