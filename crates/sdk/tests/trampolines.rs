//! The SDK's C side, driven as the module drives it: the entry point, the
//! plugin table, and each trampoline, against a fake host table.
use std::ffi::{c_int, c_void, CStr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use rswebsocket_sdk::ffi::*;
use rswebsocket_sdk::{
    CloseFrame, Conn, Connection, EventHandler, Handler, Handshake, Message, Rejection, WebSocket,
    WsError,
};

mod fake_host;
use fake_host::*;

static DROPS: AtomicUsize = AtomicUsize::new(0);

struct Echo;
struct Echoing {
    prefix: String,
}

impl EventHandler for Echo {
    fn check_option(&self, key: &str, value: &str) -> Result<(), String> {
        match key {
            "prefix" if !value.is_empty() => Ok(()),
            "prefix" => Err("prefix must not be empty".into()),
            _ => Err(format!("unknown option '{key}'")),
        }
    }

    fn do_extra_handshake(&self, request: &mut Handshake<'_>) -> Result<(), Rejection> {
        if request.header("X-Deny").is_some() {
            return Err(Rejection::Status(403, "denied by test".into()));
        }
        if request.header("X-Abort").is_some() {
            return Err(Rejection::Abort);
        }
        if request.protocols().contains(&"chat") {
            request
                .choose_protocol("chat")
                .map_err(|e| Rejection::Status(500, e.to_string()))?;
        }
        assert!(request.choose_protocol("not-offered").is_err());
        request.add_response_header("X-Test", "yes").unwrap();
        request.refuse_extensions().unwrap();
        Ok(())
    }

    fn open(&self, ws: &mut Conn<'_>) -> Box<dyn Connection> {
        ws.set_timer(Duration::from_micros(1500)).unwrap();
        let prefix = ws.request().option("prefix").unwrap_or("").to_string();
        Box::new(Echoing { prefix })
    }
}

impl Connection for Echoing {
    fn on_message(&mut self, ws: &mut Conn<'_>, message: Message) -> Result<(), WsError> {
        match &message {
            Message::Text(t) if t == "panic" => panic!("asked to panic"),
            Message::Text(t) if t == "policy" => return Err(WsError::policy("no policy")),
            Message::Text(t) => ws.send_text(&format!("{}{t}", self.prefix))?,
            Message::Binary(_) => ws.send(&message)?,
        }
        if message == Message::Text("Goodbye".into()) {
            ws.close(1000, "bye")?;
        }
        Ok(())
    }

    fn on_timer(&mut self, ws: &mut Conn<'_>) -> Result<(), WsError> {
        let sender = ws.sender();
        let copy = sender.clone();
        copy.send_text("pushed")?;
        assert!(copy.is_open());
        ws.send_text("tick")
    }

    fn on_close(&mut self, ws: &mut Conn<'_>, peer: Option<&CloseFrame>) -> Result<(), WsError> {
        ws.send_text(&format!("{peer:?}"))
    }
}

impl Drop for Echoing {
    fn drop(&mut self) {
        DROPS.fetch_add(1, Ordering::SeqCst);
    }
}

struct Count;

impl Handler for Count {
    fn transfer_data(&self, ws: &mut WebSocket<'_>) -> Result<(), WsError> {
        let mut n = 0;
        while let Some(message) = ws.receive_message()? {
            n += 1;
            if message == Message::Text("fail".into()) {
                return Err(WsError::handler(4000, "failed on purpose"));
            }
            ws.send_text(&n.to_string())?;
        }
        Ok(())
    }
}

rswebsocket_sdk::export_handlers! {
    event "echo" => Echo,
    blocking "count" => Count,
}

fn plugin() -> &'static rsws_plugin {
    // SAFETY: the fake host is a complete static table.
    let p = unsafe { rswebsocket_plugin_v1(&HOST) };
    assert!(!p.is_null());
    // SAFETY: the SDK's table lives for the process.
    unsafe { &*p }
}

