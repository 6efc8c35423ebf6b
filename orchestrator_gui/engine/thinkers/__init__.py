"""Thinker backends for the graph transforms: command-line and OpenAI-compatible HTTP language models.

Besides the model's built-in deterministic
:class:`~orchestrator_gui.model.thinker.OfflineThinker` (named ``offline``),
``.orchestrator/config.toml`` can name backends::

    [thinkers]
    default = "local"                 # used when no thinker is named (default "offline")
    scorer = "local"                  # scores speculative candidates (default: default)
    max_response_bytes = 8388608      # largest answer of any backend (default 8 MB; 1 KB to 1 GB)

    [thinkers.backends.local]
    type = "http"                     # CommandThinker: type = "command"
    base_url = "http://127.0.0.1:11434/v1"
    model = "llama3.2"
    api_key_env = "OPENAI_API_KEY"    # optional: the variable's *name*
    temperature = 0.7                 # optional (http default 0.7; command: none sent)
    max_tokens = 512                  # optional, http only
    timeout_s = 60                    # deadline of a whole call, retries included (default 60, at most 3600)
    retries = 3                       # http only (default 3)

    [thinkers.backends.tool]
    type = "command"
    command = ["python", "think.py"]  # argument list, no shell
    env = { THINK_MODE = "fast" }     # optional, added to the environment
    cwd = "tools"                     # optional, relative to the workspace

:func:`make_thinker` builds one by name. Both backends implement the model's
:class:`~orchestrator_gui.model.thinker.Thinker` protocol and answer with a
:class:`BackendResult` carrying their cost; see :mod:`.command` and
:mod:`.http` for their protocols, :mod:`orchestrator_gui.engine.speculative`
for running several at once.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from orchestrator_gui.engine.config import OFFLINE_THINKER, EngineConfig, ThinkerBackendConfig
from orchestrator_gui.engine.config_thinkers import DEFAULT_MAX_RESPONSE_BYTES
from orchestrator_gui.engine.thinkers.base import (
    CANCEL,
    BackendError,
    BackendResult,
    ThinkerCancelled,
    ThinkerTimeout,
    cancel_token,
    context_json,
)
from orchestrator_gui.engine.thinkers.command import CommandThinker
from orchestrator_gui.engine.thinkers.http import HttpThinker
from orchestrator_gui.model.thinker import OfflineThinker, Thinker


def thinker_names(config: EngineConfig) -> list[str]:
    """``offline`` and the configured backends' names, sorted after it."""
    return [OFFLINE_THINKER, *sorted(config.thinkers.backends)]


def backend_thinker(name: str, backend: ThinkerBackendConfig, *, workspace: str | os.PathLike[str] = ".",
                    environ: Mapping[str, str] | None = None,
                    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES) -> CommandThinker | HttpThinker:
    """The thinker described by one ``[thinkers.backends.<name>]`` table (``cwd`` relative to ``workspace``).

    ``max_response_bytes`` is ``[thinkers] max_response_bytes``: the largest answer accepted.
    """
    if backend.type == "command":
        assert backend.command is not None  # checked by the config model
        cwd = Path(workspace) / backend.cwd if backend.cwd is not None else Path(workspace)
        return CommandThinker(backend.command, name=name, timeout_s=backend.timeout_s, env=backend.env,
                              cwd=cwd, temperature=backend.temperature, max_response_bytes=max_response_bytes)
    assert backend.base_url is not None and backend.model is not None
    extra = {} if backend.temperature is None else {"temperature": backend.temperature}
    return HttpThinker(backend.base_url, backend.model, name=name, api_key_env=backend.api_key_env,
                       max_tokens=backend.max_tokens, timeout_s=backend.timeout_s, retries=backend.retries,
                       environ=environ, max_response_bytes=max_response_bytes, **extra)


def make_thinker(config: EngineConfig, name: str | None = None, *, workspace: str | os.PathLike[str] = ".",
                 environ: Mapping[str, str] | None = None) -> Thinker:
    """The thinker called ``name`` (default: ``[thinkers] default``); ``offline`` is the built-in one.

    Raises
    ------
    ValueError
        No thinker of that name (the message lists the known ones).
    """
    name = config.thinkers.default if name is None else name
    if name == OFFLINE_THINKER:
        return OfflineThinker()
    backend = config.thinkers.backends.get(name)
    if backend is None:
        raise ValueError(f"no thinker {name!r} in [thinkers.backends] of .orchestrator/config.toml "
                         f"(known: {', '.join(thinker_names(config))})")
    return backend_thinker(name, backend, workspace=workspace, environ=environ,
                           max_response_bytes=config.thinkers.max_response_bytes)


def make_scorer(config: EngineConfig, name: str | None = None, *, workspace: str | os.PathLike[str] = ".",
                environ: Mapping[str, str] | None = None) -> Thinker:
    """The scorer of speculative candidates: ``name``, else ``[thinkers] scorer``, else the default thinker."""
    chosen = name if name is not None else (config.thinkers.scorer or config.thinkers.default)
    return make_thinker(config, chosen, workspace=workspace, environ=environ)


__all__ = [
    "CANCEL",
    "BackendError",
    "BackendResult",
    "CommandThinker",
    "HttpThinker",
    "ThinkerCancelled",
    "ThinkerTimeout",
    "backend_thinker",
    "cancel_token",
    "context_json",
    "make_scorer",
    "make_thinker",
    "thinker_names",
]
