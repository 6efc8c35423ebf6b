"""The readers under fuzz: how to call each on bytes, its clean error type, its seeds and tokens.

Shared by ``tests/formats/test_fuzz_readers.py`` (in-process, a few
examples) and ``benchmarks/fuzz.py`` (a worker process per reader, with a
hang detector). A plain module beside the tests, like ``shared_fixtures``.

The oracle (:func:`run_target`): a reader either returns or raises its
documented clean error (``FormatError`` for files and graph imports,
``BackendError`` for thinker answers). Anything else is a crash. So is a
message the user would see -- a problem line, an error, a thinker's text --
that cannot be written as UTF-8 (a lone surrogate that slipped through
fails later, when it is printed or stored).

Each call returns the texts it would show, so the oracle can check them.
"""

from __future__ import annotations

import json
import tempfile
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_FIXTURES = REPO_ROOT.parent / "shared" / "fixtures"
LOCAL_DATA = Path(__file__).resolve().parent / "data"
DEMO = REPO_ROOT / "orchestrator_gui" / "resources" / "demo"


@dataclass(frozen=True)
class Target:
    """One reader under fuzz.

    Attributes
    ----------
    name : str
        Short name, used in the report's keys (``todo_examples``).
    call : callable
        ``call(data, scratch) -> list[str]``: reads ``data`` the way the app
        does and returns the texts it would show. ``scratch`` is a folder the
        call may write to (graph imports and command thinkers read files).
    clean : str
        Which clean error it may raise: ``"format"`` or ``"backend"``.
    kinds : tuple of str
        Folders of ``../shared/fixtures`` (and ``tests/data``) holding seed files.
    builtin : tuple of str
        Files of the demo workspace, or ``"@name"`` for a built-in sample below.
    tokens : tuple of bytes
        Format tokens the ``token`` mutation splices in.
    """

    name: str
    call: Callable[[bytes, Path], list[str]]
    clean: str
    kinds: tuple[str, ...]
    builtin: tuple[str, ...]
    tokens: tuple[bytes, ...]


@dataclass(frozen=True)
class Outcome:
    """What one call did: ``ok``, ``clean`` (its documented error) or ``crash`` (with signature and traceback)."""

    kind: str
    signature: str = ""
    detail: str = ""


# ---------------------------------------------------------------- the calls


def _lines(problems: list) -> list[str]:
    return [p.format() for p in problems]


def _schedules(data: bytes, scratch: Path) -> list[str]:
    from orchestrator_gui.formats.schedules import ScheduleDocument

    doc = ScheduleDocument(".roo/schedules.json", data)
    return _lines(doc.problems()) + [s.name for s in doc.schedules]


def _todo(data: bytes, scratch: Path) -> list[str]:
    from orchestrator_gui.formats.todo import TodoDocument

    doc = TodoDocument("TODO.md", data)
    return _lines(doc.problems()) + [i.text for i in doc.items]


def _memory(data: bytes, scratch: Path) -> list[str]:
    from orchestrator_gui.formats.memory import MemoryDocument

    doc = MemoryDocument("persistent-memory.md", data)
    return _lines(doc.problems())


def _timing(data: bytes, scratch: Path) -> list[str]:
    from orchestrator_gui.formats.timing import parse_timing

    doc = parse_timing(data, "task_timing.tsv")
    return _lines(doc.problems()) + list(doc.tasks())


def _roomodes(data: bytes, scratch: Path) -> list[str]:
    from orchestrator_gui.formats.roomodes import ModesDocument

    doc = ModesDocument(".roomodes", data)
    out = _lines(doc.problems())
    for mode in doc.modes:  # what the editor asks for: each field's bytes, to highlight it
        for key in ("name", "roleDefinition", "whenToUse", "description", "customInstructions"):
            doc.source_range(mode.slug, key)
        out += [mode.slug, mode.name, mode.role_definition]
    return out


