//! Reading a `request_rec` into wscore's plain request types.
use std::os::raw::c_char;

use wscore::handshake::RequestHead;

use crate::ffi;
use crate::pool::cstr;

/// A field of the request as an owned string ("" when NULL).
///
/// # Safety
/// `ptr` must be NULL or a NUL-terminated string.
unsafe fn owned(ptr: *const c_char) -> String {
    if ptr.is_null() {
        return String::new();
    }
    // SAFETY: guaranteed by the caller; invalid UTF-8 is replaced, not trusted.
    unsafe { std::ffi::CStr::from_ptr(ptr) }
        .to_string_lossy()
        .into_owned()
}

/// The request headers in arrival order.
///
/// # Safety
/// `r` must be the live request of the current hook.
unsafe fn headers(r: *const ffi::request_rec) -> Vec<(String, String)> {
    // SAFETY: headers_in is a live apr_table_t whose entries are
    // apr_table_entry_t structures; nelts bounds the array.
    unsafe {
        let array = ffi::apr_table_elts((*r).headers_in);
        let entries = std::slice::from_raw_parts(
            (*array).elts.cast::<ffi::apr_table_entry_t>(),
            (*array).nelts as usize,
        );
        entries
            .iter()
            .filter(|e| !e.key.is_null())
            .map(|e| (owned(e.key), owned(e.val)))
            .collect()
    }
}

/// The parts of the request the WebSocket handshake looks at.
///
/// # Safety
/// `r` must be the live request of the current hook.
pub unsafe fn request_head(r: *const ffi::request_rec) -> RequestHead {
    // SAFETY: every field read is owned by the live request.
    unsafe {
        let proto = (*r).proto_num;
        RequestHead {
            method: owned((*r).method),
            uri: owned((*r).unparsed_uri),
            http_version: ((proto / 1000) as u8, (proto % 1000) as u8),
            headers: headers(r),
            secure: is_tls((*r).connection),
        }
    }
}

/// One request header (the first, if repeated).
///
/// # Safety
/// `r` must be the live request of the current hook.
pub unsafe fn header<'a>(r: *const ffi::request_rec, name: &std::ffi::CStr) -> Option<&'a str> {
    // SAFETY: headers_in is live; the value lives in the request pool.
    unsafe { cstr(ffi::apr_table_get((*r).headers_in, name.as_ptr())) }
}

/// The decoded, dot-segment-free path Apache mapped (`r->uri`).
///
/// # Safety
/// `r` must be the live request of the current hook.
pub unsafe fn decoded_path<'a>(r: *const ffi::request_rec) -> Option<&'a str> {
    // SAFETY: r->uri lives in r->pool for the whole request.
    unsafe { cstr((*r).uri) }
}

/// True for a connection that mod_ssl (or another TLS module) serves.
///
/// # Safety
/// `c` must be a live connection.
pub unsafe fn is_tls(c: *mut ffi::conn_rec) -> bool {
    // SAFETY: ap_ssl_conn_is_ssl only inspects the connection's hooks.
    unsafe { ffi::ap_ssl_conn_is_ssl(c) != 0 }
}

/// The client's address as logged by Apache (honours mod_remoteip).
///
/// # Safety
/// `r` must be the live request of the current hook.
pub unsafe fn client_address(r: *const ffi::request_rec) -> String {
    // SAFETY: useragent_ip lives in the connection or request pool.
    unsafe { owned((*r).useragent_ip) }
}

/// True for requests this module must never take over: subrequests,
/// internal redirects' originals, and HTTP/2 secondary connections.
///
/// # Safety
/// `r` must be the live request of the current hook.
pub unsafe fn is_secondary(r: *const ffi::request_rec) -> bool {
    // SAFETY: plain field reads on live records.
    unsafe { !(*r).main.is_null() || !(*(*r).connection).master.is_null() }
}
