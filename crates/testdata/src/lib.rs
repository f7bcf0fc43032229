//! Deterministic synthetic location files of any size, for tests and
//! benchmarks that need volume rather than realism (realistic synthetic
//! citizens with ground truth are another matter, built on a territory).
//!
//! The track is a random walk around La Rochelle, one fix per second, with
//! plausible accuracy, speed, heading and altitude, written straight to a
//! `Write` so that multi-gigabyte files cost no memory.

use sillage_model::Timestamp;
use std::io::{self, Write};

/// The file formats this crate writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyntheticFormat {
    /// Google Takeout `Records.json` (ISO `timestamp` style).
    GoogleRecords,
    /// GPX 1.1, one track.
    Gpx,
    /// CSV `time,lat,lon,accuracy,speed,bearing,altitude`.
    Csv,
}

impl SyntheticFormat {
    /// Parses `records`, `gpx` or `csv`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "records" => Some(Self::GoogleRecords),
            "gpx" => Some(Self::Gpx),
            "csv" => Some(Self::Csv),
            _ => None,
        }
    }
}

/// A point of the synthetic walk.
#[derive(Clone, Copy, Debug)]
pub struct WalkPoint {
    /// Time of the fix.
    pub time: Timestamp,
    /// Latitude in degrees (7 decimals, as E7 sources have).
    pub lat: f64,
    /// Longitude in degrees (7 decimals).
    pub lon: f64,
    /// Accuracy radius, metres.
    pub accuracy: u32,
    /// Speed, m/s.
    pub speed: u32,
    /// Heading, degrees.
    pub heading: u32,
    /// Altitude, metres.
    pub altitude: i32,
}

/// An endless, deterministic random walk (xorshift; no dependencies).
pub struct Walk {
    state: u64,
    lat_e7: i64,
    lon_e7: i64,
    time_ms: i64,
}

impl Walk {
    /// Starts at La Rochelle on 2024-01-01 with the given seed.
    pub fn new(seed: u64) -> Self {
        Self {
            state: seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1,
            lat_e7: 461_600_000,
            lon_e7: -11_500_000,
            time_ms: 1_704_067_200_000,
        }
    }

    fn next_random(&mut self) -> u64 {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        self.state
    }
}

impl Iterator for Walk {
    type Item = WalkPoint;
    fn next(&mut self) -> Option<WalkPoint> {
        let r = self.next_random();
        self.time_ms += 1000;
        self.lat_e7 += (r % 201) as i64 - 100;
        self.lon_e7 += ((r >> 8) % 201) as i64 - 100;
        Some(WalkPoint {
            time: Timestamp(self.time_ms),
            lat: self.lat_e7 as f64 / 1e7,
            lon: self.lon_e7 as f64 / 1e7,
            accuracy: 3 + ((r >> 16) % 40) as u32,
            speed: ((r >> 24) % 15) as u32,
            heading: ((r >> 32) % 360) as u32,
            altitude: ((r >> 41) % 30) as i32,
        })
    }
}

/// Writes `points` fixes of the walk seeded with `seed` in `format`.
pub fn write_synthetic(
    out: &mut impl Write,
    format: SyntheticFormat,
    points: u64,
    seed: u64,
) -> io::Result<()> {
    let walk = Walk::new(seed).take(points as usize);
    match format {
        SyntheticFormat::GoogleRecords => {
            out.write_all(b"{\n  \"locations\": [")?;
            for (i, p) in walk.enumerate() {
                let separator = if i == 0 { "" } else { "," };
                write!(
                    out,
                    "{separator}{{\n    \"latitudeE7\": {},\n    \"longitudeE7\": {},\n    \"accuracy\": {},\n    \
                     \"velocity\": {},\n    \"heading\": {},\n    \"altitude\": {},\n    \"source\": \"GPS\",\n    \
                     \"deviceTag\": 1234567,\n    \"platformType\": \"ANDROID\",\n    \"timestamp\": \"{}\"\n  }}",
                    (p.lat * 1e7).round() as i64,
                    (p.lon * 1e7).round() as i64,
                    p.accuracy,
                    p.speed,
                    p.heading,
                    p.altitude,
                    p.time
                )?;
            }
            out.write_all(b"]\n}\n")
        }
        SyntheticFormat::Gpx => {
            out.write_all(
                b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<gpx version=\"1.1\" creator=\"sillage-testdata\" \
                  xmlns=\"http://www.topografix.com/GPX/1/1\">\n<trk><name>synthetic</name><trkseg>\n",
            )?;
            for p in walk {
                writeln!(
                    out,
                    "<trkpt lat=\"{:.7}\" lon=\"{:.7}\"><ele>{}</ele><time>{}</time></trkpt>",
                    p.lat, p.lon, p.altitude, p.time
                )?;
            }
            out.write_all(b"</trkseg></trk>\n</gpx>\n")
        }
        SyntheticFormat::Csv => {
            writeln!(out, "time,lat,lon,accuracy,speed,bearing,altitude")?;
            for p in walk {
                writeln!(
                    out,
                    "{},{:.7},{:.7},{},{},{},{}",
                    p.time, p.lat, p.lon, p.accuracy, p.speed, p.heading, p.altitude
                )?;
            }
            Ok(())
        }
    }
}
