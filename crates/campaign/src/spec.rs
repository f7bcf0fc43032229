//! The specification's content and its checks.

use crate::SpecError;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sillage_catalogue::{MeasurementSpec, Zones};
use sillage_dap::bytes::{Bytes, Id};
use sillage_dap::hpke::HpkeConfig;
use sillage_dap::noise::Epsilon;
use sillage_dap::task::{
    AggregatorEndpoint, Interval, MIN_BATCH_SIZE_FLOOR, TaskId, TaskParams, VdafConfig,
};

/// The version of the format this code reads and writes.
pub const SPEC_VERSION: u32 = 1;

/// A text in French (first) and English.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Localized {
    /// French.
    pub fr: String,
    /// English.
    pub en: String,
}

impl Localized {
    /// The text in `lang` (`"fr"` or anything else for English).
    pub fn get(&self, lang: &str) -> &str {
        if lang == "fr" { &self.fr } else { &self.en }
    }
}

/// Who is responsible.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Controller {
    /// Name of the city or agency.
    pub name: String,
    /// Postal address.
    pub address: String,
    /// Data-protection officer's contact.
    pub dpo_contact: String,
}

/// Why it is lawful.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LegalBasis {
    /// GDPR Art. 6(1)(a).
    Consent,
    /// Consent for a general-interest objective under the EU Data
    /// Governance Act (Art. 2(16) names improving mobility).
    DataAltruism,
}

/// A period of collection.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Wave {
    /// Stable id within the campaign.
    pub id: String,
    /// Trips departing in `[start, end)` (UTC seconds) are measured.
    pub start: u64,
    /// End of the measured period.
    pub end: u64,
    /// Reports are accepted until then (UTC seconds), after `end`.
    pub reports_until: u64,
}

/// A measurement with its privacy budget.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CampaignMeasurement {
    /// Stable id within the campaign.
    pub id: String,
    /// What it is, in words.
    pub title: Localized,
    /// What is computed (catalogue entry, layout and per-citizen cap).
    pub spec: MeasurementSpec,
    /// Privacy loss per wave for this measurement.
    pub epsilon: Epsilon,
}

/// An aggregator as the campaign presents it to citizens.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AggregatorInfo {
    /// Who runs it.
    pub operator: String,
    /// Its base URL.
    pub url: String,
    /// Its HPKE public key.
    pub hpke: HpkeConfig,
}

/// The whole specification.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CampaignSpec {
    /// Format version ([`SPEC_VERSION`]).
    pub spec_version: u32,
    /// Stable id, chosen by the city.
    pub id: String,
    /// The campaign's title.
    pub title: Localized,
    /// Who asks.
    pub controller: Controller,
    /// Why, in plain words.
    pub purpose: Localized,
    /// DPV purpose category (e.g. `dpv:PublicBenefit`).
    pub dpv_purpose: String,
    /// Legal basis.
    pub legal_basis: LegalBasis,
    /// The project behind it ("we plan a cycle lane between…").
    pub context: Localized,
    /// The campaign's zones (area and origin–destination zones).
    pub zones: Zones,
    /// Waves of collection.
    pub waves: Vec<Wave>,
    /// What is measured.
    pub measurements: Vec<CampaignMeasurement>,
    /// Nothing is published from fewer valid contributions than this.
    pub min_contributors: u64,
    /// Published cells whose noisy value is below this are withheld.
    pub suppression_threshold: i64,
    /// How long the aggregates are kept, months.
    pub retention_months: u32,
    /// Who receives the aggregates.
    pub recipients: Vec<String>,
    /// Whether results become open data.
    pub open_data: bool,
    /// The first aggregator.
    pub leader: AggregatorInfo,
    /// The second aggregator (an independent operator).
    pub helper: AggregatorInfo,
    /// The city's key for aggregate shares.
    pub collector_hpke: HpkeConfig,
    /// The citizens' hub's token key (RSA, SPKI DER).
    pub token_issuer_key: Bytes,
    /// How to withdraw, and what happens to released aggregates.
    pub withdrawal: Localized,
    /// The spec is not valid after this (UTC seconds).
    pub expires_at: u64,
}

