"""Placeholders pasted into shell code: found by the pure check, an error in ``check``, refused by the runner."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from orchestrator_gui.cli.main import main
from orchestrator_gui.engine.config import PLACEHOLDERS, EngineConfig, config_problems, load_config
from orchestrator_gui.engine.runner import ProcessRunner, run_paths
from orchestrator_gui.engine.runner_shell import code_arguments, find_code_placeholder
from orchestrator_gui.engine.tasks import todo_task

SAFE_EXAMPLE = '["sh", "-c", "agent --file \\"$1\\"", "sh", "{instructions_file}"]'


# -- the pure check ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("template", "index", "program"), [
    (["sh", "-c", "echo {instructions}"], 2, "sh -c"),
    (["sh", "-c", "cat {instructions_file}"], 2, "sh -c"),
    (["bash", "-c", "agent --mode {mode}"], 2, "bash -c"),
    (["zsh", "-c", "agent {task_id}"], 2, "zsh -c"),
    (["dash", "-c", "cd {workspace} && agent"], 2, "dash -c"),
    (["ksh", "-c", "agent {schedule_id}"], 2, "ksh -c"),
    (["fish", "-c", "agent {instructions}"], 2, "fish -c"),
    (["fish", "--command=agent {instructions}"], 1, "fish --command"),
    (["bash", "-lc", "agent {instructions}"], 2, "bash -lc"),
    (["bash", "-ec", "agent {instructions}"], 2, "bash -ec"),
    (["bash", "--norc", "-o", "pipefail", "-c", "agent {instructions}"], 5, "bash -c"),
    (["bash", "-c", "-x", "agent {instructions}"], 3, "bash -c"),
    (["/bin/sh", "-c", "agent {instructions}"], 2, "/bin/sh -c"),
    (["/usr/local/bin/bash", "-c", "{instructions}"], 2, "/usr/local/bin/bash -c"),
    (["env", "sh", "-c", "agent {instructions}"], 3, "sh -c"),
    (["env", "A=1", "B=two words", "sh", "-c", "agent {instructions}"], 5, "sh -c"),
    (["/usr/bin/env", "bash", "-c", "agent {instructions}"], 3, "bash -c"),
    (["env", "-u", "HOME", "-i", "bash", "-c", "agent {instructions}"], 6, "bash -c"),
    (["timeout", "600", "nice", "-n", "5", "bash", "-c", "agent {instructions}"], 7, "bash -c"),
    (["sudo", "-u", "agent", "sh", "-c", "agent {instructions}"], 5, "sh -c"),
    (["docker", "exec", "box", "sh", "-c", "agent {instructions}"], 5, "sh -c"),
    (["env", "-S", "agent --text {instructions}"], 2, "env -S"),
    (["cmd", "/c", "agent {instructions}"], 2, "cmd /c"),
    (["cmd.exe", "/C", "agent", "{instructions}"], 3, "cmd.exe /C"),
    (["C:\\Windows\\System32\\cmd.exe", "/s", "/c", "agent {instructions}"], 3,
     "C:\\Windows\\System32\\cmd.exe /c"),
    (["agent.bat", "{instructions}"], 1, "agent.bat (cmd.exe)"),
    (["powershell", "-NoProfile", "-Command", "agent {instructions}"], 3, "powershell -Command"),
    (["pwsh", "-c", "agent {instructions}"], 2, "pwsh -c"),
    (["pwsh.exe", "-NoLogo", "-Command", "agent", "{instructions}"], 4, "pwsh.exe -Command"),
    (["powershell", "-ExecutionPolicy", "Bypass", "agent {instructions}"], 3, "powershell (-Command)"),
    (["python", "-c", "import agent; agent.run('{instructions}')"], 2, "python -c"),
    (["python3.11", "-u", "-c", "print('{mode}')"], 3, "python3.11 -c"),
    (["node", "-e", "run('{instructions}')"], 2, "node -e"),
    (["perl", "-Mstrict", "-ne", "print '{mode}'"], 3, "perl -e"),
    (["ruby", "-e", "run('{instructions}')"], 2, "ruby -e"),
])
def test_a_placeholder_in_shell_code_is_found(template, index, program):
    found = find_code_placeholder(template, PLACEHOLDERS)
    assert found is not None, template
    assert (found.index, found.program) == (index, program)
    assert index in code_arguments(template)


@pytest.mark.parametrize("template", [
    ["sh", "-c", 'agent --file "$1"', "sh", "{instructions_file}"],           # the documented safe form
    ["bash", "-lc", 'agent --mode "$1" --file "$2"', "bash", "{mode}", "{instructions_file}"],
    ["env", "A=1", "sh", "-c", 'agent "$@"', "sh", "{instructions}", "{workspace}"],
    ["fish", "-c", "agent --file $argv[1]", "{instructions_file}"],
    ["bash", "script.sh", "-c", "{instructions}"],                            # -c after the script: its argument
    ["sh", "{instructions_file}"],                                            # runs a file, nothing pasted
    ["pwsh", "-File", "agent.ps1", "{instructions}"],
    ["pwsh", "agent.ps1", "{instructions}"],
    ["python", "-c", "import sys, agent; agent.run(sys.argv[1])", "{instructions_file}"],
    ["python", "-m", "agent", "-c", "{instructions}"],
    ["node", "-e", "run(process.argv[1])", "{instructions}"],
    ["claude", "-p", "{instructions}"],
    ["python", "agent.py", "--mode", "{mode}", "--file", "{instructions_file}"],
    ["sh", "-c", "echo {not_a_placeholder} {instruction}"],                  # nothing the runner substitutes
    ["cmd", "/c", "agent.exe"],
])
def test_safe_templates_pass(template):
    assert find_code_placeholder(template, PLACEHOLDERS) is None


def test_the_message_names_every_placeholder_and_shows_the_safe_form():
    found = find_code_placeholder(["bash", "-c", "agent {mode} {instructions} {mode}"], PLACEHOLDERS)
    assert found is not None and found.names == ("mode", "instructions")
    text = found.message()
    assert text.startswith('{mode}, {instructions} is pasted into the code that "bash -c" parses')
    assert text.endswith('e.g. ["bash", "-c", "agent --file \\"$1\\"", "bash", "{instructions_file}"]')
    assert "e.g." not in found.message(example=False)


def test_a_long_wrapper_chain_does_not_hide_the_shell():
    template = ["env", *(["A=1"] * 100_000), "env", "-i", "sh", "-c", "{instructions}"]
    found = find_code_placeholder(template, PLACEHOLDERS)
    assert found is not None and found.index == len(template) - 1


# -- check ---------------------------------------------------------------------------------------------
def write_config(root: Path, text: str) -> Path:
    path = root / ".orchestrator" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_check_reports_an_error_with_the_line_and_the_safe_form(tmp_path, capsys):
    path = write_config(tmp_path, '# agents\nrunner = ["python", "agent.py", "{instructions_file}"]\n\n'
                                  '[modes.architect]\nrunner = ["sh", "-c", "echo {instructions}"]\n')
    assert main(["check", "-w", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert out.splitlines() == [
        f'{path}:5: error: modes.architect.runner[2]: {{instructions}} is pasted into the code that "sh -c" '
        f"parses, so a value containing quotes, $(...), backticks or ; would run as code; "
        f"pass values as positional arguments instead, e.g. {SAFE_EXAMPLE}"]
    assert load_config(tmp_path).runner_for("architect") == ["sh", "-c", "echo {instructions}"]  # still loads


def test_check_passes_the_safe_positional_form(tmp_path, capsys):
    write_config(tmp_path, f"runner = {SAFE_EXAMPLE}\n")
    assert config_problems(tmp_path) == []
    assert main(["check", "-w", str(tmp_path)]) == 0
    assert capsys.readouterr().out == ""


# -- the runner ---------------------------------------------------------------------------------------
def refused(result) -> None:
    assert result.status == "failed" and result.exit_code is None and not result.dry_run
    assert result.error.startswith('refused to start the runner: argument 2: {')
    assert 'is pasted into the code that "' in result.error
    assert "'orchestrator-gui check' shows the safe form" in result.error
    log = Path(result.log_path).read_text(encoding="utf-8")
    assert f"# finished: failed, {result.error}" in log


def test_the_runner_refuses_instructions_pasted_into_sh_c(tmp_path):
    marker = tmp_path / "pwned"
    runner = ProcessRunner(tmp_path, EngineConfig.model_validate({"runner": ["sh", "-c", "echo {instructions}"]}))
    result = runner.run(todo_task("i", f"Fix the build $(touch {marker})", task_id="inj-1"))
    refused(result)
    assert not marker.exists()
    assert not run_paths(tmp_path, "inj-1")[1].exists()  # nothing written for the refused run either


def test_the_runner_refuses_a_file_path_pasted_into_sh_c(tmp_path):
    ws = tmp_path / "my loop $(touch pwned)"
    ws.mkdir()
    runner = ProcessRunner(ws, EngineConfig.model_validate({"runner": ["sh", "-c", "cat {instructions_file}"]}))
    refused(runner.run(todo_task("i", "Write the docs", task_id="inj-2")))
    assert not (ws / "pwned").exists() and not (tmp_path / "pwned").exists()


def test_the_safe_form_runs_with_the_same_hostile_values(tmp_path):
    ws = tmp_path / "my loop $(touch pwned)"
    ws.mkdir()
    text = "Fix it $(touch pwned) `touch pwned2` \"; touch pwned3 '\n{mode}"
    config = EngineConfig.model_validate(
        {"runner": ["sh", "-c", 'cat "$1" > got.txt; printf %s "$2" > mode.txt', "sh", "{instructions_file}",
                    "{mode}"]})
    result = ProcessRunner(ws, config).run(todo_task("i", text, mode="a b;$(touch pwned4)"))
    assert result.status == "completed", result
    assert (ws / "got.txt").read_text(encoding="utf-8") == text
    assert (ws / "mode.txt").read_text(encoding="utf-8") == "a b;$(touch pwned4)"
    assert not [p.name for p in [*ws.iterdir(), *tmp_path.iterdir()] if p.name.startswith("pwned")]


def test_a_mode_override_is_refused_while_other_modes_still_run(tmp_path):
    config = EngineConfig.model_validate({"runner": [sys.executable, "-c", "pass"],
                                          "modes": {"ask": {"runner": ["bash", "-lc", "agent {mode}"]}}})
    runner = ProcessRunner(tmp_path, config)
    refused(runner.run(todo_task("i", "t", mode="ask")))
    assert runner.run(todo_task("i", "t", mode="code")).status == "completed"
