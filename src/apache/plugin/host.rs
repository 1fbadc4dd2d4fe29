//! The module's function table (`rsws_host`) that plugins call. Every
//! function checks what it is given and answers with an error code rather
//! than panicking: nothing may unwind back into the plugin.
use std::os::raw::c_int;
use std::ptr;
use std::time::Duration;

use wscore::handler::{HandshakeRequest, ProtocolVersion};
use wscore::protocol::Message;
use wscore::sender::{QueueError, Sender};

use super::super::ffi;
use super::super::log::{Level, Target};
use super::context::{explain, ConnCtx, RequestCtx, Side, ERR_CLOSED, ERR_FULL, ERR_INVALID, OK};
use crate::ws_log;

const TEXT: c_int = ffi::RSWS_TEXT as c_int;
const BINARY: c_int = ffi::RSWS_BINARY as c_int;

/// The table every plugin gets. It lives in the module, so Apache's reload
/// of the module gives a new one: plugins keep the latest (see the header).
pub(super) static HOST: ffi::rsws_host = ffi::rsws_host {
    abi_version: ffi::RSWS_ABI_VERSION,
    size: std::mem::size_of::<ffi::rsws_host>() as u32,
    resource: Some(resource),
    origin: Some(origin),
    header: Some(header),
    option: Some(option),
    remote_addr: Some(remote_addr),
    secure: Some(secure),
    version: Some(version),
    protocol_count: Some(protocol_count),
    protocol_at: Some(protocol_at),
    chosen_protocol: Some(chosen_protocol),
    choose_protocol: Some(choose_protocol),
    add_response_header: Some(add_response_header),
    refuse_extensions: Some(refuse_extensions),
    request: Some(request),
    send: Some(send),
    send_ping: Some(send_ping),
    close: Some(close),
    set_timer: Some(set_timer),
    cancel_timer: Some(cancel_timer),
    when_written: Some(when_written),
    receive: Some(receive),
    sender: Some(sender),
    sender_send: Some(sender_send),
    sender_ping: Some(sender_ping),
    sender_close: Some(sender_close),
    sender_is_open: Some(sender_is_open),
    sender_clone: Some(sender_clone),
    sender_free: Some(sender_free),
    log: Some(log),
    explain: Some(explain_reason),
};

// ---- reading what the plugin passes ----

/// `len` bytes at `data`; `None` for NULL with a length.
///
/// # Safety
/// `data` is NULL or points at `len` readable bytes for the call.
unsafe fn bytes<'x>(data: *const u8, len: usize) -> Option<&'x [u8]> {
    if data.is_null() {
        return (len == 0).then_some(&[]);
    }
    // SAFETY: the caller's promise.
    Some(unsafe { std::slice::from_raw_parts(data, len) })
}

/// # Safety
/// As [`bytes`].
unsafe fn text<'x>(data: *const u8, len: usize) -> Option<&'x str> {
    // SAFETY: the caller's promise.
    std::str::from_utf8(unsafe { bytes(data, len) }?).ok()
}

/// # Safety
/// `req` is NULL or an `rsws_request` the module handed out for the
/// running callback.
unsafe fn request_of<'x>(req: *const ffi::rsws_request) -> Option<&'x HandshakeRequest> {
    let ctx = req.cast::<RequestCtx>();
    // SAFETY: the caller's promise: a RequestCtx alive for the callback,
    // whose request outlives it.
    match unsafe { ctx.as_ref() }? {
        // SAFETY: the request the context was made for, alive meanwhile.
        RequestCtx::Handshake(request) => unsafe { request.as_ref() },
        // SAFETY: as above.
        RequestCtx::Open(request) => unsafe { request.as_ref() },
    }
}

/// # Safety
/// As [`request_of`], and the plugin holds no other reference into it.
unsafe fn handshake_of<'x>(req: *mut ffi::rsws_request) -> Option<&'x mut HandshakeRequest> {
    // SAFETY: the caller's promise.
    match unsafe { req.cast::<RequestCtx>().as_mut() }? {
        // SAFETY: do_extra_handshake's request, lent mutably for the call.
        RequestCtx::Handshake(request) => unsafe { request.as_mut() },
        RequestCtx::Open(_) => None,
    }
}

/// # Safety
/// `conn` is NULL or the `rsws_conn` of the running callback.
unsafe fn conn_of<'x>(conn: *mut ffi::rsws_conn) -> Option<&'x mut ConnCtx<'x, 'x>> {
    // SAFETY: the caller's promise; the ConnCtx outlives the callback.
    unsafe { conn.cast::<ConnCtx<'x, 'x>>().as_mut() }
}

