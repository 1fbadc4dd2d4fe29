//! `request_rec`, and reading it into wscore's plain request types.
use std::ffi::CStr;
use std::marker::PhantomData;
use std::ptr::NonNull;

use wscore::handshake::RequestHead;

use super::conn::Conn;
use super::ffi;
use super::module_config::{module_slot, DirConfigType, RequestConfigType};
use super::pool::{cstr, owned, Pool};
use super::server::Server;
use super::table::Table;
use super::this_module::this_module;

/// The request of the running hook. `'r` is the life of `r->pool`: nothing
/// borrowed or allocated from it may outlive the request.
#[derive(Clone, Copy)]
pub struct Request<'r> {
    raw: NonNull<ffi::request_rec>,
    _lives: PhantomData<&'r ffi::request_rec>,
}

impl<'r> Request<'r> {
    /// # Safety
    /// `raw` must be NULL or the live request of the current hook, used for
    /// no longer than `'r` and only on this thread.
    pub(super) unsafe fn from_raw(raw: *mut ffi::request_rec) -> Option<Request<'r>> {
        NonNull::new(raw).map(|raw| Request {
            raw,
            _lives: PhantomData,
        })
    }

    pub(super) fn as_ptr(&self) -> *mut ffi::request_rec {
        self.raw.as_ptr()
    }

    /// Field reads; the reference ends with the expression that uses it.
    fn rec(&self) -> &ffi::request_rec {
        // SAFETY: live for 'r (see from_raw); this module writes fields only
        // through as_ptr, never while such a reference is held.
        unsafe { self.raw.as_ref() }
    }

    pub fn connection(&self) -> Conn<'r> {
        // SAFETY: a request's connection outlives it.
        unsafe { Conn::from_raw(self.rec().connection) }
    }

    pub fn server(&self) -> Server<'r> {
        // SAFETY: the request's server belongs to the running configuration.
        unsafe { Server::from_raw(self.rec().server) }.expect("a request without a server")
    }

    pub fn pool(&self) -> Pool<'r> {
        // SAFETY: r->pool lives exactly as long as the request.
        unsafe { Pool::from_raw(self.rec().pool) }
    }

    pub fn headers_in(&self) -> Table<'r> {
        // SAFETY: headers_in lives in r->pool.
        unsafe { Table::from_raw(self.rec().headers_in) }
    }

    /// `r->notes`, which `LogFormat` reads with `%{NAME}n`.
    pub fn notes(&self) -> Table<'r> {
        // SAFETY: notes lives in r->pool.
        unsafe { Table::from_raw(self.rec().notes) }
    }

    /// Headers that are sent with an error response too.
    pub fn err_headers_out(&self) -> Table<'r> {
        // SAFETY: err_headers_out lives in r->pool.
        unsafe { Table::from_raw(self.rec().err_headers_out) }
    }

    /// The parts of the request the WebSocket handshake looks at.
    pub fn head(&self) -> RequestHead {
        let rec = self.rec();
        let proto = rec.proto_num;
        RequestHead {
            // SAFETY: method and unparsed_uri are NULL or strings in r->pool.
            method: unsafe { owned(rec.method) },
            // SAFETY: as above.
            uri: unsafe { owned(rec.unparsed_uri) },
            http_version: ((proto / 1000) as u8, (proto % 1000) as u8),
            headers: self.headers_in().entries(),
            secure: self.connection().is_tls(),
        }
    }

    /// One request header (the first, if repeated).
    pub fn header(&self, name: &CStr) -> Option<&'r str> {
        self.headers_in().get(name)
    }

    /// The decoded, dot-segment-free path Apache mapped (`r->uri`).
    pub fn decoded_path(&self) -> Option<&'r str> {
        // SAFETY: r->uri lives in r->pool for the whole request.
        unsafe { cstr(self.rec().uri) }
    }

    /// The client's address as logged by Apache (honours mod_remoteip).
    pub fn client_address(&self) -> String {
        // SAFETY: useragent_ip is NULL or lives in the connection or request pool.
        unsafe { owned(self.rec().useragent_ip) }
    }

    /// True for subrequests, which this module never takes over.
    pub fn is_subrequest(&self) -> bool {
        !self.rec().main.is_null()
    }

    /// This module's per-directory configuration for the request.
    pub fn dir_config<T: DirConfigType>(&self) -> &'r T {
        // SAFETY: create/merge_dir_config::<T> put a T in our slot of every
        // per-dir vector; the merged one lives at least as long as r->pool.
        unsafe { &*module_slot(self.rec().per_dir_config).cast::<T>() }
    }

    /// Keeps `value` in this module's slot of the request config (in r->pool).
    pub fn set_request_config<T: RequestConfigType>(&self, value: T) {
        let value: *mut T = self.pool().alloc(value);
        // SAFETY: request_config is the live request's vector; the value
        // lives in r->pool, as long as the vector.
        unsafe {
            ffi::ap_set_module_config(
                self.rec().request_config,
                this_module().as_ptr(),
                value.cast(),
            )
        }
    }

    /// What `set_request_config` kept for this request, if anything.
    pub fn request_config<T: RequestConfigType>(&self) -> Option<&'r T> {
        // SAFETY: our slot of the request config holds NULL or the T that
        // set_request_config allocated in r->pool (one type implements
        // RequestConfigType).
        unsafe { module_slot(self.rec().request_config).cast::<T>().as_ref() }
    }

    /// What the access log's `%b` shows: the bytes sent after the headers.
    pub fn set_body_bytes_sent(&self, bytes: u64) {
        // SAFETY: plain field writes on the live request; no reference to it is held.
        unsafe {
            (*self.as_ptr()).bytes_sent = bytes as ffi::apr_off_t;
            (*self.as_ptr()).sent_bodyct = 1;
        }
    }
}
