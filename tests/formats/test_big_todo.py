"""The TODO.md reader and editor for big files (issue 13) find and write exactly what they did before.

The scanner works on whole arrays now, the editor splices one run of lines
into the text instead of copying every line, and the style helpers read
columns. Each is held equal to its line-by-line predecessor, kept in
``todo_oracle.py``: on the real fixtures and on random files built from the
lines that exercise every rule (fences, comments, tabs, long indents, many
boxes, numbered bullets, front matter, CRLF, stray CRs, non-ASCII text).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shared_fixtures import fixture_files
from todo_oracle import OracleDocument, oracle_scan

from orchestrator_gui.formats.todo import TodoDocument
from orchestrator_gui.formats.todo_parse import is_blank, scan_todo, strip_terminator
from orchestrator_gui.problems import FormatError

LINES = [
    "", " ", "\t", "   ", "\t\t", "# H", "## Sub é", "### Title ###", "#", "####### seven", "#nospace", "## [x] heading",
    "- [ ] open", "- [x] done  ", "  - [X] nested\t", "\t- detail", "  detail", "[x] bare", "    [ ] bare child",
    "- [x][-] multi", "* [~] wip", "+ [-] plus", "- [*] star", "- [ ]", "- [ ]   ", "- [ ] \t", "- [ ]x", "-[ ] no",
    "1. [ ] num", "12) [x] n", "1234567890. [ ] toolong", "    - [ ] deep", "\t\t- [ ] tabdeep", " \t- [ ] mixed",
    "- \t [ ] wide", "[ ][ ][ ][ ][ ][ ][ ][ ][ ][x] ten boxes", " " * 20 + "- [ ] far", " " * 20 + "detail far",
    "- " + " " * 20 + "[ ] wide sep", "- [ ] trailing" + " " * 20, "ü- [ ] not", "- [ ] ünï ☃ 𝄞", "- [ ] a\rb",
    "```", "~~~", "  ```py", "````", "  ~~~~ x", "```x`", "  ````", "   ~~~",
    "<!--", "<!-- one line -->", "-->", "a --> b", "  <!-- x", "---", "...", "text  ", "x\r", "\r", " \r ",
]


def assert_same_scan(text: str) -> None:
    new, old = scan_todo(text), oracle_scan(text)
    assert [vars(i) for i in new.items] == [vars(i) for i in old.items]
    assert [vars(h) for h in new.headings] == [vars(h) for h in old.headings]
    assert new.notes == old.notes
    assert new.line_count == len(old.lines) and new.lines == old.lines
    assert [new.line(k) for k in range(new.line_count)] == old.lines
    assert list(new.blank) == [is_blank(strip_terminator(ln)) for ln in old.lines]


def soup(lines: list[str], nl: str, final: bool, front: bool) -> str:
    body = (["---", "title: x"] if front else []) + lines
    return nl.join(body) + (nl if final else "")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(LINES), max_size=40), st.sampled_from(["\n", "\r\n"]), st.booleans(),
       st.booleans())
def test_random_files_scan_as_the_line_by_line_scanner(lines, nl, final, front):
    assert_same_scan(soup(lines, nl, final, front))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 60), st.sampled_from(["- [ ] i", "d", "", "```", "# h"])),
                min_size=30, max_size=90))
def test_many_indentation_widths_scan_as_before(rows):
    # More than 32 distinct widths take the one-pass stack instead of the per-width array passes.
    assert_same_scan("\n".join(" " * w + text for w, text in rows) + "\n")


def test_forty_widths_nest_like_a_staircase():
    text = "".join(" " * w + f"- [ ] w{w}\n" for w in range(40))
    assert [i.depth for i in TodoDocument("T", text.encode()).items] == list(range(40))
    assert_same_scan(text)


@pytest.mark.parametrize("path", fixture_files("todo"), ids=lambda p: p.name[:50])
def test_fixtures_edit_like_the_row_editor(path):
    data = path.read_bytes()
    doc = TodoDocument("TODO.md", data)
    lines = [i.line for i in doc.items]
    heads = [h.text for h in doc.headings]
    ops = [("add", "a new item", {}), ("edit", lines[len(lines) // 2], "edited"), ("remove", lines[-1])]
    if heads:
        ops.append(("add", "in a section", {"section": heads[-1]}))
    ops.append(("add", "a child", {"under": lines[0]}))
    assert run(TodoDocument, data, ops) == run(OracleDocument, data, ops)


def run(cls: type[TodoDocument], data: bytes, ops: list) -> list:
    doc = cls("TODO.md", data)
    out: list = []
    for op in ops:
        try:
            if op[0] == "add":
                out.append(doc.add(op[1], **op[2]))
            elif op[0] == "edit":
                out.append(doc.edit(op[1], op[2]))
            elif op[0] == "remove":
                out.append(doc.remove(op[1]))
            else:
                out.append((doc.check if op[0] == "check" else doc.uncheck)(op[1]))
        except FormatError as exc:
            out.append(str(exc))
        out.append(doc.data)
    out.append([i.model_dump() for i in doc.items])
    return out


OPS = st.one_of(
    st.tuples(st.just("add"), st.sampled_from(["new", "x  y", "ü"]),
              st.one_of(st.just({}), st.builds(lambda s: {"section": s}, st.sampled_from(["H", "Sub é", "no"])),
                        st.builds(lambda n: {"under": n}, st.integers(1, 30)))),
    st.tuples(st.just("edit"), st.integers(1, 30), st.sampled_from(["e", "- [ ] q", "```", "t  "])),
    st.tuples(st.just("remove"), st.integers(1, 30)),
    st.tuples(st.sampled_from(["check", "uncheck"]), st.integers(1, 30)),
)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(LINES), max_size=30), st.sampled_from(["\n", "\r\n"]), st.booleans(),
       st.booleans(), st.lists(OPS, min_size=1, max_size=4))
def test_random_edits_write_what_the_row_editor_wrote(lines, nl, final, bom, ops):
    data = (b"\xef\xbb\xbf" if bom else b"") + soup(lines, nl, final, False).encode()
    assert run(TodoDocument, data, ops) == run(OracleDocument, data, ops)


def old_problems(doc: TodoDocument) -> list:
    """The duplicate / empty / odd-box findings as the dict-of-titles loop made them."""
    out = []
    odd = {b for b in set(doc.item_boxes) if "[*]" in b}
    first: dict[str, int] = {}
    for line, boxes, text in zip(doc.item_lines, doc.item_boxes, doc.titles, strict=True):
        if odd and boxes in odd:
            out.append((line, "warning", boxes))
        if not text:
            out.append((line, "info", "empty"))
        elif (seen := first.setdefault(text, line)) != line:
            out.append((line, "info", seen))
    return out


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(["- [ ] a", "- [ ] b", "- [*] a", "- [ ]", "  - [x] a", "- [ ] ü", "x"]),
                max_size=30))
def test_title_findings_as_before(lines):
    doc = TodoDocument("T", "\n".join(lines).encode())
    got = []
    for p in doc.problems():
        if "non-standard" in p.message:
            got.append((p.line, "warning", p.message.split(" in ")[1].split(";")[0]))
        elif "no title" in p.message:
            got.append((p.line, "info", "empty"))
        elif "duplicate" in p.message:
            got.append((p.line, "info", int(p.message.split("line ")[1].split(")")[0])))
    assert sorted(got, key=lambda g: g[0]) == sorted(old_problems(doc), key=lambda g: g[0])


def test_a_toggle_changes_one_byte_without_scanning_again():
    data = "# A\n" + "".join(f"- [ ] item {k}\n  detail ü {k}\n" for k in range(50))
    doc = TodoDocument("TODO.md", data.encode())
    parse = doc._parse
    doc.check(52)
    assert doc._parse is parse and parse._lines is None  # no re-scan, no list of every line
    changed = [k for k, (a, b) in enumerate(zip(data.encode(), doc.data, strict=True)) if a != b]
    assert len(changed) == 1 and doc.data[changed[0]:changed[0] + 1] == b"x"
    assert doc.item_at(52).state == "done" and doc._parse.text == doc.data.decode()
    assert [i.model_dump() for i in doc.items] == [i.model_dump() for i in TodoDocument("T", doc.data).items]
