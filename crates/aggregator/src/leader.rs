//! The leader: uploads, aggregation jobs, collection.

use crate::storage::{self, BatchRow, Json};
use crate::{Aggregator, AggregatorError, Task, now_s};
use prio::codec::{Encode, ParameterizedDecode};
use prio::vdaf::prio3::{Prio3InputShare, Prio3PublicShare, Prio3VerifyState};
use prio::vdaf::{Aggregatable, Aggregator as _, VerifyTransition};
use serde::{Deserialize, Serialize};
use sillage_dap::bytes::Bytes;
use sillage_dap::messages::{
    AggregateShareReq, AggregateShareResp, AggregationJobInit, AggregationJobResp, Collection,
    JobId, Report, ReportId, ReportInit, ReportRejection, ReportResult, aggregate_share_aad,
    aggregate_share_info, checksum_add, open_input_share,
};
use sillage_dap::task::{Role, TaskId};
use sillage_dap::token::verify_token;
use sillage_dap::vdaf::{Field, Vdaf};
use sqlx::Row;
use std::collections::BTreeMap;
use std::sync::Arc;

/// What [`Aggregator::drive`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriveSummary {
    /// Jobs run to completion.
    pub jobs: u64,
    /// Reports aggregated.
    pub aggregated: u64,
    /// Reports rejected during verification.
    pub rejected: u64,
}

/// Participation in a task, in counts only (for the city's monitor).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskStatus {
    /// Reports accepted at upload and waiting for aggregation.
    pub pending: u64,
    /// Valid reports in the batch.
    pub aggregated: u64,
    /// Reports rejected during verification, by reason.
    pub rejected: BTreeMap<String, u64>,
    /// Uploads refused outright, by reason.
    pub refused_uploads: BTreeMap<String, u64>,
    /// The task's minimum batch size.
    pub min_batch_size: u64,
    /// Whether the batch was collected.
    pub collected: bool,
}

/// The leader's verification state for one report of a job.
struct Started {
    id: ReportId,
    state: Prio3VerifyState<Field, 32>,
}

type PublicShare = Prio3PublicShare<32>;

pub(crate) fn decode_public_share(
    task: &Task,
    bytes: &[u8],
) -> Result<PublicShare, ReportRejection> {
    PublicShare::get_decoded_with_param(&task.vdaf, bytes)
        .map_err(|_| ReportRejection::UndecryptableShare)
}

pub(crate) fn decode_input_share(
    task: &Task,
    role: Role,
    bytes: &[u8],
) -> Result<Prio3InputShare<Field, 32>, ReportRejection> {
    Prio3InputShare::get_decoded_with_param(&(&task.vdaf, role.index()), bytes)
        .map_err(|_| ReportRejection::UndecryptableShare)
}

/// Opens an aggregator's input share of a report and starts verifying its
/// proof: the verification state and this aggregator's verifier share.
pub(crate) fn start_verification(
    task: &Task,
    keys: &sillage_dap::hpke::HpkeKeypair,
    role: Role,
    metadata: &sillage_dap::messages::ReportMetadata,
    public_share: &[u8],
    sealed: &sillage_dap::hpke::HpkeCiphertext,
) -> Result<
    (
        Prio3VerifyState<Field, 32>,
        <Vdaf as prio::vdaf::Aggregator<32, 16>>::VerifierShare,
    ),
    ReportRejection,
> {
    let plain = open_input_share(
        keys,
        role,
        &task.params.task_id,
        metadata,
        public_share,
        sealed,
    )
    .map_err(|_| ReportRejection::UndecryptableShare)?;
    let public_share = decode_public_share(task, public_share)?;
    let input_share = decode_input_share(task, role, &plain)?;
    task.vdaf
        .verify_init(
            &task.verify_key,
            &task.ctx,
            role.index(),
            &(),
            &metadata.id.0,
            &public_share,
            &input_share,
        )
        .map_err(|_| ReportRejection::InvalidProof)
}

