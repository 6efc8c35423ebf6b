"""REST resources of the thought graph and the runs: reads, transforms, undo/redo, history, export, runs.

Reads run on the session's thread (``workspace.graph_read``); transforms,
links, undo, redo and restore are ``workspace.live_actions``, one undoable
transaction each on the session's one history.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Query, Response

from orchestrator_gui.api import models as m
from orchestrator_gui.model.nodes import Layer, NodeKind, NodeStatus
from orchestrator_gui.workspace import graph_read, live_actions
from orchestrator_gui.workspace.thinking import OPERATIONS, TransformRequest

NodeId = Path(min_length=1, max_length=1000, description="A node id (they may contain '/' and '::').")
TaskId = Path(min_length=1, max_length=100)
ApprovalId = Path(pattern=r"^[a-z]-[0-9a-f]{10}$")
KINDS = "^(" + "|".join(k.value for k in NodeKind) + ")$"
LAYERS = "^(" + "|".join(k.value for k in Layer) + ")$"
STATUSES = "^(" + "|".join(k.value for k in NodeStatus) + ")$"
_MEDIA = {"json": "application/json", "graphml": "application/xml", "gexf": "application/xml"}


def graph_router(live: Any) -> APIRouter:
    """The graph and run resources of ``live``."""
    r = APIRouter()

    def graph() -> Any:
        return live.session.graph

    # The reads are coroutines that await the session's thread (``live.acall``): a read then crosses
    # the event loop and the owner thread only, not a worker thread parked in between as well.
    @r.get("/graph/nodes", response_model=m.NodePage, tags=["graph"], summary="Nodes, paged and filtered")
    async def nodes(kind: str | None = Query(None, pattern=KINDS), layer: str | None = Query(None, pattern=LAYERS),
                    status: str | None = Query(None, pattern=STATUSES), offset: int = Query(0, ge=0, le=10**9),
                    limit: int = Query(100, ge=1, le=graph_read.MAX_LIMIT)) -> m.NodePage:
        return m.NodePage(**await live.acall(lambda: graph_read.nodes_page(graph(), kind=kind, layer=layer,
                                                                          status=status, offset=offset, limit=limit)))

    @r.get("/graph/nodes/{node_id:path}", response_model=m.NodeDetail, tags=["graph"],
           summary="A node with its edges and neighbourhood")
    async def node(node_id: str = NodeId, depth: int = Query(1, ge=0, le=graph_read.MAX_DEPTH),
                   limit: int = Query(100, ge=1, le=graph_read.MAX_LIMIT)) -> m.NodeDetail:
        return m.NodeDetail(**await live.acall(lambda: graph_read.node_detail(graph(), node_id, depth=depth,
                                                                             limit=limit)))

    @r.get("/graph/search", response_model=m.SearchHits, tags=["graph"],
           summary="Nodes whose title, content or tags contain every word")
    async def search(q: str = Query(min_length=1, max_length=1000), kind: str | None = Query(None, pattern=KINDS),
                     layer: str | None = Query(None, pattern=LAYERS),
                     limit: int = Query(50, ge=1, le=graph_read.MAX_LIMIT)) -> m.SearchHits:
        def do() -> list[dict[str, Any]]:
            ids = live.index.search(q, kind=kind, layer=layer, limit=limit)
            return graph_read.summaries(graph(), ids)

        return m.SearchHits(query=q, nodes=await live.acall(do))

    @r.get("/graph/stats", tags=["graph"], summary="Counts by kind, layer, status and edge type")
    def stats() -> dict[str, Any]:
        return live.call(lambda: graph_read.stats(graph(), live.session.store))

    @r.get("/graph/attention", tags=["graph"], summary="Nodes ranked by attention")
    def attention(top: int = Query(20, ge=1, le=graph_read.MAX_LIMIT)) -> list[dict[str, Any]]:
        from orchestrator_gui.workspace.dynamics import refresh

        def do() -> list[dict[str, Any]]:
            refresh(graph())
            return graph_read.attention(graph(), top)

        return live.call(do)

    @r.get("/graph/active", tags=["graph"], summary="The active nodes, with why")
    def active(limit: int = Query(50, ge=1, le=graph_read.MAX_LIMIT)) -> list[dict[str, Any]]:
        from orchestrator_gui.workspace.dynamics import refresh

        return live.call(lambda: graph_read.active(graph(), refresh(graph(), attention=False), limit))

    @r.get("/graph/goals", tags=["graph"], summary="Goals with progress, confidence and open questions")
    def goals() -> list[dict[str, Any]]:
        return live.call(lambda: graph_read.goals(graph()))

    @r.post("/graph/transforms/{op}", response_model=m.Changes, tags=["transforms"],
            summary="Run a Graph-of-Thoughts transform (one undoable transaction)")
    def transform(body: m.Transform, op: str = Path(pattern="^(" + "|".join(OPERATIONS) + ")$")) -> m.Changes:
        request = TransformRequest(op=op, ids=tuple(body.ids), n=body.n, feedback=body.feedback,
                                   in_place=body.in_place, thinkers=(body.thinker,), speculative=body.speculative,
                                   keep=body.keep, scorer=body.scorer, actor="api")
        return m.Changes(**live_actions.transform(live, request))

    @r.post("/graph/link", response_model=m.Changes, tags=["transforms"], summary="Add a typed edge (undoable)")
    def link(body: m.Link) -> m.Changes:
        return m.Changes(**live_actions.link(live, body.src, body.dst, body.type.value))

    @r.post("/graph/unlink", response_model=m.Changes, tags=["transforms"], summary="Remove edges (undoable)")
    def unlink(body: m.Unlink) -> m.Changes:
        kind = body.type.value if body.type is not None else None
        return m.Changes(**live_actions.link(live, body.src, body.dst, kind, unlink=True))  # type: ignore[arg-type]

    @r.post("/undo", response_model=m.Changes, tags=["history"], summary="Undo the newest step (graph or file)")
    def undo() -> m.Changes:
        return m.Changes(**live_actions.undo_redo(live, "undo"))

    @r.post("/redo", response_model=m.Changes, tags=["history"], summary="Redo the newest undone step")
    def redo() -> m.Changes:
        return m.Changes(**live_actions.undo_redo(live, "redo"))

    @r.get("/history", response_model=m.HistoryState, tags=["history"],
           summary="What undo and redo would do, and the journal's newest entries")
    def history(limit: int = Query(50, ge=1, le=graph_read.MAX_LIMIT)) -> m.HistoryState:
        state = live_actions.history_state(live)
        entries = live.call(lambda: graph_read.history(live.session.store, limit))
        return m.HistoryState(**state, entries=entries)

    @r.post("/restore", response_model=m.Changes, tags=["history"],
            summary="Return the graph to its state after a transaction (undoable)")
    def restore(body: m.Restore) -> m.Changes:
        return m.Changes(**live_actions.restore(live, body.tx_id))

    @r.get("/graph/export", tags=["graph"], summary="Export the graph (json, graphml, gexf)",
           response_class=Response)
    def export(format: str = Query("json", pattern="^(json|graphml|gexf)$")) -> Response:  # noqa: A002
        data = live_actions.export_bytes(live, format)
        return Response(data, media_type=_MEDIA[format],
                        headers={"Content-Disposition": f'attachment; filename="graph.{format}"'})

    # -- runs -----------------------------------------------------------------------------------------
    @r.get("/runs", response_model=list[m.RunRow], tags=["runs"], summary="Queued, running and finished runs")
    def runs(limit: int = Query(100, ge=1, le=1000)) -> list[m.RunRow]:
        return [m.RunRow(**row) for row in live_actions.list_runs(live, limit)]

    @r.get("/runs/{task_id}/log", response_model=m.RunLog, tags=["runs"], summary="The end of a run's log")
    def run_log(task_id: str = TaskId,
                tail: int = Query(64 * 1024, ge=1, le=live_actions.MAX_LOG_BYTES)) -> m.RunLog:
        return m.RunLog(**live_actions.run_log(live, task_id, tail=tail))

    @r.post("/runs/{task_id}/cancel", response_model=m.Cancelled, tags=["runs"], summary="Cancel a run")
    def cancel(task_id: str = TaskId) -> m.Cancelled:
        return m.Cancelled(**live_actions.cancel_run(live, task_id))

    # -- approvals: the same use cases as `runs pending|approve|skip` and the Runs panel -------------------
    @r.get("/approvals", response_model=list[m.PendingApproval], tags=["runs"],
           summary="Runs waiting for approval, with their instructions, mode and reasons")
    def approvals_pending() -> list[m.PendingApproval]:
        from orchestrator_gui.workspace import approvals

        return [m.PendingApproval(**a.to_dict()) for a in approvals.pending(live.root)]

    @r.post("/approvals/{approval_id}/approve", response_model=m.PendingApproval, tags=["runs"],
            summary="Approve a waiting run (it starts at the loop's next turn), optionally with edited instructions")
    def approvals_approve(body: m.ApproveBody, approval_id: str = ApprovalId) -> m.PendingApproval:
        from orchestrator_gui.workspace import approvals

        return m.PendingApproval(**approvals.approve(live.root, approval_id, body.instructions).to_dict())

    @r.post("/approvals/{approval_id}/skip", response_model=m.PendingApproval, tags=["runs"],
            summary="Skip a waiting run (Roo's lastSkippedTime for a schedule)")
    def approvals_skip(approval_id: str = ApprovalId) -> m.PendingApproval:
        from orchestrator_gui.workspace import approvals

        return m.PendingApproval(**approvals.skip(live.root, approval_id).to_dict())

    return r


__all__ = ["graph_router"]
