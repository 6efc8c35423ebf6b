"""Fleet mode settings: ``[fleet]`` of ``.orchestrator/config.toml`` plus the environment.

Several machines run one loop against one PostgreSQL database. This module
only *resolves* the settings (no database driver is imported here): the
config file's ``[fleet]`` table (validated by
:class:`~orchestrator_gui.engine.config.FleetConfig`, with ``FILE:LINE``
errors), then ``ORCHESTRATOR_FLEET_DSN`` and ``ORCHESTRATOR_MACHINE``, which
win over the file so one workspace copy can be pointed elsewhere.

Passwords never live in ``config.toml``: libpq's ``passfile`` (``~/.pgpass``)
and ``PGPASSWORD`` supply them. A DSN is shown to people only through
:func:`redact_dsn`.
"""

from __future__ import annotations

import os
import re
import socket
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qsl, urlsplit

from orchestrator_gui.problems import FormatError

#: Environment variable with the database DSN (wins over ``[fleet] database``).
ENV_DSN = "ORCHESTRATOR_FLEET_DSN"
#: Environment variable with this machine's name (wins over ``[fleet] machine``).
ENV_MACHINE = "ORCHESTRATOR_MACHINE"
#: Longest DSN accepted (real ones are under 200 characters).
MAX_DSN_CHARS = 4096
_MACHINE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
# key=value conninfo: password = 'quoted \' value' | bare
_KV_PASSWORD = re.compile(r"""(?i)(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)""")
_URI_SCHEMES = ("postgresql://", "postgres://")
# scheme://user:secret@ (the userinfo ends at the last '@' before the path)
_URI_USERINFO = re.compile(r"(?i)^(\s*postgres(?:ql)?://)([^:/?#@]*):[^/?#]*@")

OfflinePolicy = Literal["pause", "local"]


def _is_uri(dsn: str) -> bool:
    return dsn.strip().lower().startswith(_URI_SCHEMES)


def dsn_has_password(dsn: str) -> bool:
    """Whether ``dsn`` (a ``postgresql://`` URI or ``key=value`` conninfo) carries a password.

    Parameters
    ----------
    dsn : str
        The connection string.

    Returns
    -------
    bool
        True for ``user:secret@host``, ``?password=...`` or ``password=...``.
    """
    if _is_uri(dsn):
        try:
            parts = urlsplit(dsn.strip())
            # A multi-host URI (host1:5432,host2) makes .password fail; the netloc test still works.
            userinfo = parts.netloc.rpartition("@")[0]
        except ValueError:
            return "@" in dsn and ":" in dsn.split("@", 1)[0].split("//", 1)[-1]
        if ":" in userinfo:
            return True
        return any(k.lower() == "password" for k, _ in parse_qsl(parts.query, keep_blank_values=True))
    return _KV_PASSWORD.search(dsn) is not None


def redact_dsn(dsn: str) -> str:
    """``dsn`` with any password replaced by ``***`` (the only form a DSN is shown in).

    Parameters
    ----------
    dsn : str
        The connection string.

    Returns
    -------
    str
        The same string, password hidden.
    """
    if _is_uri(dsn):
        out = _URI_USERINFO.sub(r"\1\2:***@", dsn)
        return re.sub(r"(?i)([?&]password=)[^&#]*", r"\1***", out)
    return _KV_PASSWORD.sub(lambda m: m.group(1) + "***", dsn)


@dataclass(frozen=True)
class FleetSettings:
    """The resolved fleet settings of one workspace on one machine.

    Attributes
    ----------
    dsn : str
        The libpq connection string (may hold a password only when it came from the environment).
    machine : str
        This machine's name.
    dead_after_s : float
        Heartbeat silence after which a machine's running claims are marked lost (5..3600).
    heartbeat_s : float
        Seconds between heartbeats (0.5..60).
    offline : {"pause", "local"}
        ``pause``: fire nothing while the database is unreachable; ``local``: fire on this machine alone.
    """

    dsn: str
    machine: str
    dead_after_s: float = 60.0
    heartbeat_s: float = 5.0
    offline: OfflinePolicy = "pause"

    @property
    def shown_dsn(self) -> str:
        """The DSN with any password hidden."""
        return redact_dsn(self.dsn)

    def __repr__(self) -> str:  # never leak the password through a repr in a log or traceback
        return (f"FleetSettings(dsn={self.shown_dsn!r}, machine={self.machine!r}, "
                f"dead_after_s={self.dead_after_s}, heartbeat_s={self.heartbeat_s}, offline={self.offline!r})")

    __str__ = __repr__


def default_machine() -> str:
    """This machine's default name: the host name, cut to a valid machine name."""
    name = re.sub(r"[^A-Za-z0-9._-]", "-", socket.gethostname())[:64].lstrip("._-")
    return name or "machine"


def fleet_settings(root: str | os.PathLike[str], environ: dict[str, str] | None = None) -> FleetSettings | None:
    """Resolve the fleet settings of the workspace at ``root``, or None when fleet mode is off.

    Fleet mode is on when ``config.toml`` has a ``[fleet]`` table or
    ``ORCHESTRATOR_FLEET_DSN`` is set.

    Parameters
    ----------
    root : path-like
        The workspace folder.
    environ : dict, optional
        The environment (default ``os.environ``).

    Returns
    -------
    FleetSettings or None

    Raises
    ------
    FormatError
        ``FILE:LINE`` for a bad ``[fleet]`` value (a password in ``database`` included; the
        message never repeats it), a ``[fleet]`` table without any database, or a bad
        ``ORCHESTRATOR_MACHINE``/``ORCHESTRATOR_FLEET_DSN``.
    """
    from orchestrator_gui.engine.config import config_path, read_config  # config imports this module

    env = os.environ if environ is None else environ
    path = config_path(root)
    section = None
    header_line: int | None = None
    name = str(path)
    if os.path.lexists(path):
        cfg = read_config(path)
        section = cfg.config.fleet
        header_line = cfg.line_of(("fleet",))
    env_dsn = (env.get(ENV_DSN) or "").strip()
    if section is None and not env_dsn:
        return None
    dsn = env_dsn or (section.database if section is not None else None)
    if not dsn:
        raise FormatError(name, f"fleet: no database; set [fleet] database = \"postgresql://user@host/db\" "
                                f"or the {ENV_DSN} environment variable", line=header_line)
    if len(dsn) > MAX_DSN_CHARS:
        raise FormatError(ENV_DSN, f"the DSN has {len(dsn)} characters, more than {MAX_DSN_CHARS}")
    machine = (env.get(ENV_MACHINE) or "").strip() or (section.machine if section is not None else None)
    if machine is None:
        machine = default_machine()
    elif not _MACHINE.match(machine):
        raise FormatError(ENV_MACHINE, f"{machine!r} is not a machine name: 1 to 64 letters, digits, "
                                       "'.', '_' or '-', starting with a letter or digit")
    if section is None:
        return FleetSettings(dsn=dsn, machine=machine)
    return FleetSettings(dsn=dsn, machine=machine, dead_after_s=section.dead_after_s,
                         heartbeat_s=section.heartbeat_s, offline=section.offline)


__all__ = ["ENV_DSN", "ENV_MACHINE", "FleetSettings", "OfflinePolicy", "default_machine", "dsn_has_password",
           "fleet_settings", "redact_dsn"]
