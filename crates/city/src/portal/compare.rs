//! The before/after page: two campaigns over the same zones (before and
//! after a new cycle lane, say), measurement by measurement, each
//! difference with its 95 % interval. No difference is computed from a
//! withheld figure.

use super::auth::Staff;
use super::{Page, cell_words, escape, page, published};
use crate::charts::{Bar, difference_chart};
use crate::compare::{Comparison, compare};
use crate::store::{CityStore, Release};
use axum::extract::{Query, State};
use axum::response::IntoResponse;
use serde::Deserialize;
use sillage_campaign::{CampaignSpec, SignedCampaign};
use std::fmt::Write as _;

/// `GET /compare?before=…&after=…`.
#[derive(Deserialize)]
pub(super) struct CompareQuery {
    before: String,
    after: String,
    lang: Option<String>,
}

/// The two selects choosing what to compare (on the home page).
pub(super) fn chooser(campaigns: &[(CampaignSpec, SignedCampaign)], fr: bool) -> String {
    let lang = if fr { "fr" } else { "en" };
    let options = |selected: usize| {
        campaigns
            .iter()
            .enumerate()
            .map(|(k, (spec, _))| {
                format!(
                    "<option value=\"{}\"{}>{}</option>",
                    escape(&spec.id),
                    if k == selected { " selected" } else { "" },
                    escape(spec.title.get(lang))
                )
            })
            .collect::<String>()
    };
    // Newest first: by default the older campaign is "before".
    format!(
        "<form method=\"get\" action=\"/compare\" class=\"compare\"><h2>{}</h2><input type=\"hidden\" name=\"lang\" value=\"{lang}\">\
         <label>{} <select name=\"before\">{}</select></label> <label>{} <select name=\"after\">{}</select></label> <button>{}</button></form>",
        if fr {
            "Comparer avant / après"
        } else {
            "Compare before / after"
        },
        if fr { "Avant" } else { "Before" },
        options(1),
        if fr { "Après" } else { "After" },
        options(0),
        if fr { "Comparer" } else { "Compare" },
    )
}

/// Days measured (rounded: a day is 23 or 25 hours when the clocks change).
fn days(spec: &CampaignSpec) -> u64 {
    spec.waves
        .iter()
        .map(|w| ((w.end - w.start) as f64 / 86_400.0).round() as u64)
        .sum()
}

fn table(comparison: &Comparison, fr: bool) -> String {
    let mut html = format!(
        "<table class=\"comparison\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        if fr { "Cellule" } else { "Cell" },
        if fr { "Avant" } else { "Before" },
        if fr { "Après" } else { "After" },
        if fr { "Différence" } else { "Difference" },
        if fr {
            "Intervalle à 95 %"
        } else {
            "95 % interval"
        },
    );
    let mut without = 0;
    for cell in &comparison.cells {
        let (Some(d), Some((low, high))) = (cell.difference, cell.interval_95) else {
            without += 1;
            continue;
        };
        let strong = |text: String| {
            if cell.significant {
                format!("<strong>{text}</strong>")
            } else {
                text
            }
        };
        let _ = write!(
            html,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">[{low:+}, {high:+}]</td></tr>",
            escape(&cell_words(&cell.label, fr)),
            cell.before.unwrap_or_default(),
            cell.after.unwrap_or_default(),
            strong(format!("{d:+}")),
        );
    }
    html.push_str("</tbody></table>");
    if without > 0 {
        // A territory prefers no indicator to an imprecise one: no
        // difference is computed where either figure was withheld.
        let _ = write!(
            html,
            "<p class=\"withheld\">{without} {}</p>",
            if fr {
                "cellule(s) sans différence : un des deux chiffres est masqué."
            } else {
                "cell(s) without a difference: one of the two figures is suppressed."
            }
        );
    }
    html
}

/// The release of measurement `id` in the campaign's last collected wave.
fn release_of<'a>(spec: &CampaignSpec, releases: &'a [Release], id: &str) -> Option<&'a Release> {
    spec.waves.iter().rev().find_map(|wave| {
        releases
            .iter()
            .find(|r| r.wave_id == wave.id && r.measurement_id == id)
    })
}

