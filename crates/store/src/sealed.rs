//! Encryption at rest of a citizen's store.
//!
//! A hub keeps many citizens' stores on one server: a copied disk, a
//! misplaced backup or another tenant's bug must not reveal anyone's
//! movements. Each store is therefore encrypted under its own 256-bit
//! [`DataKey`]; the hub wraps that key with its master key and hands it to
//! [`CitizenStore::open_sealed`](crate::CitizenStore::open_sealed). Forgetting
//! the key erases the store, backups included.
//!
//! # Why a VFS shim
//!
//! SQLite reaches the disk only through its VFS. Wrapping the platform's
//! default VFS ("sillage-sealed") lets SQLite keep all its own logic
//! (locking, WAL, checkpoints, crash recovery) while page images are sealed
//! on their way to disk and opened on their way back. Only files SQLite opens
//! for a store whose key was registered by `open_sealed` are accepted;
//! anything else (an unknown database, a temporary file, a super-journal) is
//! refused rather than written in clear. The key never appears in the
//! connection URI, so it cannot end up in a log.
//!
//! # File format
//!
//! Pages are 4096 bytes, of which SQLite is told to leave the last 40 unused
//! (its "reserved bytes", set when the store is created and checked on
//! every write of page 1). A sealed page is
//! `ciphertext (4056) ‖ nonce (24) ‖ tag (16)`: XChaCha20-Poly1305 under the
//! store's key, with a fresh random nonce on every write (192-bit nonces make
//! random ones safe for any number of writes). Ciphertext has the size of the
//! plaintext, so every offset and size SQLite computes stays right.
//!
//! - Main file: every page is sealed, page 1 and its header included (no
//!   "SQLite format 3", no visible schema).
//! - WAL: the 32-byte header and each frame's 24-byte header stay in clear
//!   (page number, database size in pages, salts, checksums computed over the
//!   plaintext); each frame's page is sealed.
//! - Rollback journal (used only while the store is created, before WAL is
//!   on): page images are sealed; headers, page numbers and checksums stay in
//!   clear.
//! - `-shm`: written by the default VFS, in clear; it holds only the WAL index
//!   (which page is in which frame) and is rebuilt from the WAL after a crash.
//!
//! The associated data of each page is the domain `sillage-sealed/v1`, the
//! kind of file, the page's number and its position (page slot of the main
//! file, frame number in the WAL, byte offset in the journal). Binding the
//! page number and position means a page cannot be moved to another page,
//! another frame or another file, and the clear page number of a WAL frame
//! header cannot be edited to apply a page elsewhere: all of these fail
//! authentication. What the binding cannot give is freshness (see below).
//!
//! # Crash safety
//!
//! Every write SQLite asks for becomes exactly one write of the same size at
//! the same offset, and `xSync` is passed through: SQLite's ordering and
//! durability reasoning holds unchanged. A page torn by a power cut fails
//! authentication instead of reading as a mix of old and new bytes:
//!
//! - In the WAL, SQLite finds the valid frames by reading whole frames
//!   (header and page together) and checking their checksum chain. There, a
//!   page that fails authentication reads as zeros, so its checksum fails
//!   and recovery stops at that frame, exactly as it does for a torn frame of
//!   a plain WAL. Reads of a page alone are of frames SQLite has already
//!   validated: there a failure is an error.
//! - The main file is written only by checkpoints, and a frame leaves the WAL
//!   only after the main file was synced, so a torn main-file page is always
//!   still in the WAL and is rewritten by the next checkpoint.
//! - Everywhere else a failure is `SQLITE_IOERR_DATA`, reported as
//!   [`StoreError::WrongKeyOrTampered`].
//!
//! The key is checked against page 1 before SQLite opens a store (and so
//! before it may recover or delete a WAL): a wrong key cannot make SQLite
//! discard the WAL as invalid.
//!
//! # Limits (for the security document)
//!
//! - No freshness: someone who can write the files can put back an older
//!   state of the same store (whole files, or an older version of a page in
//!   the same slot), or drop the WAL and with it the last transactions.
//! - Visible in clear: file sizes (so the store's size), which pages each
//!   transaction changed and when (WAL frame headers, `-shm`).
//! - The key lives in memory while the store is open; copies made on the
//!   stack while a page is sealed are not scrubbed.

use crate::StoreError;
use chacha20poly1305::aead::{AeadInOut, Generate, KeyInit};
use chacha20poly1305::{Tag, XChaCha20Poly1305, XNonce};
use libsqlite3_sys as ffi;
use std::collections::BTreeMap;
use std::ffi::{CStr, CString, c_char, c_int, c_void};
use std::fmt;
use std::io::Read;
use std::ops::Range;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::ptr;
use std::sync::atomic::{Ordering, compiler_fence};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};
use std::time::Duration;

/// The name under which the shim is registered with SQLite.
pub(crate) const VFS_NAME: &str = "sillage-sealed";
const VFS_NAME_C: &CStr = c"sillage-sealed";

/// The page size of every sealed store.
const PAGE: usize = 4096;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
/// Bytes SQLite leaves unused at the end of each page, holding nonce and tag.
pub(crate) const RESERVED: usize = NONCE_LEN + TAG_LEN;
/// The encrypted part of a page.
const BODY: usize = PAGE - RESERVED;
const WAL_HEADER: u64 = 32;
const FRAME_HEADER: u64 = 24;
/// The start of SQLite's database header, which page 1 must carry.
const MAGIC: &[u8; 16] = b"SQLite format 3\0";
const DOMAIN: &[u8] = b"sillage-sealed/v1";

/// A store's 256-bit data key.
///
/// Not `Clone`, so that copies stay few and deliberate; zeroed when dropped;
/// its `Debug` shows no byte, so that a struct holding one can be logged.
pub struct DataKey([u8; 32]);

