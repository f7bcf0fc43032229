//! The one-command demonstration, and the end-to-end check of the whole
//! system at any scale.
//!
//! `run` plays the platform's story on a real territory with synthetic
//! citizens whose truth is known:
//! 1. load the territory (an OpenStreetMap extract) into its networks;
//! 2. make N citizens with four weeks of phone traces in real formats, and
//!    their ground truth (a labelled dataset `sillage eval` reads);
//! 3. create their accounts on a citizen hub and import each trace
//!    through the normal import path into their encrypted store, then
//!    analyse it into trips;
//! 4. start the two aggregators as separate processes, sign and publish
//!    the city's campaign, let about 70 % of citizens consent and send
//!    their contribution (secret shares, anonymous tokens) from their hub;
//! 5. collect as the city once the wave is over, keep the released
//!    results in the city's database;
//! 6. measure: how often the published 95 % intervals hold the exact sums
//!    (noise) and the truth (whole chain), and the analysis' scores;
//! 7. optionally serve the citizen app and the city portal.
//!
//! Trust boundaries stay as in production: the city side only ever holds
//! what the collector received. The exact sums used to measure coverage
//! are computed here, in the demonstration's harness, from the citizens'
//! own copies of what they sent; they are reported, never stored by the
//! city.

mod aggregators;
mod campaign;
mod coverage;

pub use aggregators::free_port;
pub use coverage::MeasurementFigures;

use aggregators::AggregatorService;
use anyhow::{Context, Result, bail};
use rand::SeedableRng;
use serde::Serialize;
use sillage_campaign::AggregatorInfo;
use sillage_city::publishing::{self, AggregatorEndpoint, CityConfig};
use sillage_city::staff::Role;
use sillage_city::{CityStore, Release};
use sillage_hub::{AppState, Hub, HubConfig};
use sillage_model::{ValidationRules, civil_from_days, paris_offset_min};
use sillage_synth::{Citizen, Population, PopulationConfig, write_citizen_trace, write_truth};
use sillage_territory::Territory;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The password of every demonstration account (printed with the logins).
pub const DEMO_PASSWORD: &str = "sillage-demo-2026";

/// The city planner's portal login (editor: designs, publishes, collects).
pub const PLANNER: &str = "urbaniste";

/// A colleague's portal login (viewer: reads campaigns and results).
pub const OBSERVER: &str = "observateur";

/// How the demonstration runs.
#[derive(Clone, Debug)]
pub struct DemoOptions {
    /// Synthetic citizens.
    pub citizens: usize,
    /// The seed of the population.
    pub seed: u64,
    /// The OpenStreetMap extract.
    pub pbf: PathBuf,
    /// Where everything is written.
    pub data_dir: PathBuf,
    /// The citizen hub's address; the city portal listens on the next port.
    pub listen: SocketAddr,
    /// Share of citizens who consent.
    pub consent_rate: f64,
    /// The campaign's minimum number of contributors (k).
    pub min_contributors: u64,
    /// Days simulated (ending yesterday).
    pub days: u32,
    /// The `sillage` executable, to run the aggregators as processes.
    pub sillage_exe: PathBuf,
    /// Citizens scored by the evaluation (all when `None`).
    pub eval_citizens: Option<usize>,
}

/// What the demonstration did and measured (`--json`).
#[derive(Clone, Debug, Serialize)]
pub struct DemoReport {
    /// Synthetic citizens.
    pub citizens: usize,
    /// Citizens who consented.
    pub consented: usize,
    /// Reports the leader accepted (all measurements).
    pub reports_accepted: u64,
    /// Reports refused or rejected (all measurements).
    pub reports_rejected: u64,
    /// Consenting citizens whose contribution came after the wave closed.
    pub contributions_late: usize,
    /// A citizen who consented and one who refused, to log in as.
    pub sample_logins: BTreeMap<String, String>,
    /// Every citizen who declined the campaign: their yearly privacy budget
    /// is untouched, so they can take part in the next one.
    pub declined_logins: Vec<String>,
    /// Fixes written in the synthetic traces.
    pub fixes: usize,
    /// True trips of the population.
    pub true_trips: usize,
    /// Trips the analysis found in the citizens' stores.
    pub detected_trips: usize,
    /// Per measurement.
    pub measurements: BTreeMap<String, MeasurementFigures>,
    /// `sillage eval` on the synthetic population.
    pub eval: serde_json::Value,
    /// Seconds spent per phase.
    pub seconds: BTreeMap<String, f64>,
    /// Where it all is.
    pub data_dir: PathBuf,
}

