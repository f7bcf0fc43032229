//! What the leader tells the city about a task: counts only, asked with
//! the city's bearer token. The participation monitor shows them; the
//! demonstration reports them.

/// One task's counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TaskCounts {
    /// Reports accepted at upload (pending or aggregated).
    pub received: u64,
    /// Reports refused at upload or rejected during verification.
    pub rejected: u64,
    /// The minimum of valid reports before anything is released.
    pub k: u64,
    /// Whether the batch was collected.
    pub collected: bool,
}

/// Asks the leader at `leader` for task `task`'s counts.
pub async fn task_counts(
    client: &reqwest::Client,
    leader: &str,
    task: &str,
    token: &str,
) -> Result<TaskCounts, String> {
    let status: serde_json::Value = client
        .get(format!(
            "{}/tasks/{task}/status",
            leader.trim_end_matches('/')
        ))
        .bearer_auth(token)
        .timeout(std::time::Duration::from_secs(5))
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    let number = |key: &str| status[key].as_u64().unwrap_or(0);
    // Rejections come as counts by reason.
    let sum = |key: &str| {
        status[key].as_object().map_or(0, |m| {
            m.values()
                .filter_map(serde_json::Value::as_u64)
                .sum::<u64>()
        })
    };
    Ok(TaskCounts {
        received: number("pending") + number("aggregated"),
        rejected: sum("rejected") + sum("refused_uploads"),
        k: number("min_batch_size"),
        collected: status["collected"].as_bool().unwrap_or(false),
    })
}
