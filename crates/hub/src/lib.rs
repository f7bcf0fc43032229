//! The citizen hub: one server hosting many citizens' stores, like a
//! personal cloud a city provides.
//!
//! - **Accounts** ([`registry`]): Argon2id passwords, sessions, devices.
//! - **Stores** ([`citizens`]): one SQLite store per citizen, encrypted at
//!   rest under its own data key, wrapped by the server's master key
//!   ([`keys`]).
//! - **Live ingestion** ([`live`]): OwnTracks, Overland, GPSLogger and
//!   Traccar Client / OsmAnd, each authenticated by a device token.
//! - **Pages** ([`pages`]) and the **JSON API** ([`api`]) over the same
//!   operations ([`views`]), French by default ([`i18n`]).
//! - **The city** ([`city`]): campaigns and released results its portal
//!   pushes, authenticated by the city's signature.
//!
//! Trust boundary: this crate sees citizens' data in the clear while it
//! serves them (it is their store's host); it never sends any of it
//! anywhere: contributions to the city leave only through the consent and
//! secure-aggregation path of `sillage-contribution`.

pub mod api;
pub mod auth;
pub mod campaigns;
pub mod charts;
pub mod citizens;
pub mod city;
pub mod clock;
pub mod error;
pub mod i18n;
pub mod keys;
pub mod live;
pub mod pages;
pub mod pdf;
pub mod qr;
pub mod receipts;
pub mod registry;
pub mod secrets;
pub mod tokens;
pub mod views;

use auth::LoginLimiter;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use citizens::Citizens;
use keys::MasterKey;
use registry::Registry;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use utoipa::OpenApi;

/// How a hub runs.
#[derive(Clone, Debug)]
pub struct HubConfig {
    /// Where the registry and the citizens' stores live.
    pub data_dir: PathBuf,
    /// The master key file (created on first start when missing).
    pub master_key: PathBuf,
    /// The address to listen on.
    pub listen: SocketAddr,
    /// The address citizens and their apps reach the hub at (for QR codes
    /// and app settings); `http://<listen>` when unset. An `https://` URL
    /// also makes cookies `Secure`.
    pub public_url: Option<String>,
    /// The folder holding the npm packages of `web/` (MapLibre).
    pub web_dir: PathBuf,
    /// A raster tile URL template for map backgrounds; plain background
    /// when unset (everything works offline).
    pub tile_url: Option<String>,
    /// A GeoJSON basemap of the territory (roads, rail, stops) drawn under
    /// trips, so maps are useful without any tile server.
    pub basemap: Option<PathBuf>,
    /// How often diaries that received live points are refreshed.
    pub refresh_every: Duration,
    /// Largest accepted upload, bytes.
    pub max_upload_bytes: usize,
    /// The Ed25519 public keys of the cities whose signed campaigns and
    /// results this hub accepts over HTTP (`/api/city/*`); none: refused.
    pub city_keys: Vec<sillage_dap::bytes::Bytes>,
}

impl HubConfig {
    /// A configuration with defaults: master key at
    /// `<data_dir>/keys/master.key`, the repository's `web/` folder.
    pub fn new(data_dir: &Path, listen: SocketAddr) -> Self {
        Self {
            data_dir: data_dir.to_owned(),
            master_key: data_dir.join("keys").join("master.key"),
            listen,
            public_url: None,
            web_dir: default_web_dir(),
            tile_url: None,
            basemap: None,
            refresh_every: Duration::from_secs(30),
            max_upload_bytes: 2 << 30,
            city_keys: Vec::new(),
        }
    }

    /// The URL citizens reach the hub at, without a trailing slash.
    pub fn public_url(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.listen))
            .trim_end_matches('/')
            .to_owned()
    }

    /// Whether cookies must be `Secure` (the hub is reached over HTTPS).
    pub fn secure_cookies(&self) -> bool {
        self.public_url().starts_with("https://")
    }
}

/// `web/` beside the workspace, or `SILLAGE_WEB_DIR`.
pub fn default_web_dir() -> PathBuf {
    std::env::var_os("SILLAGE_WEB_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web"),
        PathBuf::from,
    )
}

/// The hub's shared state.
pub struct Hub {
    /// Configuration.
    pub config: HubConfig,
    /// Accounts, sessions, devices.
    pub registry: Registry,
    /// The citizens' stores.
    pub citizens: Citizens,
    /// Login attempts.
    pub limiter: LoginLimiter,
    /// Anonymous tokens for contributions.
    pub tokens: tokens::TokenDesk,
    /// Signatures of consent receipts.
    pub receipts: receipts::ReceiptSigner,
}

/// What handlers receive.
pub type AppState = Arc<Hub>;

