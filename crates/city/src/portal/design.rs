//! The campaign designer's pages: the form (area drawn on the map or
//! uploaded, zones uploaded or an H3 grid, measurements, privacy
//! parameters, the wave), its live explanation, publishing, and the
//! editor's actions on a published campaign (collect, hand to hubs again).

use super::auth::{Editor, Staff};
use super::{LangQuery, escape, page};
use crate::designer::{self, DesignForm};
use crate::planning::Consequences;
use crate::publishing::{self, PublishError};
use crate::store::CityStore;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Redirect, Response};
use serde::Deserialize;
use sillage_model::Timestamp;
use std::fmt::Write as _;
use std::time::Duration;

/// The designer's form as posted: the campaign's fields, the session's
/// CSRF token and the page's language.
#[derive(Deserialize)]
pub(super) struct Posted {
    #[serde(flatten)]
    form: DesignForm,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    lang: String,
}

/// What one measurement's parameters cost, in words.
pub(super) fn explanation(
    c: &Consequences,
    epsilon: f64,
    cap: u32,
    participants: u64,
    cells: u64,
    threshold: u64,
    fr: bool,
) -> String {
    let percent = format!("{:.1}", 100.0 * c.share_needed);
    let withheld = cells - c.cells_publishable_at_most;
    if fr {
        format!(
            "Avec ε = {epsilon} et au plus {cap} unité(s) par personne, chacun des deux agrégateurs ajoute un bruit d'échelle {:.0} ; \
             un chiffre publié est à ± {} près (intervalle à 95 %, écart type {:.1}). Une case n'est publiée qu'à partir de {} \
             (deux fois cette marge, ou le seuil de {threshold}) : aucun chiffre n'est incertain à plus de 50 %. \
             Avec {participants} participants (au plus {} unités), une case doit réunir au moins {percent} % de toutes les unités : \
             au plus {} case(s) sur {cells} peuvent être publiées, au moins {withheld} seront masquées. Si les trajets se répartissaient \
             également sur les {cells} cases, il faudrait {} participants pour les publier toutes.",
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
             at most {} of {cells} cell(s) can be published, at least {withheld} will be suppressed. Were trips spread evenly \
             over the {cells} cells, {} participants would be needed to publish them all.",
            c.noise_scale,
            c.interval_half_width,
            c.noise_sd,
            c.release_at,
            c.units_at_most,
            c.cells_publishable_at_most,
            c.participants_if_even
        )
    }
}

/// A fresh form: the next four weeks, the usual measurements.
fn defaults() -> DesignForm {
    let day = |days: i64| {
        let t = Timestamp(Timestamp::now().0 + days * 86_400_000);
        t.local_date(sillage_model::paris_offset_min(t))
    };
    let on = || Some("on".to_owned());
    DesignForm {
        zones_source: "h3".into(),
        zone_resolution: "7".into(),
        heat_resolution: "8".into(),
        walk: on(),
        bike: on(),
        car: on(),
        bus: on(),
        od: on(),
        od_bands: "day".into(),
        od_epsilon: "1".into(),
        od_cap: "4".into(),
        heat: on(),
        heat_epsilon: "2".into(),
        heat_cap: "20".into(),
        share_trips: on(),
        share_epsilon: "0.5".into(),
        share_cap: "20".into(),
        share_km: on(),
        km_epsilon: "0.5".into(),
        km_cap: "40".into(),
        distances: on(),
        distances_epsilon: "0.5".into(),
        distances_cap: "20".into(),
        distance_bounds: "0, 0.5, 1, 2, 3, 5".into(),
        first_day: day(1),
        last_day: day(28),
        reports_until: format!("{}T12:00", day(30)),
        min_contributors: "100".into(),
        threshold: "10".into(),
        participants: "350".into(),
        ..DesignForm::default()
    }
}

fn input(name: &str, label: &str, value: &str, kind: &str, extra: &str) -> String {
    format!(
        "<label>{label} <input name=\"{name}\" type=\"{kind}\" value=\"{}\" {extra}></label> ",
        escape(value)
    )
}