impl DataKey {
    /// A fresh key from the operating system's random source.
    pub fn generate() -> Self {
        Self(<[u8; 32]>::generate())
    }

    /// A key kept elsewhere (unwrapped by the hub).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The key's bytes, for wrapping it.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Compares without an early exit, so timing tells nothing of the key.
    fn matches(&self, other: &DataKey) -> bool {
        let difference = self.0.iter().zip(&other.0).fold(0, |d, (a, b)| d | (a ^ b));
        std::hint::black_box(difference) == 0
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&self.0.into())
    }
}

impl Drop for DataKey {
    fn drop(&mut self) {
        // SAFETY: `self.0` is a valid, aligned array we borrow exclusively; a
        // volatile write cannot be elided although the memory is about to be
        // freed.
        unsafe { ptr::write_volatile(&mut self.0, [0; 32]) };
        compiler_fence(Ordering::SeqCst);
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(..)")
    }
}

/// The kind of file a page image lives in, part of its associated data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
enum Kind {
    Db = 1,
    Wal = 2,
    Journal = 3,
}

/// Where a page image belongs: what its authentication binds it to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Place {
    kind: Kind,
    /// The database page number.
    pgno: u32,
    /// The position in the file: page slot, WAL frame or journal offset.
    slot: u64,
}

impl Place {
    fn associated_data(self) -> [u8; DOMAIN.len() + 13] {
        let mut aad = [0; DOMAIN.len() + 13];
        let (domain, rest) = aad.split_at_mut(DOMAIN.len());
        domain.copy_from_slice(DOMAIN);
        rest[0] = self.kind as u8;
        rest[1..5].copy_from_slice(&self.pgno.to_le_bytes());
        rest[5..].copy_from_slice(&self.slot.to_le_bytes());
        aad
    }
}

/// Why a page could not be sealed.
#[derive(Debug, PartialEq, Eq)]
enum SealError {
    /// SQLite put data where nonce and tag go: the store was not created
    /// with reserved bytes, and sealing would destroy data.
    ReservedBytesInUse,
    /// No randomness for a nonce.
    Random,
    /// The cipher refused (cannot happen for a page-sized message).
    Cipher,
}

/// Encrypts a plaintext page in place.
fn seal(key: &DataKey, page: &mut [u8], at: Place) -> Result<(), SealError> {
    let (body, tail) = page.split_at_mut(BODY);
    if tail.len() != RESERVED {
        return Err(SealError::Cipher);
    }
    if tail.iter().any(|&b| b != 0) {
        return Err(SealError::ReservedBytesInUse);
    }
    let nonce = XNonce::try_generate().map_err(|_| SealError::Random)?;
    let tag = key
        .cipher()
        .encrypt_inout_detached(&nonce, &at.associated_data(), body.into())
        .map_err(|_| SealError::Cipher)?;
    tail[..NONCE_LEN].copy_from_slice(&nonce);
    tail[NONCE_LEN..].copy_from_slice(&tag);
    Ok(())
}

/// Decrypts a sealed page in place; the reserved bytes read as zeros, as
/// SQLite wrote them (its WAL checksums cover them).
fn unseal(key: &DataKey, page: &mut [u8], at: Place) -> Result<(), ()> {
    let (body, tail) = page.split_at_mut(BODY);
    let nonce = XNonce::try_from(tail.get(..NONCE_LEN).ok_or(())?).map_err(|_| ())?;
    let tag = Tag::try_from(tail.get(NONCE_LEN..).ok_or(())?).map_err(|_| ())?;
    key.cipher()
        .decrypt_inout_detached(&nonce, &at.associated_data(), body.into(), &tag)
        .map_err(|_| ())?;
    tail.fill(0);
    Ok(())
}

/// True when page 1 describes the layout sealing relies on.
fn is_sealable_header(page: &[u8]) -> bool {
    page.len() >= 100
        && page[..16] == MAGIC[..]
        && u16::from_be_bytes([page[16], page[17]]) as usize == PAGE
        && usize::from(page[20]) == RESERVED
}

// ---------------------------------------------------------------------------
// Keys of the open stores.

/// The key of one store, shared by its `CitizenStore` clones and by every
/// file SQLite has open for it; the key is zeroed when the last goes.
pub(crate) struct Sealing {
    path: PathBuf,
    key: DataKey,
    /// Serialises the creation of the file, so that no connection can create
    /// it without reserved bytes.
    created: Mutex<bool>,
}

impl fmt::Debug for Sealing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sealing")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// Keys by canonical store path. Weak, so that a store's key leaves memory
/// when the store and its connections are gone.
static REGISTRY: Mutex<BTreeMap<PathBuf, Weak<Sealing>>> = Mutex::new(BTreeMap::new());

/// The path under which a store is registered and looked up: the same rule
/// for the path a caller gives and for the path SQLite opens, which it has
/// made absolute.
fn registry_path(path: &Path) -> std::io::Result<PathBuf> {
    match std::fs::canonicalize(path) {
        Ok(path) => Ok(path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let parent = match path.parent() {
                Some(parent) if !parent.as_os_str().is_empty() => parent,
                _ => Path::new("."),
            };
            let name = path.file_name().ok_or(e)?;
            Ok(std::fs::canonicalize(parent)?.join(name))
        }
        Err(e) => Err(e),
    }
}

fn registered(path: &Path) -> Option<Arc<Sealing>> {
    let registry = REGISTRY.lock().unwrap_or_else(PoisonError::into_inner);
    registry.get(path).and_then(Weak::upgrade)
}

