-- The city's staff: planners who design and publish campaigns (editors)
-- and colleagues who read results (viewers). Separate from citizens: the
-- hub's accounts never reach this database.

CREATE TABLE staff (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    -- Argon2id PHC string; the password itself is never stored.
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('editor', 'viewer')),
    created_at INTEGER NOT NULL
);

-- A session is known by the SHA-256 of its cookie only.
CREATE TABLE staff_sessions (
    token_hash BLOB PRIMARY KEY,
    staff_id INTEGER NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
