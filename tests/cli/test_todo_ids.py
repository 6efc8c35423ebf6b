"""Stable item ids on the command line (issue 12): ``todo`` commands take the id ``todo list --json`` gives."""

from __future__ import annotations

import json
import shutil

import pytest

from orchestrator_gui.cli.main import main
from orchestrator_gui.demo import BUNDLED_DEMO
from orchestrator_gui.store import GraphStore

TODO = """\
# Project

## Now

- [ ] **TW-012** Parser rejects `\\r` files
- [ ] Write docs
  - [ ] Sub item

## Later

- [ ] Same title
- [ ] Same title
- [x] Done thing
"""


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys, *argv):
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


def listed(capsys) -> list[dict]:
    return run_json(capsys, "todo", "list")


def by_text(capsys, text: str) -> dict:
    (item,) = [i for i in listed(capsys) if i["text"] == text]
    return item


@pytest.fixture
def ws(tmp_path, monkeypatch):
    (tmp_path / "TODO.md").write_bytes(TODO.encode())
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_check_by_the_id_add_returned_after_a_later_add_shifted_its_line(ws, capsys):
    first = run_json(capsys, "todo", "add", "Ship it", "--section", "Later")
    # The second add lands above the first one and pushes it down a line.
    run_json(capsys, "todo", "add", "Plan it", "--section", "Now")
    assert by_text(capsys, "Ship it")["line"] == first["line"] + 1
    out = run_json(capsys, "todo", "check", first["id"])
    assert out["id"] == first["id"] and out["state"] == "done"
    assert by_text(capsys, "Ship it")["state"] == "done"
    assert by_text(capsys, "Plan it")["state"] == "open"
    assert "- [x] Ship it\n" in (ws / "TODO.md").read_text()


def test_add_under_an_id_after_other_adds(ws, capsys):
    parent = by_text(capsys, "Done thing")
    for n in range(3):  # each shifts "Done thing" down
        run_json(capsys, "todo", "add", f"Earlier {n}", "--section", "Now")
    assert by_text(capsys, "Done thing")["line"] == parent["line"] + 3
    child = run_json(capsys, "todo", "add", "Follow-up", "--under", parent["id"])
    new = by_text(capsys, "Follow-up")
    assert new["line"] == child["line"] == parent["line"] + 4 and new["depth"] == 1 and new["id"] == child["id"]
    assert (ws / "TODO.md").read_text().endswith("- [x] Done thing\n  - [ ] Follow-up\n")


def test_ids_survive_an_edit_of_another_item_and_a_line_inserted_above(ws, capsys):
    before = listed(capsys)
    ids = {i["id"] for i in before}
    assert len(ids) == len(before), "every item has its own id, repeats included"
    assert [i["id"] for i in before if i["text"] == "Same title"][1].endswith("~1")
    docs = next(i for i in before if i["text"] == "Write docs")
    run_json(capsys, "todo", "edit", docs["id"], "Write the manual")
    after = listed(capsys)
    assert {i["id"]: i["line"] for i in after if i["text"] != "Write the manual"} == \
        {i["id"]: i["line"] for i in before if i["id"] != docs["id"]}

    path = ws / "TODO.md"
    path.write_text("Intro paragraph.\n\n" + path.read_text())
    shifted = listed(capsys)
    assert [(i["id"], i["line"]) for i in shifted] == [(i["id"], i["line"] + 2) for i in after]


def test_every_command_takes_an_id_in_both_forms(ws, capsys):
    second = [i for i in listed(capsys) if i["text"] == "Same title"][1]
    path = ws / "TODO.md"
    assert run_json(capsys, "todo", "check", f"TODO.md::{second['id']}")["line"] == second["line"]
    assert path.read_text().endswith("- [ ] Same title\n- [x] Same title\n- [x] Done thing\n")
    run_json(capsys, "todo", "uncheck", second["id"])
    assert path.read_bytes() == TODO.encode()
    removed = run_json(capsys, "todo", "remove", second["id"])
    assert removed == {"ok": True, "line": second["line"], "id": second["id"]}
    assert path.read_text().endswith("- [ ] Same title\n- [x] Done thing\n")


