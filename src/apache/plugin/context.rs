//! What the ABI's opaque handles point at while a callback runs, and how
//! a callback's result becomes a `wscore` result.
use std::cell::RefCell;
use std::os::raw::c_int;
use std::path::Path;

use wscore::error::WsError;
use wscore::event::Conn;
use wscore::handler::{HandshakeRequest, Rejection};
use wscore::protocol::Message;
use wscore::sender::Sender;
use wscore::websocket::WebSocket;

use super::super::ffi;
use super::super::panic::record_failure;

pub(super) const CONTINUE: c_int = ffi::RSWS_CONTINUE as c_int;
pub(super) const OK: c_int = ffi::RSWS_OK as c_int;
pub(super) const FAILED: c_int = ffi::RSWS_FAILED;
pub(super) const ABORT: c_int = ffi::RSWS_ABORT;
pub(super) const ERR_CLOSED: c_int = ffi::RSWS_ERR_CLOSED;
pub(super) const ERR_FULL: c_int = ffi::RSWS_ERR_FULL;
pub(super) const ERR_INVALID: c_int = ffi::RSWS_ERR_INVALID;
pub(super) const ERR_CONNECTION: c_int = ffi::RSWS_ERR_CONNECTION;

thread_local! {
    /// What the running callback gave `rsws_host.explain`.
    static EXPLAINED: RefCell<String> = const { RefCell::new(String::new()) };
}

pub(super) fn explain(text: String) {
    EXPLAINED.with(|e| *e.borrow_mut() = text);
}

fn take_explained() -> String {
    EXPLAINED.with(|e| std::mem::take(&mut *e.borrow_mut()))
}

/// Before a callback: no reason left from an earlier one.
pub(super) fn forget_explained() {
    EXPLAINED.with(|e| e.borrow_mut().clear());
}

/// What an `rsws_request` points at.
pub(super) enum RequestCtx {
    /// In do_extra_handshake: the handler may choose a subprotocol, add
    /// headers, refuse extensions.
    Handshake(*mut HandshakeRequest),
    /// In a connection's callbacks: read only.
    Open(*const HandshakeRequest),
}

/// Which side of a connection the callback runs on.
pub(super) enum Side<'c, 'a> {
    Event(&'c mut Conn<'a>),
    Blocking(&'c mut WebSocket<'a>),
}

/// What both sides offer, so the host functions need not tell them apart.
impl Side<'_, '_> {
    pub(super) fn request(&self) -> *const HandshakeRequest {
        match self {
            Side::Event(conn) => conn.request(),
            Side::Blocking(ws) => ws.request(),
        }
    }

    pub(super) fn sender(&self) -> Sender {
        match self {
            Side::Event(conn) => conn.sender(),
            Side::Blocking(ws) => ws.sender(),
        }
    }

    pub(super) fn send_text(&mut self, text: &str) -> Result<(), WsError> {
        match self {
            Side::Event(conn) => conn.send_text(text),
            Side::Blocking(ws) => ws.send_text(text),
        }
    }

    pub(super) fn send_binary(&mut self, data: &[u8]) -> Result<(), WsError> {
        match self {
            Side::Event(conn) => conn.send_binary(data),
            Side::Blocking(ws) => ws.send_binary(data),
        }
    }

    pub(super) fn send_ping(&mut self, payload: &[u8]) -> Result<(), WsError> {
        match self {
            Side::Event(conn) => conn.send_ping(payload),
            Side::Blocking(ws) => ws.send_ping(payload),
        }
    }

    pub(super) fn close(&mut self, code: u16, reason: &str) -> Result<(), WsError> {
        match self {
            Side::Event(conn) => conn.close(code, reason),
            Side::Blocking(ws) => ws.close(code, reason),
        }
    }
}

/// What an `rsws_conn` points at.
pub(super) struct ConnCtx<'c, 'a> {
    pub(super) side: Side<'c, 'a>,
    /// Filled when the plugin asks for the request.
    pub(super) request: Option<RequestCtx>,
    /// The error a host function reported, for a callback that passes its
    /// code on.
    pub(super) error: Option<WsError>,
    /// The message `receive` returned last: its bytes live until the next.
    pub(super) received: Option<Message>,
}

impl<'c, 'a> ConnCtx<'c, 'a> {
    pub(super) fn new(side: Side<'c, 'a>) -> Self {
        ConnCtx {
            side,
            request: None,
            error: None,
            received: None,
        }
    }

    /// Keeps `error` for the callback's return and gives the plugin its code.
    pub(super) fn report(&mut self, error: WsError) -> c_int {
        let code = match &error {
            WsError::Closed => ERR_CLOSED,
            WsError::InvalidSend(_) => ERR_INVALID,
            _ => ERR_CONNECTION,
        };
        self.error = Some(error);
        code
    }
}

/// A connection callback's result: go on, close with a code, a host error
/// passed on, or a failure (unwound as a panic, so each driver closes with
/// 1011 and logs one line as it does for a compiled-in handler's panic).
pub(super) fn connection_result(
    code: c_int,
    error: Option<WsError>,
    library: &Path,
) -> Result<(), WsError> {
    match code {
        CONTINUE => Ok(()),
        1000..=4999 => Err(WsError::handler(code as u16, take_explained())),
        FAILED => fail(library, take_explained()),
        ERR_CLOSED | ERR_FULL | ERR_INVALID | ERR_CONNECTION => Err(error.unwrap_or(match code {
            ERR_CLOSED => WsError::Closed,
            ERR_CONNECTION => WsError::ConnectionLost,
            _ => WsError::internal("plugin send refused"),
        })),
        other => fail(
            library,
            format!("returned {other}, which ABI 1 does not define"),
        ),
    }
}

/// do_extra_handshake's result.
pub(super) fn handshake_result(code: c_int, library: &Path) -> Result<(), Rejection> {
    match code {
        CONTINUE => Ok(()),
        400..=599 => Err(Rejection::Status(code as u16, take_explained())),
        ABORT => Err(Rejection::Abort),
        FAILED => fail(library, take_explained()),
        other => fail(library, format!("returned {other} from do_extra_handshake")),
    }
}

/// check_option's result.
pub(super) fn option_result(code: c_int) -> Result<(), String> {
    match (code, take_explained()) {
        (OK, _) => Ok(()),
        (_, reason) if reason.is_empty() => Err("refused".into()),
        (_, reason) => Err(reason),
    }
}

fn fail(library: &Path, explained: String) -> ! {
    let text = if explained.is_empty() {
        format!("failed in plugin {}", library.display())
    } else {
        format!("failed in plugin {}: {explained}", library.display())
    };
    record_failure(text.clone());
    std::panic::resume_unwind(Box::new(text))
}