impl Sealing {
    /// The store's key, registered for SQLite to find: after checking it
    /// against the file (so that SQLite never touches a store, its WAL
    /// included, under a wrong key) and creating the file if it is new.
    pub(crate) fn acquire(path: &Path, key: &DataKey) -> Result<Arc<Self>, StoreError> {
        register_vfs()?;
        let canonical = registry_path(path)?;
        let joined = |existing: Arc<Sealing>| {
            if existing.key.matches(key) {
                Ok(existing)
            } else {
                Err(StoreError::WrongKeyOrTampered)
            }
        };
        let sealing = match registered(&canonical) {
            // Open in this process already: its key was checked then.
            Some(existing) => joined(existing)?,
            None => {
                let state = check_key(&canonical, key)?;
                let mut registry = REGISTRY.lock().unwrap_or_else(PoisonError::into_inner);
                registry.retain(|_, sealing| sealing.strong_count() > 0);
                match registry.get(&canonical).and_then(Weak::upgrade) {
                    Some(existing) => {
                        drop(registry);
                        joined(existing)?
                    }
                    None => {
                        let sealing = Arc::new(Sealing {
                            path: canonical.clone(),
                            key: DataKey(key.0),
                            created: Mutex::new(state == FileState::Sealed),
                        });
                        registry.insert(canonical, Arc::downgrade(&sealing));
                        sealing
                    }
                }
            }
        };
        sealing.create_if_new()?;
        Ok(sealing)
    }

    /// Gives a new (missing or empty) file its layout: page size, reserved
    /// bytes for nonce and tag, and WAL mode. Reserved bytes can only be set
    /// before page 1 exists, hence before any connection with other settings
    /// (sqlx's pool sets `journal_mode`, which writes page 1) may touch it.
    fn create_if_new(&self) -> Result<(), StoreError> {
        let mut created = self.created.lock().unwrap_or_else(PoisonError::into_inner);
        if *created {
            return Ok(());
        }
        if check_key(&self.path, &self.key)? == FileState::New {
            create(&self.path)?;
            if check_key(&self.path, &self.key)? != FileState::Sealed {
                return Err(StoreError::Corrupt(
                    "the new sealed store was not created".into(),
                ));
            }
        }
        *created = true;
        Ok(())
    }
}

#[derive(Debug, PartialEq, Eq)]
enum FileState {
    New,
    Sealed,
}

/// Checks `key` against page 1 of the file, which always exists on disk once
/// the store was created.
fn check_key(path: &Path, key: &DataKey) -> Result<FileState, StoreError> {
    // A checkpoint of another process may be rewriting page 1 while it is
    // read here: a torn read is retried before the key is called wrong.
    for attempt in 0..3 {
        if attempt > 0 {
            std::thread::sleep(Duration::from_millis(20));
        }
        let mut file = match std::fs::File::open(path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(FileState::New),
            Err(e) => return Err(e.into()),
        };
        let mut page = vec![0; PAGE];
        let mut read = 0;
        while read < PAGE {
            match file.read(&mut page[read..])? {
                0 => break,
                n => read += n,
            }
        }
        if read == 0 {
            return Ok(FileState::New);
        }
        let at = Place {
            kind: Kind::Db,
            pgno: 1,
            slot: 0,
        };
        if read == PAGE && unseal(key, &mut page, at).is_ok() {
            return if is_sealable_header(&page) {
                Ok(FileState::Sealed)
            } else {
                Err(StoreError::Corrupt(
                    "sealed store with an unexpected page layout".into(),
                ))
            };
        }
    }
    Err(StoreError::WrongKeyOrTampered)
}

/// Creates the file through the shim with the sealed layout.
fn create(path: &Path) -> Result<(), StoreError> {
    let failed = |what: &str| StoreError::Corrupt(format!("creating a sealed store: {what}"));
    let name = path
        .to_str()
        .and_then(|name| CString::new(name).ok())
        .ok_or_else(|| failed("the path is not valid UTF-8"))?;
    let db = RawDb::open(&name)?;
    db.execute(c"PRAGMA temp_store = memory; PRAGMA page_size = 4096;")?;
    let mut reserved = RESERVED as c_int;
    // SAFETY: db is an open connection; "main" is NUL-terminated; the
    // argument of SQLITE_FCNTL_RESERVE_BYTES is a pointer to an int.
    let rc = unsafe {
        ffi::sqlite3_file_control(
            db.0,
            c"main".as_ptr(),
            ffi::SQLITE_FCNTL_RESERVE_BYTES,
            (&raw mut reserved).cast(),
        )
    };
    if rc != ffi::SQLITE_OK {
        return Err(failed("reserved bytes refused"));
    }
    // Switching to WAL writes page 1, with the layout above.
    db.execute(c"PRAGMA journal_mode = WAL;")
}

/// A connection opened directly through the shim (only to create stores).
struct RawDb(*mut ffi::sqlite3);

impl RawDb {
    fn open(name: &CStr) -> Result<Self, StoreError> {
        let mut db = ptr::null_mut();
        // SAFETY: name and the VFS name are NUL-terminated; `db` receives a
        // handle (possibly null) that RawDb closes.
        let rc = unsafe {
            ffi::sqlite3_open_v2(
                name.as_ptr(),
                &mut db,
                ffi::SQLITE_OPEN_READWRITE | ffi::SQLITE_OPEN_CREATE,
                VFS_NAME_C.as_ptr(),
            )
        };
        let db = Self(db);
        if rc != ffi::SQLITE_OK {
            return Err(db.error("open"));
        }
        // SAFETY: db.0 is an open connection.
        unsafe { ffi::sqlite3_busy_timeout(db.0, 30_000) };
        Ok(db)
    }

    fn execute(&self, sql: &CStr) -> Result<(), StoreError> {
        // SAFETY: self.0 is an open connection and sql is NUL-terminated; no
        // callback, no error-message out-parameter.
        let rc = unsafe {
            ffi::sqlite3_exec(self.0, sql.as_ptr(), None, ptr::null_mut(), ptr::null_mut())
        };
        if rc == ffi::SQLITE_OK {
            Ok(())
        } else {
            Err(self.error("setup"))
        }
    }

