//! The citizen's journey in headless Chromium (web/e2e/citizen.mjs, with
//! playwright-core from web/node_modules) against a real hub on loopback.
//! Screenshots go to `artifacts/screenshots/` at the repository root.
//!
//! Needs node, /usr/bin/chromium and `npm ci` in web/ (scripts/test
//! installs them); skipped with a notice otherwise, unless
//! SILLAGE_REQUIRE_BROWSER=1 makes their absence a failure.

mod common;

use std::path::Path;

#[tokio::test]
async fn a_citizen_signs_up_uploads_corrects_exports_and_leaves_in_a_browser() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let script = root.join("web/e2e/citizen.mjs");
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let ready = Path::new(&chromium).exists()
        && root.join("web/node_modules/playwright-core").exists()
        && root.join("web/node_modules/maplibre-gl").exists()
        && std::process::Command::new("node")
            .arg("--version")
            .output()
            .is_ok();
    if !ready {
        assert!(
            std::env::var_os("SILLAGE_REQUIRE_BROWSER").is_none(),
            "SILLAGE_REQUIRE_BROWSER is set but chromium, node or web/node_modules is missing"
        );
        eprintln!("skipped: chromium, node or web/node_modules missing (run scripts/test)");
        return;
    }
    let hub = common::TestHub::start().await;
    let shots = root.join("artifacts/screenshots");
    let gpx = common::shared("gpx-fixtures/garmin-activity.gpx");
    let output = tokio::process::Command::new("node")
        .arg(&script)
        .arg(&hub.url)
        .arg(&gpx)
        .arg(&shots)
        .env("CHROMIUM", &chromium)
        .output()
        .await
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "browser journey failed:\n{stdout}\n{stderr}\n(screenshots in {})",
        shots.display()
    );
}
