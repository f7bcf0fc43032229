//! Binary fields in JSON messages, as unpadded base64url strings.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Lower-case hexadecimal, as digests and keys are shown to people.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Bytes that travel as base64url text.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Bytes(pub Vec<u8>);

impl Bytes {
    /// The bytes as unpadded base64url text, as they travel in JSON (and
    /// in headers such as the hub's `Sillage-Signature`).
    pub fn to_text(&self) -> String {
        URL_SAFE_NO_PAD.encode(&self.0)
    }

    /// Parses unpadded base64url text, the form [`Bytes::to_text`] writes.
    pub fn from_text(text: &str) -> Option<Self> {
        URL_SAFE_NO_PAD.decode(text.as_bytes()).ok().map(Bytes)
    }
}

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_text())
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        URL_SAFE_NO_PAD
            .decode(text.as_bytes())
            .map(Bytes)
            .map_err(serde::de::Error::custom)
    }
}

impl From<Vec<u8>> for Bytes {
    fn from(bytes: Vec<u8>) -> Self {
        Bytes(bytes)
    }
}

impl AsRef<[u8]> for Bytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// A fixed-size identifier that travels as base64url text.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id<const N: usize>(pub [u8; N]);

impl<const N: usize> Id<N> {
    /// A fresh random identifier.
    pub fn random() -> Self {
        let mut id = [0u8; N];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut id);
        Id(id)
    }

    /// The identifier as base64url text (for URLs and logs).
    pub fn to_text(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0)
    }

    /// Parses base64url text of exactly `N` bytes.
    pub fn from_text(text: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(text.as_bytes()).ok()?;
        Some(Id(bytes.try_into().ok()?))
    }
}

impl<const N: usize> std::fmt::Debug for Id<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_text())
    }
}

impl<const N: usize> std::fmt::Display for Id<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_text())
    }
}

impl<const N: usize> Serialize for Id<N> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_text())
    }
}

impl<'de, const N: usize> Deserialize<'de> for Id<N> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Id::from_text(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("expected {N} bytes in base64url")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_wrong_sizes() {
        let id = Id::<16>::random();
        assert_eq!(Id::<16>::from_text(&id.to_text()), Some(id));
        assert_eq!(Id::<32>::from_text(&id.to_text()), None);
        let json = serde_json::to_string(&Bytes(vec![0, 255, 7])).unwrap();
        assert_eq!(json, "\"AP8H\"");
        assert_eq!(
            serde_json::from_str::<Bytes>(&json).unwrap().0,
            vec![0, 255, 7]
        );
        assert!(serde_json::from_str::<Bytes>("\"not base64!\"").is_err());
        // The text form is the JSON string's content.
        assert_eq!(Bytes(vec![0, 255, 7]).to_text(), "AP8H");
        assert_eq!(Bytes::from_text("AP8H"), Some(Bytes(vec![0, 255, 7])));
        assert_eq!(Bytes::from_text("not base64!"), None);
    }
}
