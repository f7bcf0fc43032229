//! `sillage demo`: runs the demonstration and serves it.

use crate::DemoArgs;
use anyhow::{Context, Result};
use sillage_demo::{DEMO_PASSWORD, DemoOptions, OBSERVER, PLANNER};

/// Runs the demonstration, prints what it did and where to look, and
/// serves the citizen app and the city portal unless told not to.
pub async fn demo(args: DemoArgs) -> Result<()> {
    let data_dir = match args.data_dir {
        Some(dir) => dir,
        None => std::env::temp_dir().join(format!(
            "sillage-demo-{}-{}",
            std::process::id(),
            sillage_model::Timestamp::now().0 / 1000
        )),
    };
    if !args.pbf.is_file() {
        anyhow::bail!(
            "the territory {} is not there: run from the repository root with ../shared beside it, or pass --pbf",
            args.pbf.display()
        );
    }
    let listeners = if args.no_serve {
        None
    } else {
        Some(sillage_demo::bind(args.listen).await?)
    };
    if !args.no_serve {
        ensure_web_packages();
    }
    let quiet = args.json;
    if !quiet {
        println!("Sillage demo — data directory: {}", data_dir.display());
    }
    let options = DemoOptions {
        citizens: args.citizens,
        seed: args.seed,
        pbf: args.pbf,
        data_dir,
        listen: args.listen,
        consent_rate: args.consent_rate,
        min_contributors: args.min_contributors,
        days: args.days,
        sillage_exe: std::env::current_exe().context("cannot find the sillage executable")?,
        eval_citizens: (args.eval_citizens > 0).then_some(args.eval_citizens),
    };
    let log: Box<dyn Fn(&str) + Send + Sync> = if quiet {
        Box::new(|line: &str| eprintln!("{line}"))
    } else {
        Box::new(|line: &str| println!("{line}"))
    };
    let (report, running) = sillage_demo::run(&options, log).await?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!("\n{}\n", serde_json::to_string_pretty(&report)?);
    }
    let Some(listeners) = listeners else {
        running.stop().await;
        return Ok(());
    };
    let portal = std::net::SocketAddr::new(args.listen.ip(), args.listen.port().wrapping_add(1));
    let consented = report
        .sample_logins
        .get("consented")
        .map_or(String::new(), |name| {
            format!(" (e.g. {name}, who took part)")
        });
    let lines = [
        format!(
            "Citizen app:  http://{}/  log in as citoyen-0001 … citoyen-{:04}{consented}, password {DEMO_PASSWORD}",
            args.listen, report.citizens
        ),
        format!(
            "City portal:  http://{portal}/  log in as {PLANNER} (designs, publishes, collects) or {OBSERVER} (reads), same password"
        ),
        "Ctrl-C to stop.".to_owned(),
    ];
    for line in lines {
        // Standard output holds one JSON object under --json.
        if args.json {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    }
    sillage_demo::serve(running, listeners).await
}

/// The web maps need MapLibre from `web/node_modules`: install it the first
/// time (with the lock file, from the npm registry) when npm is there.
fn ensure_web_packages() {
    let web = sillage_hub::default_web_dir();
    if web.join("node_modules/maplibre-gl/dist").is_dir()
        || !web.join("package-lock.json").is_file()
    {
        return;
    }
    eprintln!(
        "installing the web maps' packages (npm ci in {}) …",
        web.display()
    );
    let installed = std::process::Command::new("npm")
        .arg("ci")
        .arg("--no-audit")
        .arg("--no-fund")
        .current_dir(&web)
        .stdout(std::process::Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !installed {
        eprintln!(
            "note: maps need MapLibre: run `(cd {} && npm ci)`; everything else works without it",
            web.display()
        );
    }
}
