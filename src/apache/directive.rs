//! One directive line being processed: the safe view of `cmd_parms`, and
//! the C functions Apache calls for it, which run the entry's Rust function.
use std::ffi::{c_void, CStr};
use std::marker::PhantomData;
use std::os::raw::{c_char, c_int};
use std::path::PathBuf;
use std::ptr::{self, NonNull};

use super::ffi;
use super::log::Target;
use super::module_config::{DirConfigType, ServerConfigType};
use super::panic::guard;
use super::pool::{cstr, Pool};
use super::server::Server;

/// A directive's body; an `Err` becomes Apache's config error, prefixed
/// with the directive's name.
pub type Outcome = Result<(), String>;
/// One argument (TAKE1, ITERATE: once per argument; RAW_ARGS: the rest of the line).
pub type Take1 = fn(&mut Directive<'_>, &str) -> Outcome;
/// On or Off.
pub type Flag = fn(&mut Directive<'_>, bool) -> Outcome;
/// One or two arguments, read by the body itself.
pub type Take12 = fn(&mut Directive<'_>, Arg<'_>, Option<Arg<'_>>) -> Outcome;

/// An argument as Apache passed it (NUL-terminated, in the config pool).
#[derive(Clone, Copy)]
pub struct Arg<'a>(&'a CStr);

impl<'a> Arg<'a> {
    /// # Safety
    /// `ptr` must be NULL or a NUL-terminated string living for `'a`.
    unsafe fn from_raw(ptr: *const c_char) -> Option<Arg<'a>> {
        // SAFETY: guaranteed by the caller.
        (!ptr.is_null()).then(|| Arg(unsafe { CStr::from_ptr(ptr) }))
    }

    pub fn to_str(self) -> Result<&'a str, String> {
        self.0.to_str().map_err(|_| not_utf8())
    }
}

/// The error for an argument that is not valid UTF-8 (or missing).
fn not_utf8() -> String {
    "the value is not valid UTF-8".to_string()
}

/// One directive line being processed: the safe view of `cmd_parms`.
pub struct Directive<'a> {
    cmd: NonNull<ffi::cmd_parms>,
    /// Our slot of the section's per-dir config.
    mconfig: *mut c_void,
    _lives: PhantomData<&'a ffi::cmd_parms>,
}

impl<'a> Directive<'a> {
    fn parms(&self) -> &'a ffi::cmd_parms {
        // SAFETY: cmd is valid while the line is processed (for 'a).
        unsafe { self.cmd.as_ref() }
    }

    pub fn name(&self) -> &'a str {
        // SAFETY: cmd->cmd points into our static table.
        unsafe { cstr((*self.parms().cmd).name) }.unwrap_or("?")
    }

    /// "file:line", for messages that outlive the config parse.
    pub fn position(&self) -> String {
        let d = self.parms().directive;
        // NULL only for directives injected by -C/-c, which have no file.
        if d.is_null() {
            return "command line".to_string();
        }
        // SAFETY: cmd->directive is the live node being processed.
        unsafe { format!("{}:{}", cstr((*d).filename).unwrap_or("?"), (*d).line_num) }
    }

    /// The server (or virtual host) being configured. Not public: with it,
    /// `Server::config` could alias what `server_config` lends mutably.
    fn server(&self) -> Server<'a> {
        // SAFETY: cmd->server is the live server being configured.
        unsafe { Server::from_raw(self.parms().server) }.expect("a directive without a server")
    }

    /// Whether the line is inside a `<VirtualHost>`.
    pub fn in_virtual_host(&self) -> bool {
        self.server().is_virtual()
    }

    /// Where a line about this directive is logged: its server's log. Never
    /// panics: `run` calls it outside the guard.
    pub fn log_target(&self) -> Target<'a> {
        // SAFETY: cmd->server is NULL or the live server being configured.
        unsafe { Server::from_raw(self.parms().server) }.map_or(Target::Process, Target::Server)
    }

    fn pool(&self) -> Pool<'a> {
        // SAFETY: cmd->pool is the live configuration pool.
        unsafe { Pool::from_raw(self.parms().pool) }
    }

    /// This module's configuration of the server being configured.
    pub fn server_config<T: ServerConfigType>(&mut self) -> &mut T {
        // SAFETY: the slot holds a T (see Server::config_slot); Apache reads
        // the configuration on one thread, and `&mut self` keeps this the
        // only borrow of it while the line is processed.
        unsafe { &mut *self.server().config_slot::<T>() }
    }

    /// This module's configuration of the section the line is in.
    pub fn dir_config<T: DirConfigType>(&mut self) -> &mut T {
        // SAFETY: for our directives Apache passes our slot of the current
        // section's per-dir config, made by create_dir_config::<T>.
        unsafe { &mut *self.mconfig.cast::<T>() }
    }

    /// Resolves a path against ServerRoot, as Apache's own directives do.
    pub fn server_root_relative(&self, path: &str) -> Option<PathBuf> {
        let c_path = std::ffi::CString::new(path).ok()?;
        // SAFETY: the result is allocated in the config pool and copied out
        // before we return.
        unsafe {
            let full = ffi::ap_server_root_relative(self.pool().as_ptr(), c_path.as_ptr());
            cstr(full).map(PathBuf::from)
        }
    }
}

