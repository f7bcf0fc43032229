//! Deterministic synthetic location files of any size, for tests and
//! benchmarks that need volume rather than realism (realistic synthetic
//! citizens with ground truth are another matter, built on a territory).
//!
//! The track is a random walk around La Rochelle, one fix per second, with
//! plausible accuracy, speed, heading and altitude, written straight to a
//! `Write` so that multi-gigabyte files cost no memory.
//!
//! The [`trace`] module goes the other way round: it writes a given list of
//! fixes (a synthetic citizen's phone trace) in the real formats citizens
//! bring, faithfully enough for the importer to read the same fixes back.

pub mod trace;

pub use trace::{TraceFix, TraceFormat, write_trace};

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
    /// CSV of a commuter's days (home, ride to work, work, ride home), one
    /// fix every 15 s: a year is about 2.1 million fixes.
    CommuterCsv,
}

impl SyntheticFormat {
    /// Parses `records`, `gpx` or `csv`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "records" => Some(Self::GoogleRecords),
            "gpx" => Some(Self::Gpx),
            "csv" => Some(Self::Csv),
            "commuter" => Some(Self::CommuterCsv),
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

/// A commuter's fixes, every 15 s from 2024-01-01: home until 08:00, a
/// 25-minute ride (≈ 6 m/s with stops) to work 5 km north-east, work until
/// 17:30, the ride back, home. GPS noise of a few metres everywhere.
pub struct CommuterDays {
    noise: Walk,
    time_ms: i64,
}

/// Home and work, La Rochelle.
const HOME: (f64, f64) = (46.1500, -1.1700);
const WORK: (f64, f64) = (46.1820, -1.1250);

impl CommuterDays {
    /// Starts on 2024-01-01T00:00:00Z.
    pub fn new(seed: u64) -> Self {
        Self {
            noise: Walk::new(seed),
            time_ms: 1_704_067_200_000,
        }
    }
}

impl Iterator for CommuterDays {
    type Item = WalkPoint;
    fn next(&mut self) -> Option<WalkPoint> {
        let noise = self.noise.next()?;
        self.time_ms += 15_000;
        let minute_of_day = (self.time_ms / 60_000).rem_euclid(1440) as f64;
        // Share of the way from home to work at this minute.
        let progress = match minute_of_day {
            m if m < 480.0 => 0.0,
            m if m < 505.0 => (m - 480.0) / 25.0,
            m if m < 1050.0 => 1.0,
            m if m < 1075.0 => 1.0 - (m - 1050.0) / 25.0,
            _ => 0.0,
        };
        let moving = progress > 0.0 && progress < 1.0;
        let jitter = |r: u64| ((r % 61) as f64 - 30.0) * 1e-6; // ±3 m
        Some(WalkPoint {
            time: Timestamp(self.time_ms),
            lat: HOME.0
                + (WORK.0 - HOME.0) * progress
                + jitter(noise.accuracy as u64 * 7 + noise.speed as u64),
            lon: HOME.1 + (WORK.1 - HOME.1) * progress + jitter(noise.heading as u64),
            accuracy: noise.accuracy % 15 + 3,
            speed: if moving { 6 } else { 0 },
            heading: noise.heading,
            altitude: noise.altitude,
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
        SyntheticFormat::Csv | SyntheticFormat::CommuterCsv => {
            writeln!(out, "time,lat,lon,accuracy,speed,bearing,altitude")?;
            let points: Box<dyn Iterator<Item = WalkPoint>> = if format == SyntheticFormat::Csv {
                Box::new(walk)
            } else {
                Box::new(CommuterDays::new(seed).take(points as usize))
            };
            for p in points {
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
