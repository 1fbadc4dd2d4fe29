//! A plugin's handler as the drivers see it: a `wscore` [`Handler`] (and,
//! for the event style, [`EventHandler`]) whose methods call the plugin's
//! callbacks with the module's handles.
use std::ffi::c_void;
use std::os::raw::c_int;
use std::path::PathBuf;
use std::ptr;

use wscore::close::CloseFrame;
use wscore::error::WsError;
use wscore::event::{serve, Conn, Connection, EventHandler};
use wscore::handler::{Handler, HandshakeRequest, Rejection};
use wscore::protocol::Message;
use wscore::websocket::WebSocket;

use super::super::ffi;
use super::context::{
    connection_result, forget_explained, handshake_result, option_result, ConnCtx, RequestCtx,
    Side, CONTINUE,
};

/// One handler of a loaded plugin.
pub struct PluginHandler {
    pub(super) name: String,
    /// The library as the handler file names it (for log lines).
    pub(super) library: PathBuf,
    pub(super) callbacks: ffi::rsws_handler,
}

// SAFETY: the ABI requires a handler's callbacks to be callable from any
// thread, concurrently; `data` is the plugin's and only reaches them.
unsafe impl Send for PluginHandler {}
// SAFETY: as for Send.
unsafe impl Sync for PluginHandler {}

impl PluginHandler {
    pub(super) fn is_event_style(&self) -> bool {
        self.callbacks.open.is_some()
    }

    /// Calls a connection callback with a fresh handle for `side`.
    fn call(
        &self,
        side: Side<'_, '_>,
        callback: impl FnOnce(*mut ffi::rsws_conn) -> c_int,
    ) -> Result<(), WsError> {
        forget_explained();
        let mut ctx = ConnCtx::new(side);
        let code = callback(ptr::from_mut(&mut ctx).cast());
        connection_result(code, ctx.error.take(), &self.library)
    }
}

impl Handler for PluginHandler {
    fn do_extra_handshake(&self, request: &mut HandshakeRequest) -> Result<(), Rejection> {
        let Some(callback) = self.callbacks.do_extra_handshake else {
            return Ok(());
        };
        forget_explained();
        let mut ctx = RequestCtx::Handshake(request);
        // SAFETY: a callback of the plugin's table with its own data and a
        // request handle alive for the call (the ABI's contract).
        let code = unsafe { callback(self.callbacks.data, ptr::from_mut(&mut ctx).cast()) };
        handshake_result(code, &self.library)
    }

    fn transfer_data(&self, ws: &mut WebSocket<'_>) -> Result<(), WsError> {
        if self.is_event_style() {
            return serve(self, ws);
        }
        let Some(callback) = self.callbacks.transfer_data else {
            return Err(WsError::internal("plugin handler without callbacks"));
        };
        forget_explained();
        let mut ctx = ConnCtx::new(Side::Blocking(ws));
        // SAFETY: as in do_extra_handshake; the connection handle is alive
        // for the call.
        let code = unsafe { callback(self.callbacks.data, ptr::from_mut(&mut ctx).cast()) };
        // A connection error the plugin saw and did not pass on still ends it.
        let error = ctx.error.take();
        match (code, error) {
            (CONTINUE, Some(error)) => Err(error),
            (code, error) => connection_result(code, error, &self.library),
        }
    }

    fn check_option(&self, key: &str, value: &str) -> Result<(), String> {
        let Some(callback) = self.callbacks.check_option else {
            return Err(format!("unknown option '{key}'"));
        };
        let text = |s: &str| ffi::rsws_str {
            ptr: s.as_ptr(),
            len: s.len(),
        };
        forget_explained();
        // SAFETY: as in do_extra_handshake; key and value outlive the call.
        option_result(unsafe { callback(self.callbacks.data, text(key), text(value)) })
    }

    fn event_handler(&self) -> Option<&dyn EventHandler> {
        self.is_event_style().then_some(self as &dyn EventHandler)
    }
}

impl EventHandler for PluginHandler {
    fn do_extra_handshake(&self, request: &mut HandshakeRequest) -> Result<(), Rejection> {
        Handler::do_extra_handshake(self, request)
    }

