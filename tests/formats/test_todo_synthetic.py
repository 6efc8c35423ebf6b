"""TODO.md editor on small synthetic files: line endings, BOM, saving, scale, edge cases."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestrator_gui.formats.todo import TodoDocument, load_todo, parse_todo
from orchestrator_gui.problems import ConflictError, FormatError


def doc_of(tmp_path: Path, data: bytes, name: str = "TODO.md") -> TodoDocument:
    path = tmp_path / name
    path.write_bytes(data)
    return load_todo(path)


CRLF_DOC = (b"# Tasks\r\n\r\n- [ ] alpha\r\n\t- **Note**: tab detail\r\n\r\n"
            b"- [x] beta\r\n  - two-space detail\r\n\r\n## Later\r\n- [X] gamma\r\n")


def test_crlf_preserved_through_every_edit(tmp_path):
    doc = doc_of(tmp_path, CRLF_DOC)
    assert [i.line for i in doc.items] == [3, 6, 10]
    doc.check(3)
    assert doc.data == CRLF_DOC.replace(b"- [ ] alpha", b"- [x] alpha")
    doc.uncheck(3)
    assert doc.data == CRLF_DOC
    new = doc.add("delta", under=3)
    assert new == 5 and doc.item_at(5).indent == "\t"
    assert doc.data.startswith(b"# Tasks\r\n\r\n- [ ] alpha\r\n\t- **Note**: tab detail\r\n"
                               b"\t- [ ] delta\r\n\r\n- [x] beta")
    doc.add("epsilon", section="Later")
    doc.add("zeta")
    beta = next(i.line for i in doc.items if i.text == "beta")
    doc.edit(beta, "renamed")
    doc.indent(beta)
    assert doc.item_at(beta).parent_line == 3
    doc.move(beta, None)
    doc.remove(3)
    assert [i.text for i in doc.items] == ["gamma", "epsilon", "zeta"]
    assert doc.data.count(b"\n") == doc.data.count(b"\r\n")
    assert doc.data.endswith(b"\r\n")


def test_new_lines_use_dominant_newline_and_mixed_endings_stay(tmp_path):
    data = b"- [ ] a\r\n- [ ] b\n- [ ] c\r\n"
    doc = doc_of(tmp_path, data)
    doc.add("d")
    assert doc.data == data + b"- [ ] d\r\n"
    doc.check(2)
    assert doc.data == b"- [ ] a\r\n- [x] b\n- [ ] c\r\n- [ ] d\r\n"


def test_bom_kept_and_toggle_is_one_byte(tmp_path):
    data = codecs.BOM_UTF8 + "- [ ] ünïcode ✅\n".encode()
    doc = doc_of(tmp_path, data)
    assert doc.items[0].line == 1 and doc.items[0].text == "ünïcode ✅"
    doc.check(1)
    assert doc.data == data.replace(b"[ ]", b"[x]")
    doc.save()
    assert (tmp_path / "TODO.md").read_bytes().startswith(codecs.BOM_UTF8)


def test_save_refuses_on_external_change(tmp_path):
    doc = doc_of(tmp_path, b"- [ ] a\n")
    doc.check(1)
    (tmp_path / "TODO.md").write_bytes(b"- [ ] a\n- [ ] written by an agent\n")
    with pytest.raises(ConflictError):
        doc.save()
    assert (tmp_path / "TODO.md").read_bytes() == b"- [ ] a\n- [ ] written by an agent\n"
    fresh = load_todo(tmp_path / "TODO.md")
    fresh.check(2)
    fresh.save()
    assert (tmp_path / "TODO.md").read_bytes() == b"- [ ] a\n- [x] written by an agent\n"


def test_load_errors_are_format_errors(tmp_path):
    with pytest.raises(FormatError, match="not found"):
        load_todo(tmp_path / "missing.md")
    (tmp_path / "u16.md").write_bytes("- [ ] a\n".encode("utf-16"))
    with pytest.raises(FormatError, match="UTF-16"):
        load_todo(tmp_path / "u16.md")


def test_upper_x_case_is_remembered(tmp_path):
    doc = doc_of(tmp_path, b"- [ ] z\n- [X] a\n- [x] b\n")
    doc.uncheck(2)
    doc.uncheck(3)
    doc.remove(1)  # the memory follows the item to its new line
    doc.add("new")
    doc.check(1)
    doc.check(2)
    assert doc.data == b"- [X] a\n- [x] b\n- [ ] new\n"
    doc.check(3)  # no memory: the file's done items are 1 X, 1 x -> lowercase
    assert doc.data.endswith(b"- [x] new\n")
    doc.uncheck(3)
    doc.check(1)  # already done: nothing changes
    assert doc.data == b"- [X] a\n- [x] b\n- [ ] new\n"
    upper = doc_of(tmp_path, b"- [X] a\n- [X] b\n- [ ] c\n", "upper.md")
    upper.check(3)
    assert upper.data == b"- [X] a\n- [X] b\n- [X] c\n"


def test_check_is_idempotent_and_other_states(tmp_path):
    data = b"- [-] declined\n- [~] doing\n- [*] odd\n- [x] done\n"
    doc = doc_of(tmp_path, data)
    assert [(i.state, i.marker) for i in doc.items] == [
        ("other", "-"), ("other", "~"), ("other", "*"), ("done", "x")]
    doc.check(4)
    assert doc.data == data
    doc.check(1)
    assert doc.data == data.replace(b"[-]", b"[x]")
    assert [p.line for p in doc.problems() if p.severity == "warning"] == [3]


def test_code_comments_front_matter_ignored(tmp_path):
    text = (
        "---\ntitle: x\n---\n"
        "# Real\n"
        "~~~\n- [ ] in tilde fence\n~~~\n"
        "````md\n```\n- [ ] in nested fence\n```\n````\n"
        "<!-- note\n- [ ] in comment\n-->\n"
        "<!-- one line --> \n"
        "- [ ] real one\n"
        "  ```\n  - [ ] in item code\n  ```\n"
        "## Done ##\n"
        "[x] bare one\n"
    )
    parse = parse_todo(text)
    assert [(i.line, i.text) for i in parse.items] == [(17, "real one"), (22, "bare one")]
    assert parse.items[0].end_line == 20
    assert [h.text for h in parse.headings] == ["Real", "Done"]


def test_unclosed_fence_warns_and_add_refuses(tmp_path):
    doc = doc_of(tmp_path, b"- [ ] a\n\n```\ncode never closed\n")
    assert [(p.line, p.severity) for p in doc.problems()] == [(3, "warning")]
    before = doc.data
    with pytest.raises(FormatError, match="not be recognised"):
        doc.add("lost in code")
    assert doc.data == before and len(doc.items) == 1


def test_edit_keeps_hard_break_and_indent(tmp_path):
    doc = doc_of(tmp_path, b"# H\n\t* [ ] **Bold**  \n- [ ]\n")
    doc.edit(2, "Plain")
    doc.edit(3, "was empty")
    assert doc.data == b"# H\n\t* [ ] Plain  \n- [ ] was empty\n"


def test_ordered_bullets_number_on(tmp_path):
    doc = doc_of(tmp_path, b"## L\n1. [x] one\n2. [ ] two\n")
    assert doc.add("three", section="L") == 4
    assert doc.data.endswith(b"2. [ ] two\n3. [ ] three\n")


def test_add_to_empty_file_and_empty_section(tmp_path):
    doc = doc_of(tmp_path, b"")
    assert doc.add("first") == 1
    assert doc.data == b"- [ ] first\n"
    doc = doc_of(tmp_path, b"# A\n\n- [ ] a\n\n# B\n\n# C\n", "sec.md")
    assert doc.add("b", section="B") == 7
    assert doc.data == b"# A\n\n- [ ] a\n\n# B\n\n- [ ] b\n\n# C\n"


def test_remove_blank_handling(tmp_path):
    doc = doc_of(tmp_path, b"- [ ] a\n\n- [ ] b\n\n- [ ] c")
    doc.remove(3)
    assert doc.data == b"- [ ] a\n\n- [ ] c"
    doc.remove(3)
    assert doc.data == b"- [ ] a"
    doc = doc_of(tmp_path, b"x\n\n\n- [ ] a\n\n\ny\n", "two.md")
    doc.remove(4)  # blank pairs that were already in the file stay as they were, minus one
    assert doc.data == b"x\n\n\n\ny\n"


def test_large_file_parses(tmp_path):
    long_line = "長" * 5000
    chunk = (f"## Batch\n[x] {long_line}\n    [x] child\n- [ ] dash item\n"
             f"\t- **Note**: detail\n```\n- [ ] fenced\n```\n- 時間：log\n\n")
    text = chunk * (800_000 // len(chunk.encode()) + 1)
    data = text.encode()
    assert len(data) > 800_000
    doc = doc_of(tmp_path, data)
    reps = text.count("## Batch")
    assert len(doc.items) == 3 * reps
    assert doc.data == data


LINES = st.sampled_from([
    "", "# H", "## Sub", "- [ ] open", "- [x] done", "  - [X] nested", "\t- detail",
    "  detail", "[x] bare", "    [ ] bare child", "- [x][-] multi", "```", "~~~", "<!--", "-->",
    "text", "* [~] wip", "1. [ ] num", "---",
])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(LINES, max_size=25), st.sampled_from(["\n", "\r\n"]), st.booleans())
def test_random_documents_toggle_and_remove(tmp_path, lines, nl, final):
    text = nl.join(lines) + (nl if final and lines else "")
    data = text.encode()
    doc = doc_of(tmp_path, data, "rand.md")
    assert doc.data == data
    for item in doc.items:
        doc.check(item.line) if item.state != "done" else doc.uncheck(item.line)
        assert sum(a != b for a, b in zip(doc.data, data)) == 1 and len(doc.data) == len(data)
        doc = doc_of(tmp_path, data, "rand.md")
    for item in doc.items:
        d = doc_of(tmp_path, data, "rand.md")
        d.remove(item.line)
        kept = d.data.splitlines(keepends=True)
        assert len(kept) < len(data.splitlines()) + 1
        if kept and kept[-1].strip():  # a blank tail has no final-newline state to keep
            assert d.data.endswith(nl.encode()) == data.endswith(nl.encode())
        assert all(line in data.splitlines(keepends=True) or line + nl.encode() in data
                   for line in kept), "remove must only drop lines"
