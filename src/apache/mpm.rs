//! What the MPM says about itself and the child's state.
use std::os::raw::c_int;

use super::ffi;

/// `AP_MPMQ_CAN_WAITIO` (httpd 2.4.63 and later). Older headers lack it;
/// an older httpd answers the query with an error, which reads as "no".
const MPMQ_CAN_WAITIO: c_int = 19;

/// One `ap_mpm_query`; None when the MPM does not answer it.
fn query(code: c_int) -> Option<c_int> {
    let mut value: c_int = 0;
    // SAFETY: ap_mpm_query writes one int for every query code.
    let status = unsafe { ffi::ap_mpm_query(code, &mut value) };
    (status == 0).then_some(value)
}

/// True when the child is told to stop (for good, or to restart).
pub fn is_stopping() -> bool {
    query(ffi::AP_MPMQ_MPM_STATE as c_int) == Some(ffi::AP_MPMQ_STOPPING as c_int)
}

/// The configuration generation this child was started for.
pub fn generation() -> Option<c_int> {
    query(ffi::AP_MPMQ_GENERATION as c_int)
}

/// The generation the parent runs now (it moves on at a graceful restart);
/// None without a scoreboard.
pub fn running_generation() -> Option<c_int> {
    // SAFETY: the scoreboard is Apache's shared-memory table, mapped for the
    // life of the child; NULL before it exists.
    unsafe {
        let board = ffi::ap_scoreboard_image;
        if board.is_null() || (*board).global.is_null() {
            return None;
        }
        Some((*(*board).global).running_generation)
    }
}

/// True under an MPM that can park connections (event).
#[allow(dead_code, reason = "for the event driver (docs/design-event-mode.md)")]
pub fn is_async() -> bool {
    query(ffi::AP_MPMQ_IS_ASYNC as c_int).is_some_and(|v| v != 0)
}

/// True when the MPM can park a connection until it is readable or
/// writable (`CONN_STATE_ASYNC_WAITIO`).
pub fn can_wait_io() -> bool {
    query(MPMQ_CAN_WAITIO).is_some_and(|v| v != 0)
}

/// How many child processes the MPM may run at once (`AP_MPMQ_MAX_DAEMONS`:
/// MaxRequestWorkers over ThreadsPerChild, capped by ServerLimit; prefork's
/// MaxRequestWorkers). The MPM works it out in its check_config hook, so
/// ask from post_config on; None when the MPM does not answer.
pub fn max_children() -> Option<c_int> {
    query(ffi::AP_MPMQ_MAX_DAEMONS as c_int)
}

/// True when each child serves many connections on threads (event,
/// worker); false under prefork, one connection per child.
pub fn is_threaded() -> bool {
    query(ffi::AP_MPMQ_IS_THREADED as c_int)
        .is_some_and(|v| v != ffi::AP_MPMQ_NOT_SUPPORTED as c_int)
}

/// The MPM's name ("event", "worker", "prefork").
pub fn name() -> String {
    // SAFETY: ap_show_mpm returns a static NUL-terminated string, or NULL
    // before an MPM is loaded.
    let name = unsafe { ffi::ap_show_mpm() };
    if name.is_null() {
        return "?".to_string();
    }
    // SAFETY: non-NULL, NUL-terminated, static.
    unsafe { std::ffi::CStr::from_ptr(name) }
        .to_string_lossy()
        .into_owned()
}
