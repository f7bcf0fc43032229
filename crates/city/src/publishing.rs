//! The city's outgoing operations, at the edge of its trust boundary:
//! publishing a designed campaign (provisioning its tasks on both
//! aggregators, signing it, handing it to the citizen hubs) and collecting
//! what the aggregators release (decrypting the two aggregate shares,
//! applying the release rule, showing the results back to the hubs).
//!
//! Everything sent out is public or meant for one party: task parameters
//! and each aggregator's own secrets, the signed campaign, released
//! results signed by the city. Nothing comes back that is not an
//! aggregate.

use crate::designer::{self, DesignError, Draft, Parties};
use crate::store::{CityError, CityStore, Release};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sillage_campaign::{AggregatorInfo, CampaignSpec, CitySigningKey, Controller};
use sillage_dap::bytes::Bytes;
use sillage_dap::hpke::{HpkeConfig, HpkeKeypair};
use sillage_dap::task::{Provisioning, TaskParams, TaskSecrets};
use std::collections::BTreeMap;
use std::time::Duration;

/// One aggregator as the city reaches it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AggregatorEndpoint {
    /// Who runs it, as citizens read it.
    pub operator: String,
    /// Its base URL.
    pub url: String,
}

/// Who the portal works with: stored in the city's database (the admin
/// tokens of the aggregators are stored apart, as secrets).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CityConfig {
    /// The city as data controller.
    pub controller: Controller,
    /// The first aggregator.
    pub leader: AggregatorEndpoint,
    /// The second aggregator.
    pub helper: AggregatorEndpoint,
    /// Base URLs of the citizen hubs campaigns are published to; the first
    /// issues the campaign's anonymous tokens.
    pub hubs: Vec<String>,
}

/// Why publishing or collecting failed; the message names the party.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The portal is not set up to publish (no configuration or token).
    #[error("the portal is not set up to publish: {0}")]
    NotConfigured(String),
    /// The form does not make a campaign.
    #[error("{0}")]
    Design(#[from] DesignError),
    /// Another party refused or could not be reached.
    #[error("{0}")]
    Party(String),
    /// A campaign of this id exists already.
    #[error("a campaign {0:?} already exists: choose another id")]
    Exists(String),
    /// The city's database failed.
    #[error(transparent)]
    Store(#[from] CityError),
}

const CONFIG: &str = "config";
const SIGNING_KEY: &str = "signing_key";
const COLLECTOR_KEY: &str = "collector_hpke";
const COLLECTOR_TOKENS: &str = "collector_tokens";
const TASK_SEED: &str = "task_seed";

/// The secret name of an aggregator's admin token.
pub fn admin_token_secret(role: &str) -> String {
    format!("{role}_admin_token")
}

impl CityStore {
    /// The portal's configuration, if set.
    pub async fn config(&self) -> Result<Option<CityConfig>, CityError> {
        self.secret(CONFIG)
            .await?
            .map(|json| {
                serde_json::from_str(&json).map_err(|e| CityError::Corrupt(format!("config: {e}")))
            })
            .transpose()
    }

    /// Sets the portal's configuration.
    pub async fn set_config(&self, config: &CityConfig) -> Result<(), CityError> {
        let json = serde_json::to_string(config).map_err(|e| CityError::Corrupt(e.to_string()))?;
        self.set_secret(CONFIG, &json).await
    }

    /// The city's campaign-signing key, created on first use (hubs must be
    /// told its public half: `sillage city key`).
    pub async fn signing_key(&self) -> Result<CitySigningKey, CityError> {
        if let Some(hex) = self.secret(SIGNING_KEY).await? {
            let bytes: Vec<u8> = (0..hex.len())
                .step_by(2)
                .filter_map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
                .collect();
            let secret: [u8; 32] = bytes
                .try_into()
                .map_err(|_| CityError::Corrupt("signing_key: expected 32 bytes in hex".into()))?;
            return Ok(CitySigningKey::from_bytes(&secret));
        }
        let key = CitySigningKey::generate();
        self.set_secret(SIGNING_KEY, &sillage_dap::bytes::hex(&key.to_bytes()))
            .await?;
        Ok(key)
    }

    /// The secret the city derives its tasks' secrets from, created on
    /// first use.
    pub async fn task_seed(&self) -> Result<[u8; 32], CityError> {
        if let Some(text) = self.secret(TASK_SEED).await? {
            return Bytes::from_text(&text)
                .and_then(|b| <[u8; 32]>::try_from(b.0.as_slice()).ok())
                .ok_or_else(|| CityError::Corrupt("task_seed: expected 32 bytes".into()));
        }
        let seed: [u8; 32] = rand::random();
        self.set_secret(TASK_SEED, &Bytes(seed.to_vec()).to_text())
            .await?;
        Ok(seed)
    }

    /// The city's collector key pair (aggregate shares are sealed to it),
    /// created on first use.
    pub async fn collector_keypair(&self) -> Result<HpkeKeypair, CityError> {
        if let Some(json) = self.secret(COLLECTOR_KEY).await? {
            return serde_json::from_str(&json)
                .map_err(|e| CityError::Corrupt(format!("collector_hpke: {e}")));
        }
        let keypair = HpkeKeypair::generate(1);
        let json =
            serde_json::to_string(&keypair).map_err(|e| CityError::Corrupt(e.to_string()))?;
        self.set_secret(COLLECTOR_KEY, &json).await?;
        Ok(keypair)
    }

    /// The city's bearer tokens for the leader, by task id.
    pub async fn collector_tokens(&self) -> Result<BTreeMap<String, String>, CityError> {
        Ok(self
            .secret(COLLECTOR_TOKENS)
            .await?
            .map(|json| serde_json::from_str(&json))
            .transpose()
            .map_err(|e| CityError::Corrupt(format!("collector_tokens: {e}")))?
            .unwrap_or_default())
    }

    /// Adds bearer tokens for new tasks.
    pub async fn add_collector_tokens(
        &self,
        tokens: &BTreeMap<String, String>,
    ) -> Result<(), CityError> {
        let mut all = self.collector_tokens().await?;
        all.extend(tokens.iter().map(|(k, v)| (k.clone(), v.clone())));
        let json = serde_json::to_string(&all).map_err(|e| CityError::Corrupt(e.to_string()))?;
        self.set_secret(COLLECTOR_TOKENS, &json).await
    }
}

/// One of a task's secrets, derived from the city's task seed: the same
/// task gets the same secrets on every attempt, so that a publication
/// interrupted half-way can be retried (an aggregator accepts the very
/// same task again, and refuses the same id with other secrets).
fn derived(seed: &[u8; 32], task: &str, what: &str) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(b"sillage-task-secret-v1\0");
    hash.update(seed);
    hash.update(what.as_bytes());
    hash.update([0]);
    hash.update(task.as_bytes());
    hash.finalize().into()
}

