-- The hub's own signing keys (e.g. for consent receipts), each private key
-- wrapped by the master key.
CREATE TABLE hub_keys (
    name TEXT PRIMARY KEY,
    wrapped_key BLOB NOT NULL,
    public_key BLOB NOT NULL,
    created_at_ms INTEGER NOT NULL
);
