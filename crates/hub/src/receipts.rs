//! The hub's signature on consent receipts: an Ed25519 key, made on first
//! use and kept wrapped by the master key, so a citizen can show a third
//! party what they agreed to, and when, with proof it came from their hub.

use crate::AppState;
use crate::error::HubError;
use ed25519_dalek::{Signer, SigningKey};
use sillage_dap::bytes::Bytes;
use tokio::sync::OnceCell;

/// Signs receipts.
#[derive(Default)]
pub struct ReceiptSigner {
    key: OnceCell<SigningKey>,
}

impl ReceiptSigner {
    async fn key(&self, state: &AppState) -> Result<&SigningKey, HubError> {
        self.key
            .get_or_try_init(|| async {
                let (seed, _) = crate::keys::hub_key_pair(
                    &state.registry,
                    state.citizens.master(),
                    "consent-receipts",
                    async || {
                        let mut seed = [0u8; 32];
                        rand::RngCore::fill_bytes(&mut rand::rng(), &mut seed);
                        let public = SigningKey::from_bytes(&seed).verifying_key().to_bytes();
                        Ok((seed.to_vec(), public.to_vec()))
                    },
                )
                .await?;
                let seed = <[u8; 32]>::try_from(seed.as_slice())
                    .map_err(|_| HubError::Internal("the receipt key is not 32 bytes".into()))?;
                Ok(SigningKey::from_bytes(&seed))
            })
            .await
    }

    /// Signs `message`; returns the signature and the public key.
    pub async fn sign(&self, state: &AppState, message: &[u8]) -> Result<(Bytes, Bytes), HubError> {
        let key = self.key(state).await?;
        Ok((
            Bytes(key.sign(message).to_bytes().to_vec()),
            Bytes(key.verifying_key().to_bytes().to_vec()),
        ))
    }
}
