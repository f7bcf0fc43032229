//! The city portal's pages: published campaigns and their released
//! results, every figure with its contributors, ε and 95 % interval, and
//! suppressed cells shown as such. French by default, `?lang=en` for
//! English.

mod auth;
mod compare;
mod design;

use crate::charts::escape;
use crate::staff::{Role, StaffSession};
use crate::store::{CityError, CityStore, Release};
use auth::Staff;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Json, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use sillage_campaign::{CampaignSpec, SignedCampaign};
use sillage_catalogue::CellLabel;
use std::fmt::Write as _;

/// The portal's routes over the city's database; `maps` says where the
/// maps' MapLibre and basemap come from.
pub fn router(store: CityStore, maps: sillage_webmap::MapAssets) -> Router {
    Router::new()
        .merge(sillage_webmap::routes(maps))
        .route(
            "/assets/portal.mjs",
            get(|| async { script(include_str!("../../assets/portal.mjs")) }),
        )
        .route(
            "/assets/designer.mjs",
            get(|| async { script(include_str!("../../assets/designer.mjs")) }),
        )
        .route("/", get(home))
        .route("/healthz", get(|| async { "ok" }))
        // Browsers ask for it on pages without an icon link (plain-text
        // refusals): answer rather than log a 404.
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
        .route("/login", get(auth::login_form).post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/design", get(design::form).post(design::publish))
        .route("/design/preview", post(design::preview))
        .route("/compare", get(compare::page_handler))
        .route("/campaigns/{id}", get(campaign))
        .route("/campaigns/{id}/collect", post(design::collect))
        .route("/campaigns/{id}/push", post(design::push))
        .route("/campaigns/{id}/zones.geojson", get(zones_geojson))
        .route("/campaigns/{id}/results.json", get(results_json))
        .route("/campaigns/{id}/participation", get(participation))
        .route("/campaigns/{id}/exports/{task}/{file}", get(export))
        .with_state(store)
}

fn script(text: &'static str) -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "text/javascript")],
        text,
    )
        .into_response()
}

/// `?lang=en`.
#[derive(Deserialize)]
pub(crate) struct LangQuery {
    lang: Option<String>,
}

impl LangQuery {
    fn fr(&self) -> bool {
        self.lang.as_deref() != Some("en")
    }
}

/// Whether a portal path asks for French (`None` when it does not say).
fn lang_of(path: &str) -> Option<bool> {
    let query = path.split_once('?')?.1;
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("lang="))
        .map(|lang| lang != "en")
}

/// A portal page; `who` is the logged-in staff member, shown with a
/// log-out button.
fn page(who: Option<&StaffSession>, fr: bool, title: &str, body: &str) -> Html<String> {
    let account = who.map_or(String::new(), |session| {
        format!(
            " · <span class=\"who\">{name} ({role})</span> <form method=\"post\" action=\"/logout\" class=\"inline\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><button>{out}</button></form>",
            name = escape(&session.member.name),
            role = match (session.member.role, fr) {
                (Role::Editor, true) => "éditeur",
                (Role::Editor, false) => "editor",
                (Role::Viewer, true) => "lecteur",
                (Role::Viewer, false) => "viewer",
            },
            csrf = escape(&session.csrf_token),
            out = if fr { "Se déconnecter" } else { "Log out" },
        )
    });
    let (lang, other, other_label) = if fr {
        ("fr", "en", "English")
    } else {
        ("en", "fr", "Français")
    };
    Html(format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><link rel=\"icon\" href=\"data:,\">\
         <title>{title}</title><style>body{{font-family:system-ui,sans-serif;max-width:72rem;margin:1rem auto;padding:0 1rem}}\
         table{{border-collapse:collapse;margin:.5rem 0 1.5rem}}td,th{{border:1px solid #ccc;padding:.2rem .5rem;text-align:left}}\
         td.n{{text-align:right;font-variant-numeric:tabular-nums}}form.inline{{display:inline}}.error{{color:#a00}}fieldset{{margin:.8rem 0}}textarea{{width:100%;font-family:monospace}}.explain{{background:#f6f6ff;padding:.3rem .6rem}}svg.chart{{max-width:100%;height:auto}}tr.suppressed td{{color:#888;background:#f3f3f3}}.map{{height:26rem;border:1px solid #ccc;margin:.5rem 0}}</style>\
         <link rel=\"stylesheet\" href=\"/assets/vendor/maplibre/maplibre-gl.css\"><script type=\"module\" src=\"/assets/portal.mjs\"></script></head>\
         <body><nav><a href=\"/?lang={lang}\">{home}</a> · <a href=\"?lang={other}\">{other_label}</a>{account}</nav>\
         <h1>{title}</h1>{body}</body></html>",
        title = escape(title),
        home = if fr {
            "Portail de la ville"
        } else {
            "City portal"
        },
    ))
}

