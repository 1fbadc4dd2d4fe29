//! Whether this Apache child is being told to stop, so open WebSockets can
//! be closed with 1001 instead of holding the child until it is killed.
use std::os::raw::c_int;

use crate::ffi;

/// True when the child is stopping for good (`apachectl stop`,
/// `graceful-stop`), false on a graceful restart: then the parent has moved
/// to a new generation, and open WebSockets may finish on this old child.
pub fn server_is_stopping() -> bool {
    let mut state: c_int = 0;
    let mut generation: c_int = 0;
    // SAFETY: ap_mpm_query writes one int for these codes; the scoreboard is
    // Apache's shared-memory table, mapped for the life of the child.
    unsafe {
        if ffi::ap_mpm_query(ffi::AP_MPMQ_MPM_STATE as c_int, &mut state) != 0
            || state != ffi::AP_MPMQ_STOPPING as c_int
        {
            return false;
        }
        let board = ffi::ap_scoreboard_image;
        if board.is_null() || (*board).global.is_null() {
            return true;
        }
        if ffi::ap_mpm_query(ffi::AP_MPMQ_GENERATION as c_int, &mut generation) != 0 {
            return true;
        }
        (*(*board).global).running_generation == generation
    }
}
