"""The undo position read back from the journal: what the app, the CLI and the API all continue from."""

from __future__ import annotations

from types import SimpleNamespace

from orchestrator_gui.workspace.history import undo_position


def e(tx_id, operation="edit", of=None, kind="tx", valid=True, undoable=None):
    params = {} if of is None else {"of": of}
    if undoable is not None:
        params["undoable"] = undoable
    return SimpleNamespace(tx_id=tx_id, operation=operation, params=params, kind=kind, valid=valid)


def test_undo_position_from_journal_entries():
    log = [e("t1"), e("t2"), e("u1", "undo", "t2"), e("r1", "redo", "t2"), e("u2", "undo", "r1")]
    assert undo_position(log) == (["t1"], ["r1"])
    assert undo_position([*log, e("t3")]) == (["t1", "t3"], [])  # a new change clears the redo stack
    assert undo_position([*log, e("u3", "undo", "t1")]) == ([], ["r1", "t1"])
    assert undo_position([*log, e("i1", "import", kind="reset"), e("t4")]) == (["t4"], [])
    assert undo_position([e("t1"), e("bad", valid=False), e("t5")]) == (["t5"], [])


def test_steps_marked_not_undoable_are_skipped_and_keep_the_redo_stack():
    log = [e("t1"), e("t2"), e("u1", "undo", "t2"), e("sync", "sync_workspace", undoable=False)]
    assert undo_position(log) == (["t1"], ["t2"])  # an automatic sync neither is a step nor clears redo
    assert undo_position([*log, e("build", "sync_workspace")]) == (["t1", "build"], [])  # an explicit one is
