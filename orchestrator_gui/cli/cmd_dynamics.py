"""``graph`` thought-dynamics commands: active, attention, goals, transform …, undo, redo.

They work on the store ``<workspace>/.orchestrator/graph.db`` that ``graph
build`` creates (and refuse, with a hint, when there is none).  Every
transform is one journaled transaction; its ids are printed, or with
``--json`` ``{"transaction", "created", "changed", "removed"}``.

Undo and redo across invocations
--------------------------------
Each CLI run opens the store afresh, so the undo position is derived from the
journal itself (:func:`undo_position`): walking it oldest first, every
ordinary transaction is pushed on the undo stack (clearing the redo stack);
an ``undo`` transaction (params ``{"of": TX}``, as
:meth:`Transaction.inverse` writes them) moves ``TX`` to the redo stack; a
``redo`` (params ``{"of": TX}``, from :meth:`Transaction.replay`) takes ``TX``
off the redo stack and pushes the redo itself.  The GUI's in-memory undo
writes the same records, so both agree.  Like an editor, ``graph undo``
undoes whatever came last -- a transform, an edit, a ``restore`` or a
``sync_workspace`` from ``graph build`` alike (undoing a sync leaves the graph
behind the files until the next build).  A ``reset`` record (``graph
import``) or a damaged record clears both stacks: what lies before it can
only be reached with ``graph restore``.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from typing import Any

from orchestrator_gui.cli.output import CliError, emit_json, table, workspace
from orchestrator_gui.model.errors import GraphError

_THINKER_HELP = "the built-in offline thinker (deterministic, no network)"


def register_graph_actions(ss: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add ``active``, ``attention``, ``goals``, ``transform``, ``undo`` and ``redo`` to the ``graph`` subparsers."""
    p = ss.add_parser("active", parents=[common], help="the active nodes, with activation and why")
    p.add_argument("--now", metavar="ISO", help="evaluate at this time (ISO 8601; default: now)")
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(handler=cmd_active)
    p = ss.add_parser("attention", parents=[common], help="nodes ranked by attention (personalised PageRank)")
    p.add_argument("--top", type=int, default=20, metavar="N")
    p.add_argument("--now", metavar="ISO", help="evaluate activation at this time (default: now)")
    p.set_defaults(handler=cmd_attention)
    p = ss.add_parser("goals", parents=[common], help="goals with progress, confidence and open questions")
    p.set_defaults(handler=cmd_goals)

    p = ss.add_parser("transform", parents=[common],
                      help="Graph-of-Thoughts transforms (one undoable transaction each)")
    ts = p.add_subparsers(dest="transform", metavar="OPERATION", required=True, parser_class=type(p))
    t = ts.add_parser("generate", parents=[common], help=f"children of ID from {_THINKER_HELP}")
    t.add_argument("ids", nargs=1, metavar="ID")
    t.add_argument("--n", type=int, default=3, metavar="N", help="at most N children (default 3)")
    t = ts.add_parser("refine", parents=[common], help="apply feedback to ID (a new derived node unless --in-place)")
    t.add_argument("ids", nargs=1, metavar="ID")
    t.add_argument("--feedback", required=True, metavar="TEXT",
                   help="'rename to X', 'add: Y', 'remove: Z', 'replace: A => B' or a note (one per line)")
    t.add_argument("--in-place", action="store_true", help="edit ID itself (its old text stays in its history)")
    t = ts.add_parser("aggregate", parents=[common], help="merge two or more nodes into one")
    t.add_argument("ids", nargs="+", metavar="ID")
    t = ts.add_parser("score", parents=[common], help="score nodes by attention, recency and completion")
    t.add_argument("ids", nargs="+", metavar="ID")
    t = ts.add_parser("keep-best", parents=[common], help="keep the N best-scored nodes, prune the rest")
    t.add_argument("ids", nargs="+", metavar="ID")
    t.add_argument("--n", type=int, required=True, metavar="N")
    for name, what in (("prune", "suppress the branch under ID (recoverable)"), ("expand", "re-open a pruned branch"),
                       ("compress", "fold the subtree under ID into one summary node (reversible)")):
        t = ts.add_parser(name, parents=[common], help=what)
        t.add_argument("ids", nargs=1, metavar="ID")
    for name in ("generate", "refine", "aggregate", "score"):
        _thinker_options(ts.choices[name], speculative=name in ("generate", "refine"))
    for t in ts.choices.values():
        t.set_defaults(handler=cmd_transform)

    p = ss.add_parser("undo", parents=[common], help="undo the last transaction (persists across runs)")
    p.set_defaults(handler=cmd_undo)
    p = ss.add_parser("redo", parents=[common], help="redo the last undone transaction")
    p.set_defaults(handler=cmd_redo)


