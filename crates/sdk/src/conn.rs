//! What an event-style callback may do with its connection. Sends are
//! queued by the module and written once the callback returns.
use std::ffi::c_int;
use std::marker::PhantomData;
use std::time::Duration;

use crate::error::WsError;
use crate::ffi::{rsws_conn, RSWS_BINARY, RSWS_TEXT};
use crate::host::{func, host, status};
use crate::message::Message;
use crate::request::Request;
use crate::sender::Sender;

/// The connection during one callback.
pub struct Conn<'a> {
    raw: *mut rsws_conn,
    _callback: PhantomData<&'a mut rsws_conn>,
}

impl<'a> Conn<'a> {
    /// # Safety
    /// `raw` must be the module's handle, valid for `'a`.
    pub(crate) unsafe fn from_raw(raw: *mut rsws_conn) -> Conn<'a> {
        Conn {
            raw,
            _callback: PhantomData,
        }
    }

    /// The handshake this connection was opened with.
    pub fn request(&self) -> Request<'_> {
        // SAFETY: a live handle; the request lives as long as the callback.
        unsafe { Request::from_raw(func(host().request)(self.raw)) }
    }

    /// A handle other threads (or other connections) use to send here.
    pub fn sender(&self) -> Sender {
        // SAFETY: a live handle; the new sender is owned by the result.
        unsafe { Sender::from_raw(func(host().sender)(self.raw)) }
    }

    pub fn send(&mut self, message: &Message) -> Result<(), WsError> {
        match message {
            Message::Text(text) => self.send_text(text),
            Message::Binary(data) => self.send_binary(data),
        }
    }

    pub fn send_text(&mut self, text: &str) -> Result<(), WsError> {
        send_data(self.raw, RSWS_TEXT, text.as_bytes())
    }

    pub fn send_binary(&mut self, data: &[u8]) -> Result<(), WsError> {
        send_data(self.raw, RSWS_BINARY, data)
    }

    pub fn send_ping(&mut self, payload: &[u8]) -> Result<(), WsError> {
        send_ping(self.raw, payload)
    }

    /// Starts the closing handshake (in `on_close`: chooses the answer). No
    /// message callback runs after it. The reason is at most 123 bytes.
    pub fn close(&mut self, code: u16, reason: &str) -> Result<(), WsError> {
        close(self.raw, code, reason)
    }

    /// Calls `on_timer` once, `after` from now (rounded up to a
    /// millisecond); replaces a timer already set.
    pub fn set_timer(&mut self, after: Duration) -> Result<(), WsError> {
        let millis = after.as_nanos().div_ceil(1_000_000);
        let millis = u64::try_from(millis).unwrap_or(u64::MAX);
        // SAFETY: a live handle.
        status(unsafe { func(host().set_timer)(self.raw, millis) })
    }

    pub fn cancel_timer(&mut self) -> Result<(), WsError> {
        // SAFETY: a live handle.
        status(unsafe { func(host().cancel_timer)(self.raw) })
    }

    /// Calls `on_written` once everything sent so far is written out, and
    /// holds `on_message` until then (to pace a burst by the client's reading).
    pub fn when_written(&mut self) -> Result<(), WsError> {
        // SAFETY: a live handle.
        status(unsafe { func(host().when_written)(self.raw) })
    }
}

// Shared with the blocking style's WebSocket, which has the same handle.
pub(crate) fn send_data(raw: *mut rsws_conn, kind: c_int, data: &[u8]) -> Result<(), WsError> {
    // SAFETY: a live handle (the caller's callback is running); a valid
    // byte range for the call.
    status(unsafe { func(host().send)(raw, kind, data.as_ptr(), data.len()) })
}

pub(crate) fn send_ping(raw: *mut rsws_conn, payload: &[u8]) -> Result<(), WsError> {
    // SAFETY: as in send_data.
    status(unsafe { func(host().send_ping)(raw, payload.as_ptr(), payload.len()) })
}

pub(crate) fn close(raw: *mut rsws_conn, code: u16, reason: &str) -> Result<(), WsError> {
    // SAFETY: as in send_data.
    status(unsafe { func(host().close)(raw, code, reason.as_ptr(), reason.len()) })
}
