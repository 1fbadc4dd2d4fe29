//! Event handlers on the threaded driver: the callbacks run on the
//! connection's thread, between the blocking waits of its [`WebSocket`].
use std::time::Instant;

use super::{Dispatch, EventHandler, Failure};
use crate::error::WsError;
use crate::handler::{Handler, HandshakeRequest, Rejection};
use crate::session::End;
use crate::websocket::WebSocket;

/// Registers an [`EventHandler`] where a [`Handler`] is expected; its
/// `transfer_data` is [`serve`].
pub struct Threaded<H>(pub H);

impl<H: EventHandler> Handler for Threaded<H> {
    fn do_extra_handshake(&self, request: &mut HandshakeRequest) -> Result<(), Rejection> {
        self.0.do_extra_handshake(request)
    }

    fn transfer_data(&self, ws: &mut WebSocket<'_>) -> Result<(), WsError> {
        serve(&self.0, ws)
    }

    fn check_option(&self, key: &str, value: &str) -> Result<(), String> {
        self.0.check_option(key, value)
    }

    fn event_handler(&self) -> Option<&dyn EventHandler> {
        Some(&self.0)
    }

    fn broadcasts(&self) -> bool {
        self.0.broadcasts()
    }
}

/// Runs `handler`'s callbacks on this thread until the connection ends:
/// as input arrives, when its timer is due, with [`crate::sender::Sender`]
/// pushes written while it waits. Ends as `transfer_data` would: `Ok` once
/// the closing handshake is done, a callback's error as that error, a
/// callback's panic resumed (so [`crate::run::run_handler`] reports it;
/// its 1011 close is already queued).
pub fn serve(handler: &dyn EventHandler, ws: &mut WebSocket<'_>) -> Result<(), WsError> {
    let mut dispatch = Dispatch::open(handler, ws.session_mut(), Instant::now());
    loop {
        dispatch.run(ws.session_mut(), Instant::now());
        ws.flush()?;
        match dispatch.take_failure() {
            Some(Failure::Error(error)) => return Err(error),
            Some(Failure::Panicked(text)) => std::panic::resume_unwind(Box::new(text)),
            None => {}
        }
        match ws.session_mut().end() {
            Some(End::Closed) => return Ok(()),
            Some(end) => return Err(end.error()),
            None => {}
        }
        // flush wrote everything: the next part of a burst is due at once.
        if !dispatch.awaits_written() {
            ws.wait_for_input(dispatch.timer())?;
        }
    }
}
