//! One WebSocket upgrade, from the validated handshake to the end of the
//! connection.
use std::os::fd::OwnedFd;
use std::os::raw::c_int;

use std::time::{Duration, Instant};
use wscore::close::codes;

use wscore::event::EventHandler;
use wscore::extensions::{negotiate, CompressionSettings};
use wscore::handler::{Handler, Rejection};
use wscore::handshake::hybi00::KEY3_LEN;
use wscore::handshake::HandshakeError;
use wscore::keepalive::Timeouts;
use wscore::opening::{self, OpeningContext};
use wscore::origin::OriginPolicy;
use wscore::protocol::ProtocolConfig;
use wscore::run::{run_handler, Ending};
use wscore::transport::{Input, Transport, Wait};
use wscore::websocket::WebSocket;

use crate::access_figures::{closing_summary, Figures, SharedFigures};
use crate::apache::conn::Conn;
use crate::apache::log::{Level, Target};
use crate::apache::module_config::RequestConfigType;
use crate::apache::mpm;
use crate::apache::panic::take_last_panic;
use crate::apache::request::Request;
use crate::apache::status::{DONE, SERVER_ERROR};
use crate::apache::table::Table;
use crate::config::Driver;
use crate::event_driver;
use crate::registry;
use crate::transport::ApacheTransport;
use crate::ws_log;

/// What header_parser found for a request: kept in its request config.
pub struct Route {
    /// The resource as dispatched (path without query).
    pub resource: String,
    pub handler_name: String,
    pub handler: &'static dyn Handler,
    pub options: Vec<(String, String)>,
    /// Message size and frame limits.
    pub protocol: ProtocolConfig,
    /// `WebSocketAllowDraft75` of the request's server.
    pub allow_draft75: bool,
    pub timeouts: Timeouts,
    pub origin_policy: OriginPolicy,
    /// `WebSocketMaxConnections` (0: none).
    pub max_connections: u64,
    pub compression: CompressionSettings,
    /// `WebSocketDriver` of the request's server.
    pub driver: Driver,
}

/// header_parser keeps the Route in the request config for the handler hook.
impl RequestConfigType for Route {}

impl Route {
    /// How the logs name a connection: "resource (handler 'name')".
    fn log_name(&self) -> String {
        format!("{} (handler '{}')", self.resource, self.handler_name)
    }
}