    fn error(&self, what: &str) -> StoreError {
        if self.0.is_null() {
            return StoreError::Corrupt(format!("creating a sealed store ({what}): out of memory"));
        }
        // SAFETY: self.0 is a connection handle (open or failed to open, both
        // valid for these calls); the message is copied out at once.
        let (code, message) = unsafe {
            (
                ffi::sqlite3_extended_errcode(self.0),
                CStr::from_ptr(ffi::sqlite3_errmsg(self.0))
                    .to_string_lossy()
                    .into_owned(),
            )
        };
        if code == ffi::SQLITE_IOERR_DATA {
            return StoreError::WrongKeyOrTampered;
        }
        StoreError::Corrupt(format!("creating a sealed store ({what}): {message}"))
    }
}

impl Drop for RawDb {
    fn drop(&mut self) {
        // SAFETY: the handle came from sqlite3_open_v2 (null is allowed) and
        // is closed exactly once, here; no statement is left unfinalized.
        unsafe { ffi::sqlite3_close(self.0) };
    }
}

// ---------------------------------------------------------------------------
// The VFS.

/// SQLite's result of registering the shim, registered once per process.
static REGISTERED: OnceLock<c_int> = OnceLock::new();

fn register_vfs() -> Result<(), StoreError> {
    let rc = *REGISTERED.get_or_init(|| {
        // SAFETY: asking for the default VFS, which SQLite keeps for the life
        // of the process (null if there is none).
        let default = unsafe { ffi::sqlite3_vfs_find(ptr::null()) };
        if default.is_null() {
            return ffi::SQLITE_ERROR;
        }
        // SAFETY: default points to a registered VFS; only fields are read.
        let (version, size, max_path) = unsafe {
            (
                (*default).iVersion,
                (*default).szOsFile,
                (*default).mxPathname,
            )
        };
        let vfs = Box::new(ffi::sqlite3_vfs {
            iVersion: version.min(3),
            szOsFile: INNER_OFFSET as c_int + size,
            mxPathname: max_path,
            pNext: ptr::null_mut(),
            zName: VFS_NAME_C.as_ptr(),
            pAppData: default.cast(),
            xOpen: Some(x_open),
            xDelete: Some(x_delete),
            xAccess: Some(x_access),
            xFullPathname: Some(x_full_pathname),
            xDlOpen: Some(x_dl_open),
            xDlError: Some(x_dl_error),
            xDlSym: Some(x_dl_sym),
            xDlClose: Some(x_dl_close),
            xRandomness: Some(x_randomness),
            xSleep: Some(x_sleep),
            xCurrentTime: Some(x_current_time),
            xGetLastError: Some(x_get_last_error),
            xCurrentTimeInt64: Some(x_current_time_int64),
            xSetSystemCall: Some(x_set_system_call),
            xGetSystemCall: Some(x_get_system_call),
            xNextSystemCall: Some(x_next_system_call),
        });
        // SAFETY: the VFS object is leaked, so it outlives every connection
        // that may use it, as SQLite requires; it is not made the default.
        unsafe { ffi::sqlite3_vfs_register(Box::leak(vfs), 0) }
    });
    if rc == ffi::SQLITE_OK {
        Ok(())
    } else {
        Err(StoreError::Corrupt(format!(
            "cannot register the {VFS_NAME} VFS (SQLite code {rc})"
        )))
    }
}

/// What SQLite allocates for each open file: our part, then the default
/// VFS's file at `INNER_OFFSET`.
#[repr(C)]
struct SealedFile {
    base: ffi::sqlite3_file,
    state: *mut OpenFile,
}

const INNER_OFFSET: usize = size_of::<SealedFile>().next_multiple_of(16);

/// No mmap (iVersion 2: no xFetch), so SQLite never reads raw ciphertext.
static METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
    iVersion: 2,
    xClose: Some(x_close),
    xRead: Some(x_read),
    xWrite: Some(x_write),
    xTruncate: Some(x_truncate),
    xSync: Some(x_sync),
    xFileSize: Some(x_file_size),
    xLock: Some(x_lock),
    xUnlock: Some(x_unlock),
    xCheckReservedLock: Some(x_check_reserved_lock),
    xFileControl: Some(x_file_control),
    xSectorSize: Some(x_sector_size),
    xDeviceCharacteristics: Some(x_device_characteristics),
    xShmMap: Some(x_shm_map),
    xShmLock: Some(x_shm_lock),
    xShmBarrier: Some(x_shm_barrier),
    xShmUnmap: Some(x_shm_unmap),
    xFetch: None,
    xUnfetch: None,
};

/// The default VFS's open file inside one of ours.
#[derive(Clone, Copy)]
struct Inner(*mut ffi::sqlite3_file);

impl Inner {
    /// # Safety
    ///
    /// `file` must be a file this VFS opened and has not closed (SQLite
    /// calls io methods only on such files).
    unsafe fn of(file: *mut ffi::sqlite3_file) -> Self {
        // SAFETY: SQLite allocated szOsFile bytes for `file`, of which the
        // default VFS's file fills the tail from INNER_OFFSET.
        Self(unsafe { file.cast::<u8>().add(INNER_OFFSET).cast() })
    }

    fn read(self, buf: &mut [u8], offset: u64) -> c_int {
        let (Ok(amount), Ok(offset)) = (c_int::try_from(buf.len()), i64::try_from(offset)) else {
            return ffi::SQLITE_IOERR_READ;
        };
        // SAFETY: self.0 is open (see `of`) and has methods; buf is valid for
        // `amount` bytes.
        unsafe {
            match (*(*self.0).pMethods).xRead {
                Some(read) => read(self.0, buf.as_mut_ptr().cast(), amount, offset),
                None => ffi::SQLITE_IOERR_READ,
            }
        }
    }

