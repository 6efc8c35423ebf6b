"""``workspace.file_edits``: versions of a file, stale versions refused, the plain writer the CLI can use."""

from __future__ import annotations

import pytest

from orchestrator_gui.workspace import todo_edits
from orchestrator_gui.workspace.file_edits import PlainWrites, StaleVersion, etag_of


def test_plain_writes_edit_and_refuse_a_stale_version(workspace):
    todo = workspace / "TODO.md"
    before = todo.read_bytes()
    item = todo_edits.list_items(workspace, "open")[0][0]
    done = todo_edits.set_done(PlainWrites(), workspace, item["id"], True, if_match=etag_of(before))
    after = todo.read_bytes()
    assert done.changed and done.etag == etag_of(after) and sum(a != b for a, b in zip(before, after)) == 1
    with pytest.raises(StaleVersion) as err:
        todo_edits.set_done(PlainWrites(), workspace, item["id"], False, if_match=etag_of(before))
    assert err.value.current == etag_of(after) and todo.read_bytes() == after
    again = todo_edits.set_done(PlainWrites(), workspace, item["id"], True)
    assert not again.changed and todo.read_bytes() == after  # already done: nothing written
