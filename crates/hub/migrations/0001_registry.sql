-- The hub's registry: who may log in, their sessions and devices, and the
-- wrapped key of each citizen's store. No mobility data ever lives here.
CREATE TABLE accounts (
    -- Never reused: token issuances outlive deleted accounts.
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    -- Argon2id, PHC string format.
    password_hash TEXT NOT NULL,
    -- The store's data key, XChaCha20-Poly1305-wrapped under the master key.
    wrapped_key BLOB NOT NULL,
    lang TEXT NOT NULL DEFAULT 'fr',
    created_at_ms INTEGER NOT NULL
);

CREATE TABLE sessions (
    -- SHA-256 of the cookie value: a copy of the database opens no session.
    token_hash BLOB PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL
);
CREATE INDEX sessions_by_account ON sessions(account_id);

CREATE TABLE devices (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    label TEXT NOT NULL,
    -- SHA-256 of the device token; the token itself is shown once.
    token_hash BLOB NOT NULL UNIQUE,
    created_at_ms INTEGER NOT NULL,
    last_seen_ms INTEGER,
    fixes_received INTEGER NOT NULL DEFAULT 0,
    UNIQUE (account_id, label)
);
