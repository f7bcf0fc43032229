//! Live tracker requests: what OwnTracks, Overland, GPSLogger, OsmAnd and
//! Traccar Client send to a server while they track, read into fixes.
//!
//! These functions are pure: the server hands over the body or the decoded
//! query/form parameters and gets back a [`LiveBatch`]; authentication,
//! storage and the reply each app expects stay with the server.
//!
//! What fails a request and what does not follows from how these apps react
//! to an error reply: every one of them keeps the request queued and sends it
//! again, forever. So an [`IngestError`] is returned only for what the citizen
//! can fix in the app's settings (a body that is not the protocol, a URL
//! template without a latitude, a missing device id); a well-formed fix that
//! fails the plausibility rules (`(0, 0)`, a date in 1970, a 50 km accuracy
//! circle) is counted in [`LiveBatch::rejected`] and the request succeeds, so
//! the app's queue drains. Batch formats (OwnTracks arrays, Overland) count a
//! record without position or time as rejected too, for the same reason: one
//! bad record must not hold the whole batch hostage.

use crate::field::{Num, Time, opt_f32, parse_time_text, probability};
use crate::json::{geojson, json_error, owntracks, parse_lat_lng_text};
use crate::{Emitter, IngestError, Sink, Stop};
use serde::Deserialize;
use serde_json::Value;
use sillage_model::{Fix, RejectReason, SourceHint, Timestamp, ValidationRules};
use std::collections::BTreeMap;

/// What one live request carried, after validation.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LiveBatch {
    /// Plausible fixes, in the order the request listed them.
    pub fixes: Vec<Fix>,
    /// Activity hints the app inferred (OwnTracks `motionactivities`,
    /// Overland `motion`, Traccar Client `activity.type`).
    pub hints: Vec<SourceHint>,
    /// Records that were well-formed but not stored, by reason.
    pub rejected: BTreeMap<RejectReason, u64>,
}

/// Device names found inside a payload (Overland's `device_id` property) are
/// dropped: a live endpoint knows its device from the credentials it checked.
impl Sink for LiveBatch {
    fn fix(&mut self, _device: &str, fix: Fix) -> Result<(), Stop> {
        self.fixes.push(fix);
        Ok(())
    }
    fn hint(&mut self, _device: &str, hint: SourceHint) -> Result<(), Stop> {
        self.hints.push(hint);
        Ok(())
    }
    fn reject(&mut self, reason: RejectReason) -> Result<(), Stop> {
        *self.rejected.entry(reason).or_default() += 1;
        Ok(())
    }
}

