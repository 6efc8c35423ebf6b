"""Saving a form over a record another program changed meanwhile: merge, and ask only about real clashes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orchestrator_gui.workspace.merge import three_way

KEEP_MINE = "Keep mine"
KEEP_THEIRS = "Keep theirs"


def merge_form_changes(prompter: Any, what: str, base: Mapping[str, Any], changes: Mapping[str, Any],
                       theirs: Mapping[str, Any]) -> dict[str, Any] | None:
    """The changes to write on top of ``theirs``; ``None`` when the user cancelled.

    Fields only the user changed are written, fields only the other program
    changed stay as they are, and fields both changed to different values are
    asked about (both values shown): keep mine, keep theirs, or cancel.
    """
    merge = three_way(base, changes, theirs)
    if not merge.conflicts:
        return dict(merge.changes)
    choice = prompter.choose(
        "Changed on disk",
        f"Another program changed {what} while you edited it, in the same "
        f"field{'s' if len(merge.conflicts) > 1 else ''}.",
        [KEEP_MINE, KEEP_THEIRS],
        detail="\n".join(c.describe() for c in merge.conflicts)
        + ("\n\nTheir other changes are kept either way." if merge.theirs_changed else ""))
    if choice is None:
        return None
    return merge.resolve(keep_mine=choice == KEEP_MINE)


__all__ = ["KEEP_MINE", "KEEP_THEIRS", "merge_form_changes"]
