//! The opening handshake, read from the module: [`Request`] in any
//! callback, [`Handshake`] (with the decisions) in `do_extra_handshake`.
//!
//! Strings borrow the module's bytes for the callback (`'a`). A value that
//! is not UTF-8 (header values are passed on as received) reads as absent;
//! [`Request::header_bytes`] gives the raw bytes.
use std::marker::PhantomData;
use std::ops::Deref;

use crate::error::WsError;
use crate::ffi::{rsws_request, rsws_str};
use crate::host::{bytes, func, host, status};

/// A read-only view of the handshake, valid during one callback.
#[derive(Clone, Copy)]
pub struct Request<'a> {
    req: *const rsws_request,
    _callback: PhantomData<&'a rsws_request>,
}

impl<'a> Request<'a> {
    /// # Safety
    /// `req` must be the module's handle, valid for `'a`.
    pub(crate) unsafe fn from_raw(req: *const rsws_request) -> Request<'a> {
        Request {
            req,
            _callback: PhantomData,
        }
    }

    /// A host string as text (absent when not UTF-8).
    fn text(&self, s: rsws_str) -> Option<&'a str> {
        // SAFETY: the module's string, valid while the callback ('a) runs.
        let b = unsafe { bytes(s) }?;
        std::str::from_utf8(b).ok()
    }

    /// Path and query as requested, e.g. `/chat?room=1`.
    pub fn resource(&self) -> &'a str {
        // SAFETY: a live handle for 'a (see from_raw).
        let s = unsafe { func(host().resource)(self.req) };
        self.text(s).unwrap_or("")
    }

    pub fn origin(&self) -> Option<&'a str> {
        // SAFETY: a live handle for 'a.
        let s = unsafe { func(host().origin)(self.req) };
        self.text(s)
    }

    /// The first request header of this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&'a str> {
        std::str::from_utf8(self.header_bytes(name)?).ok()
    }

    /// A header's value as received, UTF-8 or not.
    pub fn header_bytes(&self, name: &str) -> Option<&'a [u8]> {
        // SAFETY: a live handle; name is a valid byte range for the call.
        let s = unsafe { func(host().header)(self.req, name.as_ptr(), name.len()) };
        // SAFETY: the module's string, valid for 'a.
        unsafe { bytes(s) }
    }

    /// A handler-file option (`key = value`, any key but handler and plugin).
    pub fn option(&self, key: &str) -> Option<&'a str> {
        // SAFETY: a live handle; key is a valid byte range for the call.
        let s = unsafe { func(host().option)(self.req, key.as_ptr(), key.len()) };
        self.text(s)
    }

    /// The client's address as Apache sees it.
    pub fn remote_addr(&self) -> &'a str {
        // SAFETY: a live handle for 'a.
        let s = unsafe { func(host().remote_addr)(self.req) };
        self.text(s).unwrap_or("")
    }

    /// True over TLS (wss://).
    pub fn secure(&self) -> bool {
        // SAFETY: a live handle for 'a.
        unsafe { func(host().secure)(self.req) == 1 }
    }

    /// 13, 8 or 7 (RFC 6455 and its last drafts), 76 (HyBi-00) or 75
    /// (Hixie-75).
    pub fn version(&self) -> u32 {
        // SAFETY: a live handle for 'a.
        let v = unsafe { func(host().version)(self.req) };
        u32::try_from(v).unwrap_or(0)
    }

    /// The subprotocols the client offered, in its order.
    pub fn protocols(&self) -> Vec<&'a str> {
        let h = host();
        // SAFETY: a live handle for 'a.
        let count = unsafe { func(h.protocol_count)(self.req) };
        (0..count)
            // SAFETY: a live handle, an index below the module's count.
            .filter_map(|i| self.text(unsafe { func(h.protocol_at)(self.req, i) }))
            .collect()
    }

    /// The subprotocol chosen so far (`None`: none).
    pub fn protocol(&self) -> Option<&'a str> {
        // SAFETY: a live handle for 'a.
        let s = unsafe { func(host().chosen_protocol)(self.req) };
        self.text(s)
    }
}

/// The handshake in `do_extra_handshake`: everything [`Request`] reads
/// (through `Deref`) and the handler's decisions.
pub struct Handshake<'a> {
    request: Request<'a>,
    req: *mut rsws_request,
}

impl<'a> Handshake<'a> {
    /// # Safety
    /// `req` must be the module's handle in `do_extra_handshake`, valid for `'a`.
    pub(crate) unsafe fn from_raw(req: *mut rsws_request) -> Handshake<'a> {
        Handshake {
            // SAFETY: the caller's guarantee, passed on.
            request: unsafe { Request::from_raw(req) },
            req,
        }
    }

    /// Chooses the subprotocol; it must be one the client offered
    /// ([`WsError::InvalidSend`] otherwise).
    pub fn choose_protocol(&mut self, name: &str) -> Result<(), WsError> {
        // SAFETY: a live handle; name is a valid byte range for the call.
        status(unsafe { func(host().choose_protocol)(self.req, name.as_ptr(), name.len()) })
    }

    /// An extra header for the 101 response.
    pub fn add_response_header(&mut self, name: &str, value: &str) -> Result<(), WsError> {
        let f = func(host().add_response_header);
        // SAFETY: a live handle; both are valid byte ranges for the call.
        status(unsafe {
            f(
                self.req,
                name.as_ptr(),
                name.len(),
                value.as_ptr(),
                value.len(),
            )
        })
    }

    /// Refuses every extension the client offers (e.g. compression).
    pub fn refuse_extensions(&mut self) -> Result<(), WsError> {
        // SAFETY: a live handle.
        status(unsafe { func(host().refuse_extensions)(self.req) })
    }
}

impl<'a> Deref for Handshake<'a> {
    type Target = Request<'a>;

    fn deref(&self) -> &Request<'a> {
        &self.request
    }
}