fn checkbox(name: &str, label: &str, ticked: bool) -> String {
    format!(
        "<label><input type=\"checkbox\" name=\"{name}\"{}> {label}</label> ",
        if ticked { " checked" } else { "" }
    )
}

/// The designer's form, filled with `form`.
fn render(staff: &Staff, form: &DesignForm, fr: bool, error: Option<&str>) -> Response {
    let t = |f: &'static str, e: &'static str| if fr { f } else { e };
    let lang = if fr { "fr" } else { "en" };
    let mut body = String::new();
    if let Some(error) = error {
        let _ = write!(
            body,
            "<p role=\"alert\" class=\"error\" id=\"publish-error\">{}</p>",
            escape(error)
        );
    }
    let _ = write!(
        body,
        "<form method=\"post\" action=\"/design\" id=\"designer\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><input type=\"hidden\" name=\"lang\" value=\"{lang}\">",
        csrf = escape(&staff.0.csrf_token),
    );
    let _ = write!(
        body,
        "<fieldset><legend>{}</legend><p>{}</p><p>{}{}</p><p>{}{}</p></fieldset>",
        t("La campagne", "The campaign"),
        input(
            "id",
            t(
                "Identifiant (lettres, chiffres, tirets)",
                "Id (letters, digits, dashes)"
            ),
            &form.id,
            "text",
            "required pattern=\"[a-z0-9\\-]{1,64}\""
        ),
        input(
            "title_fr",
            t("Titre (français)", "Title (French)"),
            &form.title_fr,
            "text",
            "required size=\"40\""
        ),
        input(
            "title_en",
            t("Titre (anglais)", "Title (English)"),
            &form.title_en,
            "text",
            "required size=\"40\""
        ),
        input(
            "purpose_fr",
            t("Finalité (français)", "Purpose (French)"),
            &form.purpose_fr,
            "text",
            "required size=\"60\""
        ),
        input(
            "purpose_en",
            t("Finalité (anglais)", "Purpose (English)"),
            &form.purpose_en,
            "text",
            "required size=\"60\""
        ),
    );
    let _ = write!(
        body,
        "<fieldset><legend>{legend}</legend><p>{help}</p>\
         <div class=\"map\" id=\"draw-map\" data-basemap=\"/assets/basemap.geojson\" role=\"application\" aria-label=\"{aria}\"></div>\
         <p><button type=\"button\" id=\"clear-area\">{clear}</button> <label>{upload} <input type=\"file\" id=\"area-file\" accept=\".geojson,.json,application/geo+json\"></label></p>\
         <p><label>{as_geojson}<br><textarea name=\"area\" id=\"area\" rows=\"3\">{area}</textarea></label></p></fieldset>",
        legend = t("Le territoire étudié", "The area"),
        help = t(
            "Cliquez sur la carte pour tracer le périmètre (un clic par sommet ; le polygone se ferme seul), ou déposez un fichier GeoJSON.",
            "Click on the map to draw the area (one click per vertex; the polygon closes itself), or upload a GeoJSON file."
        ),
        aria = t("Carte pour tracer le périmètre", "Map to draw the area"),
        clear = t("Effacer le tracé", "Clear the drawing"),
        upload = t("Périmètre en GeoJSON :", "Area as GeoJSON:"),
        as_geojson = t("Périmètre (GeoJSON)", "Area (GeoJSON)"),
        area = escape(&form.area),
    );
    let _ = write!(
        body,
        "<fieldset><legend>{legend}</legend>\
         <p><label><input type=\"radio\" name=\"zones_source\" value=\"h3\"{h3}> {grid}</label> {res}</p>\
         <p><label><input type=\"radio\" name=\"zones_source\" value=\"geojson\"{gj}> {uploaded}</label> <input type=\"file\" id=\"zones-file\" accept=\".geojson,.json,application/geo+json\"></p>\
         <p><label>{zones_label}<br><textarea name=\"zones_geojson\" id=\"zones_geojson\" rows=\"3\">{zones}</textarea></label></p></fieldset>",
        legend = t("Les zones origine–destination", "Origin–destination zones"),
        h3 = if form.zones_source != "geojson" {
            " checked"
        } else {
            ""
        },
        gj = if form.zones_source == "geojson" {
            " checked"
        } else {
            ""
        },
        grid = t("Grille H3 sur le périmètre", "H3 grid over the area"),
        res = input(
            "zone_resolution",
            t("résolution", "resolution"),
            &form.zone_resolution,
            "number",
            "min=\"5\" max=\"9\""
        ),
        uploaded = t(
            "Zones importées (GeoJSON : id, name — IRIS, quartiers…)",
            "Uploaded zones (GeoJSON: id, name — IRIS, districts…)"
        ),
        zones_label = t("Zones (GeoJSON)", "Zones (GeoJSON)"),
        zones = escape(&form.zones_geojson),
    );
    let _ = write!(
        body,
        "<fieldset><legend>{}</legend><p>{}{}{}{}{}</p></fieldset>",
        t("Modes comptés", "Mode groups counted"),
        checkbox("walk", t("marche", "walking"), form.walk.is_some()),
        checkbox("bike", t("vélo", "cycling"), form.bike.is_some()),
        checkbox("car", t("voiture", "car"), form.car.is_some()),
        checkbox("bus", t("bus", "bus"), form.bus.is_some()),
        checkbox("rail", t("train", "rail"), form.rail.is_some()),
    );
    let measurement = |key: &str,
                       ticked: bool,
                       title: &str,
                       epsilon: (&str, &str),
                       cap: (&str, &str),
                       more: String| {
        format!(
            "<div class=\"measurement\" data-measurement=\"{key}\"><p>{}{}{}{more}</p><p class=\"explain\" data-explain=\"{key}\" aria-live=\"polite\"></p></div>",
            checkbox(key, title, ticked),
            input(
                epsilon.0,
                "ε",
                epsilon.1,
                "number",
                "min=\"0.05\" max=\"10\" step=\"0.05\""
            ),
            input(
                cap.0,
                t("plafond par personne", "cap per person"),
                cap.1,
                "number",
                "min=\"1\" max=\"1000\""
            ),
        )
    };
    let bands = format!(
        "<label>{} <select name=\"od_bands\"><option value=\"day\"{}>{}</option><option value=\"peaks\"{}>{}</option></select></label>",
        t("périodes", "bands"),
        if form.od_bands != "peaks" {
            " selected"
        } else {
            ""
        },
        t("6 h – 22 h", "6 am – 10 pm"),
        if form.od_bands == "peaks" {
            " selected"
        } else {
            ""
        },
        t("pointes et creux", "peaks and off-peak"),
    );
    let _ = write!(
        body,
        "<fieldset><legend>{}</legend><p>{}</p>{}{}{}{}{}</fieldset>",
        t(
            "Mesures (catalogue) et confidentialité",
            "Measurements (catalogue) and privacy"
        ),
        t(
            "Chaque mesure reçoit son budget ε ; le plafond borne ce qu'une personne peut ajouter. L'explication sous chaque mesure se met à jour à chaque modification.",
            "Each measurement gets its budget ε; the cap bounds what one person can add. The explanation under each measurement updates on every change."
        ),
        measurement(
            "od",
            form.od.is_some(),
            t(
                "Flux origine–destination entre zones",
                "Origin–destination flows between zones"
            ),
            ("od_epsilon", &form.od_epsilon),
            ("od_cap", &form.od_cap),
            bands
        ),
        measurement(
            "heat",
            form.heat.is_some(),
            t(
                "Carte de chaleur H3 par heure et mode",
                "H3 heat map by hour and mode"
            ),
            ("heat_epsilon", &form.heat_epsilon),
            ("heat_cap", &form.heat_cap),
            input(
                "heat_resolution",
                t("résolution", "resolution"),
                &form.heat_resolution,
                "number",
                "min=\"6\" max=\"10\""
            )
        ),
        measurement(
            "share_trips",
            form.share_trips.is_some(),
            t("Part modale (trajets)", "Modal share (trips)"),
            ("share_epsilon", &form.share_epsilon),
            ("share_cap", &form.share_cap),
            String::new()
        ),
        measurement(
            "share_km",
            form.share_km.is_some(),
            t("Part modale (km)", "Modal share (km)"),
            ("km_epsilon", &form.km_epsilon),
            ("km_cap", &form.km_cap),
            String::new()
        ),
        measurement(
            "distances",
            form.distances.is_some(),
            t("Distribution des distances", "Distance distribution"),
            ("distances_epsilon", &form.distances_epsilon),
            ("distances_cap", &form.distances_cap),
            input(
                "distance_bounds",
                t("bornes (km)", "bounds (km)"),
                &form.distance_bounds,
                "text",
                ""
            )
        ),
    );
    let _ = write!(
        body,
        "<fieldset><legend>{}</legend><p>{}{}{}</p><p>{}{}{}</p></fieldset>",
        t(
            "Période, seuils et participation",
            "Period, thresholds and participation"
        ),
        input(
            "first_day",
            t("Premier jour mesuré", "First measured day"),
            &form.first_day,
            "date",
            "required"
        ),
        input(
            "last_day",
            t("Dernier jour mesuré", "Last measured day"),
            &form.last_day,
            "date",
            "required"
        ),
        input(
            "reports_until",
            t(
                "Contributions reçues jusqu'au",
                "Contributions accepted until"
            ),
            &form.reports_until,
            "datetime-local",
            "required step=\"1\""
        ),
        input(
            "min_contributors",
            t("Minimum de contributeurs (k)", "Minimum contributors (k)"),
            &form.min_contributors,
            "number",
            "min=\"2\""
        ),
        input(
            "threshold",
            t("Seuil de publication", "Publication threshold"),
            &form.threshold,
            "number",
            "min=\"0\""
        ),
        input(
            "participants",
            t("Participants attendus", "Expected participants"),
            &form.participants,
            "number",
            "min=\"1\""
        ),
    );
    let _ = write!(
        body,
        "<p id=\"preview-status\" aria-live=\"polite\"></p><p><button type=\"submit\" id=\"publish\">{}</button></p></form>\
         <script type=\"module\" src=\"/assets/designer.mjs\"></script>",
        t(
            "Signer et publier aux habitants",
            "Sign and publish to residents"
        ),
    );
    page(
        Some(&staff.0),
        fr,
        t("Concevoir une campagne", "Design a campaign"),
        &body,
    )
    .into_response()
}

