//! `sillage serve`, `sillage citizen add` and `sillage device add`: the
//! citizen hub and its non-interactive administration.

use anyhow::{Context, Result, bail};
use sillage_dap::bytes::Bytes;
use sillage_hub::HubConfig;
use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Where the hub keeps its data and key.
#[derive(clap::Args, Clone)]
pub struct HubArgs {
    /// Data directory of the hub (registry and encrypted citizen stores).
    #[arg(long, env = "SILLAGE_DATA_DIR", default_value = "sillage-data")]
    data_dir: PathBuf,
    /// The master key file (64 hex digits), created on first use; keep it
    /// off the data disk in production (see docs/SECURITY.md).
    #[arg(long, env = "SILLAGE_MASTER_KEY_FILE")]
    master_key: Option<PathBuf>,
}

impl HubArgs {
    fn config(&self, listen: SocketAddr) -> HubConfig {
        let mut config = HubConfig::new(&self.data_dir, listen);
        if let Some(key) = &self.master_key {
            config.master_key = key.clone();
        }
        config
    }
}

/// `sillage serve` options.
#[derive(clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    hub: HubArgs,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// The URL citizens and their apps reach the hub at (for QR codes); an
    /// https:// URL also makes cookies Secure.
    #[arg(long, env = "SILLAGE_PUBLIC_URL")]
    public_url: Option<String>,
    /// A raster tile URL template ({z}/{x}/{y}) for map backgrounds; maps
    /// draw trips on a plain background without one.
    #[arg(long)]
    tile_url: Option<String>,
    /// A GeoJSON basemap of the territory drawn under trips (as `sillage
    /// demo` writes from an OpenStreetMap extract): maps useful offline.
    #[arg(long)]
    basemap: Option<PathBuf>,
    /// Folder with the npm packages of web/ (MapLibre).
    #[arg(long, env = "SILLAGE_WEB_DIR")]
    web_dir: Option<PathBuf>,
    /// Seconds between background refreshes of diaries fed by trackers.
    #[arg(long, default_value_t = 30)]
    refresh_seconds: u64,
    /// A city's Ed25519 public key, base64url (as for `campaign publish`):
    /// campaigns and results it signs are accepted over HTTP
    /// (`/api/city/*`). Repeat for several cities; none: refused.
    #[arg(long = "city-key", value_name = "KEY", value_parser = parse_city_key)]
    city_keys: Vec<Bytes>,
}

/// A city's public key on the command line: 32 bytes, base64url.
fn parse_city_key(text: &str) -> Result<Bytes, String> {
    match Bytes::from_text(text.trim()) {
        Some(key) if key.0.len() == 32 => Ok(key),
        Some(key) => Err(format!(
            "expected a city's Ed25519 public key (32 bytes, base64url), got {} bytes",
            key.0.len()
        )),
        None => Err("expected a city's Ed25519 public key as base64url text".into()),
    }
}

/// Citizen administration.
#[derive(clap::Subcommand)]
pub enum CitizenAction {
    /// Create a citizen account and its encrypted store.
    Add {
        /// The account name.
        name: String,
        /// Read the password from standard input (required: never on the command line).
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        hub: HubArgs,
    },
}

/// Device administration.
#[derive(clap::Subcommand)]
pub enum DeviceAction {
    /// Add a tracker device to a citizen; prints its token on stdout.
    Add {
        /// The citizen.
        #[arg(long)]
        citizen: String,
        /// The device's name.
        #[arg(long)]
        name: String,
        #[command(flatten)]
        hub: HubArgs,
    },
}

/// Campaign administration on a hub.
#[derive(clap::Subcommand)]
pub enum CampaignAction {
    /// Check a signed campaign against the city's key and show it to the hub's citizens.
    Publish {
        /// The signed campaign (JSON: spec, signature, signer).
        file: PathBuf,
        /// The city's Ed25519 public key, base64url.
        #[arg(long, value_parser = parse_city_key)]
        city_key: Bytes,
        #[command(flatten)]
        hub: HubArgs,
    },
    /// Show the city's released results (its portal's results.json) to the
    /// citizens of campaigns published here ("how your data was used").
    Results {
        /// The results (JSON array, as `/campaigns/ID/results.json` serves it).
        file: PathBuf,
        #[command(flatten)]
        hub: HubArgs,
    },
    /// Print the hub's anonymous-token issuer key (base64url) for the city's campaigns.
    IssuerKey {
        #[command(flatten)]
        hub: HubArgs,
    },
}

/// `sillage campaign …`.
pub async fn campaign(action: CampaignAction) -> Result<()> {
    match action {
        CampaignAction::Publish {
            file,
            city_key,
            hub,
        } => {
            let signed = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let id =
                sillage_hub::publish_campaign(&hub.config(unused_listen()), &signed, &city_key)
                    .await
                    .with_context(|| format!("{}", file.display()))?;
            eprintln!("campaign {id} published");
            Ok(())
        }
        CampaignAction::Results { file, hub } => {
            let json = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let count = sillage_hub::publish_results(&hub.config(unused_listen()), &json)
                .await
                .with_context(|| format!("{}", file.display()))?;
            eprintln!("{count} result(s) shown to the campaigns' citizens");
            Ok(())
        }
        CampaignAction::IssuerKey { hub } => {
            println!(
                "{}",
                sillage_hub::token_issuer_key(&hub.config(unused_listen())).await?
            );
            Ok(())
        }
    }
}

/// Runs the hub.
pub async fn serve(args: ServeArgs) -> Result<()> {
    let mut config = args.hub.config(args.listen);
    config.public_url = args.public_url;
    config.tile_url = args.tile_url;
    config.basemap = args.basemap;
    if let Some(web) = args.web_dir {
        config.web_dir = web;
    }
    config.refresh_every = std::time::Duration::from_secs(args.refresh_seconds.max(1));
    config.city_keys = args.city_keys;
    sillage_hub::serve(config).await
}

/// A password given on standard input (never on the command line, where
/// other users of the machine could read it).
pub fn password_from_stdin(password_stdin: bool) -> Result<String> {
    if !password_stdin {
        bail!("give the password on standard input with --password-stdin");
    }
    let mut password = String::new();
    std::io::stdin()
        .read_to_string(&mut password)
        .context("reading the password from standard input")?;
    Ok(password.trim_end_matches(['\r', '\n']).to_owned())
}

/// `sillage citizen …`.
pub async fn citizen(action: CitizenAction) -> Result<()> {
    let CitizenAction::Add {
        name,
        password_stdin,
        hub,
    } = action;
    let password = password_from_stdin(password_stdin)?;
    sillage_hub::add_citizen(&hub.config(unused_listen()), &name, &password).await?;
    eprintln!("citizen {name} created");
    Ok(())
}

/// `sillage device …`.
pub async fn device(action: DeviceAction) -> Result<()> {
    let DeviceAction::Add { citizen, name, hub } = action;
    let token = sillage_hub::add_device(&hub.config(unused_listen()), &citizen, &name).await?;
    println!("{token}");
    Ok(())
}

/// Administration commands do not listen; the address is a placeholder.
fn unused_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}
