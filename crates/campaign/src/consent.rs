//! Consent, as the citizen's store keeps it: ISO/IEC TS 27560 records, the
//! states a consent goes through, the log of everything that left, and the
//! yearly privacy budget.

use crate::{CampaignSpec, Localized};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sillage_dap::bytes::{Id, hex};

/// Version of the consent-record format.
pub const CONSENT_SCHEMA_VERSION: &str = "sillage-consent-1 (ISO/IEC TS 27560:2023)";

sillage_model::named_enum! {
    /// Where a citizen's consent to a campaign stands (DPV consent states).
    ConsentState {
        /// The campaign arrived; the citizen has not answered.
        Requested => "requested",
        /// "Decide later".
        Deferred => "deferred",
        /// Given: contributions may be computed and sent.
        Given => "given",
        /// Refused.
        Refused => "refused",
        /// Taken back: nothing more leaves.
        Withdrawn => "withdrawn",
        /// The campaign ended or its spec expired.
        Expired => "expired",
    }
}

impl ConsentState {
    /// Whether contributions may leave in this state.
    pub fn allows_contributions(self) -> bool {
        self == ConsentState::Given
    }

    /// Whether the citizen may move from this state to `next`.
    pub fn can_become(self, next: ConsentState) -> bool {
        use ConsentState::*;
        match (self, next) {
            (Expired, _) => false,
            (_, Expired) => true,
            (Requested | Deferred, Given | Refused | Deferred) => true,
            (Refused | Withdrawn, Given) => true,
            (Given, Withdrawn) => true,
            _ => false,
        }
    }
}

/// One consent event, with the fields of ISO/IEC TS 27560 (names follow
/// the W3C DPVCG mapping).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConsentRecord {
    /// Format of this record.
    pub schema_version: String,
    /// Unique id of this event.
    pub record_id: String,
    /// The citizen, pseudonymously (local to their store).
    pub pii_principal_id: String,
    /// The campaign.
    pub campaign_id: String,
    /// The exact notice shown, in the language shown.
    pub notice: String,
    /// SHA-256 of the notice, hex.
    pub notice_hash: String,
    /// `fr` or `en`.
    pub language: String,
    /// The specific purpose.
    pub purpose: Localized,
    /// DPV purpose category.
    pub purpose_category: String,
    /// Legal basis.
    pub lawful_basis: String,
    /// Categories of data used (derived, never sent as such).
    pub personal_data: Vec<String>,
    /// How it is processed: measurements, ε, cap, k.
    pub processing: Vec<String>,
    /// Who is responsible.
    pub controller: String,
    /// Who receives aggregates.
    pub recipients: Vec<String>,
    /// Where data is stored and processed.
    pub storage_location: String,
    /// How long aggregates are kept, months.
    pub retention_months: u32,
    /// Jurisdiction.
    pub jurisdiction: String,
    /// How to withdraw, and its effect.
    pub withdrawal_method: Localized,
    /// When the state changed (UTC seconds).
    pub event_time: u64,
    /// Valid until (UTC seconds): the campaign's end.
    pub validity_until: u64,
    /// Who acted: the citizen or the system (expiry).
    pub event_entity: String,
    /// Expressed by an explicit action, or implied by the system.
    pub event_type: String,
    /// The new state.
    pub event_state: ConsentState,
}

/// The notice a citizen reads, generated from the spec in their language.
pub fn notice(spec: &CampaignSpec, lang: &str) -> String {
    let fr = lang == "fr";
    let k = spec.min_contributors;
    let mut text = String::new();
    let line = |text: &mut String, s: String| {
        text.push_str(&s);
        text.push('\n');
    };
    line(&mut text, spec.title.get(lang).to_owned());
    line(
        &mut text,
        if fr {
            format!(
                "Qui demande : {} ({}) — contact : {}",
                spec.controller.name, spec.controller.address, spec.controller.dpo_contact
            )
        } else {
            format!(
                "Who asks: {} ({}) — contact: {}",
                spec.controller.name, spec.controller.address, spec.controller.dpo_contact
            )
        },
    );
    line(
        &mut text,
        format!(
            "{} {}",
            if fr { "Pourquoi :" } else { "Why:" },
            spec.purpose.get(lang)
        ),
    );
    line(&mut text, spec.context.get(lang).to_owned());
    line(
        &mut text,
        if fr {
            "Ce qui est calculé à partir de vos trajets :".into()
        } else {
            "What is computed from your trips:".into()
        },
    );
    for m in &spec.measurements {
        line(
            &mut text,
            format!(
                "- {} ({} {}, ε = {})",
                m.title.get(lang),
                if fr { "au plus" } else { "at most" },
                m.spec.cap(),
                m.epsilon.value()
            ),
        );
    }
    line(
        &mut text,
        if fr {
            "Ce qui ne quitte jamais votre espace : vos traces, vos lieux, vos horaires, vos trajets un par un.".into()
        } else {
            "What never leaves your store: your traces, your places, your times, your individual trips.".into()
        },
    );
    line(
        &mut text,
        if fr {
            format!(
                "La garantie : la ville ne voit que des totaux sur au moins {k} personnes, avec du bruit ajouté ; aucun des deux agrégateurs ({} et {}) ne peut voir seul votre contribution.",
                spec.leader.operator, spec.helper.operator
            )
        } else {
            format!(
                "The guarantee: the city only sees totals over at least {k} people, with added noise; neither aggregator ({} or {}) alone can see your contribution.",
                spec.leader.operator, spec.helper.operator
            )
        },
    );
    line(
        &mut text,
        format!(
            "{} {}",
            if fr { "Retrait :" } else { "Withdrawal:" },
            spec.withdrawal.get(lang)
        ),
    );
    text
}

