//! The city portal's pages: published campaigns and their released
//! results, every figure with its contributors, ε and 95 % interval, and
//! suppressed cells shown as such. French by default, `?lang=en` for
//! English.

use crate::store::{CityError, CityStore, Release};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Json, Response};
use axum::routing::get;
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
            get(|| async {
                (
                    [(axum::http::header::CONTENT_TYPE, "text/javascript")],
                    include_str!("../assets/portal.mjs"),
                )
            }),
        )
        .route("/", get(home))
        .route("/healthz", get(|| async { "ok" }))
        .route("/design", get(design))
        .route("/campaigns/{id}", get(campaign))
        .route("/campaigns/{id}/results.json", get(results_json))
        .route("/campaigns/{id}/participation", get(participation))
        .route("/campaigns/{id}/exports/{task}/{file}", get(export))
        .with_state(store)
}

/// `?lang=en`.
#[derive(Deserialize)]
struct LangQuery {
    lang: Option<String>,
}

impl LangQuery {
    fn fr(&self) -> bool {
        self.lang.as_deref() != Some("en")
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn page(fr: bool, title: &str, body: &str) -> Html<String> {
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
         td.n{{text-align:right;font-variant-numeric:tabular-nums}}tr.suppressed td{{color:#888;background:#f3f3f3}}.map{{height:26rem;border:1px solid #ccc;margin:.5rem 0}}</style>\
         <link rel=\"stylesheet\" href=\"/assets/vendor/maplibre/maplibre-gl.css\"><script type=\"module\" src=\"/assets/portal.mjs\"></script></head>\
         <body><nav><a href=\"/?lang={lang}\">{home}</a> · <a href=\"?lang={other}\">{other_label}</a></nav>\
         <h1>{title}</h1>{body}</body></html>",
        home = if fr {
            "Portail de la ville"
        } else {
            "City portal"
        },
    ))
}

/// Why a portal page cannot be shown.
enum PortalError {
    /// No such campaign or release.
    NotFound(&'static str),
    /// The city's database failed.
    Database(CityError),
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

async fn home(State(store): State<CityStore>, Query(q): Query<LangQuery>) -> Page {
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
    let _ = write!(
        body,
        "<p><a href=\"/design?lang={}\">{}</a></p><ul>",
        if fr { "fr" } else { "en" },
        if fr {
            "Concevoir une campagne : ce que coûtent les paramètres de confidentialité"
        } else {
            "Design a campaign: what privacy parameters cost"
        }
    );
    for (spec, _) in &campaigns {
        let lang = if fr { "fr" } else { "en" };
        let _ = write!(
            body,
            "<li><a href=\"/campaigns/{id}?lang={lang}\">{title}</a> — {purpose}</li>",
            id = escape(&spec.id),
            title = escape(spec.title.get(lang)),
            purpose = escape(spec.purpose.get(lang)),
        );
    }
    body.push_str("</ul>");
    Ok(page(
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

async fn campaign(
    State(store): State<CityStore>,
    Path(id): Path<String>,
    Query(q): Query<LangQuery>,
) -> Page {
    let fr = q.fr();
    let lang = if fr { "fr" } else { "en" };
    let (spec, _) = published(&store, &id).await?;
    let releases = store.releases(&id).await?;
    let mut body = format!(
        "<p>{}</p><p><a href=\"/campaigns/{}/participation?lang={lang}\">{}</a></p>",
        escape(spec.purpose.get(lang)),
        escape(&id),
        if fr {
            "Suivre la participation"
        } else {
            "Follow participation"
        }
    );
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
    Ok(page(fr, spec.title.get(lang), &body).into_response())
}

async fn results_json(State(store): State<CityStore>, Path(id): Path<String>) -> Page {
    Ok(Json(store.releases(&id).await?).into_response())
}

/// `GET /campaigns/{id}/exports/{task}/{file}`: `cells.geojson`,
/// `cells.csv` or `metadata.json` of one release.
async fn export(
    State(store): State<CityStore>,
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
    Path(id): Path<String>,
    Query(q): Query<LangQuery>,
) -> Page {
    let fr = q.fr();
    let lang = if fr { "fr" } else { "en" };
    let (spec, _) = published(&store, &id).await?;
    let tokens: std::collections::BTreeMap<String, String> = store
        .secret("collector_tokens")
        .await?
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default();
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
        fr,
        &format!("{} — participation", spec.title.get(lang)),
        &body,
    )
    .into_response())
}

/// The designer's parameters (`GET /design?epsilon=1&cap=4&…`).
#[derive(Deserialize)]
struct DesignQuery {
    lang: Option<String>,
    epsilon: Option<f64>,
    cap: Option<u32>,
    participants: Option<u64>,
    cells: Option<u64>,
    threshold: Option<u64>,
}

/// `GET /design`: the privacy parameters of a measurement and, live, what
/// they cost: noise, interval, the smallest published value, the share of
/// all trips a cell needs, how many cells can be published.
async fn design(Query(q): Query<DesignQuery>) -> Response {
    let fr = q.lang.as_deref() != Some("en");
    let (epsilon, cap, participants, cells, threshold) = (
        q.epsilon.unwrap_or(1.0),
        q.cap.unwrap_or(4),
        q.participants.unwrap_or(350),
        q.cells.unwrap_or(256),
        q.threshold.unwrap_or(10),
    );
    let field = |name: &str, label: &str, value: String, step: &str| {
        format!(
            "<label>{label} <input name=\"{name}\" type=\"number\" min=\"0\" step=\"{step}\" value=\"{value}\"></label> "
        )
    };
    let mut body = format!(
        "<form method=\"get\" action=\"/design\"><input type=\"hidden\" name=\"lang\" value=\"{}\">{}{}{}{}{}<button>{}</button></form>",
        if fr { "fr" } else { "en" },
        field("epsilon", "ε", epsilon.to_string(), "0.1"),
        field(
            "cap",
            if fr {
                "plafond par personne"
            } else {
                "cap per person"
            },
            cap.to_string(),
            "1"
        ),
        field(
            "participants",
            if fr {
                "participants attendus"
            } else {
                "expected participants"
            },
            participants.to_string(),
            "1"
        ),
        field(
            "cells",
            if fr {
                "cases de la mesure"
            } else {
                "cells of the measurement"
            },
            cells.to_string(),
            "1"
        ),
        field(
            "threshold",
            if fr {
                "seuil de publication"
            } else {
                "publication threshold"
            },
            threshold.to_string(),
            "1"
        ),
        if fr { "Calculer" } else { "Compute" },
    );
    match crate::planning::consequences(epsilon, cap, participants, cells, threshold) {
        Ok(c) => {
            let percent = format!("{:.1}", 100.0 * c.share_needed);
            let _ = write!(
                body,
                "<p id=\"consequences\">{}</p>",
                if fr {
                    format!(
                        "Avec ε = {epsilon} et au plus {cap} unité(s) par personne, chacun des deux agrégateurs ajoute un bruit d'échelle {:.0} ; \
                         un chiffre publié est à ± {} près (intervalle à 95 %, écart type {:.1}). Une case n'est publiée qu'à partir de {} \
                         (deux fois cette marge, ou le seuil de {threshold}) : aucun chiffre n'est incertain à plus de 50 %. \
                         Avec {participants} participants (au plus {} unités), une case doit réunir au moins {percent} % de toutes les unités : \
                         au plus {} case(s) sur {cells} peuvent être publiées. Si les trajets se répartissaient également sur les {cells} cases, \
                         il faudrait {} participants pour les publier toutes.",
                        c.noise_scale,
                        c.interval_half_width,
                        c.noise_sd,
                        c.release_at,
                        c.units_at_most,
                        c.cells_publishable_at_most,
                        c.participants_if_even
                    )
                } else {
                    format!(
                        "With ε = {epsilon} and at most {cap} unit(s) per person, each of the two aggregators adds noise of scale {:.0}; \
                         a published figure is within ± {} (95 % interval, standard deviation {:.1}). A cell is published only from {} \
                         (twice that margin, or the threshold of {threshold}): no figure is more than 50 % uncertain. \
                         With {participants} participants (at most {} units), a cell must hold at least {percent} % of all units: \
                         at most {} of {cells} cell(s) can be published. Were trips spread evenly over the {cells} cells, \
                         {} participants would be needed to publish them all.",
                        c.noise_scale,
                        c.interval_half_width,
                        c.noise_sd,
                        c.release_at,
                        c.units_at_most,
                        c.cells_publishable_at_most,
                        c.participants_if_even
                    )
                }
            );
        }
        Err(e) => {
            let _ = write!(
                body,
                "<p id=\"consequences\" role=\"alert\">{}</p>",
                escape(&e.to_string())
            );
        }
    }
    page(
        fr,
        if fr {
            "Concevoir une campagne : confidentialité et précision"
        } else {
            "Design a campaign: privacy and precision"
        },
        &body,
    )
    .into_response()
}