/// # Safety
/// `s` is NULL or a sender from `sender`/`sender_clone` not yet freed.
unsafe fn sender_of<'x>(s: *const ffi::rsws_sender) -> Option<&'x Sender> {
    // SAFETY: the caller's promise: a boxed Sender.
    unsafe { s.cast::<Sender>().as_ref() }
}

fn str_out(value: Option<&str>) -> ffi::rsws_str {
    match value {
        Some(value) => ffi::rsws_str {
            ptr: value.as_ptr(),
            len: value.len(),
        },
        None => ffi::rsws_str {
            ptr: ptr::null(),
            len: 0,
        },
    }
}

fn message(kind: c_int, data: &[u8]) -> Option<Message> {
    match kind {
        TEXT => String::from_utf8(data.to_vec()).ok().map(Message::Text),
        BINARY => Some(Message::Binary(data.to_vec())),
        _ => None,
    }
}

fn queue_code(result: Result<(), QueueError>) -> c_int {
    match result {
        Ok(()) => OK,
        Err(QueueError::Closed) => ERR_CLOSED,
        Err(QueueError::Full) => ERR_FULL,
    }
}

// ---- the handshake ----

unsafe extern "C" fn resource(req: *const ffi::rsws_request) -> ffi::rsws_str {
    // SAFETY: the ABI's rule: req is the running callback's.
    str_out(unsafe { request_of(req) }.map(|r| r.resource.as_str()))
}

unsafe extern "C" fn origin(req: *const ffi::rsws_request) -> ffi::rsws_str {
    // SAFETY: as in resource.
    str_out(unsafe { request_of(req) }.and_then(|r| r.origin.as_deref()))
}

unsafe extern "C" fn header(
    req: *const ffi::rsws_request,
    name: *const u8,
    name_len: usize,
) -> ffi::rsws_str {
    // SAFETY: as in resource; name points at name_len bytes.
    let (request, name) = unsafe { (request_of(req), text(name, name_len)) };
    str_out(request.zip(name).and_then(|(r, name)| r.header(name)))
}

unsafe extern "C" fn option(
    req: *const ffi::rsws_request,
    key: *const u8,
    key_len: usize,
) -> ffi::rsws_str {
    // SAFETY: as in header.
    let (request, key) = unsafe { (request_of(req), text(key, key_len)) };
    str_out(request.zip(key).and_then(|(r, key)| r.option(key)))
}

unsafe extern "C" fn remote_addr(req: *const ffi::rsws_request) -> ffi::rsws_str {
    // SAFETY: as in resource.
    str_out(unsafe { request_of(req) }.map(|r| r.remote_addr.as_str()))
}

unsafe extern "C" fn secure(req: *const ffi::rsws_request) -> c_int {
    // SAFETY: as in resource.
    unsafe { request_of(req) }.is_some_and(|r| r.secure) as c_int
}

unsafe extern "C" fn version(req: *const ffi::rsws_request) -> c_int {
    // SAFETY: as in resource.
    match unsafe { request_of(req) }.map(|r| r.version) {
        Some(ProtocolVersion::Rfc6455(v)) => c_int::from(v),
        Some(ProtocolVersion::Hybi00) => ffi::RSWS_VERSION_HYBI00 as c_int,
        Some(ProtocolVersion::Hixie75) => ffi::RSWS_VERSION_HIXIE75 as c_int,
        None => 0,
    }
}

unsafe extern "C" fn protocol_count(req: *const ffi::rsws_request) -> usize {
    // SAFETY: as in resource.
    unsafe { request_of(req) }.map_or(0, |r| r.requested_protocols.len())
}

unsafe extern "C" fn protocol_at(req: *const ffi::rsws_request, index: usize) -> ffi::rsws_str {
    // SAFETY: as in resource.
    let request = unsafe { request_of(req) };
    str_out(request.and_then(|r| r.requested_protocols.get(index).map(String::as_str)))
}

unsafe extern "C" fn chosen_protocol(req: *const ffi::rsws_request) -> ffi::rsws_str {
    // SAFETY: as in resource.
    str_out(unsafe { request_of(req) }.and_then(|r| r.protocol.as_deref()))
}

unsafe extern "C" fn choose_protocol(
    req: *mut ffi::rsws_request,
    name: *const u8,
    len: usize,
) -> c_int {
    // SAFETY: as in resource; do_extra_handshake lends the request.
    let (request, name) = unsafe { (handshake_of(req), text(name, len)) };
    let Some((request, name)) = request.zip(name) else {
        return ERR_INVALID;
    };
    if !request.requested_protocols.iter().any(|p| p == name) {
        return ERR_INVALID;
    }
    request.protocol = Some(name.to_string());
    OK
}