fn task_secrets(seed: &[u8; 32], task: &str) -> TaskSecrets {
    let token = |what| Bytes(derived(seed, task, what).to_vec()).to_text();
    TaskSecrets {
        verify_key: Bytes(derived(seed, task, "verify-key").to_vec()),
        aggregator_token: token("aggregator-token"),
        collector_token: Some(token("collector-token")),
    }
}

/// A campaign's tasks as each aggregator is given them, with secrets
/// derived from the city's task seed: the leader's carry the city's
/// collector token, the helper's do not. Returns (leader's, helper's, the
/// city's tokens by task id).
pub fn provisionings(
    spec: &CampaignSpec,
    seed: &[u8; 32],
) -> (
    Vec<Provisioning>,
    Vec<Provisioning>,
    BTreeMap<String, String>,
) {
    let mut tokens = BTreeMap::new();
    let (mut leader, mut helper) = (Vec::new(), Vec::new());
    for task in spec.tasks() {
        let secrets = task_secrets(seed, &task.task_id.to_string());
        tokens.insert(
            task.task_id.to_string(),
            secrets.collector_token.clone().unwrap_or_default(),
        );
        helper.push(Provisioning {
            params: task.clone(),
            secrets: TaskSecrets {
                collector_token: None,
                ..secrets.clone()
            },
        });
        leader.push(Provisioning {
            params: task,
            secrets,
        });
    }
    (leader, helper, tokens)
}

fn party(who: &str) -> impl Fn(String) -> PublishError + '_ {
    move |e| PublishError::Party(format!("{who}: {e}"))
}

async fn get_json<T: serde::de::DeserializeOwned>(
    client: &reqwest::Client,
    url: &str,
    who: &str,
) -> Result<T, PublishError> {
    client
        .get(url)
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| party(who)(e.to_string()))?
        .json()
        .await
        .map_err(|e| party(who)(format!("unexpected answer: {e}")))
}

