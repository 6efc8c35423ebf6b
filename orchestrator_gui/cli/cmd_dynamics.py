"""``graph`` thought-dynamics commands: active, attention, goals, transform …, undo, redo.

They work on the store ``<workspace>/.orchestrator/graph.db`` that ``graph
build`` creates (and refuse, with a hint, when there is none).  Every
transform is one journaled transaction; its ids are printed, or with
``--json`` ``{"transaction", "created", "changed", "removed"}``.

Undo and redo across invocations
--------------------------------
Each CLI run opens a :class:`~orchestrator_gui.workspace.Session`, whose undo
history is read from the journal (see :mod:`orchestrator_gui.workspace.history`):
the app and the API write the same records, so ``graph undo`` undoes the
last undoable change whoever made it -- a transform, an edit, a ``restore``
or a ``graph build`` alike (undoing a build leaves the graph behind the files
until the next build). The app's automatic file syncs and the engine's run
records are not undoable steps.
"""

from __future__ import annotations

import argparse
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


# -- session access --------------------------------------------------------------------------
def open_session(args: argparse.Namespace, *, readonly: bool = False):
    """The workspace's session on its store; a :class:`CliError` when ``graph build`` has not made one yet."""
    import sys

    from orchestrator_gui.workspace import NoGraphError, Session

    try:
        session = Session.open(workspace(args).root, readonly=readonly, create=False, sync=False)
    except NoGraphError as exc:
        raise CliError(str(exc)) from None
    for line in session.problems:
        print(line, file=sys.stderr)
    return session


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
    from orchestrator_gui.model.thinker import ThinkerError
    from orchestrator_gui.model.transforms import changes
    from orchestrator_gui.workspace import Thinking, TransformRequest
    from orchestrator_gui.workspace.dynamics import refresh

    op = args.transform
    names, k = getattr(args, "thinker", None) or [None], getattr(args, "speculative", None)
    if k is None and len(names) > 1:
        raise CliError("--thinker: give one thinker, or several with --speculative K")
    if k is not None and (k < 1 or not 1 <= args.keep <= k):
        raise CliError("--speculative K needs K >= 1 and 1 <= --keep <= K")
    if k is not None and getattr(args, "in_place", False):
        raise CliError(f"{args.transform}: --speculative makes new nodes; it cannot be combined with --in-place")
    with open_session(args) as session:
        g = session.graph
        ids = [resolve_id(g, i) for i in args.ids]
        request = TransformRequest(
            op=op, ids=tuple(ids), n=getattr(args, "n", 3), feedback=getattr(args, "feedback", "") or "",
            in_place=getattr(args, "in_place", False), thinkers=tuple(names), speculative=k,
            keep=getattr(args, "keep", 1),
            scorer=getattr(args, "scorer", None))
        try:
            if op == "score":
                refresh(g)  # score reads attention: compute it from the current activation first
            outcome = Thinking(session.root).run(g, request)
            tx = outcome.transaction
            committed = session.apply(tx) if tx.edits else None
        except (ThinkerError, GraphError, KeyError, ValueError) as exc:
            raise CliError(f"{op}: {_message(exc)}") from None
        result = changes(committed) if committed else {"transaction": None, "created": [], "changed": [],
                                                       "removed": []}
        if op == "score":
            result["scores"] = {i: g.node(i).score for i in ids}
        if request.speculative is not None:
            result["candidates"] = outcome.candidates
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
def cmd_active(args: argparse.Namespace) -> int:
    from orchestrator_gui.workspace import graph_read
    from orchestrator_gui.workspace.dynamics import refresh

    now = _time_arg(args.now)
    with open_session(args, readonly=True) as session:
        result = refresh(session.graph, now, attention=False)
        rows = graph_read.active(session.graph, result, args.limit, cap=None)
    if args.json:
        emit_json(rows)
    elif not rows:
        print("no active nodes")
    else:
        table([{**r, "activation": f"{r['activation']:.3f}", "why": "; ".join(r["reasons"])} for r in rows],
              ["activation", "kind", "title", "why", "id"], {"title": 50, "why": 80, "id": 40})
    return 0


