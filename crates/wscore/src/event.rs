//! The event-style handler API: callbacks that never block, run when a
//! message arrives, a timer fires or the peer closes. A connection then
//! needs no thread of its own while it waits, which is what lets the event
//! driver park idle WebSockets; the threaded driver serves the same
//! handlers through [`Threaded`].
//!
//! Compared with a blocking [`crate::handler::Handler::transfer_data`]: the
//! per-connection state lives in the [`Connection`] the handler opens, and
//! pushes from other threads go through [`Conn::sender`] as before.
use crate::close::CloseFrame;
use crate::error::WsError;
use crate::handler::{HandshakeRequest, Rejection};
use crate::protocol::Message;

mod conn;
mod dispatch;
mod threaded;

pub use conn::Conn;
pub use dispatch::{Dispatch, Failure};
pub use threaded::{serve, Threaded};

/// An event-style WebSocket handler: one value per endpoint, serving every
/// connection of its resources concurrently from many threads.
pub trait EventHandler: Send + Sync {
    /// Inspect the handshake; choose a subprotocol, add headers, or reject.
    fn do_extra_handshake(&self, _request: &mut HandshakeRequest) -> Result<(), Rejection> {
        Ok(())
    }

    /// Checks one handler-file option at start-up (see
    /// [`crate::handler::Handler::check_option`]).
    fn check_option(&self, key: &str, _value: &str) -> Result<(), String> {
        Err(format!("unknown option '{key}'"))
    }

    /// A connection is open: returns its state, which gets its callbacks
    /// until the connection ends and is then dropped (the place for
    /// clean-up, however the connection ended).
    fn open(&self, ws: &mut Conn<'_>) -> Box<dyn Connection>;

    /// True when a message on one connection reaches other connections
    /// (see [`crate::handler::Handler::broadcasts`]).
    fn broadcasts(&self) -> bool {
        false
    }
}

/// One connection's state and callbacks. A callback must not block. An
/// `Err` closes the connection with the error's code (as a
/// `transfer_data` error does); a panic closes it with 1011. Either way
/// no callback runs after it.
pub trait Connection: Send {
    fn on_message(&mut self, ws: &mut Conn<'_>, message: Message) -> Result<(), WsError>;

    /// The timer set with [`Conn::set_timer`] is due.
    fn on_timer(&mut self, _ws: &mut Conn<'_>) -> Result<(), WsError> {
        Ok(())
    }

    /// Everything sent before [`Conn::when_written`] has been written out:
    /// the place to send the next part of a burst.
    fn on_written(&mut self, _ws: &mut Conn<'_>) -> Result<(), WsError> {
        Ok(())
    }

    /// The peer starts the closing handshake (`peer`: its close frame, `None`
    /// if it carried no code). Last messages may still be sent; the answer
    /// is [`Conn::close`]'s code and reason if called, else 1000.
    fn on_close(&mut self, _ws: &mut Conn<'_>, _peer: Option<&CloseFrame>) -> Result<(), WsError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests;