/// `GET /design`.
pub(super) async fn form(editor: Editor, Query(q): Query<LangQuery>) -> Response {
    render(&editor.staff(), &defaults(), q.fr(), None)
}

/// `POST /design/preview`: the zones and, per measurement, what its
/// parameters cost — or the first field in error.
pub(super) async fn preview(editor: Editor, Form(posted): Form<Posted>) -> Response {
    if let Some(refused) = editor.staff().csrf_refusal(&posted.csrf) {
        return refused;
    }
    let fr = posted.lang != "en";
    let form = posted.form;
    let outcome = tokio::task::spawn_blocking(move || designer::draft(&form)).await;
    let draft = match outcome {
        Ok(Ok(draft)) => draft,
        Ok(Err(error)) => {
            return Json(serde_json::json!({
                "error": { "field": error.field, "message": error.localized(fr) },
            }))
            .into_response();
        }
        Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    };
    let explanations: Vec<serde_json::Value> = draft
        .explain(if fr { "fr" } else { "en" })
        .into_iter()
        .map(|e| {
            let text = match &e.consequences {
                Ok(c) => explanation(c, e.epsilon, e.cap, draft.participants, e.cells, draft.threshold, fr),
                Err(error) => error.clone(),
            };
            serde_json::json!({
                "id": e.id,
                "cells": e.cells,
                "text": format!("{} — {} {}. {text}", e.title, e.cells, if fr { "cases" } else { "cells" }),
                "consequences": e.consequences.ok(),
            })
        })
        .collect();
    Json(serde_json::json!({
        "zones": draft.zones_geojson(),
        "zone_count": draft.zones.len(),
        "measurements": explanations,
        "min_contributors": draft.min_contributors,
    }))
    .into_response()
}