pub fn serve_upgrade(r: Request<'_>, route: &Route) -> c_int {
    let log = Target::Request(r);
    let head = r.head();
    let context = OpeningContext {
        remote_addr: r.client_address(),
        options: route.options.clone(),
        allow_draft75: route.allow_draft75,
    };
    let (opening, mut request) = match opening::validate(&head, context) {
        Ok(found) => found,
        Err(error) => return refuse(r, route, error),
    };
    let host = head.header("Host").unwrap_or("");
    if !route
        .origin_policy
        .allows(request.origin.as_deref(), host, head.secure)
    {
        let origin = request.origin.as_deref().unwrap_or("");
        return refuse(
            r,
            route,
            HandshakeError::new(
                403,
                format!("origin '{origin}' refused by WebSocketOriginCheck"),
            ),
        );
    }
    let registration = match registry::register(route.max_connections) {
        Ok(registration) => registration,
        Err(open) => {
            return refuse(
                r,
                route,
                HandshakeError::new(
                    503,
                    format!(
                        "{open} WebSockets already open in this child (WebSocketMaxConnections)"
                    ),
                ),
            )
        }
    };
    // It lives on this stack frame, inside the handler hook; it only reads
    // what follows the request head.
    let mut transport = match ApacheTransport::new(r) {
        Ok(t) => t,
        Err(e) => {
            ws_log!(log, Level::Err, "cannot use the connection: {e}");
            return SERVER_ERROR;
        }
    };
    let key3 = if opening.needs_key3() {
        match read_key3(&mut transport) {
            Ok(key3) => Some(key3),
            Err(error) => return refuse(r, route, error),
        }
    } else {
        None
    };
    if let Err(rejection) = route.handler.do_extra_handshake(&mut request) {
        return reject(r, route, rejection);
    }
    if let Err(why) = opening.check_protocol(&request) {
        ws_log!(log, Level::Err, "handler '{}': {why}", route.handler_name);
        return SERVER_ERROR;
    }
    let agreement = if request.allow_extensions {
        negotiate(&request.requested_extensions, &route.compression)
    } else {
        None
    };
    let extensions = agreement.as_ref().map(|a| a.response.clone());
    let response = opening.response(&request, extensions.as_deref(), key3.as_ref());
    // The handshake is accepted: the connection is ours.
    r.take_over();
    if let Err(e) = transport.write_all(&response) {
        ws_log!(
            log,
            Level::Debug,
            "client gone before the 101 was sent: {e}"
        );
        return DONE;
    }
    ws_log!(
        log,
        Level::Debug,
        "WebSocket {} open (version {}, handler '{}', subprotocol {:?}, extensions {:?})",
        route.resource,
        request.version,
        route.handler_name,
        request.protocol,
        agreement.as_ref().map(|a| a.response.as_str())
    );
    let mut config = route.protocol.clone();
    config.compression = agreement.map(|a| a.compression);
    let conn = r.connection();
    let (event_handler, why) = choose_driver(route, conn);
    ws_log!(
        log,
        Level::Debug,
        "WebSocket {} served by the {} driver ({why})",
        route.resource,
        if event_handler.is_some() {
            "event"
        } else {
            "threaded"
        }
    );
    set_all(
        r.notes(),
        &[
            ("rswebsocket-resource", route.resource.clone()),
            ("rswebsocket-version", request.version.to_string()),
            ("rswebsocket-extensions", extensions.unwrap_or_default()),
            (
                "rswebsocket-transport",
                transport_name(conn, head.secure).into(),
            ),
        ],
    );
    if let Some(handler) = event_handler {
        r.set_body_bytes_sent(transport.bytes_out());
        let mut session = match opening.bare_session(request, config, Instant::now()) {
            Ok(session) => session,
            Err(e) => {
                ws_log!(log, Level::Err, "cannot start the WebSocket: {e}");
                return DONE;
            }
        };
        session.set_timeouts(Timeouts {
            transport_silence: Some(parking_timeout(r)),
            ..route.timeouts
        });
        session.set_tracing(r.log_enabled(Level::Trace1));
        let figures = SharedFigures::new(transport.bytes_in(), transport.bytes_out());
        let opened = event_driver::Opened {
            registration,
            stop_fd: stop_socket(&transport, head.secure),
            resource: route.resource.clone(),
            name: route.log_name(),
            log_line: figures.log_at_end(r),
            figures,
        };
        return event_driver::start(conn, session, handler, opened);
    }
    let stop_fd = stop_socket(&transport, head.secure);
    let mut ws = match opening.session(&mut transport, route.handler, request, config) {
        Ok(ws) => ws,
        Err(e) => {
            ws_log!(log, Level::Err, "cannot start the WebSocket: {e}");
            return DONE;
        }
    };
    ws.set_timeouts(route.timeouts);
    if r.log_enabled(Level::Trace1) {
        ws.set_tracer(|line| ws_log!(log, Level::Trace1, "WebSocket {}: {line}", route.resource));
    }
    registration.attach(ws.sender(), stop_fd);
    let ending = run_handler(route.handler, &mut ws);
    report_ending(r, route, &ws, ending);
    // The counts now; the bytes once the session lets go of the transport.
    let counts = Figures::of(ws.session(), 0, 0);
    drop(ws);
    Figures {
        bytes_in: transport.bytes_in(),
        bytes_out: transport.bytes_out(),
        ..counts
    }
    .fill(r);
    DONE
}

