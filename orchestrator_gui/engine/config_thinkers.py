"""``[thinkers]`` of ``.orchestrator/config.toml``: the thinker backends of the graph transforms.

Kept apart from :mod:`.config` (which re-exports these names) for size. The
ranges are documented in docs/formats.md §8.1.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

#: Default cap on one thinker answer (an HTTP body, a command's stdout): real answers are a few KB.
DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024
#: Range of ``[thinkers] max_response_bytes``.
MIN_RESPONSE_BYTES, MAX_RESPONSE_BYTES = 1024, 1024**3
#: Longest ``timeout_s`` of one thinker call (an hour).
MAX_THINKER_TIMEOUT_S = 3600.0
# strict: TOML is typed, so "60" (a string) for a number is an error, not a conversion.
_STRICT = ConfigDict(extra="forbid", strict=True, frozen=True)

#: The built-in deterministic thinker's name (always available, never configured).
OFFLINE_THINKER = "offline"
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ThinkerBackendConfig(BaseModel):
    """``[thinkers.backends.<name>]``: one command or OpenAI-compatible HTTP thinker.

    ``type = "command"`` needs ``command`` (an argument list, run without a
    shell); ``type = "http"`` needs ``base_url`` and ``model``. ``api_key_env``
    names the environment variable holding the API key: the key itself is
    never stored here.
    """

    model_config = _STRICT

    type: Literal["command", "http"]
    command: list[str] | None = None
    env: dict[str, str] = Field(default_factory=dict)
    cwd: str | None = None
    base_url: str | None = None
    model: str | None = None
    api_key_env: str | None = None
    temperature: float | None = Field(None, ge=0, le=2)
    max_tokens: int | None = Field(None, ge=1)
    timeout_s: float = Field(60.0, gt=0, le=MAX_THINKER_TIMEOUT_S)
    retries: int = Field(3, ge=0, le=10)

    @model_validator(mode="after")
    def _complete(self) -> ThinkerBackendConfig:
        if self.type == "command":
            if not self.command or not self.command[0].strip():
                raise ValueError("a command thinker needs command = [\"program\", \"arg\", ...]")
            wrong = [k for k in ("base_url", "model", "api_key_env", "max_tokens") if getattr(self, k) is not None]
        elif self.type == "http":
            if not self.base_url or not re.match(r"^https?://[^/\s]+", self.base_url):
                raise ValueError("an http thinker needs base_url = \"http(s)://host[:port]/...\"")
            if not self.model:
                raise ValueError("an http thinker needs model = \"...\"")
            wrong = [k for k in ("command", "cwd") if getattr(self, k) is not None] + (["env"] if self.env else [])
        if wrong:
            raise ValueError(f"{', '.join(wrong)} cannot be used with type = \"{self.type}\"")
        if self.api_key_env is not None and not _ENV_NAME.match(self.api_key_env):
            raise ValueError("api_key_env must name an environment variable (never put the key itself here)")
        return self


def _backend_name(name: str) -> str:
    if name == OFFLINE_THINKER:
        raise ValueError(f"{OFFLINE_THINKER!r} is the built-in thinker's name; name the backend otherwise")
    return name


class ThinkersConfig(BaseModel):
    """``[thinkers]``: named backends, the default thinker, the scorer of speculative transforms,
    and ``max_response_bytes``, the largest answer any backend may give (default 8 MB)."""

    model_config = _STRICT

    default: str = OFFLINE_THINKER
    scorer: str | None = None
    # The name is checked as a dict key so the error points at the backend's own table.
    backends: dict[Annotated[str, AfterValidator(_backend_name)], ThinkerBackendConfig] = Field(default_factory=dict)
    max_response_bytes: int = Field(DEFAULT_MAX_RESPONSE_BYTES, ge=MIN_RESPONSE_BYTES, le=MAX_RESPONSE_BYTES)

    @model_validator(mode="after")
    def _known(self) -> ThinkersConfig:
        known = {OFFLINE_THINKER, *self.backends}
        for key in ("default", "scorer"):
            name = getattr(self, key)
            if name is not None and name not in known:
                raise ValueError(f"{key} = {name!r} is not a thinker (known: {', '.join(sorted(known))})")
        return self


__all__ = [
    "DEFAULT_MAX_RESPONSE_BYTES",
    "MAX_RESPONSE_BYTES",
    "MAX_THINKER_TIMEOUT_S",
    "MIN_RESPONSE_BYTES",
    "OFFLINE_THINKER",
    "ThinkerBackendConfig",
    "ThinkersConfig",
]