/// `POST /design`: signs and publishes, then shows the campaign.
pub(super) async fn publish(
    State(store): State<CityStore>,
    editor: Editor,
    Form(posted): Form<Posted>,
) -> Response {
    let staff = editor.staff();
    if let Some(refused) = staff.csrf_refusal(&posted.csrf) {
        return refused;
    }
    let fr = posted.lang != "en";
    let form = posted.form;
    let parsed = {
        let form = form.clone();
        tokio::task::spawn_blocking(move || designer::draft(&form)).await
    };
    let outcome = match parsed {
        Ok(Ok(draft)) => publishing::publish(&store, &publishing::http_client(), &draft).await,
        Ok(Err(error)) => Err(PublishError::Design(error)),
        Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    };
    match outcome {
        Ok(spec) => Redirect::to(&format!(
            "/campaigns/{}?lang={}&published=1",
            spec.id,
            if fr { "fr" } else { "en" }
        ))
        .into_response(),
        Err(error) => {
            let words = match &error {
                PublishError::Design(design) => design.localized(fr),
                other => other.to_string(),
            };
            let mut response = render(&staff, &form, fr, Some(&words));
            *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            response
        }
    }
}

#[derive(Deserialize)]
pub(super) struct ActionForm {
    csrf: String,
    #[serde(default)]
    lang: String,
}

