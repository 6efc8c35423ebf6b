"""Three-way merge of a form's fields: what the form loaded, what the user typed, what is on disk now.

A form (a schedule, a mode) is loaded from the file, edited, and saved
later. Meanwhile an agent or the Roo extension may have written the same
record. Saving the form's values over the file would silently undo their
change; reloading would silently drop the user's. The merge keeps both when
they touched different fields, and names the fields both changed so that
the user decides, seeing both values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

_ABSENT = object()


@dataclass(frozen=True)
class FieldConflict:
    """A field both sides changed, to different values (``None`` shown for a removed key)."""

    key: str
    base: Any
    mine: Any
    theirs: Any

    def describe(self) -> str:
        """One line for a dialog: the field, their value and mine."""
        return f"{self.key}: theirs {_show(self.theirs)}, mine {_show(self.mine)} (was {_show(self.base)})"


@dataclass(frozen=True)
class Merge:
    """The outcome of :func:`three_way`.

    Attributes
    ----------
    changes : dict
        What to write on top of *theirs*: the user's changes that do not clash.
    conflicts : list of FieldConflict
        Fields both sides changed differently; the caller asks, then calls :meth:`resolve`.
    theirs_changed : list of str
        Fields the other program changed (kept as they are on disk).
    """

    changes: dict[str, Any]
    conflicts: list[FieldConflict] = field(default_factory=list)
    theirs_changed: list[str] = field(default_factory=list)

    def resolve(self, keep_mine: bool) -> dict[str, Any]:
        """The changes to write once the user chose for every conflict at once (mine or theirs)."""
        if not keep_mine:
            return dict(self.changes)
        return {**self.changes, **{c.key: c.mine for c in self.conflicts}}


def _show(value: Any) -> str:
    if value is _ABSENT or value is None:
        return "(none)"
    return repr(value) if not isinstance(value, str) else f"“{value}”"


def three_way(base: Mapping[str, Any], mine: Mapping[str, Any], theirs: Mapping[str, Any]) -> Merge:
    """Merge the fields the user changed (``mine``, relative to ``base``) into ``theirs``.

    Parameters
    ----------
    base : mapping
        The record as the form loaded it.
    mine : mapping
        Only the fields the user changed, with their new values.
    theirs : mapping
        The record as it is on disk now.

    A field the user changed that *theirs* left at its base value is taken;
    one that *theirs* changed to the same value needs nothing; one that
    *theirs* changed to another value is a conflict.
    """
    changes: dict[str, Any] = {}
    conflicts: list[FieldConflict] = []
    for key, value in mine.items():
        was, now = base.get(key, _ABSENT), theirs.get(key, _ABSENT)
        if now == value:
            continue  # both sides agree already
        if now == was:
            changes[key] = value
        else:
            conflicts.append(FieldConflict(key, None if was is _ABSENT else was, value,
                                           None if now is _ABSENT else now))
    theirs_changed = sorted(k for k in set(base) | set(theirs)
                            if base.get(k, _ABSENT) != theirs.get(k, _ABSENT))
    return Merge(changes, conflicts, theirs_changed)


__all__ = ["FieldConflict", "Merge", "three_way"]
