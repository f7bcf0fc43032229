//! The Osmosis polygon filter format (`.poly`), as Geofabrik publishes
//! next to each extract.

use std::path::Path;

use sillage_model::GeoPoint;

use crate::TerritoryError;

/// Loads the `.poly` boundary format (Osmosis polygon filter file) as a
/// list of rings.
///
/// Only outer rings are returned: sections whose name starts with `!`
/// (holes) are read and dropped, which over-covers a territory with
/// enclaves but never cuts any of it. Rings are returned as written (the
/// format does not require the last point to repeat the first). Errors name
/// the file, and the line for malformed content.
pub fn read_poly(path: &Path) -> Result<Vec<Vec<GeoPoint>>, TerritoryError> {
    let text = std::fs::read_to_string(path).map_err(|source| TerritoryError::Io {
        path: path.to_owned(),
        source,
    })?;
    let error = |line: usize, message: &str| TerritoryError::Poly {
        path: path.to_owned(),
        line,
        message: message.to_owned(),
    };
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty());
    // The first line names the polygon; nothing depends on it.
    lines.next().ok_or_else(|| error(1, "empty file"))?;
    let mut rings = Vec::new();
    loop {
        let Some((line, section)) = lines.next() else {
            return Err(error(text.lines().count(), "missing final END"));
        };
        if section == "END" {
            break;
        }
        let hole = section.starts_with('!');
        let mut ring = Vec::new();
        loop {
            let Some((line, content)) = lines.next() else {
                return Err(error(line, "section is not closed by END"));
            };
            if content == "END" {
                break;
            }
            let mut numbers = content.split_whitespace().map(str::parse::<f64>);
            match (numbers.next(), numbers.next(), numbers.next()) {
                (Some(Ok(lon)), Some(Ok(lat)), None)
                    if (-180.0..=180.0).contains(&lon) && (-90.0..=90.0).contains(&lat) =>
                {
                    ring.push(GeoPoint { lat, lon });
                }
                _ => return Err(error(line, "expected \"longitude latitude\"")),
            }
        }
        if !hole {
            if ring.len() < 3 {
                return Err(error(line, "a ring needs at least three points"));
            }
            rings.push(ring);
        }
    }
    if rings.is_empty() {
        return Err(TerritoryError::Empty(format!(
            "{}: no outer ring",
            path.display()
        )));
    }
    Ok(rings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<Vec<GeoPoint>>, TerritoryError> {
        let dir = std::env::temp_dir().join(format!("sillage-poly-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{:x}.poly", text.len() * 31 + text.lines().count()));
        std::fs::write(&path, text).unwrap();
        let result = read_poly(&path);
        std::fs::remove_file(&path).unwrap();
        result
    }

    #[test]
    fn outer_rings_are_kept_and_holes_dropped() {
        let text = "area\n1\n  7.0E+00 4.3E+01\n 7.1 43.0\n 7.1 43.1\nEND\n!2\n 7.01 43.01\n 7.02 43.01\n 7.02 43.02\nEND\nEND\n";
        let rings = parse(text).unwrap();
        assert_eq!(rings.len(), 1);
        assert_eq!(
            rings[0][0],
            GeoPoint {
                lat: 43.0,
                lon: 7.0
            }
        );
        assert_eq!(rings[0].len(), 3);
    }

    #[test]
    fn malformed_files_name_the_line() {
        let err = parse("area\n1\n 7.0 43.0\n seven 43\nEND\nEND\n").unwrap_err();
        assert!(matches!(err, TerritoryError::Poly { line: 4, .. }), "{err}");
        let err = parse("area\n1\n 7.0 43.0\n").unwrap_err();
        assert!(err.to_string().contains("END"), "{err}");
    }
}