fn action_failed(staff: &Staff, id: &str, fr: bool, error: &PublishError) -> Response {
    let body = format!(
        "<p role=\"alert\" class=\"error\">{}</p><p><a href=\"/campaigns/{}?lang={}\">{}</a></p>",
        escape(&error.to_string()),
        escape(id),
        if fr { "fr" } else { "en" },
        if fr {
            "Retour à la campagne"
        } else {
            "Back to the campaign"
        },
    );
    let mut response = page(
        Some(&staff.0),
        fr,
        if fr {
            "Action impossible"
        } else {
            "Action failed"
        },
        &body,
    )
    .into_response();
    *response.status_mut() = StatusCode::BAD_GATEWAY;
    response
}

/// `POST /campaigns/{id}/collect`: collects every closed wave's tasks,
/// then shows the results back to the citizens through their hubs.
pub(super) async fn collect(
    State(store): State<CityStore>,
    editor: Editor,
    Path(id): Path<String>,
    Form(action): Form<ActionForm>,
) -> Response {
    let staff = editor.staff();
    if let Some(refused) = staff.csrf_refusal(&action.csrf) {
        return refused;
    }
    let fr = action.lang != "en";
    let client = publishing::http_client();
    let outcome = async {
        let collected = publishing::collect(&store, &client, &id, Duration::from_secs(30)).await?;
        publishing::push_results(&store, &client, &id).await?;
        Ok::<usize, PublishError>(collected.len())
    }
    .await;
    match outcome {
        Ok(n) => Redirect::to(&format!(
            "/campaigns/{id}?lang={}&collected={n}",
            if fr { "fr" } else { "en" }
        ))
        .into_response(),
        Err(error) => action_failed(&staff, &id, fr, &error),
    }
}

/// `POST /campaigns/{id}/push`: hands the signed campaign to the hubs
/// again (after a hub was unreachable at publication).
pub(super) async fn push(
    State(store): State<CityStore>,
    editor: Editor,
    Path(id): Path<String>,
    Form(action): Form<ActionForm>,
) -> Response {
    let staff = editor.staff();
    if let Some(refused) = staff.csrf_refusal(&action.csrf) {
        return refused;
    }
    let fr = action.lang != "en";
    match publishing::push_campaign(&store, &publishing::http_client(), &id).await {
        Ok(()) => Redirect::to(&format!(
            "/campaigns/{id}?lang={}&published=1",
            if fr { "fr" } else { "en" }
        ))
        .into_response(),
        Err(error) => action_failed(&staff, &id, fr, &error),
    }
}