/// Why a portal page cannot be shown.
pub(crate) enum PortalError {
    /// No such campaign or release.
    NotFound(&'static str),
    /// The city's database failed.
    Database(CityError),
    /// A background task failed.
    Internal(String),
}

impl From<CityError> for PortalError {
    fn from(error: CityError) -> Self {
        PortalError::Database(error)
    }
}

impl IntoResponse for PortalError {
    fn into_response(self) -> Response {
        match self {
            PortalError::NotFound(what) => (StatusCode::NOT_FOUND, what).into_response(),
            PortalError::Database(error) => {
                (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response()
            }
            PortalError::Internal(error) => {
                (StatusCode::INTERNAL_SERVER_ERROR, error).into_response()
            }
        }
    }
}

type Page = Result<Response, PortalError>;

/// The published campaign `id`, or a 404.
async fn published(
    store: &CityStore,
    id: &str,
) -> Result<(CampaignSpec, SignedCampaign), PortalError> {
    store
        .campaign(id)
        .await?
        .ok_or(PortalError::NotFound("no such campaign"))
}

async fn home(State(store): State<CityStore>, staff: Staff, Query(q): Query<LangQuery>) -> Page {
    let fr = q.fr();
    let campaigns = store.campaigns().await?;
    let mut body = String::new();
    if campaigns.is_empty() {
        body.push_str(if fr {
            "<p>Aucune campagne publiée.</p>"
        } else {
            "<p>No campaign published.</p>"
        });
    }
    let lang = if fr { "fr" } else { "en" };
    if staff.0.member.role == Role::Editor {
        let _ = write!(
            body,
            "<p><a href=\"/design?lang={lang}\" class=\"action\">{}</a></p>",
            if fr {
                "Concevoir et publier une campagne"
            } else {
                "Design and publish a campaign"
            }
        );
    }
    body.push_str("<ul class=\"campaigns\">");
    for (spec, _) in &campaigns {
        let _ = write!(
            body,
            "<li><a href=\"/campaigns/{id}?lang={lang}\">{title}</a> — {purpose}</li>",
            id = escape(&spec.id),
            title = escape(spec.title.get(lang)),
            purpose = escape(spec.purpose.get(lang)),
        );
    }
    body.push_str("</ul>");
    if campaigns.len() >= 2 {
        body.push_str(&compare::chooser(&campaigns, fr));
    }
    Ok(page(
        Some(&staff.0),
        fr,
        if fr {
            "Campagnes de la ville"
        } else {
            "The city's campaigns"
        },
        &body,
    )
    .into_response())
}

/// Selects filtering a map by mode group and time band.
fn filters(spec: &sillage_catalogue::MeasurementSpec, fr: bool) -> String {
    let (groups, bands) = match spec {
        sillage_catalogue::MeasurementSpec::OdMatrix {
            mode_groups,
            time_bands,
            ..
        }
        | sillage_catalogue::MeasurementSpec::H3Cells {
            mode_groups,
            time_bands,
            ..
        } => (mode_groups, time_bands),
        _ => return String::new(),
    };
    let select = |name: &str, label: &str, values: Vec<String>| {
        let options: String = values
            .iter()
            .map(|v| format!("<option value=\"{0}\">{0}</option>", escape(v)))
            .collect();
        format!(
            "<label>{label} <select data-filter=\"{name}\"><option value=\"\">{}</option>{options}</select></label> ",
            if fr { "tous" } else { "all" }
        )
    };
    format!(
        "<p class=\"filters\">{}{}</p>",
        select(
            "mode_group",
            "Mode",
            groups.iter().map(|g| g.as_str().to_owned()).collect()
        ),
        select(
            "time_band",
            if fr { "Période" } else { "Band" },
            bands.bands.iter().map(|b| b.name.clone()).collect()
        ),
    )
}

/// The words naming a cell, without its count.
fn cell_words(label: &CellLabel, fr: bool) -> String {
    let mut parts = Vec::new();
    if let (Some(o), Some(d)) = (&label.origin, &label.destination) {
        parts.push(format!("{o} → {d}"));
    }
    if let Some(cell) = &label.h3_cell {
        parts.push(cell.clone());
    }
    if let Some(group) = label.mode_group {
        parts.push(group.as_str().to_owned());
    }
    if let Some(band) = &label.time_band {
        parts.push(band.clone());
    }
    if let Some((from, to)) = label.distance_km {
        parts.push(match to {
            Some(to) => format!("{from}–{to} km"),
            None => format!("≥ {from} km"),
        });
    }
    if label.in_km {
        parts.push(if fr { "en km".into() } else { "in km".into() });
    }
    parts.join(" · ")
}

fn release_table(spec: &CampaignSpec, release: &Release, fr: bool) -> String {
    let lang = if fr { "fr" } else { "en" };
    let Some(measurement) = spec
        .measurements
        .iter()
        .find(|m| m.id == release.measurement_id)
    else {
        return String::new();
    };
    let r = &release.result;
    let mut html = format!(
        "<section class=\"release\"><h2>{title} — {wave}</h2><p>{n} {contributors}, ε = {eps}, {noise} σ = {sd:.1}, {interval} ± {hw}, {suppressed_rule} &lt; {threshold}.</p>",
        title = escape(measurement.title.get(lang)),
        wave = escape(&release.wave_id),
        n = r.contributors,
        contributors = if fr { "contributeurs" } else { "contributors" },
        eps = r.epsilon.map_or("—".into(), |e| format!("{e}")),
        noise = if fr { "bruit" } else { "noise" },
        sd = r.noise_sd,
        interval = if fr {
            "intervalle à 95 %"
        } else {
            "95 % interval"
        },
        hw = r.interval_half_width,
        suppressed_rule = if fr {
            "cellules masquées sous"
        } else {
            "cells suppressed below"
        },
        threshold = r.suppression_threshold,
    );
    let _ = write!(
        html,
        "<p class=\"exports\">{}: <a href=\"/campaigns/{id}/exports/{task}/cells.geojson\">GeoJSON</a> · <a href=\"/campaigns/{id}/exports/{task}/cells.csv\">CSV</a> · <a href=\"/campaigns/{id}/exports/{task}/metadata.json\">{}</a></p>",
        if fr { "Télécharger" } else { "Download" },
        if fr { "métadonnées" } else { "metadata" },
        id = escape(&spec.id),
        task = escape(&release.task_id),
    );
    let map_kind = match &measurement.spec {
        sillage_catalogue::MeasurementSpec::OdMatrix { .. } => Some("od"),
        sillage_catalogue::MeasurementSpec::H3Cells { .. } => Some("h3"),
        _ => None,
    };
    if let Some(kind) = map_kind {
        html.push_str(&filters(&measurement.spec, fr));
        let _ = write!(
            html,
            "<div class=\"map\" data-kind=\"{kind}\" data-geojson=\"/campaigns/{}/exports/{}/cells.geojson\" role=\"img\" aria-label=\"{}\"></div><p class=\"legend\">{}</p>",
            escape(&spec.id),
            escape(&release.task_id),
            if fr {
                "Carte des résultats publiés"
            } else {
                "Map of the released results"
            },
            if fr {
                "Couleur : mode ; épaisseur ou opacité : nombre de trajets ; gris : case masquée (trop peu de trajets)."
            } else {
                "Colour: mode; width or opacity: number of trips; grey: suppressed cell (too few trips)."
            },
        );
    }
    if let Some(chart) = chart(&measurement.spec, measurement.title.get(lang), r, fr) {
        html.push_str(&chart);
    }
    let _ = write!(
        html,
        "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        if fr { "Cellule" } else { "Cell" },
        if fr { "Valeur" } else { "Value" },
        if fr {
            "Intervalle à 95 %"
        } else {
            "95 % interval"
        },
    );
    let mut suppressed = Vec::new();
    for (index, cell) in r.cells.iter().enumerate() {
        let words = escape(&cell_words(&measurement.spec.label(index), fr));
        match (cell.value, cell.interval_95) {
            (Some(value), Some((low, high))) => {
                let _ = write!(
                    html,
                    "<tr><td>{words}</td><td class=\"n\">{value}</td><td class=\"n\">[{}, {high}]</td></tr>",
                    low.max(0)
                );
            }
            _ => suppressed.push(words),
        }
    }
    html.push_str("</tbody></table>");
    if !suppressed.is_empty() {
        // A territory prefers no indicator to an imprecise one: say which
        // cells were withheld and why, without a number.
        let _ = write!(
            html,
            "<details class=\"suppressed\"><summary>{} {}</summary><p>{}</p><ul>",
            suppressed.len(),
            if fr {
                "cellules masquées"
            } else {
                "cells suppressed"
            },
            if fr {
                "Trop peu de trajets pour publier un chiffre fiable (valeur bruitée sous le seuil, ou incertitude de plus de ±50 %)."
            } else {
                "Too few trips for a reliable figure (noisy value below the threshold, or more than ±50 % uncertain)."
            },
        );
        for words in suppressed {
            let _ = write!(html, "<li>{words}</li>");
        }
        html.push_str("</ul></details>");
    }
    html.push_str("</section>");
    html
}

/// `?lang=en&published=1&collected=5`: the page, and what an action
/// just did.
#[derive(Deserialize)]
struct CampaignQuery {
    lang: Option<String>,
    published: Option<u8>,
    collected: Option<usize>,
}

/// The colour of a mode group on the portal's maps and charts.
fn group_colour(group: sillage_model::ModeGroup) -> &'static str {
    match group {
        sillage_model::ModeGroup::Walk => "#2a9d8f",
        sillage_model::ModeGroup::Bike => "#d4a017",
        sillage_model::ModeGroup::Car => "#e76f51",
        sillage_model::ModeGroup::Bus => "#264653",
        sillage_model::ModeGroup::Rail => "#8d5fd3",
        sillage_model::ModeGroup::Other => "#888888",
    }
}

/// A bar chart of a modal share (with each group's share when every
/// group was released) or a distance distribution, every bar with its
/// 95 % interval.
fn chart(
    spec: &sillage_catalogue::MeasurementSpec,
    title: &str,
    result: &sillage_collector::PublishedResult,
    fr: bool,
) -> Option<String> {
    use sillage_catalogue::MeasurementSpec;
    if !matches!(
        spec,
        MeasurementSpec::ModalShare { .. } | MeasurementSpec::DistanceHistogram { .. }
    ) {
        return None;
    }
    let all_released = result.cells.iter().all(|c| c.value.is_some());
    let total: i64 = result
        .cells
        .iter()
        .filter_map(|c| c.value)
        .map(|v| v.max(0))
        .sum();
    let bars: Vec<crate::charts::Bar> = result
        .cells
        .iter()
        .enumerate()
        .map(|(index, cell)| {
            let label = spec.label(index);
            let mut words = cell_words(&label, fr);
            if matches!(spec, MeasurementSpec::ModalShare { .. })
                && all_released
                && total > 0
                && let Some(value) = cell.value
            {
                let _ = write!(
                    words,
                    " ≈ {:.0} %",
                    100.0 * value.max(0) as f64 / total as f64
                );
            }
            crate::charts::Bar {
                label: words,
                value: cell.value.map(|v| v as f64),
                interval: cell.interval_95.map(|(l, h)| (l as f64, h as f64)),
                colour: label.mode_group.map(|g| group_colour(g).to_owned()),
            }
        })
        .collect();
    Some(crate::charts::bar_chart(
        title,
        &bars,
        if fr { "masqué" } else { "suppressed" },
    ))
}

async fn campaign(
    State(store): State<CityStore>,
    staff: Staff,
    Path(id): Path<String>,
    Query(q): Query<CampaignQuery>,
) -> Page {
    let fr = q.lang.as_deref() != Some("en");
    let lang = if fr { "fr" } else { "en" };
    let (spec, _) = published(&store, &id).await?;
    let mut releases = store.releases(&id).await?;
    // In the order the campaign lists its measurements.
    releases.sort_by_key(|r| {
        (
            r.wave_id.clone(),
            spec.measurements
                .iter()
                .position(|m| m.id == r.measurement_id),
        )
    });
    let mut body = String::new();
    if q.published.is_some() {
        let _ = write!(
            body,
            "<p role=\"status\" class=\"done\" id=\"published\">{}</p>",
            if fr {
                "Campagne signée, tâches confiées aux deux agrégateurs, publiée aux habitants."
            } else {
                "Campaign signed, its tasks given to both aggregators, published to residents."
            }
        );
    }
    if let Some(n) = q.collected {
        let _ = write!(
            body,
            "<p role=\"status\" class=\"done\" id=\"collected\">{n} {}</p>",
            if fr {
                "résultat(s) collecté(s) et montré(s) aux participants."
            } else {
                "result(s) collected and shown to the participants."
            }
        );
    }
    let wave_words: Vec<String> = spec
        .waves
        .iter()
        .map(|w| {
            let day = |s: u64| {
                let t = sillage_model::Timestamp(s as i64 * 1000);
                t.local_date(sillage_model::paris_offset_min(t))
            };
            format!(
                "{} : {} → {} ({} {})",
                escape(&w.id),
                day(w.start),
                day(w.end.saturating_sub(1)),
                if fr {
                    "contributions jusqu'au"
                } else {
                    "contributions until"
                },
                day(w.reports_until)
            )
        })
        .collect();
    let _ = write!(
        body,
        "<p>{}</p><p>{}. k = {}.</p><p><a href=\"/campaigns/{id}/participation?lang={lang}\">{}</a> · <a href=\"/campaigns/{id}/zones.geojson\">{}</a></p>",
        escape(spec.purpose.get(lang)),
        wave_words.join(" ; "),
        spec.min_contributors,
        if fr {
            "Suivre la participation"
        } else {
            "Follow participation"
        },
        if fr {
            "Zones (GeoJSON, pour une autre campagne sur les mêmes zones)"
        } else {
            "Zones (GeoJSON, for another campaign over the same zones)"
        },
        id = escape(&id),
    );
    if staff.0.member.role == Role::Editor {
        let now = crate::publishing::now_s();
        let pending = spec.waves.iter().any(|w| w.reports_until < now)
            && releases.len()
                < spec.waves.iter().filter(|w| w.reports_until < now).count()
                    * spec.measurements.len();
        let action = |path: &str, label: &str, id_attr: &str| {
            format!(
                "<form method=\"post\" action=\"/campaigns/{}/{path}\" class=\"inline\"><input type=\"hidden\" name=\"csrf\" value=\"{}\"><input type=\"hidden\" name=\"lang\" value=\"{lang}\"><button id=\"{id_attr}\">{label}</button></form> ",
                escape(&id),
                escape(&staff.0.csrf_token),
            )
        };
        body.push_str("<p class=\"actions\">");
        if pending {
            body.push_str(&action(
                "collect",
                if fr {
                    "Collecter les résultats"
                } else {
                    "Collect the results"
                },
                "collect",
            ));
        }
        body.push_str(&action(
            "push",
            if fr {
                "Republier aux hubs des habitants"
            } else {
                "Hand to the residents' hubs again"
            },
            "push",
        ));
        body.push_str("</p>");
    }
    if releases.is_empty() {
        body.push_str(if fr {
            "<p>Pas encore de résultat publié.</p>"
        } else {
            "<p>No result released yet.</p>"
        });
    }
    for release in &releases {
        body.push_str(&release_table(&spec, release, fr));
    }
    let _ = write!(
        body,
        "<p><a href=\"/campaigns/{}/results.json\">{}</a></p>",
        escape(&id),
        if fr {
            "Résultats (JSON)"
        } else {
            "Results (JSON)"
        }
    );
    Ok(page(Some(&staff.0), fr, spec.title.get(lang), &body).into_response())
}

/// `GET /campaigns/{id}/zones.geojson`: the campaign's zones with ids and
/// names, as the designer reads them back.
async fn zones_geojson(
    State(store): State<CityStore>,
    _staff: Staff,
    Path(id): Path<String>,
) -> Page {
    let (spec, _) = published(&store, &id).await?;
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/geo+json".to_owned(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}-zones.geojson\"", spec.id),
            ),
        ],
        crate::designer::zones_geojson(&spec.zones).to_string(),
    )
        .into_response())
}

