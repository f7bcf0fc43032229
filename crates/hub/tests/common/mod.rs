//! A real hub on a loopback port, and a client that keeps one session.

#![allow(dead_code)]

use reqwest::header::{COOKIE, SET_COOKIE};
use reqwest::redirect::Policy;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// A hub serving a temporary data directory.
pub struct TestHub {
    pub url: String,
    pub data_dir: PathBuf,
    _dir: tempfile::TempDir,
    server: tokio::task::JoinHandle<()>,
}

impl TestHub {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// A hub whose configuration `configure` adjusts first.
    pub async fn start_with(configure: impl FnOnce(&mut sillage_hub::HubConfig)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let mut config = sillage_hub::HubConfig::new(dir.path(), addr);
        config.refresh_every = std::time::Duration::from_millis(200);
        configure(&mut config);
        let server = tokio::spawn(async move {
            sillage_hub::serve_on(listener, config).await.unwrap();
        });
        let hub = Self {
            url: format!("http://{addr}"),
            data_dir: dir.path().to_owned(),
            _dir: dir,
            server,
        };
        for _ in 0..200 {
            if let Ok(r) = reqwest::get(format!("{}/healthz", hub.url)).await
                && r.status() == 200
            {
                return hub;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("the hub did not answer /healthz");
    }

    pub fn store_file(&self, name: &str) -> PathBuf {
        self.data_dir
            .join("citizens")
            .join(format!("{name}.sqlite"))
    }

    /// Signs a new citizen up through the pages, as a browser does.
    pub async fn signup(&self, name: &str) -> Citizen {
        let citizen = Citizen::new(&self.url);
        let response = citizen.signup(name, "correct horse battery").await;
        assert_eq!(response.status(), 303, "signup of {name}");
        assert_eq!(response.headers()["location"], "/welcome");
        citizen.load_csrf().await;
        citizen
    }
}

impl TestHub {
    /// A new citizen who rode a bike from Centre to Port 20 hours ago.
    pub async fn rider(&self, name: &str) -> Citizen {
        let citizen = self.signup(name).await;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("ride.gpx");
        std::fs::write(&file, ride_gpx(20)).unwrap();
        assert_eq!(citizen.upload(&file).await.status(), 200);
        citizen
    }
}

impl Drop for TestHub {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// A browser-like client: keeps cookies by hand, never follows redirects.
pub struct Citizen {
    pub base: String,
    pub http: reqwest::Client,
    pub cookies: std::sync::Mutex<Vec<(String, String)>>,
    pub csrf: std::sync::Mutex<String>,
}

impl Citizen {
    pub fn new(base: &str) -> Self {
        Self {
            base: base.to_owned(),
            http: reqwest::Client::builder()
                .redirect(Policy::none())
                .build()
                .unwrap(),
            cookies: Default::default(),
            csrf: Default::default(),
        }
    }

    fn cookie_header(&self) -> String {
        let cookies = self.cookies.lock().unwrap();
        cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep_cookies(&self, response: &reqwest::Response) {
        let mut cookies = self.cookies.lock().unwrap();
        for value in response.headers().get_all(SET_COOKIE) {
            let text = value.to_str().unwrap();
            let pair = text.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            cookies.retain(|(k, _)| k != name);
            if !value.is_empty() {
                cookies.push((name.to_owned(), value.to_owned()));
            }
        }
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .send()
            .await
            .unwrap();
        self.keep_cookies(&response);
        response
    }

    pub async fn text(&self, path: &str) -> String {
        let response = self.get(path).await;
        assert_eq!(response.status(), 200, "GET {path}");
        response.text().await.unwrap()
    }

    pub async fn json(&self, path: &str) -> serde_json::Value {
        let response = self.get(path).await;
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.unwrap()
    }

    /// Posts a form with the session's CSRF token.
    pub async fn form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let csrf = self.csrf.lock().unwrap().clone();
        let mut all: Vec<(&str, &str)> = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.form_raw(path, &all).await
    }

    pub async fn form_raw(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .form(fields)
            .send()
            .await
            .unwrap();
        self.keep_cookies(&response);
        response
    }

    /// An API call with the session's CSRF header.
    pub async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> reqwest::Response {
        let csrf = self.csrf.lock().unwrap().clone();
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .header("X-CSRF-Token", csrf);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }

    pub async fn upload(&self, file: &Path) -> reqwest::Response {
        let csrf = self.csrf.lock().unwrap().clone();
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        self.http
            .post(format!("{}/api/imports?filename={name}", self.base))
            .header(COOKIE, self.cookie_header())
            .header("X-CSRF-Token", csrf)
            .body(std::fs::read(file).unwrap())
            .send()
            .await
            .unwrap()
    }

    /// The hidden `csrf` field of a page's forms.
    pub fn csrf_in(html: &str) -> String {
        let at = html.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
        html[at..].split('"').next().unwrap().to_owned()
    }

    pub async fn signup(&self, name: &str, password: &str) -> reqwest::Response {
        let page = self.text("/signup").await;
        let token = Self::csrf_in(&page);
        self.form_raw(
            "/signup",
            &[
                ("csrf", &token),
                ("name", name),
                ("password", password),
                ("password2", password),
            ],
        )
        .await
    }

    pub async fn login(&self, name: &str, password: &str) -> reqwest::Response {
        let page = self.text("/login").await;
        let token = Self::csrf_in(&page);
        self.form_raw(
            "/login",
            &[("csrf", &token), ("name", name), ("password", password)],
        )
        .await
    }

    /// Reads the session's CSRF token (GET /api/me).
    pub async fn load_csrf(&self) {
        let me = self.json("/api/me").await;
        *self.csrf.lock().unwrap() = me["csrf_token"].as_str().unwrap().to_owned();
    }

    /// Adds a device through the API; returns its id and token.
    pub async fn add_device(&self, label: &str) -> (i64, String) {
        let response = self
            .api(
                reqwest::Method::POST,
                "/api/devices",
                Some(serde_json::json!({ "label": label })),
            )
            .await;
        assert_eq!(response.status(), 200);
        let body: serde_json::Value = response.json().await.unwrap();
        (
            body["device"]["id"].as_i64().unwrap(),
            body["token"].as_str().unwrap().to_owned(),
        )
    }

    /// Total accepted fixes over the citizen's imports.
    pub async fn accepted(&self) -> u64 {
        let imports = self.json("/api/imports").await;
        imports
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["accepted"].as_u64().unwrap())
            .sum()
    }
}

/// The cycle-lane campaign, its first wave open since `days_ago` days,
/// naming the hub's token issuer (as `citizen` reads it) and aggregators at
/// these URLs.
pub async fn cycle_lane(
    citizen: &Citizen,
    days_ago: u64,
    leader_url: &str,
    helper_url: &str,
) -> sillage_campaign::CampaignSpec {
    let issuer = citizen.json("/api/token-issuer").await;
    let issuer_key: sillage_dap::bytes::Bytes =
        serde_json::from_value(issuer["public_key"].clone()).unwrap();
    let aggregator = |operator: &str, url: &str| sillage_campaign::AggregatorInfo {
        operator: operator.into(),
        url: url.into(),
        hpke: sillage_dap::hpke::HpkeKeypair::generate(1).config,
    };
    let now = (sillage_model::Timestamp::now().0 / 1000) as u64;
    sillage_campaign::example::cycle_lane(
        now - days_ago * 86_400,
        aggregator("Opérateur public de données", leader_url),
        aggregator("Laboratoire universitaire", helper_url),
        sillage_dap::hpke::HpkeKeypair::generate(2).config,
        issuer_key,
    )
}

/// A file of the shared data set.
pub fn shared(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(path)
}

/// A live-protocol fixture of the ingest crate.
pub fn live_fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../ingest/tests/fixtures/live")
            .join(name),
    )
    .unwrap()
}

