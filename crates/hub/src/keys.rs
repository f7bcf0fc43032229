//! The server master key and the wrapping of citizens' data keys.
//!
//! Each citizen's store is encrypted under its own random data key; the
//! registry keeps that key only *wrapped* (XChaCha20-Poly1305) under the
//! master key, bound to the account name so a wrapped key copied onto
//! another account does not open. Whoever has the disk but not the master
//! key has ciphertext only (see docs/SECURITY.md).

use chacha20poly1305::aead::{Aead, Generate, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sillage_store::DataKey;
use std::path::Path;

/// Length of a nonce in a wrapped key.
const NONCE_LEN: usize = 24;
/// Domain separation for the wrapping's associated data.
const WRAP_CONTEXT: &[u8] = b"sillage master key v1:";

/// Why a key could not be loaded or unwrapped.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The master key file could not be read or written.
    #[error("master key file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What the system said.
        source: std::io::Error,
    },
    /// The master key file does not hold exactly 32 bytes (64 hex digits).
    #[error("master key file {0}: expected 64 hexadecimal digits (a 256-bit key)")]
    Malformed(String),
    /// A wrapped key did not authenticate: another master key, another
    /// account, or tampering.
    #[error("the data key of {0:?} does not open with this master key")]
    Unwrap(String),
}

/// The server's 256-bit master key. Never printed.
pub struct MasterKey {
    cipher: XChaCha20Poly1305,
}

impl MasterKey {
    /// A master key from its 32 bytes.
    pub fn from_bytes(bytes: &[u8; 32]) -> Self {
        Self {
            cipher: XChaCha20Poly1305::new(bytes.into()),
        }
    }

    /// Reads the key (64 hex digits) from `path`, creating it with a fresh
    /// random key, readable by the owner only, when the file does not exist.
    pub fn load_or_create(path: &Path) -> Result<Self, KeyError> {
        let io = |source| KeyError::Io {
            path: path.display().to_string(),
            source,
        };
        if !path.exists() {
            let key: [u8; 32] = DataKey::generate().as_bytes().to_owned();
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(io)?;
            }
            write_private(path, hex(&key).as_bytes()).map_err(io)?;
            return Ok(Self::from_bytes(&key));
        }
        let text = std::fs::read_to_string(path).map_err(io)?;
        let bytes = unhex(text.trim())
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or_else(|| KeyError::Malformed(path.display().to_string()))?;
        Ok(Self::from_bytes(&bytes))
    }

    /// Wraps a citizen's data key for the registry.
    pub fn wrap(&self, account: &str, key: &DataKey) -> Vec<u8> {
        self.seal(account.as_bytes(), key.as_bytes())
    }

    /// Unwraps a citizen's data key.
    pub fn unwrap(&self, account: &str, wrapped: &[u8]) -> Result<DataKey, KeyError> {
        let plain = self
            .open(account.as_bytes(), wrapped)
            .ok_or_else(|| KeyError::Unwrap(account.to_owned()))?;
        let bytes = <[u8; 32]>::try_from(plain.as_slice())
            .map_err(|_| KeyError::Unwrap(account.to_owned()))?;
        Ok(DataKey::from_bytes(bytes))
    }

    /// Encrypts a secret for the registry, bound to `context` (an account
    /// name, or what the secret is).
    pub fn seal(&self, context: &[u8], secret: &[u8]) -> Vec<u8> {
        let nonce = XNonce::generate();
        let aad = [WRAP_CONTEXT, context].concat();
        let sealed = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: secret,
                    aad: &aad,
                },
            )
            .expect("encrypting in memory cannot fail");
        [nonce.as_slice(), &sealed].concat()
    }

    /// Decrypts what [`MasterKey::seal`] made with the same context; `None`
    /// for another key, another context, or tampering.
    pub fn open(&self, context: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() <= NONCE_LEN {
            return None;
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let aad = [WRAP_CONTEXT, context].concat();
        let nonce = XNonce::try_from(nonce).ok()?;
        self.cipher
            .decrypt(
                &nonce,
                Payload {
                    msg: ciphertext,
                    aad: &aad,
                },
            )
            .ok()
    }
}

/// One of the hub's own key pairs (secret, public), kept in the registry
/// under `name` with the secret sealed by `master`; made by `make` on first
/// use. Two first uses at once both save; whichever landed first is kept
/// and returned to both.
pub async fn hub_key_pair(
    registry: &crate::registry::Registry,
    master: &MasterKey,
    name: &str,
    make: impl AsyncFnOnce() -> Result<(Vec<u8>, Vec<u8>), crate::error::HubError>,
) -> Result<(Vec<u8>, Vec<u8>), crate::error::HubError> {
    // Account names never contain a NUL: no account's key can be confused
    // with a hub key.
    let context = [b"\0", name.as_bytes()].concat();
    if registry.hub_key(name).await?.is_none() {
        let (secret, public) = make().await?;
        registry
            .save_hub_key(name, &master.seal(&context, &secret), &public)
            .await?;
    }
    let (wrapped, public) = registry
        .hub_key(name)
        .await?
        .ok_or_else(|| crate::error::HubError::Internal(format!("hub key {name} not saved")))?;
    let secret = master
        .open(&context, &wrapped)
        .ok_or_else(|| crate::error::HubError::Internal(format!("hub key {name} does not open")))?;
    Ok((secret, public))
}

/// Creates `path` with mode 0600 (on Unix) and writes `content`.
fn write_private(path: &Path, content: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(content)?;
    file.sync_all()
}

pub(crate) use sillage_dap::bytes::hex;

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrapped_key_opens_only_with_its_master_key_and_account() {
        let master = MasterKey::from_bytes(&[7; 32]);
        let key = DataKey::from_bytes([42; 32]);
        let wrapped = master.wrap("alice", &key);
        assert_eq!(
            master.unwrap("alice", &wrapped).unwrap().as_bytes(),
            &[42; 32]
        );
        assert!(master.unwrap("bob", &wrapped).is_err());
        assert!(
            MasterKey::from_bytes(&[8; 32])
                .unwrap("alice", &wrapped)
                .is_err()
        );
        let mut tampered = wrapped.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(master.unwrap("alice", &tampered).is_err());
    }

    #[test]
    fn the_master_key_file_is_created_private_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/master.key");
        let first = MasterKey::load_or_create(&path).unwrap();
        let wrapped = first.wrap("a", &DataKey::from_bytes([1; 32]));
        let again = MasterKey::load_or_create(&path).unwrap();
        assert!(again.unwrap("a", &wrapped).is_ok());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, "not a key").unwrap();
        let error = MasterKey::load_or_create(&path).err().unwrap().to_string();
        assert!(error.contains("64 hexadecimal digits"), "{error}");
    }
}
