//! XML-based formats (GPX, KML, TCX), parsed as event streams with quick-xml.

pub(crate) mod gpx;
pub(crate) mod kml;
pub(crate) mod tcx;
