//! Reading many fixes fast.
//!
//! sqlx hands rows over one by one from its worker thread, copying every
//! value: about 7 µs a fix, 14 s for a year of 2 million fixes, where the
//! analysis itself takes under one second. Here the connection's handle is
//! borrowed from sqlx (which supports exactly this) and one prepared
//! statement is stepped directly, about a hundred times faster. It reads,
//! never writes. (The store's other unsafe code is the sealing VFS.)

use crate::StoreError;
use libsqlite3_sys as ffi;
use sillage_model::{Fix, Timestamp};
use std::ffi::CStr;
use std::ptr::{self, NonNull};

const FIXES_SQL: &CStr =
    c"SELECT t_ms, lat, lon, accuracy_m, speed_mps, bearing_deg, altitude_m, utc_offset_min \
    FROM fixes WHERE device_id = ?1 AND t_ms >= ?2 AND t_ms < ?3 ORDER BY t_ms";

/// Finalizes the statement however the read ends.
struct Statement(*mut ffi::sqlite3_stmt);

impl Drop for Statement {
    fn drop(&mut self) {
        // SAFETY: the pointer came from a successful sqlite3_prepare_v2 and
        // is finalized exactly once, here.
        unsafe { ffi::sqlite3_finalize(self.0) };
    }
}

/// The fixes of `device_id` in `[from, to)`, in time order.
///
/// # Safety
///
/// `db` must be a valid connection handle that nothing else uses for the
/// duration of the call (sqlx's `LockedSqliteHandle` guarantees both).
pub(crate) unsafe fn device_fixes(
    db: NonNull<ffi::sqlite3>,
    device_id: i64,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<Fix>, StoreError> {
    let db = db.as_ptr();
    let failure = |what: &str| {
        // SAFETY: db is valid (caller's contract); sqlite3_errmsg returns a
        // NUL-terminated string owned by SQLite, copied out at once.
        let (code, message) = unsafe {
            (
                ffi::sqlite3_extended_errcode(db),
                CStr::from_ptr(ffi::sqlite3_errmsg(db)),
            )
        };
        if code == ffi::SQLITE_IOERR_DATA {
            // A sealed page failed authentication (see `sealed`).
            return StoreError::WrongKeyOrTampered;
        }
        StoreError::Corrupt(format!(
            "reading fixes ({what}): {}",
            message.to_string_lossy()
        ))
    };
    let mut raw = ptr::null_mut();
    // SAFETY: db is valid, the SQL is a NUL-terminated constant, and `raw`
    // receives the statement (null on failure).
    let rc =
        unsafe { ffi::sqlite3_prepare_v2(db, FIXES_SQL.as_ptr(), -1, &mut raw, ptr::null_mut()) };
    if rc != ffi::SQLITE_OK || raw.is_null() {
        return Err(failure("prepare"));
    }
    let statement = Statement(raw);
    let stmt = statement.0;
    for (index, value) in [(1, device_id), (2, from.0), (3, to.0)] {
        // SAFETY: stmt is a live prepared statement with three parameters.
        if unsafe { ffi::sqlite3_bind_int64(stmt, index, value) } != ffi::SQLITE_OK {
            return Err(failure("bind"));
        }
    }
    // SAFETY (for the column reads below): after SQLITE_ROW, columns 0 to 7
    // of the current row are readable; numeric reads return plain values.
    let optional = |column: i32| unsafe {
        (ffi::sqlite3_column_type(stmt, column) != ffi::SQLITE_NULL)
            .then(|| ffi::sqlite3_column_double(stmt, column))
    };
    let mut fixes = Vec::new();
    loop {
        // SAFETY: stmt is live; stepping a read-only statement.
        match unsafe { ffi::sqlite3_step(stmt) } {
            ffi::SQLITE_ROW => {
                // SAFETY: as above, on a current row.
                let (time, lat, lon) = unsafe {
                    (
                        ffi::sqlite3_column_int64(stmt, 0),
                        ffi::sqlite3_column_double(stmt, 1),
                        ffi::sqlite3_column_double(stmt, 2),
                    )
                };
                fixes.push(Fix {
                    time: Timestamp(time),
                    lat,
                    lon,
                    accuracy_m: optional(3).map(|v| v as f32),
                    speed_mps: optional(4).map(|v| v as f32),
                    bearing_deg: optional(5).map(|v| v as f32),
                    altitude_m: optional(6).map(|v| v as f32),
                    utc_offset_min: optional(7).map(|v| v as i16),
                });
            }
            ffi::SQLITE_DONE => return Ok(fixes),
            _ => return Err(failure("step")),
        }
    }
}
