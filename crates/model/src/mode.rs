//! Transport modes and trip purposes.

named_enum! {
    /// How a leg was travelled.
    Mode {
        /// On foot.
        Walking => "walking",
        /// Running or jogging.
        Running => "running",
        /// Conventional bicycle.
        Bicycle => "bicycle",
        /// Pedal-assisted electric bicycle.
        EBike => "e_bike",
        /// Electric kick scooter.
        EScooter => "e_scooter",
        /// Moped or motorbike.
        Moped => "moped",
        /// Combustion or hybrid car, driver alone.
        Car => "car",
        /// Battery-electric car.
        ElectricCar => "electric_car",
        /// Car shared with other occupants.
        Carpool => "carpool",
        /// Urban bus.
        Bus => "bus",
        /// Long-distance coach.
        Coach => "coach",
        /// Tram or light rail.
        Tram => "tram",
        /// Metro / subway.
        Metro => "metro",
        /// Regional or commuter train.
        RegionalTrain => "regional_train",
        /// High-speed train.
        HighSpeedTrain => "high_speed_train",
        /// Ferry or boat.
        Ferry => "ferry",
        /// Aircraft.
        Plane => "plane",
        /// Not known.
        Unknown => "unknown",
    }
}

named_enum! {
    /// Coarse mode classes used for evaluation and for aggregate measurements,
    /// where finer classes would be unreliable or too identifying.
    ModeGroup {
        /// Walking and running.
        Walk => "walk",
        /// Bicycle, e-bike, e-scooter.
        Bike => "bike",
        /// Car, electric car, carpool, moped.
        Car => "car",
        /// Bus and coach.
        Bus => "bus",
        /// Tram, metro and trains.
        Rail => "rail",
        /// Ferry, plane, unknown.
        Other => "other",
    }
}

named_enum! {
    /// Why a trip was made.
    Purpose {
        /// Between home and the usual place of work or study.
        Commute => "commute",
        /// For work (business trip, not the commute).
        Work => "work",
        /// To school or a place of study.
        SchoolStudy => "school_study",
        /// Shopping.
        Shopping => "shopping",
        /// Leisure and sport.
        LeisureSport => "leisure_sport",
        /// Personal business (doctor, administration, …).
        PersonalBusiness => "personal_business",
        /// Picking someone up or dropping them off.
        PickUpDropOff => "pick_up_drop_off",
        /// Anything else.
        Other => "other",
    }
}

impl Mode {
    /// The coarse class this mode belongs to.
    pub fn group(self) -> ModeGroup {
        match self {
            Self::Walking | Self::Running => ModeGroup::Walk,
            Self::Bicycle | Self::EBike | Self::EScooter => ModeGroup::Bike,
            Self::Moped | Self::Car | Self::ElectricCar | Self::Carpool => ModeGroup::Car,
            Self::Bus | Self::Coach => ModeGroup::Bus,
            Self::Tram | Self::Metro | Self::RegionalTrain | Self::HighSpeedTrain => {
                ModeGroup::Rail
            }
            Self::Ferry | Self::Plane | Self::Unknown => ModeGroup::Other,
        }
    }

    /// Reads an activity label as written by Google (Records, Semantic
    /// History, Timeline in both dialects), phone motion APIs or Overland.
    /// Returns `None` for labels that say nothing about the mode
    /// (`STILL`, `TILTING`, `UNKNOWN`, `EXITING_VEHICLE`, …).
    pub fn from_source_activity(label: &str) -> Option<Self> {
        let normalised: String = label
            .chars()
            .map(|c| {
                if c == ' ' || c == '-' {
                    '_'
                } else {
                    c.to_ascii_uppercase()
                }
            })
            .collect();
        let mode = match normalised.as_str() {
            "WALKING" | "ON_FOOT" | "WALK" | "HIKING" | "HIKE" | "WALKING_NORDIC" => Self::Walking,
            "RUNNING" | "RUN" | "TRAIL_RUNNING" | "TREADMILL_RUNNING" | "STREET_RUNNING" => {
                Self::Running
            }
            // Fitness apps' sport names (GPX <type>, TCX Sport) as well as motion APIs.
            "ON_BICYCLE" | "CYCLING" | "BICYCLING" | "BIKE" | "BIKING" | "RIDE" | "ROAD_BIKING"
            | "MOUNTAIN_BIKING" | "GRAVEL_CYCLING" => Self::Bicycle,
            // FIT's `e_biking`; its other sport names appear with their modes.
            "E_BIKING" | "E_BIKE" | "EBIKE" => Self::EBike,
            "IN_PASSENGER_VEHICLE"
            | "IN_CAR"
            | "IN_FOUR_WHEELER_VEHICLE"
            | "DRIVING"
            | "AUTOMOTIVE"
            | "IN_TAXI"
            | "DRIVE"
            | "IN_ROAD_VEHICLE" => Self::Car,
            "MOTORCYCLING" | "IN_TWO_WHEELER_VEHICLE" => Self::Moped,
            "IN_BUS" => Self::Bus,
            "IN_TRAM" => Self::Tram,
            "IN_SUBWAY" => Self::Metro,
            "IN_TRAIN" | "IN_RAIL_VEHICLE" => Self::RegionalTrain,
            "IN_FERRY" | "BOATING" | "SAILING" => Self::Ferry,
            "FLYING" => Self::Plane,
            _ => return None,
        };
        Some(mode)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_serde() {
        for &mode in Mode::ALL {
            assert_eq!(Mode::from_name(mode.as_str()), Some(mode));
            assert_eq!(serde_json::to_string(&mode).unwrap(), format!("\"{mode}\""));
        }
        for &purpose in Purpose::ALL {
            assert_eq!(Purpose::from_name(purpose.as_str()), Some(purpose));
            assert_eq!(
                serde_json::to_string(&purpose).unwrap(),
                format!("\"{purpose}\"")
            );
        }
        assert_eq!(Mode::ALL.len(), 18);
        assert_eq!(Purpose::ALL.len(), 8);
    }

    #[test]
    fn source_activity_labels_from_every_dialect() {
        assert_eq!(Mode::from_source_activity("IN_BUS"), Some(Mode::Bus));
        assert_eq!(
            Mode::from_source_activity("in passenger vehicle"),
            Some(Mode::Car)
        );
        assert_eq!(Mode::from_source_activity("cycling"), Some(Mode::Bicycle));
        assert_eq!(Mode::from_source_activity("ON_FOOT"), Some(Mode::Walking));
        assert_eq!(Mode::from_source_activity("STILL"), None);
        assert_eq!(Mode::from_source_activity("Biking"), Some(Mode::Bicycle));
        assert_eq!(
            Mode::from_source_activity("trail_running"),
            Some(Mode::Running)
        );
        assert_eq!(Mode::from_source_activity("e_biking"), Some(Mode::EBike));
        assert_eq!(Mode::from_source_activity("Other"), None);
        assert_eq!(Mode::from_source_activity("EXITING_VEHICLE"), None);
        assert_eq!(Mode::Tram.group(), ModeGroup::Rail);
        assert_eq!(Mode::EScooter.group(), ModeGroup::Bike);
    }
}
