//! The hub's signature on consent receipts: an Ed25519 key, made on first
//! use and kept wrapped by the master key, so a citizen can show a third
//! party what they agreed to, and when, with proof it came from their hub.

use crate::AppState;
use crate::error::HubError;
use ed25519_dalek::{Signer, SigningKey};
use sillage_dap::bytes::Bytes;
use tokio::sync::OnceCell;

/// Name of the key in the registry.
const KEY_NAME: &str = "consent-receipts";
/// What the key is sealed under (account names never contain a NUL).
const KEY_CONTEXT: &[u8] = b"\0consent-receipts";

/// Signs receipts.
#[derive(Default)]
pub struct ReceiptSigner {
    key: OnceCell<SigningKey>,
}

impl ReceiptSigner {
    async fn key(&self, state: &AppState) -> Result<&SigningKey, HubError> {
        self.key
            .get_or_try_init(|| async {
                let master = state.citizens.master();
                if state.registry.hub_key(KEY_NAME).await?.is_none() {
                    let mut seed = [0u8; 32];
                    rand::RngCore::fill_bytes(&mut rand::rng(), &mut seed);
                    let key = SigningKey::from_bytes(&seed);
                    let public = key.verifying_key().to_bytes();
                    state
                        .registry
                        .save_hub_key(KEY_NAME, &master.seal(KEY_CONTEXT, &seed), &public)
                        .await?;
                }
                // Whichever key landed first (two first uses at once).
                let (wrapped, _) = state
                    .registry
                    .hub_key(KEY_NAME)
                    .await?
                    .ok_or_else(|| HubError::Internal("receipt key not saved".into()))?;
                let seed = master
                    .open(KEY_CONTEXT, &wrapped)
                    .and_then(|s| <[u8; 32]>::try_from(s.as_slice()).ok())
                    .ok_or_else(|| HubError::Internal("the receipt key does not open".into()))?;
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
