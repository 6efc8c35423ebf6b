"""Property tests: random line soups and random edits never lose or garble other lines."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator_gui.formats.todo import TodoDocument
from orchestrator_gui.problems import FormatError

LINES = st.sampled_from([
    "", "# H", "## Sub", "- [ ] open", "- [x] done", "  - [X] nested", "\t- detail",
    "  detail", "[x] bare", "    [ ] bare child", "- [x][-] multi", "```", "~~~", "<!--",
    "-->", "text  ", "* [~] wip", "1. [ ] num", "---", "    - [ ] deep", "\t\t- [ ] tabdeep",
])
OPS = st.lists(st.tuples(st.sampled_from(
    ["add", "section", "under", "remove", "edit", "indent", "outdent", "move", "move_end"]),
    st.integers(0, 30), st.integers(0, 30)), max_size=5)


def body(data: bytes) -> list[bytes]:
    """Lines without terminators, so a last line that gains one still compares equal."""
    return [ln.rstrip(b"\r\n") for ln in data.splitlines(keepends=True)]


def is_subsequence(small: list[bytes], big: list[bytes]) -> bool:
    it = iter(big)
    return all(any(x == y for y in it) for x in small)


@settings(max_examples=300, deadline=None)
@given(st.lists(LINES, max_size=20), st.sampled_from(["\n", "\r\n"]), st.booleans(), OPS)
def test_random_edits_keep_everything_else(lines, nl, final, ops):
    text = nl.join(lines) + (nl if final else "")
    doc = TodoDocument("TODO.md", text.encode())
    assert doc.data == text.encode()
    for op, a, b in ops:
        before = doc.data
        items = doc.items
        pick = items[a % len(items)] if items else None
        try:
            if op == "add":
                doc.add("new")
            elif op == "section":
                if not doc.headings:
                    continue
                doc.add("new", section=doc.headings[a % len(doc.headings)].text)
            elif pick is None:
                continue
            elif op == "under":
                doc.add("kid", under=pick.line)
            elif op == "remove":
                doc.remove(pick.line)
            elif op == "edit":
                doc.edit(pick.line, "edited")
            elif op == "indent":
                doc.indent(pick.line)
            elif op == "outdent":
                doc.outdent(pick.line)
            elif op == "move":
                doc.move(pick.line, items[b % len(items)].line)
            elif op == "move_end":
                doc.move(pick.line, None)
        except FormatError:
            assert doc.data == before, "a refused edit must leave the data alone"
            continue
        old, new = body(before), body(doc.data)
        if op in ("add", "section", "under"):
            assert len(new) - len(old) in (1, 2) and is_subsequence(old, new)
            assert b"new" in doc.data or b"kid" in doc.data
        elif op == "remove":
            assert is_subsequence(new, old) and len(new) < len(old)
        elif op == "edit":
            assert len(new) == len(old)
            assert [k for k, (x, y) in enumerate(zip(old, new)) if x != y] in ([], [pick.line - 1])
        elif op in ("indent", "outdent"):
            assert len(new) == len(old)
            assert all(x.strip() == y.strip() for x, y in zip(old, new))
            assert all(x == y for k, (x, y) in enumerate(zip(old, new))
                       if not pick.line - 1 <= k < pick.end_line)
        else:  # a move only reorders lines (and adds or drops separating blanks)
            assert sorted(x for x in old if x.strip()) == sorted(x for x in new if x.strip()) or \
                sorted(x.strip() for x in old if x.strip()) == sorted(x.strip() for x in new if x.strip())
        # The document is always what a fresh read of its bytes gives.
        fresh = TodoDocument("TODO.md", doc.data)
        assert [i.model_dump() for i in fresh.items] == [i.model_dump() for i in doc.items]
        if "\n" in text and nl == "\r\n":
            assert doc.data.count(b"\n") == doc.data.count(b"\r\n")
        if new and new[-1].strip():  # an empty file starts with a final newline
            assert doc.data.endswith(b"\n") == (text.endswith("\n") or not text)
