//! Logging through Apache's error log under the module's own level
//! (`LogLevel rswebsocket:debug`), and the panic hook that routes Rust panic
//! messages there instead of raw stderr.
use std::cell::{Cell, RefCell};
use std::ffi::CString;
use std::os::raw::c_int;
use std::ptr;

use crate::ffi;
use crate::module::rswebsocket_module;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Err = ffi::APLOG_ERR as isize,
    Warn = ffi::APLOG_WARNING as isize,
    Notice = ffi::APLOG_NOTICE as isize,
    Info = ffi::APLOG_INFO as isize,
    Debug = ffi::APLOG_DEBUG as isize,
    Trace1 = ffi::APLOG_TRACE1 as isize,
}

/// Where a log line is attached: it decides which LogLevel applies and
/// which client address Apache prefixes.
#[derive(Clone, Copy)]
pub enum Target {
    Server(*const ffi::server_rec),
    Request(*const ffi::request_rec),
}

fn c_message(msg: &str) -> CString {
    CString::new(msg.replace('\0', "\\0")).unwrap_or_default()
}

/// Logs `msg` verbatim (passed as `%s`, so `%` in it is harmless).
/// `file` must be NUL-terminated; use the `ws_log!` macro.
pub fn write(target: Target, level: Level, file: &'static str, line: u32, msg: &str) {
    let text = c_message(msg);
    let index = rswebsocket_module.index();
    let file = file.as_ptr().cast();
    let fmt = c"%s".as_ptr();
    // SAFETY: file and fmt are NUL-terminated static strings, text outlives
    // the call, and the record pointers come from Apache for the current
    // hook (or are NULL for the server case, which Apache accepts).
    unsafe {
        match target {
            Target::Server(s) => ffi::ap_log_error_(
                file,
                line as c_int,
                index,
                level as c_int,
                0,
                s,
                fmt,
                text.as_ptr(),
            ),
            Target::Request(r) => ffi::ap_log_rerror_(
                file,
                line as c_int,
                index,
                level as c_int,
                0,
                r,
                fmt,
                text.as_ptr(),
            ),
        }
    }
}

/// `ws_log!(target, Level::Warn, "format {}", args)`.
#[macro_export]
macro_rules! ws_log {
    ($target:expr, $level:expr, $($arg:tt)+) => {
        $crate::log::write($target, $level, concat!(file!(), "\0"), line!(), &format!($($arg)+))
    };
}

/// Whether a line at `level` for this request would be logged (so costly
/// trace lines are not even formatted otherwise).
pub fn request_enabled(r: *const ffi::request_rec, level: Level) -> bool {
    // SAFETY: r->log (or the server's log config) is live for the request;
    // module_levels has one entry per loaded module, -1 meaning "unset".
    unsafe {
        let conf = if (*r).log.is_null() {
            &(*(*r).server).log as *const ffi::ap_logconf
        } else {
            (*r).log
        };
        let index = rswebsocket_module.index();
        let mut configured = (*conf).level;
        if !(*conf).module_levels.is_null() && index >= 0 {
            let own = *(*conf).module_levels.offset(index as isize);
            if own >= 0 {
                configured = own as c_int;
            }
        }
        level as c_int <= configured
    }
}

thread_local! {
    /// Set while a `guard` runs: the guard itself reports the panic, with context.
    static GUARDED: Cell<bool> = const { Cell::new(false) };
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Installs the process-wide panic hook. Called at every module load, since
/// Apache unloads and reloads the DSO between configuration passes.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let payload = info.payload();
        let msg = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(non-string panic payload)".to_string());
        let text = match info.location() {
            Some(loc) => format!("panicked at {}:{}: {}", loc.file(), loc.line(), msg),
            None => format!("panicked: {msg}"),
        };
        if GUARDED.with(Cell::get) {
            LAST_PANIC.with(|p| *p.borrow_mut() = Some(text));
        } else {
            // A thread a handler spawned: nobody else will report it.
            write(
                Target::Server(ptr::null()),
                Level::Err,
                concat!(file!(), "\0"),
                line!(),
                &format!("mod_rswebsocket: thread {text}"),
            );
        }
    }));
}

/// Runs `f` with panics caught, so nothing unwinds into Apache's C frames.
/// Returns the panic description ("panicked at file:line: message") on panic.
pub fn catch_panic<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    let was_guarded = GUARDED.with(|g| g.replace(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    GUARDED.with(|g| g.set(was_guarded));
    result.map_err(|_| take_last_panic())
}

/// The description the hook recorded for the latest caught panic on this thread.
pub fn take_last_panic() -> String {
    LAST_PANIC
        .with(|p| p.borrow_mut().take())
        .unwrap_or_else(|| "panicked".to_string())
}

/// For `extern "C"` entry points: on panic, log it against `target` and
/// return `fallback`.
pub fn guard<T>(target: Target, what: &str, fallback: T, f: impl FnOnce() -> T) -> T {
    catch_panic(f).unwrap_or_else(|panic| {
        ws_log!(target, Level::Err, "mod_rswebsocket: {what} {panic}");
        fallback
    })
}
