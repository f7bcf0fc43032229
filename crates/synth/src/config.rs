//! What a population is made of: its size, seed, period and mode shares.

use crate::SynthError;
use serde::{Deserialize, Serialize};
use sillage_model::{Mode, ModeGroup};
use sillage_territory::NetworkMode;
use sillage_testdata::trace::TraceFormat;

/// A citizen's way of travelling on one leg.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SimMode {
    /// On foot.
    Walk,
    /// Pedal bicycle.
    Bike,
    /// Electrically assisted bicycle.
    EBike,
    /// Private car, driven.
    Car,
    /// City bus.
    Bus,
    /// Train (or any rail line of the territory).
    Train,
}

impl SimMode {
    /// Every mode, in the order of [`ModeShares`].
    pub const ALL: [SimMode; 6] = [
        SimMode::Walk,
        SimMode::Bike,
        SimMode::EBike,
        SimMode::Car,
        SimMode::Bus,
        SimMode::Train,
    ];

    /// The label MobilityNet's `legs.csv` uses, so `sillage eval` reads the
    /// ground truth as it reads the real dataset.
    pub fn label(self) -> &'static str {
        match self {
            SimMode::Walk => "WALKING",
            SimMode::Bike => "BICYCLING",
            SimMode::EBike => "E_BIKE",
            SimMode::Car => "CAR",
            SimMode::Bus => "BUS",
            SimMode::Train => "TRAIN",
        }
    }

    /// The diary's mode for this one.
    pub fn mode(self) -> Mode {
        match self {
            SimMode::Walk => Mode::Walking,
            SimMode::Bike => Mode::Bicycle,
            SimMode::EBike => Mode::EBike,
            SimMode::Car => Mode::Car,
            SimMode::Bus => Mode::Bus,
            SimMode::Train => Mode::RegionalTrain,
        }
    }

    /// The group campaigns count it in.
    pub fn group(self) -> ModeGroup {
        self.mode().group()
    }

    /// The network it moves on.
    pub fn network(self) -> NetworkMode {
        match self {
            SimMode::Walk => NetworkMode::Walk,
            SimMode::Bike | SimMode::EBike => NetworkMode::Bike,
            SimMode::Car | SimMode::Bus => NetworkMode::Car,
            SimMode::Train => NetworkMode::Rail,
        }
    }
}

/// The share of citizens whose main mode is each mode (they need not sum
/// to one: they are weights).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModeShares {
    /// On foot.
    pub walk: f64,
    /// Pedal bicycle.
    pub bike: f64,
    /// Electric bicycle.
    pub ebike: f64,
    /// Car.
    pub car: f64,
    /// Bus.
    pub bus: f64,
    /// Train.
    pub train: f64,
}

impl Default for ModeShares {
    /// Close to a French city centre's modal split (EMP 2019 orders of
    /// magnitude), with more cycling, as in a territory running a cycling
    /// policy.
    fn default() -> Self {
        ModeShares {
            walk: 0.28,
            bike: 0.12,
            ebike: 0.05,
            car: 0.35,
            bus: 0.15,
            train: 0.05,
        }
    }
}

impl ModeShares {
    /// The weights in [`SimMode::ALL`] order.
    pub fn weights(&self) -> [f64; 6] {
        [
            self.walk, self.bike, self.ebike, self.car, self.bus, self.train,
        ]
    }

    /// Parses `walk=0.3,bike=0.1,…` (missing modes weigh 0).
    pub fn parse(text: &str) -> Result<Self, SynthError> {
        let mut shares = ModeShares {
            walk: 0.0,
            bike: 0.0,
            ebike: 0.0,
            car: 0.0,
            bus: 0.0,
            train: 0.0,
        };
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, value) = part.split_once('=').ok_or_else(|| {
                SynthError::Config(format!("mode share {part:?}: expected MODE=WEIGHT"))
            })?;
            let value: f64 = value.trim().parse().map_err(|_| {
                SynthError::Config(format!("mode share {part:?}: the weight is not a number"))
            })?;
            let slot = match name.trim() {
                "walk" => &mut shares.walk,
                "bike" => &mut shares.bike,
                "ebike" | "e_bike" => &mut shares.ebike,
                "car" => &mut shares.car,
                "bus" => &mut shares.bus,
                "train" => &mut shares.train,
                other => {
                    return Err(SynthError::Config(format!(
                        "mode share {other:?}: expected walk, bike, ebike, car, bus or train"
                    )));
                }
            };
            *slot = value;
        }
        shares.validate()?;
        Ok(shares)
    }

    fn validate(&self) -> Result<(), SynthError> {
        let weights = self.weights();
        if weights.iter().any(|w| !w.is_finite() || *w < 0.0) {
            return Err(SynthError::Config(
                "mode shares must be finite and not negative".into(),
            ));
        }
        if weights.iter().sum::<f64>() <= 0.0 {
            return Err(SynthError::Config("mode shares are all zero".into()));
        }
        Ok(())
    }
}

/// Everything a population is a function of, with the territory.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PopulationConfig {
    /// How many citizens.
    pub citizens: usize,
    /// The seed every random choice derives from.
    pub seed: u64,
    /// The first simulated day, local (Europe/Paris) date `(year, month, day)`.
    pub first_day: (i64, u32, u32),
    /// How many days are simulated.
    pub days: u32,
    /// The weights of each main mode.
    pub shares: ModeShares,
    /// The formats citizens' phones export, handed out in turn.
    pub formats: Vec<TraceFormat>,
}

impl PopulationConfig {
    /// `citizens` citizens over four weeks from `first_day`, default shares,
    /// every format.
    pub fn new(citizens: usize, seed: u64, first_day: (i64, u32, u32)) -> Self {
        PopulationConfig {
            citizens,
            seed,
            first_day,
            days: 28,
            shares: ModeShares::default(),
            formats: vec![
                TraceFormat::GoogleRecords,
                TraceFormat::Timeline2024,
                TraceFormat::Gpx,
                TraceFormat::OwnTracksRec,
            ],
        }
    }

    /// Checks the configuration before anything is simulated.
    pub fn validate(&self) -> Result<(), SynthError> {
        if self.citizens == 0 {
            return Err(SynthError::Config("citizens: at least one".into()));
        }
        if self.days == 0 || self.days > 366 {
            return Err(SynthError::Config("days: between 1 and 366".into()));
        }
        if self.formats.is_empty() {
            return Err(SynthError::Config("formats: at least one".into()));
        }
        let (y, m, d) = self.first_day;
        if sillage_model::Timestamp::from_civil(y, m, d, 0, 0, 0, 0).is_none() {
            return Err(SynthError::Config(format!(
                "first_day: {y:04}-{m:02}-{d:02} is not a date"
            )));
        }
        self.shares.validate()
    }
}
