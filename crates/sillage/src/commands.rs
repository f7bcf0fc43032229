//! One function per subcommand.

use crate::progress::ImportProgress;
use crate::{CitizenArgs, Command};
use anyhow::{Context, Result, bail};
use sillage_analysis::co2::{CarType, VehicleSettings};
use sillage_analysis::model::{GbdtModel, ModelOrRules};
use sillage_export::ExportFormat;
use sillage_import::{ImportOptions, ImportReport, Progress, import_paths};
use sillage_model::{ImportCounts, ValidationRules};
use sillage_model::{LabelSource, Place, PlaceLabel};
use sillage_store::{CitizenName, CitizenStore, Granularity, PlaceEdit, citizen_store_path};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Runs a parsed command.
pub async fn run(command: Command) -> Result<()> {
    match command {
        Command::Aggregator { action } => crate::aggregation::aggregator(action).await,
        Command::Collect(args) => crate::aggregation::collect(args).await,
        Command::Serve(args) => crate::hub::serve(args).await,
        Command::Citizen { action } => crate::hub::citizen(action).await,
        Command::Device { action } => crate::hub::device(action).await,
        Command::Campaign { action } => crate::hub::campaign(action).await,
        Command::City { action } => crate::city::city(action).await,
        Command::Import {
            citizen,
            paths,
            json,
            max_accuracy,
            device,
        } => {
            let store = open_store(&citizen).await?;
            let options = ImportOptions {
                rules: ValidationRules {
                    max_accuracy_m: max_accuracy,
                    ..ValidationRules::for_import_now()
                },
                default_device: device,
            };
            let failures = import_each(&store, &paths, &options, json).await;
            let summary = refresh_diary(&store).await?;
            if !json {
                println!(
                    "diary: {} trips, {} legs over {} devices",
                    summary.trips, summary.legs, summary.devices
                );
            }
            store.close().await;
            if failures > 0 {
                bail!(
                    "{failures} of {} inputs could not be imported; nothing of them was stored",
                    paths.len()
                );
            }
            Ok(())
        }
        Command::Analyse { citizen } => {
            let store = open_store(&citizen).await?;
            store.mark_all_dirty().await?;
            let summary = refresh_diary(&store).await?;
            println!(
                "{} fixes analysed: {} trips, {} legs, {} places; {} corrections re-applied; \
                 {} purposes inferred, {} purposes and {} modes suggested from your labels",
                summary.fixes,
                summary.trips,
                summary.legs,
                summary.places,
                summary.corrections_applied,
                summary.purposes_inferred,
                summary.purposes_suggested,
                summary.modes_suggested
            );
            Ok(())
        }
        Command::Trips { citizen, day, json } => {
            show_trips(&open_store(&citizen).await?, &day, json).await
        }
        Command::Correct {
            citizen,
            trip,
            leg,
            mode,
            purpose,
            private,
        } => {
            let store = open_store(&citizen).await?;
            correct(&store, trip, leg, mode, purpose, private).await?;
            refresh_diary(&store).await?;
            println!("corrected; the diary was re-analysed and keeps your correction");
            Ok(())
        }
        Command::Places { citizen, json } => list_places(&open_store(&citizen).await?, json).await,
        Command::Place {
            citizen,
            id,
            name,
            label,
            private,
            delete,
        } => {
            edit_place(
                &open_store(&citizen).await?,
                id,
                name,
                label,
                private,
                delete,
            )
            .await
        }
        Command::Footprint { citizen, by, json } => {
            let granularity = Granularity::from_name(&by)
                .with_context(|| format!("--by {by:?}: expected day, month or year"))?;
            show_footprint(&open_store(&citizen).await?, granularity, json).await
        }
        Command::Settings {
            citizen,
            car_type,
            occupants,
        } => settings(&open_store(&citizen).await?, car_type, occupants).await,
        Command::Imports { citizen, json } => {
            list_imports(&open_store(&citizen).await?, json).await
        }
        Command::Undo { citizen, batch } => {
            let store = open_store(&citizen).await?;
            let outcome = store.undo_import(batch).await?;
            println!(
                "import {batch} undone: {} fixes and {} hints removed",
                outcome.fixes, outcome.hints
            );
            Ok(())
        }
        Command::Fixes { citizen, json } => {
            let days = open_store(&citizen).await?.fixes_per_day().await?;
            if json {
                println!("{}", serde_json::to_string(&days)?);
            } else {
                for day in &days {
                    println!("{}  {:>8}", day.date, day.fixes);
                }
                println!(
                    "{} days, {} fixes",
                    days.len(),
                    days.iter().map(|d| d.fixes).sum::<u64>()
                );
            }
            Ok(())
        }
        Command::Export {
            citizen,
            format,
            output,
        } => {
            let format = ExportFormat::from_name(&format).with_context(|| {
                format!("unknown export format {format:?}: expected gpx, geojson or csv")
            })?;
            export(&open_store(&citizen).await?, format, output.as_deref()).await
        }
        Command::Eval {
            dataset,
            json,
            rules,
            model,
        } => evaluate(&dataset, json, &classifier(rules, model.as_deref())?),
        Command::TrainMode {
            dataset,
            out,
            folds,
            params,
            json,
        } => train_mode(&dataset, &out, folds, params.as_deref(), json),
        Command::Demo(args) => crate::demo::demo(args).await,
    }
}

