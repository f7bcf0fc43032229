//! Running an import: from paths a citizen names to batches in their store.
//!
//! Parsing is synchronous and CPU-bound, writing is asynchronous I/O, so the
//! two run side by side: a worker thread walks the sources and parses them
//! into bounded chunks, which flow through a small channel to the store
//! writer. Memory stays bounded by the channel, whatever the file size, and
//! on a 2-core machine parsing and SQLite each get a core.
//!
//! Everything named in one call is one transaction: a malformed file, a
//! failing disk or a killed process leaves the store as it was.

use sillage_ingest::{
    Detected, Emitter, IngestError, SourceEntry, Stop, for_each_source, parse_as, sniff,
};
use sillage_model::{
    Fix, ImportBatch, ImportCounts, RejectReason, SourceFormat, SourceHint, ValidationRules,
};
use sillage_store::{CitizenStore, ImportChunk, StoreError};
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::mpsc;

/// How an import treats its input.
#[derive(Clone, Debug)]
pub struct ImportOptions {
    /// Plausibility rules every fix must pass.
    pub rules: ValidationRules,
    /// Device name for fixes whose source does not name one; the format
    /// name (e.g. `gpx`) when `None`.
    pub default_device: Option<String>,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self {
            rules: ValidationRules::for_import_now(),
            default_device: None,
        }
    }
}

/// Live counters an interface can poll to draw progress.
#[derive(Debug, Default)]
pub struct Progress {
    /// Bytes of source content read so far.
    pub bytes_read: AtomicU64,
    /// Records (fixes and rejected records) parsed so far.
    pub records: AtomicU64,
    /// Total bytes expected, when known (0 otherwise).
    pub bytes_total: AtomicU64,
}

/// What one call to [`import_paths`] did.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct ImportReport {
    /// One batch per imported source (a file, or a member of an archive or folder).
    pub batches: Vec<ImportBatch>,
    /// Members of folders or archives that were not location data, with why.
    pub skipped: Vec<SkippedEntry>,
}

/// A folder or archive member that was passed over.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SkippedEntry {
    /// Its name (`archive.zip!/member`).
    pub name: String,
    /// Why it was not imported.
    pub reason: String,
}

impl ImportReport {
    /// Counts over all batches.
    pub fn totals(&self) -> ImportCounts {
        let mut totals = ImportCounts::default();
        for batch in &self.batches {
            totals.merge(&batch.counts);
        }
        totals
    }
}

/// Why an import failed. Nothing of it was stored.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// A source could not be parsed; `source` names the file or archive member.
    #[error("{source_name}: {error}")]
    Parse {
        /// The file or archive member.
        source_name: String,
        /// What went wrong, and where in it.
        error: IngestError,
    },
    /// A path could not be read.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The store failed.
    #[error("{0}")]
    Store(#[from] StoreError),
    /// Nothing importable was found under the paths.
    #[error("no location data found in {0}")]
    NothingFound(String),
}

/// Messages from the parsing thread to the writer.
enum Event {
    Batch { name: String, format: SourceFormat },
    Chunk(ImportChunk),
    Skipped(SkippedEntry),
}

/// Fixes per chunk: big enough to batch SQL well, small enough to bound memory.
const CHUNK_FIXES: usize = 8192;
/// Chunks in flight between parser and writer.
const CHANNEL_CHUNKS: usize = 4;

/// Imports every source under `paths` into `store`, in one transaction.
pub async fn import_paths(
    store: &CitizenStore,
    paths: &[PathBuf],
    options: &ImportOptions,
    progress: Arc<Progress>,
) -> Result<ImportReport, ImportError> {
    let (sender, mut receiver) = mpsc::channel::<Event>(CHANNEL_CHUNKS);
    let paths = paths.to_vec();
    let options = options.clone();
    let parser =
        tokio::task::spawn_blocking(move || parse_all(&paths, &options, &progress, &sender));

    let mut writer = store.begin_import().await?;
    let mut report = ImportReport::default();
    let mut write_error = None;
    while let Some(event) = receiver.recv().await {
        let outcome = match event {
            Event::Batch { name, format } => writer.start_batch(&name, format).await,
            Event::Chunk(chunk) => writer.write(&chunk).await,
            Event::Skipped(skipped) => {
                report.skipped.push(skipped);
                Ok(())
            }
        };
        if let Err(e) = outcome {
            write_error = Some(e);
            break;
        }
    }
    // Closing the channel makes the parser's next send fail, so it stops.
    drop(receiver);
    let parsed = parser
        .await
        .map_err(|e| std::io::Error::other(format!("parser thread failed: {e}")))?;
    if let Some(error) = write_error {
        return Err(error.into());
    }
    parsed?;
    report.batches = writer.commit().await?;
    if report.batches.is_empty() {
        let names: Vec<String> = report
            .skipped
            .iter()
            .map(|s| format!("{} ({})", s.name, s.reason))
            .collect();
        return Err(ImportError::NothingFound(names.join(", ")));
    }
    Ok(report)
}

