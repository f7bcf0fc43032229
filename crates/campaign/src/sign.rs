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

/// Why a document the city signed (its released results, say) is refused;
/// each reads as an explanation.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DocumentSignatureError {
    /// No city key to check against: nothing can be accepted.
    #[error("no city key is trusted here, so no signed document can be accepted")]
    NoTrustedKey,
    /// The signature is not an Ed25519 signature at all.
    #[error("the signature is not an Ed25519 signature: expected 64 bytes, got {0}")]
    Malformed(usize),
    /// No trusted key made this signature over these bytes.
    #[error(
        "the signature does not match the document under any trusted city key: \
         it was altered, or signed by another key"
    )]
    Mismatch,
}

/// What a document signature covers before the document itself, so that it
/// can never pass for a campaign signature (which covers the spec's JSON
/// text alone, starting with `{`) or be reused for another purpose.
const DOCUMENT_CONTEXT: &[u8] = b"sillage-city-document-v1\0";

/// The bytes a document signature covers.
fn document_message(document: &[u8]) -> Vec<u8> {
    [DOCUMENT_CONTEXT, document].concat()
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

impl CitySigningKey {
    /// Signs a document the city sends (e.g. its released results) over
    /// its exact bytes, under a context distinct from campaigns'; checked
    /// by [`verify_document`].
    pub fn sign_document(&self, document: &[u8]) -> Bytes {
        Bytes(self.0.sign(&document_message(document)).to_bytes().to_vec())
    }
}

/// Accepts `document` when `signature` was made by one of `city_keys` with
/// [`CitySigningKey::sign_document`] over exactly these bytes. Keys that
/// are not Ed25519 public keys are skipped.
pub fn verify_document(
    city_keys: &[Bytes],
    document: &[u8],
    signature: &Bytes,
) -> Result<(), DocumentSignatureError> {
    if city_keys.is_empty() {
        return Err(DocumentSignatureError::NoTrustedKey);
    }
    let signature: [u8; 64] = signature
        .0
        .as_slice()
        .try_into()
        .map_err(|_| DocumentSignatureError::Malformed(signature.0.len()))?;
    let signature = Signature::from_bytes(&signature);
    let message = document_message(document);
    let verifies = |key: &Bytes| {
        <[u8; 32]>::try_from(key.0.as_slice())
            .ok()
            .and_then(|key| VerifyingKey::from_bytes(&key).ok())
            .is_some_and(|key| key.verify_strict(&message, &signature).is_ok())
    };
    if city_keys.iter().any(verifies) {
        Ok(())
    } else {
        Err(DocumentSignatureError::Mismatch)
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

#[cfg(test)]
mod tests {
    use super::*;

    const RESULTS: &[u8] = br#"[{"campaign_id":"velo","cells":[12,0,7]}]"#;

    #[test]
    fn a_document_signed_by_a_trusted_city_key_verifies() {
        let city = CitySigningKey::generate();
        let other = CitySigningKey::generate();
        let signature = city.sign_document(RESULTS);
        assert_eq!(signature.0.len(), 64);
        // Any trusted key will do, wherever it is in the list.
        let keys = [other.public_key(), city.public_key()];
        assert_eq!(verify_document(&keys, RESULTS, &signature), Ok(()));
    }

    #[test]
    fn a_tampered_document_or_signature_is_refused() {
        let city = CitySigningKey::generate();
        let keys = [city.public_key()];
        let signature = city.sign_document(RESULTS);
        let mut changed = RESULTS.to_vec();
        // The last cell's 7 becomes an 8.
        let last_cell = changed.len() - 4;
        changed[last_cell] = b'8';
        assert_eq!(
            verify_document(&keys, &changed, &signature),
            Err(DocumentSignatureError::Mismatch)
        );
        let mut flipped = signature.clone();
        flipped.0[10] ^= 1;
        assert_eq!(
            verify_document(&keys, RESULTS, &flipped),
            Err(DocumentSignatureError::Mismatch)
        );
        let short = Bytes(signature.0[..20].to_vec());
        assert_eq!(
            verify_document(&keys, RESULTS, &short),
            Err(DocumentSignatureError::Malformed(20))
        );
    }

    #[test]
    fn a_document_signed_by_another_key_is_refused() {
        let city = CitySigningKey::generate();
        let stranger = CitySigningKey::generate();
        let signature = stranger.sign_document(RESULTS);
        // A key of the wrong size in the list is skipped, not an error.
        let keys = [Bytes(vec![1; 5]), city.public_key()];
        assert_eq!(
            verify_document(&keys, RESULTS, &signature),
            Err(DocumentSignatureError::Mismatch)
        );
    }

    #[test]
    fn nothing_verifies_without_a_trusted_key() {
        let city = CitySigningKey::generate();
        let signature = city.sign_document(RESULTS);
        assert_eq!(
            verify_document(&[], RESULTS, &signature),
            Err(DocumentSignatureError::NoTrustedKey)
        );
    }

    #[test]
    fn document_and_campaign_signatures_do_not_stand_in_for_each_other() {
        let city = CitySigningKey::generate();
        let keys = [city.public_key()];
        let signed = city.sign(&crate::tests::cycle_lane()).unwrap();
        // The campaign's signature over its text is no document signature
        // of that text…
        assert_eq!(
            verify_document(&keys, signed.spec.as_bytes(), &signed.signature),
            Err(DocumentSignatureError::Mismatch)
        );
        // …and a document signature of the text is no campaign signature.
        let forged = SignedCampaign {
            signature: city.sign_document(signed.spec.as_bytes()),
            ..signed
        };
        assert_eq!(verify(&forged, &keys, 0), Err(SpecError::Tampered));
    }
}
