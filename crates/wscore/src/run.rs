//! Running a handler on an established connection: the one place that turns
//! a handler's return, error or panic into the right close.
use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::close::codes;
use crate::error::WsError;
use crate::handler::Handler;
use crate::websocket::WebSocket;

/// How a connection's handler ended.
#[derive(Debug)]
pub enum Ending {
    /// `transfer_data` returned `Ok`.
    Completed,
    /// It returned an error (already answered with its close code).
    Failed(WsError),
    /// It panicked: closed with 1011. The payload's text, if it had one.
    Panicked(String),
}

pub fn run_handler(handler: &dyn Handler, ws: &mut WebSocket<'_>) -> Ending {
    let result = catch_unwind(AssertUnwindSafe(|| handler.transfer_data(ws)));
    match result {
        Ok(Ok(())) => {
            ws.finish(codes::NORMAL, "");
            Ending::Completed
        }
        Ok(Err(error)) => {
            // Stopping or timed out: the close went out already, and waiting
            // for an answer would hold up the server's shutdown.
            let answered = matches!(error, WsError::ServerStopping | WsError::TimedOut);
            if let Some(code) = error.close_code().filter(|_| !answered) {
                ws.finish(code, error.close_reason());
            }
            Ending::Failed(error)
        }
        Err(payload) => {
            ws.finish(codes::INTERNAL, PANIC_REASON);
            Ending::Panicked(panic_text(payload.as_ref()))
        }
    }
}

/// The reason of the 1011 close a panicking handler's connection gets.
pub(crate) const PANIC_REASON: &str = "handler failure";

/// A panic payload's text, if it had one.
pub(crate) fn panic_text(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}
