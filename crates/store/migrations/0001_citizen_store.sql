-- The citizen's personal store: raw fixes, source hints and import batches.
-- Times are UTC epoch milliseconds (64-bit); coordinates WGS84 degrees.

CREATE TABLE devices (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);

CREATE TABLE import_batches (
    id             INTEGER PRIMARY KEY,
    source_name    TEXT    NOT NULL,
    format         TEXT    NOT NULL,
    imported_at_ms INTEGER NOT NULL,
    accepted       INTEGER NOT NULL DEFAULT 0,
    duplicates     INTEGER NOT NULL DEFAULT 0,
    hints          INTEGER NOT NULL DEFAULT 0,
    -- {"reason": count, ...}; reasons are RejectReason names.
    rejected_json  TEXT    NOT NULL DEFAULT '{}'
);

-- One row per (device, instant): re-importing the same data is a no-op, and
-- the batch that first brought a fix owns it (undoing a later batch that
-- repeated it leaves it in place).
CREATE TABLE fixes (
    device_id      INTEGER NOT NULL REFERENCES devices (id),
    t_ms           INTEGER NOT NULL,
    lat            REAL    NOT NULL,
    lon            REAL    NOT NULL,
    accuracy_m     REAL,
    speed_mps      REAL,
    bearing_deg    REAL,
    altitude_m     REAL,
    utc_offset_min INTEGER,
    batch_id       INTEGER NOT NULL REFERENCES import_batches (id),
    PRIMARY KEY (device_id, t_ms)
) WITHOUT ROWID;

-- What a source inferred (activity types, place visits): hints, never truth.
CREATE TABLE source_hints (
    id         INTEGER PRIMARY KEY,
    batch_id   INTEGER NOT NULL REFERENCES import_batches (id),
    device_id  INTEGER NOT NULL REFERENCES devices (id),
    start_ms   INTEGER NOT NULL,
    end_ms     INTEGER NOT NULL,
    kind       TEXT    NOT NULL,
    label      TEXT    NOT NULL DEFAULT '',
    mode       TEXT,
    lat        REAL,
    lon        REAL,
    confidence REAL,
    UNIQUE (device_id, start_ms, end_ms, kind, label)
);

CREATE INDEX source_hints_by_batch ON source_hints (batch_id);