async fn hpke_config(
    client: &reqwest::Client,
    endpoint: &AggregatorEndpoint,
) -> Result<HpkeConfig, PublishError> {
    let url = format!("{}/hpke_config", endpoint.url.trim_end_matches('/'));
    get_json(client, &url, &endpoint.operator).await
}

/// The HTTP client the portal talks to the other parties with: a party
/// that hangs fails the action instead of holding it forever.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap_or_default()
}

/// The current time, epoch s.
pub fn now_s() -> u64 {
    (sillage_model::Timestamp::now().0 / 1000) as u64
}

/// Publishes a designed campaign: fetches the aggregators' keys and the
/// hub's token issuer, provisions every task on both aggregators, signs,
/// records it, and hands it to every hub.
pub async fn publish(
    store: &CityStore,
    client: &reqwest::Client,
    draft: &Draft,
) -> Result<CampaignSpec, PublishError> {
    if store.campaign(&draft.id).await?.is_some() {
        return Err(PublishError::Exists(draft.id.clone()));
    }
    let config = store
        .config()
        .await?
        .ok_or_else(|| PublishError::NotConfigured("no aggregators or hubs configured".into()))?;
    let hub = config
        .hubs
        .first()
        .ok_or_else(|| PublishError::NotConfigured("no citizen hub configured".into()))?;
    #[derive(Deserialize)]
    struct Issuer {
        public_key: Bytes,
    }
    let issuer: Issuer = get_json(
        client,
        &format!("{}/api/token-issuer", hub.trim_end_matches('/')),
        hub,
    )
    .await?;
    let info = |endpoint: &AggregatorEndpoint, hpke| AggregatorInfo {
        operator: endpoint.operator.clone(),
        url: endpoint.url.clone(),
        hpke,
    };
    let parties = Parties {
        controller: config.controller.clone(),
        leader: info(&config.leader, hpke_config(client, &config.leader).await?),
        helper: info(&config.helper, hpke_config(client, &config.helper).await?),
        collector_hpke: store.collector_keypair().await?.config,
        token_issuer_key: issuer.public_key,
    };
    let spec = designer::campaign(draft, parties)?;
    let (leader_tasks, helper_tasks, tokens) = provisionings(&spec, &store.task_seed().await?);
    for (role, endpoint, tasks) in [
        ("leader", &config.leader, &leader_tasks),
        ("helper", &config.helper, &helper_tasks),
    ] {
        let admin = store
            .secret(&admin_token_secret(role))
            .await?
            .ok_or_else(|| PublishError::NotConfigured(format!("no admin token for the {role}")))?;
        for task in tasks {
            sillage_collector::provision(client, &endpoint.url, &admin, task)
                .await
                .map_err(|e| match e {
                    sillage_collector::ProvisionError::Refused { status: 409, .. } => {
                        PublishError::Party(format!(
                            "{}: an earlier attempt gave this campaign id other parameters: publish it unchanged, or choose another id",
                            endpoint.operator
                        ))
                    }
                    e => party(&endpoint.operator)(e.to_string()),
                })?;
        }
    }
    store.add_collector_tokens(&tokens).await?;
    // The designer validated the specification; signing only fails on a
    // specification that does not serialise.
    let signed = store
        .signing_key()
        .await?
        .sign(&spec)
        .map_err(|e| CityError::Corrupt(format!("signing {}: {e}", spec.id)))?;
    store.save_campaign(&spec, &signed, now_s() as i64).await?;
    push_campaign(store, client, &spec.id).await.map_err(|e| {
        PublishError::Party(format!(
            "the campaign is signed and recorded, but {e}: hand it to the hubs again from its page"
        ))
    })?;
    Ok(spec)
}

/// Hands the signed campaign `id` to every hub (again, if need be: hubs
/// replace a campaign by its new version).
pub async fn push_campaign(
    store: &CityStore,
    client: &reqwest::Client,
    id: &str,
) -> Result<(), PublishError> {
    let (_, signed) = store
        .campaign(id)
        .await?
        .ok_or_else(|| PublishError::Party(format!("no campaign {id:?}")))?;
    let body = serde_json::to_string(&signed).map_err(|e| CityError::Corrupt(e.to_string()))?;
    for hub in hub_urls(store).await? {
        post(
            client,
            &format!("{hub}/api/city/campaigns"),
            body.clone(),
            None,
            &hub,
        )
        .await?;
    }
    Ok(())
}

async fn hub_urls(store: &CityStore) -> Result<Vec<String>, PublishError> {
    Ok(store
        .config()
        .await?
        .map(|c| c.hubs)
        .unwrap_or_default()
        .into_iter()
        .map(|hub| hub.trim_end_matches('/').to_owned())
        .collect())
}

