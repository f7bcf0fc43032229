//! `sillage city …`: the city portal as its own service — staff accounts,
//! who it works with (aggregators, hubs), the key hubs must trust, serving.

use anyhow::{Context, Result};
use sillage_city::CityStore;
use sillage_city::publishing::{CityConfig, admin_token_secret};
use sillage_city::staff::Role;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Administer and run the city portal.
#[derive(clap::Subcommand)]
pub enum CityAction {
    /// Create a staff account (or reset its password and role).
    Staff {
        /// The city's data directory (holds city.sqlite).
        #[arg(long)]
        data_dir: PathBuf,
        /// Login name.
        #[arg(long)]
        name: String,
        /// `editor` (designs, publishes, collects) or `viewer` (reads).
        #[arg(long, value_parser = ["editor", "viewer"])]
        role: String,
        /// Read the password from standard input (required: never on the command line).
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set who the portal works with: a JSON file with `controller`
    /// (name, address, dpo_contact), `leader` and `helper` (operator, url)
    /// and `hubs` (base URLs), and the aggregators' admin tokens.
    Configure {
        /// The city's data directory.
        #[arg(long)]
        data_dir: PathBuf,
        /// The configuration (JSON).
        #[arg(long)]
        config: PathBuf,
        /// File holding the leader operator's admin token.
        #[arg(long)]
        leader_admin_token_file: PathBuf,
        /// File holding the helper operator's admin token.
        #[arg(long)]
        helper_admin_token_file: PathBuf,
    },
    /// Print the city's campaign-signing public key (base64url), created on
    /// first use: give it to each hub (`sillage serve --city-key`).
    Key {
        /// The city's data directory.
        #[arg(long)]
        data_dir: PathBuf,
    },
    /// Serve the city portal.
    Serve {
        /// The city's data directory.
        #[arg(long)]
        data_dir: PathBuf,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8081")]
        listen: SocketAddr,
        /// A GeoJSON basemap of the territory (as `sillage demo` writes).
        #[arg(long)]
        basemap: Option<PathBuf>,
        /// Folder with the npm packages of web/ (MapLibre).
        #[arg(long, env = "SILLAGE_WEB_DIR")]
        web_dir: Option<PathBuf>,
    },
}

fn read_secret_file(path: &PathBuf) -> Result<String> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let token = text.trim();
    anyhow::ensure!(!token.is_empty(), "{}: the file is empty", path.display());
    Ok(token.to_owned())
}

/// `sillage city …`.
pub async fn city(action: CityAction) -> Result<()> {
    match action {
        CityAction::Staff {
            data_dir,
            name,
            role,
            password_stdin,
        } => {
            let password = crate::hub::password_from_stdin(password_stdin)?;
            let store = CityStore::open(&data_dir).await?;
            store
                .set_staff(&name, &password, Role::parse(&role)?)
                .await?;
            store.close().await;
            eprintln!("staff account {name} ({role}) ready");
        }
        CityAction::Configure {
            data_dir,
            config,
            leader_admin_token_file,
            helper_admin_token_file,
        } => {
            let text = std::fs::read_to_string(&config)
                .with_context(|| format!("reading {}", config.display()))?;
            let parsed: CityConfig = serde_json::from_str(&text).with_context(|| {
                format!(
                    "{}: expected {{controller, leader, helper, hubs}}",
                    config.display()
                )
            })?;
            let store = CityStore::open(&data_dir).await?;
            store.set_config(&parsed).await?;
            for (role, file) in [
                ("leader", &leader_admin_token_file),
                ("helper", &helper_admin_token_file),
            ] {
                store
                    .set_secret(&admin_token_secret(role), &read_secret_file(file)?)
                    .await?;
            }
            store.close().await;
            eprintln!("portal configured: {} hub(s)", parsed.hubs.len());
        }
        CityAction::Key { data_dir } => {
            let store = CityStore::open(&data_dir).await?;
            let key = store.signing_key().await?.public_key();
            store.close().await;
            println!("{}", key.to_text());
        }
        CityAction::Serve {
            data_dir,
            listen,
            basemap,
            web_dir,
        } => {
            let store = CityStore::open(&data_dir).await?;
            let maps = sillage_webmap::MapAssets {
                web_dir: web_dir.unwrap_or_else(sillage_hub::default_web_dir),
                basemap,
                tile_url: None,
            };
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .with_context(|| format!("cannot listen on {listen}"))?;
            eprintln!("city portal on http://{listen}/");
            axum::serve(listener, sillage_city::router(store, maps))
                .with_graceful_shutdown(sillage_hub::shutdown_signal())
                .await?;
        }
    }
    Ok(())
}
