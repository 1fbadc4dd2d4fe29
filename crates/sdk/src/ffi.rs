//! The plugin C ABI (`include/rswebsocket_plugin.h`, version 1) as Rust
//! types: the same members in the same order with the same types, so both
//! sides agree on every offset. Function pointers are `Option`s because C
//! may leave them NULL.
#![allow(non_camel_case_types)]

use std::ffi::{c_char, c_int, c_void};
use std::marker::{PhantomData, PhantomPinned};

pub const RSWS_ABI_VERSION: u32 = 1;

pub const RSWS_TEXT: c_int = 1;
pub const RSWS_BINARY: c_int = 2;

pub const RSWS_OK: c_int = 0;
pub const RSWS_ERR_CLOSED: c_int = -2;
pub const RSWS_ERR_FULL: c_int = -3;
pub const RSWS_ERR_INVALID: c_int = -4;
pub const RSWS_ERR_CONNECTION: c_int = -5;

pub const RSWS_QUEUE_CAPACITY: usize = 1024;

pub const RSWS_CONTINUE: c_int = 0;
pub const RSWS_FAILED: c_int = -1;

pub const RSWS_ACCEPT: c_int = 0;
pub const RSWS_ABORT: c_int = -6;

pub const RSWS_LOG_ERROR: c_int = 3;
pub const RSWS_LOG_WARN: c_int = 4;
pub const RSWS_LOG_NOTICE: c_int = 5;
pub const RSWS_LOG_INFO: c_int = 6;
pub const RSWS_LOG_DEBUG: c_int = 7;

pub const RSWS_VERSION_HYBI00: c_int = 76;
pub const RSWS_VERSION_HIXIE75: c_int = 75;

/// Bytes owned by the module; `ptr` is NULL when the value is absent.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct rsws_str {
    pub ptr: *const u8,
    pub len: usize,
}

/// Opaque handles: only ever behind pointers (the Nomicon's pattern, so
/// they are neither constructible nor Send/Sync/Unpin by accident).
#[repr(C)]
pub struct rsws_request {
    _data: [u8; 0],
    _marker: PhantomData<(*mut u8, PhantomPinned)>,
}

#[repr(C)]
pub struct rsws_conn {
    _data: [u8; 0],
    _marker: PhantomData<(*mut u8, PhantomPinned)>,
}

#[repr(C)]
pub struct rsws_sender {
    _data: [u8; 0],
    _marker: PhantomData<(*mut u8, PhantomPinned)>,
}

/// The module's functions, in the header's order.
#[repr(C)]
pub struct rsws_host {
    pub abi_version: u32,
    pub size: u32,

    pub resource: Option<unsafe extern "C" fn(req: *const rsws_request) -> rsws_str>,
    pub origin: Option<unsafe extern "C" fn(req: *const rsws_request) -> rsws_str>,
    pub header: Option<
        unsafe extern "C" fn(
            req: *const rsws_request,
            name: *const u8,
            name_len: usize,
        ) -> rsws_str,
    >,
    pub option: Option<
        unsafe extern "C" fn(req: *const rsws_request, key: *const u8, key_len: usize) -> rsws_str,
    >,
    pub remote_addr: Option<unsafe extern "C" fn(req: *const rsws_request) -> rsws_str>,
    pub secure: Option<unsafe extern "C" fn(req: *const rsws_request) -> c_int>,
    pub version: Option<unsafe extern "C" fn(req: *const rsws_request) -> c_int>,
    pub protocol_count: Option<unsafe extern "C" fn(req: *const rsws_request) -> usize>,
    pub protocol_at:
        Option<unsafe extern "C" fn(req: *const rsws_request, index: usize) -> rsws_str>,
    pub chosen_protocol: Option<unsafe extern "C" fn(req: *const rsws_request) -> rsws_str>,

    pub choose_protocol:
        Option<unsafe extern "C" fn(req: *mut rsws_request, name: *const u8, len: usize) -> c_int>,
    pub add_response_header: Option<
        unsafe extern "C" fn(
            req: *mut rsws_request,
            name: *const u8,
            name_len: usize,
            value: *const u8,
            value_len: usize,
        ) -> c_int,
    >,
    pub refuse_extensions: Option<unsafe extern "C" fn(req: *mut rsws_request) -> c_int>,

    pub request: Option<unsafe extern "C" fn(conn: *mut rsws_conn) -> *const rsws_request>,
    pub send: Option<
        unsafe extern "C" fn(
            conn: *mut rsws_conn,
            kind: c_int,
            data: *const u8,
            len: usize,
        ) -> c_int,
    >,
    pub send_ping:
        Option<unsafe extern "C" fn(conn: *mut rsws_conn, data: *const u8, len: usize) -> c_int>,
    pub close: Option<
        unsafe extern "C" fn(
            conn: *mut rsws_conn,
            code: u16,
            reason: *const u8,
            len: usize,
        ) -> c_int,
    >,
    pub set_timer: Option<unsafe extern "C" fn(conn: *mut rsws_conn, millis: u64) -> c_int>,
    pub cancel_timer: Option<unsafe extern "C" fn(conn: *mut rsws_conn) -> c_int>,
    pub when_written: Option<unsafe extern "C" fn(conn: *mut rsws_conn) -> c_int>,
    pub receive: Option<unsafe extern "C" fn(conn: *mut rsws_conn, data: *mut rsws_str) -> c_int>,
    pub sender: Option<unsafe extern "C" fn(conn: *mut rsws_conn) -> *mut rsws_sender>,

