//! Anonymous one-per-wave tokens: RSA blind signatures (RFC 9474).
//!
//! The citizens' hub knows who consented and signs one blinded token per
//! consenting citizen per task; the citizen's store unblinds it and sends
//! it with its report. The leader checks the signature and that the token
//! was never used: one report per citizen per wave, and since the hub
//! never saw the unblinded token, neither it nor the leader can link a
//! report to a citizen.

use crate::DapError;
use crate::bytes::Bytes;
use crate::task::TaskId;
use blind_rsa_signatures::{
    BlindMessage, BlindSignature, BlindingResult, DefaultRng, MessageRandomizer, PSS, Randomized,
    Secret, Sha384, Signature,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// RSA modulus size of issuer keys.
pub const ISSUER_KEY_BITS: usize = 2048;

/// What the citizen's store sends with its report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnonymousToken {
    /// Random, chosen by the citizen's store; unique per token.
    pub nonce: Bytes,
    /// RFC 9474 message randomizer.
    pub randomizer: Bytes,
    /// The issuer's signature over the task and the nonce.
    pub signature: Bytes,
}

impl AnonymousToken {
    /// What the leader records as used: a hash of the nonce.
    pub fn id(&self) -> [u8; 32] {
        Sha256::digest(&self.nonce.0).into()
    }
}

/// The message an issuer signs: a token is only good for its task.
fn token_message(task_id: &TaskId, nonce: &[u8]) -> Vec<u8> {
    let mut message = b"sillage-token-v1".to_vec();
    message.extend_from_slice(&task_id.0);
    message.extend_from_slice(nonce);
    message
}

/// RSABSSA-SHA384-PSS-Randomized, the variant RFC 9474 recommends.
type KeyPair = blind_rsa_signatures::KeyPair<Sha384, PSS, Randomized>;
type PublicKey = blind_rsa_signatures::PublicKey<Sha384, PSS, Randomized>;
type SecretKey = blind_rsa_signatures::SecretKey<Sha384, PSS, Randomized>;

/// The citizens' hub's signing key.
pub struct TokenIssuer {
    keys: KeyPair,
}

impl std::fmt::Debug for TokenIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenIssuer { .. }")
    }
}

impl TokenIssuer {
    /// A fresh RSA key pair.
    pub fn generate() -> Result<Self, DapError> {
        let keys = KeyPair::generate(&mut DefaultRng, ISSUER_KEY_BITS)
            .map_err(|e| DapError::Token(e.to_string()))?;
        Ok(TokenIssuer { keys })
    }

    /// The issuer from its DER-encoded private key.
    pub fn from_der(der: &[u8]) -> Result<Self, DapError> {
        let sk = SecretKey::from_der(der).map_err(|e| DapError::Token(e.to_string()))?;
        let pk = sk
            .public_key()
            .map_err(|e| DapError::Token(e.to_string()))?;
        Ok(TokenIssuer {
            keys: KeyPair { sk, pk },
        })
    }

    /// The DER-encoded private key, for the hub's own storage.
    pub fn to_der(&self) -> Result<Vec<u8>, DapError> {
        self.keys
            .sk
            .to_der()
            .map_err(|e| DapError::Token(e.to_string()))
    }

    /// The public key (SPKI DER), as published in task parameters.
    pub fn public_key(&self) -> Result<Bytes, DapError> {
        self.keys
            .pk
            .to_spki()
            .map(Bytes)
            .map_err(|e| DapError::Token(e.to_string()))
    }

    /// Signs a blinded token. The caller has checked, and recorded, that
    /// this citizen consented and gets no other token for the task.
    pub fn sign(&self, blinded: &Bytes) -> Result<Bytes, DapError> {
        self.keys
            .sk
            .blind_sign(&blinded.0)
            .map(|s| Bytes(s.0))
            .map_err(|e| DapError::Token(e.to_string()))
    }
}