async fn open_store(args: &CitizenArgs) -> Result<CitizenStore> {
    let name = CitizenName::new(&args.citizen)?;
    let path = citizen_store_path(&args.data.data_dir, &name);
    CitizenStore::open(&path)
        .await
        .with_context(|| format!("opening the store {}", path.display()))
}

/// Imports each path as its own transaction; returns how many failed.
async fn import_each(
    store: &CitizenStore,
    paths: &[PathBuf],
    options: &ImportOptions,
    json: bool,
) -> usize {
    let mut failures = 0;
    for path in paths {
        let progress = Arc::new(Progress::default());
        let bar = ImportProgress::start(progress.clone());
        let outcome = import_paths(store, std::slice::from_ref(path), options, progress).await;
        drop(bar);
        let file = path.display().to_string();
        match outcome {
            Ok(report) => print_report(&file, &report, json),
            Err(error) => {
                failures += 1;
                if json {
                    println!(
                        "{}",
                        serde_json::json!({"file": file, "error": error.to_string()})
                    );
                } else {
                    eprintln!("{file}: not imported: {error}");
                }
            }
        }
    }
    failures
}

fn print_report(file: &str, report: &ImportReport, json: bool) {
    let totals = report.totals();
    let mut formats: Vec<&str> = report.batches.iter().map(|b| b.format.as_str()).collect();
    formats.dedup();
    let format = if formats.len() == 1 {
        formats[0].to_owned()
    } else {
        formats.join("+")
    };
    if json {
        let line = serde_json::json!({
            "file": file,
            "format": format,
            "accepted": totals.accepted,
            "duplicates": totals.duplicates,
            "rejected": totals.rejected,
            "hints": totals.hints,
            "batches": report.batches.iter().map(|b| serde_json::json!({
                "id": b.id, "source": b.source_name, "format": b.format, "accepted": b.counts.accepted,
                "duplicates": b.counts.duplicates, "rejected": b.counts.rejected, "hints": b.counts.hints,
            })).collect::<Vec<_>>(),
            "skipped": report.skipped,
        });
        println!("{line}");
        return;
    }
    println!("{file}: {format}: {}", describe(&totals));
    if report.batches.len() > 1 {
        for batch in &report.batches {
            println!(
                "  #{} {} ({}): {}",
                batch.id,
                batch.source_name,
                batch.format,
                describe(&batch.counts)
            );
        }
    }
    for skipped in &report.skipped {
        println!("  skipped {}: {}", skipped.name, skipped.reason);
    }
}

fn describe(counts: &ImportCounts) -> String {
    let mut text = format!(
        "{} accepted, {} duplicates",
        counts.accepted, counts.duplicates
    );
    if counts.rejected.is_empty() {
        text.push_str(", 0 rejected");
    } else {
        let reasons: Vec<String> = counts
            .rejected
            .iter()
            .map(|(r, n)| format!("{n} {r}"))
            .collect();
        text.push_str(&format!(
            ", {} rejected ({})",
            counts.rejected_total(),
            reasons.join(", ")
        ));
    }
    if counts.hints > 0 {
        text.push_str(&format!(", {} source hints", counts.hints));
    }
    text
}

async fn list_imports(store: &CitizenStore, json: bool) -> Result<()> {
    let imports = store.imports().await?;
    if json {
        println!("{}", serde_json::to_string(&imports)?);
        return Ok(());
    }
    for batch in &imports {
        println!(
            "#{:<5} {}  {:<24} {}  {}",
            batch.id,
            batch.imported_at,
            batch.format,
            batch.source_name,
            describe(&batch.counts)
        );
    }
    if imports.is_empty() {
        println!("no imports yet");
    }
    Ok(())
}