/// One job's partial sum over its accepted reports (`None` when none was).
pub(crate) fn job_aggregate(
    vdaf: &Vdaf,
    accepted: &[(ReportId, <Vdaf as prio::vdaf::Vdaf>::OutputShare)],
) -> Result<Option<BatchRow>, AggregatorError> {
    if accepted.is_empty() {
        return Ok(None);
    }
    let mut aggregate = vdaf.aggregate_init(&());
    let mut checksum = [0u8; 32];
    for (id, output) in accepted {
        aggregate
            .accumulate(output)
            .map_err(|e| AggregatorError::Internal(e.to_string()))?;
        checksum_add(&mut checksum, id);
    }
    Ok(Some(BatchRow {
        aggregate: aggregate
            .get_encoded()
            .map_err(|e| AggregatorError::Internal(e.to_string()))?,
        report_count: accepted.len() as u64,
        checksum,
    }))
}

/// Seals the (noisy) aggregate share of a batch to the collector.
pub(crate) fn release_share(
    agg: &Aggregator,
    task: &Task,
    batch: &BatchRow,
) -> Result<AggregateShareResp, AggregatorError> {
    let mut share = storage::decode_aggregate(&task.vdaf, &batch.aggregate)?;
    if let Some(epsilon) = task.params.epsilon {
        sillage_dap::vdaf::add_noise(&task.vdaf, epsilon, &mut share, batch.report_count as usize)
            .map_err(|e| AggregatorError::Internal(e.to_string()))?;
    }
    let encoded = share
        .get_encoded()
        .map_err(|e| AggregatorError::Internal(e.to_string()))?;
    let role = agg.options.role;
    let encrypted = task
        .params
        .collector_hpke
        .seal(
            &encoded,
            &aggregate_share_info(role),
            &aggregate_share_aad(&task.params.task_id, batch.report_count, &batch.checksum),
        )
        .map_err(|e| AggregatorError::Internal(e.to_string()))?;
    Ok(AggregateShareResp { encrypted })
}

fn parse_id<const N: usize>(text: &str) -> Result<sillage_dap::bytes::Id<N>, AggregatorError> {
    sillage_dap::bytes::Id::from_text(text)
        .ok_or_else(|| AggregatorError::Internal(format!("stored id {text:?}")))
}

impl Aggregator {
    fn leader_only(&self) -> Result<(), AggregatorError> {
        match self.options.role {
            Role::Leader => Ok(()),
            Role::Helper => Err(AggregatorError::BadRequest(
                "this aggregator is the helper".into(),
            )),
        }
    }

    /// Receives a citizen's report. Refusals are counted per reason.
    pub async fn upload(&self, task_id: &TaskId, report: Report) -> Result<(), AggregatorError> {
        self.leader_only()?;
        let task = self.task(task_id)?;
        let refusal = self.check_upload(&task, &report).await?;
        let refusal = match refusal {
            Some(reason) => Some(reason),
            None => self.store_upload(task_id, &report).await?,
        };
        match refusal {
            None => Ok(()),
            Some(reason) => {
                self.storage.count_rejection(task_id, reason).await?;
                Err(AggregatorError::ReportRejected(reason))
            }
        }
    }

