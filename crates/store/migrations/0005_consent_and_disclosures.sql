-- What the citizen answered to campaigns, and everything that left their
-- store. Both are append-only histories: rows are never updated or deleted
-- (a withdrawal is a new consent event), and the disclosure log is a hash
-- chain, so a changed or missing entry shows.

CREATE TABLE consent_events (
    id          INTEGER PRIMARY KEY,
    campaign_id TEXT    NOT NULL,
    state       TEXT    NOT NULL,
    event_time  INTEGER NOT NULL,
    -- The full ISO/IEC TS 27560 record, JSON.
    record      TEXT    NOT NULL
);

CREATE INDEX consent_events_by_campaign ON consent_events (campaign_id, id);

CREATE TABLE disclosures (
    id       INTEGER PRIMARY KEY,
    -- The log entry (disclosure, previous hash, hash), JSON.
    entry    TEXT    NOT NULL,
    hash     TEXT    NOT NULL UNIQUE,
    previous TEXT    NOT NULL UNIQUE
);