async fn results_json(
    State(store): State<CityStore>,
    _staff: Staff,
    Path(id): Path<String>,
) -> Page {
    Ok(Json(store.releases(&id).await?).into_response())
}

/// `GET /campaigns/{id}/exports/{task}/{file}`: `cells.geojson`,
/// `cells.csv` or `metadata.json` of one release.
async fn export(
    State(store): State<CityStore>,
    _staff: Staff,
    Path((id, task, file)): Path<(String, String, String)>,
) -> Page {
    let (spec, signed) = published(&store, &id).await?;
    let release = store
        .releases(&id)
        .await?
        .into_iter()
        .find(|r| r.task_id == task)
        .ok_or(PortalError::NotFound("no such release"))?;
    let name = format!("{}-{}-{}", spec.id, release.wave_id, release.measurement_id);
    let (body, content_type, file_name) = match file.as_str() {
        "cells.geojson" => (
            crate::exports::geojson(&spec, &release).to_string(),
            "application/geo+json",
            format!("{name}.geojson"),
        ),
        "cells.csv" => (
            crate::exports::csv(&spec, &release),
            "text/csv; charset=utf-8",
            format!("{name}.csv"),
        ),
        "metadata.json" => (
            crate::exports::metadata(&spec, &signed, &release).to_string(),
            "application/json",
            format!("{name}.metadata.json"),
        ),
        _ => {
            return Err(PortalError::NotFound(
                "expected cells.geojson, cells.csv or metadata.json",
            ));
        }
    };
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, content_type.to_owned()),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
        ],
        body,
    )
        .into_response())
}

