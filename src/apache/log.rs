//! Logging through Apache's error log under the module's own level
//! (`LogLevel rswebsocket:debug`).
use std::ffi::CString;
use std::os::raw::c_int;

use super::conn::Conn;
use super::ffi;
use super::request::Request;
use super::server::Server;
use super::this_module::this_module;

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
pub enum Target<'a> {
    /// No server at hand: the main server's log and level.
    Process,
    Server(Server<'a>),
    Request(Request<'a>),
    /// A connection outside any request (the event driver's hooks).
    Connection(Conn<'a>),
}

fn c_message(msg: &str) -> CString {
    CString::new(msg.replace('\0', "\\0")).unwrap_or_default()
}

/// Logs `msg` verbatim (passed as `%s`, so `%` in it is harmless).
/// `file` must be NUL-terminated; use the `ws_log!` macro.
pub fn write(target: Target<'_>, level: Level, file: &'static str, line: u32, msg: &str) {
    let text = c_message(msg);
    let index = this_module().index();
    let file = file.as_ptr().cast();
    let fmt = c"%s".as_ptr();
    let line = line as c_int;
    let level = level as c_int;
    // SAFETY: file and fmt are NUL-terminated static strings, text outlives
    // the call, and the records are live for the current hook;
    // ap_server_conf is the running configuration's main server (NULL
    // before one is loaded, which Apache accepts).
    unsafe {
        match target {
            // ap_server_conf, not NULL: with NULL httpd filters by its
            // compiled-in level (warn), so debug and trace lines vanished.
            Target::Process => ffi::ap_log_error_(
                file,
                line,
                index,
                level,
                0,
                ffi::ap_server_conf,
                fmt,
                text.as_ptr(),
            ),
            Target::Server(s) => {
                ffi::ap_log_error_(file, line, index, level, 0, s.as_ptr(), fmt, text.as_ptr())
            }
            Target::Request(r) => {
                ffi::ap_log_rerror_(file, line, index, level, 0, r.as_ptr(), fmt, text.as_ptr())
            }
            Target::Connection(c) => {
                ffi::ap_log_cerror_(file, line, index, level, 0, c.as_ptr(), fmt, text.as_ptr())
            }
        }
    }
}

/// `ws_log!(target, Level::Warn, "format {}", args)`.
#[macro_export]
macro_rules! ws_log {
    ($target:expr, $level:expr, $($arg:tt)+) => {
        $crate::apache::log::write($target, $level, concat!(file!(), "\0"), line!(), &format!($($arg)+))
    };
}

impl Request<'_> {
    /// Whether a line at `level` for this request would be logged (so costly
    /// trace lines are not even formatted otherwise).
    pub fn log_enabled(&self, level: Level) -> bool {
        let r = self.as_ptr();
        // SAFETY: r->log (or the server's log config) is live for the request;
        // module_levels has one entry per loaded module, -1 meaning "unset".
        unsafe {
            let conf = if (*r).log.is_null() {
                &(*(*r).server).log as *const ffi::ap_logconf
            } else {
                (*r).log
            };
            let index = this_module().index();
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
}
