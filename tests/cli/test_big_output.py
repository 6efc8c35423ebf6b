"""CLI output for big files (issue 13): streamed, and byte for byte what it was.

``emit_json`` writes a list one element at a time, ``table`` makes no table of
all cells, ``todo list`` (text and JSON) formats batches of columns, item ids
are hashed from the file's bytes, and ``memory list`` can print straight from
the reader's columns. Each is compared with the plain way of producing the
same output: ``json.dumps``, the old table code, the identity keys of
:mod:`orchestrator_gui.model.identity`, and the row-dictionary ``memory list``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import shutil
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shared_fixtures import fixture_files

from orchestrator_gui.cli import memory_list, timing_list
from orchestrator_gui.cli.main import main
from orchestrator_gui.cli.output import emit_json, table
from orchestrator_gui.formats.memory import load_memory
from orchestrator_gui.formats.timing import parse_timing
from orchestrator_gui.formats.todo import TodoDocument
from orchestrator_gui.model.identity import todo_item_keys
from orchestrator_gui.workspace.todo_ids import id_at, item_ids, resolve

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20), st.text(max_size=8),
                    st.floats(allow_nan=True, allow_infinity=True))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(st.text(max_size=4), inner, max_size=3)),
                      max_leaves=10)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.lists(st.one_of(st.dictionaries(st.text(max_size=5), VALUES, max_size=5), VALUES), max_size=6),
                 VALUES))
def test_emit_json_writes_what_json_dumps_writes(value):
    with contextlib.redirect_stdout(io.StringIO()) as out:
        emit_json(value)
    assert out.getvalue() == json.dumps(value, ensure_ascii=False, indent=2) + "\n"


def old_table(rows: list[dict[str, Any]], columns: list[str], widths: dict[str, int]) -> str:
    """The table as it was printed: every cell made first, then the lines."""
    if not rows:
        return ""

    def cell(v: Any, col: str) -> str:
        s = "" if v is None else str(v).replace("\n", " ")
        w = widths.get(col)
        return s if w is None or len(s) <= w else s[: w - 1] + "…"
    cells = [[cell(r.get(c), c) for c in columns] for r in rows]
    sizes = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    out = ["  ".join(c.upper().ljust(sizes[i]) for i, c in enumerate(columns)).rstrip()]
    out += ["  ".join(v.ljust(sizes[i]) for i, v in enumerate(row)).rstrip() for row in cells]
    return "\n".join(out) + "\n"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.fixed_dictionaries({"a": st.one_of(st.none(), st.integers(), st.text(max_size=12)),
                                        "b": st.text(max_size=40)}), max_size=8))
def test_table_prints_what_it_printed(rows):
    with contextlib.redirect_stdout(io.StringIO()) as out:
        table(rows, ["a", "b"], {"b": 10})
    assert out.getvalue() == old_table(rows, ["a", "b"], {"b": 10})


DUPLICATES = b"# A\n- [ ] same\n- [x] same\n  - [ ] same\n## B\n- [*] other\n- [ ]\n- [ ] \xc3\xbc\n"


def todo_sources() -> list:
    return [*fixture_files("todo"), None]


@pytest.mark.parametrize("path", todo_sources(), ids=lambda p: "duplicates" if p is None else p.name[:50])
def test_todo_list_prints_what_the_row_objects_gave(tmp_path, capsys, path):
    data = DUPLICATES if path is None else path.read_bytes()
    (tmp_path / "TODO.md").write_bytes(data)
    doc = TodoDocument("TODO.md", data)
    keys = todo_item_keys(list(doc.items))  # the graph's keys, from the item models
    assert item_ids(doc) == keys and all(id_at(doc, line) == key for line, key in keys.items())
    assert all(resolve(doc, key) == line for line, key in keys.items())
    for state in ("all", "open", "done", "other"):
        rows = [(i.line, i.state, i.text, i.depth, i.section, i.boxes) for i in doc.items
                if state == "all" or i.state == state]
        assert main(["-w", str(tmp_path), "--json", "todo", "list", "--state", state]) == 0
        assert capsys.readouterr().out == json.dumps(
            [{"line": line, "id": keys[line], "state": st_, "text": text, "depth": depth, "section": section}
             for line, st_, text, depth, section, _ in rows], ensure_ascii=False, indent=2) + "\n"
        assert main(["-w", str(tmp_path), "todo", "list", "--state", state]) == 0
        assert capsys.readouterr().out == "".join(f"{line:>5}  {'  ' * depth}{boxes} {text}\n"
                                                  for line, _, text, depth, _, boxes in rows)


def test_a_repeated_title_is_found_by_its_numbered_id(tmp_path, capsys):
    (tmp_path / "TODO.md").write_bytes(DUPLICATES)
    doc = TodoDocument("TODO.md", DUPLICATES)
    third = item_ids(doc)[4]
    assert third.endswith("~2")
    assert main(["-w", str(tmp_path), "--json", "todo", "check", third]) == 0
    assert json.loads(capsys.readouterr().out) == {"ok": True, "line": 4, "id": third, "state": "done"}
    assert (tmp_path / "TODO.md").read_bytes() == DUPLICATES.replace(b"  - [ ] same", b"  - [x] same")


@pytest.mark.parametrize("path", fixture_files("memory"), ids=lambda p: p.name[:50])
@pytest.mark.parametrize("as_json", [False, True])
def test_streamed_memory_list_prints_what_the_row_objects_gave(tmp_path, capsys, path, as_json):
    shutil.copy(path, tmp_path / "persistent-memory.md")
    args = argparse.Namespace(workspace=str(tmp_path), demo=False, json=as_json, force=False)
    # The reference: the row dicts the command used to build from the entry objects.
    rows = [{"line": e.line, "end_line": e.end_line, "form": e.form, "timestamp": e.timestamp_raw,
             "mode": e.mode, "id": e.id, "summary": e.summary, "section": e.section}
            for e in load_memory(tmp_path / "persistent-memory.md").entries]
    want = (json.dumps(rows, ensure_ascii=False, indent=2) + "\n" if as_json else
            old_table(rows, ["line", "timestamp", "mode", "id", "summary"], {"id": 36, "summary": 60}))
    assert memory_list.cmd_memory_list(args) == 0
    assert capsys.readouterr().out == want


@pytest.mark.parametrize("path", fixture_files("timing"), ids=lambda p: p.name[:50])
def test_timing_list_all_prints_what_the_row_models_gave(tmp_path, capsys, path):
    name = "task_timing.csv" if path.suffix == ".csv" else "task_timing.tsv"
    shutil.copy(path, tmp_path / "task_timing.tsv")  # the command reads the .tsv
    rows = [timing_list._row(r) for r in parse_timing(path.read_bytes(), name).data_rows()]
    assert main(["-w", str(tmp_path), "--json", "timing", "list", "--all"]) == 0
    assert capsys.readouterr().out == json.dumps(rows, ensure_ascii=False, indent=2) + "\n"
    assert main(["-w", str(tmp_path), "timing", "list", "--all"]) == 0
    assert capsys.readouterr().out == old_table(rows, ["line", "layout", "task_id", "mode", "duration", "status",
                                                       "task"], {"task_id": 30, "task": 50})