unsafe extern "C" fn add_response_header(
    req: *mut ffi::rsws_request,
    name: *const u8,
    name_len: usize,
    value: *const u8,
    value_len: usize,
) -> c_int {
    // SAFETY: as in choose_protocol.
    let (request, name, value) = unsafe {
        (
            handshake_of(req),
            text(name, name_len),
            text(value, value_len),
        )
    };
    let (Some(request), Some(name), Some(value)) = (request, name, value) else {
        return ERR_INVALID;
    };
    let token = |c: char| c.is_ascii_graphic() && !"()<>@,;:\\\"/[]?={}".contains(c);
    if name.is_empty() || !name.chars().all(token) || value.contains(['\r', '\n', '\0']) {
        return ERR_INVALID;
    }
    request
        .response_headers
        .push((name.to_string(), value.to_string()));
    OK
}

unsafe extern "C" fn refuse_extensions(req: *mut ffi::rsws_request) -> c_int {
    // SAFETY: as in choose_protocol.
    match unsafe { handshake_of(req) } {
        Some(request) => {
            request.allow_extensions = false;
            OK
        }
        None => ERR_INVALID,
    }
}

// ---- a connection, during a callback ----

unsafe extern "C" fn request(conn: *mut ffi::rsws_conn) -> *const ffi::rsws_request {
    // SAFETY: the ABI's rule: conn is the running callback's.
    let Some(ctx) = (unsafe { conn_of(conn) }) else {
        return ptr::null();
    };
    let request = RequestCtx::Open(ctx.side.request());
    let request: *const RequestCtx = ctx.request.insert(request);
    request.cast()
}

unsafe extern "C" fn send(
    conn: *mut ffi::rsws_conn,
    kind: c_int,
    data: *const u8,
    len: usize,
) -> c_int {
    // SAFETY: as in request; data points at len bytes.
    let (ctx, data) = unsafe { (conn_of(conn), bytes(data, len)) };
    let (Some(ctx), Some(data)) = (ctx, data) else {
        return ERR_INVALID;
    };
    let result = match kind {
        TEXT => match std::str::from_utf8(data) {
            Ok(text) => ctx.side.send_text(text),
            Err(_) => return ERR_INVALID,
        },
        BINARY => ctx.side.send_binary(data),
        _ => return ERR_INVALID,
    };
    result.map_or_else(|e| ctx.report(e), |()| OK)
}

unsafe extern "C" fn send_ping(conn: *mut ffi::rsws_conn, data: *const u8, len: usize) -> c_int {
    // SAFETY: as in send.
    let (ctx, data) = unsafe { (conn_of(conn), bytes(data, len)) };
    let (Some(ctx), Some(data)) = (ctx, data) else {
        return ERR_INVALID;
    };
    let result = ctx.side.send_ping(data);
    result.map_or_else(|e| ctx.report(e), |()| OK)
}

unsafe extern "C" fn close(
    conn: *mut ffi::rsws_conn,
    code: u16,
    reason: *const u8,
    len: usize,
) -> c_int {
    // SAFETY: as in send.
    let (ctx, reason) = unsafe { (conn_of(conn), text(reason, len)) };
    let (Some(ctx), Some(reason)) = (ctx, reason) else {
        return ERR_INVALID;
    };
    let result = ctx.side.close(code, reason);
    result.map_or_else(|e| ctx.report(e), |()| OK)
}