    fn check_option(&self, key: &str, value: &str) -> Result<(), String> {
        Handler::check_option(self, key, value)
    }

    fn open(&self, ws: &mut Conn<'_>) -> Box<dyn Connection> {
        let mut state: *mut c_void = ptr::null_mut();
        let mut opened = false;
        if let Some(open) = self.callbacks.open {
            let result = self.call(Side::Event(ws), |conn| {
                // SAFETY: as in do_extra_handshake; state is writable.
                let code = unsafe { open(self.callbacks.data, conn, &mut state) };
                opened = code == CONTINUE;
                code
            });
            if let Err(error) = result {
                // Refused at open: close as an error from a callback would.
                if let Some(code) = error.close_code() {
                    let _ = ws.close(code, error.close_reason());
                }
            }
        }
        Box::new(PluginConnection {
            handler: self,
            state,
            opened,
        })
    }
}

/// One connection's state in the plugin.
struct PluginConnection {
    /// Plugin handlers are leaked when loaded and never freed.
    handler: *const PluginHandler,
    state: *mut c_void,
    /// Whether open succeeded, so drop is owed.
    opened: bool,
}

// SAFETY: the ABI lets a connection's callbacks (and drop) run on any
// thread, one at a time, which is how Dispatch calls them.
unsafe impl Send for PluginConnection {}

impl PluginConnection {
    fn handler(&self) -> &PluginHandler {
        // SAFETY: leaked at load, never freed (library.rs).
        unsafe { &*self.handler }
    }

    /// The plugin's callbacks, if its open succeeded: after a refused open
    /// the closing handshake runs without the plugin.
    fn callbacks(&self) -> Option<&ffi::rsws_handler> {
        self.opened.then(|| &self.handler().callbacks)
    }
}

impl Connection for PluginConnection {
    fn on_message(&mut self, ws: &mut Conn<'_>, message: Message) -> Result<(), WsError> {
        let Some(on_message) = self.callbacks().and_then(|c| c.on_message) else {
            return Ok(());
        };
        let (kind, data) = match &message {
            Message::Text(text) => (ffi::RSWS_TEXT, text.as_bytes()),
            Message::Binary(bytes) => (ffi::RSWS_BINARY, bytes.as_slice()),
        };
        let state = self.state;
        self.handler().call(Side::Event(ws), |conn| {
            // SAFETY: as in do_extra_handshake; data outlives the call.
            unsafe { on_message(state, conn, kind as c_int, data.as_ptr(), data.len()) }
        })
    }

    fn on_timer(&mut self, ws: &mut Conn<'_>) -> Result<(), WsError> {
        let (Some(on_timer), state) = (self.callbacks().and_then(|c| c.on_timer), self.state)
        else {
            return Ok(());
        };
        // SAFETY: as in do_extra_handshake.
        self.handler()
            .call(Side::Event(ws), |conn| unsafe { on_timer(state, conn) })
    }

    fn on_written(&mut self, ws: &mut Conn<'_>) -> Result<(), WsError> {
        let (Some(on_written), state) = (self.callbacks().and_then(|c| c.on_written), self.state)
        else {
            return Ok(());
        };
        // SAFETY: as in do_extra_handshake.
        self.handler()
            .call(Side::Event(ws), |conn| unsafe { on_written(state, conn) })
    }

    fn on_close(&mut self, ws: &mut Conn<'_>, peer: Option<&CloseFrame>) -> Result<(), WsError> {
        let (Some(on_close), state) = (self.callbacks().and_then(|c| c.on_close), self.state)
        else {
            return Ok(());
        };
        let (code, reason) = peer.map_or((0, ""), |p| (c_int::from(p.code), p.reason.as_str()));
        self.handler().call(Side::Event(ws), |conn| {
            // SAFETY: as in do_extra_handshake; reason outlives the call.
            unsafe { on_close(state, conn, code, reason.as_ptr(), reason.len()) }
        })
    }
}

impl Drop for PluginConnection {
    fn drop(&mut self) {
        if let Some(drop_state) = self.callbacks().and_then(|c| c.drop) {
            // SAFETY: the state open returned, given back once (the ABI's
            // contract: drop must not unwind).
            unsafe { drop_state(self.state) }
        }
    }
}
