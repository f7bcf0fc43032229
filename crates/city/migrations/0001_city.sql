-- The city's own database: what it published and what it was given back.
-- By construction it holds no citizen's trace, trip, place or contribution.

CREATE TABLE campaigns (
    id TEXT PRIMARY KEY,
    -- The signed campaign (spec + Ed25519 signature), as published to hubs.
    signed TEXT NOT NULL,
    published_at INTEGER NOT NULL
);

-- The city's secrets: its campaign-signing key, its collector HPKE key
-- pair and its bearer token for the leader.
CREATE TABLE city_keys (
    name TEXT PRIMARY KEY,
    secret TEXT NOT NULL
);

-- One released result per task (campaign × wave × measurement): noisy
-- totals per cell with their intervals, or the cell's suppression.
CREATE TABLE releases (
    task_id TEXT PRIMARY KEY,
    campaign_id TEXT NOT NULL REFERENCES campaigns(id),
    wave_id TEXT NOT NULL,
    measurement_id TEXT NOT NULL,
    result TEXT NOT NULL,
    collected_at INTEGER NOT NULL
);
