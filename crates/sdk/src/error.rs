//! Errors a handler sees and returns: its own (with a close code) and those
//! the module's functions report, which `?` passes back to the module.
use std::ffi::c_int;
use std::fmt;

use crate::ffi::{RSWS_ERR_CLOSED, RSWS_ERR_CONNECTION, RSWS_ERR_FULL, RSWS_ERR_INVALID};
use crate::message::codes;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WsError {
    /// The connection is closed (or closing): nothing more can be sent
    /// (`RSWS_ERR_CLOSED`).
    Closed,
    /// The Sender's queue is full (`RSWS_ERR_FULL`).
    Full,
    /// A send or call the protocol or its place refuses: text that is not
    /// UTF-8, a ping over 125 bytes, a timer in the blocking style, ...
    /// (`RSWS_ERR_INVALID`; also any error code this SDK does not know).
    InvalidSend,
    /// The connection failed: lost, timed out, the server is stopping
    /// (`RSWS_ERR_CONNECTION`).
    Connection,
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

    /// Close with `code` (1000..=4999; another becomes 1011) and `reason`.
    pub fn handler(code: u16, reason: impl Into<String>) -> WsError {
        WsError::Handler {
            code,
            reason: reason.into(),
        }
    }

    /// The close code this error sends, or `None` when the module decides
    /// (the connection is gone or already closed).
    pub fn close_code(&self) -> Option<u16> {
        match self {
            WsError::Handler { code, .. } => Some(*code),
            WsError::InvalidSend | WsError::Full => Some(codes::INTERNAL),
            WsError::Closed | WsError::Connection => None,
        }
    }

    /// The reason sent in the close frame (empty for the module's errors).
    pub fn close_reason(&self) -> &str {
        match self {
            WsError::Handler { reason, .. } => reason,
            _ => "",
        }
    }

    /// An error code a host function returned.
    pub(crate) fn from_host(code: c_int) -> WsError {
        match code {
            RSWS_ERR_CLOSED => WsError::Closed,
            RSWS_ERR_FULL => WsError::Full,
            RSWS_ERR_CONNECTION => WsError::Connection,
            _ => WsError::InvalidSend,
        }
    }

    /// What a callback returns for this error: the close code, or the
    /// module's own error code passed back so it ends the connection as
    /// that error says.
    pub(crate) fn callback_result(&self) -> c_int {
        match self {
            WsError::Handler { code, .. } if (1000..=4999).contains(code) => c_int::from(*code),
            WsError::Handler { .. } => c_int::from(codes::INTERNAL),
            WsError::Closed => RSWS_ERR_CLOSED,
            WsError::Full => RSWS_ERR_FULL,
            WsError::InvalidSend => RSWS_ERR_INVALID,
            WsError::Connection => RSWS_ERR_CONNECTION,
        }
    }
}

impl fmt::Display for WsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WsError::Closed => f.write_str("the WebSocket is closed"),
            WsError::Full => f.write_str("the WebSocket connection's send queue is full"),
            WsError::InvalidSend => f.write_str("the module refused the call (invalid send)"),
            WsError::Connection => f.write_str("the connection failed"),
            WsError::Handler { code, reason } => write!(f, "handler closed with {code}: {reason}"),
        }
    }
}

impl std::error::Error for WsError {}

/// Why a [`crate::Sender`] could not queue (wscore's names).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueError {
    /// The connection has ended; nothing more will be sent.
    Closed,
    /// `RSWS_QUEUE_CAPACITY` messages are already waiting.
    Full,
    /// The module refused the message (e.g. a ping over 125 bytes).
    Invalid,
}

impl QueueError {
    pub(crate) fn from_host(code: c_int) -> QueueError {
        match code {
            RSWS_ERR_FULL => QueueError::Full,
            RSWS_ERR_INVALID => QueueError::Invalid,
            _ => QueueError::Closed,
        }
    }
}

impl fmt::Display for QueueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            QueueError::Closed => "the WebSocket connection is closed",
            QueueError::Full => "the WebSocket connection's send queue is full",
            QueueError::Invalid => "the module refused the message",
        })
    }
}

impl std::error::Error for QueueError {}

/// So `?` on a Sender's send works in a callback.
impl From<QueueError> for WsError {
    fn from(e: QueueError) -> WsError {
        match e {
            QueueError::Closed => WsError::Closed,
            QueueError::Full => WsError::Full,
            QueueError::Invalid => WsError::InvalidSend,
        }
    }
}