/// Runs a directive body with panics caught; an `Err` becomes Apache's
/// config error, prefixed with the directive's name.
///
/// # Safety
/// `cmd` and `mconfig` must be what Apache passed to a directive function.
unsafe fn run(
    cmd: *mut ffi::cmd_parms,
    mconfig: *mut c_void,
    body: impl FnOnce(&mut Directive<'_>) -> Outcome,
) -> *const c_char {
    let mut line = Directive {
        cmd: NonNull::new(cmd).expect("Apache passed NULL cmd_parms"),
        mconfig,
        _lives: PhantomData,
    };
    let result = guard(
        line.log_target(),
        "directive",
        Err("internal error (see the error log)".to_string()),
        || body(&mut line),
    );
    match result {
        Ok(()) => ptr::null(),
        // The pool outlives the error message Apache prints.
        Err(msg) => line.pool().pstr(&format!("{}: {msg}", line.name())),
    }
}

/// The Rust function an entry keeps in `cmd_data`.
///
/// # Safety
/// `cmd` must be live, and its entry made by the constructor for `F`.
unsafe fn body<F: Copy>(cmd: *mut ffi::cmd_parms) -> F {
    // SAFETY: cmd->info is the entry's cmd_data, which take1/flag/... set
    // from a function pointer of type F (the same size as a pointer).
    unsafe { std::mem::transmute_copy::<*mut c_void, F>(&(*cmd).info) }
}

pub(super) unsafe extern "C" fn take1_entry(
    cmd: *mut ffi::cmd_parms,
    mconfig: *mut c_void,
    value: *const c_char,
) -> *const c_char {
    // SAFETY: Apache calls this for entries made by take1/iterate/raw_args,
    // with their argument in the config pool.
    unsafe {
        let f = body::<Take1>(cmd);
        let value = Arg::from_raw(value);
        run(cmd, mconfig, |line| {
            f(line, value.ok_or_else(not_utf8)?.to_str()?)
        })
    }
}

pub(super) unsafe extern "C" fn flag_entry(
    cmd: *mut ffi::cmd_parms,
    mconfig: *mut c_void,
    on: c_int,
) -> *const c_char {
    // SAFETY: Apache calls this for entries made by flag.
    unsafe {
        let f = body::<Flag>(cmd);
        run(cmd, mconfig, |line| f(line, on != 0))
    }
}

pub(super) unsafe extern "C" fn take12_entry(
    cmd: *mut ffi::cmd_parms,
    mconfig: *mut c_void,
    first: *const c_char,
    second: *const c_char,
) -> *const c_char {
    // SAFETY: Apache calls this for entries made by take12, with its
    // arguments (the second may be NULL) in the config pool.
    unsafe {
        let f = body::<Take12>(cmd);
        let (first, second) = (Arg::from_raw(first), Arg::from_raw(second));
        run(cmd, mconfig, |line| {
            let first = first.ok_or_else(not_utf8)?;
            f(line, first, second)
        })
    }
}