def test_edit_keeps_markup_and_prints_the_new_id(ws, capsys):
    item = by_text(capsys, "**TW-012** Parser rejects `\\r` files")
    code, out, err = run(capsys, "todo", "edit", item["id"], "TW-012 Parser rejects CRLF files")
    assert code == 0, err
    assert "- [ ] **TW-012** Parser rejects CRLF files\n" in (ws / "TODO.md").read_text()
    new = by_text(capsys, "**TW-012** Parser rejects CRLF files")
    assert new["line"] == item["line"] and new["id"] != item["id"]
    assert out == f"edited line {item['line']} ({new['id']}): **TW-012** Parser rejects CRLF files\n"
    # The printed id chains: the next command finds the edited item by it.
    edited = run_json(capsys, "todo", "edit", new["id"], "TW-012 Parser accepts CRLF files")
    assert edited["text"] == "**TW-012** Parser accepts CRLF files"
    assert edited["id"] == by_text(capsys, edited["text"])["id"]


def test_edit_takes_text_with_markup_or_raw_as_given(ws, capsys):
    item = by_text(capsys, "**TW-012** Parser rejects `\\r` files")
    out = run_json(capsys, "todo", "edit", item["id"], "TW-012 Parser rejects `\\r\\n` files")
    assert out["text"] == "TW-012 Parser rejects `\\r\\n` files"
    run_json(capsys, "todo", "edit", out["id"], "**TW-012** x")
    out = run_json(capsys, "todo", "edit", str(item["line"]), "TW-012 x", "--raw")
    assert out["text"] == "TW-012 x" and "- [ ] TW-012 x\n" in (ws / "TODO.md").read_text()


def test_add_prints_the_id_that_list_gives(ws, capsys):
    code, out, _ = run(capsys, "todo", "add", "Tidy up")
    new = by_text(capsys, "Tidy up")
    assert code == 0 and out == f"added line {new['line']} ({new['id']}): Tidy up\n"


@pytest.mark.parametrize("argv", [
    ("todo", "check", "{id}"),
    ("todo", "uncheck", "{id}"),
    ("todo", "edit", "{id}", "New text"),
    ("todo", "remove", "{id}"),
    ("todo", "add", "Child", "--under", "{id}"),
])
@pytest.mark.parametrize("unknown", ["item/0123456789", "TODO.md::item/0123456789", "{real}~5"])
def test_unknown_id_exits_1_and_writes_nothing(ws, capsys, argv, unknown):
    real = listed(capsys)[0]["id"]
    missing = unknown.format(real=real)
    key = missing.removeprefix("TODO.md::")
    before = (ws / "TODO.md").read_bytes()
    code, out, err = run(capsys, *(a.format(id=missing) for a in argv))
    assert code == 1 and out == ""
    assert err.strip().endswith(f"TODO.md: error: no item with id {key}"), err
    assert (ws / "TODO.md").read_bytes() == before


@pytest.mark.parametrize("arg", ["abc", "item/xyz", "item/0123456789~0", "0", "-3", "١٢"])
def test_an_argument_that_is_neither_a_line_nor_an_id_is_a_usage_error(ws, capsys, arg):
    before = (ws / "TODO.md").read_bytes()
    code, _, err = run(capsys, "todo", "check", arg)
    assert code == 2, err
    assert (ws / "TODO.md").read_bytes() == before


def test_list_ids_are_the_graph_node_ids(tmp_path, monkeypatch, capsys):
    root = tmp_path / "ws"
    shutil.copytree(BUNDLED_DEMO, root)
    monkeypatch.chdir(root)
    run_json(capsys, "graph", "build")
    items = listed(capsys)
    assert items
    with GraphStore.open_workspace(root, readonly=True) as store:
        nodes = {n.id for n in store.graph.nodes()}
    assert {f"TODO.md::{i['id']}" for i in items} <= nodes
