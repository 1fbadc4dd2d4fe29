//! Lines in Apache's error log, filtered by the server's LogLevel.
use std::ffi::c_int;

use crate::ffi::{RSWS_LOG_DEBUG, RSWS_LOG_ERROR, RSWS_LOG_INFO, RSWS_LOG_NOTICE, RSWS_LOG_WARN};
use crate::host::{func, get};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Error,
    Warn,
    Notice,
    Info,
    Debug,
}

impl Level {
    fn raw(self) -> c_int {
        match self {
            Level::Error => RSWS_LOG_ERROR,
            Level::Warn => RSWS_LOG_WARN,
            Level::Notice => RSWS_LOG_NOTICE,
            Level::Info => RSWS_LOG_INFO,
            Level::Debug => RSWS_LOG_DEBUG,
        }
    }
}

/// One line in the error log. Before the module loaded the plugin (e.g. in
/// the plugin's own unit tests) it goes to stderr instead.
pub fn log(level: Level, message: &str) {
    match get() {
        // SAFETY: a valid byte range for the duration of the call.
        Some(h) => unsafe { func(h.log)(level.raw(), message.as_ptr(), message.len()) },
        None => eprintln!("[{level:?}] {message}"),
    }
}

/// `error!("...", args)`: [`log`] at [`Level::Error`] with `format!` arguments.
#[macro_export]
macro_rules! error {
    ($($arg:tt)+) => { $crate::log($crate::Level::Error, &::std::format!($($arg)+)) };
}

#[macro_export]
macro_rules! warn {
    ($($arg:tt)+) => { $crate::log($crate::Level::Warn, &::std::format!($($arg)+)) };
}

#[macro_export]
macro_rules! notice {
    ($($arg:tt)+) => { $crate::log($crate::Level::Notice, &::std::format!($($arg)+)) };
}

#[macro_export]
macro_rules! info {
    ($($arg:tt)+) => { $crate::log($crate::Level::Info, &::std::format!($($arg)+)) };
}

#[macro_export]
macro_rules! debug {
    ($($arg:tt)+) => { $crate::log($crate::Level::Debug, &::std::format!($($arg)+)) };
}
