//! The plugin's panic hook. A panic inside a callback is reported once, by
//! the module (1011 and one error line with this text), so the hook only
//! records where it happened; Rust's default hook would also print it, with
//! a backtrace, to Apache's error log. A panic on a thread of the plugin's
//! own goes to the log as one line.
use std::cell::{Cell, RefCell};
use std::panic::PanicHookInfo;
use std::sync::Once;

use crate::log::{log, Level};

thread_local! {
    /// Set while a callback runs on this thread.
    static IN_CALLBACK: Cell<bool> = const { Cell::new(false) };
    static LAST: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Installs the hook, once per process (at the plugin's loading).
pub(crate) fn install_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| std::panic::set_hook(Box::new(report)));
}

fn report(info: &PanicHookInfo<'_>) {
    let payload = info.payload();
    let message = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)");
    let text = match info.location() {
        Some(at) => format!("panicked at {}:{}: {message}", at.file(), at.line()),
        None => format!("panicked: {message}"),
    };
    if IN_CALLBACK.with(Cell::get) {
        LAST.with(|last| *last.borrow_mut() = Some(text));
    } else {
        log(Level::Error, &format!("plugin thread {text}"));
    }
}

/// Runs a callback's body as one: a panic's description is kept for
/// [`take_description`] instead of printed.
pub(crate) fn in_callback<T>(body: impl FnOnce() -> T) -> T {
    let outer = IN_CALLBACK.with(|c| c.replace(true));
    let result = body();
    IN_CALLBACK.with(|c| c.set(outer));
    result
}

/// What the hook recorded for the latest panic in a callback on this thread.
pub(crate) fn take_description() -> Option<String> {
    LAST.with(|last| last.borrow_mut().take())
}
