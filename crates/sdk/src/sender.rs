//! Sending to a connection from anywhere (other threads, other
//! connections): the module's `rsws_sender`, which queues what is sent and
//! has the connection write it in order.
use std::ffi::c_int;

use crate::error::QueueError;
use crate::ffi::{rsws_sender, RSWS_BINARY, RSWS_OK, RSWS_TEXT};
use crate::host::{func, host};
use crate::message::Message;

/// A cloneable handle to one connection, usable from any thread.
pub struct Sender {
    // NULL when the module gave no handle: every send reports Closed.
    raw: *mut rsws_sender,
}

// SAFETY: the header allows an rsws_sender on any thread, any time, until
// sender_free (which only Drop calls, once).
unsafe impl Send for Sender {}
// SAFETY: every function taking the handle does so by const pointer and is
// callable from any thread concurrently (the module queues under a lock).
unsafe impl Sync for Sender {}

impl Sender {
    /// # Safety
    /// `raw` is NULL or a handle the module gave, owned by this value.
    pub(crate) unsafe fn from_raw(raw: *mut rsws_sender) -> Sender {
        Sender { raw }
    }

    pub fn send_text(&self, text: impl AsRef<str>) -> Result<(), QueueError> {
        self.data(RSWS_TEXT, text.as_ref().as_bytes())
    }

    pub fn send_binary(&self, data: impl AsRef<[u8]>) -> Result<(), QueueError> {
        self.data(RSWS_BINARY, data.as_ref())
    }

    pub fn send(&self, message: Message) -> Result<(), QueueError> {
        match &message {
            Message::Text(text) => self.data(RSWS_TEXT, text.as_bytes()),
            Message::Binary(data) => self.data(RSWS_BINARY, data),
        }
    }

    pub fn send_ping(&self, payload: impl AsRef<[u8]>) -> Result<(), QueueError> {
        let payload = payload.as_ref();
        self.call(|h, s| {
            // SAFETY: a live handle; a valid byte range for the call.
            unsafe { func(h.sender_ping)(s, payload.as_ptr(), payload.len()) }
        })
    }

    /// Closes with this code and reason after what is queued; accepted even
    /// when the queue is full.
    pub fn close(&self, code: u16, reason: impl AsRef<str>) -> Result<(), QueueError> {
        let reason = reason.as_ref();
        self.call(|h, s| {
            // SAFETY: a live handle; a valid byte range for the call.
            unsafe { func(h.sender_close)(s, code, reason.as_ptr(), reason.len()) }
        })
    }

    /// False once the connection has ended.
    pub fn is_open(&self) -> bool {
        if self.raw.is_null() {
            return false;
        }
        // SAFETY: a live handle (freed only in Drop).
        unsafe { func(host().sender_is_open)(self.raw) == 1 }
    }

    fn data(&self, kind: c_int, data: &[u8]) -> Result<(), QueueError> {
        self.call(|h, s| {
            // SAFETY: a live handle; a valid byte range for the call.
            unsafe { func(h.sender_send)(s, kind, data.as_ptr(), data.len()) }
        })
    }

    fn call(
        &self,
        f: impl FnOnce(&crate::ffi::rsws_host, *const rsws_sender) -> c_int,
    ) -> Result<(), QueueError> {
        if self.raw.is_null() {
            return Err(QueueError::Closed);
        }
        match f(host(), self.raw) {
            RSWS_OK => Ok(()),
            code => Err(QueueError::from_host(code)),
        }
    }
}

impl Clone for Sender {
    fn clone(&self) -> Sender {
        if self.raw.is_null() {
            return Sender { raw: self.raw };
        }
        // SAFETY: a live handle; the clone is a new handle owned by the result.
        Sender {
            raw: unsafe { func(host().sender_clone)(self.raw) },
        }
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        if !self.raw.is_null() {
            // SAFETY: this value owns the handle and frees it once.
            unsafe { func(host().sender_free)(self.raw) }
        }
    }
}

impl std::fmt::Debug for Sender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sender").field("raw", &self.raw).finish()
    }
}
