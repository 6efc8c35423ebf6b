"""Fleet mode, the loop's half: several machines run one loop on one PostgreSQL database.

A layer beside ``store``: it may use ``engine``, ``store`` (the schema
migrations), ``model`` and ``formats``, never ``workspace`` or a face. The
engine does not know this package: the fleet plugs into the scheduler as a
:class:`~orchestrator_gui.engine.scheduler.StartGate`, wired by
:mod:`orchestrator_gui.workspace.fleet_mode`.

Modules
-------
link        Link: one connection with offline detection, retry back-off and scrubbed messages
claims      FleetGate: claim (schedule, due slot) before a run starts; the shared schedule record
heartbeat   Heartbeat: this machine's heartbeat, the reaping of silent machines' claims
runs_table  RunRecorder: every run's started/finished rows in the ``runs`` table
status      fleet_init, fleet_status, fleet_runs: what ``orchestrator-gui fleet`` shows
"""
