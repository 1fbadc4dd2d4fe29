//! One WebSocket upgrade, from the validated handshake to the end of the
//! connection.
use std::os::raw::c_int;

use wscore::close::codes;
use wscore::extensions::{negotiate, CompressionSettings};
use wscore::handler::{Handler, HandshakeRequest, ProtocolVersion, Rejection};
use wscore::handshake::{detect_draft, rfc6455, Draft, HandshakeError, RequestHead};
use wscore::protocol::ProtocolConfig;
use wscore::run::{run_handler, Ending};
use wscore::transport::Transport;
use wscore::websocket::WebSocket;

use crate::ffi;
use crate::log::{take_last_panic, Level, Target};
use crate::request::{client_address, request_head};
use crate::takeover::{abort_connection, take_over};
use crate::transport::ApacheTransport;
use crate::ws_log;

const DONE: c_int = ffi::DONE;

/// What header_parser found for a request: kept in its request config.
pub struct Route {
    /// The resource as dispatched (path without query).
    pub resource: String,
    pub handler_name: String,
    pub handler: &'static dyn Handler,
    pub options: Vec<(String, String)>,
    pub max_message_size: u64,
    pub compression: CompressionSettings,
}

pub fn serve_upgrade(r: *mut ffi::request_rec, route: &Route) -> c_int {
    let log = Target::Request(r);
    // SAFETY: r is the live request of the handler hook.
    let head = unsafe { request_head(r) };
    let (request, accept) = match rfc6455_handshake(r, &head, route) {
        Ok(found) => found,
        Err(error) => return refuse(r, route, error),
    };
    let mut request = request;
    if let Err(rejection) = route.handler.do_extra_handshake(&mut request) {
        return match rejection {
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
                // SAFETY: r is live; nothing has been written yet.
                unsafe { abort_connection(r) };
                DONE
            }
        };
    }
    if let Some(chosen) = &request.protocol {
        if !request.requested_protocols.contains(chosen) {
            ws_log!(
                log,
                Level::Err,
                "handler '{}' chose subprotocol '{chosen}', which the client did not offer",
                route.handler_name
            );
            return ffi::HTTP_INTERNAL_SERVER_ERROR as c_int;
        }
    }
    let agreement = if request.allow_extensions {
        negotiate(&request.requested_extensions, &route.compression)
    } else {
        None
    };
    let response = rfc6455::response(
        &accept,
        request.protocol.as_deref(),
        agreement.as_ref().map(|a| a.response.as_str()),
        &request.response_headers,
    );
    // SAFETY: r is live and the handshake is accepted: the connection is ours.
    unsafe { take_over(r) };
    // SAFETY: the connection has just been taken over; the transport lives
    // on this stack frame, inside the handler hook.
    let mut transport = match unsafe { ApacheTransport::new(r) } {
        Ok(t) => t,
        Err(e) => {
            ws_log!(log, Level::Err, "cannot use the connection: {e}");
            return DONE;
        }
    };
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
    let config = ProtocolConfig {
        max_message_size: route.max_message_size,
        compression: agreement.map(|a| a.compression),
    };
    let mut ws = match WebSocket::new(&mut transport, route.handler, request, config) {
        Ok(ws) => ws,
        Err(e) => {
            ws_log!(log, Level::Err, "cannot start the WebSocket: {e}");
            return DONE;
        }
    };
    let ending = run_handler(route.handler, &mut ws);
    report_ending(r, route, &ws, ending);
    DONE
}

/// Validates an RFC 6455 (13, 8, 7) handshake and builds the handler's view.
fn rfc6455_handshake(
    r: *mut ffi::request_rec,
    head: &RequestHead,
    route: &Route,
) -> Result<(HandshakeRequest, String), HandshakeError> {
    match detect_draft(head) {
        Draft::Rfc6455 => {}
        Draft::Hybi00 | Draft::Hixie75 => {
            return Err(HandshakeError {
                status: 400,
                reason: "the HyBi-00 and Hixie-75 drafts are not supported by this build"
                    .to_string(),
                headers: vec![(
                    "Sec-WebSocket-Version".to_string(),
                    rfc6455::SUPPORTED_VERSIONS.to_string(),
                )],
            })
        }
    }
    let parsed = rfc6455::parse(head)?;
    let accept = rfc6455::accept_key(&parsed.key);
    let request = HandshakeRequest {
        resource: head.uri.clone(),
        origin: parsed.origin,
        version: ProtocolVersion::Rfc6455(parsed.version),
        location: None,
        requested_protocols: parsed.protocols,
        requested_extensions: parsed.extensions,
        headers: head.headers.clone(),
        // SAFETY: r is the live request.
        remote_addr: unsafe { client_address(r) },
        secure: head.secure,
        options: route.options.clone(),
        protocol: None,
        response_headers: Vec::new(),
        allow_extensions: true,
    };
    Ok((request, accept))
}

/// Answers a bad handshake with its status, and logs one line saying why.
fn refuse(r: *mut ffi::request_rec, route: &Route, error: HandshakeError) -> c_int {
    ws_log!(
        Target::Request(r),
        Level::Warn,
        "WebSocket handshake for {} refused with {}: {}",
        route.resource,
        error.status,
        error.reason
    );
    for (name, value) in &error.headers {
        let (Ok(name), Ok(value)) = (
            std::ffi::CString::new(name.as_str()),
            std::ffi::CString::new(value.as_str()),
        ) else {
            continue;
        };
        // SAFETY: err_headers_out is live; apr_table_set copies both strings.
        unsafe { ffi::apr_table_set((*r).err_headers_out, name.as_ptr(), value.as_ptr()) };
    }
    error.status as c_int
}

fn report_ending(r: *mut ffi::request_rec, route: &Route, ws: &WebSocket<'_>, ending: Ending) {
    let log = Target::Request(r);
    let stats = ws.stats();
    let summary = format!(
        "WebSocket {} (handler '{}') closed: sent close {:?}, peer close {:?}, {} message(s) in, {} out",
        route.resource,
        route.handler_name,
        ws.close_sent(),
        ws.close_code(),
        stats.messages_in,
        stats.messages_out
    );
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
