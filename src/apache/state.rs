//! Where Apache's main process is in its life.
use std::ffi::CStr;
use std::os::raw::c_int;
use std::path::PathBuf;

use super::ffi;
use super::pool::Pool;

/// True in the first, dry configuration pass at start-up (Apache reads the
/// configuration twice; only the second one serves).
pub fn is_dry_config_pass() -> bool {
    // SAFETY: ap_state_query only reads a process-wide variable.
    let state = unsafe { ffi::ap_state_query(ffi::AP_SQ_MAIN_STATE as c_int) };
    state == ffi::AP_SQ_MS_CREATE_PRE_CONFIG as c_int
}

/// True when Apache only checks its configuration (`apache2 -t`).
pub fn is_config_test() -> bool {
    // SAFETY: as in is_dry_config_pass.
    let mode = unsafe { ffi::ap_state_query(ffi::AP_SQ_RUN_MODE as c_int) };
    mode == ffi::AP_SQ_RM_CONFIG_TEST as c_int
}

/// `DefaultRuntimeDir`: where Apache keeps files of its own while it runs.
pub fn runtime_dir(pool: Pool<'_>) -> PathBuf {
    // SAFETY: the pool is live; the empty name asks for the directory itself,
    // and the result is a NUL-terminated string in that pool (or NULL).
    let dir = unsafe { ffi::ap_runtime_dir_relative(pool.as_ptr(), c"".as_ptr()) };
    if dir.is_null() {
        return PathBuf::from(".");
    }
    // SAFETY: non-NULL, NUL-terminated, alive as long as the pool.
    let dir = unsafe { CStr::from_ptr(dir) };
    PathBuf::from(dir.to_string_lossy().into_owned())
}
