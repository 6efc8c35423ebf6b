"""``[dynamics]`` of ``.orchestrator/config.toml``: automatic suppression and resource-aware parallelism.

Kept apart from :mod:`.config` (which holds it as ``EngineConfig.dynamics``)
for size. Every number has a range; a value outside it is a
``config.toml:LINE: error: dynamics.<key>: ...`` like any other key.

.. code-block:: toml

    [dynamics]
    suppress_below = 0.05        # activation under which a node counts as idle (0 = never suppress)
    suppress_after_s = 600       # ... for this long before it is suppressed
    suppress_batch = 1000        # most nodes suppressed by one transaction (one tick)
    tick_s = 30                  # how often the app looks (suppression and re-activation)
    adapt_concurrency = true     # lower [limits] under machine load and thinker rate limits
    load_per_cpu = 1.0           # load average per CPU at which one fewer task may start
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

#: Longest ``suppress_after_s``: 30 days.
MAX_SUPPRESS_AFTER_S = 30 * 86_400.0


class DynamicsConfig(BaseModel):
    """``[dynamics]``: when idle nodes are suppressed, and how concurrency adapts to load.

    Attributes
    ----------
    suppress_below : float
        Activation below which a node is idle, in [0, 1]; 0 turns suppression off.
    suppress_after_s : float
        Seconds a node must stay idle before it is suppressed, in [1, 30 days].
    suppress_batch : int
        Most nodes one suppression transaction marks (1-100000); the rest follow at the next ticks.
    tick_s : float
        Seconds between the app's suppression ticks, in [1, 3600].
    adapt_concurrency : bool
        Let machine load and thinker rate limits lower the ``[limits]`` (never raise them).
    load_per_cpu : float
        Load average per CPU the machine may carry before fewer tasks start, in [0.1, 16].
    """

    # strict: TOML is typed, so "600" (a string) for a number is an error, not a conversion.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    suppress_below: float = Field(0.05, ge=0.0, le=1.0)
    suppress_after_s: float = Field(600.0, ge=1.0, le=MAX_SUPPRESS_AFTER_S)
    suppress_batch: int = Field(1000, ge=1, le=100_000)
    tick_s: float = Field(30.0, ge=1.0, le=3600.0)
    adapt_concurrency: bool = True
    load_per_cpu: float = Field(1.0, ge=0.1, le=16.0)


__all__ = ["MAX_SUPPRESS_AFTER_S", "DynamicsConfig"]