impl Hub {
    /// Opens the registry and loads (or creates) the master key.
    pub async fn open(config: HubConfig) -> anyhow::Result<AppState> {
        let registry = Registry::open(&config.data_dir).await?;
        let master = MasterKey::load_or_create(&config.master_key)?;
        Ok(Arc::new(Self {
            citizens: Citizens::new(&config.data_dir, master),
            registry,
            limiter: LoginLimiter::new(Duration::from_secs(15 * 60), 5, 30),
            tokens: tokens::TokenDesk::default(),
            receipts: receipts::ReceiptSigner::default(),
            config,
        }))
    }
}

/// Largest body the city may push (a campaign, or all its results).
const CITY_BODY_LIMIT: usize = 32 << 20;

/// Every route of the hub.
pub fn router(state: AppState) -> Router {
    let swagger = utoipa_swagger_ui::SwaggerUi::new("/api/docs")
        .url("/api/openapi.json", api::ApiDoc::openapi());
    let upload_limit = state.config.max_upload_bytes;
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/", get(pages::home))
        .route("/login", get(pages::login_form).post(pages::login))
        .route("/signup", get(pages::signup_form).post(pages::signup))
        .route("/logout", post(pages::logout))
        .route("/lang", post(pages::set_lang))
        .route("/welcome", get(pages::welcome))
        .route("/devices", post(pages::add_device))
        .route("/devices/{id}/delete", post(pages::remove_device))
        .route("/timeline", get(pages::timeline))
        .route("/trips/{id}", get(pages::trip))
        .route("/trips/{id}/correct", post(pages::correct))
        .route("/dashboard", get(pages::dashboard))
        .route("/places", get(pages::places))
        .route("/places/{id}", post(pages::edit_place))
        .route("/places/{id}/delete", post(pages::delete_place))
        .route(
            "/bike-days",
            get(pages::bike_days).post(pages::save_bike_days),
        )
        .route("/bike-days/attestation.pdf", get(pages::attestation))
        .route("/data", get(pages::data))
        .route("/data/imports/{id}/undo", post(pages::undo_import))
        .route("/account/delete", post(pages::delete_account))
        .route("/campaigns", get(campaigns::inbox))
        .route("/campaigns/{id}", get(campaigns::show))
        .route("/campaigns/{id}/answer", post(campaigns::answer))
        .route("/campaigns/{id}/preview", get(campaigns::preview))
        .route("/campaigns/{id}/send", post(campaigns::send))
        .route("/campaigns/{id}/receipt", get(campaigns::receipt))
        .route("/campaigns/{id}/receipt.json", get(campaigns::receipt_json))
        .route("/transparency", get(campaigns::transparency))
        .route("/api/me", get(api::get_me))
        .route("/api/days/{day}", get(api::get_day))
        .route("/api/days/{day}/geojson", get(api::get_day_geojson))
        .route("/api/trips/{id}", get(api::get_trip))
        .route("/api/trips/{id}/geojson", get(api::get_trip_geojson))
        .route("/api/trips/{id}/corrections", post(api::post_correction))
        .route("/api/dashboard", get(api::get_dashboard))
        .route("/api/places", get(api::get_places))
        .route(
            "/api/places/{id}",
            delete(api::delete_place).patch(api::patch_place),
        )
        .route("/api/bike-days", get(api::get_bike_days))
        .route(
            "/api/bike-days/settings",
            axum::routing::put(api::put_bike_settings),
        )
        .route("/api/bike-days/attestation.pdf", get(api::get_attestation))
        .route(
            "/api/imports",
            get(api::get_imports)
                .post(api::post_import)
                .layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route("/api/imports/{id}", delete(api::delete_import))
        .route("/api/devices", get(api::get_devices).post(api::post_device))
        .route("/api/devices/{id}", delete(api::delete_device))
        .route("/api/export", get(api::get_export))
        .route("/api/account", delete(api::delete_account))
        .route("/api/token-issuer", get(api::get_token_issuer))
        .route("/api/tokens", post(api::post_token))
        .route("/api/campaigns", get(api::get_campaigns))
        .route("/api/campaigns/{id}/consent", post(api::post_consent))
        // A city's results for a large campaign exceed axum's 2 MiB default.
        .route(
            "/api/city/campaigns",
            post(city::post_campaign).layer(DefaultBodyLimit::max(CITY_BODY_LIMIT)),
        )
        .route(
            "/api/city/results",
            post(city::post_results).layer(DefaultBodyLimit::max(CITY_BODY_LIMIT)),
        )
        .route("/ingest/owntracks", post(live::owntracks))
        .route("/ingest/overland", post(live::overland))
        .route(
            "/ingest/gpslogger",
            get(live::gpslogger).post(live::gpslogger),
        )
        .route("/ingest/traccar", get(live::traccar).post(live::traccar))
        .route(
            "/assets/app.js",
            get(|| asset("text/javascript", include_str!("../assets/app.js"))),
        )
        .route(
            "/assets/app.css",
            get(|| asset("text/css", include_str!("../assets/app.css"))),
        )
        .route(
            "/favicon.ico",
            get(|| asset("image/svg+xml", include_str!("../assets/icon.svg"))),
        )
        .merge(sillage_webmap::routes(sillage_webmap::MapAssets {
            web_dir: state.config.web_dir.clone(),
            basemap: state.config.basemap.clone(),
            tile_url: state.config.tile_url.clone(),
        }))
        .merge(swagger)
        .layer(axum::middleware::map_response(security_headers))
        .with_state(state)
}

async fn asset(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

/// Headers every answer carries: no framing, no sniffing, no referrer
/// leaving the site, scripts only from the hub itself.
async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    let set =
        |headers: &mut axum::http::HeaderMap, name: header::HeaderName, value: &'static str| {
            headers
                .entry(name)
                .or_insert(HeaderValue::from_static(value));
        };
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    set(headers, header::REFERRER_POLICY, "same-origin");
    set(
        headers,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'self'; img-src 'self' data: blob: https:; worker-src 'self' blob:; \
         style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self' https:; frame-ancestors 'none'",
    );
    response
}

