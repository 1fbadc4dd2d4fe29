//! What a plugin's handlers implement: wscore's two styles, with the same
//! method names, so a compiled-in handler ports with few changes.
use crate::conn::Conn;
use crate::error::WsError;
use crate::message::{CloseFrame, Message};
use crate::request::Handshake;
use crate::websocket::WebSocket;

/// How a handler refuses a handshake.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rejection {
    /// Answer with this HTTP status (400..=599; another becomes 500); the
    /// reason goes to the error log.
    Status(u16, String),
    /// Drop the connection without sending any response.
    Abort,
}

/// An event-style handler: one value serves every connection of its
/// endpoint, concurrently from many threads. Callbacks must not block.
pub trait EventHandler: Send + Sync + 'static {
    /// Inspect the handshake; choose a subprotocol, add headers, or reject.
    fn do_extra_handshake(&self, _request: &mut Handshake<'_>) -> Result<(), Rejection> {
        Ok(())
    }

    /// Checks one handler-file option (`key = value`) at start-up; an `Err`
    /// is logged as a warning naming the file and line.
    fn check_option(&self, key: &str, _value: &str) -> Result<(), String> {
        Err(format!("unknown option '{key}'"))
    }

    /// A connection is open: returns its state, which gets its callbacks
    /// and is dropped when the connection ends, however it ends.
    fn open(&self, ws: &mut Conn<'_>) -> Box<dyn Connection>;
}

/// One connection's state. An `Err` closes the connection with the error's
/// code (or ends it as the module's error says); a panic closes it with
/// 1011. No callback runs after either.
pub trait Connection: Send {
    fn on_message(&mut self, ws: &mut Conn<'_>, message: Message) -> Result<(), WsError>;

    /// The timer set with [`Conn::set_timer`] is due.
    fn on_timer(&mut self, _ws: &mut Conn<'_>) -> Result<(), WsError> {
        Ok(())
    }

    /// Everything sent before [`Conn::when_written`] has been written out.
    fn on_written(&mut self, _ws: &mut Conn<'_>) -> Result<(), WsError> {
        Ok(())
    }

    /// The peer starts the closing handshake (`peer`: `None` if its close
    /// frame had no code). The answer is [`Conn::close`]'s if called, else 1000.
    fn on_close(&mut self, _ws: &mut Conn<'_>, _peer: Option<&CloseFrame>) -> Result<(), WsError> {
        Ok(())
    }
}

/// A blocking-style handler: `transfer_data` owns an Apache thread for the
/// connection's whole life.
pub trait Handler: Send + Sync + 'static {
    fn do_extra_handshake(&self, _request: &mut Handshake<'_>) -> Result<(), Rejection> {
        Ok(())
    }

    fn check_option(&self, key: &str, _value: &str) -> Result<(), String> {
        Err(format!("unknown option '{key}'"))
    }

    /// Returning `Ok` closes with 1000; an `Err` as for [`Connection`].
    fn transfer_data(&self, ws: &mut WebSocket<'_>) -> Result<(), WsError>;
}
