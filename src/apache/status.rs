//! What a hook returns to Apache.
use std::os::raw::c_int;

use super::ffi;

/// Handled: Apache goes on with the next phase.
pub const OK: c_int = ffi::OK as c_int;
/// Not ours: Apache asks the next module.
pub const DECLINED: c_int = ffi::DECLINED;
/// Handled completely: Apache sends nothing more.
pub const DONE: c_int = ffi::DONE;
pub const SERVER_ERROR: c_int = ffi::HTTP_INTERNAL_SERVER_ERROR as c_int;
