//! Helpers shared by the diary's integration tests.

use sillage_model::{Fix, SourceFormat, Trip};
use sillage_store::{CitizenName, CitizenStore, ImportChunk, citizen_store_path};

/// Opens (creating) the store of citizen `name` under `dir`.
pub async fn open_store(dir: &std::path::Path, name: &str) -> CitizenStore {
    let path = citizen_store_path(dir, &CitizenName::new(name).unwrap());
    CitizenStore::open(&path).await.unwrap()
}

/// Imports `fixes` for the device "phone" as one batch.
pub async fn import(store: &CitizenStore, source: &str, fixes: &[Fix]) {
    let mut writer = store.begin_import().await.unwrap();
    writer.start_batch(source, SourceFormat::Gpx).await.unwrap();
    writer
        .write(&ImportChunk {
            new_devices: vec!["phone".into()],
            fixes: fixes.iter().map(|f| (0, *f)).collect(),
            hints: Vec::new(),
            rejected: Default::default(),
        })
        .await
        .unwrap();
    writer.commit().await.unwrap();
}

/// What a citizen sees of each trip, without store ids: times, purpose,
/// privacy, and each leg's times, mode and who set it (CO2 apart, see
/// [`leg_co2`]).
pub fn seen(trips: &[Trip]) -> Vec<String> {
    trips
        .iter()
        .map(|t| {
            let legs: Vec<String> = t
                .legs
                .iter()
                .map(|l| format!("{}-{} {:?} {:?}", l.start.0, l.end.0, l.mode, l.mode_source))
                .collect();
            format!(
                "{}-{} {:?} {:?} {} {:?}",
                t.start.0, t.end.0, t.purpose, t.purpose_source, t.private, legs
            )
        })
        .collect()
}

/// Every leg's CO2, gCO2e (0 when unknown), in diary order.
pub fn leg_co2(trips: &[Trip]) -> Vec<f64> {
    trips
        .iter()
        .flat_map(|t| t.legs.iter().map(|l| l.co2_g.unwrap_or(0.0)))
        .collect()
}
