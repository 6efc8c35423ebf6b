"""Column stores behind the graph: the numpy mirrors of nodes and edges.

Rows are dense (``0 .. n-1``) so a renderer can hand the arrays to the GPU
as they are.  Deleting swaps the last row into the hole (O(1)); the stores
report which item moved so the graph can fix references to it.  Inserting at
a given row (used to undo a delete exactly) is the mirror image: the occupant
moves to the end.

Every node also has a permanent integer *handle* that never changes while the
node exists.  Edges are identified by a packed int64 key built from the two
handles and the type code, so edge identity survives row moves.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

HANDLE_BITS = 27
TYPE_BITS = 8
HANDLE_MASK = (1 << HANDLE_BITS) - 1
TYPE_MASK = (1 << TYPE_BITS) - 1
#: Handles are allocated from 0 upwards; this many may exist over a graph's lifetime.
MAX_HANDLES = 1 << HANDLE_BITS


def pack_key(src_handle: int | np.ndarray, dst_handle: int | np.ndarray, type_code: int | np.ndarray):
    """Pack an edge identity into one int64: ``src << 35 | dst << 8 | type``."""
    if isinstance(src_handle, np.ndarray):
        return (
            (src_handle.astype(np.int64) << (HANDLE_BITS + TYPE_BITS))
            | (np.asarray(dst_handle, dtype=np.int64) << TYPE_BITS)
            | np.asarray(type_code, dtype=np.int64)
        )
    return (int(src_handle) << (HANDLE_BITS + TYPE_BITS)) | (int(dst_handle) << TYPE_BITS) | int(type_code)


def key_src(key):
    """Source handle of packed edge key(s)."""
    return (key >> (HANDLE_BITS + TYPE_BITS)) & HANDLE_MASK


def key_dst(key):
    """Destination handle of packed edge key(s)."""
    return (key >> TYPE_BITS) & HANDLE_MASK


def key_type(key):
    """Type code of packed edge key(s)."""
    return key & TYPE_MASK


def _grown(arr: np.ndarray, capacity: int, fill=0) -> np.ndarray:
    """Copy of ``arr`` with its first axis enlarged to ``capacity``."""
    out = np.full((capacity,) + arr.shape[1:], fill, dtype=arr.dtype)
    out[: len(arr)] = arr
    return out


@dataclass(frozen=True)
class Moved:
    """An item that changed row: ``handle`` (node) or ``key`` (edge), from ``old`` to ``new``."""

    ident: int
    old: int
    new: int


class NodeStore:
    """Per-node columns plus the id/row/handle maps.

    Columns (all of length ``capacity``; rows ``[0, n)`` are live):
    ``ids`` (object), ``handle`` (int64), ``sph`` and ``xyz`` (float64, (N, 3)),
    ``activation``, ``attention``, ``created``, ``updated`` (float64),
    ``kind``, ``layer``, ``status`` (int8), ``flags`` (uint32).
    """

    COLUMNS: dict[str, tuple[tuple[int, ...], type]] = {
        "ids": ((), object),
        "handle": ((), np.int64),
        "sph": ((3,), np.float64),
        "xyz": ((3,), np.float64),
        "activation": ((), np.float64),
        "attention": ((), np.float64),
        "created": ((), np.float64),
        "updated": ((), np.float64),
        "kind": ((), np.int8),
        "layer": ((), np.int8),
        "status": ((), np.int8),
        "flags": ((), np.uint32),
    }

    def __init__(self, capacity: int = 64) -> None:
        self.n = 0
        self.cols: dict[str, np.ndarray] = {
            name: np.zeros((capacity,) + shape, dtype=dt) for name, (shape, dt) in self.COLUMNS.items()
        }
        self.row_of: dict[str, int] = {}
        self.row_of_handle = np.full(max(capacity, 1), -1, dtype=np.int64)
        self.next_handle = 0

    # -- capacity -------------------------------------------------------------------
    def reserve(self, n: int) -> None:
        """Make room for ``n`` rows in total (capacity doubles, so appends are amortised O(1))."""
        cap = len(self.cols["handle"])
        if n > cap:
            new_cap = max(n, 2 * cap)
            for name, arr in self.cols.items():
                self.cols[name] = _grown(arr, new_cap, None if arr.dtype == object else 0)

    def new_handle(self) -> int:
        """Allocate a fresh permanent handle."""
        h = self.next_handle
        if h >= MAX_HANDLES:
            raise OverflowError("node handle space exhausted")
        self.next_handle += 1
        if h >= len(self.row_of_handle):
            self.row_of_handle = _grown(self.row_of_handle, max(h + 1, 2 * len(self.row_of_handle)), -1)
        return h

    def live(self, name: str) -> np.ndarray:
        """Writeable view of column ``name`` restricted to live rows."""
        return self.cols[name][: self.n]

    # -- row moves ------------------------------------------------------------------
    def _copy_row(self, src: int, dst: int) -> None:
        for arr in self.cols.values():
            arr[dst] = arr[src]
        self.row_of[self.cols["ids"][dst]] = dst
        self.row_of_handle[self.cols["handle"][dst]] = dst

    def append_empty(self, node_id: str) -> tuple[int, int]:
        """Add a row for ``node_id`` with zeroed columns; return ``(row, handle)``."""
        if node_id in self.row_of:
            raise KeyError(f"node {node_id!r} already exists")
        self.reserve(self.n + 1)
        row = self.n
        self.n += 1
        h = self.new_handle()
        for name, arr in self.cols.items():
            arr[row] = None if name == "ids" else 0
        self.cols["ids"][row] = node_id
        self.cols["handle"][row] = h
        self.row_of[node_id] = row
        self.row_of_handle[h] = row
        return row, h

    def append_many(self, node_ids: list[str]) -> int:
        """Add zeroed rows for ``node_ids`` (new and distinct) at the end; return the first new row.

        The bulk form of :meth:`append_empty` (a fresh build appends hundreds of thousands of rows).
        """
        k = len(node_ids)
        if len(set(node_ids)) != k or any(i in self.row_of for i in node_ids):
            raise KeyError("append_many needs new, distinct node ids")
        first_h = self.next_handle
        if first_h + k > MAX_HANDLES:
            raise OverflowError("node handle space exhausted")
        self.reserve(self.n + k)
        if first_h + k > len(self.row_of_handle):
            self.row_of_handle = _grown(self.row_of_handle, max(first_h + k, 2 * len(self.row_of_handle)), -1)
        start, stop = self.n, self.n + k
        for name, arr in self.cols.items():
            arr[start:stop] = None if name == "ids" else 0
        self.cols["ids"][start:stop] = node_ids
        handles = np.arange(first_h, first_h + k, dtype=np.int64)
        self.cols["handle"][start:stop] = handles
        self.row_of.update(zip(node_ids, range(start, stop)))
        self.row_of_handle[first_h:first_h + k] = np.arange(start, stop)
        self.next_handle += k
        self.n = stop
        return start

    def move_to_row(self, row: int, target: int) -> Moved | None:
        """Put the (just appended) last row at ``target``; the occupant of ``target`` goes last.

        Returns the occupant's move, or ``None`` when ``target`` already is the last row.
        """
        last = self.n - 1
        if not 0 <= target <= last:
            raise IndexError(f"row {target} out of range 0..{last}")
        if row != last:
            raise ValueError("move_to_row only relocates the last row")
        if target == last:
            return None
        # Rotate: occupant -> spare slot -> last; new row -> target.
        self.reserve(self.n + 1)
        spare = self.n  # scratch slot beyond the live rows
        for arr in self.cols.values():
            arr[spare] = arr[target]
            arr[target] = arr[last]
            arr[last] = arr[spare]
        occupant_handle = int(self.cols["handle"][last])
        for r in (target, last):
            self.row_of[self.cols["ids"][r]] = r
            self.row_of_handle[self.cols["handle"][r]] = r
        self.cols["ids"][spare] = None
        return Moved(occupant_handle, target, last)

    def swap_remove(self, row: int) -> Moved | None:
        """Delete ``row`` by moving the last row into it; return that row's move, if any."""
        last = self.n - 1
        if not 0 <= row <= last:
            raise IndexError(f"row {row} out of range 0..{last}")
        node_id = self.cols["ids"][row]
        h = int(self.cols["handle"][row])
        moved = None
        if row != last:
            self._copy_row(last, row)
            moved = Moved(int(self.cols["handle"][row]), last, row)
        self.cols["ids"][last] = None
        del self.row_of[node_id]
        self.row_of_handle[h] = -1
        self.n -= 1
        return moved


