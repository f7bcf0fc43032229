//! Recognising a format from the first bytes of a stream, never from a file name.

use crate::IngestError;
use sillage_model::SourceFormat;

/// What the first bytes of a stream say it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Detected {
    /// A supported location format.
    Format(SourceFormat),
    /// Recognised, but carries nothing we can import; the text says why and what to do.
    Unsupported(String),
}

/// Magic bytes of containers that are unwrapped before detection.
pub(crate) const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
pub(crate) const ZIP_MAGIC: &[u8] = b"PK\x03\x04";

/// Recognises the format of a stream from its first bytes (at most
/// [`crate::SNIFF_BYTES`]). Containers (zip, gzip) are handled by
/// [`crate::for_each_source`] before this is called.
pub fn detect(prefix: &[u8]) -> Result<Detected, IngestError> {
    let text = prefix.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(prefix);
    let start = text
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(text.len());
    let body = &text[start..];
    if prefix.starts_with(ZIP_MAGIC) || prefix.starts_with(GZIP_MAGIC) {
        return Ok(Detected::Unsupported(
            "a compressed archive nested inside another one; extract it first".into(),
        ));
    }
    // FIT is binary: its 12- or 14-byte header carries the ".FIT" signature at bytes 8..12.
    if prefix.get(8..12) == Some(b".FIT") {
        return Ok(Detected::Format(SourceFormat::Fit));
    }
    match body.first() {
        None => Err(IngestError::UnknownFormat("the file is empty".into())),
        Some(b'{') => detect_json_object(body),
        Some(b'[') => detect_json_array(body),
        Some(b'<') => detect_xml(body),
        Some(_) => detect_text(body),
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// True when `"key"` appears as an object key (followed by optional space and `:`).
pub(crate) fn has_key(body: &[u8], key: &str) -> bool {
    let quoted = format!("\"{key}\"");
    let needle = quoted.as_bytes();
    let mut from = 0;
    while let Some(pos) = body[from..].windows(needle.len()).position(|w| w == needle) {
        let after = from + pos + needle.len();
        if body[after..].iter().find(|b| !b.is_ascii_whitespace()) == Some(&b':') {
            return true;
        }
        from = after;
    }
    false
}

fn detect_json_object(body: &[u8]) -> Result<Detected, IngestError> {
    use SourceFormat::*;
    let format = if has_key(body, "semanticSegments") || has_key(body, "rawSignals") {
        GoogleTimelineAndroid
    } else if has_key(body, "timelineObjects") {
        GoogleSemantic
    } else if has_key(body, "locations")
        && (has_key(body, "geometry") || contains(body, b"\"Feature\""))
    {
        Overland
    } else if has_key(body, "locations") {
        GoogleRecords
    } else if has_key(body, "features") || contains(body, b"\"Feature\"") {
        GeoJson
    } else if has_key(body, "_type") {
        OwnTracksJson
    } else if contains(&body.to_ascii_lowercase(), b"encrypt") {
        return Ok(Detected::Unsupported(
            "this Timeline export comes from an encrypted backup and holds no locations; \
             on the phone, open Google Maps > Settings > Location & privacy > Export Timeline data"
                .into(),
        ));
    } else if has_key(body, "timelineEdits") {
        return Ok(Detected::Unsupported(
            "Google 'Timeline Edits' holds edits, not locations; import Records.json or the monthly \
             Semantic Location History files instead"
                .into(),
        ));
    } else if has_key(body, "deviceSettings") || has_key(body, "retentionWindowDays") {
        return Ok(Detected::Unsupported(
            "Google Takeout 'Settings.json' holds settings, not locations; import Records.json instead".into(),
        ));
    } else {
        return Err(IngestError::UnknownFormat(format!(
            "a JSON object with keys {}; expected Google Records (locations), Semantic History \
             (timelineObjects), Timeline (semanticSegments), GeoJSON (features), Overland or OwnTracks",
            top_level_keys(body)
        )));
    };
    Ok(Detected::Format(format))
}

fn detect_json_array(body: &[u8]) -> Result<Detected, IngestError> {
    use SourceFormat::*;
    let format = if has_key(body, "startTime")
        && (has_key(body, "visit")
            || has_key(body, "activity")
            || has_key(body, "timelinePath")
            || has_key(body, "endTime"))
    {
        GoogleTimelineIos
    } else if has_key(body, "metadata") && has_key(body, "data") {
        EMission
    } else if has_key(body, "_type") {
        OwnTracksJson
    } else if body[1..].iter().find(|b| !b.is_ascii_whitespace()) == Some(&b']') {
        return Err(IngestError::UnknownFormat(
            "an empty JSON array: nothing to import".into(),
        ));
    } else {
        return Err(IngestError::UnknownFormat(
            "a JSON array that is neither a Google Timeline (iOS) export, an e-mission export nor OwnTracks messages"
                .into(),
        ));
    };
    Ok(Detected::Format(format))
}

fn detect_xml(body: &[u8]) -> Result<Detected, IngestError> {
    // Find the first element that is not a declaration, comment or doctype.
    let mut rest = body;
    while let Some(pos) = rest.iter().position(|&b| b == b'<') {
        rest = &rest[pos + 1..];
        match rest.first() {
            Some(b'?' | b'!') => continue,
            Some(_) => {
                let name_end = rest
                    .iter()
                    .position(|b| b.is_ascii_whitespace() || *b == b'>' || *b == b'/')
                    .unwrap_or(rest.len());
                let name = &rest[..name_end];
                let local = name.rsplit(|&b| b == b':').next().unwrap_or(name);
                let format = match local {
                    b"gpx" => SourceFormat::Gpx,
                    b"kml" => SourceFormat::Kml,
                    b"TrainingCenterDatabase" => SourceFormat::Tcx,
                    _ => {
                        return Err(IngestError::UnknownFormat(format!(
                            "an XML document whose root element is <{}>; expected <gpx>, <kml> or <TrainingCenterDatabase>",
                            String::from_utf8_lossy(name)
                        )));
                    }
                };
                return Ok(Detected::Format(format));
            }
            None => break,
        }
    }
    Err(IngestError::UnknownFormat(
        "XML-like text without a root element".into(),
    ))
}

fn detect_text(body: &[u8]) -> Result<Detected, IngestError> {
    let first_line_end = body.iter().position(|&b| b == b'\n').unwrap_or(body.len());
    let first_line = String::from_utf8_lossy(&body[..first_line_end]);
    let first_line = first_line.trim_end_matches('\r');
    if first_line.trim() == "Geolife trajectory" {
        return Ok(Detected::Format(SourceFormat::GeoLifePlt));
    }
    if looks_like_rec_line(first_line) {
        return Ok(Detected::Format(SourceFormat::OwnTracksRec));
    }
    if crate::text::csv::looks_like_header(first_line) {
        return Ok(Detected::Format(SourceFormat::Csv));
    }
    if body.contains(&0) {
        return Err(IngestError::UnknownFormat(
            "binary content of an unknown kind".into(),
        ));
    }
    Err(IngestError::UnknownFormat(format!(
        "text whose first line is {:?}; expected a CSV/TSV header naming latitude and longitude \
         columns, a GeoLife PLT or an OwnTracks .rec file",
        first_line.chars().take(80).collect::<String>()
    )))
}

/// `2024-03-01T08:15:30Z<TAB or spaces>topic<TAB or spaces>{…}`.
fn looks_like_rec_line(line: &str) -> bool {
    let mut parts = line.split_whitespace();
    let (Some(time), Some(_topic), Some(json)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    time.len() >= 20 && time.as_bytes()[10] == b'T' && time.ends_with('Z') && json.starts_with('{')
}

fn top_level_keys(body: &[u8]) -> String {
    let value: Result<serde_json::Map<String, serde_json::Value>, _> = serde_json::from_slice(body);
    match value {
        Ok(map) => {
            let keys: Vec<&str> = map.keys().map(String::as_str).take(8).collect();
            format!("[{}]", keys.join(", "))
        }
        Err(_) => "that could not be listed".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use SourceFormat::*;

    fn format_of(text: &str) -> SourceFormat {
        match detect(text.as_bytes()).unwrap() {
            Detected::Format(f) => f,
            Detected::Unsupported(why) => panic!("unsupported: {why}"),
        }
    }

    #[test]
    fn recognises_each_format_by_content() {
        assert_eq!(
            format_of("\u{feff}{\"locations\":[{\"latitudeE7\":1}]}"),
            GoogleRecords
        );
        assert_eq!(format_of("{\n \"timelineObjects\" : []}"), GoogleSemantic);
        assert_eq!(
            format_of("{\"semanticSegments\":[]}"),
            GoogleTimelineAndroid
        );
        assert_eq!(
            format_of("[{\"endTime\":\"x\",\"startTime\":\"y\",\"visit\":{}}]"),
            GoogleTimelineIos
        );
        assert_eq!(
            format_of("{\"locations\":[{\"type\":\"Feature\",\"geometry\":{}}]}"),
            Overland
        );
        assert_eq!(
            format_of("{\"type\":\"FeatureCollection\",\"features\":[]}"),
            GeoJson
        );
        assert_eq!(
            format_of("{\"_type\":\"location\",\"lat\":1}"),
            OwnTracksJson
        );
        assert_eq!(
            format_of("[{\"_id\":{},\"metadata\":{\"key\":\"background/location\"},\"data\":{}}]"),
            EMission
        );
        assert_eq!(
            format_of("<?xml version=\"1.0\"?>\n<!-- c -->\n<gpx version=\"1.1\">"),
            Gpx
        );
        assert_eq!(
            format_of("<kml xmlns=\"http://www.opengis.net/kml/2.2\">"),
            Kml
        );
        assert_eq!(format_of("<TrainingCenterDatabase>"), Tcx);
        assert_eq!(format_of("Geolife trajectory\r\nWGS 84\r\n"), GeoLifePlt);
        assert_eq!(
            format_of("2024-03-01T08:15:30Z\t*                 \t{\"_type\":\"location\"}\n"),
            OwnTracksRec
        );
        assert_eq!(format_of("time,lat,lon,elevation\n"), Csv);
        assert_eq!(
            detect(b"\x0e\x20\x52\x08\x00\x00\x00\x00.FIT\x00\x00").unwrap(),
            Detected::Format(Fit)
        );
        assert!(
            detect(b"\x0e\x20\x52\x08\x00\x00\x00\x00.FI").is_err(),
            "a prefix too short for the signature is not FIT"
        );
    }

    #[test]
    fn explains_what_it_cannot_import() {
        assert!(matches!(
            detect(b"{\"timelineEdits\":[]}"),
            Ok(Detected::Unsupported(_))
        ));
        assert!(matches!(
            detect(b"{\"deviceSettings\":[]}"),
            Ok(Detected::Unsupported(_))
        ));
        let err = detect(b"{\"hello\":1,\"world\":2}")
            .unwrap_err()
            .to_string();
        assert!(err.contains("[hello, world]"), "{err}");
        assert!(detect(b"").is_err());
        assert!(
            detect(b"<html><body>")
                .unwrap_err()
                .to_string()
                .contains("<html>")
        );
        assert!(detect(b"just some words\n").is_err());
    }
}
