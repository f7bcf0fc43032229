//! What the web maps of the citizen hub and the city portal share, so both
//! draw the same territory the same way, offline: MapLibre served from the
//! npm package installed under `web/`, the territory's GeoJSON basemap,
//! the map configuration, and the style module every map starts from.
//!
//! The basemap is public OpenStreetMap data; nothing here ever touches a
//! citizen's data or the city's results.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::path::PathBuf;
use std::sync::Arc;

/// Where the map assets come from.
#[derive(Clone, Debug, Default)]
pub struct MapAssets {
    /// The folder holding `node_modules/maplibre-gl` (the repository's `web/`).
    pub web_dir: PathBuf,
    /// The territory's basemap (GeoJSON), if any.
    pub basemap: Option<PathBuf>,
    /// A raster tile URL template, if any.
    pub tile_url: Option<String>,
}

/// The routes under `/assets/` that maps need, for any router's state.
pub fn routes<S: Clone + Send + Sync + 'static>(assets: MapAssets) -> Router<S> {
    Router::new()
        .route("/assets/vendor/maplibre/{file}", get(maplibre))
        .route("/assets/map-config.json", get(config))
        .route("/assets/basemap.geojson", get(basemap))
        .route(
            "/assets/map-style.mjs",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/javascript")],
                    include_str!("../assets/map-style.mjs"),
                )
            }),
        )
        .with_state(Arc::new(assets))
}

/// MapLibre's files, from the npm package installed under `web/`.
async fn maplibre(State(assets): State<Arc<MapAssets>>, Path(file): Path<String>) -> Response {
    const FILES: [(&str, &str); 4] = [
        ("maplibre-gl.mjs", "text/javascript"),
        ("maplibre-gl-worker.mjs", "text/javascript"),
        ("maplibre-gl-shared.mjs", "text/javascript"),
        ("maplibre-gl.css", "text/css"),
    ];
    let Some((name, content_type)) = FILES.iter().find(|(name, _)| *name == file) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let path = assets
        .web_dir
        .join("node_modules/maplibre-gl/dist")
        .join(name);
    match tokio::fs::read(&path).await {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, *content_type),
                (header::CACHE_CONTROL, "public, max-age=86400"),
            ],
            bytes,
        )
            .into_response(),
        Err(_) => (
            StatusCode::NOT_FOUND,
            "MapLibre is not installed: run `npm ci` in web/",
        )
            .into_response(),
    }
}

/// What maps draw under their data: the basemap and a tile URL when they
/// are configured.
async fn config(State(assets): State<Arc<MapAssets>>) -> Response {
    axum::Json(serde_json::json!({
        "tile_url": assets.tile_url,
        "basemap": assets.basemap.as_ref().map(|_| "/assets/basemap.geojson"),
    }))
    .into_response()
}

/// The territory's basemap.
async fn basemap(State(assets): State<Arc<MapAssets>>) -> Response {
    let Some(path) = &assets.basemap else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match tokio::fs::read(path).await {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, "application/geo+json"),
                (header::CACHE_CONTROL, "public, max-age=3600"),
            ],
            bytes,
        )
            .into_response(),
        Err(error) => {
            eprintln!("sillage: basemap {} unreadable: {error}", path.display());
            StatusCode::NOT_FOUND.into_response()
        }
    }
}