/// Everything left running after `run`, to serve.
pub struct Running {
    /// The citizen hub, filled.
    pub hub: AppState,
    /// The city's database.
    pub city: CityStore,
    /// The aggregators (stopped when dropped).
    aggregators: Vec<AggregatorService>,
}

impl Running {
    /// Stops the aggregators.
    pub async fn stop(mut self) {
        for aggregator in &mut self.aggregators {
            aggregator.stop().await;
        }
        self.hub.registry.close().await;
        self.city.close().await;
    }
}

fn now_s() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The local date `days` days before today.
fn days_ago(days: u32) -> (i64, u32, u32) {
    let now_ms = now_s() as i64 * 1000;
    let offset = i64::from(paris_offset_min(sillage_model::Timestamp(now_ms))) * 60_000;
    let today = (now_ms + offset).div_euclid(86_400_000);
    civil_from_days(today - i64::from(days))
}

struct Phases {
    start: Instant,
    seconds: BTreeMap<String, f64>,
    log: Box<dyn Fn(&str) + Send + Sync>,
}

impl Phases {
    fn done(&mut self, name: &str, what: &str) {
        let elapsed = self.start.elapsed().as_secs_f64();
        let before: f64 = self.seconds.values().sum();
        self.seconds.insert(name.to_owned(), elapsed - before);
        (self.log)(&format!("[{elapsed:6.1} s] {what}"));
    }
}

