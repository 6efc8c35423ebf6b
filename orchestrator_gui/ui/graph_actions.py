"""The Graph menu and the 3D view's context menu: transforms built off the UI thread, applied undoably.

A transform (generate, refine, aggregate, score) is one use case of the
application layer (:class:`~orchestrator_gui.workspace.thinking.Thinking`):
with the thinker ``.orchestrator/config.toml`` names, on a snapshot of its
inputs, as an engine task whose ``RunResult.value`` is the built
transaction. This face submits that task to the app's ``QtExecutor``, shows
it in the status bar (with Cancel; the inputs are outlined meanwhile), and on
the UI thread applies the value through the session (journaled, on the one
undo history) and animates it (children grow out of their parent,
aggregated inputs converge).

Cheap structural edits (keep best, prune, expand, link, delete, relayout,
touch on activation) are built and applied directly.
"""

from __future__ import annotations

import dataclasses
import functools
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QObject, Signal

from orchestrator_gui.engine.tasks import CancelToken, transform_task
from orchestrator_gui.model import operations
from orchestrator_gui.model.errors import GraphError
from orchestrator_gui.model.graph import ThoughtGraph
from orchestrator_gui.model.nodes import EdgeType, NodeFlag
from orchestrator_gui.model.queries import subgraph
from orchestrator_gui.model.transactions import AddEdge, AddNode, Transaction
from orchestrator_gui.ui.errors import ErrorReporter
from orchestrator_gui.ui.prompts import Prompter
from orchestrator_gui.ui.theme import display_title
from orchestrator_gui.workspace.thinking import THINKER_OPERATIONS, Thinking, TransformOutcome, TransformRequest

#: Edge types a user may draw by hand.
LINK_TYPES = ("depends_on", "mentions", "similar", "evidence_for", "contradicts", "serves", "derived_from")