def _thinker_options(t: argparse.ArgumentParser, *, speculative: bool) -> None:
    t.add_argument("--thinker", action="append", metavar="NAME",
                   help="a thinker from [thinkers.backends] in .orchestrator/config.toml, or 'offline' (default: "
                        "[thinkers] default); with --speculative, repeat it to vary the thinker")
    if speculative:
        t.add_argument("--speculative", type=int, metavar="K",
                       help="run K candidates in parallel (the thinkers in turn, at spread temperatures), "
                            "score them and keep the best --keep")
        t.add_argument("--keep", type=int, default=1, metavar="N", help="candidates kept with --speculative")
        t.add_argument("--scorer", metavar="NAME", help="the thinker that scores candidates (default: [thinkers] "
                                                        "scorer, else the default thinker)")


def _thinker_run(args: argparse.Namespace, store: Any) -> tuple[Any, Any]:
    """The thinker for a transform, and for ``--speculative`` a function ``(graph, ids) -> SpeculativeResult``."""
    from pathlib import Path

    names = getattr(args, "thinker", None) or [None]
    k = getattr(args, "speculative", None)
    if k is None and len(names) > 1:
        raise CliError("--thinker: give one thinker, or several with --speculative K")
    from orchestrator_gui.engine.config import load_config
    from orchestrator_gui.engine.thinkers import make_scorer, make_thinker

    root = Path(store.path).parent.parent
    config = load_config(root)
    thinkers = [make_thinker(config, name, workspace=root) for name in names]
    if k is None:
        return thinkers[0], None
    if k < 1 or not 1 <= args.keep <= k:
        raise CliError("--speculative K needs K >= 1 and 1 <= --keep <= K")
    from orchestrator_gui.engine import speculative as sp
    from orchestrator_gui.engine.executor import ThreadExecutor

    variants = sp.make_variants(thinkers, k, sp.spread_temperatures(k) if k > 1 else None)
    scorer = make_scorer(config, args.scorer, workspace=root)

    def run(graph: Any, ids: list[str]) -> Any:
        engine = ThreadExecutor(root, config, track_time=False, track_failures=False)
        try:
            if args.transform == "generate":
                return sp.speculative_generate(graph, ids[0], args.n, variants=variants, keep=args.keep,
                                               scorer=scorer, engine=engine)
            return sp.speculative_refine(graph, ids[0], args.feedback, variants=variants, keep=args.keep,
                                         scorer=scorer, engine=engine)
        finally:
            engine.shutdown(wait=False)
    return thinkers[0], run


# -- store access ----------------------------------------------------------------------------
def open_store(args: argparse.Namespace, *, readonly: bool = False):
    """The workspace's store; a :class:`CliError` when ``graph build`` has not made one yet."""
    from orchestrator_gui.store import GraphStore, store_path

    ws = workspace(args)
    path = store_path(ws.root)
    if not path.is_file():
        raise CliError(f"no thought graph in {ws.root} yet: run 'orchestrator-gui graph build' first")
    store = GraphStore.open(path, readonly=readonly)
    if store.graph.number_of_nodes() == 0 and store.last_seq == 0:
        store.close()
        raise CliError(f"the thought graph in {path} is empty: run 'orchestrator-gui graph build' first")
    import sys

    for p in store.problems:
        print(p.format(), file=sys.stderr)
    return store


def resolve_id(graph: Any, given: str) -> str:
    """``given`` if it is a node id, else the one node id it is a prefix of (at least 4 characters)."""
    if given in graph:
        return given
    if len(given) >= 4:
        hits = [i for i in graph.node_ids() if i.startswith(given)]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            raise CliError(f"{given!r} matches {len(hits)} nodes (e.g. {hits[0]!r}, {hits[1]!r}); give more of the id")
    raise CliError(f"no node {given!r}")


def _time_arg(value: str | None) -> float | None:
    if value is None:
        return None
    from datetime import UTC, datetime

    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00") if value.endswith("Z") else value)
    except ValueError:
        raise CliError(f"--now: not an ISO 8601 time: {value!r}") from None
    if t.tzinfo is None:
        t = t.astimezone()  # a local time, like the rest of the CLI
    return t.astimezone(UTC).timestamp()


