"""``modes set/add/remove``: minimal byte edits, JSON output, FILE:LINE errors with the file untouched, --force."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat

import pytest
from shared_fixtures import LOCAL_DATA, fixture

from orchestrator_gui.cli.main import main
from orchestrator_gui.formats.roomodes import load_modes

YAML_LOCAL = next((LOCAL_DATA / "roomodes").glob("jsboigeEpita*"))
JSON_LOCAL = next((LOCAL_DATA / "roomodes").glob("kyle-apex*"))


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def only_inserted(old: bytes, new: bytes) -> bool:
    """Whether ``new`` is ``old`` with bytes inserted at one place (nothing of ``old`` changed or lost)."""
    pre = 0
    while pre < min(len(old), len(new)) and old[pre] == new[pre]:
        pre += 1
    return new.endswith(old[pre:]) and len(new) > len(old)


@pytest.fixture
def ws(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def use(ws, source):
    shutil.copyfile(source, ws / ".roomodes")
    return ws / ".roomodes"


def test_set_changes_only_the_value_on_yaml(ws, capsys):
    path = use(ws, YAML_LOCAL)
    before = path.read_bytes()
    code, out, err = run(capsys, "modes", "set", "project-manager", "name=🏢 Chef de projet", "--json")
    assert (code, err) == (0, "") and json.loads(out) == {"ok": True, "slug": "project-manager", "changed": ["name"]}
    assert path.read_bytes() == before.replace("🏢 Project Manager".encode(), "🏢 Chef de projet".encode())


def test_set_groups_and_file_regex_on_json(ws, capsys):
    path = use(ws, JSON_LOCAL)
    before = path.read_bytes()
    assert run(capsys, "modes", "set", "boomerang", "groups=read,modes,mcp")[0] == 0
    assert path.read_bytes() == before.replace(b'"modes"\n      ]', b'"modes",\n        "mcp"\n      ]')
    assert run(capsys, "modes", "set", "test", "fileRegex=\\.spec\\.ts$")[0] == 0
    after = path.read_bytes()
    assert after.count(b"\n") == before.count(b"\n") + 1
    assert b'"fileRegex": "\\\\.spec\\\\.ts$",' in after
    assert load_modes(path).mode("test").groups[-1].options["description"] == "Test files, mocks, and Jest configuration"


def test_add_and_remove_round_trip_on_the_real_fixtures(ws, capsys):
    for source in (fixture("roomodes", "34367220"), fixture("roomodes", "maozdemir")):
        path = use(ws, source)
        original = path.read_bytes()
        code, out, _ = run(capsys, "modes", "add", "docs-writer2", "--name", "📝 Docs", "--role", "You write docs.",
                           "--groups", "read,edit", "--file-regex", r"\.md$", "--when", "Docs work", "--json")
        assert code == 0 and json.loads(out)["slug"] == "docs-writer2"
        mode = load_modes(path).mode("docs-writer2")
        assert (mode.name, mode.when_to_use, mode.groups[1].options) == ("📝 Docs", "Docs work", {"fileRegex": r"\.md$"})
        assert only_inserted(original, path.read_bytes())
        code, out, _ = run(capsys, "modes", "list", "--json")
        assert json.loads(out)[-1]["slug"] == "docs-writer2"
        assert run(capsys, "modes", "remove", "docs-writer2")[0] == 0
        assert path.read_bytes() == original


def test_add_creates_a_missing_file(ws, capsys):
    code, out, _ = run(capsys, "modes", "add", "first", "--name", "First", "--role", "Be first.")
    assert code == 0 and "added mode first" in out
    assert (ws / ".roomodes").read_text() == ("customModes:\n  - slug: first\n    name: First\n"
                                               "    roleDefinition: Be first.\n    groups:\n      - read\n")


ERROR = re.compile(r"^(?P<file>\S*\.roomodes):(?P<line>\d+): error: (?P<msg>.+)$")


@pytest.mark.parametrize("argv, line, fragment", [
    (["modes", "set", "nope", "name=x"], 1, "no mode with slug 'nope'"),
    (["modes", "set", "project-manager", "name="], 2, "name must not be empty"),
    (["modes", "set", "project-manager", "groups=read,teleport"], 2, "unknown group 'teleport'"),
    (["modes", "set", "project-manager", "groups=read,edit", "fileRegex=(["], 2, "does not compile"),
    (["modes", "add", "Bad Slug!", "--name", "n", "--role", "r"], 1, "letters, digits and '-'"),
    (["modes", "add", "project-manager", "--name", "n", "--role", "r"], 2, "exists already"),
    (["modes", "add", "x", "--name", "n", "--role", "r", "--groups", "read,read"], 1, "appears twice"),
    (["modes", "remove", "nope"], 1, "no mode with slug"),
])
def test_bad_input_gives_file_line_error_exit_1_and_nothing_written(ws, capsys, argv, line, fragment):
    path = use(ws, YAML_LOCAL)
    before = path.read_bytes()
    code, out, err = run(capsys, *argv)
    m = ERROR.match(err.strip())
    assert code == 1 and out == "" and m, err
    assert int(m["line"]) == line and fragment in m["msg"]
    assert path.read_bytes() == before


def test_a_broken_file_is_reported_with_its_line_and_left_alone(ws, capsys):
    path = ws / ".roomodes"
    path.write_bytes(b"customModes:\n  - slug: a\n    name: [unclosed\n    groups: []\n")
    before = path.read_bytes()
    code, _, err = run(capsys, "modes", "set", "a", "name=b")
    assert code == 1 and ERROR.match(err.strip()) and path.read_bytes() == before


def test_usage_errors_exit_2(ws, capsys):
    use(ws, YAML_LOCAL)
    assert run(capsys, "modes")[0] == 2
    assert run(capsys, "modes", "set", "project-manager", "no-equals-sign")[0] == 2
    assert run(capsys, "modes", "add", "x", "--name", "n")[0] == 2  # --role is required
    assert run(capsys, "modes", "add", "x", "--name", "n", "--role", "r", "--file-regex", "x")[0] == 2


def test_read_only_file_needs_force(ws, capsys):
    path = use(ws, YAML_LOCAL)
    os.chmod(path, stat.S_IRUSR)
    before = path.read_bytes()
    code, _, err = run(capsys, "modes", "remove", "project-manager")
    assert code == 1 and "read-only" in err and path.read_bytes() == before
    assert run(capsys, "modes", "remove", "project-manager", "--force")[0] == 0
    assert load_modes(path).modes == [] and stat.S_IMODE(os.stat(path).st_mode) == stat.S_IRUSR