async fn export(store: &CitizenStore, format: ExportFormat, output: Option<&Path>) -> Result<()> {
    let out: Box<dyn Write> = match output {
        Some(path) => Box::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        ),
        None => Box::new(std::io::stdout().lock()),
    };
    let (mut out, written) =
        sillage_export::export_fixes(store, std::io::BufWriter::new(out), format).await?;
    out.flush()?;
    if let Some(path) = output {
        eprintln!("{written} fixes written to {}", path.display());
    }
    Ok(())
}

/// Imports the shared sample data into demo citizens and shows the result.
/// The mode classifier asked for: the rules, a model file, or the bundled
/// model (the rules when it is unusable, said on standard error).
fn classifier(rules: bool, model: Option<&Path>) -> Result<ModelOrRules> {
    if rules {
        return Ok(ModelOrRules::rules());
    }
    if let Some(path) = model {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let model = GbdtModel::from_json(&text)
            .with_context(|| format!("loading the model {}", path.display()))?;
        return Ok(ModelOrRules::with_model(model));
    }
    let classifier = ModelOrRules::bundled();
    if classifier.model().is_none() {
        eprintln!("note: the bundled mode model is unusable; using the speed rules");
    }
    Ok(classifier)
}

fn train_mode(
    dataset: &Path,
    out: &Path,
    folds: usize,
    params: Option<&Path>,
    json: bool,
) -> Result<()> {
    let data = sillage_eval::load_dataset(dataset)
        .with_context(|| format!("loading {}", dataset.display()))?;
    let params: sillage_eval::TrainParams = match params {
        Some(path) => serde_json::from_str(
            &std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?,
        )
        .with_context(|| format!("parsing {}", path.display()))?,
        None => sillage_eval::TrainParams::default(),
    };
    let report = sillage_eval::cross_validate_with(&data, folds, &params);
    let mut model = sillage_eval::train(&data, &params);
    model.description = report.summary();
    std::fs::write(out, model.to_json()).with_context(|| format!("writing {}", out.display()))?;
    if json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{report}");
        println!("\nmodel trained on all runs written to {}", out.display());
    }
    Ok(())
}

fn evaluate(dataset: &Path, json: bool, classifier: &ModelOrRules) -> Result<()> {
    let data = sillage_eval::load_dataset(dataset)
        .with_context(|| format!("loading {}", dataset.display()))?;
    let report = sillage_eval::evaluate(
        &data,
        &sillage_analysis::AnalysisParams::default(),
        classifier,
    );
    if json {
        println!("{}", serde_json::to_string(&report)?);
        return Ok(());
    }
    match classifier.model() {
        // A model scored on the data it was trained on looks better than it
        // is: say so, and where the honest figure comes from.
        Some(model) => println!(
            "modes: trained model ({}); if it was trained on this dataset these figures are \
             in-sample: see `sillage train-mode` for grouped cross-validation\n",
            model.description
        ),
        None => println!("modes: speed rules\n"),
    }
    println!(
        "{:<22} {:>8} {:>8} {:>8} {:>7} {:>7} {:>7} {:>9}",
        "device", "observed", "detected", "matched", "P", "R", "F1", "mode acc"
    );
    for d in &report.per_device {
        println!(
            "{:<22} {:>8} {:>8} {:>8} {:>7.3} {:>7.3} {:>7.3} {:>9.3}",
            d.device,
            d.observed_trips,
            d.detected_trips,
            d.matched_trips,
            d.trip_precision,
            d.trip_recall,
            d.trip_f1,
            d.mode_accuracy
        );
    }
    println!(
        "\nmean over {} devices: trip P {:.3} R {:.3} F1 {:.3}; mode accuracy {:.3}, macro-F1 {:.3}",
        report.devices,
        report.trip_precision,
        report.trip_recall,
        report.trip_f1,
        report.mode_accuracy,
        report.mode_macro_f1
    );
    if !report.devices_without_observed_trips.is_empty() {
        println!(
            "skipped (no labelled trip observed): {}",
            report.devices_without_observed_trips.join(", ")
        );
    }
    println!("confusion (s), rows truth walk/bike/car/bus/rail, columns predicted + none:");
    for row in &report.confusion_seconds {
        println!(
            "  {}",
            row.iter()
                .map(|v| format!("{v:>9.0}"))
                .collect::<Vec<_>>()
                .join("")
        );
    }
    Ok(())
}

