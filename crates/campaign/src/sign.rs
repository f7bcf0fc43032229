//! Signing by the city, verification by every citizen store.

use crate::CampaignSpec;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sillage_dap::bytes::Bytes;

/// Why a campaign is refused; each reads as an explanation.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SpecError {
    /// No signature at all.
    #[error("this campaign is not signed: it cannot be shown")]
    Unsigned,
    /// Signed by a key this store does not trust.
    #[error(
        "this campaign is signed by an unknown key: it does not come from a city this hub trusts"
    )]
    UnknownSigner,
    /// The text was changed after signing, or the signature is forged.
    #[error(
        "this campaign's signature does not match its text: it was altered after the city signed it"
    )]
    Tampered,
    /// Past its validity.
    #[error("this campaign expired on {0} (UTC seconds)")]
    Expired(u64),
    /// Not readable, or a field is out of range.
    #[error("this campaign is invalid: {0}")]
    Invalid(String),
}

/// A campaign as published: the exact JSON text the city signed, the
/// signature, and the key that made it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignedCampaign {
    /// The specification, as signed (verified byte for byte).
    pub spec: String,
    /// Ed25519 signature over `spec`'s bytes (empty when unsigned).
    pub signature: Bytes,
    /// The signer's public key.
    pub signer: Bytes,
}

/// The city's campaign-signing key.
pub struct CitySigningKey(SigningKey);

impl std::fmt::Debug for CitySigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CitySigningKey { .. }")
    }
}

impl CitySigningKey {
    /// A fresh key.
    pub fn generate() -> Self {
        let mut seed = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut seed);
        CitySigningKey(SigningKey::from_bytes(&seed))
    }

    /// The key from its 32-byte secret.
    pub fn from_bytes(secret: &[u8; 32]) -> Self {
        CitySigningKey(SigningKey::from_bytes(secret))
    }

    /// The 32-byte secret, for the city's own storage.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// The public key citizens' hubs trust.
    pub fn public_key(&self) -> Bytes {
        Bytes(self.0.verifying_key().to_bytes().to_vec())
    }

    /// Validates and signs a specification.
    pub fn sign(&self, spec: &CampaignSpec) -> Result<SignedCampaign, SpecError> {
        spec.validate()?;
        let text =
            serde_json::to_string_pretty(spec).map_err(|e| SpecError::Invalid(e.to_string()))?;
        let signature = self.0.sign(text.as_bytes());
        Ok(SignedCampaign {
            spec: text,
            signature: Bytes(signature.to_bytes().to_vec()),
            signer: self.public_key(),
        })
    }
}

/// Verifies a published campaign: signed by one of `trusted` keys, over
/// exactly this text, not expired at `now` (UTC seconds), and valid.
pub fn verify(
    campaign: &SignedCampaign,
    trusted: &[Bytes],
    now: u64,
) -> Result<CampaignSpec, SpecError> {
    if campaign.signature.0.is_empty() {
        return Err(SpecError::Unsigned);
    }
    if !trusted.contains(&campaign.signer) {
        return Err(SpecError::UnknownSigner);
    }
    let key: [u8; 32] = campaign
        .signer
        .0
        .as_slice()
        .try_into()
        .map_err(|_| SpecError::UnknownSigner)?;
    let key = VerifyingKey::from_bytes(&key).map_err(|_| SpecError::UnknownSigner)?;
    let signature: [u8; 64] = campaign
        .signature
        .0
        .as_slice()
        .try_into()
        .map_err(|_| SpecError::Tampered)?;
    key.verify_strict(campaign.spec.as_bytes(), &Signature::from_bytes(&signature))
        .map_err(|_| SpecError::Tampered)?;
    let spec: CampaignSpec = serde_json::from_str(&campaign.spec)
        .map_err(|e| SpecError::Invalid(format!("not a campaign specification: {e}")))?;
    if now >= spec.expires_at {
        return Err(SpecError::Expired(spec.expires_at));
    }
    spec.validate()?;
    Ok(spec)
}
