"""Journal records: one committed transaction (or a graph replacement) per row, checksummed.

Record format
-------------
``payload`` is UTF-8 JSON.  For a transaction (``kind = 'tx'``) it is
:meth:`Transaction.to_dict` (the resolved primitive edits plus provenance);
for a replacement of the whole graph (``kind = 'reset'``, written by an import
or a fresh build, whose new state is the *base snapshot* with the same seq)
it is ``{"operation", "description", "params", "actor", "time"}``.
Payloads over :data:`COMPRESS_OVER` bytes are zlib-compressed (``codec``
``json+zlib`` instead of ``json``), which keeps a whole-graph relayout small.

``checksum`` is the SHA-256 hex digest of ``b"<seq>:" + payload`` as stored,
so a damaged payload and a payload copied into another row are both caught
before anything is decompressed or parsed.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from dataclasses import dataclass
from typing import Any

from orchestrator_gui.model.transactions import Transaction

#: Payloads larger than this many bytes are stored zlib-compressed.
COMPRESS_OVER = 4096
CODECS = ("json", "json+zlib")


class RecordError(ValueError):
    """A journal row is damaged: checksum mismatch, unknown codec or undecodable payload."""


def checksum(seq: int, payload: bytes) -> str:
    """SHA-256 hex digest binding ``payload`` to its sequence number."""
    return hashlib.sha256(b"%d:" % seq + payload).hexdigest()


@dataclass(frozen=True)
class Row:
    """One journal row ready to insert (or as read back)."""

    seq: int
    kind: str
    tx_id: str
    time: float
    operation: str
    codec: str
    payload: bytes
    checksum: str

    def as_params(self) -> tuple:
        """Values in the column order of the ``journal`` table."""
        return (self.seq, self.kind, self.tx_id, self.time, self.operation, self.codec, self.payload, self.checksum)


def _pack(data: dict[str, Any]) -> tuple[str, bytes]:
    raw = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()
    if len(raw) > COMPRESS_OVER:
        return "json+zlib", zlib.compress(raw, 6)
    return "json", raw


def tx_row(seq: int, tx: Transaction) -> Row:
    """The journal row of a committed transaction."""
    codec, payload = _pack(tx.to_dict())
    p = tx.provenance
    return Row(seq, "tx", tx.id, p.time, p.operation, codec, payload, checksum(seq, payload))


def reset_row(seq: int, tx_id: str, *, operation: str, description: str, params: dict, actor: str, time: float) -> Row:
    """The journal row marking that the whole graph was replaced (by the base snapshot of the same seq)."""
    body = {"operation": operation, "description": description, "params": params, "actor": actor, "time": time}
    codec, payload = _pack(body)
    return Row(seq, "reset", tx_id, time, operation, codec, payload, checksum(seq, payload))


def decode(row: Row) -> dict[str, Any]:
    """Verify and decode a row's payload.

    Raises
    ------
    RecordError
        With a message saying what is wrong (checksum, codec, zlib or JSON).
    """
    if not isinstance(row.payload, bytes | memoryview):
        raise RecordError(f"payload is {type(row.payload).__name__}, not bytes")
    payload = bytes(row.payload)
    if checksum(row.seq, payload) != row.checksum:
        raise RecordError("checksum mismatch (the record was damaged or torn)")
    try:
        if row.codec == "json+zlib":
            payload = zlib.decompress(payload)
        elif row.codec != "json":
            raise RecordError(f"unknown codec {row.codec!r}")
        data = json.loads(payload)
    except (zlib.error, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RecordError(f"undecodable payload: {exc}") from None
    if not isinstance(data, dict):
        raise RecordError("payload is not a JSON object")
    return data


def decode_tx(row: Row) -> Transaction:
    """Verify and decode a ``tx`` row into its :class:`Transaction`.

    Raises
    ------
    RecordError
        If the row is damaged or does not hold a valid transaction with the
        row's ``tx_id``.
    """
    data = decode(row)
    try:
        tx = Transaction.from_dict(data)
    except ValueError as exc:  # pydantic.ValidationError is a ValueError
        raise RecordError(f"not a valid transaction: {_first_line(exc)}") from None
    if tx.id != row.tx_id:
        raise RecordError(f"payload holds transaction {tx.id!r}, the row says {row.tx_id!r}")
    return tx


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