async fn refresh_diary(store: &CitizenStore) -> Result<sillage_diary::RefreshSummary> {
    Ok(sillage_diary::refresh(
        store,
        &sillage_analysis::AnalysisParams::default(),
        &sillage_analysis::model::ModelOrRules::bundled(),
    )
    .await?)
}

async fn show_trips(store: &CitizenStore, day: &str, json: bool) -> Result<()> {
    let (start, _) = sillage_model::Timestamp::parse_iso8601(day)
        .ok()
        .filter(|_| day.len() == 10)
        .with_context(|| format!("--day {day:?}: expected YYYY-MM-DD"))?;
    let end = sillage_model::Timestamp(start.0 + 86_400_000);
    let trips = store.trips_between(start, end).await?;
    if json {
        println!("{}", serde_json::to_string(&trips)?);
        return Ok(());
    }
    let places: HashMap<i64, Place> = store
        .places()
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let place = |id: Option<i64>| {
        id.and_then(|id| places.get(&id))
            .map_or("?".to_owned(), place_name)
    };
    for trip in &trips {
        let purpose = trip.purpose.map_or(String::new(), |p| {
            format!(" [{p}{}]", source_mark(trip.purpose_source))
        });
        let private = if trip.private { " (private)" } else { "" };
        println!(
            "#{} {} → {}  {:.1} km  {} → {}{purpose}  {}{private}",
            trip.id,
            trip.start,
            trip.end,
            trip.distance_m / 1000.0,
            place(trip.origin_place_id),
            place(trip.destination_place_id),
            co2_text(trip.co2_g()),
        );
        for (i, leg) in trip.legs.iter().enumerate() {
            println!(
                "    {i}: {} → {}  {:<16} {:>6.1} km  confidence {:.2}{}  {}  {:.0} kcal",
                leg.start,
                leg.end,
                leg.mode.as_str(),
                leg.distance_m / 1000.0,
                leg.confidence,
                source_mark(Some(leg.mode_source)),
                co2_text(leg.co2_g),
                leg.kcal
            );
        }
    }
    if trips.is_empty() {
        println!("no trips on {day}");
    } else if let Some(version) = trips
        .iter()
        .flat_map(|t| &t.legs)
        .find_map(|l| l.co2_factor_version.as_deref())
    {
        println!(
            "CO2e from the {version} factor table; ✔ your label, ~ suggested from a similar trip"
        );
    }
    Ok(())
}

/// ✔ for the citizen's labels, ~ for suggestions, nothing for inferences.
fn source_mark(source: Option<LabelSource>) -> &'static str {
    match source {
        Some(LabelSource::Citizen) => " ✔",
        Some(LabelSource::Suggested) => " ~",
        _ => "",
    }
}

fn co2_text(grams: Option<f64>) -> String {
    match grams {
        Some(g) if g >= 1000.0 => format!("{:.2} kg CO2e", g / 1000.0),
        Some(g) => format!("{g:.0} g CO2e"),
        None => "CO2e unknown".to_owned(),
    }
}

/// What a place is called: the citizen's name, else its label.
fn place_name(place: &Place) -> String {
    match &place.name {
        Some(name) => format!("{name} ({})", place.label),
        None => place.label.to_string(),
    }
}

async fn list_places(store: &CitizenStore, json: bool) -> Result<()> {
    let places = store.places().await?;
    if json {
        println!("{}", serde_json::to_string(&places)?);
        return Ok(());
    }
    for p in &places {
        print_place(p);
    }
    if places.is_empty() {
        println!("no places yet (they come from where you stay: import and analyse)");
    }
    Ok(())
}

fn print_place(p: &Place) {
    let label = format!("{}{}", p.label, source_mark(Some(p.label_source)));
    println!(
        "#{:<4} {:<9} {:>10.5}, {:>10.5}  {:>4} visits{}{}",
        p.id,
        label,
        p.lat,
        p.lon,
        p.visits,
        p.name
            .as_ref()
            .map_or(String::new(), |n| format!("  \"{n}\"")),
        if p.private { "  (private)" } else { "" }
    );
}

