-- Results the city published for campaigns hosted here, shown back to the
-- citizens ("how your data was used"). Public by nature: noisy totals with
-- their intervals, suppressed cells without a number.
CREATE TABLE campaign_results (
    task_id TEXT PRIMARY KEY,
    campaign_id TEXT NOT NULL REFERENCES campaigns(id),
    wave_id TEXT NOT NULL,
    measurement_id TEXT NOT NULL,
    result_json TEXT NOT NULL,
    published_at_ms INTEGER NOT NULL
);