/// Runs the demonstration; `log` receives one line per phase.
pub async fn run(
    options: &DemoOptions,
    log: Box<dyn Fn(&str) + Send + Sync>,
) -> Result<(DemoReport, Running)> {
    if options.citizens == 0 {
        bail!("--citizens: at least one");
    }
    if !(0.0..=1.0).contains(&options.consent_rate) {
        bail!("the consent rate must be between 0 and 1");
    }
    let mut phases = Phases {
        start: Instant::now(),
        seconds: BTreeMap::new(),
        log,
    };
    let dir = &options.data_dir;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;

    // 1. The territory.
    let pbf = options.pbf.clone();
    let territory = Arc::new(
        tokio::task::spawn_blocking(move || Territory::from_pbf(&pbf))
            .await?
            .with_context(|| format!("loading {}", options.pbf.display()))?,
    );
    std::fs::write(dir.join("basemap.geojson"), territory.basemap_geojson())?;
    phases.done(
        "territory",
        &format!("territory {} loaded", territory.name()),
    );

    // 2. The population, on both cores.
    let config = PopulationConfig {
        days: options.days,
        ..PopulationConfig::new(options.citizens, options.seed, days_ago(options.days))
    };
    let synthetic = dir.join("synthetic");
    let (citizens, fixes) = {
        let territory = territory.clone();
        let synthetic = synthetic.clone();
        tokio::task::spawn_blocking(move || make_population(&territory, config, &synthetic))
            .await??
    };
    let true_trips: usize = citizens.iter().map(|c| c.trips.len()).sum();
    phases.done(
        "population",
        &format!(
            "{} citizens, {fixes} fixes, {true_trips} true trips written to {}",
            citizens.len(),
            synthetic.display()
        ),
    );

    // 3. The citizen hub: accounts, imports, analysis.
    // The city's database and signing key first: the hub trusts the key
    // for campaigns and results the portal hands it.
    let city = CityStore::open(&dir.join("city")).await?;
    let signing = city.signing_key().await?;
    let mut hub_config = HubConfig::new(&dir.join("hub"), options.listen);
    hub_config.basemap = Some(dir.join("basemap.geojson"));
    hub_config.city_keys = vec![signing.public_key()];
    let hub = Hub::open(hub_config).await?;
    let detected_trips = fill_hub(&hub, &citizens, &synthetic.join("fixes")).await?;
    phases.done(
        "hub",
        &format!("{detected_trips} trips found in the citizens' encrypted stores"),
    );

    // 4. Aggregators, campaign, consent and contributions.
    let exe = &options.sillage_exe;
    let mut leader = AggregatorService::prepare(exe, "leader", &dir.join("leader")).await?;
    let mut helper = AggregatorService::prepare(exe, "helper", &dir.join("helper")).await?;
    let collector = city.collector_keypair().await?;
    let issuer = hub
        .tokens
        .public_key(&hub)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let consenting: Vec<&Citizen> = {
        let mut rng = rand::rngs::StdRng::seed_from_u64(options.seed ^ 0xC0_25E7);
        citizens
            .iter()
            .filter(|_| rand::Rng::random_bool(&mut rng, options.consent_rate))
            .collect()
    };
    // Reports are taken until a little after the expected end of the
    // uploads; the city can collect only after that.
    let upload_window = 10 + consenting.len() as u64 / 15;
    let period = (midnight_days_ago_s(options.days), midnight_days_ago_s(0));
    let spec = campaign::cycle_lane(
        &territory,
        campaign::CampaignInputs {
            period,
            reports_until: now_s() + upload_window,
            min_contributors: options.min_contributors,
            leader: AggregatorInfo {
                operator: "Opérateur public de données (agrégateur principal)".into(),
                url: leader.url.clone(),
                hpke: leader.hpke.clone(),
            },
            helper: AggregatorInfo {
                operator: "Laboratoire universitaire (second agrégateur)".into(),
                url: helper.url.clone(),
                hpke: helper.hpke.clone(),
            },
            collector_hpke: collector.config.clone(),
            token_issuer_key: issuer,
        },
    )?;
    let (leader_tasks, helper_tasks, collector_tokens) =
        publishing::provisionings(&spec, &city.task_seed().await?);
    leader.start(&leader_tasks, &dir.join("leader")).await?;
    helper.start(&helper_tasks, &dir.join("helper")).await?;
    let signed = signing.sign(&spec)?;
    let signed_json = serde_json::to_string(&signed)?;
    sillage_campaign::verify(&signed, &[signing.public_key()], now_s())?;
    hub.registry
        .publish_campaign(&spec.id, &signed_json)
        .await?;
    city.save_campaign(&spec, &signed, now_s() as i64).await?;
    city.add_collector_tokens(&collector_tokens).await?;
    // The portal designs the next campaigns with the same parties: the
    // aggregators (with their operators' admin tokens) and this hub.
    city.set_config(&CityConfig {
        controller: spec.controller.clone(),
        leader: AggregatorEndpoint {
            operator: spec.leader.operator.clone(),
            url: leader.url.clone(),
        },
        helper: AggregatorEndpoint {
            operator: spec.helper.operator.clone(),
            url: helper.url.clone(),
        },
        hubs: vec![format!("http://{}", options.listen)],
    })
    .await?;
    for service in [&leader, &helper] {
        city.set_secret(
            &publishing::admin_token_secret(service.role),
            &service.admin_token,
        )
        .await?;
    }
    for (name, role) in [(PLANNER, Role::Editor), (OBSERVER, Role::Viewer)] {
        city.set_staff(name, DEMO_PASSWORD, role).await?;
    }
    phases.done(
        "campaign",
        &format!(
            "campaign {:?} signed and published; leader {} and helper {} running",
            spec.id, leader.url, helper.url
        ),
    );

    let mut exact: Vec<Vec<i64>> = vec![Vec::new(); spec.measurements.len()];
    for citizen in &citizens {
        let account = hub.registry.account_by_name(&citizen.name).await?;
        let answer = if consenting.iter().any(|c| c.name == citizen.name) {
            "given"
        } else {
            "refused"
        };
        sillage_hub::campaigns::answer_for(&hub, &account, &spec.id, answer, "fr")
            .await
            .map_err(|e| anyhow::anyhow!("{}: consent: {e:?}", citizen.name))?;
    }
    let mut sent_by = 0usize;
    let mut late = 0usize;
    let mut sending = tokio::task::JoinSet::new();
    let mut record =
        |outcome: Result<Vec<(String, sillage_catalogue::Contribution)>, String>| match outcome {
            Ok(sent) => {
                for (measurement_id, contribution) in sent {
                    if let Some(k) = spec
                        .measurements
                        .iter()
                        .position(|m| m.id == measurement_id)
                    {
                        coverage::accumulate(&mut exact[k], &contribution.vector);
                    }
                }
                sent_by += 1;
            }
            Err(_) => late += 1,
        };
    for citizen in &consenting {
        let account = hub.registry.account_by_name(&citizen.name).await?;
        let (hub, id) = (hub.clone(), spec.id.clone());
        sending.spawn(async move {
            sillage_hub::campaigns::send_contributions(&hub, &account, &id, &[])
                .await
                .map_err(|e| format!("{e:?}"))
        });
        // Three citizens at a time keep both cores busy (the hub shards,
        // the aggregators verify).
        while sending.len() >= 3 {
            record(sending.join_next().await.expect("a send")?);
        }
    }
    while let Some(outcome) = sending.join_next().await {
        record(outcome?);
    }
    phases.done(
        "contributions",
        &format!(
            "{} of {} citizens consented; {sent_by} sent their contribution, {late} too late",
            consenting.len(),
            citizens.len()
        ),
    );

    // 5. The city collects once the wave is over.
    let wave = spec.waves[0].clone();
    let wait = wave.reports_until.saturating_sub(now_s());
    phases.done(
        "uploads",
        &format!("waiting {wait} s for the wave to close"),
    );
    tokio::time::sleep(Duration::from_secs(wait + 1)).await;
    let client = reqwest::Client::new();
    let mut reports_rejected = 0;
    for measurement in &spec.measurements {
        let task_id = spec.task_id(&wave, measurement).to_string();
        let status = sillage_city::leader::task_counts(
            &client,
            &leader.url,
            &task_id,
            &collector_tokens[&task_id],
        )
        .await
        .map_err(|e| anyhow::anyhow!("the leader's status of {task_id}: {e}"))?;
        reports_rejected += status.rejected;
    }
    let releases: Vec<(Release, Vec<i64>)> =
        publishing::collect(&city, &client, &spec.id, Duration::from_secs(120))
            .await?
            .into_iter()
            .map(|c| (c.release, c.noisy_totals))
            .collect();
    let reports_accepted: u64 = releases.iter().map(|(r, _)| r.result.contributors).sum();
    // The city shows its results back to the hub's citizens.
    let released: Vec<&Release> = releases.iter().map(|(release, _)| release).collect();
    sillage_hub::campaigns::accept_results(&hub, &serde_json::to_string(&released)?)
        .await
        .map_err(|e| anyhow::anyhow!("publishing the results to the hub: {e:?}"))?;
    phases.done(
        "collect",
        &format!(
            "{} results released to the city and shown back to the citizens",
            releases.len()
        ),
    );

    // 6. Measures.
    let truth = truth_sums(&spec, &consenting);
    let measurements = spec
        .measurements
        .iter()
        .zip(&releases)
        .enumerate()
        .map(|(k, (m, (release, noisy)))| {
            (
                m.id.clone(),
                coverage::figures(&release.result, noisy, &exact[k], &truth[k]),
            )
        })
        .collect();
    let eval = {
        let synthetic = synthetic.clone();
        let limit = options.eval_citizens;
        tokio::task::spawn_blocking(move || evaluate(&synthetic, limit)).await??
    };
    phases.done("measures", "coverage and evaluation measured");

    let report = DemoReport {
        citizens: citizens.len(),
        consented: consenting.len(),
        reports_accepted,
        reports_rejected,
        contributions_late: late,
        sample_logins: sample_logins(&citizens, &consenting),
        declined_logins: citizens
            .iter()
            .filter(|c| !consenting.iter().any(|k| k.name == c.name))
            .map(|c| c.name.clone())
            .collect(),
        fixes,
        true_trips,
        detected_trips,
        measurements,
        eval,
        seconds: phases.seconds.clone(),
        data_dir: dir.clone(),
    };
    std::fs::write(
        dir.join("report.json"),
        serde_json::to_string_pretty(&report)?,
    )?;
    Ok((
        report,
        Running {
            hub,
            city,
            aggregators: vec![leader, helper],
        },
    ))
}

