-- Campaigns the city published to this hub's citizens, as signed (verified
-- against the city's key when published).
CREATE TABLE campaigns (
    id TEXT PRIMARY KEY,
    signed_json TEXT NOT NULL,
    published_at_ms INTEGER NOT NULL
);

-- The hub's own keys (the anonymous-token issuer's, the consent receipts'),
-- each private key sealed by the master key.
CREATE TABLE hub_keys (
    name TEXT PRIMARY KEY,
    wrapped_key BLOB NOT NULL,
    public_key BLOB NOT NULL,
    created_at_ms INTEGER NOT NULL
);

-- One token per account per aggregation task (a wave of one measurement).
-- The hub records that it signed, never what: the message was blinded.
-- Rows outlive deleted accounts (ids are never reused).
CREATE TABLE token_issuances (
    account_id INTEGER NOT NULL,
    task_id TEXT NOT NULL,
    issued_at_ms INTEGER NOT NULL,
    PRIMARY KEY (account_id, task_id)
);
