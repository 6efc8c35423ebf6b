"""What the language-model thinkers share: errors, the cost record, cancellation, the context as JSON.

A backend thinker answers with a :class:`BackendResult`: the value plus its
cost (wall time and, where the backend reports them, prompt and completion
tokens). :func:`orchestrator_gui.model.thinker.call` and the model's
transforms accept it like any thinker's answer and keep its token count.

Cancellation: a caller that may want to stop a thinker early (the speculative
mode) puts a :class:`~orchestrator_gui.engine.tasks.CancelToken` into
``context.extra[CANCEL]``. The command thinker then kills its process group,
the HTTP thinker shuts its socket down, and both raise
:class:`ThinkerCancelled`. Thinkers that ignore the key (the offline one)
simply run to the end.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from orchestrator_gui.engine.config_thinkers import DEFAULT_MAX_RESPONSE_BYTES
from orchestrator_gui.engine.tasks import CancelToken
from orchestrator_gui.formats.limits import json_limit_error
from orchestrator_gui.model.thinker import ThinkerContext, ThinkerError, ThinkerResult

T = TypeVar("T")

#: Key of ``ThinkerContext.extra`` that carries a :class:`CancelToken`.
CANCEL = "cancel"
#: What :func:`redact` puts in place of a secret.
REDACTED = "[redacted]"
# "Authorization: <value>" / "authorization=<value>" and "Bearer <token>", in any case, anywhere in a text.
_AUTH_VALUE = re.compile(r"(?i)(\bauthorization\b[\"']?\s*[:=]\s*[\"']?)(?:bearer\s+|basic\s+|token\s+)?[^\s\"',;}]+")
_BEARER = re.compile(r"(?i)(\bbearer\s+)[^\s\"',;}]+")


class BackendError(ThinkerError):
    """A command or HTTP thinker failed; the message names the thinker and says why."""


class ThinkerTimeout(BackendError):
    """The thinker did not answer within its time limit."""


class ThinkerCancelled(BackendError):
    """The call was cancelled through ``context.extra[CANCEL]``."""


@dataclass(frozen=True)
class BackendResult(ThinkerResult[T]):
    """A :class:`ThinkerResult` that also keeps the prompt/completion split of its tokens.

    Attributes
    ----------
    prompt_tokens, completion_tokens : int or None
        As the backend reported them (``None``: not reported). ``tokens`` is
        their sum (or the backend's ``total_tokens``).
    attempts : int
        HTTP requests made, retries included (1 for a command thinker).
    """

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    attempts: int = 1

    def cost(self) -> dict[str, Any]:
        """``{"thinker", "seconds", "tokens", "prompt_tokens", "completion_tokens"}`` (JSON)."""
        return {**super().cost(), "prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens}


def usage_tokens(usage: Any) -> tuple[int | None, int | None, int | None]:
    """``(prompt, completion, total)`` from an OpenAI-style ``usage`` object; ``None`` where absent or not an int."""
    if not isinstance(usage, dict):
        return None, None, None

    def count(key: str) -> int | None:
        v = usage.get(key)
        return v if isinstance(v, int) and not isinstance(v, bool) and v >= 0 else None

    prompt, completion, total = count("prompt_tokens"), count("completion_tokens"), count("total_tokens")
    if total is None and (prompt is not None or completion is not None):
        total = (prompt or 0) + (completion or 0)
    return prompt, completion, total


def cancel_token(context: ThinkerContext) -> CancelToken | None:
    """The token in ``context.extra[CANCEL]``, if any."""
    token = context.extra.get(CANCEL) if context.extra else None
    return token if isinstance(token, CancelToken) else None


def check_cancelled(context: ThinkerContext, name: str) -> None:
    """Raise :class:`ThinkerCancelled` when the context's token is set."""
    token = cancel_token(context)
    if token is not None and token.cancelled:
        raise ThinkerCancelled(f"thinker {name!r}: cancelled ({token.reason})")


def _array(values: Any) -> list[float | None] | None:
    if values is None:
        return None
    return [float(v) if math.isfinite(v) else None for v in np.asarray(values, dtype=np.float64).ravel().tolist()]


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return False
    return True


def context_json(context: ThinkerContext) -> dict[str, Any]:
    """The context as plain JSON: arrays as lists (non-finite values as null), ``extra`` without the token
    and without values that are not JSON."""
    extra = {k: v for k, v in (context.extra or {}).items() if k != CANCEL and _jsonable(v)}
    return {
        "node_ids": list(context.node_ids),
        "existing": list(context.existing),
        "neighbours": list(context.neighbours),
        "now": context.now,
        "attention": _array(context.attention),
        "updated": _array(context.updated),
        "completion": _array(context.completion),
        "attention_scale": context.attention_scale,
        "half_life": context.half_life,
        "extra": extra,
    }


def check_texts(name: str, op: str, value: Any, n: int | None = None) -> list[str]:
    """``value`` as a list of non-blank strings (at most ``n``), or a :class:`BackendError`."""
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise BackendError(f"thinker {name!r}: {op} must give a list of strings, got {_kind(value)}")
    if any(not t.strip() for t in value):
        raise BackendError(f"thinker {name!r}: {op} gave an empty text")
    if n is not None and len(value) > n:
        raise BackendError(f"thinker {name!r}: {op} gave {len(value)} texts, more than n={n}")
    return list(value)


def check_scores(name: str, value: Any, count: int) -> list[float]:
    """``value`` as ``count`` finite floats, or a :class:`BackendError`."""
    if not isinstance(value, list) or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
        raise BackendError(f"thinker {name!r}: score must give a list of numbers, got {_kind(value)}")
    if len(value) != count:
        raise BackendError(f"thinker {name!r}: score gave {len(value)} scores for {count} items")
    scores = [float(v) for v in value]
    if not all(math.isfinite(v) for v in scores):
        raise BackendError(f"thinker {name!r}: score gave a value that is not finite")
    return scores


def redact(text: str, secrets: tuple[str | None, ...] = ()) -> str:
    """``text`` with every secret in ``secrets`` and every ``Authorization``/``Bearer`` value replaced.

    Why: servers echo the request in their errors (``invalid key: Bearer sk-…``)
    and our messages quote the server, so a key would reach the terminal and
    the logs. Secrets shorter than 4 characters are not searched for (they
    would match ordinary text).
    """
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    text = _AUTH_VALUE.sub(lambda m: m.group(1) + REDACTED, text)
    return _BEARER.sub(lambda m: m.group(1) + REDACTED, text)


def answer_json(raw: bytes, who: str) -> Any:
    """Decode a thinker's JSON answer, refusing what the parser cannot take safely.

    Parameters
    ----------
    raw : bytes
        The answer (at most ``max_response_bytes`` of it).
    who : str
        Names the thinker and the source in errors (``thinker 'x' (prog)``).

    Raises
    ------
    BackendError
        Too deep (more than ``MAX_DEPTH`` levels), a lone surrogate escape,
        an integer of more than 4300 digits or a number beyond the float range.
    UnicodeDecodeError, json.JSONDecodeError
        Left to the caller, whose message says what the backend wrote.
    """
    text = raw.decode("utf-8")
    broken = json_limit_error(text)
    if broken is not None:
        raise BackendError(f"{who}: the answer is refused: {broken[0]} (line {broken[1]})")
    try:
        return json.loads(text, parse_float=_finite)
    except json.JSONDecodeError:
        raise
    except ValueError as exc:  # int() past 4300 digits, or an overflowing float
        raise BackendError(f"{who}: the answer is refused: {exc}") from None


def _finite(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"a number beyond the float range ({text[:30]})")
    return value


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def snippet(text: str, limit: int = 200) -> str:
    """``text`` shortened for an error message (``repr``, at most ``limit`` characters of it)."""
    return repr(text if len(text) <= limit else text[:limit] + "…")


__all__ = [
    "CANCEL",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "REDACTED",
    "answer_json",
    "redact",
    "BackendError",
    "BackendResult",
    "ThinkerCancelled",
    "ThinkerTimeout",
    "cancel_token",
    "check_cancelled",
    "check_scores",
    "check_texts",
    "context_json",
    "snippet",
    "usage_tokens",
]
