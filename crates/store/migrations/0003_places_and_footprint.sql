-- Places, the footprint of every leg, and the citizen's settings.

-- A place is found by clustering stays, but what the citizen says about it
-- is theirs: the name, the private flag and a label whose label_source is
-- 'citizen'. Re-analysis moves a place's centre, recounts its visits and
-- re-infers an 'inferred' label; it keeps the id of a place it finds again
-- (within 100 m) and never deletes one the citizen touched. AUTOINCREMENT:
-- an id is never reused, so a deleted place's id cannot come to name another.
CREATE TABLE places (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    lat          REAL    NOT NULL,
    lon          REAL    NOT NULL,
    label        TEXT    NOT NULL CHECK (label IN ('home', 'work', 'study', 'other')),
    label_source TEXT    NOT NULL DEFAULT 'inferred' CHECK (label_source IN ('inferred', 'citizen')),
    name         TEXT,
    private      INTEGER NOT NULL DEFAULT 0,
    -- Stays clustered into the place by the latest analysis.
    visits       INTEGER NOT NULL DEFAULT 0
);

-- Trips already carry origin_place_id / destination_place_id (0002); these
-- indexes make unlinking a deleted place cheap.
CREATE INDEX trips_by_origin_place ON trips (origin_place_id);
CREATE INDEX trips_by_destination_place ON trips (destination_place_id);

-- CO2 and energy per leg. co2_g NULL means unknown (no factor for the mode:
-- ferry, unknown), never zero; co2_factor_version names the emission-factor
-- table the value came from, so figures can be recomputed and compared.
ALTER TABLE legs ADD COLUMN co2_g REAL;
ALTER TABLE legs ADD COLUMN co2_factor_version TEXT;
ALTER TABLE legs ADD COLUMN kcal REAL NOT NULL DEFAULT 0;

-- The citizen's settings (car type, usual occupants, ...), as text.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