    fn write(self, buf: &[u8], offset: u64) -> c_int {
        let (Ok(amount), Ok(offset)) = (c_int::try_from(buf.len()), i64::try_from(offset)) else {
            return ffi::SQLITE_IOERR_WRITE;
        };
        // SAFETY: as in `read`; buf is valid for `amount` bytes.
        unsafe {
            match (*(*self.0).pMethods).xWrite {
                Some(write) => write(self.0, buf.as_ptr().cast(), amount, offset),
                None => ffi::SQLITE_IOERR_WRITE,
            }
        }
    }

    fn size(self) -> Result<u64, c_int> {
        let mut size = 0;
        // SAFETY: as in `read`; `size` receives the file size.
        let rc = unsafe {
            match (*(*self.0).pMethods).xFileSize {
                Some(file_size) => file_size(self.0, &mut size),
                None => ffi::SQLITE_IOERR_FSTAT,
            }
        };
        if rc == ffi::SQLITE_OK {
            u64::try_from(size).map_err(|_| ffi::SQLITE_IOERR_FSTAT)
        } else {
            Err(rc)
        }
    }
}

/// Our state for one open file.
struct OpenFile {
    kind: Kind,
    sealing: Arc<Sealing>,
    /// Room to assemble pages, reused across calls (SQLite never calls one
    /// file's methods concurrently).
    scratch: Vec<u8>,
}

/// Runs a method body, turning a panic (a bug) into an I/O error rather
/// than unwinding into SQLite.
fn guarded(error: c_int, body: impl FnOnce() -> c_int) -> c_int {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(error)
}

unsafe extern "C" fn x_open(
    vfs: *mut ffi::sqlite3_vfs,
    name: ffi::sqlite3_filename,
    file: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    // SAFETY: SQLite hands over szOsFile writable bytes at `file`; a null
    // pMethods tells it not to call xClose if we fail.
    unsafe { (*file).pMethods = ptr::null() };
    let kind = if flags & ffi::SQLITE_OPEN_MAIN_DB != 0 {
        Kind::Db
    } else if flags & ffi::SQLITE_OPEN_WAL != 0 {
        Kind::Wal
    } else if flags & ffi::SQLITE_OPEN_MAIN_JOURNAL != 0 {
        Kind::Journal
    } else {
        // Temporary files, statement and super-journals: a store keeps its
        // temporary data in memory, and these would be written in clear.
        return ffi::SQLITE_CANTOPEN;
    };
    if name.is_null() {
        return ffi::SQLITE_CANTOPEN;
    }
    let sealing = guarded_option(|| match kind {
        Kind::Db => {
            // SAFETY: SQLite passes a NUL-terminated path for a main file.
            let name = unsafe { CStr::from_ptr(name) };
            let path = registry_path(Path::new(name.to_str().ok()?)).ok()?;
            registered(&path)
        }
        Kind::Wal | Kind::Journal => {
            // SAFETY: `name` is the name SQLite passes to xOpen for a WAL or
            // journal, which is what sqlite3_database_file_object expects;
            // it returns the main file of the same connection, which is open.
            // Its state is ours only if its methods are ours.
            unsafe {
                let db = ffi::sqlite3_database_file_object(name);
                if db.is_null() || !ptr::eq((*db).pMethods, &METHODS) {
                    return None;
                }
                Some(Arc::clone(&(*(*db.cast::<SealedFile>()).state).sealing))
            }
        }
    });
    let Some(sealing) = sealing else {
        // No key for this store: refuse rather than write in clear.
        return ffi::SQLITE_AUTH;
    };
    // SAFETY: pAppData is the default VFS (set at registration); the inner
    // file is the tail of the allocation SQLite gave us; name, flags and
    // out_flags are passed through as SQLite gave them.
    let rc = unsafe {
        let default = (*vfs).pAppData.cast::<ffi::sqlite3_vfs>();
        let inner = Inner::of(file).0;
        (*inner).pMethods = ptr::null();
        let rc = match (*default).xOpen {
            Some(open) => open(default, name, inner, flags, out_flags),
            None => ffi::SQLITE_CANTOPEN,
        };
        if rc != ffi::SQLITE_OK
            && let Some(close) = (*inner).pMethods.as_ref().and_then(|m| m.xClose)
        {
            close(inner);
        }
        rc
    };
    if rc != ffi::SQLITE_OK {
        return rc;
    }
    let state = Box::into_raw(Box::new(OpenFile {
        kind,
        sealing,
        scratch: Vec::new(),
    }));
    // SAFETY: `file` is ours to fill (see above); from here SQLite will call
    // x_close, which frees the state.
    unsafe {
        (*file.cast::<SealedFile>()).state = state;
        (*file).pMethods = &METHODS;
    }
    ffi::SQLITE_OK
}

fn guarded_option<T>(body: impl FnOnce() -> Option<T>) -> Option<T> {
    catch_unwind(AssertUnwindSafe(body)).ok().flatten()
}

unsafe extern "C" fn x_close(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: SQLite closes a file x_open opened, once; the state was boxed
    // there and is freed here, after the inner file is closed.
    unsafe {
        let inner = Inner::of(file).0;
        let rc = match (*inner).pMethods.as_ref().and_then(|m| m.xClose) {
            Some(close) => close(inner),
            None => ffi::SQLITE_OK,
        };
        let sealed = file.cast::<SealedFile>();
        drop(Box::from_raw((*sealed).state));
        (*sealed).state = ptr::null_mut();
        (*file).pMethods = ptr::null();
        rc
    }
}

unsafe extern "C" fn x_read(
    file: *mut ffi::sqlite3_file,
    buf: *mut c_void,
    amount: c_int,
    offset: i64,
) -> c_int {
    let (Ok(len), Ok(offset)) = (usize::try_from(amount), u64::try_from(offset)) else {
        return ffi::SQLITE_IOERR_READ;
    };
    // SAFETY: SQLite reads only files x_open opened (so the state and inner
    // file are valid, and used by one thread at a time) into a buffer of
    // `amount` writable bytes.
    let (state, inner, out) = unsafe {
        (
            &mut *(*file.cast::<SealedFile>()).state,
            Inner::of(file),
            std::slice::from_raw_parts_mut(buf.cast::<u8>(), len),
        )
    };
    guarded(ffi::SQLITE_IOERR_READ, || state.read(inner, out, offset))
}

