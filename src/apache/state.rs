//! Where Apache's main process is in its life.
use std::os::raw::c_int;

use super::ffi;

/// True in the first, dry configuration pass at start-up (Apache reads the
/// configuration twice; only the second one serves).
pub fn is_dry_config_pass() -> bool {
    // SAFETY: ap_state_query only reads a process-wide variable.
    let state = unsafe { ffi::ap_state_query(ffi::AP_SQ_MAIN_STATE as c_int) };
    state == ffi::AP_SQ_MS_CREATE_PRE_CONFIG as c_int
}