    pub sender_send: Option<
        unsafe extern "C" fn(
            s: *const rsws_sender,
            kind: c_int,
            data: *const u8,
            len: usize,
        ) -> c_int,
    >,
    pub sender_ping:
        Option<unsafe extern "C" fn(s: *const rsws_sender, data: *const u8, len: usize) -> c_int>,
    pub sender_close: Option<
        unsafe extern "C" fn(
            s: *const rsws_sender,
            code: u16,
            reason: *const u8,
            len: usize,
        ) -> c_int,
    >,
    pub sender_is_open: Option<unsafe extern "C" fn(s: *const rsws_sender) -> c_int>,
    pub sender_clone: Option<unsafe extern "C" fn(s: *const rsws_sender) -> *mut rsws_sender>,
    pub sender_free: Option<unsafe extern "C" fn(s: *mut rsws_sender)>,

    pub log: Option<unsafe extern "C" fn(level: c_int, message: *const u8, len: usize)>,
    pub explain: Option<unsafe extern "C" fn(reason: *const u8, len: usize)>,
}

/// One handler of the plugin.
#[repr(C)]
pub struct rsws_handler {
    pub name: *const c_char,
    pub data: *mut c_void,

    pub check_option:
        Option<unsafe extern "C" fn(data: *mut c_void, key: rsws_str, value: rsws_str) -> c_int>,
    pub do_extra_handshake:
        Option<unsafe extern "C" fn(data: *mut c_void, req: *mut rsws_request) -> c_int>,

    pub open: Option<
        unsafe extern "C" fn(
            data: *mut c_void,
            conn: *mut rsws_conn,
            state: *mut *mut c_void,
        ) -> c_int,
    >,
    pub on_message: Option<
        unsafe extern "C" fn(
            state: *mut c_void,
            conn: *mut rsws_conn,
            kind: c_int,
            data: *const u8,
            len: usize,
        ) -> c_int,
    >,
    pub on_timer: Option<unsafe extern "C" fn(state: *mut c_void, conn: *mut rsws_conn) -> c_int>,
    pub on_written: Option<unsafe extern "C" fn(state: *mut c_void, conn: *mut rsws_conn) -> c_int>,
    pub on_close: Option<
        unsafe extern "C" fn(
            state: *mut c_void,
            conn: *mut rsws_conn,
            code: c_int,
            reason: *const u8,
            len: usize,
        ) -> c_int,
    >,
    pub drop: Option<unsafe extern "C" fn(state: *mut c_void)>,

    pub transfer_data:
        Option<unsafe extern "C" fn(data: *mut c_void, conn: *mut rsws_conn) -> c_int>,
}

/// What `rswebsocket_plugin_v1` returns.
#[repr(C)]
pub struct rsws_plugin {
    pub abi_version: u32,
    pub handler_size: u32,
    pub handler_count: usize,
    pub handlers: *const rsws_handler,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{align_of, offset_of, size_of};

    const PTR: usize = size_of::<usize>();

    #[test]
    fn layouts_match_the_header() {
        // rsws_host: two u32, then 30 function pointers.
        assert_eq!(size_of::<rsws_host>(), 8 + 30 * PTR);
        assert_eq!(offset_of!(rsws_host, resource), 8);
        assert_eq!(offset_of!(rsws_host, explain), 8 + 29 * PTR);
        assert_eq!(offset_of!(rsws_host, request), 8 + 13 * PTR);
        assert_eq!(offset_of!(rsws_host, sender_send), 8 + 22 * PTR);
        // rsws_handler: name, data, 9 function pointers.
        assert_eq!(size_of::<rsws_handler>(), 11 * PTR);
        assert_eq!(offset_of!(rsws_handler, open), 4 * PTR);
        assert_eq!(offset_of!(rsws_handler, transfer_data), 10 * PTR);
        // rsws_str: pointer + size_t; rsws_plugin: two u32, size_t, pointer.
        assert_eq!(size_of::<rsws_str>(), 2 * PTR);
        assert_eq!(size_of::<rsws_plugin>(), 8 + 2 * PTR);
        assert_eq!(offset_of!(rsws_plugin, handlers), 8 + PTR);
        assert_eq!(align_of::<rsws_host>(), PTR);
        // Option<fn> is a nullable pointer, as C's function pointers are.
        assert_eq!(size_of::<Option<unsafe extern "C" fn()>>(), PTR);
    }
}
