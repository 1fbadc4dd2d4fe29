//! The C side of a plugin: the entry point behind [`crate::export_handlers`]
//! and the `extern "C"` trampolines that turn the module's calls into trait
//! calls. Every trampoline catches panics: unwinding into C is undefined.
use std::any::Any;
use std::ffi::{c_int, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::OnceLock;

use crate::conn::Conn;
use crate::error::WsError;
use crate::ffi::*;
use crate::handler::{Connection, EventHandler, Handler, Rejection};
use crate::host::{bytes, check_head, complete, explain, install};
use crate::log::{log, Level};
use crate::message::{CloseFrame, Message};
use crate::panics::{in_callback, install_hook, take_description};
use crate::request::Handshake;
use crate::websocket::WebSocket;

/// The plugin table, built once and kept for the process's life.
struct Table(rsws_plugin);

// SAFETY: the table and the handler array it points to are never written
// after they are built; the module only reads them.
unsafe impl Send for Table {}
// SAFETY: as for Send: read-only once built.
unsafe impl Sync for Table {}

static PLUGIN: OnceLock<Table> = OnceLock::new();

/// `rswebsocket_plugin_v1`'s body: checks and keeps the module's table
/// (the latest one: a reloaded module calls again with a new table), builds
/// the handlers once and returns the plugin table (the same one on every
/// call); NULL refuses to load.
///
/// # Safety
/// `host` is NULL or points to at least its two leading `u32` fields, and
/// to a whole table, valid while the module stays loaded, when those
/// fields say it is version 1 and covers this SDK's members.
pub unsafe fn plugin_entry(
    host: *const rsws_host,
    handlers: impl FnOnce() -> Vec<rsws_handler>,
) -> *const rsws_plugin {
    let result = catch_unwind(AssertUnwindSafe(|| {
        if host.is_null() {
            return Err("no function table (NULL)".to_string());
        }
        // SAFETY: every version of the table starts with these two u32;
        // nothing past them is read before size says it is there.
        let (abi, size) = unsafe { ((*host).abi_version, (*host).size) };
        check_head(abi, size).map_err(|why| format!("{why} (ABI {abi}, size {size})"))?;
        // SAFETY: size covers this SDK's struct (the caller's guarantee).
        let table: &rsws_host = unsafe { &*host };
        if !complete(table) {
            return Err("the module's function table has NULL members".to_string());
        }
        install(table);
        install_hook();
        let plugin = PLUGIN.get_or_init(|| {
            let list = Box::leak(handlers().into_boxed_slice());
            Table(rsws_plugin {
                abi_version: RSWS_ABI_VERSION,
                handler_size: std::mem::size_of::<rsws_handler>() as u32,
                handler_count: list.len(),
                handlers: list.as_ptr(),
            })
        });
        Ok(&plugin.0 as *const rsws_plugin)
    }));
    match result {
        Ok(Ok(plugin)) => plugin,
        Ok(Err(why)) => refuse(&why),
        Err(payload) => refuse(&format!("panicked: {}", panic_text(&*payload))),
    }
}

/// The refusal goes to stderr: the module's table (and its log) cannot be
/// trusted. Apache's parent sends stderr to the error log.
fn refuse(why: &str) -> *const rsws_plugin {
    eprintln!("rswebsocket-sdk: refusing to load the plugin: {why}");
    std::ptr::null()
}

/// An event-style handler's table entry (`name` ends in NUL: the macro
/// adds it).
pub fn event<H: EventHandler>(name: &'static str, handler: H) -> rsws_handler {
    rsws_handler {
        name: c_name(name),
        data: Box::into_raw(Box::new(handler)).cast(),
        check_option: Some(check_option::<H, EventStyle>),
        do_extra_handshake: Some(do_extra_handshake::<H, EventStyle>),
        open: Some(open::<H>),
        on_message: Some(on_message),
        on_timer: Some(on_timer),
        on_written: Some(on_written),
        on_close: Some(on_close),
        drop: Some(drop_state),
        transfer_data: None,
    }
}

/// A blocking-style handler's table entry.
pub fn blocking<H: Handler>(name: &'static str, handler: H) -> rsws_handler {
    rsws_handler {
        name: c_name(name),
        data: Box::into_raw(Box::new(handler)).cast(),
        check_option: Some(check_option::<H, BlockingStyle>),
        do_extra_handshake: Some(do_extra_handshake::<H, BlockingStyle>),
        open: None,
        on_message: None,
        on_timer: None,
        on_written: None,
        on_close: None,
        drop: None,
        transfer_data: Some(transfer_data::<H>),
    }
}

fn c_name(name: &'static str) -> *const std::ffi::c_char {
    let nul = name.bytes().position(|b| b == 0);
    assert!(
        nul.is_some() && nul == Some(name.len() - 1) && name.len() > 1,
        "handler name {name:?}: not empty, no NUL inside"
    );
    name.as_ptr().cast()
}

/// Marker types so one generic trampoline serves both traits without the
/// two blanket impls overlapping.
struct EventStyle;
struct BlockingStyle;

trait EndpointOf<Style> {
    fn handshake(&self, request: &mut Handshake<'_>) -> Result<(), Rejection>;
    fn option(&self, key: &str, value: &str) -> Result<(), String>;
}

impl<H: EventHandler> EndpointOf<EventStyle> for H {
    fn handshake(&self, request: &mut Handshake<'_>) -> Result<(), Rejection> {
        self.do_extra_handshake(request)
    }
    fn option(&self, key: &str, value: &str) -> Result<(), String> {
        self.check_option(key, value)
    }
}

impl<H: Handler> EndpointOf<BlockingStyle> for H {
    fn handshake(&self, request: &mut Handshake<'_>) -> Result<(), Rejection> {
        self.do_extra_handshake(request)
    }
    fn option(&self, key: &str, value: &str) -> Result<(), String> {
        self.check_option(key, value)
    }
}

/// Runs a callback's body, turning a panic into RSWS_FAILED with its text.
fn guard(body: impl FnOnce() -> c_int) -> c_int {
    match in_callback(|| catch_unwind(AssertUnwindSafe(body))) {
        Ok(code) => code,
        Err(payload) => {
            let text = take_description()
                .unwrap_or_else(|| format!("panicked: {}", panic_text(&*payload)));
            explain(&text);
            // A payload whose drop panics must not unwind into C either.
            let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
            RSWS_FAILED
        }
    }
}

fn panic_text(payload: &(dyn Any + Send)) -> &str {
    if let Some(text) = payload.downcast_ref::<&str>() {
        text
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text
    } else {
        "(no message)"
    }
}

/// A connection callback's result: RSWS_CONTINUE, or the error's code
/// with its reason explained.
fn finish(result: Result<(), WsError>) -> c_int {
    match result {
        Ok(()) => RSWS_CONTINUE,
        Err(e) => {
            match &e {
                WsError::Handler { reason, .. } => explain(reason),
                other => explain(&other.to_string()),
            }
            e.callback_result()
        }
    }
}

/// A host string as text: `None` when absent or not UTF-8.
///
/// # Safety
/// As for [`bytes`]: valid for the running callback.
unsafe fn text<'a>(s: rsws_str) -> Option<&'a str> {
    // SAFETY: passed on from the caller.
    std::str::from_utf8(unsafe { bytes(s) }?).ok()
}

unsafe extern "C" fn check_option<H: EndpointOf<S>, S>(
    data: *mut c_void,
    key: rsws_str,
    value: rsws_str,
) -> c_int {
    guard(|| {
        // SAFETY: data is the H that event()/blocking() leaked for good.
        let handler = unsafe { &*data.cast::<H>() };
        // SAFETY: the module's strings, valid during this call.
        let (key, value) = match unsafe { (text(key), text(value)) } {
            (Some(k), Some(v)) => (k, v),
            _ => {
                explain("the option is not UTF-8");
                return 1;
            }
        };
        match handler.option(key, value) {
            Ok(()) => 0,
            Err(reason) => {
                explain(&reason);
                1
            }
        }
    })
}

unsafe extern "C" fn do_extra_handshake<H: EndpointOf<S>, S>(
    data: *mut c_void,
    req: *mut rsws_request,
) -> c_int {
    guard(|| {
        // SAFETY: data is the H leaked for good; req is live during this call.
        let (handler, mut request) = unsafe { (&*data.cast::<H>(), Handshake::from_raw(req)) };
        match handler.handshake(&mut request) {
            Ok(()) => RSWS_ACCEPT,
            Err(Rejection::Status(status, reason)) => {
                explain(&reason);
                if (400..=599).contains(&status) {
                    c_int::from(status)
                } else {
                    500
                }
            }
            Err(Rejection::Abort) => RSWS_ABORT,
        }
    })
}

/// The state behind `*state`: a thin pointer to the boxed trait object.
type State = Box<dyn Connection>;

unsafe extern "C" fn open<H: EventHandler>(
    data: *mut c_void,
    conn: *mut rsws_conn,
    state: *mut *mut c_void,
) -> c_int {
    guard(|| {
        // SAFETY: data is the H leaked for good; conn is live during this call.
        let (handler, mut ws) = unsafe { (&*data.cast::<H>(), Conn::from_raw(conn)) };
        let connection: State = handler.open(&mut ws);
        let raw = Box::into_raw(Box::new(connection));
        // SAFETY: the module passes a valid place for the state.
        unsafe { state.write(raw.cast()) };
        RSWS_CONTINUE
    })
}

/// Runs a callback on a connection's state.
///
/// # Safety
/// `state` is what `open` stored and not yet dropped; `conn` is live.
unsafe fn with_state(
    state: *mut c_void,
    conn: *mut rsws_conn,
    body: impl FnOnce(&mut dyn Connection, &mut Conn<'_>) -> Result<(), WsError>,
) -> c_int {
    guard(|| {
        // SAFETY: the caller's guarantee; one connection's callbacks never
        // overlap, so this is the only reference.
        let (connection, mut ws) = unsafe { (&mut *state.cast::<State>(), Conn::from_raw(conn)) };
        finish(body(&mut **connection, &mut ws))
    })
}

unsafe extern "C" fn on_message(
    state: *mut c_void,
    conn: *mut rsws_conn,
    kind: c_int,
    data: *const u8,
    len: usize,
) -> c_int {
    // SAFETY: the message bytes are valid during this call.
    let payload = unsafe { bytes(rsws_str { ptr: data, len }) }.unwrap_or(&[]);
    // SAFETY: the module's state and connection for this callback.
    unsafe {
        with_state(state, conn, |c, ws| {
            let message = match kind {
                RSWS_TEXT => match std::str::from_utf8(payload) {
                    Ok(text) => Message::Text(text.to_owned()),
                    Err(_) => return Err(WsError::invalid_data("text message is not UTF-8")),
                },
                RSWS_BINARY => Message::Binary(payload.to_vec()),
                _ => return Err(WsError::unsupported("unknown message kind")),
            };
            c.on_message(ws, message)
        })
    }
}

unsafe extern "C" fn on_timer(state: *mut c_void, conn: *mut rsws_conn) -> c_int {
    // SAFETY: the module's state and connection for this callback.
    unsafe { with_state(state, conn, |c, ws| c.on_timer(ws)) }
}

unsafe extern "C" fn on_written(state: *mut c_void, conn: *mut rsws_conn) -> c_int {
    // SAFETY: the module's state and connection for this callback.
    unsafe { with_state(state, conn, |c, ws| c.on_written(ws)) }
}

unsafe extern "C" fn on_close(
    state: *mut c_void,
    conn: *mut rsws_conn,
    code: c_int,
    reason: *const u8,
    len: usize,
) -> c_int {
    // SAFETY: the reason bytes are valid during this call.
    let reason = unsafe { bytes(rsws_str { ptr: reason, len }) }.unwrap_or(&[]);
    let peer = u16::try_from(code)
        .ok()
        .filter(|&code| code != 0)
        .map(|code| CloseFrame {
            code,
            reason: String::from_utf8_lossy(reason).into_owned(),
        });
    // SAFETY: the module's state and connection for this callback.
    unsafe { with_state(state, conn, |c, ws| c.on_close(ws, peer.as_ref())) }
}

unsafe extern "C" fn drop_state(state: *mut c_void) {
    if state.is_null() {
        return;
    }
    // SAFETY: what open stored, dropped once (the module calls drop once).
    let connection = unsafe { Box::from_raw(state.cast::<State>()) };
    if let Err(payload) = in_callback(|| catch_unwind(AssertUnwindSafe(move || drop(connection)))) {
        let text =
            take_description().unwrap_or_else(|| format!("panicked: {}", panic_text(&*payload)));
        log(Level::Error, &format!("a connection's drop {text}"));
        let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
    }
}

unsafe extern "C" fn transfer_data<H: Handler>(data: *mut c_void, conn: *mut rsws_conn) -> c_int {
    guard(|| {
        // SAFETY: data is the H leaked for good; conn is live during this call.
        let (handler, mut ws) = unsafe { (&*data.cast::<H>(), WebSocket::from_raw(conn)) };
        finish(handler.transfer_data(&mut ws))
    })
}

/// Defines the plugin's entry point, `rswebsocket_plugin_v1`, serving the
/// handlers listed: `event "name" => value` for an [`EventHandler`],
/// `blocking "name" => value` for a [`Handler`].
///
/// ```ignore
/// rswebsocket_sdk::export_handlers! {
///     event "echo" => Echo,
///     blocking "count" => Count,
/// }
/// ```
#[macro_export]
macro_rules! export_handlers {
    ($($style:ident $name:literal => $handler:expr),* $(,)?) => {
        /// The plugin's one exported symbol (mod_rswebsocket plugin ABI 1).
        ///
        /// # Safety
        /// `host` is NULL or the module's function table (see the header).
        #[no_mangle]
        pub unsafe extern "C" fn rswebsocket_plugin_v1(
            host: *const $crate::ffi::rsws_host,
        ) -> *const $crate::ffi::rsws_plugin {
            // SAFETY: the caller's (the module's) guarantee, passed on.
            unsafe {
                $crate::export::plugin_entry(host, || {
                    ::std::vec![$($crate::export::$style(::std::concat!($name, "\0"), $handler)),*]
                })
            }
        }
    };
}
