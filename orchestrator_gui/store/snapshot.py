"""Snapshot codec: the whole graph as one compressed, checksummed blob.

Why not ``zlib(json(graph.to_dict()))``
---------------------------------------
That was the first design; at 100k nodes / 500k edges it costs about 3.5 s to
write and 11 s to read on the 2-core reference machine (Python dicts for
half a million edges, then pydantic validation of each), against budgets of
2 s and 3 s.  The snapshot therefore holds the *same information* as
:meth:`ThoughtGraph.to_dict` in columns:

* the node models as one JSON array, written and validated by pydantic's
  Rust core (``TypeAdapter(list[Node]).dump_json`` / ``validate_json``),
  fields at their defaults left out;
* the numpy mirrors of node fields (theta/phi/r, kind, layer and status
  codes, created, updated), the dynamic per-node values (activation,
  attention, flags) and the edge columns (src row, dst row, type code,
  weight) as little-endian numpy buffers (storing the mirrors saves
  rebuilding them with Python loops over every node on load);
* the sparse edge metadata as JSON ``[[edge_row, {...}], ...]``.

Rows are kept, so ``decode_graph(encode_graph(g)).to_dict() == g.to_dict()``
exactly (tested), and journal records, whose edits name rows, replay onto it
row for row.  Everything else (numpy mirrors, adjacency) is rebuilt by
:func:`orchestrator_gui.model.bulk.build`, which also re-checks edge ranges,
self-loops and duplicates.

Blob layout (before compression)::

    b"OGSNAP1\\n" | uint32 LE header length | header JSON | section bytes ...

The header is ``{"n": N, "m": M, "sections": [[name, dtype, nbytes], ...]}``
and sections follow in that order.  The blob is zlib-compressed at level 1
(level 6 is 3x slower for 12 % less); the checksum (see
:func:`snapshot_checksum`) covers the compressed bytes.
"""

from __future__ import annotations

import gc
import hashlib
import json
import struct
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import numpy as np
from pydantic import TypeAdapter

from orchestrator_gui.model.bulk import build, check_spherical_array
from orchestrator_gui.model.nodes import KINDS, LAYERS, STATUSES, Node

if TYPE_CHECKING:
    from orchestrator_gui.model.graph import ThoughtGraph

#: The value of ``snapshot.codec`` for this encoding.
CODEC = "columnar-v1+zlib"
MAGIC = b"OGSNAP1\n"
_NODES = TypeAdapter(list[Node])

#: name -> numpy dtype of each array section, in write order.
_ARRAYS = {
    "sph": "<f8",
    "kind": "<i1",
    "layer": "<i1",
    "status": "<i1",
    "created": "<f8",
    "updated": "<f8",
    "activation": "<f8",
    "attention": "<f8",
    "flags": "<u4",
    "edge_src": "<i4",
    "edge_dst": "<i4",
    "edge_type": "<i1",
    "edge_weight": "<f8",
}


class SnapshotError(ValueError):
    """A snapshot blob is damaged or malformed."""


def snapshot_checksum(last_seq: int, data: bytes) -> str:
    """SHA-256 hex digest of ``b"<last_seq>:" + data`` (binds the blob to its journal position)."""
    return hashlib.sha256(b"%d:" % last_seq + data).hexdigest()