/// The record of a new state of the citizen's consent to `spec`.
pub fn record(
    spec: &CampaignSpec,
    principal: &str,
    lang: &str,
    state: ConsentState,
    now: u64,
) -> ConsentRecord {
    let notice = notice(spec, lang);
    let system = state == ConsentState::Expired;
    ConsentRecord {
        schema_version: CONSENT_SCHEMA_VERSION.into(),
        record_id: Id::<16>::random().to_text(),
        pii_principal_id: principal.into(),
        campaign_id: spec.id.clone(),
        notice_hash: hex(&Sha256::digest(notice.as_bytes())),
        notice,
        language: lang.into(),
        purpose: spec.purpose.clone(),
        purpose_category: spec.dpv_purpose.clone(),
        lawful_basis: format!("{:?}", spec.legal_basis),
        personal_data: vec![
            "trips (derived in the store)".into(),
            "transport modes".into(),
            "zones".into(),
        ],
        processing: spec
            .measurements
            .iter()
            .map(|m| {
                format!(
                    "{}: secure aggregation, cap {}, ε {}, k {}",
                    m.id,
                    m.spec.cap(),
                    m.epsilon.value(),
                    spec.min_contributors
                )
            })
            .collect(),
        controller: spec.controller.name.clone(),
        recipients: spec.recipients.clone(),
        storage_location: "citizen store; aggregates at the two aggregators (EU)".into(),
        retention_months: spec.retention_months,
        jurisdiction: "FR/EU".into(),
        withdrawal_method: spec.withdrawal.clone(),
        event_time: now,
        validity_until: spec
            .waves
            .iter()
            .map(|w| w.reports_until)
            .max()
            .unwrap_or(spec.expires_at),
        event_entity: if system {
            "system".into()
        } else {
            "citizen".into()
        },
        event_type: if system {
            "implied".into()
        } else {
            "expressed".into()
        },
        event_state: state,
    }
}

/// One disclosure: something that left the citizen's store.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Disclosure {
    /// When (UTC seconds).
    pub time: u64,
    /// Campaign, wave and measurement.
    pub campaign_id: String,
    /// The wave.
    pub wave_id: String,
    /// The measurement.
    pub measurement_id: String,
    /// Number of values in the vector that left (as shares).
    pub values: usize,
    /// The aggregators that received a share.
    pub recipients: Vec<String>,
    /// Privacy budget spent.
    pub epsilon: f64,
}

/// An entry of the append-only transparency log: a disclosure chained to
/// the previous entry by hash, so that removing or changing an entry shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogEntry {
    /// What left.
    pub disclosure: Disclosure,
    /// Hash of the previous entry (hex; zeros for the first).
    pub previous: String,
    /// Hash of this entry: SHA-256 of `previous` and the disclosure's JSON.
    pub hash: String,
}

/// Appends a disclosure to a log.
pub fn append(log: &mut Vec<LogEntry>, disclosure: Disclosure) {
    let previous = log
        .last()
        .map_or_else(|| "0".repeat(64), |e| e.hash.clone());
    let hash = entry_hash(&previous, &disclosure);
    log.push(LogEntry {
        disclosure,
        previous,
        hash,
    });
}

fn entry_hash(previous: &str, disclosure: &Disclosure) -> String {
    let json = serde_json::to_vec(disclosure).unwrap_or_default();
    let mut hash = Sha256::new();
    hash.update(previous.as_bytes());
    hash.update(&json);
    hex(&hash.finalize())
}

/// Checks a log's chain; the index of the first entry that does not hold.
pub fn verify_log(log: &[LogEntry]) -> Result<(), usize> {
    let mut previous = "0".repeat(64);
    for (i, entry) in log.iter().enumerate() {
        if entry.previous != previous || entry.hash != entry_hash(&previous, &entry.disclosure) {
            return Err(i);
        }
        previous = entry.hash.clone();
    }
    Ok(())
}

/// Default yearly cap on the privacy budget a citizen spends.
pub const DEFAULT_YEARLY_EPSILON: f64 = 6.0;

/// The budget spent in the 365 days before `now`, from the log.
pub fn epsilon_spent(log: &[LogEntry], now: u64) -> f64 {
    log.iter()
        .filter(|e| e.disclosure.time + 365 * 86_400 > now)
        .map(|e| e.disclosure.epsilon)
        .sum()
}

/// Whether a contribution costing `epsilon` fits under `cap` (with a
/// hair of tolerance for sums of fractions).
pub fn within_budget(log: &[LogEntry], epsilon: f64, cap: f64, now: u64) -> bool {
    epsilon_spent(log, now) + epsilon <= cap + 1e-9
}
