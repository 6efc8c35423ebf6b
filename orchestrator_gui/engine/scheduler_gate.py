"""The scheduler's side of the start gate: adopt shared fields, start offered slots, ask before a start.

A :class:`~orchestrator_gui.engine.scheduler.StartGate` (the fleet's claims,
an approval step) is asked before every run of
:class:`~orchestrator_gui.engine.scheduler_loop.Scheduler` starts; these
methods are the scheduler's half of that conversation, kept apart from the
loop for size. The engine never knows who the gate is.
"""

from __future__ import annotations

from typing import Any

from orchestrator_gui.engine.scheduler import Action, Decision, Deny, Shared, StartRequest, stored_next_ms
from orchestrator_gui.formats.nextrun import iso_ms


class GatedStarts:
    """Mixin of :class:`~orchestrator_gui.engine.scheduler_loop.Scheduler`: what it does with its ``gate``."""

    # Provided by the Scheduler (with _write, _armed, _start, note and _problem).
    gate: Any
    engine: Any
    denied: list[tuple[Decision, Deny]]
    _deny_noted: dict[tuple[str, int | None, int], str]

    def _adopt(self, doc: Any, now: int) -> bool:
        """Write back the runtime fields the gate hands over (the shared record); True if any came.

        A slot due here that the shared record already accounts for was run
        elsewhere: it is reported in :attr:`denied` like a refused claim.
        """
        assert self.gate is not None
        by_id = {s.id: s for s in doc.schedules}
        try:
            shared: dict[str, Shared] = self.gate.sync(list(by_id))
        except Exception as exc:  # noqa: BLE001 - a broken gate must not stop the loop
            self._problem(f"start gate: sync failed: {type(exc).__name__}: {exc}")
            return False
        for sid, got in shared.items():
            raw = dict(by_id[sid].raw) if sid in by_id else {}
            armed = self._armed(raw, now) if raw and raw.get("active") is not False else None
            if armed is not None and armed <= now and got.slot_ms is not None and armed <= got.slot_ms:
                who = f"another machine ({got.by})" if got.by else "another machine"
                d = Decision(sid, str(raw.get("name") or sid), Action.FIRE, due_ms=armed,
                             reason=f"due at {iso_ms(armed)}")
                self._ask_gate_said(d, 0, Deny(f"{who} claimed the slot {iso_ms(armed)}", by=got.by))
            res = self._write(sid, None, dict(got.fields))
            if res.ok and res.changed:
                self.note(f"schedule {sid}: runtime fields taken from the fleet's shared record: "
                          f"{sorted(got.fields)}")
        return bool(shared)

    def _ask_gate_said(self, d: Decision, attempt: int, verdict: Deny) -> None:
        """Record and log a refusal once per slot, attempt and reason."""
        key = (d.schedule_id, d.due_ms, attempt)
        if self._deny_noted.get(key) != verdict.reason:
            self._deny_noted[key] = verdict.reason
            self.denied.append((d, verdict))
            self.note(f"schedule {d.name!r} ({d.schedule_id}): not started: {verdict.reason}")

    def _offered(self, by_id: dict[str, Any], now: int, busy: set[str]) -> list[Decision]:
        """Start the slots the gate offers again (e.g. a dead machine's lost claims)."""
        assert self.gate is not None
        try:
            offers = self.gate.offers(now)
        except Exception as exc:  # noqa: BLE001 - reported; the due schedules ran already
            self._problem(f"start gate: offers failed: {type(exc).__name__}: {exc}")
            return []
        out: list[Decision] = []
        for offer in offers:
            sched = by_id.get(offer.schedule_id)
            if sched is None or offer.schedule_id in busy:
                continue
            raw = dict(sched.raw)
            if raw.get("active") is False or self.engine.is_paused("schedule", offer.schedule_id):
                continue  # switched off here meanwhile: another machine may take it, or nobody
            d = Decision(offer.schedule_id, str(raw.get("name") or offer.schedule_id), Action.FIRE,
                         due_ms=offer.due_ms, reason=offer.reason, runs=1)
            self.note(f"schedule {d.name!r} ({d.schedule_id}): fire: {offer.reason}")
            if self._start(raw, d, now, attempt=offer.attempt):
                out.append(d)
        return out

    def _ask_gate(self, raw: dict[str, Any], d: Decision, request: StartRequest) -> Deny | None:
        """The gate's verdict on ``request``: None to start, or the :class:`Deny` (already acted on)."""
        assert self.gate is not None
        sid = d.schedule_id
        try:
            verdict = self.gate.before_start(request)
        except Exception as exc:  # noqa: BLE001 - a failing gate refuses, and asks again next tick
            verdict = Deny(f"start gate failed: {type(exc).__name__}: {exc}", retry=True)
        if not isinstance(verdict, Deny):
            if getattr(verdict, "note", ""):
                self.note(f"schedule {d.name!r} ({sid}): {verdict.note}")
            return None
        self._ask_gate_said(d, request.attempt, verdict)
        if verdict.fields:
            self._write(sid, stored_next_ms(raw), dict(verdict.fields))
        return verdict

    def _finished_for_gate(self, request: StartRequest, result: Any) -> None:
        assert self.gate is not None
        try:
            self.gate.after_finish(request, result)
        except Exception as exc:  # noqa: BLE001 - in a worker thread: recorded, never raised
            self._problem(f"start gate: after_finish failed: {type(exc).__name__}: {exc}")



__all__ = ["GatedStarts"]
