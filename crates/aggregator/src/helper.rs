//! The helper: finishes verification for the leader's jobs, keeps its own
//! sum, and releases its noisy share once.

use crate::leader::{job_aggregate, release_share, start_verification};
use crate::storage::{self, Json};
use crate::{Aggregator, AggregatorError, Task, now_s};
use prio::codec::{Encode, ParameterizedDecode};
use prio::vdaf::{Aggregator as _, VerifyTransition};
use sillage_dap::bytes::Id;
use sillage_dap::messages::{
    AggregateShareReq, AggregateShareResp, AggregationJobInit, AggregationJobResp, JobId, ReportId,
    ReportInit, ReportRejection, ReportResult,
};
use sillage_dap::task::{Role, TaskId};
use sillage_dap::vdaf::Vdaf;
use std::collections::HashSet;

type Output = <Vdaf as prio::vdaf::Vdaf>::OutputShare;

impl Aggregator {
    fn helper_only(&self) -> Result<(), AggregatorError> {
        match self.options.role {
            Role::Helper => Ok(()),
            Role::Leader => Err(AggregatorError::BadRequest(
                "this aggregator is the leader".into(),
            )),
        }
    }

    /// Checks the leader's bearer token.
    pub(crate) fn check_leader(
        &self,
        task: &Task,
        token: Option<&str>,
    ) -> Result<(), AggregatorError> {
        if token.is_some_and(|t| constant_time_eq(t, &task.secrets.aggregator_token)) {
            Ok(())
        } else {
            Err(AggregatorError::Unauthorized)
        }
    }

    /// Verifies and aggregates one job of the leader's. A job already done
    /// is answered from the record (the leader may be resuming after a
    /// crash); the same id with other contents is refused.
    pub async fn aggregate_job(
        &self,
        task_id: &TaskId,
        job_id: &JobId,
        job: AggregationJobInit,
    ) -> Result<AggregationJobResp, AggregatorError> {
        self.helper_only()?;
        let task = self.task(task_id)?;
        if &job.job_id != job_id {
            return Err(AggregatorError::BadRequest(
                "job id differs from the URL's".into(),
            ));
        }
        let hash = Id(sha256(job.json()?.as_bytes())).to_text();
        if let Some(answer) = self.recorded_job(task_id, job_id, &hash).await? {
            return Ok(answer);
        }
        let ids: Vec<(ReportId, u64)> = job
            .reports
            .iter()
            .map(|r| (r.metadata.id, r.metadata.time))
            .collect();
        let collected = self.storage.release(task_id).await?.is_some();
        let seen = self.seen_reports(task_id, &job.reports).await?;
        let work_task = task.clone();
        let keys = self.keys.clone();
        let (results, accepted) = tokio::task::spawn_blocking(move || {
            verify_reports(&work_task, &keys, &job.reports, &seen, collected)
        })
        .await
        .map_err(|e| AggregatorError::Internal(e.to_string()))?;
        let response = AggregationJobResp { results };

        let mut tx = self.storage.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO jobs (task_id, job_id, state, request_hash, response) VALUES ($1, $2, 'done', $3, $4) \
             ON CONFLICT (task_id, job_id) DO NOTHING",
        )
        .bind(task_id.to_text())
        .bind(job_id.to_text())
        .bind(&hash)
        .bind(response.json()?)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            // A concurrent retry got there first: answer as it did.
            drop(tx);
            return self
                .recorded_job(task_id, job_id, &hash)
                .await?
                .ok_or_else(|| AggregatorError::Internal("job record vanished".into()));
        }
        for ((id, time), result) in ids.iter().zip(&response.results) {
            let (state, rejection) = match result {
                ReportResult::Continue { .. } => ("aggregated", None),
                ReportResult::Reject { reason } => ("rejected", Some(reason.as_str())),
            };
            // A replayed id keeps its first record.
            sqlx::query(
                "INSERT INTO reports (task_id, report_id, report_time, state, job_id, rejection) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (task_id, report_id) DO NOTHING",
            )
            .bind(task_id.to_text())
            .bind(id.to_text())
            .bind(*time as i64)
            .bind(state)
            .bind(job_id.to_text())
            .bind(rejection)
            .execute(&mut *tx)
            .await?;
        }
        if let Some(partial) = job_aggregate(&task.vdaf, &accepted)? {
            storage::save_job_aggregate(&mut tx, task_id, job_id, &partial).await?;
        }
        tx.commit().await?;
        Ok(response)
    }

    async fn recorded_job(
        &self,
        task_id: &TaskId,
        job_id: &JobId,
        hash: &str,
    ) -> Result<Option<AggregationJobResp>, AggregatorError> {
        let row: Option<(String, Option<String>)> = sqlx::query_as(
            "SELECT request_hash, response FROM jobs WHERE task_id = $1 AND job_id = $2",
        )
        .bind(task_id.to_text())
        .bind(job_id.to_text())
        .fetch_optional(self.storage.pool())
        .await?;
        match row {
            None => Ok(None),
            Some((stored, _)) if stored != hash => Err(AggregatorError::Conflict(format!(
                "job {job_id} was already run with other reports"
            ))),
            Some((_, response)) => serde_json::from_str(&response.unwrap_or_default())
                .map(Some)
                .map_err(|e| AggregatorError::Internal(e.to_string())),
        }
    }

    async fn seen_reports(
        &self,
        task_id: &TaskId,
        reports: &[ReportInit],
    ) -> Result<HashSet<ReportId>, AggregatorError> {
        let mut seen = HashSet::new();
        let mut conn = self.storage.pool().acquire().await?;
        for report in reports {
            let found: Option<i64> =
                sqlx::query_scalar("SELECT 1 FROM reports WHERE task_id = $1 AND report_id = $2")
                    .bind(task_id.to_text())
                    .bind(report.metadata.id.to_text())
                    .fetch_optional(&mut *conn)
                    .await?;
            if found.is_some() {
                seen.insert(report.metadata.id);
            }
        }
        Ok(seen)
    }

    /// Releases the helper's noisy share of the batch, once, if the leader
    /// names the same reports the helper summed and they are enough.
    pub async fn aggregate_share(
        &self,
        task_id: &TaskId,
        request: AggregateShareReq,
    ) -> Result<AggregateShareResp, AggregatorError> {
        self.helper_only()?;
        let task = self.task(task_id)?;
        if now_s() < task.params.wave.end {
            return Err(AggregatorError::NotReady("the wave is not over".into()));
        }
        if let Some(release) = self.storage.release(task_id).await? {
            if release.report_count != request.report_count
                || release.checksum.as_slice() != request.checksum.0
            {
                return Err(AggregatorError::Conflict(
                    "the batch was already released for other reports".into(),
                ));
            }
            return release.decode();
        }
        let batch = self
            .storage
            .batch(task_id, &task.vdaf)
            .await?
            .ok_or_else(|| AggregatorError::NotReady("no report was aggregated".into()))?;
        if batch.report_count != request.report_count
            || batch.checksum.as_slice() != request.checksum.0
        {
            return Err(AggregatorError::Conflict(format!(
                "the leader counts {} reports, the helper {} (or their ids differ)",
                request.report_count, batch.report_count
            )));
        }
        if batch.report_count < task.params.min_batch_size {
            return Err(AggregatorError::NotReady(format!(
                "the batch holds {} valid reports; at least {} are needed",
                batch.report_count, task.params.min_batch_size
            )));
        }
        let share = release_share(self, &task, &batch)?;
        sqlx::query("INSERT INTO releases (task_id, report_count, checksum, released) VALUES ($1, $2, $3, $4) ON CONFLICT (task_id) DO NOTHING")
            .bind(task_id.to_text())
            .bind(batch.report_count as i64)
            .bind(batch.checksum.to_vec())
            .bind(share.json()?)
            .execute(self.storage.pool())
            .await?;
        self.storage.released(task_id).await
    }
}

