"""The priority queue in front of the worker pool: order, limits and dependencies.

Order
    Schedule tasks first ("top priority"), then TODO tasks, then transforms;
    first in, first out within a kind. A task that cannot start (its
    resource is full, or it waits for a dependency) does not hold back
    ready tasks behind it.
Limits
    ``schedule`` and ``todo`` share ``[limits] agent_tasks``, transforms use
    ``[limits] transforms``, and everything together ``threads``.
Dependencies
    A transform waits for every *pending* (queued or running) transform
    submitted before it that writes one of its input nodes, and any task
    waits for the pending tasks its ``after`` names (ids that are not
    pending count as done). Within one :meth:`TaskQueue.push_batch` the order
    does not matter: a transform waits for every batch member writing its
    inputs. So dependencies can only form a cycle inside a batch (or through
    ``after``), and such a batch is refused whole with
    :class:`DependencyCycleError`.

The queue is a plain data structure: the engine calls it under its lock.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from orchestrator_gui.engine.config import LimitsConfig
from orchestrator_gui.engine.tasks import RESOURCE_OF, Task

_KINDS = ("schedule", "todo", "transform")


class DependencyCycleError(ValueError):
    """Tasks that would wait for each other forever; none of them was queued.

    Attributes
    ----------
    cycle : list of str
        Task ids along the cycle, first id repeated at the end.
    """

    def __init__(self, cycle: list[str], reasons: list[str]) -> None:
        self.cycle = cycle
        super().__init__("dependency cycle, refused: " + " → ".join(cycle) + " (" + "; ".join(reasons) + ")")


class TaskQueue:
    """Queued and running tasks with their limits and dependencies (not thread-safe).

    Parameters
    ----------
    limits : LimitsConfig
        Per-resource and global concurrency limits (may be replaced later).
    """

    def __init__(self, limits: LimitsConfig) -> None:
        self.limits = limits
        self._lanes: dict[str, dict[str, Task]] = {k: {} for k in _KINDS}
        self._running: dict[str, Task] = {}
        self._busy = {"agent_tasks": 0, "transforms": 0}
        self._finishing: set[str] = set()  # running ids whose slot is already free (see release_slot)
        self._waits: dict[str, set[str]] = {}       # queued id -> pending ids it waits for
        self._dependents: dict[str, set[str]] = {}  # pending id -> queued ids waiting for it
        self._writers: dict[str, dict[str, None]] = {}  # node id -> pending transforms writing it (ordered)

    # ----------------------------------------------------------- queries

    def __len__(self) -> int:
        return sum(len(lane) for lane in self._lanes.values()) + len(self._running)

    def __contains__(self, task_id: object) -> bool:
        return task_id in self._running or any(task_id in lane for lane in self._lanes.values())

    def queued(self) -> list[Task]:
        """Queued tasks in the order they would start if nothing blocked them."""
        return [t for k in _KINDS for t in self._lanes[k].values()]

    def running(self) -> list[Task]:
        """Tasks handed to a worker and not done yet."""
        return list(self._running.values())

    def waiting_for(self, task_id: str) -> set[str]:
        """The pending task ids a queued task still waits for."""
        return set(self._waits.get(task_id, ()))

    def busy(self) -> dict[str, int]:
        """Running counts per resource (``agent_tasks``, ``transforms``)."""
        return dict(self._busy)

    # ----------------------------------------------------------- changes

    def push(self, task: Task) -> None:
        """Queue one task (see the module docstring for its dependencies)."""
        self.push_batch([task])

    def push_batch(self, tasks: Sequence[Task]) -> None:
        """Queue tasks together; order inside the batch does not create dependencies.

        Raises
        ------
        ValueError
            A task id is already pending or repeated in the batch.
        DependencyCycleError
            The batch's dependencies form a cycle; nothing was queued.
        """
        ids = [t.task_id for t in tasks]
        for tid in ids:
            if tid in self:
                raise ValueError(f"task {tid} is already queued or running")
        if len(set(ids)) != len(ids):
            raise ValueError("the batch repeats a task id")
        batch = {t.task_id: t for t in tasks}
        waits: dict[str, set[str]] = {}
        why: dict[tuple[str, str], str] = {}
        batch_writers: dict[str, list[str]] = {}
        for t in tasks:
            if t.kind == "transform":
                for node in t.outputs:
                    batch_writers.setdefault(node, []).append(t.task_id)
        for t in tasks:
            w: set[str] = set()
            for dep in t.after:
                if dep == t.task_id:
                    raise DependencyCycleError([t.task_id, t.task_id], [f"{t.task_id} waits for itself"])
                if dep in batch or dep in self:
                    w.add(dep)
                    why.setdefault((t.task_id, dep), f"{t.task_id} runs after {dep}")
            if t.kind == "transform":
                for node in t.inputs:
                    for writer in list(self._writers.get(node, ())) + batch_writers.get(node, []):
                        if writer != t.task_id:
                            w.add(writer)
                            why.setdefault((t.task_id, writer), f"{t.task_id} reads {node!r} written by {writer}")
            waits[t.task_id] = w
        cycle = _find_cycle(ids, {k: {d for d in v if d in batch} for k, v in waits.items()})
        if cycle is not None:
            raise DependencyCycleError(cycle, [why[(a, b)] for a, b in zip(cycle, cycle[1:])])
        for t in tasks:
            self._lanes[t.kind][t.task_id] = t
            self._waits[t.task_id] = waits[t.task_id]
            for dep in waits[t.task_id]:
                self._dependents.setdefault(dep, set()).add(t.task_id)
            if t.kind == "transform":
                for node in t.outputs:
                    self._writers.setdefault(node, {})[t.task_id] = None

    def pop_ready(self) -> Task | None:
        """Mark the first startable task running and return it (None if nothing can start)."""
        if len(self._running) - len(self._finishing) >= self.limits.thread_limit:
            return None
        caps = {"agent_tasks": self.limits.agent_tasks, "transforms": self.limits.transforms}
        for kind in _KINDS:
            res = RESOURCE_OF[kind]
            if self._busy[res] >= caps[res]:
                continue
            for tid, task in self._lanes[kind].items():
                if not self._waits.get(tid):
                    del self._lanes[kind][tid]
                    self._waits.pop(tid, None)
                    self._running[tid] = task
                    self._busy[res] += 1
                    return task
        return None

    def release_slot(self, task_id: str) -> None:
        """A running task no longer needs its resource (its process is gone) but is not done yet.

        Its slot (and thread) may go to the next task, while tasks that run
        ``after`` it or read what it writes still wait for :meth:`done`. The
        engine calls this when only the bookkeeping of a run is left.
        """
        task = self._running[task_id]
        if task_id not in self._finishing:
            self._finishing.add(task_id)
            self._busy[RESOURCE_OF[task.kind]] -= 1

    def done(self, task_id: str) -> list[str]:
        """A running task ended: free its slot and its dependents; returns those now unblocked."""
        task = self._running.pop(task_id)
        if task_id in self._finishing:
            self._finishing.discard(task_id)
        else:
            self._busy[RESOURCE_OF[task.kind]] -= 1
        return self._release(task)

    def remove(self, task_id: str) -> Task | None:
        """Take a queued task out (cancel before start); None if it is not queued."""
        for lane in self._lanes.values():
            task = lane.pop(task_id, None)
            if task is not None:
                for dep in self._waits.pop(task_id, set()):
                    self._dependents.get(dep, set()).discard(task_id)
                self._release(task)
                return task
        return None

    def _release(self, task: Task) -> list[str]:
        if task.kind == "transform":
            for node in task.outputs:
                writers = self._writers.get(node)
                if writers is not None:
                    writers.pop(task.task_id, None)
                    if not writers:
                        del self._writers[node]
        freed = []
        for dependent in self._dependents.pop(task.task_id, set()):
            w = self._waits.get(dependent)
            if w is not None:
                w.discard(task.task_id)
                if not w:
                    freed.append(dependent)
        return freed


def _find_cycle(order: Iterable[str], edges: dict[str, set[str]]) -> list[str] | None:
    """A cycle in ``edges`` (iterative DFS), as ids with the first repeated, or None."""
    state: dict[str, int] = {}  # 1 = on the stack, 2 = finished
    for root in order:
        if state.get(root):
            continue
        stack: list[tuple[str, list[str]]] = [(root, sorted(edges.get(root, ())))]
        path = [root]
        state[root] = 1
        while stack:
            node, rest = stack[-1]
            if not rest:
                stack.pop()
                path.pop()
                state[node] = 2
                continue
            nxt = rest.pop()
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append((nxt, sorted(edges.get(nxt, ()))))
    return None


__all__ = ["DependencyCycleError", "TaskQueue"]