    async fn check_upload(
        &self,
        task: &Task,
        report: &Report,
    ) -> Result<Option<&'static str>, AggregatorError> {
        if !task.params.wave.contains(report.metadata.time) {
            return Ok(Some(ReportRejection::OutsideWave.as_str()));
        }
        if self.storage.release(&task.params.task_id).await?.is_some() {
            return Ok(Some(ReportRejection::BatchCollected.as_str()));
        }
        if verify_token(
            &task.params.token_issuer_key,
            &task.params.task_id,
            &report.token,
        )
        .is_err()
        {
            return Ok(Some("invalid_token"));
        }
        Ok(None)
    }

    /// Stores the report and spends its token, in one transaction.
    async fn store_upload(
        &self,
        task_id: &TaskId,
        report: &Report,
    ) -> Result<Option<&'static str>, AggregatorError> {
        let mut tx = self.storage.begin().await?;
        let token_id = sillage_dap::bytes::Id(report.token.id()).to_text();
        let spent = sqlx::query("INSERT INTO used_tokens (task_id, token_id) VALUES ($1, $2) ON CONFLICT (task_id, token_id) DO NOTHING")
            .bind(task_id.to_text())
            .bind(token_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if spent == 0 {
            return Ok(Some("token_reused"));
        }
        let inserted = sqlx::query(
            "INSERT INTO reports (task_id, report_id, report_time, state) VALUES ($1, $2, $3, 'pending') \
             ON CONFLICT (task_id, report_id) DO NOTHING",
        )
        .bind(task_id.to_text())
        .bind(report.metadata.id.to_text())
        .bind(report.metadata.time as i64)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            return Ok(Some(ReportRejection::Replayed.as_str()));
        }
        sqlx::query("INSERT INTO report_bodies (task_id, report_id, body) VALUES ($1, $2, $3)")
            .bind(task_id.to_text())
            .bind(report.metadata.id.to_text())
            .bind(report.json()?)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(None)
    }

    /// Aggregates every pending report of the task with the helper: records
    /// jobs over the pending reports, then runs every recorded job (new
    /// ones and any a crash interrupted), a few at a time so that the
    /// leader's and the helper's work overlap.
    pub async fn drive(&self, task_id: &TaskId) -> Result<DriveSummary, AggregatorError> {
        self.drive_jobs(task_id, true).await
    }

    /// [`Aggregator::drive`]; without `flush`, only full jobs are made (the
    /// background driver's way: the rest waits for more reports, or for
    /// the collection, which flushes).
    pub(crate) async fn drive_jobs(
        &self,
        task_id: &TaskId,
        flush: bool,
    ) -> Result<DriveSummary, AggregatorError> {
        use futures_util::stream::{self, StreamExt};
        self.leader_only()?;
        let task = self.task(task_id)?;
        // One drive at a time: concurrent ones would only redo each other's
        // jobs (harmlessly, see `run_job`, but for nothing).
        let _driving = self.driving.lock().await;
        let mut summary = DriveSummary::default();
        loop {
            self.record_jobs(task_id, flush).await?;
            let jobs = self.running_jobs(task_id).await?;
            if jobs.is_empty() {
                return Ok(summary);
            }
            let mut runs = stream::iter(jobs)
                .map(|job_id| {
                    let task = task.clone();
                    async move {
                        let reports = self.job_reports(task_id, &job_id).await?;
                        self.run_job(&task, job_id, reports).await
                    }
                })
                .buffer_unordered(self.options.concurrent_jobs.max(1));
            while let Some(outcome) = runs.next().await {
                let (aggregated, rejected) = outcome?;
                summary.jobs += 1;
                summary.aggregated += aggregated;
                summary.rejected += rejected;
            }
        }
    }

    /// Puts pending reports in recorded jobs (before any runs): every one
    /// with `flush`, else only as many as fill whole jobs.
    async fn record_jobs(&self, task_id: &TaskId, flush: bool) -> Result<(), AggregatorError> {
        loop {
            let mut tx = self.storage.begin().await?;
            let pending: Vec<String> = sqlx::query_scalar(
                "SELECT report_id FROM reports WHERE task_id = $1 AND state = 'pending' ORDER BY report_id LIMIT $2",
            )
            .bind(task_id.to_text())
            .bind(self.options.job_size as i64)
            .fetch_all(&mut *tx)
            .await?;
            if pending.is_empty() || (!flush && pending.len() < self.options.job_size) {
                return Ok(());
            }
            let job_id = JobId::random();
            sqlx::query("INSERT INTO jobs (task_id, job_id, state, request_hash) VALUES ($1, $2, 'running', '')")
                .bind(task_id.to_text())
                .bind(job_id.to_text())
                .execute(&mut *tx)
                .await?;
            for id in &pending {
                sqlx::query("UPDATE reports SET state = 'in_job', job_id = $1 WHERE task_id = $2 AND report_id = $3")
                    .bind(job_id.to_text())
                    .bind(task_id.to_text())
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        }
    }

    async fn running_jobs(&self, task_id: &TaskId) -> Result<Vec<JobId>, AggregatorError> {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT job_id FROM jobs WHERE task_id = $1 AND state = 'running' ORDER BY job_id",
        )
        .bind(task_id.to_text())
        .fetch_all(self.storage.pool())
        .await?;
        ids.iter().map(|id| parse_id(id)).collect()
    }

    /// A job's reports, in the order they are always sent in.
    async fn job_reports(
        &self,
        task_id: &TaskId,
        job_id: &JobId,
    ) -> Result<Vec<Report>, AggregatorError> {
        let bodies: Vec<String> = sqlx::query_scalar(
            "SELECT b.body FROM reports r JOIN report_bodies b ON b.task_id = r.task_id AND b.report_id = r.report_id \
             WHERE r.task_id = $1 AND r.job_id = $2 ORDER BY r.report_id",
        )
        .bind(task_id.to_text())
        .bind(job_id.to_text())
        .fetch_all(self.storage.pool())
        .await?;
        bodies
            .iter()
            .map(|b| serde_json::from_str(b).map_err(|e| AggregatorError::Internal(e.to_string())))
            .collect()
    }

    /// Runs one recorded job to completion. Deterministic in its inputs, so
    /// that a resumed job sends the helper exactly the request it may
    /// already have answered.
    async fn run_job(
        &self,
        task: &Arc<Task>,
        job_id: JobId,
        reports: Vec<Report>,
    ) -> Result<(u64, u64), AggregatorError> {
        let keys = self.keys.clone();
        let started_task = task.clone();
        // Opening shares and starting proofs is CPU work.
        let (started, inits, mut outcomes) =
            tokio::task::spawn_blocking(move || start_reports(&started_task, &keys, reports))
                .await
                .map_err(|e| AggregatorError::Internal(e.to_string()))?;
        let response = if inits.is_empty() {
            AggregationJobResp {
                results: Vec::new(),
            }
        } else {
            self.send_job(
                task,
                AggregationJobInit {
                    job_id,
                    reports: inits,
                },
            )
            .await?
        };
        crate::failpoint::hit("leader-after-helper-response");
        if response.results.len() != started.len() {
            return Err(AggregatorError::Peer(format!(
                "{} results for {} reports",
                response.results.len(),
                started.len()
            )));
        }
        let finish_task = task.clone();
        let (accepted, rejected) =
            tokio::task::spawn_blocking(move || finish_reports(&finish_task, started, response))
                .await
                .map_err(|e| AggregatorError::Internal(e.to_string()))?;
        outcomes.extend(rejected);
        let task_id = &task.params.task_id;
        let mut tx = self.storage.begin().await?;
        // Whoever finishes a job first records it; a second runner of the
        // same job (a concurrent drive, another leader process) adds nothing.
        let finished = sqlx::query("UPDATE jobs SET state = 'done' WHERE task_id = $1 AND job_id = $2 AND state = 'running'")
            .bind(task_id.to_text())
            .bind(job_id.to_text())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if finished == 0 {
            return Ok((0, 0));
        }
        if let Some(partial) = job_aggregate(&task.vdaf, &accepted)? {
            storage::save_job_aggregate(&mut tx, task_id, &job_id, &partial).await?;
        }
        sqlx::query(
            "DELETE FROM report_bodies WHERE task_id = $1 AND report_id IN \
             (SELECT report_id FROM reports WHERE task_id = $1 AND job_id = $2)",
        )
        .bind(task_id.to_text())
        .bind(job_id.to_text())
        .execute(&mut *tx)
        .await?;
        for (id, _) in &accepted {
            set_report_state(&mut tx, task_id, id, "aggregated", None).await?;
        }
        for (id, reason) in &outcomes {
            set_report_state(&mut tx, task_id, id, "rejected", Some(reason.as_str())).await?;
        }
        tx.commit().await?;
        Ok((accepted.len() as u64, outcomes.len() as u64))
    }

    async fn send_job(
        &self,
        task: &Task,
        job: AggregationJobInit,
    ) -> Result<AggregationJobResp, AggregatorError> {
        let url = format!(
            "{}/tasks/{}/aggregation_jobs/{}",
            task.params.helper.url.trim_end_matches('/'),
            task.params.task_id,
            job.job_id
        );
        self.call_helper(task, self.http.put(url).json(&job)).await
    }

    async fn call_helper<T: serde::de::DeserializeOwned>(
        &self,
        task: &Task,
        request: reqwest::RequestBuilder,
    ) -> Result<T, AggregatorError> {
        let response = request
            .bearer_auth(&task.secrets.aggregator_token)
            .send()
            .await
            .map_err(|e| AggregatorError::Peer(e.to_string()))?;
        let status = response.status();
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            return Err(AggregatorError::Peer(format!("{status}: {body}")));
        }
        response
            .json()
            .await
            .map_err(|e| AggregatorError::Peer(e.to_string()))
    }

    /// Releases the batch to the city: once the wave is over, only with at
    /// least the minimum of valid reports, and only once (a repeated request
    /// gets the first answer).
    pub async fn collect(&self, task_id: &TaskId) -> Result<Collection, AggregatorError> {
        self.leader_only()?;
        let task = self.task(task_id)?;
        if now_s() < task.params.wave.end {
            return Err(AggregatorError::NotReady(format!(
                "the wave ends at {} (UTC seconds); nothing is released before",
                task.params.wave.end
            )));
        }
        let release = match self.storage.release(task_id).await? {
            Some(release) => release,
            None => self.close_batch(&task).await?,
        };
        if !release.released.is_empty() {
            return release.decode();
        }
        let batch = self
            .storage
            .batch(task_id, &task.vdaf)
            .await?
            .unwrap_or(BatchRow {
                aggregate: Vec::new(),
                report_count: 0,
                checksum: [0; 32],
            });
        if batch.report_count != release.report_count || batch.checksum != release.checksum {
            return Err(AggregatorError::Internal(
                "the batch changed after it was closed".into(),
            ));
        }
        let helper_url = format!(
            "{}/tasks/{}/aggregate_shares",
            task.params.helper.url.trim_end_matches('/'),
            task_id
        );
        let request = AggregateShareReq {
            report_count: batch.report_count,
            checksum: Bytes(batch.checksum.to_vec()),
        };
        let helper: AggregateShareResp = self
            .call_helper(&task, self.http.post(helper_url).json(&request))
            .await?;
        let leader = release_share(self, &task, &batch)?;
        let collection = Collection {
            report_count: batch.report_count,
            interval: task.params.wave,
            checksum: Bytes(batch.checksum.to_vec()),
            leader_share: leader.encrypted,
            helper_share: helper.encrypted,
        };
        let json = collection.json()?;
        // Whoever stored first wins; a concurrent collect returns that one.
        sqlx::query("UPDATE releases SET released = $1 WHERE task_id = $2 AND released = ''")
            .bind(&json)
            .bind(task_id.to_text())
            .execute(self.storage.pool())
            .await?;
        self.storage.released(task_id).await
    }

    /// Aggregates what is pending, then closes the batch to uploads with a
    /// snapshot of its count and checksum, if it holds enough reports.
    async fn close_batch(&self, task: &Task) -> Result<storage::ReleaseRow, AggregatorError> {
        let task_id = &task.params.task_id;
        loop {
            self.drive(task_id).await?;
            let mut tx = self.storage.begin().await?;
            let open: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM reports WHERE task_id = $1 AND state IN ('pending', 'in_job')",
            )
            .bind(task_id.to_text())
            .fetch_one(&mut *tx)
            .await?;
            if open > 0 {
                continue;
            }
            let batch = storage::batch_in(&mut tx, task_id, &task.vdaf).await?;
            let (count, checksum) = batch.map_or((0, [0u8; 32]), |b| (b.report_count, b.checksum));
            if count < task.params.min_batch_size {
                return Err(AggregatorError::NotReady(format!(
                    "the batch holds {count} valid reports; at least {} are needed before anything is released",
                    task.params.min_batch_size
                )));
            }
            sqlx::query("INSERT INTO releases (task_id, report_count, checksum, released) VALUES ($1, $2, $3, '') ON CONFLICT (task_id) DO NOTHING")
                .bind(task_id.to_text())
                .bind(count as i64)
                .bind(checksum.to_vec())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            return self
                .storage
                .release(task_id)
                .await?
                .ok_or_else(|| AggregatorError::Internal("release vanished".into()));
        }
    }

    /// Counts for the city's participation monitor.
    pub async fn status(&self, task_id: &TaskId) -> Result<TaskStatus, AggregatorError> {
        let task = self.task(task_id)?;
        let mut status = TaskStatus {
            min_batch_size: task.params.min_batch_size,
            collected: self
                .storage
                .release(task_id)
                .await?
                .is_some_and(|r| !r.released.is_empty()),
            ..TaskStatus::default()
        };
        let rows = sqlx::query(
            "SELECT state, COALESCE(rejection, ''), COUNT(*) FROM reports WHERE task_id = $1 GROUP BY state, rejection",
        )
        .bind(task_id.to_text())
        .fetch_all(self.storage.pool())
        .await?;
        for row in rows {
            let (state, reason, n): (String, String, i64) =
                (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
            match state.as_str() {
                "pending" | "in_job" => status.pending += n as u64,
                "aggregated" => status.aggregated += n as u64,
                _ => *status.rejected.entry(reason).or_default() += n as u64,
            }
        }
        let rows = sqlx::query("SELECT reason, count FROM upload_rejections WHERE task_id = $1")
            .bind(task_id.to_text())
            .fetch_all(self.storage.pool())
            .await?;
        for row in rows {
            status
                .refused_uploads
                .insert(row.try_get(0)?, row.try_get::<i64, _>(1)? as u64);
        }
        Ok(status)
    }
}