unsafe extern "C" fn x_write(
    file: *mut ffi::sqlite3_file,
    buf: *const c_void,
    amount: c_int,
    offset: i64,
) -> c_int {
    let (Ok(len), Ok(offset)) = (usize::try_from(amount), u64::try_from(offset)) else {
        return ffi::SQLITE_IOERR_WRITE;
    };
    // SAFETY: as in x_read; the buffer holds `amount` readable bytes.
    let (state, inner, data) = unsafe {
        (
            &mut *(*file.cast::<SealedFile>()).state,
            Inner::of(file),
            std::slice::from_raw_parts(buf.cast::<u8>(), len),
        )
    };
    guarded(ffi::SQLITE_IOERR_WRITE, || state.write(inner, data, offset))
}

unsafe extern "C" fn x_device_characteristics(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: as for every io method, `file` is open (see Inner::of).
    let characteristics = unsafe {
        let inner = Inner::of(file).0;
        match (*(*inner).pMethods).xDeviceCharacteristics {
            Some(method) => method(inner),
            None => 0,
        }
    };
    // Reading part of a page straight from the file (overflow pages) would
    // open the whole page each time: keep SQLite on its page cache.
    characteristics & !ffi::SQLITE_IOCAP_SUBPAGE_READ
}

/// Defines io methods that pass through to the default VFS's file.
macro_rules! pass_through {
    ($($name:ident => $method:ident($($arg:ident: $ty:ty),*) -> $ret:ty, else $missing:expr;)*) => {$(
        unsafe extern "C" fn $name(file: *mut ffi::sqlite3_file $(, $arg: $ty)*) -> $ret {
            // SAFETY: SQLite calls io methods only on files x_open opened and
            // x_close has not closed, so the inner file is open; arguments
            // pass through as SQLite gave them.
            unsafe {
                let inner = Inner::of(file).0;
                match (*(*inner).pMethods).$method {
                    Some(method) => method(inner $(, $arg)*),
                    None => $missing,
                }
            }
        }
    )*};
}

pass_through! {
    x_truncate => xTruncate(size: i64) -> c_int, else ffi::SQLITE_IOERR_TRUNCATE;
    x_sync => xSync(flags: c_int) -> c_int, else ffi::SQLITE_IOERR_FSYNC;
    x_file_size => xFileSize(size: *mut i64) -> c_int, else ffi::SQLITE_IOERR_FSTAT;
    x_lock => xLock(level: c_int) -> c_int, else ffi::SQLITE_IOERR_LOCK;
    x_unlock => xUnlock(level: c_int) -> c_int, else ffi::SQLITE_IOERR_UNLOCK;
    x_check_reserved_lock => xCheckReservedLock(out: *mut c_int) -> c_int, else ffi::SQLITE_IOERR_CHECKRESERVEDLOCK;
    x_file_control => xFileControl(op: c_int, arg: *mut c_void) -> c_int, else ffi::SQLITE_NOTFOUND;
    x_sector_size => xSectorSize() -> c_int, else PAGE as c_int;
    x_shm_map => xShmMap(region: c_int, size: c_int, extend: c_int, out: *mut *mut c_void) -> c_int, else ffi::SQLITE_IOERR_SHMMAP;
    x_shm_lock => xShmLock(offset: c_int, n: c_int, flags: c_int) -> c_int, else ffi::SQLITE_IOERR_SHMLOCK;
    x_shm_barrier => xShmBarrier() -> (), else ();
    x_shm_unmap => xShmUnmap(delete: c_int) -> c_int, else ffi::SQLITE_OK;
}

/// Defines VFS methods that pass through to the default VFS.
macro_rules! vfs_pass_through {
    ($($name:ident => $method:ident($($arg:ident: $ty:ty),*) -> $ret:ty, else $missing:expr;)*) => {$(
        unsafe extern "C" fn $name(vfs: *mut ffi::sqlite3_vfs $(, $arg: $ty)*) -> $ret {
            // SAFETY: `vfs` is ours, whose pAppData is the default VFS, set at
            // registration and never freed; arguments pass through.
            unsafe {
                let default = (*vfs).pAppData.cast::<ffi::sqlite3_vfs>();
                match (*default).$method {
                    Some(method) => method(default $(, $arg)*),
                    None => $missing,
                }
            }
        }
    )*};
}

type DlSym = Option<unsafe extern "C" fn(*mut ffi::sqlite3_vfs, *mut c_void, *const c_char)>;

vfs_pass_through! {
    x_delete => xDelete(name: *const c_char, sync_dir: c_int) -> c_int, else ffi::SQLITE_IOERR_DELETE;
    x_access => xAccess(name: *const c_char, flags: c_int, out: *mut c_int) -> c_int, else ffi::SQLITE_IOERR_ACCESS;
    x_full_pathname => xFullPathname(name: *const c_char, n: c_int, out: *mut c_char) -> c_int, else ffi::SQLITE_CANTOPEN;
    x_dl_open => xDlOpen(name: *const c_char) -> *mut c_void, else ptr::null_mut();
    x_dl_error => xDlError(n: c_int, message: *mut c_char) -> (), else ();
    x_dl_sym => xDlSym(handle: *mut c_void, symbol: *const c_char) -> DlSym, else None;
    x_dl_close => xDlClose(handle: *mut c_void) -> (), else ();
    x_randomness => xRandomness(n: c_int, out: *mut c_char) -> c_int, else 0;
    x_sleep => xSleep(micros: c_int) -> c_int, else 0;
    x_current_time => xCurrentTime(out: *mut f64) -> c_int, else ffi::SQLITE_ERROR;
    x_get_last_error => xGetLastError(n: c_int, out: *mut c_char) -> c_int, else 0;
    x_current_time_int64 => xCurrentTimeInt64(out: *mut i64) -> c_int, else ffi::SQLITE_ERROR;
    x_set_system_call => xSetSystemCall(name: *const c_char, call: ffi::sqlite3_syscall_ptr) -> c_int, else ffi::SQLITE_NOTFOUND;
    x_get_system_call => xGetSystemCall(name: *const c_char) -> ffi::sqlite3_syscall_ptr, else None;
    x_next_system_call => xNextSystemCall(name: *const c_char) -> *const c_char, else ptr::null();
}