/// `GET /campaigns/{id}/participation`: reports received per wave and
/// measurement against the minimum k, as the leader counts them — numbers
/// only, nothing about anyone.
async fn participation(
    State(store): State<CityStore>,
    staff: Staff,
    Path(id): Path<String>,
    Query(q): Query<LangQuery>,
) -> Page {
    let fr = q.fr();
    let lang = if fr { "fr" } else { "en" };
    let (spec, _) = published(&store, &id).await?;
    let tokens = store.collector_tokens().await?;
    let client = reqwest::Client::new();
    let mut body = format!(
        "<p>{}</p><table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        if fr {
            "Rapports reçus par l'agrégateur principal, comparés au minimum de participants : des nombres, jamais une personne."
        } else {
            "Reports received by the leader, against the minimum of participants: numbers, never a person."
        },
        if fr { "Période" } else { "Wave" },
        if fr { "Mesure" } else { "Measurement" },
        if fr {
            "Reçus / minimum"
        } else {
            "Received / minimum"
        },
        if fr { "Refusés" } else { "Refused" },
        if fr { "État" } else { "State" },
    );
    for wave in &spec.waves {
        for measurement in &spec.measurements {
            let task = spec.task_id(wave, measurement).to_string();
            let counts = match tokens.get(&task) {
                Some(token) => {
                    crate::leader::task_counts(&client, &spec.leader.url, &task, token).await
                }
                None => Err(if fr {
                    "jeton de la ville absent".into()
                } else {
                    "no city token".into()
                }),
            };
            let (received, rejected, state) = match counts {
                Ok(c) => {
                    let state = match (c.collected, c.received >= c.k) {
                        (true, _) => {
                            if fr {
                                "collecté"
                            } else {
                                "collected"
                            }
                        }
                        (false, true) => {
                            if fr {
                                "minimum atteint"
                            } else {
                                "minimum reached"
                            }
                        }
                        (false, false) => {
                            if fr {
                                "en attente"
                            } else {
                                "waiting"
                            }
                        }
                    };
                    (
                        format!(
                            "<meter min=\"0\" max=\"{k}\" value=\"{r}\"></meter> {r} / {k}",
                            k = c.k,
                            r = c.received
                        ),
                        c.rejected.to_string(),
                        state.to_owned(),
                    )
                }
                Err(e) => (
                    "—".into(),
                    "—".into(),
                    format!(
                        "{} ({})",
                        if fr {
                            "agrégateur injoignable"
                        } else {
                            "leader unreachable"
                        },
                        escape(&e)
                    ),
                ),
            };
            let _ = write!(
                body,
                "<tr><td>{}</td><td>{}</td><td class=\"n\">{received}</td><td class=\"n\">{rejected}</td><td>{state}</td></tr>",
                escape(&wave.id),
                escape(measurement.title.get(lang)),
            );
        }
    }
    body.push_str("</tbody></table>");
    Ok(page(
        Some(&staff.0),
        fr,
        &format!("{} — participation", spec.title.get(lang)),
        &body,
    )
    .into_response())
}