/// How the WebSocket reached the server: an HTTP/1.1 upgrade, or an
/// HTTP/2 stream (RFC 8441) over TLS or cleartext.
fn transport_name(conn: Conn<'_>, secure: bool) -> &'static str {
    match (conn.is_secondary(), secure) {
        (false, _) => "http/1.1",
        (true, true) => "h2",
        (true, false) => "h2c",
    }
}

/// A plain connection can still get a close frame when Apache stops at
/// once; over TLS that needs mod_ssl, which is gone by then.
fn stop_socket(transport: &ApacheTransport, secure: bool) -> Option<OwnedFd> {
    (!secure)
        .then(|| transport.duplicate_socket().ok())
        .flatten()
}

/// How long a HyBi-00 client may take to send the 8 bytes after its headers.
const KEY3_WAIT: Duration = Duration::from_secs(10);

/// HyBi-00's key3: the 8 bytes after the headers, with no Content-Length;
/// they may come with the headers or later, in pieces.
fn read_key3(transport: &mut ApacheTransport) -> Result<[u8; KEY3_LEN], HandshakeError> {
    let mut key3 = [0u8; KEY3_LEN];
    let mut have = 0;
    let deadline = Instant::now() + KEY3_WAIT;
    while have < KEY3_LEN {
        let wait = Wait {
            wakeup: None,
            timeout: Some(deadline.saturating_duration_since(Instant::now())),
        };
        match transport.read(&mut key3[have..], wait) {
            Ok(Input::Data(n)) => have += n,
            Ok(Input::Woken) => {}
            _ => {
                return Err(HandshakeError::bad_request(format!(
                    "HyBi-00 handshake: {have} of the 8 bytes after the headers arrived"
                )))
            }
        }
    }
    Ok(key3)
}

/// A handler's refusal: its status (logged with the reason), or no response.
fn reject(r: Request<'_>, route: &Route, rejection: Rejection) -> c_int {
    let log = Target::Request(r);
    match rejection {
        Rejection::Status(status, reason) => {
            ws_log!(
                log,
                Level::Warn,
                "WebSocket handshake for {} refused by handler '{}' with {status}: {reason}",
                route.resource,
                route.handler_name
            );
            status as c_int
        }
        Rejection::Abort => {
            ws_log!(
                log,
                Level::Info,
                "WebSocket handshake for {} aborted by handler '{}'",
                route.resource,
                route.handler_name
            );
            // Nothing has been written yet.
            r.abort_connection();
            DONE
        }
    }
}

/// Copies name/value pairs into an APR table (`r->notes`, which
/// `LogFormat` reads with `%{NAME}n`; `r->err_headers_out`). A pair with a
/// NUL byte cannot be a C string and is skipped.
fn set_all<N: AsRef<str>, V: AsRef<str>>(table: Table<'_>, pairs: &[(N, V)]) {
    for (name, value) in pairs {
        table.set(name.as_ref(), value.as_ref());
    }
}

/// Answers a bad handshake with its status, and logs one line saying why.
fn refuse(r: Request<'_>, route: &Route, error: HandshakeError) -> c_int {
    ws_log!(
        Target::Request(r),
        Level::Warn,
        "WebSocket handshake for {} refused with {}: {}",
        route.resource,
        error.status,
        error.reason
    );
    // err_headers_out survives the error response.
    set_all(r.err_headers_out(), &error.headers);
    error.status as c_int
}

fn report_ending(r: Request<'_>, route: &Route, ws: &WebSocket<'_>, ending: Ending) {
    let log = Target::Request(r);
    let summary = closing_summary(&route.log_name(), ws.session());
    match ending {
        Ending::Completed => ws_log!(log, Level::Debug, "{summary}"),
        Ending::Failed(error) => ws_log!(log, Level::Debug, "{summary}: {error}"),
        Ending::Panicked(_) => {
            ws_log!(
                log,
                Level::Err,
                "handler '{}' for {} {}; closed the connection with {}",
                route.handler_name,
                route.resource,
                take_last_panic(),
                codes::INTERNAL
            );
        }
    }
}

/// How long the event MPM keeps a parked connection without client bytes:
/// the `Timeout` of the request's virtual host where that host sets
/// `KeepAliveTimeout`, else of the connection's base server (event.c picks
/// its queues that way).
fn parking_timeout(r: Request<'_>) -> Duration {
    let server = r.server();
    match r.connection().base_server() {
        Some(base) if !server.sets_keep_alive_timeout() => base.timeout(),
        _ => server.timeout(),
    }
}

/// The event-style handler to park, when the event driver can serve this
/// connection, and why that driver was chosen (for the debug log).
fn choose_driver(
    route: &Route,
    conn: Conn<'_>,
) -> (Option<&'static dyn EventHandler>, &'static str) {
    // A stream first: it is the reason whatever else is configured.
    if conn.is_secondary() {
        return (None, "an HTTP/2 stream");
    }
    let Some(handler) = route.handler.event_handler() else {
        return (None, "a transfer_data handler");
    };
    if route.driver == Driver::Threaded {
        return (None, "WebSocketDriver threaded");
    }
    if !conn.has_async_state() || !mpm::can_wait_io() {
        return (None, "this MPM cannot park connections");
    }
    (Some(handler), "parked between messages")
}
