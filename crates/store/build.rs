//! Rebuilds the crate when a migration is added or changed: `sqlx::migrate!`
//! embeds the migrations at compile time and would otherwise keep a stale set.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