fn sample_logins(citizens: &[Citizen], consenting: &[&Citizen]) -> BTreeMap<String, String> {
    let mut logins = BTreeMap::new();
    if let Some(c) = consenting.first() {
        logins.insert("consented".to_owned(), c.name.clone());
    }
    if let Some(c) = citizens
        .iter()
        .find(|c| !consenting.iter().any(|k| k.name == c.name))
    {
        logins.insert("refused".to_owned(), c.name.clone());
    }
    logins
}

/// Local midnight starting the day `days` days before today, epoch s.
fn midnight_days_ago_s(days: u32) -> u64 {
    let (y, m, d) = days_ago(days);
    (sillage_synth::local_midnight_ms(sillage_model::days_from_civil(y, m, d)) / 1000) as u64
}

/// Makes the citizens on two threads and writes their traces and truth;
/// returns them (their fixes dropped once written) and the fixes' number.
fn make_population(
    territory: &Territory,
    config: PopulationConfig,
    dir: &Path,
) -> Result<(Vec<Citizen>, usize)> {
    let population = Population::new(territory, config)?;
    let n = population.config().citizens;
    let threads = std::thread::available_parallelism()
        .map_or(2, |p| p.get())
        .min(4);
    let fixes_dir = dir.join("fixes");
    let mut citizens: Vec<(Citizen, usize)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let population = &population;
                let fixes_dir = &fixes_dir;
                scope.spawn(move || -> Result<Vec<(Citizen, usize)>> {
                    let mut made = Vec::new();
                    for index in (t..n).step_by(threads) {
                        let mut citizen = population.citizen(index);
                        write_citizen_trace(fixes_dir, &citizen)?;
                        // The file holds them now; only their number is
                        // reported (500 citizens' fixes are gigabytes).
                        let count = citizen.fixes.len();
                        citizen.fixes = Vec::new();
                        made.push((citizen, count));
                    }
                    Ok(made)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("population thread"))
            .collect::<Result<Vec<Vec<(Citizen, usize)>>>>()
    })?
    .into_iter()
    .flatten()
    .collect();
    citizens.sort_by(|a, b| a.0.name.cmp(&b.0.name));
    let fixes = citizens.iter().map(|(_, n)| n).sum();
    let citizens: Vec<Citizen> = citizens.into_iter().map(|(c, _)| c).collect();
    write_truth(dir, &citizens)?;
    Ok((citizens, fixes))
}