/// The parsing side: walks sources, detects, parses, sends chunks.
fn parse_all(
    paths: &[PathBuf],
    options: &ImportOptions,
    progress: &Progress,
    sender: &mpsc::Sender<Event>,
) -> Result<(), ImportError> {
    let send = |event: Event| sender.blocking_send(event).map_err(|_| Stop);
    for path in paths {
        let total = size_of_tree(path);
        progress.bytes_total.fetch_add(total, Ordering::Relaxed);
        for_each_source(
            path,
            &mut |entry: SourceEntry<'_>| -> Result<(), ImportError> {
                parse_entry(entry, options, progress, &send)
            },
        )?;
    }
    Ok(())
}

fn parse_entry(
    entry: SourceEntry<'_>,
    options: &ImportOptions,
    progress: &Progress,
    send: &dyn Fn(Event) -> Result<(), Stop>,
) -> Result<(), ImportError> {
    let name = entry.name;
    let fail = |error: IngestError| ImportError::Parse {
        source_name: name.clone(),
        error,
    };
    let counting = Counting {
        inner: entry.reader,
        progress,
    };
    let sniffed = sniff(counting).map_err(&fail)?;
    let format = match sniffed.detected {
        Ok(Detected::Format(format)) => format,
        Ok(Detected::Unsupported(why)) if !entry.explicit => return skip(send, name, why),
        Err(error @ IngestError::UnknownFormat(_)) if !entry.explicit => {
            return skip(send, name, error.to_string());
        }
        Ok(Detected::Unsupported(why)) => return Err(fail(IngestError::Unsupported(why))),
        Err(error) => return Err(fail(error)),
    };
    send(Event::Batch {
        name: name.clone(),
        format,
    })
    .map_err(|_| fail(IngestError::Stopped))?;
    let default_device = options
        .default_device
        .clone()
        .unwrap_or_else(|| format.as_str().to_owned());
    let mut sink = ChunkSink {
        send,
        progress,
        default_device,
        devices: HashMap::new(),
        chunk: ImportChunk::default(),
    };
    let outcome = parse_as(
        format,
        sniffed.into_body(),
        &mut Emitter::new(&mut sink, options.rules),
    );
    outcome.map_err(fail)?;
    sink.flush().map_err(|_| fail(IngestError::Stopped))?;
    Ok(())
}

fn skip(
    send: &dyn Fn(Event) -> Result<(), Stop>,
    name: String,
    reason: String,
) -> Result<(), ImportError> {
    send(Event::Skipped(SkippedEntry {
        name: name.clone(),
        reason,
    }))
    .map_err(|_| ImportError::Parse {
        source_name: name,
        error: IngestError::Stopped,
    })
}

/// Bytes on disk under a path (for the progress bar's total).
fn size_of_tree(path: &Path) -> u64 {
    let Ok(metadata) = std::fs::metadata(path) else {
        return 0;
    };
    if !metadata.is_dir() {
        return metadata.len();
    }
    std::fs::read_dir(path)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| size_of_tree(&e.path()))
                .sum()
        })
        .unwrap_or(0)
}

/// Counts bytes as the parser reads them.
struct Counting<'p, R> {
    inner: R,
    progress: &'p Progress,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress
            .bytes_read
            .fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Collects parser output into chunks and hands full chunks to the writer.
struct ChunkSink<'s> {
    send: &'s dyn Fn(Event) -> Result<(), Stop>,
    progress: &'s Progress,
    default_device: String,
    devices: HashMap<String, u32>,
    chunk: ImportChunk,
}

impl ChunkSink<'_> {
    fn device_index(&mut self, device: &str) -> u32 {
        let name = if device.is_empty() {
            self.default_device.as_str()
        } else {
            device
        };
        if let Some(&index) = self.devices.get(name) {
            return index;
        }
        let index = self.devices.len() as u32;
        self.devices.insert(name.to_owned(), index);
        self.chunk.new_devices.push(name.to_owned());
        index
    }

    fn flush(&mut self) -> Result<(), Stop> {
        if self.chunk.is_empty() {
            return Ok(());
        }
        (self.send)(Event::Chunk(std::mem::take(&mut self.chunk)))
    }

    fn counted(&mut self) -> Result<(), Stop> {
        self.progress.records.fetch_add(1, Ordering::Relaxed);
        if self.chunk.fixes.len() >= CHUNK_FIXES {
            self.flush()?;
        }
        Ok(())
    }
}

impl sillage_ingest::Sink for ChunkSink<'_> {
    fn fix(&mut self, device: &str, fix: Fix) -> Result<(), Stop> {
        let index = self.device_index(device);
        self.chunk.fixes.push((index, fix));
        self.counted()
    }

    fn hint(&mut self, device: &str, hint: SourceHint) -> Result<(), Stop> {
        let index = self.device_index(device);
        self.chunk.hints.push((index, hint));
        if self.chunk.hints.len() >= CHUNK_FIXES {
            self.flush()?;
        }
        Ok(())
    }

    fn reject(&mut self, reason: RejectReason) -> Result<(), Stop> {
        *self.chunk.rejected.entry(reason).or_default() += 1;
        self.counted()
    }
}
