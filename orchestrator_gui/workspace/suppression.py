"""Suppression ticks for a workspace: decide with :mod:`~orchestrator_gui.model.suppression`, commit, refresh.

The app calls :meth:`Suppressor.update` every ``[dynamics] tick_s`` seconds
(and right after a touch or a file sync, so a used node comes back at once),
the CLI once per ``orchestrator-gui suppressed --update``. Each tick commits
at most two transactions through :meth:`Session.apply` -- "Re-activate …"
then "Suppress …", actor ``engine`` -- so both are journaled and on the undo
history, then refreshes activation and attention so the view dims and
un-dims the nodes (their ``SUPPRESSED`` flag) at once.

Undo
----
Undoing a suppression removes the mark; a later tick would find the node
still idle and suppress it again, and the undo would not stick. So a
suppressor remembers what it changed: a node it suppressed that is found
unmarked (undone, or re-opened with ``graph transform expand``), or a node
it re-activated that is found marked again, is *held* -- left alone -- for
``suppress_after_s`` seconds. The memory is the process's own: a CLI tick
after an undo in another process may suppress the node again.

The clock is a parameter everywhere (``now``, Unix seconds), so tests drive
time by hand.
"""

from __future__ import annotations

import os
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

from orchestrator_gui.engine.config import load_config
from orchestrator_gui.engine.config_dynamics import DynamicsConfig
from orchestrator_gui.model.suppression import (
    SuppressionParams,
    plan_suppression,
    reactivate_transaction,
    suppress_transaction,
    suppressed_mask,
    suppressed_report,
)
from orchestrator_gui.workspace.dynamics import refresh

#: Most nodes a suppressor remembers changing (for holds after an undo).
_MEMORY = 100_000


def params_from_config(cfg: DynamicsConfig) -> SuppressionParams:
    """The :class:`SuppressionParams` of a ``[dynamics]`` table."""
    return SuppressionParams(below=cfg.suppress_below, after_s=cfg.suppress_after_s, batch=cfg.suppress_batch)


@dataclass(frozen=True)
class TickResult:
    """What one tick did.

    Attributes
    ----------
    suppressed : list of str
        Node ids suppressed now.
    reactivated : dict of str to str
        Node id -> why it came back.
    waiting : int
        Idle nodes left for later ticks (over ``suppress_batch``).
    held : list of str
        Nodes left alone because a change of this suppressor was undone.
    transactions : list of str
        Ids of the committed transactions.
    """

    suppressed: list[str] = field(default_factory=list)
    reactivated: dict[str, str] = field(default_factory=dict)
    waiting: int = 0
    held: list[str] = field(default_factory=list)
    transactions: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"suppressed": list(self.suppressed), "reactivated": dict(self.reactivated),
                "waiting": self.waiting, "held": list(self.held), "transactions": list(self.transactions)}