async fn edit_place(
    store: &CitizenStore,
    id: i64,
    name: Option<String>,
    label: Option<String>,
    private: Option<bool>,
    delete: bool,
) -> Result<()> {
    if delete {
        store.delete_place(id).await?;
        println!(
            "place #{id} deleted; its trips now start or end at no place (a later analysis \
             may find it again as a new place: to keep it out of anything shared, mark it private)"
        );
        return Ok(());
    }
    let label = label
        .map(|l| {
            PlaceLabel::from_name(&l)
                .with_context(|| format!("--label {l:?}: expected home, work, study or other"))
        })
        .transpose()?;
    let edit = PlaceEdit {
        name: name.map(|n| Some(n.trim().to_owned()).filter(|n| !n.is_empty())),
        label,
        private,
    };
    let place = if edit == PlaceEdit::default() {
        store.place(id).await?
    } else {
        store.edit_place(id, &edit).await?
    };
    print_place(&place);
    if label.is_some() {
        // Purposes follow place labels.
        refresh_diary(store).await?;
        println!("the diary was re-analysed with the new label");
    }
    Ok(())
}

async fn show_footprint(store: &CitizenStore, granularity: Granularity, json: bool) -> Result<()> {
    use sillage_model::Timestamp;
    let rows = store
        .footprint(Timestamp(i64::MIN), Timestamp(i64::MAX), granularity)
        .await?;
    if json {
        println!("{}", serde_json::to_string(&rows)?);
        return Ok(());
    }
    println!(
        "{:<10} {:<16} {:>6} {:>9} {:>12} {:>8}",
        granularity.as_str(),
        "mode",
        "trips",
        "km",
        "kg CO2e",
        "kcal"
    );
    for r in &rows {
        println!(
            "{:<10} {:<16} {:>6} {:>9.1} {:>12} {:>8.0}",
            r.period,
            r.mode.as_str(),
            r.trips,
            r.km,
            r.co2_g
                .map_or("unknown".to_owned(), |g| format!("{:.3}", g / 1000.0)),
            r.kcal
        );
    }
    let known: f64 = rows.iter().filter_map(|r| r.co2_g).sum();
    let unknown_km: f64 = rows
        .iter()
        .filter(|r| r.co2_g.is_none())
        .map(|r| r.km)
        .sum();
    println!(
        "total: {:.1} km, {:.3} kg CO2e{}, {:.0} kcal",
        rows.iter().map(|r| r.km).sum::<f64>(),
        known / 1000.0,
        if unknown_km > 0.0 {
            format!(" (plus {unknown_km:.1} km of unknown emissions)")
        } else {
            String::new()
        },
        rows.iter().map(|r| r.kcal).sum::<f64>()
    );
    Ok(())
}

async fn settings(
    store: &CitizenStore,
    car_type: Option<String>,
    occupants: Option<u8>,
) -> Result<()> {
    if let Some(car) = &car_type {
        let car = CarType::from_name(car).with_context(|| {
            format!("--car-type {car:?}: expected combustion, electric or hybrid")
        })?;
        store
            .set_setting(VehicleSettings::CAR_TYPE_KEY, car.as_str())
            .await?;
    }
    if let Some(n) = occupants {
        if n == 0 {
            bail!("--occupants: at least 1 (the driver)");
        }
        store
            .set_setting(VehicleSettings::OCCUPANTS_KEY, &n.to_string())
            .await?;
    }
    let vehicle = VehicleSettings::from_settings(&store.settings().await?)
        .map_err(|e| anyhow::anyhow!("stored settings: {e}"))?;
    println!(
        "car type: {}\nusual occupants when carpooling: {}",
        vehicle.car_type.as_str(),
        vehicle.usual_occupants
    );
    if car_type.is_some() || occupants.is_some() {
        refresh_diary(store).await?;
        println!("CO2 recomputed with these settings");
    }
    Ok(())
}

async fn correct(
    store: &CitizenStore,
    trip_id: i64,
    leg: Option<usize>,
    mode: Option<String>,
    purpose: Option<String>,
    private: Option<bool>,
) -> Result<()> {
    use sillage_model::{Mode, Purpose};
    let leg_mode = match mode {
        Some(mode) => {
            let mode = Mode::from_name(&mode).with_context(|| format!("unknown mode {mode:?}"))?;
            Some((leg.context("--mode needs --leg N")?, mode))
        }
        None => None,
    };
    let purpose = purpose
        .map(|p| Purpose::from_name(&p).with_context(|| format!("unknown purpose {p:?}")))
        .transpose()?;
    let change = sillage_diary::TripCorrection {
        leg_mode,
        purpose,
        private,
        ..Default::default()
    };
    sillage_diary::correct_trip(store, trip_id, &change).await?;
    Ok(())
}
