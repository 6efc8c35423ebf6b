"""Several start gates asked in order, as one :class:`~orchestrator_gui.engine.scheduler.StartGate`.

The scheduler takes one gate; a workspace may need two (the user's approval,
then the fleet's claim). Order matters: the first refusal wins and later gates
are not asked. Put the approval gate *before* the fleet's, so a slot is
claimed in the shared database only once the user approved it (a claim is
made once per slot: claiming while waiting for approval would lose the run).
"""

from __future__ import annotations

from typing import Any

from orchestrator_gui.engine.scheduler import Allow, Deny, Offer, Shared, StartGate, StartRequest


class CompositeGate:
    """Ask ``gates`` in order (None entries are left out).

    * ``sync``: the fields of every gate, a later gate's winning for one schedule;
    * ``before_start``: the first :class:`Deny`, else an :class:`Allow` with the notes joined;
    * ``after_finish``: told to every gate (the scheduler only calls it for a run all of them allowed);
      the first error is raised once all were told;
    * ``offers``: every gate's offers, in order.
    """

    def __init__(self, gates: list[StartGate | None]) -> None:
        self.gates: list[StartGate] = [g for g in gates if g is not None]

    def sync(self, schedule_ids: list[str]) -> dict[str, Shared]:
        out: dict[str, Shared] = {}
        for g in self.gates:
            out.update(g.sync(schedule_ids))
        return out

    def before_start(self, request: StartRequest) -> Allow | Deny:
        notes: list[str] = []
        for g in self.gates:
            verdict = g.before_start(request)
            if isinstance(verdict, Deny):
                return verdict
            if verdict.note:
                notes.append(verdict.note)
        return Allow("; ".join(notes))

    def after_finish(self, request: StartRequest, result: Any) -> None:
        first: Exception | None = None
        for g in self.gates:
            try:
                g.after_finish(request, result)
            except Exception as exc:  # noqa: BLE001 - every gate hears of the end; the first error is raised
                first = first or exc
        if first is not None:
            raise first

    def offers(self, now_ms: int) -> list[Offer]:
        return [o for g in self.gates for o in g.offers(now_ms)]


def chain_gates(*gates: StartGate | None) -> StartGate | None:
    """One gate for ``gates`` (None entries dropped): None, the only one, or a :class:`CompositeGate`."""
    kept = [g for g in gates if g is not None]
    if not kept:
        return None
    return kept[0] if len(kept) == 1 else CompositeGate(kept)


__all__ = ["CompositeGate", "chain_gates"]