/// A GPX of one bike ride from the Centre zone to the Port zone, `hours_ago`
/// hours ago, with 20-minute stops before and after.
pub fn ride_gpx(hours_ago: i64) -> String {
    let start = sillage_model::Timestamp::now().0 / 1000 - hours_ago * 3600;
    let mut gpx = String::from(
        "<?xml version=\"1.0\"?><gpx version=\"1.1\" creator=\"test\"><trk><trkseg>\n",
    );
    let mut point = |lat: f64, lon: f64, t: i64| {
        let time = sillage_model::Timestamp(t * 1000).to_rfc3339();
        gpx.push_str(&format!(
            "<trkpt lat=\"{lat:.6}\" lon=\"{lon:.6}\"><time>{time}</time></trkpt>\n"
        ));
    };
    let mut t = start;
    for _ in 0..120 {
        point(46.160, -1.150, t);
        t += 10;
    }
    // 15 minutes to cover ~3.2 km west: ~13 km/h.
    for i in 1..=180 {
        point(
            46.160 - 0.000_055 * f64::from(i),
            -1.150 - 0.000_23 * f64::from(i),
            t,
        );
        t += 5;
    }
    for _ in 0..120 {
        point(46.150, -1.191, t);
        t += 10;
    }
    gpx.push_str("</trkseg></trk></gpx>\n");
    gpx
}
