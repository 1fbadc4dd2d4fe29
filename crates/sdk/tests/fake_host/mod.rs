//! A stand-in for the module: the host table as plain `extern "C"`
//! functions over test structs, recording what the plugin asked for.
#![allow(dead_code)]
use std::cell::RefCell;
use std::collections::VecDeque;
use std::ffi::c_int;

use rswebsocket_sdk::ffi::*;

#[derive(Default)]
pub struct FakeRequest {
    pub resource: String,
    pub headers: Vec<(String, Vec<u8>)>,
    pub options: Vec<(String, String)>,
    pub protocols: Vec<String>,
    pub chosen: Option<String>,
    pub response_headers: Vec<(String, String)>,
    pub extensions_refused: bool,
}

#[derive(Default)]
pub struct FakeConn {
    pub request: FakeRequest,
    pub sent: Vec<(c_int, Vec<u8>)>,
    pub pings: Vec<Vec<u8>>,
    pub closed: Option<(u16, String)>,
    pub timer: Option<u64>,
    pub incoming: VecDeque<(c_int, Vec<u8>)>,
    pub current: Vec<u8>,
    /// What every send returns (to test passing host errors on).
    pub send_result: c_int,
}

/// A sender shares nothing with its connection here: it records itself.
pub struct FakeSender;

thread_local! {
    pub static EXPLAINED: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    pub static LOGGED: RefCell<Vec<(c_int, String)>> = const { RefCell::new(Vec::new()) };
    pub static SENDER_SENT: RefCell<Vec<(c_int, Vec<u8>)>> = const { RefCell::new(Vec::new()) };
    pub static LIVE_SENDERS: RefCell<i32> = const { RefCell::new(0) };
}

/// The reasons explained on this thread since the last call.
pub fn take_explained() -> Vec<String> {
    EXPLAINED.with(|e| std::mem::take(&mut *e.borrow_mut()))
}

unsafe fn slice<'a>(ptr: *const u8, len: usize) -> &'a [u8] {
    if len == 0 {
        &[]
    } else {
        std::slice::from_raw_parts(ptr, len)
    }
}

fn out(s: Option<&[u8]>) -> rsws_str {
    match s {
        Some(b) => rsws_str {
            ptr: b.as_ptr(),
            len: b.len(),
        },
        None => rsws_str {
            ptr: std::ptr::null(),
            len: 0,
        },
    }
}

unsafe fn req<'a>(r: *const rsws_request) -> &'a mut FakeRequest {
    &mut *(r as *mut FakeRequest)
}

unsafe fn conn<'a>(c: *mut rsws_conn) -> &'a mut FakeConn {
    &mut *(c as *mut FakeConn)
}

