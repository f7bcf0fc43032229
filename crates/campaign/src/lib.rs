//! Campaign specifications: what a city asks of its citizens.
//!
//! A campaign names its controller (the city), its purpose in French and
//! English with a DPV category and legal basis, its area, zones, period
//! and waves, the measurements it asks for (from the catalogue), its
//! privacy parameters (ε per wave, per-citizen caps, minimum contributors,
//! suppression threshold), retention, recipients, the two aggregators and
//! how to withdraw. The city signs the exact JSON text with Ed25519; every
//! citizen store verifies the signature against the keys it trusts, the
//! validity period and every range before showing anything, and refuses
//! with a reason a citizen can read.
//!
//! From a verified spec every party derives the same aggregation tasks
//! ([`CampaignSpec::tasks`]): one per measurement and wave, whose id is a
//! hash of the campaign, wave and measurement ids.
//!
//! [`consent`] holds what the citizen's store keeps about its answers: the
//! notice generated from the spec, ISO/IEC TS 27560 consent records and the
//! states a consent goes through, the hash-chained log of disclosures and
//! the yearly privacy budget.

pub mod consent;
pub mod example;
mod sign;
mod spec;

pub use sign::{
    CitySigningKey, DocumentSignatureError, SignedCampaign, SpecError, verify, verify_document,
};
pub use spec::{
    AggregatorInfo, CampaignMeasurement, CampaignSpec, Controller, LegalBasis, Localized,
    SPEC_VERSION, Wave,
};

#[cfg(test)]
mod tests;
