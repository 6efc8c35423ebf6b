"""The columnar TODO.md scanner finds exactly what the one-object-per-item scanner found.

The scanner stores its items as columns and makes item records on access (a
million-line checklist would otherwise hold a million objects); these tests
compare it, item by item and field by field, with the previous scanner kept
in ``todo_oracle.py``, on the real fixtures and on random line soups.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shared_fixtures import fixture_files
from todo_oracle import oracle_scan

from orchestrator_gui.formats.fileio import split_lines
from orchestrator_gui.formats.todo import TodoDocument, TodoItems
from orchestrator_gui.formats.todo_model import TodoItem, construct_unchecked
from orchestrator_gui.formats.todo_parse import scan_todo, split_lines_fast

LINES = st.sampled_from([
    "", " ", "\t", "# H", "## Sub", "- [ ] open", "- [x] done", "  - [X] nested", "\t- detail",
    "  detail", "[x] bare", "    [ ] bare child", "- [x][-] multi", "```", "~~~", "  ```py", "<!--",
    "<!-- one line -->", "-->", "text  ", "* [~] wip", "1. [ ] num", "---", "...", "    - [ ] deep",
    "\t\t- [ ] tabdeep", " \t- [ ] mixed", "- [*] star", "- [ ]", "#", "### Title ###", "x\r",
])


def assert_same_scan(text: str) -> None:
    new, old = scan_todo(text), oracle_scan(text)
    assert [vars(i) for i in new.items] == [vars(i) for i in old.items]
    assert [vars(h) for h in new.headings] == [vars(h) for h in old.headings]
    assert new.notes == old.notes
    assert new.lines == old.lines and new.line_count == len(old.lines)
    for k, it in enumerate(old.items):
        assert new.item_index_at(it.line) == k == old.item_index_at(it.line)
    assert new.item_index_at(0) is None and new.item_index_at(len(old.lines) + 1) is None


@pytest.mark.parametrize("path", fixture_files("todo"), ids=lambda p: p.name[:50])
def test_fixtures_scan_as_before(path):
    assert_same_scan(path.read_bytes().decode("utf-8").removeprefix("\ufeff"))


@settings(max_examples=400, deadline=None)
@given(st.lists(LINES, max_size=40), st.sampled_from(["\n", "\r\n"]), st.booleans())
def test_random_soups_scan_as_before(lines, nl, final):
    assert_same_scan(nl.join(lines) + (nl if final else ""))


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab -[]x#`~<!>\t\n\r\x0b\x85\u2028 ")), max_size=80))
def test_any_text_splits_and_scans_as_before(text):
    assert split_lines_fast(text) == split_lines(text)
    assert_same_scan(text)


def test_items_behave_as_a_list_of_fresh_models():
    doc = TodoDocument("TODO.md", b"# A\n- [ ] one\n  - [x] two\n    detail\n- [X] three\n")
    items = doc.items
    assert isinstance(items, TodoItems) and len(items) == 3
    assert [i.text for i in items] == ["one", "two", "three"]
    assert items[-1].text == "three" and [i.line for i in items[1:]] == [3, 5]
    assert items[1].details == ["    detail"] and items[1].parent_line == 2 and items[1].section == "A"
    assert items == list(items) and items != items[:2]
    assert items[0] is not items[0] and items[0] == items[0]  # fresh each time, equal by value
    with pytest.raises(IndexError):
        items[3]
    assert [i.model_dump() for i in items] == [items[k].model_dump() for k in range(3)]
    # what validation makes of the same values
    assert all(TodoItem(**i.model_dump()) == i for i in items)
    assert list(doc.rows()) == [(i.line, i.state, i.text, i.depth, i.section, i.boxes) for i in items]
    assert list(doc.rows("done")) == [r for r in doc.rows() if r[1] == "done"]


def test_toggle_patches_text_lines_and_items_consistently():
    data = b"- [ ] a\r\n- [x] b\r\n  - [ ] c"
    doc = TodoDocument("TODO.md", data)
    doc.check(3)
    assert doc.data == b"- [ ] a\r\n- [x] b\r\n  - [x] c"
    assert doc.item_at(3).state == "done" and doc._parse.lines[2] == "  - [x] c"
    assert doc._parse.text == doc.data.decode()
    doc.uncheck(2)
    doc.check(2)  # the remembered case comes back: the original byte
    assert [i.model_dump() for i in doc.items] == [i.model_dump() for i in TodoDocument("T", doc.data).items]


def test_construct_unchecked_equals_model_construct():
    values = dict(line=1, end_line=2, state="open", marker=" ", boxes="[ ]", text="t", depth=0, indent="",
                  bullet="-", section=None, details=["x"], parent_line=None)
    fast = construct_unchecked(TodoItem, dict(values))
    slow = TodoItem.model_construct(**values)
    assert fast == slow and fast.model_dump() == slow.model_dump()
    copy = fast.model_copy(update={"marker": "x"})
    assert copy.marker == "x" and fast.marker == " "
    assert fast.model_fields_set == set(TodoItem.model_fields)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="# \tab", max_size=30))
def test_headings_lose_their_closing_hashes_as_the_commonmark_rule_says(title):
    import re

    from orchestrator_gui.formats.todo_parse import heading_of

    level, text = heading_of("## " + title) or (None, None)
    stripped = (title.strip(" \t\r"))
    expected = "" if stripped.strip("#") == "" else re.sub(r"[ \t]+#+$", "", stripped)
    assert (level, text) == (2, expected)


def test_a_heading_with_a_long_run_of_tabs_inside_scans():
    # Found by benchmarks/fuzz.py: "## Dev" + 500 000 tabs + "eloper" took 21 minutes (a regex retried
    # the closing-hashes rule from every tab).
    doc = TodoDocument("TODO.md", b"## Dev" + b"\t" * 500_000 + b"eloper ##\n- [ ] a\n")
    assert doc.items[0].text == "a"
    assert doc.items[0].section.endswith("\teloper")


def test_duplicate_titles_are_listed_a_hundred_times_then_counted():
    # A million duplicate items gave a million findings (check: 17.6 s and 2.2 GB for 2.6M lines).
    doc = TodoDocument("TODO.md", b"- [ ] a\n" * 251 + b"- [ ] \n")
    found = doc.problems()
    dupes = [p for p in found if p.message.startswith("duplicate item title")]
    assert len(dupes) == 100 and dupes[0].line == 2 and dupes[-1].line == 101
    assert [p.format() for p in found if "more like" in p.message] == [
        "TODO.md:102: info: 150 more like the 100 above: duplicate item titles (lines 102 to 251)"]
    assert found[-1].format() == "TODO.md:252: info: item has no title"
