-- The citizen's diary: what the analysis derived from fixes, and the
-- citizen's own corrections, which outlive any re-analysis.

CREATE TABLE trips (
    id                   INTEGER PRIMARY KEY,
    device_id            INTEGER NOT NULL REFERENCES devices (id),
    start_ms             INTEGER NOT NULL,
    end_ms               INTEGER NOT NULL,
    origin_lat           REAL    NOT NULL,
    origin_lon           REAL    NOT NULL,
    destination_lat      REAL    NOT NULL,
    destination_lon      REAL    NOT NULL,
    origin_place_id      INTEGER,
    destination_place_id INTEGER,
    distance_m           REAL    NOT NULL,
    purpose              TEXT,
    purpose_source       TEXT,
    private              INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX trips_by_time ON trips (start_ms);

CREATE TABLE legs (
    id          INTEGER PRIMARY KEY,
    trip_id     INTEGER NOT NULL REFERENCES trips (id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    start_ms    INTEGER NOT NULL,
    end_ms      INTEGER NOT NULL,
    distance_m  REAL    NOT NULL,
    mode        TEXT    NOT NULL,
    confidence  REAL    NOT NULL,
    mode_source TEXT    NOT NULL
);

CREATE INDEX legs_by_trip ON legs (trip_id);

-- A correction labels a time interval of a device, not a row: trips and
-- legs are recomputed, the interval stays, and is re-applied to whatever
-- trip or leg covers it best.
CREATE TABLE corrections (
    id            INTEGER PRIMARY KEY,
    device_id     INTEGER NOT NULL REFERENCES devices (id),
    start_ms      INTEGER NOT NULL,
    end_ms        INTEGER NOT NULL,
    kind          TEXT    NOT NULL CHECK (kind IN ('mode', 'purpose', 'private')),
    value         TEXT    NOT NULL,
    created_at_ms INTEGER NOT NULL
);