/// A token being requested: kept by the citizen's store between sending
/// the blinded message and receiving the blind signature.
pub struct TokenRequest {
    task_id: TaskId,
    nonce: [u8; 32],
    secret: Secret,
    randomizer: [u8; 32],
    /// What to send to the issuer.
    pub blinded: Bytes,
}

impl TokenRequest {
    /// Draws a nonce and blinds it for the issuer's key.
    pub fn new(issuer_key: &Bytes, task_id: &TaskId) -> Result<Self, DapError> {
        let pk = issuer_public_key(issuer_key)?;
        let mut nonce = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut nonce);
        let blinding = pk
            .blind(&mut DefaultRng, token_message(task_id, &nonce))
            .map_err(|e| DapError::Token(e.to_string()))?;
        let randomizer = blinding
            .msg_randomizer
            .map(|r| r.0)
            .ok_or_else(|| DapError::Token("no message randomizer".into()))?;
        Ok(TokenRequest {
            task_id: *task_id,
            nonce,
            secret: blinding.secret,
            randomizer,
            blinded: Bytes(blinding.blind_message.0),
        })
    }

    /// Unblinds the issuer's answer into a token (checking it).
    pub fn finalize(
        self,
        issuer_key: &Bytes,
        blind_signature: &Bytes,
    ) -> Result<AnonymousToken, DapError> {
        let pk = issuer_public_key(issuer_key)?;
        let blinding = BlindingResult {
            blind_message: BlindMessage(self.blinded.0.clone()),
            secret: self.secret,
            msg_randomizer: Some(MessageRandomizer(self.randomizer)),
        };
        let signature = pk
            .finalize(
                &BlindSignature(blind_signature.0.clone()),
                &blinding,
                token_message(&self.task_id, &self.nonce),
            )
            .map_err(|e| DapError::Token(e.to_string()))?;
        Ok(AnonymousToken {
            nonce: Bytes(self.nonce.to_vec()),
            randomizer: Bytes(self.randomizer.to_vec()),
            signature: Bytes(signature.0),
        })
    }
}

fn issuer_public_key(key: &Bytes) -> Result<PublicKey, DapError> {
    PublicKey::from_spki(&key.0).map_err(|e| DapError::Token(e.to_string()))
}

/// Checks that `token` was signed by the issuer for `task_id`.
pub fn verify_token(
    issuer_key: &Bytes,
    task_id: &TaskId,
    token: &AnonymousToken,
) -> Result<(), DapError> {
    let pk = issuer_public_key(issuer_key)?;
    let randomizer: [u8; 32] = token
        .randomizer
        .0
        .as_slice()
        .try_into()
        .map_err(|_| DapError::Token("randomizer must be 32 bytes".into()))?;
    pk.verify(
        &Signature(token.signature.0.clone()),
        Some(MessageRandomizer(randomizer)),
        token_message(task_id, &token.nonce.0),
    )
    .map_err(|_| DapError::Token("signature does not verify".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_verifies_for_its_task_only() {
        let issuer = TokenIssuer::generate().unwrap();
        let key = issuer.public_key().unwrap();
        let task = TaskId::random();
        let request = TokenRequest::new(&key, &task).unwrap();
        let blinded = request.blinded.clone();
        let token = request
            .finalize(&key, &issuer.sign(&blinded).unwrap())
            .unwrap();
        verify_token(&key, &task, &token).unwrap();
        assert!(verify_token(&key, &TaskId::random(), &token).is_err());
        let mut forged = token.clone();
        forged.nonce.0[0] ^= 1;
        assert!(verify_token(&key, &task, &forged).is_err());
        let other = TokenIssuer::generate().unwrap().public_key().unwrap();
        assert!(verify_token(&other, &task, &token).is_err());
        // The issuer's key survives its own storage.
        let again = TokenIssuer::from_der(&issuer.to_der().unwrap()).unwrap();
        assert_eq!(again.public_key().unwrap(), key);
    }
}
