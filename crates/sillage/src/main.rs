//! `sillage`: the command line. A thin shell: it parses arguments, calls the
//! domain crates and prints; no logic of its own lives here.

mod aggregation;
mod city;
mod commands;
mod demo;
mod hub;
mod progress;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Sillage — territorial self-data for mobility.
#[derive(Parser)]
#[command(name = "sillage", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where citizen stores live.
#[derive(clap::Args, Clone)]
struct DataDir {
    /// Data directory holding the citizen stores.
    #[arg(long, env = "SILLAGE_DATA_DIR", default_value = "sillage-data")]
    data_dir: PathBuf,
}

/// Which citizen store to use.
#[derive(clap::Args, Clone)]
struct CitizenArgs {
    #[command(flatten)]
    data: DataDir,
    /// The citizen whose store to use.
    #[arg(long)]
    citizen: String,
}

#[derive(Subcommand)]
enum Command {
    /// Import location history files, folders or archives into a citizen's store.
    Import {
        #[command(flatten)]
        citizen: CitizenArgs,
        /// Files, folders, `.zip` (Google Takeout, KMZ) or `.gz` files.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Print one JSON object per file instead of a table.
        #[arg(long)]
        json: bool,
        /// Reject fixes whose accuracy radius exceeds this many metres.
        #[arg(long, default_value_t = 10_000.0)]
        max_accuracy: f32,
        /// Device name for sources that do not name one (default: the format name).
        #[arg(long)]
        device: Option<String>,
    },
    /// Re-analyse all of a citizen's fixes into trips and legs (imports refresh only the days they touch).
    Analyse {
        #[command(flatten)]
        citizen: CitizenArgs,
    },
    /// Show a citizen's trips of one day.
    Trips {
        #[command(flatten)]
        citizen: CitizenArgs,
        /// The day, YYYY-MM-DD (UTC).
        #[arg(long)]
        day: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Correct a trip's purpose or privacy, or a leg's mode; corrections
    /// survive every re-analysis.
    Correct {
        #[command(flatten)]
        citizen: CitizenArgs,
        /// The trip id (see `sillage trips`).
        #[arg(long)]
        trip: i64,
        /// The leg's position in the trip (0-based), to correct its mode.
        #[arg(long)]
        leg: Option<usize>,
        /// The correct mode of the leg (walking, bicycle, bus, …).
        #[arg(long)]
        mode: Option<String>,
        /// The correct purpose of the trip (commute, shopping, …).
        #[arg(long)]
        purpose: Option<String>,
        /// Mark the trip private (never part of any contribution) or not.
        #[arg(long)]
        private: Option<bool>,
    },
    /// List a citizen's places (found from where they stay; named and
    /// labelled by them).
    Places {
        #[command(flatten)]
        citizen: CitizenArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show, rename, relabel, hide or delete one place; names and labels
    /// survive every re-analysis.
    Place {
        #[command(flatten)]
        citizen: CitizenArgs,
        /// The place id (see `sillage places`).
        #[arg(long)]
        id: i64,
        /// A name for the place (an empty name removes it).
        #[arg(long)]
        name: Option<String>,
        /// home, work, study or other.
        #[arg(long)]
        label: Option<String>,
        /// Mark the place private (never part of any contribution) or not.
        #[arg(long)]
        private: Option<bool>,
        /// Delete the place; its trips then start or end at no place.
        #[arg(long, conflicts_with_all = ["name", "label", "private"])]
        delete: bool,
    },
    /// A citizen's distance, CO2 and calories per period and mode.
    Footprint {
        #[command(flatten)]
        citizen: CitizenArgs,
        /// day, month or year (UTC).
        #[arg(long, default_value = "month")]
        by: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show or change the settings CO2 is computed with.
    Settings {
        #[command(flatten)]
        citizen: CitizenArgs,
        /// The citizen's car: combustion, electric or hybrid.
        #[arg(long)]
        car_type: Option<String>,
        /// Usual number of people in the car when carpooling, driver included.
        #[arg(long)]
        occupants: Option<u8>,
    },
    /// List the imports of a citizen's store.
    Imports {
        #[command(flatten)]
        citizen: CitizenArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Undo one import: remove every fix and hint it brought.
    Undo {
        #[command(flatten)]
        citizen: CitizenArgs,
        /// The import batch id (see `sillage imports`).
        batch: i64,
    },
    /// Count a citizen's fixes per local day.
    Fixes {
        #[command(flatten)]
        citizen: CitizenArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Export a citizen's raw fixes.
    Export {
        #[command(flatten)]
        citizen: CitizenArgs,
        /// gpx, geojson or csv.
        #[arg(long, default_value = "gpx")]
        format: String,
        /// Output file (standard output when absent).
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Score trip detection and mode inference on a labelled dataset
    /// (laid out like ../shared/data/mobilitynet).
    Eval {
        /// The dataset directory.
        #[arg(long)]
        dataset: PathBuf,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
        /// Infer modes with the speed rules instead of the bundled model.
        #[arg(long, conflicts_with = "model")]
        rules: bool,
        /// Infer modes with this model file instead of the bundled one.
        #[arg(long)]
        model: Option<PathBuf>,
    },
    /// Train the leg-mode model on a labelled dataset, print in-sample and
    /// grouped cross-validated scores, and write the model file.
    TrainMode {
        /// The dataset directory.
        #[arg(long)]
        dataset: PathBuf,
        /// Where to write the model (JSON).
        #[arg(long)]
        out: PathBuf,
        /// Cross-validation folds (groups are runs).
        #[arg(long, default_value_t = 5)]
        folds: usize,
        /// Training parameters as JSON (see `TrainParams`; missing fields
        /// take their defaults).
        #[arg(long)]
        params: Option<PathBuf>,
        /// Print the report as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Run one of the two aggregators of secure aggregation (leader or helper).
    Aggregator {
        #[command(subcommand)]
        action: aggregation::AggregatorAction,
    },
    /// The city's side of secure aggregation: collect a task's batch, once.
    Collect(aggregation::CollectArgs),
    /// Run the citizen hub: accounts, encrypted stores, tracker endpoints, web app and API.
    Serve(hub::ServeArgs),
    /// Administer citizen accounts of a hub.
    Citizen {
        #[command(subcommand)]
        action: hub::CitizenAction,
    },
    /// Administer citizens' tracker devices on a hub.
    Device {
        #[command(subcommand)]
        action: hub::DeviceAction,
    },
    /// Publish the city's campaigns on a hub; show its token-issuer key.
    Campaign {
        #[command(subcommand)]
        action: hub::CampaignAction,
    },
    /// The city's portal: its staff, its configuration, its signing key, serving.
    City {
        #[command(subcommand)]
        action: city::CityAction,
    },
    /// The demonstration: a real territory, synthetic citizens with four
    /// weeks of traces, a city campaign run end to end through secure
    /// aggregation; then serves the citizen app and the city portal.
    Demo(DemoArgs),
}

/// `sillage demo`.
#[derive(clap::Args)]
pub struct DemoArgs {
    /// Synthetic citizens (the real La Rochelle pilot had about 500).
    #[arg(long, default_value_t = 500)]
    pub citizens: usize,
    /// Seed of the synthetic population.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The OpenStreetMap extract of the territory.
    #[arg(long, default_value = "../shared/data/osm/monaco.osm.pbf")]
    pub pbf: PathBuf,
    /// Where to write (default: a fresh directory that is printed).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// The citizen app's address; the city portal takes the next port.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
    /// Share of citizens who consent to the campaign.
    #[arg(long, default_value_t = 0.7)]
    pub consent_rate: f64,
    /// The campaign's minimum number of contributors (k).
    #[arg(long, default_value_t = 100)]
    pub min_contributors: u64,
    /// Days of traces, ending yesterday.
    #[arg(long, default_value_t = 28)]
    pub days: u32,
    /// Citizens scored by the evaluation (0: all).
    #[arg(long, default_value_t = 100)]
    pub eval_citizens: usize,
    /// Run the scenario and stop, without serving.
    #[arg(long)]
    pub no_serve: bool,
    /// Print the report as one JSON object on standard output.
    #[arg(long)]
    pub json: bool,
}

fn main() -> ExitCode {
    restore_default_sigpipe();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Lets `sillage … | head` end quietly, as command-line tools do: Rust
/// ignores SIGPIPE, which turns a closed pipe into a panic in `println!`.
fn restore_default_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any thread exists;
    // SIG_DFL is a valid disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