pub(super) async fn page_handler(
    State(store): State<CityStore>,
    staff: Staff,
    Query(q): Query<CompareQuery>,
) -> Page {
    let fr = q.lang.as_deref() != Some("en");
    let lang = if fr { "fr" } else { "en" };
    let (before, _) = published(&store, &q.before).await?;
    let (after, _) = published(&store, &q.after).await?;
    let (before_releases, after_releases) = (
        store.releases(&before.id).await?,
        store.releases(&after.id).await?,
    );
    let mut body = format!(
        "<p>{} <a href=\"/campaigns/{}?lang={lang}\">{}</a> ({} {}) → <a href=\"/campaigns/{}?lang={lang}\">{}</a> ({} {}).</p><p>{}</p>",
        if fr {
            "Avant → après :"
        } else {
            "Before → after:"
        },
        escape(&before.id),
        escape(before.title.get(lang)),
        days(&before),
        if fr { "jours" } else { "days" },
        escape(&after.id),
        escape(after.title.get(lang)),
        days(&after),
        if fr { "jours" } else { "days" },
        if fr {
            "Chaque différence est donnée avec son intervalle à 95 % (les deux bruits s'additionnent) ; en gras, celles dont l'intervalle exclut zéro. \
             Aucune différence n'est calculée à partir d'un chiffre masqué."
        } else {
            "Each difference comes with its 95 % interval (both noises add up); in bold, those whose interval excludes zero. \
             No difference is computed from a suppressed figure."
        },
    );
    if days(&before) != days(&after) {
        let _ = write!(
            body,
            "<p class=\"error\">{}</p>",
            if fr {
                "Les deux périodes n'ont pas la même durée : comparez les parts et les tendances plutôt que les totaux."
            } else {
                "The two periods differ in length: compare shares and trends rather than totals."
            }
        );
    }
    let mut compared = 0;
    for measurement in &after.measurements {
        let Some(after_release) = release_of(&after, &after_releases, &measurement.id) else {
            continue;
        };
        let Some((before_measurement, before_release)) = before
            .measurements
            .iter()
            .find(|m| m.id == measurement.id)
            .and_then(|m| Some((m, release_of(&before, &before_releases, &m.id)?)))
        else {
            continue;
        };
        let _ = write!(
            body,
            "<section class=\"compared\" data-measurement=\"{}\"><h2>{}</h2>",
            escape(&measurement.id),
            escape(measurement.title.get(lang))
        );
        // The exact interval of a difference is a convolution: off the
        // async workers.
        let inputs = (
            before_measurement.spec.clone(),
            before_release.result.clone(),
            measurement.spec.clone(),
            after_release.result.clone(),
        );
        let compared_cells = tokio::task::spawn_blocking(move || {
            let (before_spec, before_result, after_spec, after_result) = inputs;
            compare((&before_spec, &before_result), (&after_spec, &after_result))
        })
        .await
        .map_err(|e| super::PortalError::Internal(e.to_string()))?;
        match compared_cells {
            Ok(comparison) => {
                compared += 1;
                let _ = write!(
                    body,
                    "<p>{} {} / {} {}, ε {} / {} ; {} ± {}. {}</p>",
                    comparison.before_contributors,
                    if fr {
                        "contributeurs avant"
                    } else {
                        "contributors before"
                    },
                    comparison.after_contributors,
                    if fr { "après" } else { "after" },
                    comparison
                        .before_epsilon
                        .map_or("—".into(), |e| e.to_string()),
                    comparison
                        .after_epsilon
                        .map_or("—".into(), |e| e.to_string()),
                    if fr {
                        "intervalle des différences"
                    } else {
                        "interval of differences"
                    },
                    comparison.difference_half_width,
                    if comparison.unmatched_before + comparison.unmatched_after > 0 {
                        format!(
                            "{} {}",
                            comparison.unmatched_before + comparison.unmatched_after,
                            if fr {
                                "cellules sans équivalent dans l'autre campagne."
                            } else {
                                "cells without a counterpart in the other campaign."
                            }
                        )
                    } else {
                        String::new()
                    }
                );
                if comparison.cells.len() <= 40 {
                    let bars: Vec<Bar> = comparison
                        .cells
                        .iter()
                        .map(|cell| Bar {
                            label: cell_words(&cell.label, fr),
                            value: cell.difference.map(|d| d as f64),
                            interval: cell.interval_95.map(|(l, h)| (l as f64, h as f64)),
                            colour: None,
                        })
                        .collect();
                    body.push_str(&difference_chart(
                        &format!(
                            "{} — {}",
                            measurement.title.get(lang),
                            if fr {
                                "différence après − avant"
                            } else {
                                "difference after − before"
                            }
                        ),
                        &bars,
                        if fr { "masqué" } else { "suppressed" },
                    ));
                }
                body.push_str(&table(&comparison, fr));
            }
            Err(error) => {
                let _ = write!(
                    body,
                    "<p class=\"error\">{}</p>",
                    escape(&error.to_string())
                );
            }
        }
        body.push_str("</section>");
    }
    if compared == 0 {
        body.push_str(if fr {
            "<p>Aucune mesure publiée commune aux deux campagnes.</p>"
        } else {
            "<p>No released measurement common to both campaigns.</p>"
        });
    }
    Ok(page(
        Some(&staff.0),
        fr,
        if fr {
            "Comparaison avant / après"
        } else {
            "Before / after comparison"
        },
        &body,
    )
    .into_response())
}
