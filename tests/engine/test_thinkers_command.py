"""The command thinker against a small fake program the tests write themselves (real processes, no shell)."""

from __future__ import annotations

import json
import os
import shutil
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from orchestrator_gui.cli.main import main
from orchestrator_gui.engine.config import EngineConfig, load_config
from orchestrator_gui.engine.tasks import CancelToken
from orchestrator_gui.engine.thinkers import (
    CANCEL,
    BackendError,
    BackendResult,
    CommandThinker,
    ThinkerCancelled,
    ThinkerTimeout,
    make_thinker,
    thinker_names,
)
from orchestrator_gui.model import ThoughtGraph
from orchestrator_gui.model import operations as ops
from orchestrator_gui.model import transforms as tf
from orchestrator_gui.model.thinker import OfflineThinker, ThinkerContext, ThinkerError, call
from orchestrator_gui.problems import FormatError

# The fake thinker: argv[1] picks its behaviour, argv[2] (optional) is a file it writes to.
FAKE = textwrap.dedent('''\
    import json, os, signal, subprocess, sys, time
    mode = sys.argv[1]
    req = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    if len(sys.argv) > 2 and mode == "echo":
        with open(sys.argv[2], "w", encoding="utf-8") as f:
            json.dump(req, f)
    usage = {"prompt_tokens": 21, "completion_tokens": 9}
    if mode == "exit3":
        sys.stderr.write("loading weights\\nerror: model 'tiny' not found\\n")
        sys.exit(3)
    if mode == "garbage":
        print("Sure! Here are some thoughts: 1. plan 2. build")
        sys.exit(0)
    if mode in ("sleep", "stubborn"):
        if mode == "stubborn":
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
        with open(sys.argv[2] + ".tmp", "w") as f:
            f.write(f"{os.getpid()} {child.pid}")
        os.replace(sys.argv[2] + ".tmp", sys.argv[2])
        time.sleep(120)
        sys.exit(0)
    if mode == "error":
        print(json.dumps({"error": "quota exceeded for model tiny"}))
        sys.exit(0)
    if mode == "wrong":
        print(json.dumps({"results": "one, two"}))
        sys.exit(0)
    if mode == "toomany":
        print(json.dumps({"results": ["a", "b", "c", "d"]}))
        sys.exit(0)
    op = req["op"]
    if op == "generate":
        title = req["text"].split("\\n")[0]
        t = req.get("temperature")
        out = {"results": [f"Step {i + 1} of {title}" + (f" at {t}" if t is not None else "")
                           for i in range(req["n"])]}
    elif op == "refine":
        out = {"text": req["text"] + "\\n" + req["feedback"]}
    elif op == "aggregate":
        out = {"text": " + ".join(t.split("\\n")[0] for t in req["texts"])}
    else:
        out = {"scores": [min(len(item) / 100.0, 1.0) for item in req["items"]]}
    out["usage"] = usage
    sys.stdout.write(json.dumps(out))
''')

CTX = ThinkerContext(node_ids=("n1",), existing=("Old child",), neighbours=("Parent",), now=1_700_000_000.0)


@pytest.fixture
def script(tmp_path) -> Path:
    path = tmp_path / "fake_thinker.py"
    path.write_text(FAKE, encoding="utf-8")
    return path


def thinker(script: Path, mode: str, *extra: str, **kwargs) -> CommandThinker:
    return CommandThinker([sys.executable, str(script), mode, *extra], name="fake", **kwargs)