/// Creates every account, imports its trace through the normal import
/// path and analyses it; returns the trips found.
async fn fill_hub(hub: &AppState, citizens: &[Citizen], fixes_dir: &Path) -> Result<usize> {
    let classifier = Arc::new(sillage_analysis::model::ModelOrRules::bundled());
    let mut total = 0usize;
    // Two citizens at a time: one per core.
    let mut pending = tokio::task::JoinSet::new();
    for citizen in citizens {
        let account = hub
            .citizens
            .create(&hub.registry, &citizen.name, DEMO_PASSWORD)
            .await
            .with_context(|| format!("account {}", citizen.name))?;
        let store = hub.citizens.store(&account).await?;
        let path = sillage_synth::trace_path(fixes_dir, citizen);
        let classifier = classifier.clone();
        pending.spawn(async move {
            let options = sillage_import::ImportOptions {
                rules: ValidationRules::for_import_now(),
                default_device: None,
            };
            sillage_import::import_paths(
                &store,
                std::slice::from_ref(&path),
                &options,
                Arc::default(),
            )
            .await
            .with_context(|| format!("importing {}", path.display()))?;
            let summary = sillage_diary::refresh(
                &store,
                &sillage_analysis::AnalysisParams::default(),
                classifier.as_ref(),
            )
            .await?;
            anyhow::Ok(summary.trips)
        });
        while pending.len() >= 2 {
            total += pending.join_next().await.expect("a task")??;
        }
    }
    while let Some(done) = pending.join_next().await {
        total += done??;
    }
    Ok(total)
}

