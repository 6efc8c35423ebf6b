"""``graph`` commands: build, stats, export, import, history, restore, query, link, unlink.

The graph lives in ``<workspace>/.orchestrator/graph.db`` (see docs/store.md);
building it reads the workspace files and never writes to them.  ``export``
and ``import`` speak JSON, GraphML and GEXF (docs/exchange.md); an import,
a restore, a link and an unlink are each one step that ``graph undo`` undoes.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from orchestrator_gui.cli.output import CliError, emit_json, table, workspace
from orchestrator_gui.model.nodes import EdgeType, NodeKind

_EXCHANGE_FORMATS = ["json", "graphml", "gexf"]
_EDGE_TYPES = [t.value for t in EdgeType]


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    sp = sub.add_parser("graph", parents=[common], help="the spherical thought graph of the workspace")
    ss = sp.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=type(sp))

    p = ss.add_parser("build", parents=[common], help="build or update the graph from the workspace files")
    p.set_defaults(handler=cmd_build)
    p = ss.add_parser("stats", parents=[common], help="node and edge counts, layers, statuses, store size")
    p.set_defaults(handler=cmd_stats)
    p = ss.add_parser("export", parents=[common], help="export the graph")
    p.add_argument("--format", choices=_EXCHANGE_FORMATS, default="json")
    p.add_argument("-o", "--output", required=True, metavar="FILE")
    p.set_defaults(handler=cmd_export)
    p = ss.add_parser("import", parents=[common],
                      help="replace the graph with an export: JSON, GraphML or GEXF (undoable)")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--format", choices=_EXCHANGE_FORMATS, default=None,
                   help="the file's format (default: told from its content)")
    p.set_defaults(handler=cmd_import)
    p = ss.add_parser("history", parents=[common], help="list committed transactions")
    p.add_argument("--limit", type=int, default=None)
    p.set_defaults(handler=cmd_history)
    p = ss.add_parser("restore", parents=[common], help="restore the graph as it was after TX_ID (undoable)")
    p.add_argument("tx_id", metavar="TX_ID")
    p.set_defaults(handler=cmd_restore)
    p = ss.add_parser("query", parents=[common], help="search titles, content and tags")
    p.add_argument("text")
    p.add_argument("--kind", choices=[k.value for k in NodeKind])
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(handler=cmd_query)
    p = ss.add_parser("link", parents=[common], help="add the edge SRC -[TYPE]-> DST (undoable)")
    p.add_argument("src", metavar="SRC", help="node id (or a unique prefix of at least 4 characters)")
    p.add_argument("dst", metavar="DST", help="node id (or a unique prefix of at least 4 characters)")
    p.add_argument("--type", dest="edge_type", required=True, choices=_EDGE_TYPES, metavar="TYPE",
                   help=f"the edge type: {', '.join(_EDGE_TYPES)}")
    p.set_defaults(handler=cmd_link)
    p = ss.add_parser("unlink", parents=[common],
                      help="remove the edges SRC -> DST, or only the one of --type (undoable)")
    p.add_argument("src", metavar="SRC")
    p.add_argument("dst", metavar="DST")
    p.add_argument("--type", dest="edge_type", default=None, choices=_EDGE_TYPES, metavar="TYPE",
                   help="remove only the edge of this type")
    p.set_defaults(handler=cmd_unlink)
    from orchestrator_gui.cli.cmd_dynamics import register_graph_actions  # active, goals, transform, undo...
    register_graph_actions(ss, common)
    from orchestrator_gui.cli.cmd_recover import register_recover
    register_recover(ss, common)


def _store(args: argparse.Namespace, *, readonly: bool = False):
    # The store the config chooses: the fleet's shared one with [fleet], else .orchestrator/graph.db.
    from orchestrator_gui.workspace.session import open_store

    ws = workspace(args)
    store = open_store(ws.root, readonly=readonly)
    return ws, store


def _warn_problems(store) -> None:
    import sys

    for p in store.problems:
        print(p.format(), file=sys.stderr)


def counts(graph: Any) -> dict[str, Any]:
    """The ``nodes``/``edges``/``kinds`` summary of build, stats, export, import and restore."""
    from orchestrator_gui.workspace import graph_read

    return graph_read.counts(graph)


@contextmanager
def _nothing_left_on_failure(state: Path) -> Iterator[None]:
    """Remove what a failed build created in ``.orchestrator/`` (a first build makes the store before
    reading the files; a bad file must leave the workspace as it was)."""
    before = {p.name for p in state.iterdir()} if state.is_dir() else None
    try:
        yield
    except BaseException:
        if before is None or "graph.db" not in before:
            for p in (state.iterdir() if state.is_dir() else ()):
                if p.name not in (before or set()) and p.is_file() and not p.is_symlink():
                    p.unlink(missing_ok=True)
            if before is None:
                with suppress(OSError):
                    state.rmdir()  # only when empty: never a file of someone else's
        raise


def cmd_build(args: argparse.Namespace) -> int:
    import gc
    import sys

    from orchestrator_gui.workspace import Session

    # An empty store gets the fresh build the app gives a workspace on first open: its force-directed
    # layout, recorded as the store's base state (a snapshot). Nothing came before it to undo to, and a
    # 300k-node build journaled as one transaction of 300k edits costs more than the build itself.
    root = workspace(args).root
    with _nothing_left_on_failure(Path(root) / ".orchestrator"), \
            Session.open(root, build=True, sync=False) as session:
        # The loaded graph lives until this process ends: frozen, it is no longer walked by each full
        # collection the sync's allocations trigger (2 s of syncing a 300k-entry log).
        gc.freeze()
        if session.store is None:  # the store exists but cannot be opened (damaged): never build in memory here
            from orchestrator_gui.workspace.session import open_store

            open_store(session.root).close()  # raises the store's own error naming 'graph recover'
            raise CliError(session.store_problem or "the graph store cannot be opened")
        for line in session.problems:
            print(line, file=sys.stderr)
        if session.built_fresh:
            g = session.graph
            changes = {"nodes_added": g.number_of_nodes(), "nodes_removed": 0, "nodes_updated": 0,
                       "edges_added": g.number_of_edges(), "edges_removed": 0}
            description = f"Fresh build from the workspace files ({g.number_of_nodes()} nodes added)"
        else:
            tx = session.plan_sync()
            if tx.edits:
                session.apply(tx)  # an explicit command: undoable, like an editor's "reload"
            changes = {k: v for k, v in tx.provenance.params.items() if k != "workspace"}
            description = tx.description
        result = {**counts(session.graph), "changes": changes}
    if args.json:
        emit_json(result)
    else:
        print(f"graph: {result['nodes']} nodes, {result['edges']} edges "
              f"({', '.join(f'{n} {k}' for k, n in result['kinds'].items())})")
        print(f"       {description}")
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    from orchestrator_gui.workspace import graph_read

    ws, store = _store(args, readonly=True)
    with store:
        _warn_problems(store)
        st = graph_read.stats(store.graph, store)
        keys = ("nodes", "edges", "kinds", "layers", "statuses", "edge_types", "transactions")
        result = {**{k: st[k] for k in keys}, "store": store.name, "store_bytes": st["store_bytes"]}
    if args.json:
        emit_json(result)
    else:
        for key, value in result.items():
            print(f"{key:>13}: {value}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from orchestrator_gui.store import export_graph

    _, store = _store(args, readonly=True)
    with store:
        export_graph(store.graph, args.output, args.format)
        n = counts(store.graph)
    if args.json:
        emit_json({"ok": True, "file": args.output, "format": args.format, **n})
    else:
        print(f"exported {n['nodes']} nodes and {n['edges']} edges to {args.output} ({args.format})")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from orchestrator_gui.store.exchange import read_graph

    # The whole file is read and checked before the store is opened: bad input changes nothing.
    graph, fmt = read_graph(args.file, args.format)
    _, store = _store(args)
    with store:
        # A reset record with the new graph as its base snapshot; workspace.history offers it as an undo step.
        store.replace_graph(graph, operation="import", description=f"Import {args.file}",
                            params={"file": str(args.file), "format": fmt})
        n = counts(store.graph)
    if args.json:
        emit_json({"ok": True, "format": fmt, **n})
    else:
        print(f"imported {n['nodes']} nodes and {n['edges']} edges from {args.file} ({fmt})")
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    from orchestrator_gui.workspace import graph_read

    _, store = _store(args, readonly=True)
    with store:
        entries = graph_read.history(store, args.limit, cap=None)  # all that was asked for, printed as it comes
    if args.json:
        emit_json(entries)
    else:
        table([{**e, "tx_id": e["tx_id"][:12]} for e in entries],
              ["seq", "tx_id", "time_iso", "operation", "actor", "description"], {"description": 70})
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    _, store = _store(args)
    with store:
        try:
            tx = store.restore(args.tx_id)
        except (KeyError, LookupError, ValueError) as exc:
            raise CliError(str(exc).strip("'\"")) from None
        n = counts(store.graph)
    tx_id = tx.id if tx is not None else None
    if args.json:
        emit_json({"transaction": tx_id, **n})
    else:
        print(f"restored the graph as of {args.tx_id}: {n['nodes']} nodes, {n['edges']} edges"
              + ("" if tx_id else " (already equal)"))
    return 0


def cmd_query(args: argparse.Namespace) -> int:
    from orchestrator_gui.model.queries import search
    from orchestrator_gui.workspace import graph_read

    _, store = _store(args, readonly=True)
    with store:
        g = store.graph
        keys = ("id", "kind", "layer", "title", "status", "file", "line")
        rows = [{k: r[k] for k in keys} for r in graph_read.summaries(g, search(g, args.text, kind=args.kind,
                                                                                  limit=args.limit))]
    if args.json:
        emit_json(rows)
    else:
        table(rows, ["kind", "title", "file", "line", "id"], {"title": 60, "id": 40})
    return 0


def _endpoints(graph: Any, args: argparse.Namespace, verb: str) -> tuple[str, str]:
    from orchestrator_gui.cli.cmd_dynamics import resolve_id

    src, dst = resolve_id(graph, args.src), resolve_id(graph, args.dst)
    if src == dst:
        raise CliError(f"cannot {verb} itself ({src!r}): an edge joins two different nodes")
    return src, dst


def cmd_link(args: argparse.Namespace) -> int:
    from orchestrator_gui.cli.cmd_dynamics import open_session
    from orchestrator_gui.model.operations import link

    with open_session(args) as session:
        g = session.graph
        src, dst = _endpoints(g, args, "link a node to")
        if g.has_edge(src, dst, args.edge_type):
            raise CliError(f"{src!r} -[{args.edge_type}]-> {dst!r} exists already")
        committed = session.apply(link(g, src, dst, args.edge_type))
    if args.json:
        emit_json({"transaction": committed.id, "src": src, "dst": dst, "type": args.edge_type})
    else:
        print(f"linked {src} -[{args.edge_type}]-> {dst} (transaction {committed.id})")
    return 0


def cmd_unlink(args: argparse.Namespace) -> int:
    from orchestrator_gui.cli.cmd_dynamics import open_session
    from orchestrator_gui.model.errors import EdgeNotFound
    from orchestrator_gui.model.operations import unlink

    with open_session(args) as session:
        g = session.graph
        src, dst = _endpoints(g, args, "unlink a node from")
        try:
            tx = unlink(g, src, dst, args.edge_type)
        except EdgeNotFound as exc:
            raise CliError(str(exc)) from None
        committed = session.apply(tx)
    removed = [edit.type.value for edit in committed.edits]
    if args.json:
        emit_json({"transaction": committed.id, "src": src, "dst": dst, "removed": removed})
    else:
        print(f"unlinked {src} -[{', '.join(removed)}]-> {dst} (transaction {committed.id})")
    return 0
