//! What OSM tags mean for this crate: road classes, access per mode,
//! one-way rules, transit features. The rules are the ones the crate
//! documentation states; keep both in step.

use crate::RoadClass;

/// The tags of one element, borrowed from the PBF block being decoded.
pub(crate) struct Tags<'a>(Vec<(&'a str, &'a str)>);

impl<'a> Tags<'a> {
    pub(crate) fn new(iter: impl Iterator<Item = (&'a str, &'a str)>) -> Tags<'a> {
        Tags(iter.collect())
    }

    /// Elements carry a handful of tags: a linear scan beats hashing.
    pub(crate) fn get(&self, key: &str) -> Option<&'a str> {
        self.0.iter().find(|(k, _)| *k == key).map(|&(_, v)| v)
    }

    fn is(&self, key: &str, value: &str) -> bool {
        self.get(key) == Some(value)
    }

    pub(crate) fn name(&self) -> Option<String> {
        self.get("name").map(str::to_owned)
    }
}

/// Which ways along a way's node order a mode may travel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dir {
    Forward,
    Backward,
    Both,
}

impl Dir {
    pub(crate) fn forward(self) -> bool {
        matches!(self, Dir::Forward | Dir::Both)
    }

    pub(crate) fn backward(self) -> bool {
        matches!(self, Dir::Backward | Dir::Both)
    }
}

/// A routable highway: its class and, per mode, whether and which way it
/// may be travelled (`None` = closed to the mode).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RoadAccess {
    pub(crate) class: RoadClass,
    pub(crate) walk: Option<Dir>,
    pub(crate) bike: Option<Dir>,
    pub(crate) car: Option<Dir>,
}

/// The class of a `highway` value, or `None` for values that are not
/// streets one travels along.
pub(crate) fn road_class(highway: &str) -> Option<RoadClass> {
    use RoadClass::*;
    Some(match highway {
        "motorway" | "motorway_link" => Motorway,
        "trunk" | "trunk_link" => Trunk,
        "primary" | "primary_link" => Primary,
        "secondary" | "secondary_link" => Secondary,
        "tertiary" | "tertiary_link" => Tertiary,
        "residential" => Residential,
        "living_street" => LivingStreet,
        "service" => Service,
        "unclassified" | "road" => Unclassified,
        "cycleway" => Cycleway,
        "footway" | "corridor" => Footway,
        "pedestrian" => Pedestrian,
        "path" | "bridleway" => Path,
        "steps" => Steps,
        "track" => Track,
        _ => return None,
    })
}

fn allows(value: Option<&str>) -> bool {
    matches!(
        value,
        Some("yes" | "designated" | "permissive" | "destination" | "official" | "customers")
    )
}

fn forbids(value: Option<&str>) -> bool {
    matches!(value, Some("no" | "private"))
}

/// Access and directions of a highway way for walk, bike and car; `None`
/// when the way is not a routable highway at all.
pub(crate) fn road_access(tags: &Tags) -> Option<RoadAccess> {
    use RoadClass::*;
    let class = road_class(tags.get("highway")?)?;
    if tags.is("area", "yes") {
        return None;
    }
    let closed = forbids(tags.get("access"));
    let oneway = oneway(tags, class);

    let foot = tags.get("foot");
    let walk = match class {
        Motorway => false,
        Trunk => allows(foot),
        _ => !forbids(foot) && (!closed || allows(foot)),
    };

    let bicycle = tags.get("bicycle");
    let bike = match class {
        Motorway | Trunk | Steps => false,
        Footway | Pedestrian => matches!(bicycle, Some("yes" | "designated" | "permissive")),
        _ => !forbids(bicycle) && (!closed || allows(bicycle)),
    };

    let motor = tags.get("motorcar").or(tags.get("motor_vehicle"));
    let car = match class {
        Motorway | Trunk | Primary | Secondary | Tertiary | Residential | Unclassified
        | LivingStreet | Service => !forbids(motor) && (!closed || allows(motor)),
        _ => false,
    };

    Some(RoadAccess {
        class,
        walk: walk.then_some(Dir::Both),
        bike: bike.then(|| bike_oneway(tags, oneway)),
        car: car.then_some(oneway),
    })
}

/// One-way rule for motor traffic; bikes start from it.
fn oneway(tags: &Tags, class: RoadClass) -> Dir {
    match tags.get("oneway") {
        Some("yes" | "1" | "true") => Dir::Forward,
        Some("-1" | "reverse") => Dir::Backward,
        Some("no" | "0" | "false") => Dir::Both,
        _ => {
            let roundabout = matches!(tags.get("junction"), Some("roundabout" | "circular"));
            if roundabout || class == RoadClass::Motorway {
                Dir::Forward
            } else {
                Dir::Both
            }
        }
    }
}

fn bike_oneway(tags: &Tags, general: Dir) -> Dir {
    match tags.get("oneway:bicycle") {
        Some("no" | "0" | "false") => return Dir::Both,
        Some("yes" | "1" | "true") => return Dir::Forward,
        Some("-1") => return Dir::Backward,
        _ => {}
    }
    // A contraflow lane, on either side, opens the street both ways.
    let contraflow = [
        "cycleway",
        "cycleway:left",
        "cycleway:right",
        "cycleway:both",
    ]
    .iter()
    .any(|k| tags.get(k).is_some_and(|v| v.starts_with("opposite")));
    if contraflow { Dir::Both } else { general }
}

