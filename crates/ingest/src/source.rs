//! Turning what a citizen hands us (files, folders, archives) into streams.

use crate::detect::{GZIP_MAGIC, ZIP_MAGIC};
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

/// One stream to import.
pub struct SourceEntry<'a> {
    /// What to call it in reports: the path, with `!/entry` for archive members.
    pub name: String,
    /// The uncompressed content.
    pub reader: Box<dyn Read + 'a>,
    /// Compressed size on disk, for progress reporting, when known.
    pub size_hint: Option<u64>,
    /// True when the citizen named this stream directly; false for members of
    /// a folder or archive, where unrecognised entries are skipped, not errors.
    pub explicit: bool,
}

/// Calls `each` for every importable stream under `path`: the file itself,
/// every file of a folder (recursively, in name order), every member of a
/// zip archive (Takeout, KMZ), gzip transparently decompressed.
pub fn for_each_source<E: From<io::Error>>(
    path: &Path,
    each: &mut dyn FnMut(SourceEntry<'_>) -> Result<(), E>,
) -> Result<(), E> {
    visit(path, true, each)
}

fn visit<E: From<io::Error>>(
    path: &Path,
    explicit: bool,
    each: &mut dyn FnMut(SourceEntry<'_>) -> Result<(), E>,
) -> Result<(), E> {
    let metadata = std::fs::metadata(path).map_err(|e| with_path(e, path))?;
    if metadata.is_dir() {
        let mut children: Vec<_> = std::fs::read_dir(path)
            .map_err(|e| with_path(e, path))?
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|p| {
                !p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            })
            .collect();
        children.sort();
        for child in children {
            visit(&child, false, each)?;
        }
        return Ok(());
    }
    let name = path.display().to_string();
    let mut file = File::open(path).map_err(|e| with_path(e, path))?;
    let mut magic = [0u8; 4];
    let got = read_up_to(&mut file, &mut magic)?;
    file.seek(SeekFrom::Start(0))?;
    let size_hint = Some(metadata.len());
    if magic[..got].starts_with(ZIP_MAGIC) {
        let archive = zip::ZipArchive::new(BufReader::new(file)).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{name}: not a readable zip archive: {e}"),
            )
        })?;
        return visit_zip(archive, &name, each);
    }
    let reader: Box<dyn Read> = if magic[..got].starts_with(GZIP_MAGIC) {
        Box::new(flate2::read::MultiGzDecoder::new(BufReader::new(file)))
    } else {
        Box::new(file)
    };
    each(SourceEntry {
        name,
        reader,
        size_hint,
        explicit,
    })
}

fn visit_zip<R: Read + Seek, E: From<io::Error>>(
    mut archive: zip::ZipArchive<R>,
    archive_name: &str,
    each: &mut dyn FnMut(SourceEntry<'_>) -> Result<(), E>,
) -> Result<(), E> {
    let mut indices: Vec<usize> = (0..archive.len()).collect();
    let names: Vec<String> = indices
        .iter()
        .map(|&i| archive.name_for_index(i).unwrap_or_default().to_owned())
        .collect();
    indices.sort_by(|&a, &b| names[a].cmp(&names[b]));
    for index in indices {
        let entry = archive.by_index(index).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{archive_name}: entry {index}: {e}"),
            )
        })?;
        if entry.is_dir() {
            continue;
        }
        let name = format!("{archive_name}!/{}", entry.name());
        let size_hint = Some(entry.compressed_size());
        each(SourceEntry {
            name,
            reader: Box::new(entry),
            size_hint,
            explicit: false,
        })?;
    }
    Ok(())
}

fn read_up_to(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

fn with_path(error: io::Error, path: &Path) -> io::Error {
    io::Error::new(error.kind(), format!("{}: {error}", path.display()))
}
