//! `conn_rec`: the client connection a request arrived on.
use std::marker::PhantomData;
use std::ptr::NonNull;

use super::ffi;
use super::server::Server;

/// A live connection; `'c` is at most the life of `c->pool`.
#[derive(Clone, Copy)]
pub struct Conn<'c> {
    raw: NonNull<ffi::conn_rec>,
    _lives: PhantomData<&'c ffi::conn_rec>,
}

impl<'c> Conn<'c> {
    /// # Safety
    /// `raw` must be a live connection that outlives `'c`.
    pub(super) unsafe fn from_raw(raw: *mut ffi::conn_rec) -> Conn<'c> {
        Conn {
            raw: NonNull::new(raw).expect("Apache passed a NULL connection"),
            _lives: PhantomData,
        }
    }

    pub(super) fn as_ptr(&self) -> *mut ffi::conn_rec {
        self.raw.as_ptr()
    }

    /// True for a connection that mod_ssl (or another TLS module) serves.
    pub fn is_tls(&self) -> bool {
        // SAFETY: ap_ssl_conn_is_ssl only inspects the live connection's hooks.
        unsafe { ffi::ap_ssl_conn_is_ssl(self.as_ptr()) != 0 }
    }

    /// True for an HTTP/2 secondary connection (it has a master).
    pub fn is_secondary(&self) -> bool {
        // SAFETY: a plain field read on the live connection.
        unsafe { !(*self.as_ptr()).master.is_null() }
    }

    /// The server the connection's address and port belong to (its default
    /// virtual host), before any request picks a name-based one.
    pub fn base_server(&self) -> Option<Server<'c>> {
        // SAFETY: c->base_server belongs to the running configuration,
        // which outlives the connection.
        unsafe { Server::from_raw((*self.as_ptr()).base_server) }
    }
}