def plural(n: int, noun: str) -> str:
    """``"1 node"``, ``"3 nodes"`` (the status bar and dialogs never say "node(s)" or "1 nodes")."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def merge_transactions(operation: str, parts: Sequence[Transaction], *, params: dict[str, Any] | None = None,
                       description: str | None = None) -> Transaction:
    """One transaction holding the edits of ``parts`` in order (one journal entry, one undo step).

    Each part stamped its own id into the provenance of the nodes it created
    and into its ``derived_from`` edges; those are re-stamped with the merged
    transaction's id, so a node's provenance names a transaction the journal
    really holds.

    Parameters
    ----------
    operation : str
        Provenance operation of the result (e.g. ``"generate"``).
    parts : sequence of Transaction
        Built (not yet applied) transactions; at least one.
    params : dict, optional
        Provenance parameters; ``parts`` (each part's own parameters) is added.
    description : str, optional
        Undo-menu text (default: the operation).
    """
    if not parts:
        raise ValueError("nothing to merge")
    tx_id = uuid.uuid4().hex
    edits: list[Any] = []
    for part in parts:
        for e in part.edits:
            if e.op == "add_node" and (e.node.metadata.get("provenance") or {}).get("tx") == part.id:
                meta = {**e.node.metadata, "provenance": {**e.node.metadata["provenance"], "tx": tx_id}}
                e = AddNode(node=e.node.model_copy(update={"metadata": meta}), row=e.row, state=e.state, edges=e.edges)
            elif e.op == "add_edge" and e.edge.metadata.get("tx") == part.id:
                e = AddEdge(edge=e.edge.model_copy(update={"metadata": {**e.edge.metadata, "tx": tx_id}}), row=e.row)
            edits.append(e)
    first = parts[0].provenance
    return Transaction.create(operation, edits, tx_id=tx_id, actor=first.actor, now=first.time,
                              params={**(params or {}), "parts": [p.provenance.params for p in parts]},
                              description=description)


def build_each(thinking: Thinking, graph: ThoughtGraph, request: TransformRequest, thinkers: list[Any],
               scorer: Any = None, token: CancelToken | None = None) -> TransformOutcome:
    """Build ``request`` for each of its ids in turn, on ``graph``, as one merged transaction.

    ``graph`` must be a copy (a snapshot): each part is applied to it so the
    next one is built on the state the merged edits will produce on the live
    graph (two selected nodes of one branch, a summary inside another). An
    input that cannot be transformed (a thinker with nothing new, a node that
    is not pruned) is skipped and named in the provenance (``skipped``);
    when every input fails, the first failure is raised.
    """
    parts: list[Transaction] = []
    skipped: dict[str, str] = {}
    first_error: Exception | None = None
    for node_id in dict.fromkeys(request.ids):
        if token is not None and token.cancelled:
            raise RuntimeError("cancelled")
        try:
            tx = thinking.build(graph, dataclasses.replace(request, ids=(node_id,)), thinkers, scorer, token)
            graph.apply(tx.transaction, record=False)
        except (GraphError, ValueError, KeyError) as exc:  # this input only; the others still grow
            skipped[node_id] = str(exc)
            first_error = first_error or exc
            continue
        parts.append(tx.transaction)
    if not parts:
        raise first_error or ValueError(f"{request.op}: nothing to do")
    created = [e.node.id for p in parts for e in p.edits if e.op == "add_node"]
    verb = request.op.replace("-", " ").capitalize()
    done = [p.provenance.params.get("node_id") for p in parts]
    text = (f"{verb} {plural(len(created), 'node')} from {plural(len(done), 'node')}" if request.op == "generate"
            else f"{verb} {plural(len(done), 'node')}")
    if skipped:
        text += f" ({len(skipped)} skipped)"
    params = {"node_ids": done, "n": request.n, "created": created, "skipped": skipped}
    return TransformOutcome(merge_transactions(request.op, parts, params=params, description=text))



def _short(title: str, limit: int = 60) -> str:
    """A title for the status bar: cleaned of Markdown, cut at a word with "…" when long."""
    text = display_title(title)
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0] or text[:limit]
    return cut.rstrip(" ,;:") + "…"

class _UserText:
    """A thinker whose "refinement" is the text the user typed (inspector edits)."""

    name = "user"

    def __init__(self, text: str) -> None:
        self.text = text

    def refine(self, text: str, feedback: str, context: Any) -> str:
        return self.text

    def generate(self, text: str, context: Any, n: int) -> list[str]:  # pragma: no cover - protocol filler
        return []

    def aggregate(self, texts: Any, context: Any) -> str:  # pragma: no cover
        return self.text

    def score(self, items: Any, context: Any) -> list[float]:  # pragma: no cover
        return [0.0] * len(items)


class GraphActions(QObject):
    """Performs graph operations for the menus, the context menu and the inspector.

    Signals
    -------
    busy(int)
        Number of transforms running (the status bar shows progress and Cancel).
    applied(object)
        A committed transaction (for the view's animations and the inspector).

    Parameters
    ----------
    reporter : ErrorReporter
    prompter : Prompter
    executor : QtExecutor, optional
        Runs transform builds off the UI thread; without it they run inline.
    """

    busy = Signal(int)
    applied = Signal(object)

    def __init__(self, reporter: ErrorReporter, prompter: Prompter, executor: Any = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.reporter = reporter
        self.prompter = prompter
        self.session = None
        self.view = None
        self._executor = None
        #: task id -> (title, inputs, handle, then) of the transforms in flight.
        self._jobs: dict[str, tuple[str, list[str], Any, Callable[[Transaction], None] | None]] = {}
        self.set_executor(executor)

    # ------------------------------------------------------------------ wiring
    def set_session(self, session: Any, view: Any) -> None:
        """Operate on ``session``'s graph; ``view`` animates results (both may be None)."""
        self.cancel_all()
        self.session, self.view = session, view

    def set_executor(self, executor: Any) -> None:
        """Use ``executor`` (a ``QtExecutor``) for transform builds."""
        if self._executor is not None:
            self._executor.finished.disconnect(self._on_finished)
        self._executor = executor
        if executor is not None:
            executor.finished.connect(self._on_finished)

    @property
    def running(self) -> int:
        """Number of transforms in flight."""
        return len(self._jobs)

    def running_titles(self) -> list[str]:
        """What the transforms in flight are doing ("Generate from “…”"), oldest first."""
        return [job[0] for job in self._jobs.values()]

    def _graph(self):
        if self.session is None:
            raise ValueError("no workspace is open")
        return self.session.graph

    # ------------------------------------------------------------------ apply
    def apply(self, tx: Transaction, *, undoable: bool = True, message: str | None = None) -> Transaction | None:
        """Apply a built transaction (undoable by default); report failures. Returns the committed one.

        ``message`` replaces the transaction's description in the status bar.
        """
        if self.session is None:
            return None
        if not tx.edits:
            self.reporter.info(f"{tx.description or tx.provenance.operation}: nothing to change")
            return None
        with self.reporter.guard(tx.description or tx.provenance.operation) as g:
            committed = self.session.core.apply(tx, undoable=undoable)
        if g.failed:
            return None
        self.applied.emit(committed)
        self._animate(committed)
        self.reporter.info(message or committed.description or committed.provenance.operation)
        return committed

    def undo(self) -> None:
        """Edit ▸ Undo through the one history; an undone relayout glides back."""
        self._animate_done(self.session.undo.undo() if self.session is not None else None)

    def redo(self) -> None:
        """Edit ▸ Redo through the one history."""
        self._animate_done(self.session.undo.redo() if self.session is not None else None)

    def _animate_done(self, done: Any) -> None:
        committed = getattr(done, "committed", None)
        if committed is not None:
            self.applied.emit(committed)
            self._animate(committed)

    def _animate(self, tx: Transaction) -> None:
        if self.view is None:
            return
        op = tx.provenance.operation
        created = [e.node.id for e in tx.edits if e.op == "add_node"]
        params = tx.provenance.params
        try:
            if op == "generate" and "parts" in params:  # several parents: each one's children grow out of it
                for part in params["parts"]:
                    self.view.animate_growth(part.get("node_id"), part.get("created", []))
            elif op == "generate" and created:
                self.view.animate_growth(params.get("node_id"), created)
            elif op == "aggregate" and created:
                self.view.animate_converge(tx.provenance.params.get("node_ids", []), created[0])
            moves = [e for e in tx.edits if e.op == "move_node" and e.old is not None]
            if moves and hasattr(self.view, "animate_move"):  # a relayout (or its undo) glides, not jumps
                ids = [i for e in moves for i in e.node_ids]
                old = [p for e in moves for p in e.old]
                self.view.animate_move(ids, old)
        except Exception as exc:  # noqa: BLE001 - an animation must never lose a committed change
            self.reporter.report(exc, context="Animation")

    # ------------------------------------------------------------------ background builds
    def transform(self, title: str, request: TransformRequest) -> str | None:
        """Build ``request`` through the application layer's thinking (off the UI thread), then apply it.

        Returns the engine task id, or ``None`` when it ran inline or could not start.
        """
        if self.session is None:
            return None
        thinking = self.session.core.thinking
        if self._executor is None:
            with self.reporter.guard(title) as g:
                outcome = thinking.run(self.session.graph, request)
            if not g.failed:
                self.apply(outcome.transaction)
            return None
        with self.reporter.guard(title) as g:
            task = thinking.prepare(self.session.graph, request, title=title)
        if g.failed:
            return None
        return self._submit(title, list(task.inputs), task, None)

    def transform_each(self, title: str, request: TransformRequest) -> str | None:
        """Apply ``request`` to each of its ids as ONE transaction (one journal entry, one undo step).

        The parts are built in one engine task (off the UI thread) on a copy
        of the inputs' neighbourhood, and merged (see :func:`build_each`).
        Returns the engine task id, or ``None`` when it ran inline or could not start.
        """
        if self.session is None:
            return None
        thinking = self.session.core.thinking
        ids = tuple(dict.fromkeys(request.ids))
        with self.reporter.guard(title) as g:
            request.check()
            thinkers, scorer = thinking.thinkers(request) if request.op in THINKER_OPERATIONS else ([None], None)
            snap = thinking.snapshot(self.session.graph, ids)
        if g.failed:
            return None
        build = functools.partial(build_each, thinking, snap, request, thinkers, scorer)
        if self._executor is None:
            with self.reporter.guard(title) as g:
                outcome = build(None)
            if not g.failed:
                self.apply(outcome.transaction)
            return None
        task = transform_task(build, inputs=ids, outputs=ids, title=title, timeout_s=0, no_timeout=True)
        return self._submit(title, list(ids), task, None)

    def build(self, title: str, inputs: list[str], builder: Callable[[], Transaction],
              then: Callable[[Transaction], None] | None = None) -> str | None:
        """Run ``builder()`` off the UI thread (when an executor exists), then apply its transaction.

        Returns the engine task id, or ``None`` when it ran inline.
        """
        if self.session is None:
            return None
        if self._executor is None:
            with self.reporter.guard(title) as g:
                tx = builder()
            if not g.failed:
                committed = self.apply(tx)
                if committed is not None and then is not None:
                    then(committed)
            return None
        task = transform_task(lambda _token: builder(), inputs=tuple(inputs), outputs=tuple(inputs), title=title,
                              timeout_s=0, no_timeout=True)
        return self._submit(title, inputs, task, then)

    def _submit(self, title: str, inputs: list[str], task: Any, then: Callable[[Transaction], None] | None
                ) -> str | None:
        self._mark(inputs, True)
        try:
            handle = self._executor.engine.submit(task)
        except Exception as exc:  # noqa: BLE001 - engine shut down
            self._mark(inputs, False)
            self.reporter.report(exc, context=title)
            return None
        self._jobs[task.task_id] = (title, inputs, handle, then)
        self.busy.emit(len(self._jobs))
        return task.task_id

    def _mark(self, ids: list[str], on: bool) -> None:
        g = self.session.graph if self.session is not None else None
        live = [i for i in ids if g is not None and i in g]
        if live:
            g.set_flags(live, NodeFlag.HIGHLIGHTED, on)

    def _on_finished(self, task_id: str, result: dict) -> None:
        job = self._jobs.pop(task_id, None)
        if job is None:
            return
        title, inputs, handle, then = job
        self._mark(inputs, False)
        self.busy.emit(len(self._jobs))
        status = result.get("status")
        if status == "cancelled":
            self.reporter.info(f"{title}: cancelled")
            return
        # The built transaction is the run's value (RunResult.value), handed over by the task handle.
        value = handle.result(0).value if status == "completed" else None
        tx = value.transaction if isinstance(value, TransformOutcome) else value
        if tx is None:
            self.reporter.report(str(result.get("error") or status), context=title)
            return
        committed = self.apply(tx)
        if committed is not None and then is not None:
            then(committed)

    def cancel_all(self) -> None:
        """Cancel every transform in flight (Cancel button, closing)."""
        if self._executor is None:
            return
        for task_id in list(self._jobs):
            self._executor.cancel(task_id)

    # ------------------------------------------------------------------ the operations
    def _need(self, ids: list[str], at_least: int, what: str) -> bool:
        if len(ids) < at_least:
            self.reporter.info(f"{what}: select {'a node' if at_least == 1 else f'at least {at_least} nodes'} first")
            return False
        return True

    def _inline(self, what: str, request: TransformRequest) -> Transaction | None:
        """Build a cheap transform on the live graph here (no thinker, or the user's own text) and apply it."""
        with self.reporter.guard(what) as guard:
            outcome = self.session.core.thinking.run(self._graph(), request)
        return None if guard.failed else self.apply(outcome.transaction)

    def generate(self, ids: list[str], n: int = 3) -> None:
        """New thoughts grow out of each selected node (from the configured thinker): one transaction in all."""
        if not self._need(ids, 1, "Generate"):
            return
        ids = list(dict.fromkeys(ids))
        if len(ids) == 1:
            self.transform(f"Generate from “{self._graph().node(ids[0]).title[:40]}”",
                           TransformRequest("generate", (ids[0],), n=n))
        else:
            self.transform_each(f"Generate from {len(ids)} nodes", TransformRequest("generate", tuple(ids), n=n))

    def refine(self, ids: list[str], feedback: str | None = None) -> None:
        """Refine the node with feedback text (asked for when not given)."""
        if not self._need(ids, 1, "Refine"):
            return
        if feedback is None:
            feedback = self.prompter.ask_text("Refine", "Feedback (e.g. “add: …”, “remove: …”, or a remark):",
                                              multiline=True)
        if not feedback or not feedback.strip():
            return
        g = self._graph()
        node_id = ids[0]
        self.transform(f"Refine “{g.node(node_id).title[:40]}”",
                       TransformRequest("refine", (node_id,), feedback=feedback))

    def refine_text(self, node_id: str, text: str) -> Transaction | None:
        """The inspector's edit: the user's text becomes the refinement.

        File-backed nodes mirror a workspace file, so the text becomes a new
        node derived from it; other nodes are refined in place.
        """
        node = self._graph().node(node_id)
        return self._inline("Refine", TransformRequest(
            "refine", (node_id,), feedback="edited in the inspector", in_place=node.source is None,
            thinker=_UserText(text), actor="user"))

    def aggregate(self, ids: list[str]) -> None:
        """Merge the selected thoughts into one."""
        if self._need(ids, 2, "Aggregate"):
            self.transform(f"Aggregate {len(ids)} thoughts", TransformRequest("aggregate", tuple(ids)))

    def score(self, ids: list[str]) -> None:
        """Score the selected thoughts."""
        if self._need(ids, 1, "Score"):
            self.transform(f"Score {len(ids)} thoughts", TransformRequest("score", tuple(ids)))

    def keep_best(self, ids: list[str]) -> None:
        """Keep the best N of the selection (asks N) and prune the rest."""
        if not self._need(ids, 2, "Keep best"):
            return
        n = self.prompter.ask_int("Keep best", f"Keep how many of the {len(ids)} selected?", 1, 1, len(ids) - 1)
        if n is not None:
            self._inline("Keep best", TransformRequest("keep-best", tuple(ids), n=n))

    def prune(self, ids: list[str]) -> None:
        """Suppress the branches under the selection (recoverable with Expand)."""
        if not self._need(ids, 1, "Prune"):
            return
        self._inline("Prune", TransformRequest("prune", tuple(ids)))

    def expand(self, ids: list[str]) -> None:
        """Re-open pruned or folded branches."""
        if not self._need(ids, 1, "Expand"):
            return
        ids = list(dict.fromkeys(ids))
        if len(ids) == 1:
            self._inline("Expand", TransformRequest("expand", (ids[0],)))
            return
        g = self._graph()
        with self.reporter.guard("Expand") as guard:
            # A whole copy: an expansion re-opens a branch of any depth, and each part must see the
            # ones before it (one selected node may lie in another's branch).
            outcome = build_each(self.session.core.thinking, subgraph(g, g.node_ids()),
                                 TransformRequest("expand", tuple(ids)), [None])
        if not guard.failed:
            self.apply(outcome.transaction)

    def link(self, ids: list[str], edge_type: str | None = None) -> None:
        """Link the first selected node to the others with a chosen edge type."""
        if not self._need(ids, 2, "Link"):
            return
        if edge_type is None:
            others = plural(len(ids) - 1, "node")
            edge_type = self.prompter.choose("Link", f"Edge type from the first to the other {others}:",
                                             list(LINK_TYPES))
        if not edge_type:
            return
        g = self._graph()
        with self.reporter.guard("Link") as guard:
            edits = []
            for dst in ids[1:]:
                edits += list(operations.link(g, ids[0], dst, EdgeType(edge_type)).edits)
            tx = Transaction.create("link", edits, params={"src": ids[0], "dst": ids[1:], "type": edge_type},
                           description=f"Link {plural(len(ids) - 1, 'node')} ({edge_type})")
        if not guard.failed:
            self.apply(tx)

    def link_dropped(self, source: str, target: str) -> None:
        """A Ctrl + drag from ``source`` ended on ``target``: onto a goal (a goal or schedule, or a node
        something already serves) it *serves* it; onto anything else the edge type is asked."""
        g = self._graph()
        if source not in g or target not in g:
            return
        from orchestrator_gui.model.planning import goal_rows

        onto_goal = g.row_of(target) in set(goal_rows(g).tolist())
        self.link([source, target], "serves" if onto_goal else None)

    def delete(self, ids: list[str], *, confirm: bool = True) -> None:
        """Delete nodes with their edges (undoable)."""
        if not self._need(ids, 1, "Delete"):
            return
        g = self._graph()
        backed = [i for i in ids if i in g and g.node(i).source is not None]
        if confirm:
            note = ("\n\n" + f"{len(backed)} of them mirror workspace files and come back when those files change; "
                    "delete such items in their panel instead.") if backed else ""
            question = f"Delete {plural(len(ids), 'node')} and their edges from the graph?{note}"
            if not self.prompter.confirm("Delete", question, ok="Delete"):
                return
        with self.reporter.guard("Delete") as guard:
            tx = operations.delete(g, ids)
        if not guard.failed:
            self.apply(tx)

    def relayout(self) -> None:
        """Recompute every node's place on its shell (undoable)."""
        from orchestrator_gui.model.layout import relayout

        g = self._graph()
        self.build("Relayout", [], lambda: relayout(g))

    def activate(self, node_id: str) -> None:
        """Double-click/Enter: record the use of the node and recompute activation."""
        from orchestrator_gui.model.activation import touch

        g = self._graph()
        with self.reporter.guard("Activate") as guard:
            tx = touch(g, node_id)
        if not guard.failed:  # the model's own text ("Touch 1 node(s)") is jargon here
            self.apply(tx, undoable=False, message=f"Activated “{_short(g.node(node_id).title) or node_id}”")
