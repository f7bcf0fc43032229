//! Line-oriented text formats: delimited text (CSV/TSV), GeoLife PLT, OwnTracks `.rec`.

pub(crate) mod csv;
pub(crate) mod plt;
pub(crate) mod rec;
