-- The citizen can split a trip at an instant and merge a trip with the
-- next: two new kinds of correction. SQLite cannot change a CHECK, so the
-- table is rebuilt with every row kept (ids included: order matters, later
-- corrections win).
CREATE TABLE corrections_v6 (
    id            INTEGER PRIMARY KEY,
    device_id     INTEGER NOT NULL REFERENCES devices (id),
    start_ms      INTEGER NOT NULL,
    end_ms        INTEGER NOT NULL,
    kind          TEXT    NOT NULL CHECK (kind IN ('mode', 'purpose', 'private', 'split', 'merge')),
    value         TEXT    NOT NULL,
    created_at_ms INTEGER NOT NULL
);
INSERT INTO corrections_v6 (id, device_id, start_ms, end_ms, kind, value, created_at_ms)
    SELECT id, device_id, start_ms, end_ms, kind, value, created_at_ms FROM corrections;
DROP TABLE corrections;
ALTER TABLE corrections_v6 RENAME TO corrections;