def _config(data: bytes, scratch: Path) -> list[str]:
    """Load the config, then pause a schedule in it (the one edit the engine makes, engine/failures.py)."""
    from orchestrator_gui.engine.config import ConfigFile
    from orchestrator_gui.engine.config_toml import set_table_value
    from orchestrator_gui.formats.fileio import decode_text
    from orchestrator_gui.problems import FormatError

    name = ".orchestrator/config.toml"
    out: list[str] = []
    refused: FormatError | None = None
    try:
        out = _lines(ConfigFile(name, data).problems())
    except FormatError as exc:
        refused = exc
    try:
        text, _ = decode_text(data, name)
    except FormatError:
        text = None
    if text is not None:
        out.append(set_table_value(text, ("schedules", "fuzz"), "paused", True, name))
    if refused is not None:
        raise refused
    return out


def _graph_json(data: bytes, scratch: Path) -> list[str]:
    from orchestrator_gui.store.exchange import import_json

    path = scratch / "graph.json"
    path.write_bytes(data)
    graph = import_json(path)
    return [str(i) for i in graph.to_dict().get("nodes", [])[:50]]


def _graph_importer(fmt: str) -> Callable[[bytes, Path], list[str]] | None:
    """``store.exchange.import_graph`` (the format told from the content) where it reads ``fmt``."""
    from orchestrator_gui.store import exchange

    fn = getattr(exchange, "import_graph", None)
    if fn is None or fmt not in getattr(exchange, "IMPORT_FORMATS", ()):
        return None

    def call(data: bytes, scratch: Path) -> list[str]:
        path = scratch / f"graph.{fmt}"
        path.write_bytes(data)
        graph = fn(path)
        return [str(i) for i in graph.to_dict().get("nodes", [])[:50]]

    return call


# ---------------------------------------------------------------- thinkers


class _Server:
    """A chat-completions server on 127.0.0.1 that answers every request with :attr:`body` (one per process)."""

    instance: _Server | None = None

    def __init__(self) -> None:
        self.body = b""
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server spelling
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                body = server.body
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except OSError:  # the thinker hung up first (it refuses an announced body over its cap)
                    pass

            def log_message(self, *args: object) -> None:
                pass

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: object, client_address: object) -> None:
                pass  # a client that hung up early is part of the game, not news for stderr

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    @classmethod
    def get(cls) -> _Server:
        if cls.instance is None:
            cls.instance = cls()
        return cls.instance


def _ask(thinker: object, data: bytes) -> list[str]:
    """One call as the transforms make it: generate, refine or score, picked by ``len(data) % 3`` (so a
    saved input replays the same call). Each returns or raises ``BackendError``."""
    from orchestrator_gui.model.thinker import ThinkerContext

    ctx = ThinkerContext(node_ids=("a", "b"), existing=("Alpha",), neighbours=("Release",), now=1.0)
    op = len(data) % 3
    if op == 0:
        return list(thinker.generate("Plan\nbody", ctx, 3).value)
    if op == 1:
        return [thinker.refine("Plan", "add: tests", ctx).value]
    return [str(v) for v in thinker.score(["x", "y"], ctx).value]


def _thinker_http(data: bytes, scratch: Path) -> list[str]:
    """``data`` is the whole HTTP body the server sends back."""
    from orchestrator_gui.engine.thinkers.http import HttpThinker

    server = _Server.get()
    server.body = data
    return _ask(HttpThinker(server.url, "fuzz", name="fuzz", retries=0, timeout_s=30.0), data)


def _thinker_content(data: bytes, scratch: Path) -> list[str]:
    """``data`` is the model's message text, sent in a valid chat-completions answer."""
    from orchestrator_gui.engine.thinkers.http import HttpThinker

    content = data.decode("utf-8", "replace")
    server = _Server.get()
    server.body = json.dumps({"choices": [{"index": 0, "message": {"role": "assistant", "content": content}}],
                              "usage": {"prompt_tokens": 1, "completion_tokens": 2}}).encode()
    return _ask(HttpThinker(server.url, "fuzz", name="fuzz", retries=0, timeout_s=30.0), data)


