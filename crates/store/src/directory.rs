//! Where citizen stores live under a data directory.

use crate::StoreError;
use std::path::{Path, PathBuf};

/// A validated citizen name, safe to use as a file name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CitizenName(String);

impl CitizenName {
    /// Validates a name: 1–64 ASCII letters, digits, `-`, `_` or `.`, not
    /// starting with `.` (so it can never escape the directory or hide).
    pub fn new(name: &str) -> Result<Self, StoreError> {
        let ok = (1..=64).contains(&name.len())
            && !name.starts_with('.')
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
        if ok {
            Ok(Self(name.to_owned()))
        } else {
            Err(StoreError::InvalidCitizenName(name.to_owned()))
        }
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `<data_dir>/citizens/<name>.sqlite`.
pub fn citizen_store_path(data_dir: &Path, citizen: &CitizenName) -> PathBuf {
    data_dir
        .join("citizens")
        .join(format!("{}.sqlite", citizen.as_str()))
}

/// The citizens that have a store under `data_dir`, in name order.
pub fn list_citizens(data_dir: &Path) -> Result<Vec<CitizenName>, StoreError> {
    let dir = data_dir.join("citizens");
    if !dir.exists() {
        return Ok(Vec::new());
    }
    let mut names: Vec<CitizenName> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let file = e.file_name().to_string_lossy().into_owned();
            CitizenName::new(file.strip_suffix(".sqlite")?).ok()
        })
        .collect();
    names.sort();
    Ok(names)
}