def cmd_attention(args: argparse.Namespace) -> int:
    from orchestrator_gui.workspace import graph_read
    from orchestrator_gui.workspace.dynamics import refresh

    if args.top < 1:
        raise CliError("--top must be at least 1")
    with open_session(args, readonly=True) as session:
        g = session.graph
        refresh(g, _time_arg(args.now))
        keys = ("id", "title", "kind", "attention", "activation")
        rows = [{k: r[k] for k in keys} for r in graph_read.attention(g, args.top, cap=None)]
    if args.json:
        emit_json(rows)
    else:
        table([{**r, "attention": f"{r['attention']:.5f}", "activation": f"{r['activation']:.3f}"} for r in rows],
              ["attention", "activation", "kind", "title", "id"], {"title": 60, "id": 40})
    return 0


#: Evidence lines shown per side, and parts of a goal's progress, in text output (``--json`` lists more).
_EVIDENCE_LIMIT = 5
_PARTS_LIMIT = 12


def _short(text: str, width: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _goal_text(goal: dict) -> list[str]:
    """The lines of one goal: the figures, then what the progress and the confidence are made of."""
    flag = "  UNSUPPORTED" if goal["unsupported"] else ""
    lines = [f"{goal['progress']:>4.0%} done  confidence {goal['confidence']:.2f} ({goal['evidence']} evidence)"
             f"  {goal['kind']}: {goal['title']}{flag}",
             f"      {goal['id']}"]
    parts = goal["contributions"]
    if parts:
        lines.append(f"      progress: {goal['done_items']} of {_plural(goal['items'], 'linked item')} done;"
                     f" weighted mean of {_plural(goal['parts'], 'part')}:")
        for c in parts[:_PARTS_LIMIT]:
            lines.append(f"        {c['progress']:>4.0%}  {c['done_items']:>3}/{_plural(c['items'], 'item'):<9}"
                         f" weight {c['weight']:<5g} {_short(c['title'])}  ({c['via']})")
        if goal["parts"] > _PARTS_LIMIT:
            lines.append(f"        … and {goal['parts'] - _PARTS_LIMIT} more (--json lists the heaviest)")
    else:
        lines.append("      progress: nothing is linked to it")
    lines.append(f"      confidence: {goal['evidence']} supporting, {goal['contradictions']} contradicting"
                 f" (support {goal['support']:.2f})")
    for sign, key, total in (("+", "supports", goal["evidence"]), ("-", "contradicts", goal["contradictions"])):
        for e in goal[key][:_EVIDENCE_LIMIT]:
            about = e["about_title"] if e["about_title"] == "the goal itself" else f"“{_short(e['about_title'], 40)}”"
            lines.append(f"        {sign} {e['why']} “{_short(e['title'], 50)}” on {about} ({e['strength']:.2f})")
        if total > _EVIDENCE_LIMIT:
            lines.append(f"        {sign} … and {total - _EVIDENCE_LIMIT} more (--json lists the strongest)")
    lines += [f"      ? {q}" for q in goal["questions"]]
    lines += [f"      ? {q['title']}  [{q['id']}]" for q in goal["open_questions"]]
    return lines


def cmd_goals(args: argparse.Namespace) -> int:
    from orchestrator_gui.workspace import graph_read

    with open_session(args, readonly=True) as session:
        goals = graph_read.goals(session.graph)
    if args.json:
        emit_json(goals)
        return 0
    if not goals:
        print("no goals")
    for goal in goals:
        print("\n".join(_goal_text(goal)))
    return 0


# -- undo / redo ------------------------------------------------------------------------------
def _undo_redo(args: argparse.Namespace, which: str) -> int:
    from orchestrator_gui.model.transforms import changes
    from orchestrator_gui.workspace.live_actions import ActionError, step

    with open_session(args) as session:
        try:
            text, done = step(session, which)
        except ActionError as exc:
            raise CliError(str(exc)) from None
        result = changes(done.committed)
        result["undone" if which == "undo" else "redone"] = done.step.tx_id
        g = session.graph
        titles = {i: g.node(i).title for i in (*result["created"], *result["changed"])}
    _report(args, which, result, titles, text)
    return 0


def cmd_undo(args: argparse.Namespace) -> int:
    return _undo_redo(args, "undo")


def cmd_redo(args: argparse.Namespace) -> int:
    return _undo_redo(args, "redo")