fn handler(name: &str) -> &'static rsws_handler {
    let p = plugin();
    // SAFETY: handler_count entries at handlers.
    let all = unsafe { std::slice::from_raw_parts(p.handlers, p.handler_count) };
    all.iter()
        // SAFETY: names are NUL-terminated statics.
        .find(|h| unsafe { CStr::from_ptr(h.name) }.to_str().unwrap() == name)
        .unwrap()
}

/// Opens an echo connection; returns its state.
fn open_echo(c: &mut FakeConn) -> *mut c_void {
    let h = handler("echo");
    let mut state = std::ptr::null_mut();
    // SAFETY: the module's calling convention, with the fake's handles.
    let r = unsafe { h.open.unwrap()(h.data, conn_ptr(c), &mut state) };
    assert_eq!(r, RSWS_CONTINUE);
    assert!(!state.is_null());
    state
}

fn message(state: *mut c_void, c: &mut FakeConn, kind: c_int, data: &[u8]) -> c_int {
    let h = handler("echo");
    // SAFETY: a live state and connection; a valid byte range.
    unsafe { h.on_message.unwrap()(state, conn_ptr(c), kind, data.as_ptr(), data.len()) }
}

fn drop_state(state: *mut c_void) {
    // SAFETY: the state open stored, dropped once.
    unsafe { handler("echo").drop.unwrap()(state) }
}

#[test]
fn the_plugin_table_has_the_handlers() {
    let p = plugin();
    assert_eq!(p.abi_version, 1);
    assert_eq!(p.handler_size as usize, std::mem::size_of::<rsws_handler>());
    assert_eq!(p.handler_count, 2);
    // SAFETY: two entries.
    let all = unsafe { std::slice::from_raw_parts(p.handlers, 2) };
    // SAFETY: NUL-terminated names.
    let names: Vec<&[u8]> = all
        .iter()
        .map(|h| unsafe { CStr::from_ptr(h.name) }.to_bytes_with_nul())
        .collect();
    assert_eq!(names, [&b"echo\0"[..], &b"count\0"[..]]);
    let (echo, count) = (&all[0], &all[1]);
    assert!(echo.open.is_some() && echo.drop.is_some() && echo.transfer_data.is_none());
    assert!(count.open.is_none() && count.on_message.is_none() && count.transfer_data.is_some());
    assert!(echo.check_option.is_some() && count.do_extra_handshake.is_some());
    assert!(
        std::ptr::eq(plugin(), p),
        "a second call returns the same table"
    );
}

#[test]
fn a_host_of_another_version_or_size_is_refused() {
    // SAFETY: NULL is allowed.
    assert!(unsafe { rswebsocket_plugin_v1(std::ptr::null()) }.is_null());
    // SAFETY: whole tables, only their leading fields are wrong.
    unsafe {
        let mut other = std::ptr::read(&HOST);
        other.abi_version = 2;
        assert!(rswebsocket_plugin_v1(&other).is_null());
        other.abi_version = 1;
        other.size -= 8;
        assert!(rswebsocket_plugin_v1(&other).is_null());
        other.size += 8;
        other.explain = None;
        assert!(rswebsocket_plugin_v1(&other).is_null());
    }
}

#[test]
fn echo_goes_through_on_message_byte_for_byte() {
    let mut c = FakeConn::default();
    c.request.options.push(("prefix".into(), "> ".into()));
    let state = open_echo(&mut c);
    assert_eq!(c.timer, Some(2), "1.5 ms rounds up");
    assert_eq!(message(state, &mut c, RSWS_TEXT, "héllo".as_bytes()), 0);
    let binary = [0u8, 255, 1, 2];
    assert_eq!(message(state, &mut c, RSWS_BINARY, &binary), 0);
    assert_eq!(message(state, &mut c, RSWS_BINARY, &[]), 0);
    assert_eq!(message(state, &mut c, RSWS_TEXT, b"Goodbye"), 0);
    assert_eq!(
        c.sent,
        vec![
            (RSWS_TEXT, "> héllo".as_bytes().to_vec()),
            (RSWS_BINARY, binary.to_vec()),
            (RSWS_BINARY, vec![]),
            (RSWS_TEXT, b"> Goodbye".to_vec()),
        ]
    );
    assert_eq!(c.closed, Some((1000, "bye".into())));
    assert!(take_explained().is_empty());
    let before = DROPS.load(Ordering::SeqCst);
    drop_state(state);
    assert!(DROPS.load(Ordering::SeqCst) > before);
}

