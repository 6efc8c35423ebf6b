-- Fleet mode, the loop's half: machines and their heartbeats, slot claims, the shared
-- schedule record and every run's started/finished rows (orchestrator_gui/fleet/).
-- Idempotent DDL: safe to run again over an existing schema.

-- One row per machine name; heartbeat is the database's clock, so machines with skewed clocks agree.
CREATE TABLE IF NOT EXISTS machines (
    machine     text PRIMARY KEY CHECK (length(machine) BETWEEN 1 AND 64),
    first_seen  timestamptz NOT NULL DEFAULT now(),
    heartbeat   timestamptz NOT NULL DEFAULT now(),
    pid         integer,
    workspace   text,
    version     text
);

-- One row per running process (engine or app) of a machine: claims belong to a session, so a machine
-- restarted under the same name still loses the claims of its dead process after dead_after_s.
CREATE TABLE IF NOT EXISTS sessions (
    session     text PRIMARY KEY,
    machine     text NOT NULL,
    pid         integer,
    started     timestamptz NOT NULL DEFAULT now(),
    heartbeat   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS sessions_heartbeat ON sessions (heartbeat);

-- The fleet's record of each schedule: the cadence every machine follows. fields holds Roo's
-- runtime fields (lastExecutionTime, lastTaskId, lastSkippedTime, nextExecutionTime, active;
-- JSON null = key removed) that each machine writes back into its own schedules.json copy.
CREATE TABLE IF NOT EXISTS schedule_records (
    schedule_id   text PRIMARY KEY,
    last_slot_ms  bigint,
    fields        jsonb NOT NULL DEFAULT '{}'::jsonb,
    revision      bigint NOT NULL DEFAULT 0,
    updated_by    text,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- One row per (schedule, due slot, attempt): the primary key is what makes a slot fire once.
-- attempt > 0: the slot re-offered after the claim of a dead machine was marked lost.
CREATE TABLE IF NOT EXISTS claims (
    schedule_id  text NOT NULL,
    due_ms       bigint NOT NULL,
    attempt      integer NOT NULL DEFAULT 0 CHECK (attempt BETWEEN 0 AND 1000),
    machine      text NOT NULL,
    session      text NOT NULL,
    task_id      text NOT NULL,
    kind         text NOT NULL DEFAULT 'run' CHECK (kind IN ('run', 'skip')),
    status       text NOT NULL DEFAULT 'running'
                 CHECK (status IN ('running', 'finished', 'lost', 'skipped')),
    claimed_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    lost_at      timestamptz,
    result       text,
    resolution   text,   -- for a lost claim: 're-offered' / 'dropped (...)', set once by one machine
    PRIMARY KEY (schedule_id, due_ms, attempt)
);
CREATE INDEX IF NOT EXISTS claims_running ON claims (machine) WHERE status = 'running';
CREATE INDEX IF NOT EXISTS claims_unresolved ON claims (schedule_id) WHERE status = 'lost' AND resolution IS NULL;
CREATE INDEX IF NOT EXISTS claims_recent ON claims (claimed_at DESC);

-- Every run's started and finished rows, from every machine (task_timing.tsv stays per machine).
CREATE TABLE IF NOT EXISTS runs (
    id          bigserial PRIMARY KEY,
    machine     text NOT NULL,
    task_id     text NOT NULL,
    event       text NOT NULL CHECK (event IN ('started', 'finished')),
    at          timestamptz NOT NULL,
    kind        text,
    subject_id  text,
    name        text,
    mode        text,
    status      text,
    duration_s  double precision,
    due_ms      bigint,
    UNIQUE (machine, task_id, event)
);
CREATE INDEX IF NOT EXISTS runs_at ON runs (at DESC);
