//! The command table Apache reads: one entry per directive, each keeping
//! its Rust function in `cmd_data` (Apache's `cmd->info`), so one C
//! function per argument style serves every directive.
use std::ffi::{c_void, CStr};
use std::os::raw::c_int;

use super::directive::{flag_entry, take12_entry, take1_entry, Flag, Take1, Take12};
use super::ffi;

/// Where a directive may appear (`req_override`).
pub type Scope = c_int;
pub const SERVER: Scope = ffi::RSRC_CONF as c_int;
pub const LOCATION: Scope = ffi::ACCESS_CONF as c_int;
pub const SERVER_OR_LOCATION: Scope = SERVER | LOCATION;
/// As broad as mod_python's own registration: when both modules are loaded,
/// each sees the line, and a narrower scope here would fail the config.
pub const ANYWHERE: Scope = (ffi::OR_ALL | ffi::RSRC_CONF | ffi::ACCESS_CONF) as c_int;

/// One entry of the command table.
#[repr(transparent)]
pub struct Command(ffi::command_rec);

/// The command table handed to Apache; its last entry must be `END`.
#[repr(transparent)]
pub struct CommandTable<const N: usize>(pub [Command; N]);

// SAFETY: the table is immutable and only read by Apache's config parser.
unsafe impl<const N: usize> Sync for CommandTable<N> {}

impl<const N: usize> CommandTable<N> {
    pub(super) const fn as_ptr(&self) -> *const ffi::command_rec {
        self.0.as_ptr().cast()
    }
}

/// The table's terminator.
// SAFETY: an all-zero command_rec (NULL name) is the terminator Apache
// expects; every field is a pointer, integer or Option<fn>.
pub const END: Command = Command(unsafe { std::mem::zeroed() });

const fn command(
    name: &'static CStr,
    func: ffi::cmd_func,
    body: *const (),
    scope: Scope,
    how: ffi::cmd_how,
    help: &'static CStr,
) -> Command {
    Command(ffi::command_rec {
        name: name.as_ptr(),
        func,
        cmd_data: body as *mut c_void,
        req_override: scope,
        args_how: how,
        errmsg: help.as_ptr(),
    })
}

pub const fn take1(name: &'static CStr, f: Take1, scope: Scope, help: &'static CStr) -> Command {
    let func = ffi::cmd_func {
        take1: Some(take1_entry),
    };
    command(name, func, f as *const (), scope, ffi::cmd_how_TAKE1, help)
}

/// Called once per argument on the line.
pub const fn iterate(name: &'static CStr, f: Take1, scope: Scope, help: &'static CStr) -> Command {
    let func = ffi::cmd_func {
        take1: Some(take1_entry),
    };
    command(
        name,
        func,
        f as *const (),
        scope,
        ffi::cmd_how_ITERATE,
        help,
    )
}

pub const fn raw_args(name: &'static CStr, f: Take1, scope: Scope, help: &'static CStr) -> Command {
    let func = ffi::cmd_func {
        raw_args: Some(take1_entry),
    };
    command(
        name,
        func,
        f as *const (),
        scope,
        ffi::cmd_how_RAW_ARGS,
        help,
    )
}

pub const fn flag(name: &'static CStr, f: Flag, scope: Scope, help: &'static CStr) -> Command {
    let func = ffi::cmd_func {
        flag: Some(flag_entry),
    };
    command(name, func, f as *const (), scope, ffi::cmd_how_FLAG, help)
}

pub const fn take12(name: &'static CStr, f: Take12, scope: Scope, help: &'static CStr) -> Command {
    let func = ffi::cmd_func {
        take2: Some(take12_entry),
    };
    command(name, func, f as *const (), scope, ffi::cmd_how_TAKE12, help)
}
