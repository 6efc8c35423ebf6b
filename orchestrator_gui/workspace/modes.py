"""Editing ``.roomodes``: set a mode's fields, add a mode, remove one (the CLI and the Modes panel share this).

Every edit is one read-modify-write under the file's lock
(:func:`~orchestrator_gui.formats.write_session.run_edit`): the file is read
afresh, changed by the lossless editor
(:class:`~orchestrator_gui.formats.roomodes.ModesDocument`, which splices
only the bytes that change) and written atomically with the conflict check
of the write protocol, again from the start when another program wrote the
file in between.

Setting fields merges three ways (:func:`~orchestrator_gui.workspace.merge.three_way`):
the values the caller's edits were made against (``base``: what a form
loaded), the caller's changes, and the mode as it is on disk now. Fields
only the caller changed are written, fields only the other program changed
stay, and fields both changed to different values are *conflicts*: the
caller's ``choose`` callback decides (keep mine, keep theirs, or cancel),
asked outside the lock so that a dialog never holds other writers up.
Without ``choose`` a conflict writes nothing. Nothing is ever overwritten
silently.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from orchestrator_gui.formats.fileio import atomic_write
from orchestrator_gui.formats.roomodes import ModesDocument, load_modes, new_modes
from orchestrator_gui.formats.roomodes_values import TEXT_KEYS, check_text
from orchestrator_gui.formats.write_session import run_edit
from orchestrator_gui.problems import ConflictError, FormatError
from orchestrator_gui.workspace.merge import FieldConflict, three_way

#: The fields of a mode a form or ``modes set`` edits (file key names).
FIELDS = (*TEXT_KEYS, "groups")
#: How often one edit may ask about conflicts before giving up (the file kept changing between answers).
MAX_ASKS = 5

#: ``write(path, before, after)``: writes ``after`` over ``before`` (``None``: a new file); raises
#: :class:`~orchestrator_gui.problems.ConflictError` when the file no longer holds ``before``.
Writer = Callable[[Path, "bytes | None", bytes], None]
#: ``choose(conflicts)``: True keeps mine, False keeps theirs, None cancels.
Chooser = Callable[[list[FieldConflict]], "bool | None"]


@dataclass(frozen=True)
class ModeEdit:
    """What one edit did.

    Attributes
    ----------
    path : Path
    slug : str
    status : {"written", "unchanged", "cancelled", "conflict"}
        ``conflict``: another program changed the same fields (or the mode
        to remove) and nobody chose; nothing was written.
    changed : tuple of str
        Fields written (``set``), or the slug's own entry (``add``/``remove``).
    conflicts : tuple of FieldConflict
        The clashes that were asked about (or left undecided).
    theirs_changed : tuple of str
        Fields the other program had changed meanwhile (kept as they are).
    before, after : bytes or None
        The file's bytes before and after (``None`` before: the file was created).
    """

    path: Path
    slug: str
    status: Literal["written", "unchanged", "cancelled", "conflict"]
    changed: tuple[str, ...] = ()
    conflicts: tuple[FieldConflict, ...] = ()
    theirs_changed: tuple[str, ...] = ()
    before: bytes | None = None
    after: bytes | None = None

    @property
    def written(self) -> bool:
        """Whether the file was written."""
        return self.status == "written"


def write_file(path: Path, before: bytes | None, after: bytes) -> None:
    """The default :data:`Writer`: atomic, conflict-checked, creating the file when ``before`` is ``None``."""
    atomic_write(path, after, expected=before, create=before is None)


def mode_fields(doc: ModesDocument, slug: str) -> dict[str, Any]:
    """The editable fields of one mode as Roo reads them (``None`` for a missing key)."""
    record = doc.record(slug)
    return {k: copy.deepcopy(record.get(k)) for k in FIELDS}


def read_modes(path: str | os.PathLike[str]) -> ModesDocument | None:
    """The ``.roomodes`` at ``path``, or ``None`` when there is none.

    Raises
    ------
    FormatError
        The file cannot be read or parsed.
    """
    return load_modes(path) if os.path.lexists(path) else None


class _Ask(Exception):
    """Raised out of the locked edit: the user must decide about these conflicts first."""

    def __init__(self, conflicts: list[FieldConflict], theirs_changed: list[str]) -> None:
        super().__init__("conflicts")
        self.conflicts = conflicts
        self.theirs_changed = theirs_changed


def _signature(conflicts: list[FieldConflict]) -> str:
    """Identity of a set of conflicts: an answer holds while the other program's values stay the same."""
    return json.dumps([(c.key, c.mine, c.theirs) for c in conflicts], sort_keys=True, default=str)


def _apply(doc: ModesDocument, slug: str, values: Mapping[str, Any], line: int) -> None:
    """Write ``values`` into one mode, each checked against Roo's schema first."""
    for key, value in values.items():
        if key == "groups":
            doc.set_groups(slug, value)
            continue
        problem = check_text(key, value)
        if problem:
            raise FormatError(doc.name, f"mode {slug!r}: {problem}; nothing was changed", line=line)
        doc.set_field(slug, key, value)