# -- transforms -------------------------------------------------------------------------------
def cmd_transform(args: argparse.Namespace) -> int:
    from orchestrator_gui.model import transforms as tf
    from orchestrator_gui.model.thinker import ThinkerError

    store = open_store(args)
    with store:
        g = store.graph
        ids = [resolve_id(g, i) for i in args.ids]
        op = args.transform
        spec = None
        try:
            thinker, speculate = _thinker_run(args, store)
            if speculate is not None:
                if getattr(args, "in_place", False):
                    raise ValueError("--speculative makes new nodes; it cannot be combined with --in-place")
                spec = speculate(g, ids)
                tx = spec.transaction
            elif op == "generate":
                tx = tf.generate(g, ids[0], args.n, thinker=thinker)
            elif op == "refine":
                tx = tf.refine(g, ids[0], args.feedback, in_place=args.in_place, thinker=thinker)
            elif op == "aggregate":
                tx = tf.aggregate(g, ids, thinker=thinker)
            elif op == "score":
                _refresh(g, None)  # score reads attention: compute it from the current activation first
                tx = tf.score(g, ids, thinker=thinker)
            elif op == "keep-best":
                tx = tf.keep_best(g, ids, args.n)
            else:
                tx = getattr(tf, op)(g, ids[0])
            committed = store.apply(tx, record=False) if tx.edits else None
        except (ThinkerError, GraphError, KeyError, ValueError) as exc:
            raise CliError(f"{op}: {_message(exc)}") from None
        result = tf.changes(committed) if committed else {"transaction": None, "created": [], "changed": [],
                                                          "removed": []}
        if op == "score":
            result["scores"] = {i: g.node(i).score for i in ids}
        if spec is not None:
            result["candidates"] = [{k: r[k] for k in ("candidate", "variant", "status", "score", "error")}
                                    | {"seconds": r["cost"]["seconds"], "tokens": r["cost"]["tokens"]}
                                    for r in (c.record() for c in spec.candidates)]
        titles = {i: g.node(i).title for i in (*result["created"], *result["changed"])}
    _report(args, op, result, titles, tx.description)
    return 0


def _message(exc: BaseException) -> str:
    return str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)


#: Ids listed per category in text output (``--json`` lists all).
_TEXT_LIMIT = 25


def _report(args: argparse.Namespace, what: str, result: dict[str, Any], titles: dict[str, str],
            description: str) -> None:
    if args.json:
        emit_json(result)
        return
    if result["transaction"] is None:
        print(f"{what}: nothing changed")
        return
    print(f"{what}: {description} (transaction {result['transaction']})")
    for c in result.get("candidates", ()):
        score = "-" if c["score"] is None else f"{c['score']:.3f}"
        tokens = "" if c["tokens"] is None else f", {c['tokens']} tokens"
        print(f"  candidate {c['candidate']} {c['variant']}: {c['status']}, score {score}, "
              f"{c['seconds']:.2f} s{tokens}" + (f" ({c['error']})" if c["error"] else ""))
    scores = result.get("scores", {})
    for key in ("created", "changed", "removed"):
        ids = result[key]
        for node_id in ids[:_TEXT_LIMIT]:
            extra = f"  score {scores[node_id]:.4f}" if node_id in scores else ""
            print(f"  {key:<8} {node_id}  {titles.get(node_id, '')}{extra}".rstrip())
        if len(ids) > _TEXT_LIMIT:
            print(f"  {key:<8} … and {len(ids) - _TEXT_LIMIT} more (--json lists all)")


# -- activation, attention, goals ----------------------------------------------------------
def _refresh(graph: Any, now: float | None) -> Any:
    """Activation at ``now`` and attention seeded by it, written to the graph's mirrors (not journaled)."""
    from orchestrator_gui.model.activation import update_activation
    from orchestrator_gui.model.attention import update_attention

    result = update_activation(graph, now)
    update_attention(graph)
    return result


def cmd_active(args: argparse.Namespace) -> int:
    from orchestrator_gui.model.activation import active_report, update_activation

    now = _time_arg(args.now)
    with open_store(args, readonly=True) as store:
        result = update_activation(store.graph, now)
        rows = active_report(store.graph, result, args.limit)
    if args.json:
        emit_json(rows)
    elif not rows:
        print("no active nodes")
    else:
        table([{**r, "activation": f"{r['activation']:.3f}", "why": "; ".join(r["reasons"])} for r in rows],
              ["activation", "kind", "title", "why", "id"], {"title": 50, "why": 80, "id": 40})
    return 0