impl CampaignSpec {
    /// Checks every range a citizen store relies on; errors name the field.
    pub fn validate(&self) -> Result<(), SpecError> {
        let invalid = |m: String| Err(SpecError::Invalid(m));
        if self.spec_version != SPEC_VERSION {
            return invalid(format!(
                "spec_version {} (this version reads {SPEC_VERSION})",
                self.spec_version
            ));
        }
        if self.id.is_empty() || self.id.len() > 64 {
            return invalid("id: 1 to 64 characters".into());
        }
        for (field, text) in [
            ("title", &self.title),
            ("purpose", &self.purpose),
            ("context", &self.context),
            ("withdrawal", &self.withdrawal),
        ] {
            if text.fr.trim().is_empty() || text.en.trim().is_empty() {
                return invalid(format!("{field}: needs French and English text"));
            }
        }
        if self.controller.name.trim().is_empty() || self.controller.dpo_contact.trim().is_empty() {
            return invalid("controller: name and dpo_contact are required".into());
        }
        if self.min_contributors < MIN_BATCH_SIZE_FLOOR {
            return invalid(format!(
                "min_contributors {} is below {MIN_BATCH_SIZE_FLOOR}",
                self.min_contributors
            ));
        }
        if self.waves.is_empty() {
            return invalid("waves: at least one".into());
        }
        for (i, wave) in self.waves.iter().enumerate() {
            if wave.end <= wave.start || wave.reports_until < wave.end {
                return invalid(format!("waves[{i}]: start < end ≤ reports_until"));
            }
            if self.waves[..i].iter().any(|w| w.id == wave.id) {
                return invalid(format!("waves[{i}]: duplicate id {:?}", wave.id));
            }
        }
        if self.measurements.is_empty() {
            return invalid("measurements: at least one".into());
        }
        for (i, m) in self.measurements.iter().enumerate() {
            m.spec
                .validate()
                .map_err(|e| SpecError::Invalid(format!("measurements[{i}] ({}): {e}", m.id)))?;
            m.epsilon
                .validate()
                .map_err(|e| SpecError::Invalid(format!("measurements[{i}] ({}): {e}", m.id)))?;
            if self.measurements[..i].iter().any(|o| o.id == m.id) {
                return invalid(format!("measurements[{i}]: duplicate id {:?}", m.id));
            }
        }
        for task in self.tasks() {
            task.validate()
                .map_err(|e| SpecError::Invalid(e.to_string()))?;
        }
        Ok(())
    }

    /// Privacy loss of one citizen taking part in one wave: the sum over
    /// the measurements (basic composition).
    pub fn epsilon_per_wave(&self) -> f64 {
        self.measurements.iter().map(|m| m.epsilon.value()).sum()
    }

    /// The id of the task for one wave and measurement: every party
    /// derives the same one from the spec.
    pub fn task_id(&self, wave: &Wave, measurement: &CampaignMeasurement) -> TaskId {
        let mut hash = Sha256::new();
        for part in [
            self.id.as_bytes(),
            wave.id.as_bytes(),
            measurement.id.as_bytes(),
        ] {
            hash.update((part.len() as u64).to_be_bytes());
            hash.update(part);
        }
        Id(hash.finalize().into())
    }

    /// The aggregation tasks of the campaign, one per wave and measurement.
    pub fn tasks(&self) -> Vec<TaskParams> {
        let endpoint = |a: &AggregatorInfo| AggregatorEndpoint {
            operator: a.operator.clone(),
            url: a.url.clone(),
            hpke: a.hpke.clone(),
        };
        let mut tasks = Vec::new();
        for wave in &self.waves {
            for m in &self.measurements {
                tasks.push(TaskParams {
                    task_id: self.task_id(wave, m),
                    vdaf: VdafConfig {
                        length: m.spec.len(),
                        max_weight: m.spec.cap(),
                    },
                    wave: Interval {
                        start: wave.start,
                        end: wave.reports_until,
                    },
                    time_precision_s: 3600,
                    min_batch_size: self.min_contributors,
                    epsilon: Some(m.epsilon),
                    leader: endpoint(&self.leader),
                    helper: endpoint(&self.helper),
                    collector_hpke: self.collector_hpke.clone(),
                    token_issuer_key: self.token_issuer_key.clone(),
                });
            }
        }
        tasks
    }
}
