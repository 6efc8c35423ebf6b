"""``serve`` and ``mcp``: the local API headless, and the MCP server over stdio.

* ``serve`` opens the workspace (graph store, engine, file watch) and serves
  REST, the ``/events`` WebSocket and MCP at ``/mcp`` on 127.0.0.1 until
  Ctrl-C. ``--show-token`` prints the bearer token and exits.
* ``mcp`` serves the same MCP tools and resources on stdin/stdout, for agent
  clients that launch their tools; nothing else is written to stdout.

Both are thin: :mod:`orchestrator_gui.workspace.live_host` opens the
workspace, :mod:`orchestrator_gui.api` serves it.
"""

from __future__ import annotations

import argparse
import sys

from orchestrator_gui.cli.output import CliError, UsageError, workspace

#: The port ``serve`` listens on by default.
DEFAULT_PORT = 8377
#: The interpreter's thread switch interval while serving (CPython's default is 5 ms).
SERVE_SWITCH_INTERVAL_S = 0.0005
_INIT_HELP = ("create .orchestrator/ (the graph store) in a folder that has none; without it such a folder's "
              "graph is kept in memory and nothing is written there")


def _port(value: str) -> int:
    if not value.isdigit() or not 0 <= int(value) <= 65535:
        raise argparse.ArgumentTypeError(f"a port is a number from 0 to 65535, not {value[:20]!r}")
    return int(value)


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("serve", parents=[common], help="serve the local API (REST, events, MCP) headless",
                       description="Serve this workspace's live graph and files: REST with OpenAPI at /openapi.json "
                                   "and docs at /docs, a WebSocket of events at /events, MCP at /mcp. Every request "
                                   "needs the bearer token (--show-token prints it).")
    p.add_argument("--port", type=_port, default=DEFAULT_PORT, metavar="N",
                   help=f"port to listen on (default {DEFAULT_PORT}; 0 picks a free one)")
    p.add_argument("--host", default="127.0.0.1", metavar="H",
                   help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--show-token", action="store_true", help="print the bearer token and exit")
    p.add_argument("--loop", action="store_true", help="also fire due schedules (off: a VS Code scheduler may)")
    p.add_argument("--dry-run", action="store_true", help="start no agent run, whatever the config")
    p.add_argument("--allow-origin", action="append", default=[], metavar="URL",
                   help="a browser origin allowed to call the API (CORS); repeat for more (default: none)")
    p.add_argument("--no-mcp", action="store_true", help="do not serve MCP at /mcp")
    p.add_argument("--init", action="store_true", help=_INIT_HELP)
    p.set_defaults(handler=cmd_serve)

    p = sub.add_parser("mcp", parents=[common], help="serve the MCP tools and resources over stdio",
                       description="An MCP server on stdin/stdout for agent clients that launch their tools "
                                   "(Roo Code, Claude Desktop). Logs go to stderr.")
    p.add_argument("--dry-run", action="store_true", help="start no agent run, whatever the config")
    p.add_argument("--init", action="store_true", help=_INIT_HELP)
    p.set_defaults(handler=cmd_mcp)


def _token() -> tuple[str, str]:
    from orchestrator_gui.api.security import TokenError, load_token

    try:
        return load_token()
    except TokenError as exc:
        raise CliError(str(exc)) from None


def _open(args: argparse.Namespace, *, loop: bool = False):  # noqa: ANN202 - a LiveHost
    from orchestrator_gui.workspace.live_host import NotAWorkspace, open_live

    root = workspace(args).root
    try:
        host = open_live(root, loop=loop, dry_run=getattr(args, "dry_run", False), init=args.init)
    except NotAWorkspace as exc:
        raise CliError(str(exc)) from None
    if host.note:
        print(host.note, file=sys.stderr)
    session = host.live.session
    if session.store_problem:
        print(f"warning: graph store unavailable, working in memory: {session.store_problem}", file=sys.stderr)
    for line in session.problems:
        print(line, file=sys.stderr)
    return host


def _tune_for_serving() -> None:
    """Make the serving process's request latency independent of how big the open graph is.

    * A request crosses four threads (uvicorn's loop, its worker, the
      workspace's owner thread, an engine worker for a transform); each
      hand-over waits for the GIL up to one switch interval while another
      thread computes, so with CPython's 5 ms a transform's round trip
      carried several of them. 0.5 ms, as the desktop app uses
      (``app.GUI_SWITCH_INTERVAL_S``).
    * The open graph is some 450,000 long-lived objects at 100k nodes; a
      full garbage collection walks them all (~200 ms measured) inside
      whichever request triggers it. Freezing what is there once the
      workspace is open leaves the collector only the objects made since.
    """
    import gc

    sys.setswitchinterval(SERVE_SWITCH_INTERVAL_S)
    gc.collect()
    gc.freeze()


def cmd_serve(args: argparse.Namespace) -> int:
    token, source = _token()
    if args.show_token:
        print(token)
        print(f"(from {source})", file=sys.stderr)
        return 0
    from orchestrator_gui.api.app import create_app
    from orchestrator_gui.api.server import ApiServer, RemoteRefused, allowed_hosts, bind, check_host

    try:
        for line in check_host(args.host, token):
            print(line, file=sys.stderr)
    except RemoteRefused as exc:
        raise CliError(str(exc)) from None
    for origin in args.allow_origin:
        if not origin.startswith(("http://", "https://")) or len(origin) > 200:
            raise UsageError(f"orchestrator-gui: --allow-origin takes an origin such as http://localhost:3000, "
                             f"not {origin[:60]!r}")
    try:
        sock = bind(args.host, args.port)  # before the workspace is opened: a busy port changes nothing
    except OSError as exc:
        raise CliError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
    try:
        host = _open(args, loop=args.loop)
    except BaseException:
        sock.close()
        raise
    try:
        app = create_app(host.live, token, hosts=allowed_hosts(args.host), origins=args.allow_origin,
                         mcp=not args.no_mcp)
        server = ApiServer(app, args.host, sock=sock)
        mcp = "" if args.no_mcp else f", MCP at {server.url}/mcp"
        _tune_for_serving()
        print(f"serving {host.live.root} on {server.url} (docs at {server.url}/docs?token=…{mcp}); "
              f"token: {source}; stop with Ctrl-C", file=sys.stderr, flush=True)
        server.run()
    finally:
        host.close()
    return 0


def cmd_mcp(args: argparse.Namespace) -> int:
    import anyio

    from orchestrator_gui.api.mcp_server import build_mcp

    host = _open(args)
    try:
        anyio.run(build_mcp(host.live).run_stdio_async)
    finally:
        host.close()
    return 0


__all__ = ["DEFAULT_PORT", "register"]