/// Per measurement, the sum of what the consenting citizens' true trips of
/// the wave would contribute.
fn truth_sums(spec: &sillage_campaign::CampaignSpec, consenting: &[&Citizen]) -> Vec<Vec<i64>> {
    let wave = &spec.waves[0];
    let (from, to) = (wave.start as i64 * 1000, wave.end as i64 * 1000);
    let mut sums = vec![Vec::new(); spec.measurements.len()];
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    for citizen in consenting {
        let trips: Vec<_> = citizen
            .trips
            .iter()
            .filter(|t| (from..to).contains(&t.start_ms))
            .map(coverage::truth_contributable)
            .collect();
        for (k, m) in spec.measurements.iter().enumerate() {
            coverage::accumulate(
                &mut sums[k],
                &coverage::truth_vector(&m.spec, &trips, &mut rng),
            );
        }
    }
    sums
}

/// `sillage eval` on the synthetic dataset (the first `limit` citizens).
fn evaluate(dir: &Path, limit: Option<usize>) -> Result<serde_json::Value> {
    let mut dataset = sillage_eval::load_dataset(dir)?;
    if let Some(limit) = limit {
        dataset.devices.truncate(limit);
    }
    let report = sillage_eval::evaluate(
        &dataset,
        &sillage_analysis::AnalysisParams::default(),
        &sillage_analysis::model::ModelOrRules::bundled(),
    );
    Ok(serde_json::json!({
        "citizens": report.devices,
        "trip_precision": report.trip_precision,
        "trip_recall": report.trip_recall,
        "trip_f1": report.trip_f1,
        "mode_accuracy": report.mode_accuracy,
        "mode_macro_f1": report.mode_macro_f1,
    }))
}

/// The demonstration's two listening sockets, bound before the scenario
/// runs so that a busy port fails at once, not minutes later.
pub struct Listeners {
    hub: tokio::net::TcpListener,
    portal: tokio::net::TcpListener,
}

/// Binds the citizen hub's address and the next port for the city portal.
pub async fn bind(listen: SocketAddr) -> Result<Listeners> {
    let hub = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let portal_addr = SocketAddr::new(listen.ip(), listen.port().wrapping_add(1));
    let portal = tokio::net::TcpListener::bind(portal_addr)
        .await
        .with_context(|| format!("cannot listen on {portal_addr} (the city portal)"))?;
    Ok(Listeners { hub, portal })
}

/// Serves the citizen hub and the city portal until SIGINT or SIGTERM,
/// then stops the aggregators.
pub async fn serve(running: Running, listeners: Listeners) -> Result<()> {
    let maps = sillage_webmap::MapAssets {
        web_dir: running.hub.config.web_dir.clone(),
        basemap: running.hub.config.basemap.clone(),
        tile_url: None,
    };
    let portal = sillage_city::router(running.city.clone(), maps);
    let portal_task = tokio::spawn(async move {
        axum::serve(listeners.portal, portal)
            .with_graceful_shutdown(sillage_hub::shutdown_signal())
            .await
    });
    sillage_hub::serve_state(listeners.hub, running.hub.clone()).await?;
    let _ = portal_task.await;
    running.stop().await;
    Ok(())
}
