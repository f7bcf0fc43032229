//! Writing fixes out, so that a citizen's data is never locked in.
//!
//! Each format is written as a stream (header, one record at a time,
//! footer), so exporting years of history needs no more memory than one fix.
//! Every format written here is read back by `sillage-ingest` with the same
//! values (tested), which is what makes an export a real backup.

mod archive;

pub use archive::{ArchiveError, export_fixes, mode_colour, trip_features, write_archive};

use sillage_model::{Fix, SourceFormat};
use std::fmt;
use std::io::{self, Write};

/// The formats fixes can be exported to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    /// GPX 1.1: one track per device; accuracy, speed and course in extensions.
    Gpx,
    /// GeoJSON FeatureCollection of timed Point features.
    GeoJson,
    /// CSV with a header row.
    Csv,
}

impl ExportFormat {
    /// Parses `gpx`, `geojson` or `csv`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "gpx" => Some(Self::Gpx),
            "geojson" | "json" => Some(Self::GeoJson),
            "csv" => Some(Self::Csv),
            _ => None,
        }
    }

    /// The usual file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Gpx => "gpx",
            Self::GeoJson => "geojson",
            Self::Csv => "csv",
        }
    }

    /// The import format that reads this export back.
    pub fn source_format(self) -> SourceFormat {
        match self {
            Self::Gpx => SourceFormat::Gpx,
            Self::GeoJson => SourceFormat::GeoJson,
            Self::Csv => SourceFormat::Csv,
        }
    }
}

/// Streams fixes into one of the export formats. Fixes must arrive grouped
/// by device (GPX starts a new track when the device changes).
pub struct FixWriter<W: Write> {
    out: W,
    format: ExportFormat,
    current_device: Option<String>,
    written: u64,
}

/// An optional measurement, written as nothing when absent.
struct Opt<T>(Option<T>);

impl<T: fmt::Display> fmt::Display for Opt<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(v) => v.fmt(f),
            None => Ok(()),
        }
    }
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

impl<W: Write> FixWriter<W> {
    /// Writes the format's header.
    pub fn new(mut out: W, format: ExportFormat) -> io::Result<Self> {
        match format {
            ExportFormat::Gpx => write!(
                out,
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<gpx version=\"1.1\" creator=\"Sillage\" \
                 xmlns=\"http://www.topografix.com/GPX/1/1\" xmlns:sillage=\"urn:sillage:gpx:1\">\n"
            )?,
            ExportFormat::GeoJson => {
                write!(out, "{{\"type\":\"FeatureCollection\",\"features\":[")?
            }
            ExportFormat::Csv => writeln!(
                out,
                "device,time,lat,lon,accuracy_m,speed_mps,bearing_deg,altitude_m,utc_offset_min"
            )?,
        }
        Ok(Self {
            out,
            format,
            current_device: None,
            written: 0,
        })
    }

    /// Writes one fix of `device`.
    pub fn write(&mut self, device: &str, fix: &Fix) -> io::Result<()> {
        let time = fix.time.to_rfc3339();
        match self.format {
            ExportFormat::Gpx => {
                if self.current_device.as_deref() != Some(device) {
                    if self.current_device.is_some() {
                        writeln!(self.out, "</trkseg></trk>")?;
                    }
                    writeln!(self.out, "<trk><name>{}</name><trkseg>", xml_escape(device))?;
                    self.current_device = Some(device.to_owned());
                }
                write!(self.out, "<trkpt lat=\"{}\" lon=\"{}\">", fix.lat, fix.lon)?;
                if let Some(ele) = fix.altitude_m {
                    write!(self.out, "<ele>{ele}</ele>")?;
                }
                write!(self.out, "<time>{time}</time>")?;
                if fix.accuracy_m.is_some() || fix.speed_mps.is_some() || fix.bearing_deg.is_some()
                {
                    write!(self.out, "<extensions>")?;
                    if let Some(v) = fix.accuracy_m {
                        write!(self.out, "<sillage:accuracy>{v}</sillage:accuracy>")?;
                    }
                    if let Some(v) = fix.speed_mps {
                        write!(self.out, "<sillage:speed>{v}</sillage:speed>")?;
                    }
                    if let Some(v) = fix.bearing_deg {
                        write!(self.out, "<sillage:course>{v}</sillage:course>")?;
                    }
                    write!(self.out, "</extensions>")?;
                }
                writeln!(self.out, "</trkpt>")?;
            }
            ExportFormat::GeoJson => {
                let mut coordinates = vec![serde_json::json!(fix.lon), serde_json::json!(fix.lat)];
                if let Some(alt) = fix.altitude_m {
                    coordinates.push(serde_json::json!(alt));
                }
                let feature = serde_json::json!({
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": coordinates},
                    "properties": {
                        "device_id": device,
                        "time": time,
                        "accuracy": fix.accuracy_m,
                        "speed": fix.speed_mps,
                        "bearing": fix.bearing_deg,
                        "utc_offset_min": fix.utc_offset_min,
                    }
                });
                let separator = if self.written == 0 { "\n" } else { ",\n" };
                write!(self.out, "{separator}{feature}")?;
            }
            ExportFormat::Csv => writeln!(
                self.out,
                "{},{time},{},{},{},{},{},{},{}",
                csv_field(device),
                fix.lat,
                fix.lon,
                Opt(fix.accuracy_m),
                Opt(fix.speed_mps),
                Opt(fix.bearing_deg),
                Opt(fix.altitude_m),
                Opt(fix.utc_offset_min)
            )?,
        }
        self.written += 1;
        Ok(())
    }