// ---------------------------------------------------------------------------
// Reading and writing through the seal.

/// Where page images sit in a file laid out as a regular grid: the main file
/// (pages back to back) and the WAL (header, then frames of a 24-byte header
/// and a page).
#[derive(Clone, Copy)]
struct Grid {
    first: u64,
    stride: u64,
    /// Bytes of clear header before each page image (the WAL's frame header).
    header: u64,
}

const DB_GRID: Grid = Grid {
    first: 0,
    stride: PAGE as u64,
    header: 0,
};
const WAL_GRID: Grid = Grid {
    first: WAL_HEADER + FRAME_HEADER,
    stride: FRAME_HEADER + PAGE as u64,
    header: FRAME_HEADER,
};

impl Grid {
    fn start(self, slot: u64) -> u64 {
        self.first + slot * self.stride
    }

    /// The slots whose page image overlaps `[from, to)`.
    fn overlapping(self, from: u64, to: u64) -> Range<u64> {
        if to <= self.first {
            return 0..0;
        }
        let first = if from <= self.first {
            0
        } else {
            let slot = (from - self.first) / self.stride;
            if from >= self.start(slot) + PAGE as u64 {
                slot + 1
            } else {
                slot
            }
        };
        let last = (to - 1 - self.first) / self.stride;
        first..last + 1
    }
}

/// How much of a page image the file holds.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Presence {
    Whole,
    /// Entirely past the end of the file: reads as zeros, as in SQLite.
    Absent,
    /// Cut by the end of the file.
    Torn,
}

fn presence(start: u64, eof: Option<u64>) -> Presence {
    match eof {
        None => Presence::Whole,
        Some(eof) if start >= eof => Presence::Absent,
        Some(eof) if start + PAGE as u64 <= eof => Presence::Whole,
        Some(_) => Presence::Torn,
    }
}

