//! The blocking style's connection: `transfer_data` receives and sends in
//! turn on its own thread until the peer closes.
use std::marker::PhantomData;

use crate::conn::{close, send_data, send_ping};
use crate::error::WsError;
use crate::ffi::{rsws_conn, rsws_str, RSWS_BINARY, RSWS_TEXT};
use crate::host::{bytes, func, host};
use crate::message::Message;
use crate::request::Request;
use crate::sender::Sender;

/// The connection during `transfer_data`. Sends are written at once.
pub struct WebSocket<'a> {
    raw: *mut rsws_conn,
    _callback: PhantomData<&'a mut rsws_conn>,
}

impl<'a> WebSocket<'a> {
    /// # Safety
    /// `raw` must be the module's handle, valid for `'a`.
    pub(crate) unsafe fn from_raw(raw: *mut rsws_conn) -> WebSocket<'a> {
        WebSocket {
            raw,
            _callback: PhantomData,
        }
    }

    /// The handshake this connection was opened with.
    pub fn request(&self) -> Request<'_> {
        // SAFETY: a live handle; the request lives as long as the callback.
        unsafe { Request::from_raw(func(host().request)(self.raw)) }
    }

    /// A handle other threads use to send here (queued, written in order).
    pub fn sender(&self) -> Sender {
        // SAFETY: a live handle; the new sender is owned by the result.
        unsafe { Sender::from_raw(func(host().sender)(self.raw)) }
    }

    /// Waits for the next message; `Ok(None)` once the peer closed (the
    /// module has answered its close: return `Ok(())`).
    pub fn receive_message(&mut self) -> Result<Option<Message>, WsError> {
        let mut data = rsws_str {
            ptr: std::ptr::null(),
            len: 0,
        };
        // SAFETY: a live handle; data is a valid place for the result.
        let kind = unsafe { func(host().receive)(self.raw, &mut data) };
        // SAFETY: valid until the next receive; copied out right here.
        let payload = unsafe { bytes(data) }.unwrap_or(&[]);
        match kind {
            0 => Ok(None),
            RSWS_TEXT => match std::str::from_utf8(payload) {
                Ok(text) => Ok(Some(Message::Text(text.to_owned()))),
                Err(_) => Err(WsError::invalid_data("text message is not UTF-8")),
            },
            RSWS_BINARY => Ok(Some(Message::Binary(payload.to_vec()))),
            code if code < 0 => Err(WsError::from_host(code)),
            _ => Err(WsError::unsupported("unknown message kind")),
        }
    }

    pub fn send_text(&mut self, text: &str) -> Result<(), WsError> {
        send_data(self.raw, RSWS_TEXT, text.as_bytes())
    }

    pub fn send_binary(&mut self, data: &[u8]) -> Result<(), WsError> {
        send_data(self.raw, RSWS_BINARY, data)
    }

    pub fn send_message(&mut self, message: &Message) -> Result<(), WsError> {
        match message {
            Message::Text(text) => self.send_text(text),
            Message::Binary(data) => self.send_binary(data),
        }
    }

    pub fn send_ping(&mut self, payload: &[u8]) -> Result<(), WsError> {
        send_ping(self.raw, payload)
    }

    /// Starts the closing handshake; the reason is at most 123 bytes.
    pub fn close(&mut self, code: u16, reason: &str) -> Result<(), WsError> {
        close(self.raw, code, reason)
    }
}
