"""Bad input: a clear FILE:LINE error, a non-zero exit, and the file's bytes untouched."""

from __future__ import annotations

import codecs
import os
import re

import pytest

from orchestrator_gui.cli.main import main
from orchestrator_gui.formats import fileio

VALID_SCHEDULES = (b'{\n  "schedules": [\n    {\n      "id": "1",\n      "name": "n",\n      "mode": "code",\n'
                   b'      "taskInstructions": "t",\n      "scheduleType": "time",\n      "active": true\n    }\n  ]\n}')

# (case id, file, content, command, expected line or None for whole-file errors, message fragment)
CASES = [
    ("broken-json", ".roo/schedules.json", b'{\n  "schedules": [\n    {"id": "1",}\n  ]\n}',
     ["schedules", "disable", "1"], 3, "invalid JSON"),
    ("broken-yaml", ".roomodes", b"customModes:\n  - slug: a\n    name: [unclosed\n    groups: []\n",
     ["modes", "list"], None, ""),
    ("bom", ".roo/schedules.json", codecs.BOM_UTF8 + VALID_SCHEDULES, ["schedules", "disable", "1"], 1, "byte-order mark"),
    ("binary-garbage", "TODO.md", b"- [ ] one\n- [ ] two\n" + bytes(range(256)) * 4, ["todo", "check", "1"], 3, ""),
    ("utf16", "persistent-memory.md", "# System Updates & Status\n\n- x\n".encode("utf-16"),
     ["memory", "add", "--mode", "code", "--id", "x", "text"], 1, "UTF-16"),
    ("utf16-no-bom", "TODO.md", "- [ ] one\n- [ ] two\n".encode("utf-16-le"), ["todo", "check", "1"], 1, "UTF-16"),
    ("50mb", "TODO.md", None, ["todo", "check", "1"], None, "too large"),
    ("directory", "TODO.md", "DIR", ["todo", "check", "1"], None, "directory"),
    ("missing", "TODO.md", "MISSING", ["todo", "check", "1"], None, "not found"),
    ("missing-memory", "persistent-memory.md", "MISSING", ["memory", "add", "--mode", "m", "--id", "i", "t"],
     None, "not found"),
]


def make(tmp_path, rel, content):
    path = tmp_path / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if content == "DIR":
        path.mkdir()
    elif content == "MISSING":
        pass
    elif content is None:  # 50 MB of plausible checklist text
        line = b"- [ ] " + b"x" * 93 + b"\n"
        with open(path, "wb") as fh:
            fh.write(line * (50 * 1024 * 1024 // len(line)))
    else:
        path.write_bytes(content)
    return path


def snapshot(path):
    if path.is_file():
        return path.read_bytes()
    return "DIR" if path.is_dir() else "MISSING"


@pytest.mark.parametrize("case, rel, content, argv, line, fragment", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_reported_and_file_untouched(tmp_path, monkeypatch, capsys, case, rel, content, argv, line, fragment):
    monkeypatch.chdir(tmp_path)
    path = make(tmp_path, rel, content)
    before = snapshot(path)
    for command in (argv, ["check"]):
        code = main(command)
        out, err = capsys.readouterr()
        text = err if command is argv else out
        if case.startswith("missing") and command[0] == "check":
            assert code == 0  # a workspace need not have every file
            continue
        assert code == 1, (command, out, err)
        assert "Traceback" not in err
        first = text.strip().splitlines()[0]
        m = re.match(r"^(?P<file>[^:]+?)(?::(?P<line>\d+))?: error: (?P<msg>.+)$", first)
        assert m, first
        assert m["file"] == rel
        if line is not None:
            assert int(m["line"]) == line, first
        elif case == "broken-yaml":
            assert m["line"] is not None  # YAML errors carry the line of the problem
        assert fragment in m["msg"]
    assert snapshot(path) == before
    assert sorted(p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")) == []


def test_permission_denied(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "TODO.md"
    path.write_bytes(b"- [ ] one\n")
    if os.geteuid() != 0:
        path.chmod(0)
    else:  # root reads anything: make the OS refuse the way it refuses a normal user
        real_open = open

        def denied(file, *a, **k):
            if str(file).endswith("TODO.md"):
                raise PermissionError(13, "Permission denied", str(file))
            return real_open(file, *a, **k)

        monkeypatch.setattr(fileio, "open", denied, raising=False)
    try:
        assert main(["todo", "check", "1"]) == 1
        err = capsys.readouterr().err
        assert err.strip() == "TODO.md: error: permission denied"
    finally:
        path.chmod(0o644)
    assert path.read_bytes() == b"- [ ] one\n"


def test_write_refused_when_folder_is_not_writable(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "TODO.md"
    path.write_bytes(b"- [ ] one\n")

    def no_temp(*a, **k):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(fileio.tempfile, "mkstemp", no_temp)
    assert main(["todo", "check", "1"]) == 1
    assert "TODO.md: error: permission denied" in capsys.readouterr().err
    assert path.read_bytes() == b"- [ ] one\n"