unsafe extern "C" fn resource(r: *const rsws_request) -> rsws_str {
    out(Some(req(r).resource.as_bytes()))
}
unsafe extern "C" fn origin(_: *const rsws_request) -> rsws_str {
    out(None)
}
unsafe extern "C" fn header(r: *const rsws_request, n: *const u8, l: usize) -> rsws_str {
    let name = std::str::from_utf8(slice(n, l)).unwrap();
    let found = req(r)
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name));
    out(found.map(|(_, v)| v.as_slice()))
}
unsafe extern "C" fn option(r: *const rsws_request, k: *const u8, l: usize) -> rsws_str {
    let key = std::str::from_utf8(slice(k, l)).unwrap();
    let found = req(r).options.iter().find(|(o, _)| o == key);
    out(found.map(|(_, v)| v.as_bytes()))
}
unsafe extern "C" fn remote_addr(_: *const rsws_request) -> rsws_str {
    out(Some(b"127.0.0.1"))
}
unsafe extern "C" fn secure(_: *const rsws_request) -> c_int {
    1
}
unsafe extern "C" fn version(_: *const rsws_request) -> c_int {
    13
}
unsafe extern "C" fn protocol_count(r: *const rsws_request) -> usize {
    req(r).protocols.len()
}
unsafe extern "C" fn protocol_at(r: *const rsws_request, i: usize) -> rsws_str {
    out(req(r).protocols.get(i).map(|p| p.as_bytes()))
}
unsafe extern "C" fn chosen_protocol(r: *const rsws_request) -> rsws_str {
    out(req(r).chosen.as_ref().map(|p| p.as_bytes()))
}
unsafe extern "C" fn choose_protocol(r: *mut rsws_request, n: *const u8, l: usize) -> c_int {
    let name = String::from_utf8(slice(n, l).to_vec()).unwrap();
    let r = req(r);
    if !r.protocols.contains(&name) {
        return RSWS_ERR_INVALID;
    }
    r.chosen = Some(name);
    RSWS_OK
}
unsafe extern "C" fn add_response_header(
    r: *mut rsws_request,
    n: *const u8,
    nl: usize,
    v: *const u8,
    vl: usize,
) -> c_int {
    let name = String::from_utf8(slice(n, nl).to_vec()).unwrap();
    let value = String::from_utf8(slice(v, vl).to_vec()).unwrap();
    req(r).response_headers.push((name, value));
    RSWS_OK
}
unsafe extern "C" fn refuse_extensions(r: *mut rsws_request) -> c_int {
    req(r).extensions_refused = true;
    RSWS_OK
}
unsafe extern "C" fn request(c: *mut rsws_conn) -> *const rsws_request {
    &conn(c).request as *const FakeRequest as *const rsws_request
}
unsafe extern "C" fn send(c: *mut rsws_conn, kind: c_int, d: *const u8, l: usize) -> c_int {
    let c = conn(c);
    if c.send_result != RSWS_OK {
        return c.send_result;
    }
    c.sent.push((kind, slice(d, l).to_vec()));
    RSWS_OK
}
unsafe extern "C" fn send_ping(c: *mut rsws_conn, d: *const u8, l: usize) -> c_int {
    conn(c).pings.push(slice(d, l).to_vec());
    RSWS_OK
}
unsafe extern "C" fn close(c: *mut rsws_conn, code: u16, r: *const u8, l: usize) -> c_int {
    let reason = String::from_utf8(slice(r, l).to_vec()).unwrap();
    conn(c).closed = Some((code, reason));
    RSWS_OK
}
unsafe extern "C" fn set_timer(c: *mut rsws_conn, millis: u64) -> c_int {
    conn(c).timer = Some(millis);
    RSWS_OK
}
unsafe extern "C" fn cancel_timer(c: *mut rsws_conn) -> c_int {
    conn(c).timer = None;
    RSWS_OK
}
unsafe extern "C" fn when_written(_: *mut rsws_conn) -> c_int {
    RSWS_OK
}
unsafe extern "C" fn receive(c: *mut rsws_conn, data: *mut rsws_str) -> c_int {
    let c = conn(c);
    match c.incoming.pop_front() {
        Some((kind, bytes)) => {
            c.current = bytes;
            *data = out(Some(&c.current));
            kind
        }
        None => 0,
    }
}
unsafe extern "C" fn sender(_: *mut rsws_conn) -> *mut rsws_sender {
    LIVE_SENDERS.with(|n| *n.borrow_mut() += 1);
    Box::into_raw(Box::new(FakeSender)).cast()
}
unsafe extern "C" fn sender_send(_: *const rsws_sender, k: c_int, d: *const u8, l: usize) -> c_int {
    SENDER_SENT.with(|s| s.borrow_mut().push((k, slice(d, l).to_vec())));
    RSWS_OK
}
unsafe extern "C" fn sender_ping(_: *const rsws_sender, _: *const u8, l: usize) -> c_int {
    if l > 125 {
        RSWS_ERR_INVALID
    } else {
        RSWS_OK
    }
}
unsafe extern "C" fn sender_close(_: *const rsws_sender, _: u16, _: *const u8, _: usize) -> c_int {
    RSWS_ERR_CLOSED
}
unsafe extern "C" fn sender_is_open(_: *const rsws_sender) -> c_int {
    1
}
unsafe extern "C" fn sender_clone(s: *const rsws_sender) -> *mut rsws_sender {
    sender(s as *mut rsws_conn)
}
unsafe extern "C" fn sender_free(s: *mut rsws_sender) {
    drop(Box::from_raw(s.cast::<FakeSender>()));
    LIVE_SENDERS.with(|n| *n.borrow_mut() -= 1);
}
unsafe extern "C" fn log(level: c_int, m: *const u8, l: usize) {
    let text = String::from_utf8(slice(m, l).to_vec()).unwrap();
    LOGGED.with(|g| g.borrow_mut().push((level, text)));
}
unsafe extern "C" fn explain(r: *const u8, l: usize) {
    let text = String::from_utf8(slice(r, l).to_vec()).unwrap();
    EXPLAINED.with(|e| e.borrow_mut().push(text));
}

pub static HOST: rsws_host = rsws_host {
    abi_version: RSWS_ABI_VERSION,
    size: std::mem::size_of::<rsws_host>() as u32,
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
    explain: Some(explain),
};

pub fn conn_ptr(c: &mut FakeConn) -> *mut rsws_conn {
    c as *mut FakeConn as *mut rsws_conn
}

pub fn req_ptr(r: &mut FakeRequest) -> *mut rsws_request {
    r as *mut FakeRequest as *mut rsws_request
}

pub fn bytes(b: &[u8]) -> rsws_str {
    out(Some(b))
}