class Suppressor:
    """Runs suppression ticks on one session's graph (not thread-safe: call it on the graph's thread).

    Parameters
    ----------
    config : DynamicsConfig, optional
        Default: the defaults (``[dynamics]`` of :func:`for_workspace`).
    tz : tzinfo, optional
        Time zone for schedules whose next run is computed (default: local).
    """

    def __init__(self, config: DynamicsConfig | None = None, *, tz: tzinfo | None = None) -> None:
        self.config = config or DynamicsConfig()
        self.params = params_from_config(self.config)
        self.tz = tz
        # node id -> (True: we left it suppressed / False: we left it re-activated)
        self._mine: OrderedDict[str, bool] = OrderedDict()
        self._held: dict[str, float] = {}  # node id -> held until (Unix seconds)

    @classmethod
    def for_workspace(cls, root: str | os.PathLike[str], **kwargs: Any) -> Suppressor:
        """A suppressor with the workspace's ``[dynamics]``; raises FormatError for a bad config."""
        return cls(load_config(root).dynamics, **kwargs)

    def set_config(self, config: DynamicsConfig) -> None:
        """Use new thresholds from the next tick on."""
        self.config = config
        self.params = params_from_config(config)

    def _update_holds(self, graph: Any, now: float) -> list[str]:
        marked = suppressed_mask(graph)
        newly: list[str] = []
        for nid, left_suppressed in list(self._mine.items()):
            if nid not in graph:
                del self._mine[nid]
                continue
            if bool(marked[graph.row_of(nid)]) != left_suppressed:  # someone undid it (or expanded it)
                del self._mine[nid]
                self._held[nid] = now + self.params.after_s
                newly.append(nid)
        for nid in [i for i, until in self._held.items() if until <= now]:
            del self._held[nid]
        return newly

    def _remember(self, ids: list[str], suppressed: bool) -> None:
        for nid in ids:
            self._mine.pop(nid, None)
            self._mine[nid] = suppressed
        while len(self._mine) > _MEMORY:
            self._mine.popitem(last=False)

    def _due_from_files(self, session: Any, now: float) -> list[str]:
        # The scheduler's own timer (schedules.json, pauses): the same "due" as ``next``.
        from datetime import UTC, datetime

        from orchestrator_gui.workspace.next_work import next_context

        root = getattr(session, "root", None)
        if root is None:
            return []
        ctx = next_context(session, datetime.fromtimestamp(now, UTC), tz=self.tz)
        return [nid for nid, until in ctx.due_in_s.items() if until <= 0]

    def tick(self, session: Any, now: float | None = None, *, due_ids: Any = (), run_ids: Any = (),
             undoable: bool = True) -> TickResult:
        """Suppress idle nodes and re-activate used ones at ``now``; commit through ``session``.

        Parameters
        ----------
        session : Session
            The session whose graph and undo history take the transactions
            (a read-only one: nothing happens).
        now : float, optional
            Unix seconds (default: the clock).
        due_ids, run_ids : iterable of str
            Schedules known due now and nodes with a run starting now (see
            :func:`~orchestrator_gui.model.suppression.plan_suppression`).
        undoable : bool
            Put the transactions on the undo history (a user's ``suppressed --update``). The app's
            automatic ticks pass False: they are the engine's, journaled and shown in History, and
            must not take over the user's Ctrl+Z (after a Generate, Ctrl+Z must undo the Generate,
            not the re-activation the Generate caused).
            The schedules ``schedules.json`` says are due (as ``next`` reads
            them) are added to ``due_ids``.
        """
        stamp = time.time() if now is None else float(now)
        graph = session.graph
        if getattr(session, "readonly", False):
            return TickResult()  # a read-only store takes no transactions: nothing changes
        if self.params.below > 0:
            due_ids = [*due_ids, *self._due_from_files(session, stamp)]
        newly = self._update_holds(graph, stamp)
        plan = plan_suppression(graph, stamp, self.params, due_ids=due_ids, run_ids=run_ids,
                                hold_ids=list(self._held), tz=self.tz)
        out = TickResult(waiting=plan.waiting, held=newly)
        if plan.empty:
            return out
        reactivated = {graph.id_of(r): why for r, why in sorted(plan.reactivate.items())}
        suppressed = graph.ids_of(plan.suppress)
        for build in (reactivate_transaction, suppress_transaction):
            tx = build(graph, plan)  # both read the graph as the plan saw it: rows do not move
            if tx is not None:
                out.transactions.append(session.apply(tx, undoable=undoable).id)
        self._remember(list(reactivated), False)
        self._remember(suppressed, True)
        out.suppressed.extend(suppressed)
        out.reactivated.update(reactivated)
        return out

    def update(self, session: Any, now: float | None = None, **kwargs: Any) -> TickResult:
        """:meth:`tick`, then refresh activation and attention (flags included) at ``now``."""
        stamp = time.time() if now is None else float(now)
        result = self.tick(session, stamp, **kwargs)
        refresh(session.graph, stamp)
        return result


def suppressed_nodes(graph: Any) -> list[dict]:
    """The automatically suppressed nodes, for the app's list and the CLI (see ``suppressed_report``)."""
    return suppressed_report(graph)


__all__ = ["Suppressor", "TickResult", "params_from_config", "suppressed_nodes"]