@contextmanager
def no_gc() -> Iterator[None]:
    """Pause the cyclic GC: building ~10^6 small objects otherwise triggers it hundreds of times (2-3x slower)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def encode_graph(g: ThoughtGraph) -> tuple[bytes, int]:
    """Encode ``g`` as a compressed snapshot blob.

    Returns
    -------
    (bytes, int)
        The compressed blob and its uncompressed size.
    """
    n, m = g.number_of_nodes(), g.number_of_edges()
    if n >= 2**31:
        raise ValueError("graph too large for the snapshot format (row numbers are int32)")
    with no_gc():
        # Fields at their defaults are left out: a 300k-entry log's nodes have ~6 each, and validating
        # them again on every load was a quarter of it. ``layer`` and ``r``, whose defaults depend on
        # other fields, are always written (pydantic never drops a field with a data-dependent default).
        nodes_json = _NODES.dump_json(list(g.nodes()), exclude_defaults=True)
        sections: list[tuple[str, str, bytes]] = [("nodes", "json", nodes_json)]
    ea = g.edge_arrays()
    columns = {
        "sph": g.spherical,
        "kind": g.kind_index,
        "layer": g.layer_index,
        "status": g.status_index,
        "created": g.created,
        "updated": g.updated,
        "activation": g.activation,
        "attention": g.attention,
        "flags": g.flags,
        "edge_src": ea.src,
        "edge_dst": ea.dst,
        "edge_type": ea.type,
        "edge_weight": ea.weight,
    }
    for name, dtype in _ARRAYS.items():
        sections.append((name, dtype, np.ascontiguousarray(columns[name], dtype=dtype).tobytes()))
    sections.append(("edge_metadata", "json", json.dumps(_edge_metadata(g), separators=(",", ":")).encode()))
    header = json.dumps({"n": n, "m": m, "sections": [[s, d, len(b)] for s, d, b in sections]}).encode()
    raw = b"".join([MAGIC, struct.pack("<I", len(header)), header, *(b for _, _, b in sections)])
    return zlib.compress(raw, 1), len(raw)


def _edge_metadata(g: ThoughtGraph) -> list[list]:
    """``[[edge_row, metadata], ...]`` for the edges that have metadata, by row.

    Read from the edge table's sparse map: going through ``g.edges()`` would
    build 500k edge models.
    """
    return [[r, meta] for r, meta in g.edge_table.metadata_by_row().items()]


def _split(raw: bytes) -> tuple[dict, dict[str, tuple[str, memoryview]]]:
    if not raw.startswith(MAGIC) or len(raw) < len(MAGIC) + 4:
        raise SnapshotError("not a snapshot (bad magic)")
    (hlen,) = struct.unpack_from("<I", raw, len(MAGIC))
    start = len(MAGIC) + 4
    try:
        header = json.loads(raw[start : start + hlen])
        n, m, specs = int(header["n"]), int(header["m"]), header["sections"]
    except (ValueError, KeyError, TypeError) as exc:
        raise SnapshotError(f"bad snapshot header: {exc}") from None
    pos = start + hlen
    view = memoryview(raw)
    parts: dict[str, tuple[str, memoryview]] = {}
    for name, dtype, size in specs:
        if pos + size > len(raw):
            raise SnapshotError(f"snapshot truncated in section {name!r}")
        parts[name] = (dtype, view[pos : pos + size])
        pos += size
    if pos != len(raw):
        raise SnapshotError("trailing bytes after the last snapshot section")
    missing = ({"nodes", "edge_metadata"} | set(_ARRAYS)) - set(parts)
    if missing:
        raise SnapshotError(f"snapshot lacks sections {sorted(missing)}")
    return {"n": n, "m": m}, parts


def _array(parts: dict[str, tuple[str, memoryview]], name: str, count: int) -> np.ndarray:
    dtype, buf = parts[name]
    if dtype != _ARRAYS[name]:
        raise SnapshotError(f"section {name!r} has dtype {dtype!r}, expected {_ARRAYS[name]!r}")
    arr = np.frombuffer(buf, dtype=dtype)
    if len(arr) != count:
        raise SnapshotError(f"section {name!r} has {len(arr)} entries, expected {count}")
    return arr.astype(np.dtype(dtype).newbyteorder("="))  # native, writable copy


def _codes(parts: dict[str, tuple[str, memoryview]], name: str, count: int, size: int) -> np.ndarray:
    arr = _array(parts, name, count)
    if count and (arr.min() < 0 or arr.max() >= size):
        raise SnapshotError(f"section {name!r} holds a code out of range")
    return arr


def decode_graph(blob: bytes) -> ThoughtGraph:
    """Rebuild the graph from a blob made by :func:`encode_graph` (the checksum is checked by the caller).

    Raises
    ------
    SnapshotError
        If the blob cannot be decompressed or its sections are malformed
        (validation errors of nodes and edges included).
    """
    try:
        raw = zlib.decompress(blob)
    except zlib.error as exc:
        raise SnapshotError(f"cannot decompress snapshot: {exc}") from None
    head, parts = _split(raw)
    n, m = head["n"], head["m"]
    try:
        with no_gc():
            nodes = _NODES.validate_json(parts["nodes"][1].tobytes())
            if len(nodes) != n:
                raise SnapshotError(f"snapshot holds {len(nodes)} nodes, its header says {n}")
            sph = _array(parts, "sph", 3 * n).reshape(n, 3)
            check_spherical_array(sph)
            metadata = json.loads(parts["edge_metadata"][1].tobytes())
            if not isinstance(metadata, list) or not all(
                isinstance(x, list) and len(x) == 2 and isinstance(x[0], int) and 0 <= x[0] < m
                and isinstance(x[1], dict)
                for x in metadata
            ):
                raise SnapshotError("bad edge metadata section")
            return build(
                nodes,
                sph=sph,
                kind=_codes(parts, "kind", n, len(KINDS)),
                layer=_codes(parts, "layer", n, len(LAYERS)),
                status=_codes(parts, "status", n, len(STATUSES)),
                created=_array(parts, "created", n),
                updated=_array(parts, "updated", n),
                activation=_array(parts, "activation", n),
                attention=_array(parts, "attention", n),
                flags=_array(parts, "flags", n),
                edge_src=_array(parts, "edge_src", m).astype(np.int64),
                edge_dst=_array(parts, "edge_dst", m).astype(np.int64),
                edge_type=_array(parts, "edge_type", m),
                edge_weight=_array(parts, "edge_weight", m),
                edge_metadata={r: meta for r, meta in metadata},
            )
    except SnapshotError:
        raise
    except ValueError as exc:  # pydantic ValidationError, JSON errors, build()'s range/duplicate checks
        text = str(exc).strip().splitlines()
        raise SnapshotError(f"invalid snapshot content: {text[0] if text else type(exc).__name__}") from None
