"""Three-way field merge: different fields merge, the same field changed twice is a conflict to ask about."""

from __future__ import annotations

from orchestrator_gui.workspace.merge import three_way

BASE = {"name": "Nightly", "timeInterval": "1", "timeUnit": "day", "active": True}


def test_different_fields_merge_silently():
    theirs = {**BASE, "timeUnit": "hour"}
    m = three_way(BASE, {"name": "Nightly build"}, theirs)
    assert m.changes == {"name": "Nightly build"} and not m.conflicts
    assert m.theirs_changed == ["timeUnit"]


def test_the_same_field_changed_on_both_sides_is_a_conflict_with_both_values():
    theirs = {**BASE, "timeInterval": "5"}
    m = three_way(BASE, {"timeInterval": "3", "name": "N"}, theirs)
    assert m.changes == {"name": "N"}
    (c,) = m.conflicts
    assert (c.key, c.base, c.mine, c.theirs) == ("timeInterval", "1", "3", "5")
    assert "theirs “5”" in c.describe() and "mine “3”" in c.describe()
    assert m.resolve(keep_mine=True) == {"name": "N", "timeInterval": "3"}
    assert m.resolve(keep_mine=False) == {"name": "N"}


def test_both_sides_making_the_same_change_is_no_conflict():
    m = three_way(BASE, {"timeInterval": "5"}, {**BASE, "timeInterval": "5"})
    assert m.changes == {} and not m.conflicts


def test_a_field_they_removed_that_i_changed_is_a_conflict():
    theirs = {k: v for k, v in BASE.items() if k != "timeUnit"}
    (c,) = three_way(BASE, {"timeUnit": "week"}, theirs).conflicts
    assert c.theirs is None and c.mine == "week"