#[test]
fn a_panic_returns_failed_with_its_text() {
    let mut c = FakeConn::default();
    let state = open_echo(&mut c);
    assert_eq!(message(state, &mut c, RSWS_TEXT, b"panic"), RSWS_FAILED);
    // With the SDK's hook installed (by a test that loaded the plugin) the
    // text also says where: "panicked at FILE:LINE: asked to panic".
    let explained = take_explained();
    assert_eq!(explained.len(), 1, "{explained:?}");
    assert!(explained[0].starts_with("panicked"), "{explained:?}");
    assert!(explained[0].ends_with(": asked to panic"), "{explained:?}");
    drop_state(state);
}

#[test]
fn an_error_returns_its_close_code_and_reason() {
    let mut c = FakeConn::default();
    let state = open_echo(&mut c);
    assert_eq!(message(state, &mut c, RSWS_TEXT, b"policy"), 1008);
    assert_eq!(take_explained(), ["no policy"]);
    // Text that is not UTF-8 never reaches the handler: 1007.
    assert_eq!(message(state, &mut c, RSWS_TEXT, &[0xff]), 1007);
    assert_eq!(message(state, &mut c, 9, b"?"), 1003);
    take_explained();
    drop_state(state);
}

#[test]
fn a_host_error_is_passed_back_as_is() {
    let mut c = FakeConn::default();
    let state = open_echo(&mut c);
    c.send_result = RSWS_ERR_CONNECTION;
    assert_eq!(message(state, &mut c, RSWS_TEXT, b"x"), RSWS_ERR_CONNECTION);
    c.send_result = RSWS_ERR_CLOSED;
    assert_eq!(message(state, &mut c, RSWS_TEXT, b"x"), RSWS_ERR_CLOSED);
    assert_eq!(take_explained().len(), 2);
    drop_state(state);
}

#[test]
fn timer_senders_and_close() {
    let mut c = FakeConn::default();
    let state = open_echo(&mut c);
    let h = handler("echo");
    // SAFETY: a live state and connection.
    assert_eq!(unsafe { h.on_timer.unwrap()(state, conn_ptr(&mut c)) }, 0);
    assert_eq!(LIVE_SENDERS.with(|n| *n.borrow()), 0, "clone and drop free");
    assert_eq!(
        SENDER_SENT.with(|s| s.borrow().clone()),
        [(RSWS_TEXT, b"pushed".to_vec())]
    );
    // SAFETY: as above, no reason bytes (code 0: no close code).
    let r = unsafe { h.on_close.unwrap()(state, conn_ptr(&mut c), 0, std::ptr::null(), 0) };
    assert_eq!(r, 0);
    let reason = b"gone";
    // SAFETY: as above.
    let r = unsafe { h.on_close.unwrap()(state, conn_ptr(&mut c), 1001, reason.as_ptr(), 4) };
    assert_eq!(r, 0);
    let texts: Vec<_> = c
        .sent
        .iter()
        .map(|(_, b)| String::from_utf8_lossy(b))
        .collect();
    assert_eq!(
        texts,
        [
            "tick",
            "None",
            "Some(CloseFrame { code: 1001, reason: \"gone\" })"
        ]
    );
    drop_state(state);
}

fn handshake(r: &mut FakeRequest) -> c_int {
    let h = handler("echo");
    // SAFETY: a live request.
    unsafe { h.do_extra_handshake.unwrap()(h.data, req_ptr(r)) }
}

