"""Versioned edits of workspace files: an ETag per file version, refused writes of stale versions, one undo step each.

A face that shows a file and lets someone change it later (a panel, an
agent through the API) must never overwrite a version it did not see.
:func:`etag_of` names a version by the hash of its bytes; :func:`edit_file`
applies an edit the way the desktop app's panels do (the document is read,
changed in memory, and written through the session's
:class:`~orchestrator_gui.workspace.history.UndoHistory`, which refuses the
write when the file no longer holds the bytes it was read from), and
additionally refuses with :class:`StaleVersion` when the caller names the
version it saw (``if_match``) and the file holds another one.

Without ``if_match`` a write that loses the race against another program is
made again on the fresh bytes (as the CLI's edit sessions do), a few times.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestrator_gui.formats.fileio import read_bytes
from orchestrator_gui.problems import ConflictError, FormatError

#: Writes tried when another program keeps changing the file and the caller named no version.
ATTEMPTS = 20


def etag_of(data: bytes | None) -> str | None:
    """The version name of a file's bytes (``None`` for a file that does not exist)."""
    if data is None:
        return None
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def read_version(path: str | os.PathLike[str]) -> bytes | None:
    """The bytes of ``path`` now, ``None`` when there is no such file.

    Raises
    ------
    FormatError
        The file exists but cannot be read (too large, a folder, no permission).
    """
    if not os.path.lexists(path):
        return None
    return read_bytes(path)


def file_etag(path: str | os.PathLike[str]) -> str | None:
    """The ETag of the file at ``path`` now (``None`` when it does not exist)."""
    return etag_of(read_version(path))


class StaleVersion(FormatError):
    """The file is not at the version the caller named; nothing was written.

    Not a :class:`~orchestrator_gui.problems.ConflictError`: an edit session
    must not retry it, the caller has to look at the new version first.

    Attributes
    ----------
    current : str or None
        The ETag of the file as it is now (``None``: the file does not exist).
    """

    def __init__(self, file: str, current: str | None, wanted: str) -> None:
        self.current = current
        now = "does not exist" if current is None else f"is at version {current}"
        super().__init__(file, f"the file changed since version {wanted[:40]}: it {now}; "
                               "read it again and redo the edit on that version")


@dataclass(frozen=True)
class Written:
    """What :func:`edit_file` did.

    Attributes
    ----------
    value : Any
        What the edit function returned.
    etag : str or None
        The version of the file now.
    changed : bool
        Whether the file was written (an edit that changes nothing writes nothing).
    """

    value: Any
    etag: str | None
    changed: bool


class PlainWrites:
    """A stand-in for an :class:`~orchestrator_gui.workspace.history.UndoHistory` that writes without recording.

    For faces whose file edits are not undo steps (the CLI: the file is its
    own record), so they can call the same use cases (``todo_edits``,
    ``schedule_edits``) as the app and the API.
    """

    @staticmethod
    def write_file(path: str | os.PathLike[str], before: bytes | None, after: bytes, text: str) -> None:
        """Write ``after`` over ``before`` (``ConflictError`` when the file holds other bytes now)."""
        from orchestrator_gui.formats.fileio import atomic_write

        if before != after:
            atomic_write(path, after, expected=before, create=before is None)


def edit_file(history: Any, path: str | os.PathLike[str], make_doc: Callable[[Path, bytes | None], Any],
              op: Callable[[Any], Any], text: str, *, if_match: str | None = None) -> Written:
    """Apply ``op`` to the document of ``path`` and write it as one undo step.

    Parameters
    ----------
    history : UndoHistory
        Where the step goes (its ``write_file`` writes only over the bytes read).
    path : path-like
        The file.
    make_doc : callable
        ``make_doc(path, data)`` makes the editable document (``data`` is
        ``None`` for a file that does not exist yet).
    op : callable
        ``op(doc)`` changes the document in memory (raising ``FormatError``,
        ``ValueError`` or ``KeyError`` when the edit does not apply) and returns
        a value for the caller.
    text : str
        The undo step's text ("Check TODO item").
    if_match : str, optional
        The version the caller saw (:func:`etag_of`); ``"*"`` or ``None``: any.

    Raises
    ------
    StaleVersion
        ``if_match`` names another version than the file's (before or, in a
        race, at the write).
    ConflictError
        Another program changed the file under every attempt.
    FormatError, ValueError, KeyError
        The edit does not apply; nothing was written.
    """
    path = Path(path)
    want = None if if_match in (None, "*") else if_match
    for attempt in range(ATTEMPTS):
        data = read_version(path)
        if want is not None and etag_of(data) != want:
            raise StaleVersion(str(path), etag_of(data), want)
        doc = make_doc(path, data)
        value = op(doc)
        after = doc.data
        if not doc.dirty or after == data:
            return Written(value, etag_of(data), False)
        try:
            history.write_file(path, data, after, text)
        except ConflictError:
            if want is not None:
                raise StaleVersion(str(path), file_etag(path), want) from None
            if attempt == ATTEMPTS - 1:
                raise
            continue
        return Written(value, etag_of(after), True)
    raise AssertionError("unreachable")  # pragma: no cover


__all__ = ["ATTEMPTS", "PlainWrites", "StaleVersion", "Written", "edit_file", "etag_of", "file_etag", "read_version"]