def gone(pid: int) -> bool:
    """True once ``pid`` no longer runs (absent, or a zombie nobody reaped yet)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def wait_until(predicate, limit: float = 10.0) -> bool:
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


# -- the exchange ------------------------------------------------------------------------------------
def test_the_request_reaches_the_program_as_json_on_stdin_byte_exact(script, tmp_path):
    seen = tmp_path / "request.json"
    nasty = "Deploy $(rm -rf ~) `whoami` \"quoted\" 'single' ; | & > <\nzweite Zeile: café ☕ \\n {mode}"
    t = thinker(script, "echo", str(seen))
    result = t.generate(nasty, CTX, 2)
    req = json.loads(seen.read_text(encoding="utf-8"))
    assert req["op"] == "generate" and req["n"] == 2 and req["text"] == nasty
    assert "temperature" not in req
    ctx = req["context"]
    assert ctx["node_ids"] == ["n1"] and ctx["existing"] == ["Old child"] and ctx["neighbours"] == ["Parent"]
    assert ctx["now"] == 1_700_000_000.0 and ctx["attention"] is None and ctx["extra"] == {}
    first_line = nasty.split("\n")[0]
    assert result.value == [f"Step 1 of {first_line}", f"Step 2 of {first_line}"]

    t.with_temperature(0.7).refine("Title\nbody", "add: tests", CTX)
    req = json.loads(seen.read_text(encoding="utf-8"))
    assert (req["op"], req["text"], req["feedback"], req["temperature"]) == ("refine", "Title\nbody", "add: tests", 0.7)
    assert t.temperature is None  # with_temperature made a copy
    t.aggregate(["A\nx", "B"], CTX)
    assert json.loads(seen.read_text(encoding="utf-8"))["texts"] == ["A\nx", "B"]
    token = CancelToken()
    t.score(["one", "two"], ThinkerContext(attention=[0.5, float("nan")], extra={CANCEL: token, "about": "x"}))
    req = json.loads(seen.read_text(encoding="utf-8"))
    assert req["items"] == ["one", "two"]
    assert req["context"]["attention"] == [0.5, None]  # NaN is not JSON: null
    assert req["context"]["extra"] == {"about": "x"}  # the cancel token stays out


def test_each_operation_answers_with_its_value_and_cost(script):
    t = thinker(script, "ok")
    gen = t.generate("Plan the release\nnotes", CTX, 3)
    assert isinstance(gen, BackendResult)
    assert gen.value == ["Step 1 of Plan the release", "Step 2 of Plan the release", "Step 3 of Plan the release"]
    assert (gen.tokens, gen.prompt_tokens, gen.completion_tokens, gen.thinker) == (30, 21, 9, "fake")
    assert gen.seconds > 0
    assert gen.cost() == {"thinker": "fake", "seconds": round(gen.seconds, 6), "tokens": 30,
                          "prompt_tokens": 21, "completion_tokens": 9}
    assert t.refine("T\nbody", "add: more", CTX).value == "T\nbody\nadd: more"
    assert t.aggregate(["A\n1", "B\n2"], CTX).value == "A + B"
    assert t.score(["x" * 50, "y" * 250], CTX).value == [0.5, 1.0]
    # the model's call() keeps the token count of a backend result
    via_call = call(t, "aggregate", ["A", "B"], CTX)
    assert via_call.value == "A + B" and via_call.tokens == 30 and via_call.thinker == "fake"


def test_it_feeds_the_models_transforms_and_the_cost_is_journaled_in_the_params(script):
    g = ThoughtGraph()
    g.apply(ops.add_thought(g, "Ship it", "the release", kind="goal", node_id="goal", now=1.0))
    tx = tf.generate(g, "goal", 2, thinker=thinker(script, "ok"), now=2.0)
    g.apply(tx)
    created = tx.provenance.params["created"]
    assert [g.node(i).title for i in created] == ["Step 1 of Ship it", "Step 2 of Ship it"]
    assert tx.provenance.actor == "fake"
    assert tx.provenance.params["cost"]["tokens"] == 30 and tx.provenance.params["cost"]["thinker"] == "fake"


# -- failures ----------------------------------------------------------------------------------------
def test_a_non_zero_exit_quotes_the_tail_of_stderr(script):
    with pytest.raises(BackendError) as err:
        thinker(script, "exit3").generate("x", CTX, 1)
    msg = str(err.value)
    assert "'fake'" in msg and "exited with 3" in msg and "error: model 'tiny' not found" in msg
    assert isinstance(err.value, ThinkerError)  # the CLI's and the transforms' error type


def test_invalid_json_names_the_thinker_and_quotes_the_output(script):
    with pytest.raises(BackendError, match=r"thinker 'fake' \(.*\) wrote invalid JSON .*Sure! Here are"):
        thinker(script, "garbage").generate("x", CTX, 1)


@pytest.mark.parametrize(("mode", "pattern"), [
    ("error", r"thinker 'fake' reported an error: quota exceeded for model tiny"),
    ("wrong", r"generate must give a list of strings, got str"),
    ("toomany", r"generate gave 4 texts, more than n=2"),
])
def test_answers_of_the_wrong_shape_are_errors(script, mode, pattern):
    with pytest.raises(BackendError, match=pattern):
        thinker(script, mode).generate("x", CTX, 2)


def test_score_must_give_one_number_per_item(script):
    # the fake's refine answer has no "scores" key
    class Refiner(CommandThinker):
        def score(self, items, context):
            answer, result = self.request({"op": "refine", "text": "t", "feedback": "f"}, context)
            return self._field(answer, "scores")

    with pytest.raises(BackendError, match=r"the answer has no 'scores' \(keys: \['text', 'usage'\]\)"):
        Refiner([sys.executable, str(script), "ok"], name="fake").score(["a"], CTX)


def test_a_missing_program_is_a_clear_error(tmp_path):
    with pytest.raises(BackendError, match="thinker 'ghost': program not found: no-such-thinker-program"):
        CommandThinker(["no-such-thinker-program"], name="ghost").generate("x", CTX, 1)
    with pytest.raises(BackendError, match="working folder .* does not exist"):
        CommandThinker([sys.executable, "-c", "pass"], name="w", cwd=tmp_path / "nope").generate("x", CTX, 1)


def test_past_the_timeout_the_whole_process_group_is_killed(script, tmp_path):
    pids = tmp_path / "pids"
    t = thinker(script, "sleep", str(pids), timeout_s=1.0)
    t0 = time.monotonic()
    with pytest.raises(ThinkerTimeout, match=r"thinker 'fake' did not answer generate within 1 s \(process group"):
        t.generate("x", CTX, 1)
    assert time.monotonic() - t0 < 30  # not the fake's 120 s
    leader, child = map(int, pids.read_text().split())
    assert wait_until(lambda: gone(leader) and gone(child)), "the thinker and its child must be dead"


def test_a_program_that_ignores_sigterm_gets_sigkill_after_the_grace_period(script, tmp_path):
    pids = tmp_path / "pids"
    t = thinker(script, "stubborn", str(pids), timeout_s=1.0, grace_s=0.2)
    with pytest.raises(ThinkerTimeout):
        t.generate("x", CTX, 1)
    leader, child = map(int, pids.read_text().split())
    assert wait_until(lambda: gone(leader) and gone(child))


def test_a_cancel_kills_the_running_program_at_once(script, tmp_path):
    pids = tmp_path / "pids"
    token = CancelToken()
    ctx = ThinkerContext(extra={CANCEL: token})
    t = thinker(script, "sleep", str(pids), timeout_s=100.0)

    def cancel_once_started() -> None:
        if wait_until(pids.exists, 30):
            token.cancel("the winner is known")
    canceller = threading.Thread(target=cancel_once_started)
    canceller.start()
    t0 = time.monotonic()
    with pytest.raises(ThinkerCancelled, match="cancelled \\(the winner is known\\)"):
        t.generate("x", ctx, 1)
    canceller.join()
    assert time.monotonic() - t0 < 30  # far below the 100 s limit
    leader, child = map(int, pids.read_text().split())
    assert wait_until(lambda: gone(leader) and gone(child))
    # an already cancelled token starts nothing
    with pytest.raises(ThinkerCancelled):
        thinker(script, "exit3").generate("x", ctx, 1)


# -- configuration -------------------------------------------------------------------------------------
def write_config(root: Path, text: str) -> Path:
    path = root / ".orchestrator" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_config_names_command_thinkers_and_the_default(script, tmp_path):
    (tmp_path / "tools").mkdir()
    write_config(tmp_path, textwrap.dedent(f'''\
        [thinkers]
        default = "tool"

        [thinkers.backends.tool]
        type = "command"
        command = [{json.dumps(sys.executable)}, {json.dumps(str(script))}, "ok"]
        cwd = "tools"
        env = {{ THINK = "1" }}
        timeout_s = 9
        temperature = 0.3
        '''))
    cfg = load_config(tmp_path)
    assert thinker_names(cfg) == ["offline", "tool"]
    t = make_thinker(cfg, workspace=tmp_path)
    assert isinstance(t, CommandThinker) and t.name == "tool"
    assert (t.cwd, t.env, t.timeout_s, t.temperature) == (str(tmp_path / "tools"), {"THINK": "1"}, 9.0, 0.3)
    assert t.generate("Goal", CTX, 1).value == ["Step 1 of Goal at 0.3"]
    assert isinstance(make_thinker(cfg, "offline"), OfflineThinker)
    assert isinstance(make_thinker(EngineConfig()), OfflineThinker)  # no config: the offline thinker
    with pytest.raises(ValueError, match=r"no thinker 'gpt' .* \(known: offline, tool\)"):
        make_thinker(cfg, "gpt")


@pytest.mark.parametrize(("text", "line", "message"), [
    ('[thinkers.backends.t]\ntype = "command"\n', 1, "a command thinker needs command"),
    ('[thinkers.backends.t]\ntype = "command"\ncommand = ["x"]\nmodel = "m"\n', 1,
     'model cannot be used with type = "command"'),
    ('[thinkers]\ndefault = "nope"\n', 1, "default = 'nope' is not a thinker (known: offline)"),
    ('[thinkers.backends.offline]\ntype = "command"\ncommand = ["x"]\n', 1, "built-in thinker's name"),
    ('\n[thinkers.backends.t]\ntype = "command"\ncommand = ["x"]\ntimeout_s = "60"\n', 5, "timeout_s"),
])
def test_config_errors_name_the_file_and_line(tmp_path, text, line, message):
    path = write_config(tmp_path, text)
    with pytest.raises(FormatError) as err:
        load_config(tmp_path)
    assert err.value.problem.line == line and message in str(err.value)
    assert str(path) in err.value.problem.format()


# -- the CLI ---------------------------------------------------------------------------------------------
@pytest.fixture
def built(tmp_path, monkeypatch, capsys, script):
    from orchestrator_gui.demo import BUNDLED_DEMO

    root = tmp_path / "ws"
    shutil.copytree(BUNDLED_DEMO, root)
    monkeypatch.chdir(root)
    assert main(["graph", "build", "--json"]) == 0
    write_config(root, textwrap.dedent(f'''\
        [thinkers.backends.tool]
        type = "command"
        command = [{json.dumps(sys.executable)}, {json.dumps(str(script))}, "ok"]

        [thinkers.backends.broken]
        type = "command"
        command = [{json.dumps(sys.executable)}, {json.dumps(str(script))}, "exit3"]
        '''))
    capsys.readouterr()
    return root


def goal_id(capsys) -> tuple[str, str]:
    """A TODO item of the demo workspace (id, title)."""
    assert main(["graph", "query", "TW-002 Station catalogue loader", "--kind", "todo", "--json"]) == 0
    hit = json.loads(capsys.readouterr().out)[0]
    return hit["id"], hit["title"]


def test_cli_transform_uses_the_named_thinker(built, capsys):
    node, title = goal_id(capsys)
    assert main(["graph", "transform", "generate", node, "--n", "2", "--thinker", "tool", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["created"]) == 2 and "candidates" not in out
    assert main(["graph", "query", "Step 1 of", "--json"]) == 0
    titles = [h["title"] for h in json.loads(capsys.readouterr().out)]
    assert f"Step 1 of {title}" in titles
    # a failing thinker: exit 1, the stderr tail in the message, nothing committed
    assert main(["graph", "transform", "aggregate", node, out["created"][0], "--thinker", "broken"]) == 1
    err = capsys.readouterr().err
    assert "aggregate: thinker 'broken'" in err and "exited with 3" in err and "model 'tiny' not found" in err
    assert main(["graph", "transform", "score", node, "--thinker", "nope"]) == 1
    assert "no thinker 'nope'" in capsys.readouterr().err
    assert main(["graph", "transform", "generate", node, "--thinker", "tool", "--thinker", "tool"]) == 1
    assert "several with --speculative" in capsys.readouterr().err
    assert os.path.exists(built / ".orchestrator" / "graph.db")