def _thinker_command(data: bytes, scratch: Path) -> list[str]:
    """``data`` is what the program writes on stdout (``cat`` of a file: a real process, real pipes)."""
    from orchestrator_gui.engine.thinkers.command import CommandThinker

    path = scratch / "answer.out"
    path.write_bytes(data)
    return _ask(CommandThinker(["cat", str(path)], name="fuzz", timeout_s=30.0), data)


# ---------------------------------------------------------------- built-in seeds

CONFIG_SAMPLE = b"""\
runner = ["python", "agent.py", "--mode", "{mode}", "--file", "{instructions_file}"]
env = { AGENT_LOG = "1" }        # added to the runner's environment
cwd = "."
grace_s = 5

[timeouts]
todo_s = 3600
schedule_s = 7200
warn_fraction = 0.8

[limits]
agent_tasks = 1
transforms = 4
threads = 5

[modes.architect]
runner = ["claude", "-p", "{instructions}"]
env = { MODEL = "big" }

[schedules."1761981872582"]
timeout_s = 900
no_timeout = false
paused = false

[todos."t-1"]
no_timeout = true

[thinkers]
default = "local"
scorer = "tool"
max_response_bytes = 1048576

[thinkers.backends.local]
type = "http"
base_url = "http://127.0.0.1:11434/v1"
model = "llama3.2"
api_key_env = "OPENAI_API_KEY"

[thinkers.backends.tool]
type = "command"
command = ["python", "think.py"]
"""
CONFIG_SMALL = (b"", b"[schedules.s1]\npaused = true\n", b"a.b = 1\n[t]\nx = \"\"\"\n[not]\n\"\"\"\n",
                b"[[modes]]\nx = 1\n", b"timeouts = { todo_s = 10 }\n")


def _completion(content: str) -> bytes:
    return json.dumps({"id": "c", "object": "chat.completion",
                       "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                                    "finish_reason": "stop"}],
                       "usage": {"prompt_tokens": 40, "completion_tokens": 12, "total_tokens": 52}},
                      indent=1).encode()


CONTENTS = ("1. Alpha\n2. Beta\n3. Gamma", "<think>hmm\n1. no</think>\nHere are three ideas:\n- **One**\n- Two\n"
            "  detail\n* Three", "```\n1) x\n2) y\n```", "1. 0.8\n2. 75%\n3. 3/5", "Revised title\nbody line",
            "1: -0.2\n2: 1e3", "", "   ", "Ideas:\n", "1. 'quoted'\n1. 'quoted'\n")
COMMAND_ANSWERS = (b'{"results": ["a", "b"], "text": "t", "scores": [0.5, 1], "usage": {"prompt_tokens": 3}}',
                   b'{"error": "no key"}', b'{"results": [], "text": "", "scores": []}', b"[]", b"",
                   b'{"results": ["x"], "text": "y", "scores": [1e308, -1]}\n')


def _graph() -> object:
    from orchestrator_gui.model import operations as ops
    from orchestrator_gui.model.graph import ThoughtGraph

    g = ThoughtGraph()
    g.apply(ops.add_thought(g, "Goal: ship", "body\nline two", kind="goal", node_id="goal", now=1.5,
                            metadata={"k": [1, 2, {"x": None}]}, tags=["alpha", "β"]))
    for i in range(3):
        g.apply(ops.add_thought(g, f"step {i}", kind="todo", parent="goal", node_id=f"s{i}", now=2.0 + i))
    g.apply(ops.link(g, "s1", "s2", "depends_on", weight=0.25, metadata={"why": "order"}))
    return g


