-- Versions of a campaign replaced by a newer one, by their signature
-- (base64url). A signed campaign can be replayed by whoever saw it: a
-- version once replaced is never accepted from the city's HTTP route again.
CREATE TABLE superseded_campaigns (
    campaign_id TEXT NOT NULL,
    signature TEXT NOT NULL,
    superseded_at_ms INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, signature)
);
