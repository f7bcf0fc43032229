-- An aggregator's own database (one per aggregator, never shared). The SQL
-- is portable between SQLite and PostgreSQL.

-- This aggregator's HPKE key pairs (input shares are encrypted to them).
CREATE TABLE hpke_keys (
    id      BIGINT PRIMARY KEY,
    keypair TEXT NOT NULL
);

-- Provisioned tasks: public parameters and this aggregator's secrets for it.
CREATE TABLE tasks (
    task_id TEXT PRIMARY KEY,
    params  TEXT NOT NULL,
    secrets TEXT NOT NULL
);

-- Reports. The leader keeps what it received until aggregated; the helper
-- keeps the ids it saw, against replays.
CREATE TABLE reports (
    task_id      TEXT   NOT NULL,
    report_id    TEXT   NOT NULL,
    report_time  BIGINT NOT NULL,
    -- pending, in_job, aggregated or rejected.
    state        TEXT   NOT NULL,
    job_id       TEXT,
    rejection    TEXT,
    PRIMARY KEY (task_id, report_id)
);

-- The leader's copy of each report awaiting aggregation (JSON, ~100 KB for
-- 1,000 cells), apart from its small state row so that state changes never
-- rewrite it. Deleted in the transaction that records the report's job:
-- shares are kept no longer than needed.
CREATE TABLE report_bodies (
    task_id   TEXT NOT NULL,
    report_id TEXT NOT NULL,
    body      TEXT NOT NULL,
    PRIMARY KEY (task_id, report_id)
);

CREATE INDEX reports_by_state ON reports (task_id, state, report_id);
-- Job members in the order they are sent: serves both the filter and the
-- ORDER BY (without report_id here, SQLite walks every report of the task).
CREATE INDEX reports_by_job ON reports (task_id, job_id, report_id);

-- Anonymous tokens already spent (leader).
CREATE TABLE used_tokens (
    task_id  TEXT NOT NULL,
    token_id TEXT NOT NULL,
    PRIMARY KEY (task_id, token_id)
);

-- Aggregation jobs. On the leader, a running job is resumed after a crash
-- with the same id and reports; on the helper, the stored response answers
-- a retried job, so nothing is aggregated twice.
CREATE TABLE jobs (
    task_id      TEXT NOT NULL,
    job_id       TEXT NOT NULL,
    state        TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response     TEXT,
    PRIMARY KEY (task_id, job_id)
);

-- Each job's partial sum: the batch (one per task: its wave) is their
-- total. Written once per job, never updated, so concurrent jobs (and
-- several leader processes) never race on a running sum.
CREATE TABLE job_aggregates (
    task_id      TEXT   NOT NULL,
    job_id       TEXT   NOT NULL,
    aggregate    BYTEA  NOT NULL,
    report_count BIGINT NOT NULL,
    checksum     BYTEA  NOT NULL,
    PRIMARY KEY (task_id, job_id)
);

-- What was released, once: a repeated request gets the same bytes back,
-- never a fresh noise draw.
CREATE TABLE releases (
    task_id      TEXT   PRIMARY KEY,
    report_count BIGINT NOT NULL,
    checksum     BYTEA  NOT NULL,
    released     TEXT   NOT NULL
);

-- Uploads refused before they became reports, by reason (leader).
CREATE TABLE upload_rejections (
    task_id TEXT   NOT NULL,
    reason  TEXT   NOT NULL,
    count   BIGINT NOT NULL,
    PRIMARY KEY (task_id, reason)
);