    /// Writes the footer and returns the output and the number of fixes written.
    pub fn finish(mut self) -> io::Result<(W, u64)> {
        match self.format {
            ExportFormat::Gpx => {
                if self.current_device.is_some() {
                    writeln!(self.out, "</trkseg></trk>")?;
                }
                writeln!(self.out, "</gpx>")?;
            }
            ExportFormat::GeoJson => writeln!(self.out, "\n]}}")?,
            ExportFormat::Csv => {}
        }
        self.out.flush()?;
        Ok((self.out, self.written))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sillage_model::Timestamp;

    fn sample() -> Vec<(String, Fix)> {
        let mut a = Fix::new(Timestamp(1_709_280_000_250), 46.159_123_4, -1.152_987_6);
        a.accuracy_m = Some(7.5);
        a.speed_mps = Some(3.25);
        a.bearing_deg = Some(181.0);
        a.altitude_m = Some(12.5);
        let b = Fix::new(Timestamp(1_709_280_001_000), 46.16, -1.15);
        let mut c = Fix::new(Timestamp(1_709_280_002_000), 46.17, -1.14);
        c.accuracy_m = Some(30.0);
        vec![
            ("phone".into(), a),
            ("phone".into(), b),
            ("watch, \"left\"".into(), c),
        ]
    }

    /// Every export reads back through the importer with identical values.
    #[test]
    fn exports_round_trip_through_the_importer() {
        for format in [ExportFormat::Gpx, ExportFormat::GeoJson, ExportFormat::Csv] {
            let mut writer = FixWriter::new(Vec::new(), format).unwrap();
            for (device, fix) in sample() {
                writer.write(&device, &fix).unwrap();
            }
            let (bytes, n) = writer.finish().unwrap();
            assert_eq!(n, 3);
            let (detected, got) = sillage_ingest::collect_bytes(&bytes);
            assert_eq!(
                detected.unwrap(),
                format.source_format(),
                "{}",
                String::from_utf8_lossy(&bytes)
            );
            let back = got.fix_list();
            let expected: Vec<Fix> = sample().into_iter().map(|(_, f)| f).collect();
            for (b, e) in back.iter().zip(&expected) {
                assert_eq!(
                    (b.time, b.lat, b.lon, b.altitude_m),
                    (e.time, e.lat, e.lon, e.altitude_m),
                    "{format:?}"
                );
                assert_eq!(
                    (b.accuracy_m, b.speed_mps, b.bearing_deg),
                    (e.accuracy_m, e.speed_mps, e.bearing_deg),
                    "{format:?}"
                );
            }
            assert_eq!(back.len(), 3, "{format:?}");
            if format != ExportFormat::Gpx {
                let devices: Vec<&str> = got.fixes.iter().map(|(d, _)| d.as_str()).collect();
                assert_eq!(devices, ["phone", "phone", "watch, \"left\""], "{format:?}");
            }
        }
    }
}
