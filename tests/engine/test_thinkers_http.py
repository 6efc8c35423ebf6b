"""The OpenAI-compatible HTTP thinker against a fake server on 127.0.0.1 that the tests start themselves."""

from __future__ import annotations

import json
import socket
import textwrap
import threading
import time
from collections.abc import Callable
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from orchestrator_gui.engine.concurrency import RATE_LIMITS
from orchestrator_gui.engine.config import load_config
from orchestrator_gui.engine.tasks import CancelToken
from orchestrator_gui.engine.thinkers import (
    CANCEL,
    BackendError,
    HttpThinker,
    ThinkerCancelled,
    ThinkerTimeout,
    make_scorer,
    make_thinker,
)
from orchestrator_gui.engine.thinkers.http import retry_after_seconds
from orchestrator_gui.engine.thinkers.prompts import parse_lines, parse_scores, parse_text
from orchestrator_gui.model import ThoughtGraph
from orchestrator_gui.model import operations as ops
from orchestrator_gui.model import transforms as tf
from orchestrator_gui.model.thinker import ThinkerContext
from orchestrator_gui.problems import FormatError


@pytest.fixture(autouse=True)
def _forget_rate_limits():
    """A 429 here is noted in the process's rate-limit register: leave it empty for the tests after."""
    yield
    RATE_LIMITS.clear()


KEY = "sk-test-0123456789"
ENV = {"FAKE_OPENAI_KEY": KEY}
CTX = ThinkerContext(node_ids=("n",), now=1.0)

Reply = tuple[int, dict[str, str], bytes]