fn page_number(header: &[u8]) -> u32 {
    header
        .get(..4)
        .map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

impl OpenFile {
    fn read(&mut self, inner: Inner, out: &mut [u8], offset: u64) -> c_int {
        match self.kind {
            Kind::Db => self.read_grid(DB_GRID, inner, out, offset),
            Kind::Wal => self.read_grid(WAL_GRID, inner, out, offset),
            Kind::Journal => self.read_journal(inner, out, offset),
        }
    }

    fn write(&mut self, inner: Inner, data: &[u8], offset: u64) -> c_int {
        match self.kind {
            Kind::Db => self.write_grid(DB_GRID, inner, data, offset),
            Kind::Wal => self.write_grid(WAL_GRID, inner, data, offset),
            Kind::Journal => self.write_journal(inner, data, offset),
        }
    }

    fn place(&self, slot: u64, header: &[u8]) -> Option<Place> {
        match self.kind {
            Kind::Db => Some(Place {
                kind: Kind::Db,
                pgno: u32::try_from(slot + 1).ok()?,
                slot,
            }),
            Kind::Wal => Some(Place {
                kind: Kind::Wal,
                pgno: page_number(header),
                slot: slot + 1,
            }),
            Kind::Journal => None,
        }
    }

    fn read_grid(&mut self, grid: Grid, inner: Inner, out: &mut [u8], offset: u64) -> c_int {
        let end = offset + out.len() as u64;
        let slots = grid.overlapping(offset, end);
        if slots.is_empty() {
            return inner.read(out, offset);
        }
        // Whole page images, with the frame headers that name their page.
        let raw_from = offset.min(grid.start(slots.start) - grid.header);
        let raw_to = end.max(grid.start(slots.end - 1) + PAGE as u64);
        let in_place = raw_from == offset && raw_to == end;
        let mut scratch = std::mem::take(&mut self.scratch);
        let buf: &mut [u8] = if in_place {
            out
        } else {
            scratch.clear();
            scratch.resize((raw_to - raw_from) as usize, 0);
            &mut scratch
        };
        let rc = inner.read(buf, raw_from);
        let eof = match rc {
            ffi::SQLITE_OK => None,
            ffi::SQLITE_IOERR_SHORT_READ => match inner.size() {
                Ok(size) => Some(size),
                Err(rc) => return rc,
            },
            rc => return rc,
        };
        for slot in slots {
            let start = grid.start(slot);
            let at = (start - raw_from) as usize;
            let header_at = at - grid.header as usize;
            let Some(place) = self.place(slot, &buf[header_at..at]) else {
                return ffi::SQLITE_IOERR_READ;
            };
            // A read that takes the frame header with the page is SQLite
            // validating frames by their checksums (recovery): an
            // unauthentic page reads as zeros so that the checksum rejects
            // it, as it rejects a torn frame.
            let validating =
                self.kind == Kind::Wal && offset <= start - grid.header && start <= end;
            let page = &mut buf[at..at + PAGE];
            let good = match presence(start, eof) {
                Presence::Absent => self.kind == Kind::Db || validating,
                Presence::Torn => false,
                // All zeros is a hole or a wiped page: SQLite never reads a
                // page it has not written within the file.
                Presence::Whole => {
                    page.iter().any(|&b| b != 0) && unseal(&self.sealing.key, page, place).is_ok()
                }
            };
            if !good {
                if validating {
                    page.fill(0);
                } else {
                    self.scratch = scratch;
                    return ffi::SQLITE_IOERR_DATA;
                }
            }
        }
        if !in_place {
            let from = (offset - raw_from) as usize;
            out.copy_from_slice(&scratch[from..from + out.len()]);
        }
        self.scratch = scratch;
        match eof {
            Some(eof) if end > eof => ffi::SQLITE_IOERR_SHORT_READ,
            _ => ffi::SQLITE_OK,
        }
    }

    fn write_grid(&mut self, grid: Grid, inner: Inner, data: &[u8], offset: u64) -> c_int {
        let end = offset + data.len() as u64;
        // The WAL header names the page size, which the grid assumes.
        if self.kind == Kind::Wal && offset <= 8 && end >= 12 {
            let at = (8 - offset) as usize;
            if page_number(&data[at..at + 4]) as usize != PAGE {
                return ffi::SQLITE_IOERR_WRITE;
            }
        }
        let slots = grid.overlapping(offset, end);
        if slots.is_empty() {
            return inner.write(data, offset);
        }
        // SQLite writes page images whole; a part of one cannot be sealed.
        if grid.start(slots.start) < offset || grid.start(slots.end - 1) + PAGE as u64 > end {
            return ffi::SQLITE_IOERR_WRITE;
        }
        let mut buf = std::mem::take(&mut self.scratch);
        buf.clear();
        buf.extend_from_slice(data);
        let rc = self.seal_slots(grid, inner, &mut buf, offset, slots);
        let rc = if rc == ffi::SQLITE_OK {
            inner.write(&buf, offset)
        } else {
            rc
        };
        self.scratch = buf;
        rc
    }

    fn seal_slots(
        &self,
        grid: Grid,
        inner: Inner,
        buf: &mut [u8],
        offset: u64,
        slots: Range<u64>,
    ) -> c_int {
        for slot in slots {
            let start = grid.start(slot);
            let at = (start - offset) as usize;
            // The frame header is written just before its page, by a separate
            // write unless it is part of this one.
            let mut header = [0; 4];
            if grid.header > 0 {
                if start - grid.header >= offset {
                    let header_at = at - grid.header as usize;
                    header.copy_from_slice(&buf[header_at..header_at + 4]);
                } else if inner.read(&mut header, start - grid.header) != ffi::SQLITE_OK {
                    return ffi::SQLITE_IOERR_WRITE;
                }
            }
            let Some(place) = self.place(slot, &header) else {
                return ffi::SQLITE_IOERR_WRITE;
            };
            let page = &mut buf[at..at + PAGE];
            if place.pgno == 0 || (place.kind == Kind::Db && slot == 0 && !is_sealable_header(page))
            {
                return ffi::SQLITE_IOERR_WRITE;
            }
            if seal(&self.sealing.key, page, place).is_err() {
                return ffi::SQLITE_IOERR_WRITE;
            }
        }
        ffi::SQLITE_OK
    }

    /// A rollback journal is a sequence of records `page number (4) ‖ page ‖
    /// checksum (4)` after sector-aligned headers; SQLite reads and writes
    /// each part separately, so a page image is any access of exactly one
    /// page at an offset ≡ 4 (mod 8) (headers are sector-aligned, records
    /// page size + 8 long).
    fn journal_place(&self, inner: Inner, offset: u64) -> Option<Place> {
        let mut header = [0; 4];
        if inner.read(&mut header, offset.checked_sub(4)?) != ffi::SQLITE_OK {
            return None;
        }
        let pgno = page_number(&header);
        (pgno != 0).then_some(Place {
            kind: Kind::Journal,
            pgno,
            slot: offset,
        })
    }

    fn read_journal(&mut self, inner: Inner, out: &mut [u8], offset: u64) -> c_int {
        if out.len() != PAGE || offset % 8 != 4 {
            return inner.read(out, offset);
        }
        let rc = inner.read(out, offset);
        if rc != ffi::SQLITE_OK {
            // Past the end: zeros, as SQLite expects; a cut page is
            // unreadable.
            let absent = rc == ffi::SQLITE_IOERR_SHORT_READ && out.iter().all(|&b| b == 0);
            return if absent { rc } else { ffi::SQLITE_IOERR_DATA };
        }
        // Journals are only played back whole by SQLite after checking their
        // headers: an unauthentic record is an error, never zeros that its
        // sparse checksum might accept.
        match self.journal_place(inner, offset) {
            Some(place) if unseal(&self.sealing.key, out, place).is_ok() => ffi::SQLITE_OK,
            _ => ffi::SQLITE_IOERR_DATA,
        }
    }

    fn write_journal(&mut self, inner: Inner, data: &[u8], offset: u64) -> c_int {
        if data.len() == PAGE && offset % 8 == 4 {
            let Some(place) = self.journal_place(inner, offset) else {
                return ffi::SQLITE_IOERR_WRITE;
            };
            let mut buf = std::mem::take(&mut self.scratch);
            buf.clear();
            buf.extend_from_slice(data);
            let rc = match seal(&self.sealing.key, &mut buf, place) {
                Ok(()) => inner.write(&buf, offset),
                Err(_) => ffi::SQLITE_IOERR_WRITE,
            };
            self.scratch = buf;
            return rc;
        }
        // Headers (28 bytes, zero-padded to the sector), page numbers,
        // checksums: nothing of the pages. Anything else is refused rather
        // than written in clear.
        let header_fields = 28;
        let clear = data.len() <= header_fields
            || (offset.is_multiple_of(512) && data[header_fields..].iter().all(|&b| b == 0));
        if clear {
            inner.write(data, offset)
        } else {
            ffi::SQLITE_IOERR_WRITE
        }
    }
}

#[cfg(test)]
mod tests;