def _exported(fmt: str) -> bytes:
    from orchestrator_gui.store.exchange import export_graph

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"graph.{fmt}"
        export_graph(_graph(), path, fmt)
        return path.read_bytes()


BUILTIN: dict[str, Callable[[], list[bytes]]] = {
    "@config": lambda: [CONFIG_SAMPLE, *CONFIG_SMALL],
    "@graph_json": lambda: [_exported("json"), b'{"format": "orchestrator-gui.thought-graph", "schema_version": 1}'],
    "@graphml": lambda: [_exported("graphml")],
    "@gexf": lambda: [_exported("gexf")],
    "@http": lambda: [_completion(c) for c in CONTENTS] + [b'{"choices": []}', b'{"error": {"message": "x"}}'],
    "@content": lambda: [c.encode() for c in CONTENTS],
    "@command": lambda: list(COMMAND_ANSWERS),
    "@schedules": lambda: [b'{\n  "schedules": []\n}', b'{"schedules": [{"id": "1"}]}'],
}

# ---------------------------------------------------------------- the table

JSON_TOKENS = (b"{", b"}", b"[", b"]", b",", b":", b'"', b"null", b"true", b"1e5", b'"":', b"\\", b"\\u")
_TARGETS = [
    Target("schedules", _schedules, "format", ("schedules",), (".roo/schedules.json", "@schedules"),
           JSON_TOKENS + (b'"schedules"', b'"id": ', b'"timeInterval": "', b'"selectedDays": {', b'"active": ',
                          b'"startDate": "', b'"2025-13-45"', b'"nextExecutionTime": "')),
    Target("todo", _todo, "format", ("todo",), ("TODO.md",),
           (b"- [ ] ", b"- [x] ", b"[X] ", b"* [~] ", b"1. [ ] ", b"## ", b"# ", b"```", b"~~~", b"<!--", b"-->",
            b"    ", b"\t", b"- [x][-] ", b"---\n", b"\n")),
    Target("memory", _memory, "format", ("memory",), ("persistent-memory.md",),
           (b"## [2025-11-01 04:13:15] [code] - [topic]\n", b"## ", b"### ", b"# ", b"- ", b"```", b"[", b"]",
            b"**", b"\n", b"|", b"2025-13-45", b"[]")),
    Target("timing", _timing, "format", ("timing",), ("task_timing.tsv",),
           (b"\t", b"\n", b"task_id\ttimestamp\tresult\n", b"2025-11-01T04:13:15Z", b"started", b"completed",
            b"failed", b",", b'"', b"-1", b"1e308", b"\r")),
    Target("roomodes", _roomodes, "format", ("roomodes",), (".roomodes",),
           (b"customModes:\n", b"  - slug: ", b"    roleDefinition: ", b"groups:\n", b"- read\n", b"- - edit\n",
            b"fileRegex: ", b"|\n", b">-\n", b"&a ", b"*a", b"<<: ", b"!!str ", b"'", b'"', b"#", b": ", b"- ",
            b"{", b"[", b"\t", b"---\n", b"...\n", b"? ")),
    Target("config", _config, "format", (), ("@config",),
           (b"[", b"]", b"[[", b"]]", b"=", b'"', b"'", b'"""', b"'''", b"{", b"}", b"#", b".", b"\\", b"\\u",
            b"1979-05-27T07:32:00Z", b"inf", b"nan", b"0x", b"paused = ", b"[schedules.", b"\n")),
    Target("graph_json", _graph_json, "format", (), ("@graph_json",),
           JSON_TOKENS + (b'"nodes"', b'"edges"', b'"id": ', b'"source": ', b'"target": ', b'"state": ',
                          b'"schema_version": ', b'"kind": ', b'"weight": ')),
    Target("thinker_http", _thinker_http, "backend", (), ("@http",),
           JSON_TOKENS + (b'"choices"', b'"message"', b'"content": ', b'"usage": ', b'"total_tokens": ')),
    Target("thinker_content", _thinker_content, "backend", (), ("@content",),
           (b"1. ", b"2) ", b"- ", b"* ", b"**", b"<think>", b"</think>", b"```", b"\n", b"  ", b"\t", b"0.5",
            b"%", b"/", b"1e999", b":")),
    Target("thinker_command", _thinker_command, "backend", (), ("@command",),
           JSON_TOKENS + (b'"results"', b'"text"', b'"scores"', b'"error"', b'"usage"')),
]