/// The kind of a railway way that trains run on, as a [`crate::TransitLine`]
/// kind; `None` for other railway values and for lifecycle-tagged tracks.
pub(crate) fn rail_kind(tags: &Tags) -> Option<&'static str> {
    let kind = match tags.get("railway")? {
        "rail" => "rail",
        "light_rail" => "light_rail",
        "subway" => "subway",
        "tram" => "tram",
        _ => return None,
    };
    let retired = ["disused", "abandoned", "razed", "construction", "proposed"]
        .iter()
        .any(|k| tags.is(k, "yes"));
    (!retired).then_some(kind)
}

/// A bus stop, by the rules in the crate documentation.
pub(crate) fn is_bus_stop(tags: &Tags) -> bool {
    tags.is("highway", "bus_stop")
        || (matches!(
            tags.get("public_transport"),
            Some("platform" | "stop_position")
        ) && tags.is("bus", "yes"))
}

/// A rail, metro or tram station, by the rules in the crate documentation.
pub(crate) fn is_station(tags: &Tags) -> bool {
    matches!(tags.get("railway"), Some("station" | "halt" | "tram_stop"))
        || (tags.is("public_transport", "station")
            && ["train", "tram", "subway", "light_rail"]
                .iter()
                .any(|k| tags.is(k, "yes")))
}

/// The basemap's background class of a closed way, if it has one.
pub(crate) fn area_class(tags: &Tags) -> Option<&'static str> {
    if tags.is("natural", "water") || tags.is("waterway", "riverbank") {
        return Some("water");
    }
    let green = matches!(
        tags.get("leisure"),
        Some("park" | "garden" | "golf_course" | "nature_reserve")
    ) || matches!(
        tags.get("landuse"),
        Some("grass" | "forest" | "meadow" | "recreation_ground" | "cemetery")
    ) || matches!(tags.get("natural"), Some("wood" | "scrub" | "grassland"));
    green.then_some("landuse")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags<'a>(list: &[(&'a str, &'a str)]) -> Tags<'a> {
        Tags::new(list.iter().copied())
    }

    #[test]
    fn residential_one_way_is_one_way_for_cars_and_bikes_only() {
        let a = road_access(&tags(&[("highway", "residential"), ("oneway", "yes")])).unwrap();
        assert_eq!(a.class, RoadClass::Residential);
        assert_eq!(a.walk, Some(Dir::Both));
        assert_eq!(a.bike, Some(Dir::Forward));
        assert_eq!(a.car, Some(Dir::Forward));
    }

    #[test]
    fn contraflow_opens_a_one_way_street_to_bikes() {
        let a = road_access(&tags(&[
            ("highway", "tertiary"),
            ("oneway", "-1"),
            ("cycleway:left", "opposite_lane"),
        ]))
        .unwrap();
        assert_eq!(a.car, Some(Dir::Backward));
        assert_eq!(a.bike, Some(Dir::Both));
        let b = road_access(&tags(&[
            ("highway", "residential"),
            ("oneway", "yes"),
            ("oneway:bicycle", "no"),
        ]))
        .unwrap();
        assert_eq!(b.bike, Some(Dir::Both));
    }

    #[test]
    fn motorways_and_roundabouts_are_implied_one_way() {
        let m = road_access(&tags(&[("highway", "motorway_link")])).unwrap();
        assert_eq!((m.walk, m.bike, m.car), (None, None, Some(Dir::Forward)));
        let r = road_access(&tags(&[("highway", "primary"), ("junction", "roundabout")])).unwrap();
        assert_eq!(r.car, Some(Dir::Forward));
    }

    #[test]
    fn paths_footways_steps_and_private_roads() {
        let steps = road_access(&tags(&[("highway", "steps")])).unwrap();
        assert_eq!(
            (steps.walk, steps.bike, steps.car),
            (Some(Dir::Both), None, None)
        );
        let footway = road_access(&tags(&[("highway", "footway")])).unwrap();
        assert_eq!(footway.bike, None);
        let shared = road_access(&tags(&[("highway", "footway"), ("bicycle", "yes")])).unwrap();
        assert_eq!(shared.bike, Some(Dir::Both));
        let path = road_access(&tags(&[("highway", "path")])).unwrap();
        assert_eq!(path.bike, Some(Dir::Both));
        let private = road_access(&tags(&[("highway", "service"), ("access", "private")])).unwrap();
        assert_eq!(
            (private.walk, private.bike, private.car),
            (None, None, None)
        );
        let no_foot = road_access(&tags(&[("highway", "primary"), ("foot", "no")])).unwrap();
        assert_eq!(no_foot.walk, None);
        assert!(road_access(&tags(&[("highway", "pedestrian"), ("area", "yes")])).is_none());
        assert!(road_access(&tags(&[("highway", "construction")])).is_none());
    }

    #[test]
    fn transit_features() {
        assert!(is_bus_stop(&tags(&[("highway", "bus_stop")])));
        assert!(is_bus_stop(&tags(&[
            ("public_transport", "stop_position"),
            ("bus", "yes")
        ])));
        assert!(!is_bus_stop(&tags(&[(
            "public_transport",
            "stop_position"
        )])));
        assert!(is_station(&tags(&[("railway", "station")])));
        assert!(is_station(&tags(&[
            ("public_transport", "station"),
            ("subway", "yes")
        ])));
        assert_eq!(rail_kind(&tags(&[("railway", "tram")])), Some("tram"));
        assert_eq!(
            rail_kind(&tags(&[("railway", "rail"), ("disused", "yes")])),
            None
        );
        assert_eq!(rail_kind(&tags(&[("railway", "abandoned")])), None);
    }
}
