-- The shared thought graph of a fleet: the same journal and snapshot records as the SQLite store
-- (see orchestrator_gui/store/records.py and snapshot.py), plus who committed each record.
CREATE TABLE IF NOT EXISTS journal (
    seq            BIGINT PRIMARY KEY CHECK (seq > 0),
    kind           TEXT NOT NULL CHECK (kind IN ('tx', 'reset')),
    tx_id          TEXT NOT NULL,
    time           DOUBLE PRECISION NOT NULL,
    operation      TEXT NOT NULL,
    codec          TEXT NOT NULL,
    payload        BYTEA NOT NULL,
    checksum       TEXT NOT NULL,
    origin_machine TEXT NOT NULL DEFAULT '',
    origin_process TEXT NOT NULL DEFAULT '',
    base_seq       BIGINT NOT NULL DEFAULT 0,
    committed_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS journal_tx_id ON journal (tx_id);
CREATE INDEX IF NOT EXISTS journal_origin ON journal (origin_machine, seq);

CREATE TABLE IF NOT EXISTS snapshot (
    id       BIGSERIAL PRIMARY KEY,
    last_seq BIGINT NOT NULL,
    kind     TEXT NOT NULL CHECK (kind IN ('periodic', 'close', 'manual', 'base')),
    time     DOUBLE PRECISION NOT NULL,
    nodes    INTEGER NOT NULL,
    edges    INTEGER NOT NULL,
    codec    TEXT NOT NULL,
    raw_size BIGINT NOT NULL,
    data     BYTEA NOT NULL,
    checksum TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS snapshot_last_seq ON snapshot (last_seq);
