//! OwnTracks JSON messages (`_type: location`), as the app posts them in
//! HTTP mode and as the Recorder stores them in `.rec` lines.

use super::run_array;
use crate::field::{Num, epoch_guess, opt_f32};
use crate::{Emitter, IngestError};
use serde::Deserialize;
use sillage_model::{Fix, Mode, RejectReason, SourceHint, Timestamp};
use std::io::BufRead;

/// One OwnTracks message. Only `location` messages carry fixes; fields that
/// are zero are omitted by the app, so absence never means "invalid".
#[derive(Deserialize, Debug)]
pub struct OwnTracksMessage {
    #[serde(rename = "_type")]
    kind: Option<String>,
    lat: Option<Num>,
    lon: Option<Num>,
    tst: Option<Num>,
    acc: Option<Num>,
    alt: Option<Num>,
    /// Speed in **km/h** (not m/s).
    vel: Option<Num>,
    cog: Option<Num>,
    #[serde(default)]
    motionactivities: Vec<String>,
}

impl OwnTracksMessage {
    /// True for `_type: location`.
    pub fn is_location(&self) -> bool {
        self.kind.as_deref() == Some("location")
    }

    /// Emits the fix of a location message (and its motion activity as a
    /// hint). `fallback_time` is used when `tst` is missing (a `.rec`
    /// line's own time, which the Recorder derives from `tst` anyway).
    /// Messages of other types are ignored.
    pub fn emit(
        &self,
        device: &str,
        fallback_time: Option<Timestamp>,
        emit: &mut Emitter<'_>,
    ) -> Result<(), IngestError> {
        if !self.is_location() {
            return Ok(());
        }
        let time = match self.tst {
            Some(Num::Value(seconds)) => epoch_guess(seconds),
            Some(Num::Invalid) => None,
            None => fallback_time,
        };
        let Some(time) = time else {
            return Ok(emit.reject(RejectReason::InvalidValue)?);
        };
        if let Some(hint) = self.activity_hint(time) {
            emit.hint(device, hint)?;
        }
        let (lat, lon) = match (self.lat, self.lon) {
            (Some(Num::Value(lat)), Some(Num::Value(lon))) => (lat, lon),
            (Some(Num::Invalid), _) | (_, Some(Num::Invalid)) => {
                return Ok(emit.reject(RejectReason::InvalidValue)?);
            }
            _ => return Ok(emit.reject(RejectReason::MissingPosition)?),
        };
        let fix = Fix {
            accuracy_m: opt_f32(self.acc, true),
            speed_mps: opt_f32(self.vel, true).map(|kmh| (f64::from(kmh) / 3.6) as f32),
            bearing_deg: opt_f32(self.cog, true),
            altitude_m: opt_f32(self.alt, false),
            ..Fix::new(time, lat, lon)
        };
        Ok(emit.fix(device, fix)?)
    }

    /// An instantaneous hint from `motionactivities`: the first label that
    /// names a mode, else the first label (`stationary` says something too).
    fn activity_hint(&self, at: Timestamp) -> Option<SourceHint> {
        let labels = || self.motionactivities.iter().map(String::as_str);
        let label = labels()
            .find(|l| Mode::from_source_activity(l).is_some())
            .or_else(|| labels().next())?;
        Some(SourceHint::activity(at, at, label, None))
    }
}

/// Parses one message or an array of messages.
pub(crate) fn parse(mut reader: impl BufRead, emit: &mut Emitter<'_>) -> Result<(), IngestError> {
    let is_array = reader.fill_buf()?.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[');
    if is_array {
        return run_array(reader, |m: OwnTracksMessage| m.emit("", None, emit));
    }
    let message: OwnTracksMessage = serde_json::from_reader(reader).map_err(super::json_error)?;
    message.emit("", None, emit)
}

#[cfg(test)]
mod tests {
    use crate::collect_bytes;
    use sillage_model::{SourceFormat, Timestamp};

    #[test]
    fn single_message_with_kmh_speed() {
        let text = r#"{"_type":"location","tid":"JJ","lat":46.1591,"lon":-1.152,"tst":1709283789,"acc":10,"alt":5,"vel":18,"cog":98,"batt":94,"bs":2,"t":"p","conn":"w","topic":"owntracks/jane/phone"}"#;
        let (format, got) = collect_bytes(text.as_bytes());
        assert_eq!(format.unwrap(), SourceFormat::OwnTracksJson);
        let f = got.fix_list()[0];
        assert_eq!(f.time, Timestamp(1_709_283_789_000));
        assert_eq!((f.lat, f.lon), (46.1591, -1.152));
        assert_eq!(f.speed_mps, Some(5.0));
        assert_eq!(
            (f.accuracy_m, f.altitude_m, f.bearing_deg),
            (Some(10.0), Some(5.0), Some(98.0))
        );
    }

    #[test]
    fn array_with_other_types_and_omitted_zero_fields() {
        let text = r#"[{"_type":"transition","event":"enter","tst":1709283000},
                       {"_type":"location","lat":46.16,"lon":-1.15,"tst":1709283800},
                       {"_type":"location","lat":46.16,"tst":1709283900}]"#;
        let (format, got) = collect_bytes(text.as_bytes());
        assert_eq!(format.unwrap(), SourceFormat::OwnTracksJson);
        let fixes = got.fix_list();
        assert_eq!(fixes.len(), 1);
        assert_eq!((fixes[0].accuracy_m, fixes[0].speed_mps), (None, None));
        assert_eq!(got.rejected.values().sum::<u64>(), 1);
    }
}
