//! The city's side of Sillage: the campaigns it signed and published, its
//! own keys, and the results the aggregators released to it.
//!
//! This crate is the trust boundary's far side. What it stores is, by
//! construction, public or the city's own: signed campaign specifications,
//! the city's keys, and released results (noisy totals with their 95 %
//! intervals, suppressed cells without a number). It never receives a
//! trace, a trip, a place or a single citizen's contribution; the
//! demonstration's end-to-end test searches its database for every
//! synthetic citizen's coordinates and timestamps to hold it to that.

pub mod charts;
pub mod compare;
pub mod designer;
pub mod exports;
pub mod leader;
pub mod planning;
mod portal;
pub mod publishing;
pub mod staff;
mod store;

pub use portal::router;
pub use store::{CityError, CityStore, Release};
