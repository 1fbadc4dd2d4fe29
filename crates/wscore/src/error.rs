//! Errors a handler sees (and may return), each with the close code it maps to.
use std::fmt;
use std::io;

use crate::close::{codes, ProtocolError};
use crate::protocol::SendError;

#[derive(Debug)]
pub enum WsError {
    /// The peer broke the protocol; a close with this code was sent.
    Protocol(ProtocolError),
    /// The connection ended without a closing handshake.
    ConnectionLost,
    /// The WebSocket is closed: nothing more can be sent or received.
    Closed,
    /// The server is stopping; the connection is being closed with 1001.
    ServerStopping,
    /// No input within the time allowed.
    TimedOut,
    /// Reading or writing failed.
    Io(io::Error),
    /// A send the protocol refuses (control payload over 125 bytes, a
    /// message started while a fragmented one is open, a binary message on
    /// a draft that has none).
    InvalidSend(SendError),
    /// The handler's own failure: close with this code and reason.
    Handler { code: u16, reason: String },
}

impl WsError {
    /// 1003: the handler cannot accept this kind of data.
    pub fn unsupported(reason: impl Into<String>) -> WsError {
        WsError::handler(codes::UNSUPPORTED, reason)
    }

    /// 1007: the data is not what the handler expects (e.g. bad JSON).
    pub fn invalid_data(reason: impl Into<String>) -> WsError {
        WsError::handler(codes::INVALID_DATA, reason)
    }

    /// 1008: the message violates the handler's policy.
    pub fn policy(reason: impl Into<String>) -> WsError {
        WsError::handler(codes::POLICY, reason)
    }

    /// 1009: the message is too big for the handler.
    pub fn too_big(reason: impl Into<String>) -> WsError {
        WsError::handler(codes::TOO_BIG, reason)
    }

    /// 1011: the handler failed.
    pub fn internal(reason: impl Into<String>) -> WsError {
        WsError::handler(codes::INTERNAL, reason)
    }

    pub fn handler(code: u16, reason: impl Into<String>) -> WsError {
        WsError::Handler {
            code,
            reason: reason.into(),
        }
    }

    /// The close code this error sends, or `None` when no close can or
    /// need be sent (the connection is gone or already closed).
    pub fn close_code(&self) -> Option<u16> {
        match self {
            WsError::Protocol(e) => Some(e.code),
            WsError::Handler { code, .. } => Some(*code),
            WsError::ServerStopping => Some(codes::GOING_AWAY),
            WsError::TimedOut => Some(codes::GOING_AWAY),
            WsError::InvalidSend(_) => Some(codes::INTERNAL),
            WsError::ConnectionLost | WsError::Closed | WsError::Io(_) => None,
        }
    }

    /// The reason sent in the close frame.
    pub fn close_reason(&self) -> &str {
        match self {
            WsError::Protocol(e) => e.reason,
            WsError::Handler { reason, .. } => reason,
            WsError::ServerStopping => "server stopping",
            WsError::TimedOut => "idle timeout",
            _ => "",
        }
    }
}

impl fmt::Display for WsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WsError::Protocol(e) => write!(f, "protocol error: {e}"),
            WsError::ConnectionLost => f.write_str("connection lost without a closing handshake"),
            WsError::Closed => f.write_str("the WebSocket is closed"),
            WsError::ServerStopping => f.write_str("the server is stopping"),
            WsError::TimedOut => f.write_str("timed out waiting for the peer"),
            WsError::Io(e) => write!(f, "I/O error: {e}"),
            WsError::InvalidSend(e) => write!(f, "invalid send: {e}"),
            WsError::Handler { code, reason } => write!(f, "handler closed with {code}: {reason}"),
        }
    }
}

impl std::error::Error for WsError {}

impl From<io::Error> for WsError {
    fn from(e: io::Error) -> WsError {
        WsError::Io(e)
    }
}

impl From<ProtocolError> for WsError {
    fn from(e: ProtocolError) -> WsError {
        WsError::Protocol(e)
    }
}

impl From<SendError> for WsError {
    fn from(e: SendError) -> WsError {
        match e {
            SendError::Closed => WsError::Closed,
            other => WsError::InvalidSend(other),
        }
    }
}