/// Runs the hub until Ctrl-C or SIGTERM.
pub async fn serve(config: HubConfig) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    serve_on(listener, config).await
}

/// Runs the hub on a bound listener (tests bind port 0).
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    mut config: HubConfig,
) -> anyhow::Result<()> {
    config.listen = listener.local_addr()?;
    let state = Hub::open(config).await?;
    serve_state(listener, state).await
}

/// Runs an opened hub on a bound listener until SIGINT or SIGTERM (the
/// demonstration fills a hub before serving it).
pub async fn serve_state(listener: tokio::net::TcpListener, state: AppState) -> anyhow::Result<()> {
    let refresher = {
        let state = state.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(state.config.refresh_every);
            loop {
                tick.tick().await;
                if let Err(error) = state.registry.flush_seen().await {
                    crate::error::report("device counts not saved", &error);
                }
                state.citizens.refresh_dirty(&state.registry).await;
            }
        })
    };
    eprintln!("sillage hub listening on {}", state.config.public_url());
    let app = router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let outcome = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await;
    refresher.abort();
    state.citizens.refresh_dirty(&state.registry).await;
    state.registry.close().await;
    Ok(outcome?)
}

/// Resolves on SIGINT or SIGTERM: when servers stop gracefully.
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

/// `sillage citizen add`: creates an account and its store.
pub async fn add_citizen(config: &HubConfig, name: &str, password: &str) -> anyhow::Result<()> {
    let state = Hub::open(config.clone()).await?;
    state
        .citizens
        .create(&state.registry, name, password)
        .await?;
    state.registry.close().await;
    Ok(())
}

/// `sillage device add`: adds a device to a citizen; returns its token.
pub async fn add_device(config: &HubConfig, citizen: &str, label: &str) -> anyhow::Result<String> {
    let state = Hub::open(config.clone()).await?;
    let account = state.registry.account_by_name(citizen).await?;
    let (_, token) = state.registry.add_device(account.id, label).await?;
    state.registry.close().await;
    Ok(token.as_str().to_owned())
}

/// `sillage campaign publish`: checks a signed campaign against the city's
/// key and publishes it to the hub's citizens.
pub async fn publish_campaign(
    config: &HubConfig,
    signed_json: &str,
    city_key: &sillage_dap::bytes::Bytes,
) -> anyhow::Result<String> {
    let signed: sillage_campaign::SignedCampaign = serde_json::from_str(signed_json)?;
    let now = (sillage_model::Timestamp::now().0 / 1000) as u64;
    let spec = sillage_campaign::verify(&signed, std::slice::from_ref(city_key), now)?;
    let registry = Registry::open(&config.data_dir).await?;
    registry.publish_campaign(&spec.id, signed_json).await?;
    registry.close().await;
    Ok(spec.id)
}

/// `sillage campaign results`: records the city's released results (its
/// portal's `results.json`) for the citizens of campaigns published here.
pub async fn publish_results(config: &HubConfig, results_json: &str) -> anyhow::Result<usize> {
    let state = Hub::open(config.clone()).await?;
    let outcome = campaigns::accept_results(&state, results_json).await;
    state.registry.close().await;
    outcome.map_err(|e| anyhow::anyhow!("{e}"))
}

/// `sillage token-issuer`: the hub's token-issuer public key, base64url
/// (created on first use), for the city's campaigns.
pub async fn token_issuer_key(config: &HubConfig) -> anyhow::Result<String> {
    let state = Hub::open(config.clone()).await?;
    let key = state
        .tokens
        .public_key(&state)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    state.registry.close().await;
    Ok(serde_json::to_value(&key)?
        .as_str()
        .unwrap_or_default()
        .to_owned())
}
