//! Nothing unwinds into Apache's C frames: every entry point runs under
//! `guard`, and the panic hook routes Rust panic messages to the error log
//! instead of raw stderr.
use std::cell::{Cell, RefCell};

use super::log::{write, Level, Target};
use crate::ws_log;

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
                Target::Process,
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

/// A failure that unwinds without a panic on this side (a plugin's, which
/// caught its own panic): recorded as the hook records a panic, for the
/// guard that catches the unwinding.
pub fn record_failure(text: String) {
    LAST_PANIC.with(|p| *p.borrow_mut() = Some(text));
}

/// The description the hook recorded for the latest caught panic on this thread.
pub fn take_last_panic() -> String {
    LAST_PANIC
        .with(|p| p.borrow_mut().take())
        .unwrap_or_else(|| "panicked".to_string())
}

/// For `extern "C"` entry points: on panic, log it against `target` and
/// return `fallback`.
pub fn guard<T>(target: Target<'_>, what: &str, fallback: T, f: impl FnOnce() -> T) -> T {
    catch_panic(f).unwrap_or_else(|panic| {
        ws_log!(target, Level::Err, "mod_rswebsocket: {what} {panic}");
        fallback
    })
}