async fn post(
    client: &reqwest::Client,
    url: &str,
    body: String,
    signature: Option<String>,
    who: &str,
) -> Result<(), PublishError> {
    let mut request = client
        .post(url)
        .timeout(Duration::from_secs(30))
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body);
    if let Some(signature) = signature {
        request = request.header("sillage-signature", signature);
    }
    let response = request
        .send()
        .await
        .map_err(|e| party(who)(e.to_string()))?;
    if !response.status().is_success() {
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        return Err(party(who)(format!("{status}: {}", text.trim())));
    }
    Ok(())
}

/// Shows the campaign's released results to every hub's citizens, signed
/// by the city.
pub async fn push_results(
    store: &CityStore,
    client: &reqwest::Client,
    id: &str,
) -> Result<usize, PublishError> {
    let releases = store.releases(id).await?;
    let body = serde_json::to_string(&releases).map_err(|e| CityError::Corrupt(e.to_string()))?;
    let signature = store
        .signing_key()
        .await?
        .sign_document(body.as_bytes())
        .to_text();
    for hub in hub_urls(store).await? {
        post(
            client,
            &format!("{hub}/api/city/results"),
            body.clone(),
            Some(signature.clone()),
            &hub,
        )
        .await?;
    }
    Ok(releases.len())
}

/// One task collected.
#[derive(Clone, Debug)]
pub struct Collected {
    /// What the city keeps and publishes.
    pub release: Release,
    /// The noisy totals before suppression (for the collector's own
    /// checks; never published as such).
    pub noisy_totals: Vec<i64>,
}

/// Collects a task, waiting up to `patience` while the leader still
/// aggregates.
pub async fn collect_when_ready(
    client: &reqwest::Client,
    task: &TaskParams,
    token: &str,
    patience: Duration,
) -> Result<sillage_dap::messages::Collection, PublishError> {
    let deadline = std::time::Instant::now() + patience;
    loop {
        match sillage_collector::fetch_collection(client, task, token).await {
            Ok(collection) => return Ok(collection),
            Err(sillage_collector::CollectError::Refused { status, detail })
                if (status == 409 || status == 425 || status == 503)
                    && std::time::Instant::now() < deadline =>
            {
                let _ = detail;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => return Err(PublishError::Party(format!("leader: {e}"))),
        }
    }
}

/// Collects every task of campaign `id` whose wave has closed and that
/// was not collected yet: decrypts both aggregate shares, applies the
/// release rule and records the release.
pub async fn collect(
    store: &CityStore,
    client: &reqwest::Client,
    id: &str,
    patience: Duration,
) -> Result<Vec<Collected>, PublishError> {
    let (spec, _) = store
        .campaign(id)
        .await?
        .ok_or_else(|| PublishError::Party(format!("no campaign {id:?}")))?;
    let done: Vec<String> = store
        .releases(id)
        .await?
        .into_iter()
        .map(|r| r.task_id)
        .collect();
    let tokens = store.collector_tokens().await?;
    let keys = store.collector_keypair().await?;
    let tasks = spec.tasks();
    let now = now_s();
    let mut collected = Vec::new();
    for wave in spec.waves.iter().filter(|w| w.reports_until < now) {
        for measurement in &spec.measurements {
            let task_id = spec.task_id(wave, measurement).to_string();
            if done.contains(&task_id) {
                continue;
            }
            let (Some(task), Some(token)) = (
                tasks.iter().find(|t| t.task_id.to_string() == task_id),
                tokens.get(&task_id),
            ) else {
                return Err(PublishError::NotConfigured(format!(
                    "no collector token for {}/{}",
                    wave.id, measurement.id
                )));
            };
            let collection = collect_when_ready(client, task, token, patience).await?;
            let totals = sillage_collector::unshard(task, &keys, &collection)
                .map_err(|e| PublishError::Party(format!("leader: {e}")))?;
            let release = Release {
                task_id,
                campaign_id: spec.id.clone(),
                wave_id: wave.id.clone(),
                measurement_id: measurement.id.clone(),
                result: sillage_collector::publish(
                    task,
                    collection.report_count,
                    &totals,
                    spec.suppression_threshold,
                ),
                collected_at: now as i64,
            };
            store.save_release(&release).await?;
            collected.push(Collected {
                release,
                noisy_totals: totals,
            });
        }
    }
    Ok(collected)
}
