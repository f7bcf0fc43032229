-- What makes the diary incremental: the stays the analysis found (so that
-- places can be re-clustered without re-reading every fix), the mode the
-- analysis inferred for each leg (so that a refresh starts again from the
-- analysis, not from its own corrected output), and the intervals of each
-- device whose fixes changed since the diary was last computed.

CREATE TABLE stays (
    device_id      INTEGER NOT NULL REFERENCES devices (id),
    start_ms       INTEGER NOT NULL,
    end_ms         INTEGER NOT NULL,
    lat            REAL    NOT NULL,
    lon            REAL    NOT NULL,
    utc_offset_min INTEGER,
    PRIMARY KEY (device_id, start_ms)
) WITHOUT ROWID;

-- Existing legs: what they show is the best record of what was inferred.
ALTER TABLE legs ADD COLUMN inferred_mode TEXT NOT NULL DEFAULT 'unknown';
ALTER TABLE legs ADD COLUMN inferred_confidence REAL NOT NULL DEFAULT 0;
UPDATE legs SET inferred_mode = mode, inferred_confidence = confidence;

-- Written in the same transaction as the fixes that changed (import, undo),
-- removed in the same transaction as the diary that accounts for them: a
-- crash in between leaves the interval marked, never forgotten.
CREATE TABLE diary_dirty (
    id        INTEGER PRIMARY KEY,
    device_id INTEGER NOT NULL REFERENCES devices (id),
    from_ms   INTEGER NOT NULL,
    to_ms     INTEGER NOT NULL
);

-- Stores analysed before this migration have no stays: analyse everything once.
INSERT INTO diary_dirty (device_id, from_ms, to_ms)
SELECT id, -9223372036854775807 - 1, 9223372036854775807 FROM devices;