def targets() -> dict[str, Target]:
    """Every reader under fuzz, by name (GraphML and GEXF only where ``store.exchange`` imports them)."""
    out = {t.name: t for t in _TARGETS}
    for fmt in ("graphml", "gexf"):
        call = _graph_importer(fmt)
        if call is not None:
            out[f"graph_{fmt}"] = Target(f"graph_{fmt}", call, "format", (), (f"@{fmt}",),
                                         (b"<", b">", b"</", b"/>", b"<!DOCTYPE x [<!ENTITY a \"aaaa\">]>", b"&a;",
                                          b"<node id=\"", b"<edge source=\"", b"<data key=\"", b'"', b"&#0;"))
    return out


def seeds(target: Target, *, max_bytes: int | None = None) -> list[bytes]:
    """The target's seed files: shared fixtures (when present), tests/data, the demo workspace, built-ins.

    Parameters
    ----------
    max_bytes : int, optional
        Leave out larger files (the unit tests keep to small seeds).
    """
    found: list[bytes] = []
    for kind in target.kinds:
        for folder in (SHARED_FIXTURES / kind, LOCAL_DATA / kind):
            if folder.is_dir():
                found += [p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()]
    for item in target.builtin:
        if item.startswith("@"):
            found += BUILTIN[item]()
        elif (DEMO / item).is_file():
            found.append((DEMO / item).read_bytes())
    unique = list(dict.fromkeys(found))
    return [s for s in unique if max_bytes is None or len(s) <= max_bytes]


def _clean_types(target: Target) -> tuple[type[BaseException], ...]:
    if target.clean == "backend":
        from orchestrator_gui.engine.thinkers.base import BackendError

        return (BackendError,)
    from orchestrator_gui.problems import FormatError

    return (FormatError,)


def signature(exc: BaseException) -> str:
    """``Type@file:line`` of the innermost frame in ``orchestrator_gui`` (else the innermost frame)."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "orchestrator_gui" in f.filename]
    frame = (ours or frames or [None])[-1]
    if frame is None:
        return type(exc).__name__
    where = frame.filename
    if "orchestrator_gui" in where:
        where = "orchestrator_gui" + where.rsplit("orchestrator_gui", 1)[1]
    return f"{type(exc).__name__}@{where}:{frame.lineno}"


def _unprintable(texts: list[str]) -> str | None:
    for text in texts:
        try:
            str(text).encode("utf-8")
        except UnicodeEncodeError:
            return str(text).encode("utf-8", "backslashreplace").decode()[:300]
    return None


def run_target(target: Target, data: bytes, scratch: Path) -> Outcome:
    """Call ``target`` on ``data`` and classify what happened (see the module docstring)."""
    clean = _clean_types(target)
    try:
        texts = target.call(data, scratch)
    except clean as exc:
        bad = _unprintable([str(exc)])
        if bad is not None:
            return Outcome("crash", f"unprintable {type(exc).__name__} message", bad)
        return Outcome("clean")
    except Exception as exc:  # the point of the oracle: anything else is a crash
        return Outcome("crash", signature(exc), "".join(traceback.format_exception(exc))[-6000:])
    bad = _unprintable(texts)
    if bad is not None:
        return Outcome("crash", f"unprintable text from {target.name}", bad)
    return Outcome("ok")


__all__ = ["Outcome", "Target", "run_target", "seeds", "signature", "targets"]