def completion(content: Any, usage: dict[str, int] | None = None, model: str = "tiny") -> bytes:
    body: dict[str, Any] = {"id": "chatcmpl-1", "object": "chat.completion", "model": model,
                            "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                                         "finish_reason": "stop"}]}
    if usage is not None:
        body["usage"] = usage
    return json.dumps(body).encode()


class FakeOpenAI:
    """A chat-completions server: checks the key, records requests, answers from a script or ``reply``."""

    def __init__(self, key: str | None = KEY) -> None:
        self.key = key
        self.requests: list[dict[str, Any]] = []
        self.script: list[Reply | Callable[[], Reply]] = []
        self.reply: Callable[[dict[str, Any]], str] = lambda body: "1. Alpha\n2. Beta\n3. Gamma"
        self.usage = {"prompt_tokens": 40, "completion_tokens": 12, "total_tokens": 52}
        self.got_request = threading.Event()
        self.release = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                fake.requests.append({"path": self.path, "headers": dict(self.headers), "body": json.loads(raw)})
                fake.got_request.set()
                status, headers, body = fake.answer(self.path, self.headers, json.loads(raw))
                if status == 0:  # "hang": answer nothing until the test releases it
                    fake.release.wait(30)
                    return
                self.send_response(status)
                headers = {"Content-Type": "application/json", **headers}
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    def answer(self, path: str, headers: Any, body: dict[str, Any]) -> Reply:
        if path != "/v1/chat/completions":
            return 404, {}, b'{"error": {"message": "no such route"}}'
        if self.key is not None and headers.get("Authorization") != f"Bearer {self.key}":
            return 401, {}, b'{"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}}'
        if not isinstance(body.get("model"), str) or not isinstance(body.get("messages"), list):
            return 400, {}, b'{"error": {"message": "model and messages are required"}}'
        if self.script:
            step = self.script.pop(0)
            return step() if callable(step) else step
        return 200, {}, completion(self.reply(body), self.usage, body["model"])

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake():
    server = FakeOpenAI()
    yield server
    server.close()


class Sleeps(list):
    """A ``sleep`` that records the waits instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def thinker(fake: FakeOpenAI, **kwargs: Any) -> HttpThinker:
    kwargs.setdefault("sleep", Sleeps())
    return HttpThinker(fake.base_url, "tiny", name="llm", api_key_env="FAKE_OPENAI_KEY", environ=ENV, **kwargs)


def user_prompt(request: dict[str, Any]) -> str:
    messages = request["body"]["messages"]
    assert [m["role"] for m in messages] == ["system", "user"]
    return messages[1]["content"]


# -- the exchange ---------------------------------------------------------------------------------
def test_generate_posts_model_messages_and_temperature_with_the_key_and_reads_numbered_lines(fake):
    ctx = ThinkerContext(node_ids=("n",), existing=("Beta",), neighbours=("Release",), now=1.0)
    fake.reply = lambda body: ("Here are three ideas:\n\n1. **Alpha** plan\n2) Beta\n   with details\n"
                               "3. Gamma\n4. Delta\n\nHope this helps!")
    result = thinker(fake, temperature=0.4).generate("Ship it\nThe release", ctx, 3)
    (req,) = fake.requests
    assert req["path"] == "/v1/chat/completions"
    assert req["headers"]["Authorization"] == f"Bearer {KEY}"
    assert req["headers"]["Content-Type"] == "application/json"
    body = req["body"]
    assert (body["model"], body["temperature"]) == ("tiny", 0.4) and "max_tokens" not in body
    prompt = user_prompt(req)
    assert "Ship it\nThe release" in prompt and "exactly 3 numbered lines" in prompt
    assert "- Beta" in prompt and "- Release" in prompt  # what exists already, and the neighbourhood
    # bold unwrapped, "Beta" already exists, the detail line stays with its item, at most n, no chatter
    assert result.value == ["Alpha plan", "Gamma", "Delta"]
    assert (result.tokens, result.prompt_tokens, result.completion_tokens, result.attempts) == (52, 40, 12, 1)
    assert result.thinker == "llm" and result.seconds > 0


def test_refine_aggregate_and_score_prompts_and_answers(fake):
    t = thinker(fake, max_tokens=64)
    fake.reply = lambda body: "<think>the user wants a rename</think>\n```\nShip 2.0\n- notes\n```"
    assert t.refine("Ship it\n- notes", "rename to Ship 2.0", CTX).value == "Ship 2.0\n- notes"
    prompt = user_prompt(fake.requests[-1])
    assert "rename to Ship 2.0" in prompt and "Ship it\n- notes" in prompt
    assert fake.requests[-1]["body"]["max_tokens"] == 64

    fake.reply = lambda body: "Merged\n- a\n- b"
    assert t.aggregate(["A\n- a", "B\n- b"], CTX).value == "Merged\n- a\n- b"
    prompt = user_prompt(fake.requests[-1])
    assert "Thought 1:\n<<<\nA\n- a\n>>>" in prompt and "Thought 2:\n<<<\nB\n- b\n>>>" in prompt

    fake.reply = lambda body: "1. 0.8\n2. 1.7\n3. -0.2"
    ctx = ThinkerContext(extra={"about": "Ship it"})
    scored = t.score(["one", "two", "three"], ctx)
    assert scored.value == [0.8, 1.0, 0.0]  # clamped to [0, 1]
    req = fake.requests[-1]
    assert req["body"]["temperature"] == 0.0  # scoring asks for repeatable answers
    assert "Ship it" in user_prompt(req) and "Candidate 3:" in user_prompt(req)


def test_the_key_comes_from_the_environment_variable_and_a_wrong_one_is_reported(fake):
    wrong = HttpThinker(fake.base_url, "tiny", name="llm", api_key_env="FAKE_OPENAI_KEY",
                        environ={"FAKE_OPENAI_KEY": "sk-wrong"}, sleep=Sleeps())
    with pytest.raises(BackendError, match=r"HTTP 401: Incorrect API key provided \(check the key in "
                                           r"\$FAKE_OPENAI_KEY\)"):
        wrong.generate("x", CTX, 1)
    assert len(fake.requests) == 1  # 401 is not retried
    unset = HttpThinker(fake.base_url, "tiny", name="llm", api_key_env="FAKE_OPENAI_KEY", environ={})
    with pytest.raises(BackendError, match="the environment variable FAKE_OPENAI_KEY .* is not set"):
        unset.generate("x", CTX, 1)
    assert len(fake.requests) == 1  # nothing was sent
    keyless = HttpThinker(fake.base_url, "tiny", name="llm", sleep=Sleeps())
    with pytest.raises(BackendError, match="set api_key_env to the variable that holds it"):
        keyless.generate("x", CTX, 1)
    assert "Authorization" not in fake.requests[-1]["headers"]


def test_a_server_without_keys_like_ollama_needs_no_api_key_env():
    server = FakeOpenAI(key=None)
    try:
        t = HttpThinker(server.base_url + "/", "llama3.2", name="ollama")
        assert t.url == server.base_url + "/chat/completions"
        assert t.generate("x", CTX, 2).value == ["Alpha", "Beta"]
        assert "Authorization" not in server.requests[0]["headers"]
    finally:
        server.close()


# -- retries ---------------------------------------------------------------------------------------------
def test_500_twice_then_200_is_retried_with_exponential_backoff(fake):
    fake.script = [(500, {}, b'{"error": {"message": "overloaded"}}'), (502, {}, b"Bad Gateway")]
    sleeps = Sleeps()
    result = thinker(fake, sleep=sleeps, backoff_s=0.25).generate("x", CTX, 2)
    assert result.value == ["Alpha", "Beta"] and result.attempts == 3
    assert len(fake.requests) == 3 and sleeps == [0.25, 0.5]
    assert fake.requests[0]["body"] == fake.requests[2]["body"]  # the same request each time


def test_429_waits_what_retry_after_says(fake):
    fake.script = [(429, {"Retry-After": "7"}, b'{"error": {"message": "rate limited"}}')]
    sleeps = Sleeps()
    assert thinker(fake, sleep=sleeps).generate("x", CTX, 1).value == ["Alpha"]
    assert sleeps == [7.0] and len(fake.requests) == 2
    # an HTTP date works too
    fake.script = [(429, {"Retry-After": formatdate(time.time() + 30, usegmt=True)}, b"{}")]
    sleeps.clear()
    thinker(fake, sleep=sleeps).generate("x", CTX, 1)
    assert len(sleeps) == 1 and 25 <= sleeps[0] <= 30


def test_a_retry_after_beyond_the_limit_fails_at_once(fake):
    fake.script = [(429, {"Retry-After": "3600"}, b'{"error": {"message": "daily quota"}}')]
    sleeps = Sleeps()
    with pytest.raises(BackendError, match=r"HTTP 429: daily quota; the server asks to wait 3600 s, more than "
                                           r"max_retry_after_s = 60"):
        thinker(fake, sleep=sleeps).generate("x", CTX, 1)
    assert sleeps == [] and len(fake.requests) == 1


def test_retries_are_bounded(fake):
    fake.script = [(503, {}, b'{"error": "busy"}')] * 5
    sleeps = Sleeps()
    with pytest.raises(BackendError, match=r"answered HTTP 503: busy after 3 attempts"):
        thinker(fake, sleep=sleeps, retries=2, backoff_s=1.0, max_backoff_s=1.5).generate("x", CTX, 1)
    assert len(fake.requests) == 3 and sleeps == [1.0, 1.5]


def test_a_refused_connection_is_retried_then_reported():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again below: nothing listens there
    sleeps = Sleeps()
    t = HttpThinker(f"http://127.0.0.1:{port}/v1", "tiny", name="local", retries=2, sleep=sleeps)
    with pytest.raises(BackendError, match=rf"cannot reach http://127.0.0.1:{port}/v1/chat/completions: .*"
                                           r"after 3 attempts"):
        t.generate("x", CTX, 1)
    assert len(sleeps) == 2


def test_no_answer_within_the_timeout(fake):
    fake.script = [(0, {}, b"")]
    with pytest.raises(ThinkerTimeout, match=r"no answer from .* within 0.3 s"):
        thinker(fake, timeout_s=0.3, retries=0).generate("x", CTX, 1)


def test_a_cancel_stops_a_request_in_flight(fake):
    fake.script = [(0, {}, b"")]  # the server holds the request until the test ends
    token = CancelToken()
    ctx = ThinkerContext(extra={CANCEL: token})

    def cancel_when_the_server_has_it() -> None:
        if fake.got_request.wait(30):
            token.cancel("winner found")
    threading.Thread(target=cancel_when_the_server_has_it).start()
    with pytest.raises(ThinkerCancelled, match=r"cancelled \(winner found\)"):
        thinker(fake, timeout_s=60).generate("x", ctx, 1)
    assert not fake.release.is_set()  # it returned while the server still held the request
    # a cancel during a backoff wait (the real, cancellable one) stops too
    fake.script = [(503, {}, b"{}")]
    token2 = CancelToken()
    ctx2 = ThinkerContext(extra={CANCEL: token2})
    t = HttpThinker(fake.base_url, "tiny", name="llm", api_key_env="FAKE_OPENAI_KEY", environ=ENV,
                    backoff_s=60, max_backoff_s=60, timeout_s=300)  # the deadline leaves room for the wait
    fake.got_request.clear()
    threading.Thread(target=lambda: fake.got_request.wait(30) and token2.cancel("enough")).start()
    with pytest.raises(ThinkerCancelled, match="enough"):
        t.generate("x", ctx2, 1)


# -- only the configured URL ---------------------------------------------------------------------------
def test_redirects_are_not_followed_and_proxies_are_ignored(fake, monkeypatch):
    other = FakeOpenAI()
    try:
        fake.script = [(307, {"Location": other.base_url + "/chat/completions"}, b"")]
        with pytest.raises(BackendError, match=r"redirects to http://127.0.0.1:\d+/v1/chat/completions \(HTTP 307\); "
                                               r"redirects are not followed"):
            thinker(fake).generate("x", CTX, 1)
        assert other.requests == []  # the key never went there
        monkeypatch.setenv("http_proxy", other.base_url)
        monkeypatch.setenv("HTTP_PROXY", other.base_url)
        monkeypatch.delenv("no_proxy", raising=False)
        monkeypatch.delenv("NO_PROXY", raising=False)
        assert thinker(fake).generate("x", CTX, 1).value == ["Alpha"]
        assert other.requests == []
    finally:
        other.close()


@pytest.mark.parametrize(("reply", "pattern"), [
    ((200, {}, b"<html>oops</html>"), r"answered with invalid JSON '<html>oops</html>'"),
    ((200, {}, b'{"choices": []}'), r"no choices\[0\].message.content text"),
    ((200, {}, completion(None)), r"no choices\[0\].message.content text"),
    ((200, {}, completion("Sure, I can help with that.")), r"expected 1 score, found 0 in the answer"),
    ((404, {}, b'{"error": {"message": "model tiny not found"}}'), r"HTTP 404: model tiny not found"),
])
def test_unusable_answers_are_clear_errors(fake, reply, pattern):
    fake.script = [reply]
    with pytest.raises(BackendError, match=pattern):
        thinker(fake).score(["only item"], CTX)
    assert len(fake.requests) == 1


# -- parsing ---------------------------------------------------------------------------------------------------
def test_numbered_lines_are_read_leniently():
    assert parse_lines("m", "1. One\n2. Two\n3. Three", 3) == ["One", "Two", "Three"]
    assert parse_lines("m", "<think>\nhmm 1. no\n</think>\n- First\n* Second\n• Third", 5) == [
        "First", "Second", "Third"]
    assert parse_lines("m", "```\n1: \"Quoted\"\n2] `code`\n```", 2) == ["Quoted", "code"]
    assert parse_lines("m", "Ideas:\nJust one plain line", 3) == ["Just one plain line"]
    assert parse_lines("m", "1. Same\n2. same\n3. Other", 3, existing=("OTHER",)) == ["Same"]
    assert parse_lines("m", "1. Parent step\n   - nested detail\n2. Next", 2) == [
        "Parent step\n- nested detail", "Next"]
    with pytest.raises(BackendError, match=r"thinker 'm': no new thoughts in the answer 'Ideas:'"):
        parse_lines("m", "Ideas:", 3)
    with pytest.raises(BackendError, match="refine answered with no text"):
        parse_text("m", "refine", "<think>only thinking</think>\n```\n```")


def test_scores_are_read_leniently_and_clamped():
    assert parse_scores("m", "1. 0.9\n2. 0.25", 2) == [0.9, 0.25]
    assert parse_scores("m", "2. 0.4\n1. 0.9", 2) == [0.9, 0.4]  # placed by their numbers
    assert parse_scores("m", "1) Score: 80%\n2) 7/10\n3) 3", 3) == [0.8, 0.7, 1.0]
    assert parse_scores("m", "0.75", 1) == [0.75]
    assert parse_scores("m", "1.0", 1) == [1.0]  # a bare 1.0 is a score, not item 1
    assert parse_scores("m", "- .5\n- 1.5", 2) == [0.5, 1.0]
    with pytest.raises(BackendError, match=r"expected 3 scores, found 2 in the answer '1. 0.5\\n2. 0.1'"):
        parse_scores("m", "1. 0.5\n2. 0.1", 3)


def test_retry_after_header_values():
    assert retry_after_seconds("12") == 12.0
    assert retry_after_seconds(" 1.5 ") == 1.5
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


# -- through the model and the config ----------------------------------------------------------------------------
def test_it_feeds_the_models_transforms_with_tokens_in_the_journal_params(fake):
    g = ThoughtGraph()
    g.apply(ops.add_thought(g, "Ship it", "the release", kind="goal", node_id="goal", now=1.0))
    tx = tf.generate(g, "goal", 2, thinker=thinker(fake), now=2.0)
    g.apply(tx)
    assert [g.node(i).title for i in tx.provenance.params["created"]] == ["Alpha", "Beta"]
    assert tx.provenance.params["cost"]["tokens"] == 52 and tx.provenance.actor == "llm"


def test_config_builds_http_thinkers_and_never_holds_the_key(tmp_path, fake):
    path = tmp_path / ".orchestrator" / "config.toml"
    path.parent.mkdir()
    path.write_text(textwrap.dedent(f'''\
        [thinkers]
        default = "local"
        scorer = "judge"

        [thinkers.backends.local]
        type = "http"
        base_url = "{fake.base_url}"
        model = "tiny"
        api_key_env = "FAKE_OPENAI_KEY"
        temperature = 0.9
        max_tokens = 200
        timeout_s = 5
        retries = 1

        [thinkers.backends.judge]
        type = "http"
        base_url = "http://127.0.0.1:8080/v1"
        model = "judge"
        '''), encoding="utf-8")
    cfg = load_config(tmp_path)
    t = make_thinker(cfg, environ=ENV)
    assert isinstance(t, HttpThinker)
    assert (t.name, t.url, t.model, t.temperature, t.max_tokens, t.timeout_s, t.retries) == (
        "local", fake.base_url + "/chat/completions", "tiny", 0.9, 200, 5.0, 1)
    assert t.generate("x", CTX, 1).value == ["Alpha"]
    assert make_scorer(cfg).name == "judge" and make_scorer(cfg, "local").name == "local"
    path.write_text(path.read_text().replace('api_key_env = "FAKE_OPENAI_KEY"', f'api_key_env = "{KEY}"'))
    with pytest.raises(FormatError, match="api_key_env must name an environment variable") as err:
        load_config(tmp_path)
    assert err.value.problem.line == 5  # the [thinkers.backends.local] header
    path.write_text('[thinkers.backends.x]\ntype = "http"\nbase_url = "127.0.0.1:11434"\nmodel = "m"\n')
    with pytest.raises(FormatError, match=r"base_url = \\?\"http\(s\)://host"):
        load_config(tmp_path)