impl LiveBatch {
    /// Runs `parse` against an emitter applying the rules of a file import
    /// made now: a live fix is as plausible as an imported one, no more.
    fn collect(
        parse: impl FnOnce(&mut Emitter<'_>) -> Result<(), IngestError>,
    ) -> Result<Self, IngestError> {
        let mut batch = Self::default();
        parse(&mut Emitter::new(
            &mut batch,
            ValidationRules::for_import_now(),
        ))?;
        Ok(batch)
    }

    /// A batch holding one validated fix, and its hint.
    fn single(fix: Fix, hint: Option<SourceHint>) -> Result<Self, IngestError> {
        Self::collect(|emit| {
            if let Some(hint) = hint {
                emit.hint("", hint)?;
            }
            Ok(emit.fix("", fix)?)
        })
    }
}

/// An OwnTracks HTTP-mode request body: one JSON message, or an array of them.
///
/// Only `_type: location` messages carry fixes (`vel` is converted from km/h
/// to m/s); transitions, waypoints, cards, `lwt`, `encrypted` and the like are
/// ignored. A zero-length body (the app sends one for a deleted friend) is an
/// empty batch. A location message without `lat`, `lon` or `tst` is counted
/// as rejected.
///
/// # Errors
/// [`IngestError::Syntax`] when the body is not JSON.
pub fn owntracks_request(body: &[u8]) -> Result<LiveBatch, IngestError> {
    LiveBatch::collect(|emit| {
        if body.trim_ascii().is_empty() {
            return Ok(());
        }
        owntracks::parse(body, emit)
    })
}

/// An Overland (iOS) request body: `{"locations":[Feature…], "current":…, "trip":…}`.
///
/// Point features become fixes (`speed` and `course` of `-1` mean "invalid"
/// and are dropped, `motion` becomes a hint); app events without geometry
/// (`will_terminate`), visits and trip summaries are skipped; `current` is
/// skipped because the same fix arrives again in a later batch.
///
/// # Errors
/// [`IngestError::Syntax`] when the body is not JSON or `locations` is not an
/// array, [`IngestError::MissingField`] when there is no `locations`.
pub fn overland_request(body: &[u8]) -> Result<LiveBatch, IngestError> {
    LiveBatch::collect(|emit| geojson::parse_overland(body, emit))
}

/// A GPSLogger for Android "Log to custom URL" request, from the decoded
/// query string or form body.
///
/// The citizen writes the parameter names into the URL template, so the
/// names GPSLogger documents are accepted, case-insensitively: those of its
/// default template (`lat`, `longitude`, `time`, `s`) and those `%ALL`
/// expands to (`lat`, `lon`, `alt`, `acc`, `dir`, `spd`, `time`,
/// `timeoffset`, `timestamp`…), plus the spelled-out `latitude`, `speed`,
/// `accuracy`, `altitude`, `bearing`. `spd_kph` is read as km/h when no m/s
/// speed is given. The time is taken from `time` (ISO-8601 with
/// milliseconds), else `timeoffset`, else `timestamp` (epoch seconds); the
/// UTC offset from `timeoffset` is kept. Battery, provider, DOPs and the
/// other device fields are not location data and are ignored.
///
/// # Errors
/// [`IngestError::MissingField`] or [`IngestError::InvalidField`] naming
/// `lat`, `lon` or `time` when one is absent or not readable. Optional fields
/// that cannot be read are left out of the fix instead.
pub fn gpslogger_request(params: &[(String, String)]) -> Result<LiveBatch, IngestError> {
    const LAT: &str = "the latitude in decimal degrees, e.g. lat=%LAT";
    const LON: &str = "the longitude in decimal degrees, e.g. lon=%LON or longitude=%LON";
    const TIME: &str = "the fix time, e.g. time=%TIME (ISO-8601), timeoffset=%TIMEOFFSET \
                        or timestamp=%TIMESTAMP (epoch seconds)";
    let params = Params(params);
    let lat = params.required_number(&["lat", "latitude"], LAT)?;
    let lon = params.required_number(&["lon", "longitude", "lng"], LON)?;
    let (name, text) =
        params
            .get(&["time", "timeoffset", "timestamp"])
            .ok_or(IngestError::MissingField {
                field: "time",
                expected: TIME,
            })?;
    let (time, offset) =
        param_time(text).ok_or_else(|| IngestError::invalid_field(name, text, TIME))?;
    // `%TIMEOFFSET` is the same instant written in the phone's local time: the
    // only place GPSLogger tells the UTC offset, whichever time field was read.
    let offset = params
        .get(&["timeoffset"])
        .and_then(|(_, t)| param_time(t)?.1)
        .or(offset);
    let fix = Fix {
        accuracy_m: radius(params.number(&["acc", "accuracy"])),
        speed_mps: params
            .measure(&["spd", "s", "speed"], true)
            .or_else(|| params.measure(&["spd_kph"], true).map(|kmh| kmh / 3.6)),
        bearing_deg: params.measure(&["dir", "bearing"], true),
        altitude_m: params.measure(&["alt", "altitude"], false),
        utc_offset_min: offset.filter(|&o| o != 0),
        ..Fix::new(time, lat, lon)
    };
    LiveBatch::single(fix, None)
}

/// Metres per second in one knot (1852 m per hour).
const MPS_PER_KNOT: f32 = 1852.0 / 3600.0;

/// A request in the OsmAnd protocol (Traccar's port 5055, as sent by the
/// OsmAnd app and Traccar Client before version 9), from the decoded query
/// string or form body. Returns the device id as given, for the server to
/// check against its own table.
///
/// Reads `id`/`deviceid`, `lat` and `lon` (or `location=lat,lon`),
/// `timestamp` (epoch seconds or milliseconds, ISO-8601, or
/// `yyyy-MM-dd HH:mm:ss` read as UTC), `speed` in **knots**,
/// `bearing`/`heading`, `altitude`, and `accuracy`, else `hdop`: OsmAnd puts
/// the accuracy radius in metres in its `{3}` "hdop" slot. `valid=false` (any
/// value but `true` or `1`, as Traccar reads it) marks a position the device
/// itself does not trust: it is counted as rejected (`missing_position`).
///
/// # Errors
/// [`IngestError::MissingField`] or [`IngestError::InvalidField`] naming
/// `id`, `lat`, `lon`, `location` or `timestamp`.
pub fn osmand_request(params: &[(String, String)]) -> Result<(String, LiveBatch), IngestError> {
    const ID: &str = "the device identifier, as id= or deviceid=";
    const POSITION: &str = "lat= and lon= in decimal degrees, or location=lat,lon";
    const TIME: &str = "timestamp= as epoch seconds or milliseconds, ISO-8601 \
                        or yyyy-MM-dd HH:mm:ss (UTC)";
    let params = Params(params);
    let (_, device) = params
        .get(&["id", "deviceid"])
        .ok_or(IngestError::MissingField {
            field: "id",
            expected: ID,
        })?;
    let (lat, lon) = match params.get(&["location"]) {
        Some((_, text)) if params.get(&["lat"]).is_none() => parse_lat_lng_text(text)
            .ok_or_else(|| IngestError::invalid_field("location", text, POSITION))?,
        _ => (
            params.required_number(&["lat"], POSITION)?,
            params.required_number(&["lon"], POSITION)?,
        ),
    };
    let (name, text) = params
        .get(&["timestamp"])
        .ok_or(IngestError::MissingField {
            field: "timestamp",
            expected: TIME,
        })?;
    let (time, offset) =
        param_time(text).ok_or_else(|| IngestError::invalid_field(name, text, TIME))?;
    let valid = params.get(&["valid"]).is_none_or(|(_, v)| {
        let v = v.trim();
        v.eq_ignore_ascii_case("true") || v == "1"
    });
    let batch = if valid {
        let fix = Fix {
            accuracy_m: radius(params.number(&["accuracy"]))
                .or_else(|| radius(params.number(&["hdop"]))),
            speed_mps: params
                .measure(&["speed"], true)
                .map(|knots| knots * MPS_PER_KNOT),
            bearing_deg: params.measure(&["bearing", "heading"], true),
            altitude_m: params.measure(&["altitude"], false),
            utc_offset_min: offset.filter(|&o| o != 0),
            ..Fix::new(time, lat, lon)
        };
        LiveBatch::single(fix, None)?
    } else {
        LiveBatch::collect(|emit| Ok(emit.reject(RejectReason::MissingPosition)?))?
    };
    Ok((device.to_owned(), batch))
}

/// Traccar Client 9+ JSON body (`Content-Type: application/json`).
#[derive(Deserialize)]
struct TraccarBody {
    location: Option<TraccarLocation>,
    /// A string in practice; numbers are accepted and returned as text.
    device_id: Option<Value>,
}

#[derive(Deserialize)]
struct TraccarLocation {
    /// Kept raw so that an unreadable time can be quoted in the error.
    timestamp: Option<Value>,
    coords: Option<TraccarCoords>,
    activity: Option<TraccarActivity>,
}

#[derive(Deserialize)]
struct TraccarCoords {
    latitude: Option<Value>,
    longitude: Option<Value>,
    accuracy: Option<Num>,
    /// m/s, `-1` when unknown.
    speed: Option<Num>,
    /// Degrees, `-1` when unknown.
    heading: Option<Num>,
    altitude: Option<Num>,
}

#[derive(Deserialize)]
struct TraccarActivity {
    #[serde(rename = "type")]
    kind: Option<String>,
    /// Percent.
    confidence: Option<Num>,
}

/// A Traccar Client 9+ JSON request:
/// `{"location":{"timestamp","coords":{…},"activity":{"type"},…},"device_id"}`.
/// Returns the device id as given, for the server to check.
///
/// Speed is in m/s; a speed or heading of `-1` means unknown. `activity.type`
/// (`still`, `on_foot`, `walking`, `running`, `on_bicycle`, `in_vehicle`)
/// becomes a hint with its confidence. Odometer, battery, `is_moving`,
/// `event` and `extras` are not location data and are ignored.
///
/// This is not Dawarich's "Traccar" endpoint, which expects a flat
/// `location{latitude,longitude,…}` from its own client.
///
/// # Errors
/// [`IngestError::Syntax`] when the body is not JSON of that shape;
/// [`IngestError::MissingField`] or [`IngestError::InvalidField`] naming
/// `device_id`, `location`, `location.timestamp`, `location.coords`,
/// `location.coords.latitude` or `location.coords.longitude`.
pub fn traccar_json_request(body: &[u8]) -> Result<(String, LiveBatch), IngestError> {
    const ID: &str = "the device identifier as a top-level \"device_id\" string";
    const LOCATION: &str = "a \"location\" object with \"timestamp\" and \"coords\"";
    const TIME: &str = "an ISO-8601 time such as \"2024-03-01T08:00:00.000Z\"";
    const COORDS: &str = "an object with \"latitude\" and \"longitude\"";
    const DEGREES: &str = "a number of decimal degrees";
    let body: TraccarBody = serde_json::from_slice(body).map_err(json_error)?;
    let device = match body.device_id {
        Some(Value::String(id)) if !id.trim().is_empty() => id,
        Some(Value::Number(id)) => id.to_string(),
        None | Some(Value::Null) | Some(Value::String(_)) => {
            return Err(IngestError::MissingField {
                field: "device_id",
                expected: ID,
            });
        }
        Some(other) => {
            return Err(IngestError::invalid_field("device_id", &shown(&other), ID));
        }
    };
    let location = body.location.ok_or(IngestError::MissingField {
        field: "location",
        expected: LOCATION,
    })?;
    let (time, offset) = match present(location.timestamp) {
        None => {
            return Err(IngestError::MissingField {
                field: "location.timestamp",
                expected: TIME,
            });
        }
        Some(value) => match Time::deserialize(&value) {
            Ok(Time::Ok(time, offset)) => (time, offset),
            _ => {
                return Err(IngestError::invalid_field(
                    "location.timestamp",
                    &shown(&value),
                    TIME,
                ));
            }
        },
    };
    let coords = location.coords.ok_or(IngestError::MissingField {
        field: "location.coords",
        expected: COORDS,
    })?;
    let lat = required_json_number(coords.latitude, "location.coords.latitude", DEGREES)?;
    let lon = required_json_number(coords.longitude, "location.coords.longitude", DEGREES)?;
    let fix = Fix {
        accuracy_m: radius(coords.accuracy),
        speed_mps: opt_f32(coords.speed, true),
        bearing_deg: opt_f32(coords.heading, true),
        altitude_m: opt_f32(coords.altitude, false),
        utc_offset_min: offset.filter(|&o| o != 0),
        ..Fix::new(time, lat, lon)
    };
    let hint = location.activity.and_then(|activity| {
        let label = activity.kind.filter(|k| !k.trim().is_empty())?;
        let confidence = activity.confidence.and_then(Num::get).map(probability);
        Some(SourceHint::activity(time, time, &label, confidence))
    });
    Ok((device, LiveBatch::single(fix, hint)?))
}

/// A JSON value as quoted in an error: a string's own text, anything else
/// as JSON.
fn shown(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// A JSON value that is there and not `null`.
fn present(value: Option<Value>) -> Option<Value> {
    value.filter(|v| !v.is_null())
}

/// A mandatory JSON number (or numeric string), quoted in the error when unreadable.
fn required_json_number(
    value: Option<Value>,
    field: &'static str,
    expected: &'static str,
) -> Result<f64, IngestError> {
    let value = present(value).ok_or(IngestError::MissingField { field, expected })?;
    match Num::deserialize(&value) {
        Ok(Num::Value(v)) => Ok(v),
        _ => Err(IngestError::invalid_field(field, &shown(&value), expected)),
    }
}

/// An accuracy radius. Android reports 0 when it has no estimate and iOS
/// `-1`, so only a positive radius is one (a 0 m circle would otherwise pass
/// as a perfect fix).
fn radius(value: Option<Num>) -> Option<f32> {
    opt_f32(value, true).filter(|r| *r > 0.0)
}

/// Reads a time parameter: ISO-8601 or epoch seconds/milliseconds.
///
/// A `+` in a UTC offset that the client did not percent-encode comes out of
/// form decoding as a space (`2024-03-01T09:00:00 01:00`); such a trailing
/// offset is read back as positive rather than failing the request.
fn param_time(text: &str) -> Option<(Timestamp, Option<i16>)> {
    let text = text.trim();
    parse_time_text(text).or_else(|| {
        let (head, tail) = text.rsplit_once(' ')?;
        let offset_like = matches!(tail.len(), 2 | 4 | 5)
            && tail.bytes().all(|b| b.is_ascii_digit() || b == b':');
        // Longer than a bare date, so `head` holds a time for the offset to follow.
        (offset_like && head.len() > 10)
            .then(|| parse_time_text(&format!("{head}+{tail}")))
            .flatten()
    })
}

/// Decoded query or form parameters, looked up case-insensitively.
#[derive(Clone, Copy)]
struct Params<'a>(&'a [(String, String)]);

impl<'a> Params<'a> {
    /// The value of the first of `names` (in order of preference) that is
    /// present with a non-blank value, and which name that was. Blank values
    /// count as absent: GPSLogger expands a placeholder it has no value for
    /// to nothing. A repeated name reads its first occurrence.
    fn get(self, names: &[&'static str]) -> Option<(&'static str, &'a str)> {
        names.iter().find_map(|&name| {
            self.0
                .iter()
                .find(|(key, value)| {
                    key.trim().eq_ignore_ascii_case(name) && !value.trim().is_empty()
                })
                .map(|(_, value)| (name, value.as_str()))
        })
    }

    /// An optional number, unreadable values kept as [`Num::Invalid`].
    fn number(self, names: &[&'static str]) -> Option<Num> {
        self.get(names).map(|(_, text)| Num::from_text(text))
    }

    /// An optional measurement; see [`opt_f32`].
    fn measure(self, names: &[&'static str], non_negative: bool) -> Option<f32> {
        opt_f32(self.number(names), non_negative)
    }

    /// A mandatory number. Errors name `names[0]` when absent, the name
    /// actually sent when unreadable.
    fn required_number(
        self,
        names: &[&'static str],
        expected: &'static str,
    ) -> Result<f64, IngestError> {
        let (name, text) = self.get(names).ok_or(IngestError::MissingField {
            field: names[0],
            expected,
        })?;
        match Num::from_text(text) {
            Num::Value(v) => Ok(v),
            Num::Invalid => Err(IngestError::invalid_field(name, text, expected)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn params_are_case_insensitive_ordered_and_skip_blanks() {
        let list = pairs(&[("LAT", "46.16"), ("Longitude", " "), ("lon", "-1.15")]);
        let params = Params(&list);
        assert_eq!(params.get(&["lat"]), Some(("lat", "46.16")));
        assert_eq!(params.get(&["longitude", "lon"]), Some(("lon", "-1.15")));
        assert_eq!(params.get(&["alt"]), None);
    }

    #[test]
    fn time_parameters_survive_a_decoded_plus() {
        let expected = Timestamp::parse_iso8601("2024-03-01T08:00:00.250Z")
            .unwrap()
            .0;
        assert_eq!(
            param_time("2024-03-01T09:00:00.250 01:00"),
            Some((expected, Some(60)))
        );
        assert_eq!(
            param_time("2024-03-01T09:00:00.250+0100"),
            Some((expected, Some(60)))
        );
        assert_eq!(param_time("2024-03-01 xx"), None);
        assert_eq!(param_time("yesterday 12"), None);
    }

    #[test]
    fn radius_drops_unknown_sentinels() {
        assert_eq!(radius(Some(Num::Value(0.0))), None);
        assert_eq!(radius(Some(Num::Value(-1.0))), None);
        assert_eq!(radius(Some(Num::Value(4.5))), Some(4.5));
        assert_eq!(radius(Some(Num::Invalid)), None);
    }
}