def cmd_attention(args: argparse.Namespace) -> int:
    from orchestrator_gui.model.attention import top_attention

    if args.top < 1:
        raise CliError("--top must be at least 1")
    with open_store(args, readonly=True) as store:
        g = store.graph
        _refresh(g, _time_arg(args.now))
        rows = []
        for node_id, value in top_attention(g, args.top):
            node = g.node(node_id)
            rows.append({"id": node_id, "title": node.title, "kind": node.kind.value, "attention": value,
                         "activation": float(g.activation[g.row_of(node_id)])})
    if args.json:
        emit_json(rows)
    else:
        table([{**r, "attention": f"{r['attention']:.5f}", "activation": f"{r['activation']:.3f}"} for r in rows],
              ["attention", "activation", "kind", "title", "id"], {"title": 60, "id": 40})
    return 0


def cmd_goals(args: argparse.Namespace) -> int:
    from orchestrator_gui.model.epistemic import goal_report

    with open_store(args, readonly=True) as store:
        g = store.graph
        goals = [info.to_dict() for info in goal_report(g)]
        for goal in goals:
            goal["open_questions"] = [{"id": q, "title": g.node(q).title} for q in goal["open_questions"]]
    if args.json:
        emit_json(goals)
        return 0
    if not goals:
        print("no goals")
    for goal in goals:
        flag = "  UNSUPPORTED" if goal["unsupported"] else ""
        print(f"{goal['progress']:>4.0%} done  confidence {goal['confidence']:.2f} ({goal['evidence']} evidence)"
              f"  {goal['kind']}: {goal['title']}{flag}")
        print(f"      {goal['id']}")
        for q in goal["open_questions"]:
            print(f"      ? {q['title']}  [{q['id']}]")
    return 0


# -- undo / redo ------------------------------------------------------------------------------
def undo_position(entries: Iterable[Any]) -> tuple[list[str], list[str]]:
    """The undo and redo stacks (transaction ids, newest last) implied by journal history entries.

    See the module docstring for the rules.  ``entries`` are
    :class:`~orchestrator_gui.store.HistoryEntry` objects, oldest first.
    """
    undo: list[str] = []
    redo: list[str] = []
    for e in entries:
        if not e.valid or e.kind != "tx":
            undo.clear()
            redo.clear()
            continue
        target = e.params.get("of")
        if e.operation == "undo" and isinstance(target, str):
            if target in undo:
                undo.remove(target)
            redo.append(target)
        elif e.operation == "redo" and isinstance(target, str):
            if target in redo:
                redo.remove(target)
            undo.append(e.tx_id)
        else:
            undo.append(e.tx_id)
            redo.clear()
    return undo, redo


def load_transaction(store: Any, tx_id: str) -> Any:
    """The committed transaction ``tx_id`` as journaled (read through a second, read-only connection)."""
    from orchestrator_gui.store.records import RecordError, Row, decode_tx
    from orchestrator_gui.store.schema import connect

    conn = connect(store.path, readonly=True)
    try:
        values = conn.execute(
            "SELECT seq, kind, tx_id, time, operation, codec, payload, checksum FROM journal "
            "WHERE tx_id = ? AND kind = 'tx' ORDER BY seq DESC LIMIT 1", (tx_id,)
        ).fetchone()
    finally:
        conn.close()
    if values is None:
        raise CliError(f"transaction {tx_id} is not in the journal")
    try:
        return decode_tx(Row(*values))
    except RecordError as exc:
        raise CliError(f"transaction {tx_id} is damaged in the journal: {exc}") from None


def _undo_redo(args: argparse.Namespace, which: str) -> int:
    from orchestrator_gui.model.transforms import changes

    store = open_store(args)
    with store:
        undo, redo = undo_position(store.history())
        stack = undo if which == "undo" else redo
        if not stack:
            raise CliError(f"nothing to {which}")
        target = load_transaction(store, stack[-1])
        tx = target.inverse(actor="user") if which == "undo" else target.replay(actor="user")
        try:
            committed = store.apply(tx, record=False)
        except (GraphError, KeyError, ValueError) as exc:
            raise CliError(f"cannot {which} {target.description!r}: {_message(exc)}") from None
        result = changes(committed)
        result["undone" if which == "undo" else "redone"] = target.id
        g = store.graph
        titles = {i: g.node(i).title for i in (*result["created"], *result["changed"])}
    _report(args, which, result, titles, target.description)
    return 0


def cmd_undo(args: argparse.Namespace) -> int:
    return _undo_redo(args, "undo")


def cmd_redo(args: argparse.Namespace) -> int:
    return _undo_redo(args, "redo")