/// Verifies each report of a job with the leader's verifier share.
fn verify_reports(
    task: &Task,
    keys: &sillage_dap::hpke::HpkeKeypair,
    reports: &[ReportInit],
    seen: &HashSet<ReportId>,
    collected: bool,
) -> (Vec<ReportResult>, Vec<(ReportId, Output)>) {
    let mut in_job = HashSet::new();
    let mut results = Vec::with_capacity(reports.len());
    let mut accepted = Vec::new();
    for report in reports {
        let id = report.metadata.id;
        let verdict = (|| {
            if collected {
                return Err(ReportRejection::BatchCollected);
            }
            if !task.params.wave.contains(report.metadata.time) {
                return Err(ReportRejection::OutsideWave);
            }
            if seen.contains(&id) || !in_job.insert(id) {
                return Err(ReportRejection::Replayed);
            }
            let (state, helper_share) = start_verification(
                task,
                keys,
                Role::Helper,
                &report.metadata,
                &report.public_share.0,
                &report.helper_share,
            )?;
            let leader_share = ParameterizedDecode::get_decoded_with_param(
                &state,
                &report.leader_verifier_share.0,
            )
            .map_err(|_| ReportRejection::InvalidProof)?;
            let message = task
                .vdaf
                .verifier_shares_to_message(&task.ctx, &(), [leader_share, helper_share])
                .map_err(|_| ReportRejection::InvalidProof)?;
            let encoded = message
                .get_encoded()
                .map_err(|_| ReportRejection::InvalidProof)?;
            match task.vdaf.verify_next(&task.ctx, state, message) {
                Ok(VerifyTransition::Finish(output)) => Ok((encoded, output)),
                _ => Err(ReportRejection::InvalidProof),
            }
        })();
        match verdict {
            Ok((message, output)) => {
                accepted.push((id, output));
                results.push(ReportResult::Continue {
                    message: sillage_dap::bytes::Bytes(message),
                });
            }
            Err(reason) => results.push(ReportResult::Reject { reason }),
        }
    }
    (results, accepted)
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).into()
}

/// Compares secrets in time independent of where they differ.
pub(crate) fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}