async fn set_report_state(
    conn: &mut sqlx::AnyConnection,
    task_id: &TaskId,
    id: &ReportId,
    state: &str,
    rejection: Option<&str>,
) -> Result<(), AggregatorError> {
    sqlx::query(
        "UPDATE reports SET state = $1, rejection = $2 WHERE task_id = $3 AND report_id = $4",
    )
    .bind(state)
    .bind(rejection)
    .bind(task_id.to_text())
    .bind(id.to_text())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

type Outcomes = Vec<(ReportId, ReportRejection)>;

/// Opens the leader's shares and starts verification; reports the leader
/// already knows to be bad are rejected here and never sent.
fn start_reports(
    task: &Task,
    keys: &sillage_dap::hpke::HpkeKeypair,
    reports: Vec<Report>,
) -> (Vec<Started>, Vec<ReportInit>, Outcomes) {
    let (mut started, mut inits, mut rejected) = (Vec::new(), Vec::new(), Vec::new());
    for report in reports {
        let id = report.metadata.id;
        let attempt = (|| {
            let (state, share) = start_verification(
                task,
                keys,
                Role::Leader,
                &report.metadata,
                &report.public_share.0,
                &report.leader_share,
            )?;
            let share = share
                .get_encoded()
                .map_err(|_| ReportRejection::InvalidProof)?;
            Ok::<_, ReportRejection>((state, share))
        })();
        match attempt {
            Ok((state, share)) => {
                started.push(Started { id, state });
                inits.push(ReportInit {
                    metadata: report.metadata,
                    public_share: report.public_share,
                    helper_share: report.helper_share,
                    leader_verifier_share: Bytes(share),
                });
            }
            Err(reason) => rejected.push((id, reason)),
        }
    }
    (started, inits, rejected)
}

/// Finishes verification with the helper's messages.
fn finish_reports(
    task: &Task,
    started: Vec<Started>,
    response: AggregationJobResp,
) -> (
    Vec<(ReportId, <Vdaf as prio::vdaf::Vdaf>::OutputShare)>,
    Outcomes,
) {
    let (mut accepted, mut rejected) = (Vec::new(), Vec::new());
    for (report, result) in started.into_iter().zip(response.results) {
        match result {
            ReportResult::Reject { reason } => rejected.push((report.id, reason)),
            ReportResult::Continue { message } => {
                let finished = (|| {
                    let message =
                        ParameterizedDecode::get_decoded_with_param(&report.state, &message.0)
                            .ok()?;
                    match task
                        .vdaf
                        .verify_next(&task.ctx, report.state, message)
                        .ok()?
                    {
                        VerifyTransition::Finish(output) => Some(output),
                        VerifyTransition::Continue(..) => None,
                    }
                })();
                match finished {
                    Some(output) => accepted.push((report.id, output)),
                    None => rejected.push((report.id, ReportRejection::InvalidProof)),
                }
            }
        }
    }
    (accepted, rejected)
}
