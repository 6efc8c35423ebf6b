"""Fleet mode of one workspace: the scheduler's start gate, the heartbeat and the runs table, wired together.

With ``[fleet]`` in ``.orchestrator/config.toml`` (or ``ORCHESTRATOR_FLEET_DSN``)
:class:`~orchestrator_gui.workspace.runs.Runs` opens a :class:`FleetMode`
when its loop starts: the scheduler then claims every due slot in the shared
database before it runs it (:class:`~orchestrator_gui.fleet.claims.FleetGate`),
this machine beats and reaps silent machines' claims
(:class:`~orchestrator_gui.fleet.heartbeat.Heartbeat`), and every run's
started/finished rows go to the ``runs`` table
(:class:`~orchestrator_gui.fleet.runs_table.RunRecorder`). Without
``[fleet]`` nothing here runs and nothing changes.

:meth:`FleetMode.state` is what a status bar shows (online, or working
locally because the database is unreachable).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from orchestrator_gui.engine.fleet_config import FleetSettings, fleet_settings
from orchestrator_gui.fleet.claims import FleetGate, FleetState
from orchestrator_gui.fleet.heartbeat import Heartbeat
from orchestrator_gui.fleet.journal import OfflineJournal
from orchestrator_gui.fleet.runs_table import RunRecorder

#: The offline journals, in the workspace's ``.orchestrator/`` folder.
CLAIMS_JOURNAL, RUNS_JOURNAL = "fleet-claims.jsonl", "fleet-runs.jsonl"


class FleetMode:
    """The fleet wiring of one workspace on one engine.

    Parameters
    ----------
    root : path-like
        The workspace.
    engine : Engine
        Its runs are recorded; a run whose claim was marked lost is cancelled on it.
    settings : FleetSettings
    policy : str
        Missed-run policy for lost claims (``once``, ``all``, ``skip``).
    log : callable, optional
        ``log(line)``: what the fleet did (the scheduler's log).
    """

    def __init__(self, root: str | os.PathLike[str], engine: Any, settings: FleetSettings, *,
                 policy: str = "once", log: Callable[[str], None] | None = None) -> None:
        self.settings = settings
        folder = Path(root) / ".orchestrator"
        # Offline journals in the workspace: a run fired while the database was down is recorded
        # by the next process of this workspace to reach it, even after a restart.
        self.gate = FleetGate(settings, policy=policy, log=log, workspace=str(Path(root).resolve()),
                              journal=OfflineJournal(folder / CLAIMS_JOURNAL))
        self.recorder = RunRecorder(settings.dsn, settings.machine, engine, log=log,
                                    retry_s=max(1.0, settings.heartbeat_s),
                                    journal=OfflineJournal(folder / RUNS_JOURNAL))
        self.heartbeat = Heartbeat(self.gate, cancel=engine.cancel, log=log).start()
        if not self.gate.link.online or not self.heartbeat.link.online:
            (log or (lambda _l: None))(self.state().message)

    def state(self) -> FleetState:
        """Online, or offline with what happens to due slots meanwhile (the status bar's text)."""
        # Either connection may notice first; the heartbeat's runs even while the loop is idle.
        return self.gate.state(self.gate.link.error or self.heartbeat.link.error)

    def close(self) -> None:
        """Stop the heartbeat, write the queued run rows and close every connection."""
        self.heartbeat.stop()
        self.recorder.close()
        self.gate.close()


def open_fleet(root: str | os.PathLike[str], engine: Any, *, policy: str = "once",
               log: Callable[[str], None] | None = None) -> FleetMode | None:
    """:class:`FleetMode` for the workspace at ``root``, or None when fleet mode is off.

    Raises
    ------
    FormatError
        A bad ``[fleet]`` table (``FILE:LINE``; a password is never repeated).
    """
    settings = fleet_settings(root)
    if settings is None:
        return None
    return FleetMode(root, engine, settings, policy=policy, log=log)


__all__ = ["CLAIMS_JOURNAL", "RUNS_JOURNAL", "FleetMode", "open_fleet"]
