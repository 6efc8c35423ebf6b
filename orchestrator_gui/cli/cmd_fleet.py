"""``fleet``: fleet mode on PostgreSQL (``fleet init``, ``fleet status``).

* ``fleet init`` creates or upgrades the schema in the database named by
  ``[fleet] database`` (or ``ORCHESTRATOR_FLEET_DSN``): the migrations that ship
  with the package, each applied once; safe to run again and from several
  machines at once.
* ``fleet status [--json]`` lists the machines with their last heartbeat, the
  runs going on now and the latest claims (a lost claim with what became of it).

The DSN is shown with any password hidden; errors are one line, exit 1.
"""

from __future__ import annotations

import argparse
from typing import Any

from orchestrator_gui.cli.output import CliError, emit_json, table, workspace


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    sp = sub.add_parser("fleet", parents=[common], help="fleet mode: several machines, one PostgreSQL database")
    ss = sp.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=type(sp))
    p = ss.add_parser("init", parents=[common], help="create or upgrade the fleet schema in the database")
    p.set_defaults(handler=cmd_fleet_init)
    p = ss.add_parser("status", parents=[common], help="machines, heartbeats, running runs, latest claims")
    p.add_argument("--claims", type=int, default=20, metavar="N", help="how many latest claims (1..1000, default 20)")
    p.set_defaults(handler=cmd_fleet_status)


def _settings(args: argparse.Namespace) -> Any:
    from orchestrator_gui.engine.fleet_config import fleet_settings

    settings = fleet_settings(workspace(args).root)
    if settings is None:
        raise CliError("not in fleet mode: add [fleet] database = \"postgresql://user@host/db\" to "
                       ".orchestrator/config.toml (or set ORCHESTRATOR_FLEET_DSN)")
    return settings


def cmd_fleet_init(args: argparse.Namespace) -> int:
    from orchestrator_gui.fleet.link import FleetOffline
    from orchestrator_gui.fleet.status import fleet_init

    settings = _settings(args)
    try:
        version = fleet_init(settings)
    except FleetOffline as exc:
        raise CliError(f"fleet init on {settings.shown_dsn}: {exc}") from None
    if args.json:
        emit_json({"database": settings.shown_dsn, "schema_version": version})
    else:
        print(f"fleet schema at version {version} in {settings.shown_dsn}")
    return 0


def cmd_fleet_status(args: argparse.Namespace) -> int:
    from orchestrator_gui.fleet.link import FleetOffline
    from orchestrator_gui.fleet.status import fleet_status

    settings = _settings(args)
    if not 1 <= args.claims <= 1000:
        raise CliError("--claims must be between 1 and 1000")
    try:
        status = fleet_status(settings, claims=args.claims)
    except FleetOffline as exc:
        raise CliError(f"fleet database {settings.shown_dsn} unreachable: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - psycopg's UndefinedTable and kin: one line, exit 1
        raise CliError(f"fleet status on {settings.shown_dsn}: {type(exc).__name__}: "
                       f"{str(exc).strip().splitlines()[0] if str(exc).strip() else ''} "
                       "(has `orchestrator-gui fleet init` been run?)") from None
    if args.json:
        emit_json(status)
        return 0
    print(f"database {status['database']}  (this machine: {status['machine']}, "
          f"dead after {status['dead_after_s']:g} s)")
    print("\nmachines")
    table(status["machines"], ["machine", "state", "silent_s", "heartbeat", "running_claims", "pid"])
    print("\nrunning")
    if status["running"]:
        table(status["running"], ["machine", "task_id", "kind", "subject_id", "name", "started"], {"name": 40})
    else:
        print("(none)")
    print("\nlatest claims")
    if status["claims"]:
        table(status["claims"], ["schedule_id", "due", "attempt", "machine", "status", "result", "resolution"],
              {"result": 30, "resolution": 40})
    else:
        print("(none)")
    return 0