def update_mode(path: str | os.PathLike[str], slug: str, changes: Mapping[str, Any], *,
                base: Mapping[str, Any] | None = None, choose: Chooser | None = None,
                write: Writer | None = None) -> ModeEdit:
    """Set fields of one mode, merging with what another program wrote meanwhile.

    Parameters
    ----------
    path : path-like
        The ``.roomodes`` file.
    slug : str
        The mode.
    changes : mapping
        Field -> new value, for the fields the caller changed (see :data:`FIELDS`;
        ``groups`` is the whole list of entries).
    base : mapping, optional
        The fields as the caller saw them when it made the changes (a form's
        loaded values). ``None``: the changes are meant for the file as it is
        now (a command line), so nothing can clash.
    choose : callable, optional
        Asked about fields both sides changed to different values; without it such an edit
        returns status ``conflict`` and writes nothing.
    write : callable, optional
        How the new bytes are written (the app passes its undo history); default :func:`write_file`.

    Raises
    ------
    FormatError
        No such mode, an unknown field, a value Roo would reject, a file that
        cannot be read or written (read-only without ``--force``), or a
        change that cannot be spliced safely. Nothing is written then.
    """
    path = Path(path)
    unknown = [k for k in changes if k not in FIELDS]
    if unknown:
        raise FormatError(str(path), f"cannot edit {', '.join(map(repr, unknown))} of a mode; "
                          f"editable: {', '.join(FIELDS)}")
    writer = write or write_file
    decided: dict[str, bool] = {}

    def edit() -> ModeEdit:
        doc = load_modes(path)
        theirs = mode_fields(doc, slug)
        line = doc.mode(slug).line
        merge = three_way(theirs if base is None else base, changes, theirs)
        final = dict(merge.changes)
        if merge.conflicts:
            answer = decided.get(_signature(merge.conflicts))
            if answer is None:
                raise _Ask(merge.conflicts, merge.theirs_changed)
            final = merge.resolve(keep_mine=answer)
        _apply(doc, slug, final, line)
        done = dict(slug=slug, conflicts=tuple(merge.conflicts), theirs_changed=tuple(merge.theirs_changed))
        if not doc.dirty:
            return ModeEdit(path, status="unchanged", before=doc.original, after=doc.original, **done)
        writer(path, doc.original, doc.data)
        return ModeEdit(path, status="written", changed=tuple(k for k in final if final[k] != theirs.get(k)),
                        before=doc.original, after=doc.data, **done)

    for _ in range(MAX_ASKS):
        try:
            return run_edit(edit)
        except _Ask as ask:
            conflicts = tuple(ask.conflicts)
            answer = None if choose is None else choose(list(ask.conflicts))
            if answer is None:
                return ModeEdit(path, slug, "conflict" if choose is None else "cancelled", conflicts=conflicts,
                                theirs_changed=tuple(ask.theirs_changed))
            decided[_signature(ask.conflicts)] = bool(answer)
    raise ConflictError(str(path), f"mode {slug!r} kept changing while you decided; nothing was written. Try again")


def add_mode(path: str | os.PathLike[str], slug: str, *, name: str, role_definition: str, groups: list[Any],
             when_to_use: str | None = None, description: str | None = None,
             custom_instructions: str | None = None, write: Writer | None = None) -> ModeEdit:
    """Append a new mode (creating ``.roomodes`` when there is none); see :meth:`ModesDocument.add_mode`.

    Raises
    ------
    FormatError
        The slug is invalid or taken, a value Roo would reject, or the file cannot be written.
    """
    path = Path(path)
    writer = write or write_file

    def edit() -> ModeEdit:
        doc = load_modes(path) if os.path.lexists(path) else new_modes(path)
        doc.add_mode(slug, name=name, role_definition=role_definition, groups=list(groups), when_to_use=when_to_use,
                     description=description, custom_instructions=custom_instructions)
        writer(path, doc.original, doc.data)
        return ModeEdit(path, slug, "written", changed=(slug,), before=doc.original, after=doc.data)

    return run_edit(edit)


def remove_mode(path: str | os.PathLike[str], slug: str, *, base: Mapping[str, Any] | None = None,
                write: Writer | None = None) -> ModeEdit:
    """Remove one mode's entry.

    Parameters
    ----------
    base : mapping, optional
        The mode's fields as the caller showed them when the user chose to
        remove it; when another program changed them meanwhile nothing is
        removed (status ``conflict``, the changed fields in ``theirs_changed``),
        so nobody's edit is dropped unseen.

    Raises
    ------
    FormatError
        No such mode, or the file cannot be read or written.
    """
    path = Path(path)
    writer = write or write_file

    def edit() -> ModeEdit:
        doc = load_modes(path)
        if base is not None:
            theirs = mode_fields(doc, slug)
            moved = tuple(k for k in FIELDS if theirs.get(k) != base.get(k))
            if moved:
                return ModeEdit(path, slug, "conflict", theirs_changed=moved, before=doc.original)
        doc.remove_mode(slug)
        writer(path, doc.original, doc.data)
        return ModeEdit(path, slug, "written", changed=(slug,), before=doc.original, after=doc.data)

    return run_edit(edit)


__all__ = ["FIELDS", "MAX_ASKS", "Chooser", "ModeEdit", "Writer", "add_mode", "mode_fields", "read_modes",
           "remove_mode", "update_mode", "write_file"]