#[test]
fn handshakes_accept_reject_or_abort() {
    let mut r = FakeRequest {
        protocols: vec!["x".into(), "chat".into()],
        ..Default::default()
    };
    assert_eq!(handshake(&mut r), RSWS_ACCEPT);
    assert_eq!(r.chosen.as_deref(), Some("chat"));
    assert_eq!(r.response_headers, [("X-Test".into(), "yes".into())]);
    assert!(r.extensions_refused);

    let mut r = FakeRequest::default();
    r.headers.push(("x-deny".into(), b"1".to_vec()));
    assert_eq!(handshake(&mut r), 403);
    assert_eq!(take_explained(), ["denied by test"]);

    let mut r = FakeRequest::default();
    r.headers.push(("X-ABORT".into(), vec![]));
    assert_eq!(handshake(&mut r), RSWS_ABORT);
}

#[test]
fn options_are_checked() {
    let h = handler("echo");
    let check = |k: &str, v: &[u8]| {
        // SAFETY: valid byte ranges for the call.
        unsafe { h.check_option.unwrap()(h.data, bytes(k.as_bytes()), bytes(v)) }
    };
    assert_eq!(check("prefix", b"> "), 0);
    assert!(take_explained().is_empty());
    assert_eq!(check("prefix", b""), 1);
    assert_eq!(check("colour", b"red"), 1);
    assert_eq!(check("prefix", &[0xff]), 1);
    assert_eq!(
        take_explained(),
        [
            "prefix must not be empty",
            "unknown option 'colour'",
            "the option is not UTF-8"
        ]
    );
    let count = handler("count");
    // SAFETY: as above.
    let r = unsafe { count.check_option.unwrap()(count.data, bytes(b"a"), bytes(b"b")) };
    assert_eq!(r, 1, "the default refuses every option");
}

#[test]
fn blocking_count_receives_until_the_peer_closes() {
    let h = handler("count");
    let mut c = FakeConn::default();
    c.incoming.extend([
        (RSWS_TEXT, b"a".to_vec()),
        (RSWS_BINARY, vec![1, 2]),
        (RSWS_TEXT, b"c".to_vec()),
    ]);
    // SAFETY: a live connection.
    assert_eq!(
        unsafe { h.transfer_data.unwrap()(h.data, conn_ptr(&mut c)) },
        0
    );
    let replies: Vec<_> = c.sent.iter().map(|(_, b)| b.clone()).collect();
    assert_eq!(replies, [b"1".to_vec(), b"2".to_vec(), b"3".to_vec()]);

    let mut c = FakeConn::default();
    c.incoming.push_back((RSWS_TEXT, b"fail".to_vec()));
    // SAFETY: a live connection.
    assert_eq!(
        unsafe { h.transfer_data.unwrap()(h.data, conn_ptr(&mut c)) },
        4000
    );
    assert_eq!(take_explained(), ["failed on purpose"]);
}

/// A reloaded module's table: the same functions but its own log.
static RELOADED: rsws_host = rsws_host {
    log: Some(other_log),
    // SAFETY: HOST is a plain table of pointers; reading it copies it.
    ..unsafe { std::ptr::read(&HOST) }
};

unsafe extern "C" fn other_log(_level: c_int, _m: *const u8, len: usize) {
    LOGGED.with(|g| g.borrow_mut().push((0, format!("reloaded {len}"))));
}

#[test]
fn logging_goes_to_the_latest_host() {
    let first = plugin();
    rswebsocket_sdk::warn!("{} apples", 3);
    rswebsocket_sdk::log(rswebsocket_sdk::Level::Debug, "plain");
    // SAFETY: a complete static table.
    let again = unsafe { rswebsocket_plugin_v1(&RELOADED) };
    assert!(
        std::ptr::eq(again, first),
        "the same handlers after a reload"
    );
    rswebsocket_sdk::error!("x");
    plugin();
    let logged = LOGGED.with(|l| l.borrow().clone());
    assert_eq!(
        logged,
        [
            (RSWS_LOG_WARN, "3 apples".to_string()),
            (RSWS_LOG_DEBUG, "plain".to_string()),
            (0, "reloaded 1".to_string())
        ]
    );
}
