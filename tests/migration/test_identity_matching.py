"""pair_entries: which old item each new item continues, by position and neighbours (the documented rule)."""

from __future__ import annotations

from orchestrator_gui.migration.matching import Entry, pair_entries


def items(prefix: str, texts: list[str], *, kind: str = "item", scope: str = "TODO.md") -> list[Entry]:
    """Entries named ``<prefix><n>`` whose text identity is their text."""
    return [Entry(f"{prefix}{n}", scope, kind, t, t) for n, t in enumerate(texts)]


def pairs(old: list[str], new: list[str]) -> dict[str, str]:
    return pair_entries(items("old", old), items("new", new))


def test_unchanged_items_pair_in_order():
    assert pairs(["a", "b", "c"], ["a", "b", "c"]) == {"new0": "old0", "new1": "old1", "new2": "old2"}


def test_an_edited_item_pairs_with_the_item_at_its_place():
    assert pairs(["Write parser", "Write docs", "Ship"], ["Write parser", "Rewrite the docs entirely", "Ship"]) == {
        "new0": "old0", "new1": "old1", "new2": "old2"}


def test_two_items_edited_at_once_pair_in_order():
    got = pairs(["a", "first", "second", "z"], ["a", "FIRST!", "something else", "z"])
    assert got == {"new0": "old0", "new1": "old1", "new2": "old2", "new3": "old3"}


def test_a_moved_item_pairs_by_its_text_wherever_it_went():
    assert pairs(["a", "b", "c", "d"], ["b", "c", "a", "d"]) == {"new0": "old1", "new1": "old2", "new2": "old0",
                                                                 "new3": "old3"}


def test_lines_inserted_above_do_not_shift_identities():
    got = pairs(["a", "b", "edit me"], ["new 1", "new 2", "a", "b", "edit me, edited"])
    assert got == {"new2": "old0", "new3": "old1", "new4": "old2"}


def test_duplicate_titles_the_edited_one_keeps_its_node():
    # [X, X] -> [Y, X]: the X still in second place is the second X; the first became Y.
    assert pairs(["X", "X"], ["Y", "X"]) == {"new0": "old0", "new1": "old1"}
    assert pairs(["X", "X"], ["X", "Y"]) == {"new0": "old0", "new1": "old1"}
    # with neighbours in between, the neighbours decide
    assert pairs(["X", "a", "X", "b"], ["a", "X", "b"]) == {"new0": "old1", "new1": "old2", "new2": "old3"}


def test_deleted_and_added_at_the_same_place_is_an_edit():
    # Indistinguishable from rewriting the item: the new item takes over the node (documented rule 4).
    assert pairs(["a", "gone", "c"], ["a", "totally unrelated", "c"]) == {"new0": "old0", "new1": "old1",
                                                                         "new2": "old2"}


def test_unequal_counts_pair_only_alike_texts():
    got = pairs(["a", "Fix the parser crash", "c"], ["a", "Brand new item", "Fix the parser crash on CRLF", "c"])
    assert got == {"new0": "old0", "new2": "old1", "new3": "old2"}
    # nothing alike: when in doubt, nothing pairs
    got = pairs(["a", "Fix the parser crash", "c"], ["a", "Brand new item", "Another new one", "c"])
    assert got == {"new0": "old0", "new3": "old2"}


def test_two_equally_alike_candidates_pair_neither():
    got = pairs(["a", "Task number one", "z"], ["a", "Task number 1", "Task number 1", "z"])
    assert "new1" not in got and "new2" not in got


def test_moved_and_slightly_reworded_pairs_but_moved_and_rewritten_does_not():
    got = pairs(["Alpha task", "b", "c", "d"], ["b", "c", "Alpha task!", "d"])
    assert got["new2"] == "old0"
    got = pairs(["Alpha task", "b", "c", "d"], ["b", "c", "Something else", "d"])
    assert "new2" not in got and "old0" not in got.values()


def test_kinds_and_scopes_never_mix():
    # a heading that became an item (same text, same place) is a new node of another kind
    assert pair_entries(items("h", ["Same text"], kind="heading"), items("i", ["Same text"])) == {}
    old = items("s", ["Step one"], kind="section", scope="schedule/a")
    new = items("S", ["Step one, renamed"], kind="section", scope="schedule/b")
    assert pair_entries(old, new) == {}
    new = items("S", ["Step one, renamed"], kind="section", scope="schedule/a")
    assert pair_entries(old, new) == {"S0": "s0"}


def test_each_item_pairs_at_most_once_in_a_big_rewrite():
    old = [f"item {n}" for n in range(3000)]
    new = [f"item {n} (edited)" if n % 3 == 0 else f"item {n}" for n in range(3000)]
    got = pairs(old, new)
    assert got == {f"new{n}": f"old{n}" for n in range(3000)}
    assert len(set(got.values())) == len(got)
