//! HPKE (RFC 9180) in base mode with X25519, HKDF-SHA256 and AES-128-GCM,
//! the suite DAP deployments use. Each aggregator and the collector own a
//! key pair; the public half travels in the task parameters.

use crate::DapError;
use crate::bytes::Bytes;
use hpke::aead::AesGcm128;
use hpke::kdf::HkdfSha256;
use hpke::kem::X25519HkdfSha256;
use hpke::{Deserializable, Kem, OpModeR, OpModeS, Serializable};
use serde::{Deserialize, Serialize};

/// A public key to encrypt to, with the id that names it in ciphertexts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HpkeConfig {
    /// Names the key pair, so a key can be rotated.
    pub id: u8,
    /// X25519 public key.
    pub public_key: Bytes,
}

/// An HPKE key pair. The private half never leaves its owner's process or
/// database and is never logged (its `Debug` shows only the id).
#[derive(Clone, Serialize, Deserialize)]
pub struct HpkeKeypair {
    /// The public half.
    pub config: HpkeConfig,
    /// X25519 private key.
    private_key: Bytes,
}

impl std::fmt::Debug for HpkeKeypair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HpkeKeypair {{ id: {}, .. }}", self.config.id)
    }
}

/// A sealed message: the encapsulated key and the ciphertext.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HpkeCiphertext {
    /// The id of the recipient's key.
    pub config_id: u8,
    /// Encapsulated key.
    pub enc: Bytes,
    /// Ciphertext and tag.
    pub payload: Bytes,
}

impl HpkeKeypair {
    /// A fresh key pair named `id`.
    pub fn generate(id: u8) -> Self {
        let (private, public) = X25519HkdfSha256::gen_keypair(&mut rand::rng());
        HpkeKeypair {
            config: HpkeConfig {
                id,
                public_key: Bytes(public.to_bytes().to_vec()),
            },
            private_key: Bytes(private.to_bytes().to_vec()),
        }
    }

    /// Opens a ciphertext sealed to this key with the same `info` and `aad`.
    pub fn open(
        &self,
        ciphertext: &HpkeCiphertext,
        info: &[u8],
        aad: &[u8],
    ) -> Result<Vec<u8>, DapError> {
        if ciphertext.config_id != self.config.id {
            return Err(DapError::Hpke("open (unknown key id)"));
        }
        let private = <X25519HkdfSha256 as Kem>::PrivateKey::from_bytes(&self.private_key.0)
            .map_err(|_| DapError::Hpke("open (private key)"))?;
        let enc = <X25519HkdfSha256 as Kem>::EncappedKey::from_bytes(&ciphertext.enc.0)
            .map_err(|_| DapError::Hpke("open (encapsulated key)"))?;
        hpke::single_shot_open::<AesGcm128, HkdfSha256, X25519HkdfSha256>(
            &OpModeR::Base,
            &private,
            &enc,
            info,
            &ciphertext.payload.0,
            aad,
        )
        .map_err(|_| DapError::Hpke("open"))
    }
}

impl HpkeConfig {
    /// Seals `plaintext` to this key, bound to `info` and `aad`.
    pub fn seal(
        &self,
        plaintext: &[u8],
        info: &[u8],
        aad: &[u8],
    ) -> Result<HpkeCiphertext, DapError> {
        let public = <X25519HkdfSha256 as Kem>::PublicKey::from_bytes(&self.public_key.0)
            .map_err(|_| DapError::Hpke("seal (public key)"))?;
        let (enc, payload) = hpke::single_shot_seal::<AesGcm128, HkdfSha256, X25519HkdfSha256, _>(
            &OpModeS::Base,
            &public,
            info,
            plaintext,
            aad,
            &mut rand::rng(),
        )
        .map_err(|_| DapError::Hpke("seal"))?;
        Ok(HpkeCiphertext {
            config_id: self.id,
            enc: Bytes(enc.to_bytes().to_vec()),
            payload: Bytes(payload),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_only_with_the_right_key_info_and_aad() {
        let keys = HpkeKeypair::generate(1);
        let sealed = keys.config.seal(b"share", b"info", b"aad").unwrap();
        assert_eq!(keys.open(&sealed, b"info", b"aad").unwrap(), b"share");
        assert!(keys.open(&sealed, b"info", b"other aad").is_err());
        assert!(keys.open(&sealed, b"other info", b"aad").is_err());
        assert!(
            HpkeKeypair::generate(1)
                .open(&sealed, b"info", b"aad")
                .is_err()
        );
        let mut tampered = sealed.clone();
        tampered.payload.0[0] ^= 1;
        assert!(keys.open(&tampered, b"info", b"aad").is_err());
        assert!(!format!("{keys:?}").contains(&format!("{:?}", keys.private_key.0)));
    }
}
