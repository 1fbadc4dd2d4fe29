//! The handler API: what a compiled-in handler implements, the counterpart
//! of mod_pywebsocket's `web_socket_do_extra_handshake` and
//! `web_socket_transfer_data`.
use std::fmt;

use crate::close::CloseFrame;
use crate::error::WsError;
use crate::handshake::extensions::ExtensionOffer;
use crate::protocol::Message;
use crate::websocket::WebSocket;

/// Which protocol the client speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProtocolVersion {
    Hixie75,
    Hybi00,
    /// RFC 6455 (13) and its last drafts (8, 7): the `Sec-WebSocket-Version`.
    Rfc6455(u8),
}

impl fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtocolVersion::Hixie75 => f.write_str("hixie-75"),
            ProtocolVersion::Hybi00 => f.write_str("hybi-00"),
            ProtocolVersion::Rfc6455(v) => write!(f, "{v}"),
        }
    }
}

/// The opening handshake as a handler sees it in `do_extra_handshake`, with
/// the decisions it may make (subprotocol, response headers).
#[derive(Clone, Debug)]
pub struct HandshakeRequest {
    /// Path and query as requested, e.g. `/chat?room=1`.
    pub resource: String,
    pub origin: Option<String>,
    pub version: ProtocolVersion,
    /// `ws://host/resource` (Hixie-75 and HyBi-00 only).
    pub location: Option<String>,
    pub requested_protocols: Vec<String>,
    pub requested_extensions: Vec<ExtensionOffer>,
    /// Request headers in arrival order.
    pub headers: Vec<(String, String)>,
    /// The client's address as Apache sees it.
    pub remote_addr: String,
    /// True over TLS (wss://).
    pub secure: bool,
    /// The handler file's options (every `key = value` but `handler`).
    pub options: Vec<(String, String)>,
    /// The chosen subprotocol: must be one of `requested_protocols` (RFC
    /// 6455); starts as `None`. For the old drafts it starts as the requested
    /// protocol, accepted unless the handler clears it or rejects.
    pub protocol: Option<String>,
    /// Extra headers for the 101 response.
    pub response_headers: Vec<(String, String)>,
    /// Set to false to refuse every extension the client offers (e.g.
    /// compression), as the `echo_noext` handler does.
    pub allow_extensions: bool,
}

impl HandshakeRequest {
    /// An RFC 6455 (version 13) request for `resource` with nothing else
    /// set: where the opening handshake starts, and what tests build on.
    pub fn new(resource: impl Into<String>) -> HandshakeRequest {
        HandshakeRequest {
            resource: resource.into(),
            origin: None,
            version: ProtocolVersion::Rfc6455(13),
            location: None,
            requested_protocols: Vec::new(),
            requested_extensions: Vec::new(),
            headers: Vec::new(),
            remote_addr: String::new(),
            secure: false,
            options: Vec::new(),
            protocol: None,
            response_headers: Vec::new(),
            allow_extensions: true,
        }
    }

    /// The first request header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// A handler-file option by key.
    pub fn option(&self, key: &str) -> Option<&str> {
        self.options
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// How a handler refuses a handshake.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rejection {
    /// Answer with this HTTP status (e.g. 403); the reason goes to the error log.
    Status(u16, String),
    /// Drop the connection without sending any response.
    Abort,
}

/// A compiled-in WebSocket handler. One value serves every connection of
/// its resources, concurrently from many threads.
pub trait Handler: Send + Sync {
    /// Inspect the handshake; choose a subprotocol, add headers, or reject.
    fn do_extra_handshake(&self, _request: &mut HandshakeRequest) -> Result<(), Rejection> {
        Ok(())
    }

    /// Own the connection until it ends. Returning `Ok` closes with 1000; an
    /// error closes with [`WsError::close_code`].
    fn transfer_data(&self, ws: &mut WebSocket<'_>) -> Result<(), WsError>;

    /// The code and reason answering a client-initiated close.
    fn passive_closing_handshake(&self, _peer: Option<&CloseFrame>) -> (u16, String) {
        (crate::close::codes::NORMAL, String::new())
    }

    /// A message to send after the client's close arrived and before it is
    /// answered (the `close` handler reports the client's code this way).
    fn message_before_closing(
        &self,
        _request: &HandshakeRequest,
        _peer: Option<&CloseFrame>,
    ) -> Option<Message> {
        None
    }

    /// Checks one handler-file option (`key = value`) at start-up; an `Err`
    /// is logged as a warning naming the file and line. By default a
    /// handler takes no options.
    fn check_option(&self, key: &str, _value: &str) -> Result<(), String> {
        Err(format!("unknown option '{key}'"))
    }

    /// The event-style handler behind this one, if it is one (registered
    /// through [`crate::event::Threaded`]): an event driver may then serve
    /// its connections without a thread each.
    fn event_handler(&self) -> Option<&dyn crate::event::EventHandler> {
        None
    }

    /// True when a message on one connection reaches other connections
    /// (`chat`). Such relaying is process-local: the module warns at
    /// start-up when the MPM may run several Apache children, whose
    /// connections would not hear each other.
    fn broadcasts(&self) -> bool {
        false
    }
}