class EdgeStore:
    """Per-edge columns: ``key`` (int64), ``src``/``dst`` rows (int64), ``type`` (int8), ``weight`` (float64).

    ``row_of_key`` maps packed keys to rows; ``metadata`` holds the metadata of
    the few edges that have any (keyed by packed key) so the common case costs
    nothing.
    """

    COLUMNS: dict[str, type] = {
        "key": np.int64,
        "src": np.int64,
        "dst": np.int64,
        "type": np.int8,
        "weight": np.float64,
    }

    def __init__(self, capacity: int = 64) -> None:
        self.m = 0
        self.cols: dict[str, np.ndarray] = {name: np.zeros(capacity, dtype=dt) for name, dt in self.COLUMNS.items()}
        self.row_of_key: dict[int, int] = {}
        self.metadata: dict[int, dict] = {}

    def reserve(self, m: int) -> None:
        """Make room for ``m`` rows in total."""
        cap = len(self.cols["key"])
        if m > cap:
            new_cap = max(m, 2 * cap)
            for name, arr in self.cols.items():
                self.cols[name] = _grown(arr, new_cap)

    def live(self, name: str) -> np.ndarray:
        """Writeable view of column ``name`` restricted to live rows."""
        return self.cols[name][: self.m]

    def append(self, key: int, src: int, dst: int, type_code: int, weight: float) -> int:
        """Add an edge row; return its row."""
        if key in self.row_of_key:
            raise KeyError("edge already exists")
        self.reserve(self.m + 1)
        row = self.m
        c = self.cols
        c["key"][row] = key
        c["src"][row] = src
        c["dst"][row] = dst
        c["type"][row] = type_code
        c["weight"][row] = weight
        self.row_of_key[key] = row
        self.m += 1
        return row

    def move_to_row(self, row: int, target: int) -> Moved | None:
        """Put the (just appended) last row at ``target``; the occupant goes last."""
        last = self.m - 1
        if not 0 <= target <= last or row != last:
            raise IndexError(f"bad edge row move {row} -> {target} (last {last})")
        if target == last:
            return None
        for arr in self.cols.values():
            arr[target], arr[last] = arr[last], arr[target]
        occupant = int(self.cols["key"][last])
        self.row_of_key[occupant] = last
        self.row_of_key[int(self.cols["key"][target])] = target
        return Moved(occupant, target, last)

    def swap_remove(self, row: int) -> Moved | None:
        """Delete ``row`` by moving the last row into it; return that row's move, if any."""
        last = self.m - 1
        if not 0 <= row <= last:
            raise IndexError(f"edge row {row} out of range 0..{last}")
        key = int(self.cols["key"][row])
        moved = None
        if row != last:
            for arr in self.cols.values():
                arr[row] = arr[last]
            mk = int(self.cols["key"][row])
            self.row_of_key[mk] = row
            moved = Moved(mk, last, row)
        del self.row_of_key[key]
        self.metadata.pop(key, None)
        self.m -= 1
        return moved