/// Runs `f` on an event-style connection; ERR_INVALID in the blocking style.
///
/// # Safety
/// As [`conn_of`].
unsafe fn on_event_conn(
    conn: *mut ffi::rsws_conn,
    f: impl FnOnce(&mut wscore::event::Conn<'_>),
) -> c_int {
    // SAFETY: the caller's promise.
    match unsafe { conn_of(conn) }.map(|ctx| &mut ctx.side) {
        Some(Side::Event(conn)) => {
            f(conn);
            OK
        }
        _ => ERR_INVALID,
    }
}

unsafe extern "C" fn set_timer(conn: *mut ffi::rsws_conn, millis: u64) -> c_int {
    // SAFETY: as in request.
    unsafe { on_event_conn(conn, |c| c.set_timer(Duration::from_millis(millis))) }
}

unsafe extern "C" fn cancel_timer(conn: *mut ffi::rsws_conn) -> c_int {
    // SAFETY: as in request.
    unsafe { on_event_conn(conn, |c| c.cancel_timer()) }
}

unsafe extern "C" fn when_written(conn: *mut ffi::rsws_conn) -> c_int {
    // SAFETY: as in request.
    unsafe { on_event_conn(conn, |c| c.when_written()) }
}

unsafe extern "C" fn receive(conn: *mut ffi::rsws_conn, data: *mut ffi::rsws_str) -> c_int {
    // SAFETY: as in request; data is NULL or writable.
    let (Some(ctx), Some(data)) = (unsafe { conn_of(conn) }, unsafe { data.as_mut() }) else {
        return ERR_INVALID;
    };
    let Side::Blocking(ws) = &mut ctx.side else {
        return ERR_INVALID;
    };
    match ws.receive_message() {
        Ok(Some(message)) => {
            let (kind, bytes) = match ctx.received.insert(message) {
                Message::Text(text) => (TEXT, text.as_bytes()),
                Message::Binary(bytes) => (BINARY, bytes.as_slice()),
            };
            *data = ffi::rsws_str {
                ptr: bytes.as_ptr(),
                len: bytes.len(),
            };
            kind
        }
        Ok(None) => 0,
        Err(error) => ctx.report(error),
    }
}

unsafe extern "C" fn sender(conn: *mut ffi::rsws_conn) -> *mut ffi::rsws_sender {
    // SAFETY: as in request.
    let Some(ctx) = (unsafe { conn_of(conn) }) else {
        return ptr::null_mut();
    };
    Box::into_raw(Box::new(ctx.side.sender())).cast()
}

// ---- senders, from any thread ----

unsafe extern "C" fn sender_send(
    s: *const ffi::rsws_sender,
    kind: c_int,
    data: *const u8,
    len: usize,
) -> c_int {
    // SAFETY: the ABI's rule: s is a live sender; data points at len bytes.
    let (sender, data) = unsafe { (sender_of(s), bytes(data, len)) };
    match (sender, data.and_then(|data| message(kind, data))) {
        (Some(sender), Some(message)) => queue_code(sender.send(message)),
        _ => ERR_INVALID,
    }
}

unsafe extern "C" fn sender_ping(s: *const ffi::rsws_sender, data: *const u8, len: usize) -> c_int {
    // SAFETY: as in sender_send.
    match unsafe { (sender_of(s), bytes(data, len)) } {
        (Some(sender), Some(data)) if data.len() <= 125 => queue_code(sender.send_ping(data)),
        _ => ERR_INVALID,
    }
}

unsafe extern "C" fn sender_close(
    s: *const ffi::rsws_sender,
    code: u16,
    reason: *const u8,
    len: usize,
) -> c_int {
    // SAFETY: as in sender_send.
    match unsafe { (sender_of(s), text(reason, len)) } {
        (Some(sender), Some(reason)) => queue_code(sender.close(code, reason)),
        _ => ERR_INVALID,
    }
}

unsafe extern "C" fn sender_is_open(s: *const ffi::rsws_sender) -> c_int {
    // SAFETY: as in sender_send.
    unsafe { sender_of(s) }.is_some_and(Sender::is_open) as c_int
}

unsafe extern "C" fn sender_clone(s: *const ffi::rsws_sender) -> *mut ffi::rsws_sender {
    // SAFETY: as in sender_send.
    match unsafe { sender_of(s) } {
        Some(sender) => Box::into_raw(Box::new(sender.clone())).cast(),
        None => ptr::null_mut(),
    }
}

unsafe extern "C" fn sender_free(s: *mut ffi::rsws_sender) {
    if !s.is_null() {
        // SAFETY: a Box<Sender> from sender or sender_clone, freed once (the
        // ABI's rule).
        drop(unsafe { Box::from_raw(s.cast::<Sender>()) });
    }
}

// ---- the log ----

unsafe extern "C" fn log(level: c_int, message: *const u8, len: usize) {
    // SAFETY: message points at len bytes.
    let Some(message) = (unsafe { bytes(message, len) }) else {
        return;
    };
    let level = match level {
        ..=3 => Level::Err,
        4 => Level::Warn,
        5 => Level::Notice,
        6 => Level::Info,
        _ => Level::Debug,
    };
    let message = String::from_utf8_lossy(message);
    ws_log!(Target::Process, level, "mod_rswebsocket plugin: {message}");
}

unsafe extern "C" fn explain_reason(reason: *const u8, len: usize) {
    // SAFETY: reason points at len bytes.
    if let Some(reason) = unsafe { bytes(reason, len) } {
        explain(String::from_utf8_lossy(reason).into_owned());
    }
}

/// The table as the plugin's init function takes it.
pub(super) fn table() -> *const ffi::rsws_host {
    &HOST
}
