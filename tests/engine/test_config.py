"""``.orchestrator/config.toml``: validation with lines, look-ups, minimal edits, ``check``."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from orchestrator_gui.cli.main import main
from orchestrator_gui.engine.config import EngineConfig, config_problems, load_config, read_config
from orchestrator_gui.engine.config_toml import key_lines, set_table_value
from orchestrator_gui.engine.tasks import Task
from orchestrator_gui.problems import FormatError

FULL = """\
# our settings
runner = ["python", "agent.py", "--mode", "{mode}", "--file", "{instructions_file}"]
env = { AGENT_LOG = "1" }
grace_s = 2

[timeouts]
todo_s = 3600
schedule_s = 7200

[limits]
agent_tasks = 1
transforms = 4

[modes.architect]
runner = ["claude", "-p", "{instructions}"]
env = { MODEL = "big" }

[schedules."1761981872582"]
timeout_s = 900

[schedules."nightly build"]
no_timeout = true

[todos."item-7"]
timeout_s = 0
"""


def write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / ".orchestrator" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def test_the_documented_keys_load(tmp_path):
    write(tmp_path, FULL)
    cfg = load_config(tmp_path)
    assert cfg.runner_for("code") == ["python", "agent.py", "--mode", "{mode}", "--file", "{instructions_file}"]
    assert cfg.runner_for("architect") == ["claude", "-p", "{instructions}"]
    assert cfg.env_for("architect") == {"AGENT_LOG": "1", "MODEL": "big"}
    assert (cfg.limits.agent_tasks, cfg.limits.transforms, cfg.limits.thread_limit) == (1, 4, 5)
    assert cfg.grace_s == 2
    assert config_problems(tmp_path) == []


def test_timeouts_resolve_task_then_item_then_kind_default(tmp_path):
    write(tmp_path, FULL)
    cfg = load_config(tmp_path)
    assert cfg.timeout_for(Task(kind="schedule", subject_id="1761981872582")) == 900
    assert cfg.timeout_for(Task(kind="schedule", subject_id="other")) == 7200
    assert cfg.timeout_for(Task(kind="todo", subject_id="x")) == 3600
    assert cfg.timeout_for(Task(kind="schedule", subject_id="nightly build")) is None   # no_timeout = true
    assert cfg.timeout_for(Task(kind="todo", subject_id="item-7")) is None              # timeout_s = 0
    assert cfg.timeout_for(Task(kind="schedule", subject_id="1761981872582", timeout_s=5)) == 5
    assert cfg.timeout_for(Task(kind="todo", no_timeout=True)) is None


def test_missing_file_means_defaults_and_dry_runs(tmp_path):
    cfg = load_config(tmp_path)
    assert cfg == EngineConfig()
    assert cfg.runner_for("code") is None
    assert cfg.timeouts.todo_s == 3600 and cfg.timeouts.schedule_s == 7200
    assert config_problems(tmp_path) == []


@pytest.mark.parametrize("text, line, words", [
    ('runner = ["a"\n[timeouts]\n', 2, "invalid TOML"),
    ('grace_s = 1\ngrace_s = 2\n', 2, "invalid TOML"),
    ('[timeouts]\ntodo_s = 1\n\n[limits]\nagent_tasks = "2"\n', 5, "limits.agent_tasks"),
    ('[limits]\nagent_tasks = true\n', 2, "limits.agent_tasks"),
    ('[limits]\nagent_tasks = 0\n', 2, "greater than or equal to 1"),
    ('runner = "claude -p"\n', 1, "runner: Input should be a valid list"),
    ('runner = ["ok", 3]\n', 1, "runner[1]"),
    ('runner = []\n', 1, "non-empty list"),
    ('[schedules.a]\ntimeout_s = 1\n[schedules."b c"]\n# note\ntimeout_s = "15m"\n', 5, 'schedules."b c".timeout_s'),
    ('[timeouts]\ntodo_s = -1\n', 2, "timeouts.todo_s"),
])
def test_errors_name_the_line(tmp_path, text, line, words):
    path = write(tmp_path, text)
    with pytest.raises(FormatError) as info:
        load_config(tmp_path)
    assert info.value.file == str(path) and info.value.line == line
    assert words in info.value.message
    assert config_problems(tmp_path) == [info.value.problem]


def test_not_utf8_is_an_error_with_line(tmp_path):
    write(tmp_path, b'runner = ["a"]\n# caf\xe9\n')
    with pytest.raises(FormatError) as info:
        load_config(tmp_path)
    assert info.value.line == 2


def test_unknown_keys_and_placeholders_are_warnings(tmp_path):
    write(tmp_path, 'runnr = ["x"]\nrunner = ["x", "{instruction}"]\n[limits]\nagent_taks = 2\n')
    cfg = load_config(tmp_path)  # loads: warnings do not stop the engine
    assert cfg.runner == ["x", "{instruction}"] and cfg.limits.agent_tasks == 1
    found = [(p.line, p.severity, p.message.split(" (")[0]) for p in config_problems(tmp_path)]
    assert found == [(1, "warning", "unknown key runnr"),
                     (2, "warning", "runner: unknown placeholder {instruction} is passed literally"),
                     (4, "warning", "unknown key limits.agent_taks")]


def test_check_reports_config_errors_as_file_line(tmp_path, capsys, monkeypatch):
    write(tmp_path, '[timeouts]\ntodo_s = "1h"\n')
    monkeypatch.chdir(tmp_path)
    code = main(["check"])
    out, _ = capsys.readouterr()
    assert code == 1
    assert out.splitlines() == [".orchestrator/config.toml:2: error: timeouts.todo_s: "
                                "Input should be a valid number (got str '1h')"]
    write(tmp_path, 'runner = ["a",\n')
    assert main(["check", "-w", str(tmp_path)]) == 1
    out, _ = capsys.readouterr()
    assert out.startswith(f"{tmp_path}/.orchestrator/config.toml:1: error: invalid TOML:")


def test_key_lines_follow_tables_and_skip_multiline_strings():
    text = 'a = 1\nb = """\nc = 2\n"""\n[t."x y"]\nd.e = 3\n'
    assert key_lines(text) == {("a",): 1, ("b",): 2, ("t", "x y"): 5, ("t", "x y", "d", "e"): 6}


# --- minimal edits --------------------------------------------------------------------------

def edit(text: str, table: tuple[str, ...], key: str, value) -> str:
    new = set_table_value(text, table, key, value, "config.toml")
    want = tomllib.loads(text)
    node = want
    for k in table:
        node = node.setdefault(k, {})
    node[key] = value
    assert tomllib.loads(new) == want
    return new


def test_edit_appends_a_table_keeping_everything_else():
    text = "# mine\r\nrunner = ['x']  # keep\r\n"
    new = edit(text, ("schedules", "17619"), "paused", True)
    assert new == text + '\r\n[schedules.17619]\r\npaused = true\r\n'


def test_edit_without_final_newline_keeps_that_state():
    text = 'grace_s = 1'
    assert edit(text, ("schedules", "a b"), "paused", True) == 'grace_s = 1\n\n[schedules."a b"]\npaused = true'


def test_edit_replaces_only_the_value():
    text = '[schedules."s 1"]\ntimeout_s = 900\npaused = false   # by hand\n\n[limits]\n'
    new = edit(text, ("schedules", "s 1"), "paused", True)
    assert new == '[schedules."s 1"]\ntimeout_s = 900\npaused = true  # by hand\n\n[limits]\n'


def test_edit_inserts_after_an_existing_header():
    text = "[schedules.'s1']\ntimeout_s = 900\n"
    assert edit(text, ("schedules", "s1"), "paused", True) == "[schedules.'s1']\npaused = true\ntimeout_s = 900\n"


def test_edit_that_cannot_be_spliced_is_refused():
    text = 'schedules = { s1 = { timeout_s = 900 } }\n'
    with pytest.raises(FormatError, match="set it by hand"):
        set_table_value(text, ("schedules", "s1"), "paused", True, "config.toml")


def test_edit_of_an_unchanged_value_changes_nothing():
    text = "[todos.x]\npaused = true\n"
    assert set_table_value(text, ("todos", "x"), "paused", True, "c") is text


def test_read_config_keeps_the_bytes(tmp_path):
    path = write(tmp_path, FULL)
    doc = read_config(path)
    assert doc.data == FULL.encode() and doc.line_of(("schedules", "1761981872582", "timeout_s")) == 19


def test_scheduler_and_todo_tables_are_known_keys(tmp_path, capsys):
    from orchestrator_gui.cli.main import main

    cfg = tmp_path / ".orchestrator" / "config.toml"
    cfg.parent.mkdir()
    cfg.write_text('[scheduler]\nmissed = "all"\n[todo]\ncheck_off_on_success = true\n'
                   '[todos."TODO.md::item/abc"]\ncheck_off_on_success = false\n')
    assert main(["-w", str(tmp_path), "check", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    cfg.write_text('[scheduler]\nmissed = "sometimes"\n')
    assert main(["-w", str(tmp_path), "check"]) == 1
    assert f"{cfg}:2: error: scheduler.missed" in capsys.readouterr().out
