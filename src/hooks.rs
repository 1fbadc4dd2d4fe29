//! The hooks: post_config scans the handler files, header_parser spots a
//! WebSocket upgrade for a known resource, and the handler hook (after
//! Apache's access checks) performs the handshake and runs the handler.
use std::os::raw::c_int;

use wscore::dispatch::{normalize_resource, HandlerMap};
use wscore::handshake::is_websocket_upgrade;
use wscore::keepalive::Timeouts;

use crate::apache::hooks::{
    child_stopping_hook, handler_hook, header_parser_hook, post_config_hook,
    pre_close_connection_hook, process_connection_hook, suspend_resume_hooks, ChildStoppingHook,
    Order, PostConfigHook, RegisterHooks, RequestHook,
};
use crate::apache::log::{Level, Target};
use crate::apache::request::Request;
use crate::apache::server::Server;
use crate::apache::state::is_dry_config_pass;
use crate::apache::status::{DECLINED, OK, SERVER_ERROR};
use crate::config::{DirConfig, ServerConfig};
use crate::event_driver;
use crate::registry;
use crate::upgrade::{serve_upgrade, Route};
use crate::ws_log;

/// The hooks this module registers, in the order they were registered.
pub struct Hooks;

impl RegisterHooks for Hooks {
    fn register() {
        post_config_hook::<ScanHandlers>(Order::Middle);
        header_parser_hook::<FindRoute>(Order::Middle);
        child_stopping_hook::<StopConnections>(Order::Middle);
        // First, so no other handler answers a WebSocket upgrade.
        handler_hook::<Upgrade>(Order::First);
        // The event driver's: before mod_http2's and the core's.
        process_connection_hook::<event_driver::Resume>(Order::Middle);
        suspend_resume_hooks::<event_driver::Parking>(Order::Middle);
        pre_close_connection_hook::<event_driver::Closing>(Order::Middle);
        crate::apache::late_log::register_filter();
    }
}

/// The child is being stopped or restarted. Gracefully: wake every open
/// WebSocket now, so each decides (close 1001, or go on after a graceful
/// restart) without waiting for its next poll slice. At once (`apachectl
/// stop`): Apache has already closed the connections, so the plain ones get
/// their close frame from here.
struct StopConnections;

impl ChildStoppingHook for StopConnections {
    fn graceful() {
        registry::wake_all()
    }

    fn immediately() {
        // No logging or allocation: under prefork this runs inside the
        // SIGTERM handler. Nothing in it can panic.
        registry::close_plain_connections_now()
    }
}

/// Scans each server's handler root once per configuration load; children
/// inherit the result, so requests never touch the filesystem for dispatch.
struct ScanHandlers;

impl PostConfigHook for ScanHandlers {
    fn run(main_server: Server<'_>) -> c_int {
        if is_dry_config_pass() {
            return OK; // the first, dry pass: scan only for real
        }
        let mut server = Some(main_server);
        while let Some(current) = server {
            scan_handlers(current);
            server = current.next();
        }
        OK
    }
}

fn scan_handlers(server: Server<'_>) {
    let config = server.config::<ServerConfig>();
    let Some(root) = config.handler_root.clone() else {
        let _ = config.handlers.set(HandlerMap::default());
        return;
    };
    let target = Target::Server(server);
    let (map, mut warnings) = HandlerMap::scan(
        &root,
        config.handler_scan.as_deref(),
        config.allow_outside_root(),
    );
    warnings.extend(map.check_options(handlers::find));
    for warning in &warnings {
        ws_log!(
            target,
            Level::Warn,
            "mod_rswebsocket: handler file {warning}"
        );
    }
    for entry in map.iter() {
        if handlers::find(&entry.handler).is_none() {
            ws_log!(
                target,
                Level::Warn,
                "mod_rswebsocket: handler file {}: unknown handler '{}' (compiled-in: {}); {} will not be served",
                entry.file.display(),
                entry.handler,
                handlers::names().join(", "),
                entry.resource
            );
        }
    }
    ws_log!(
        target,
        Level::Debug,
        "mod_rswebsocket: {} handler file(s) under {}",
        map.len(),
        root.display()
    );
    let _ = config.handlers.set(map);
}

/// Like mod_pywebsocket's PythonHeaderParserHandler: decides whether this
/// request is a WebSocket upgrade for a resource we serve, and marks it for
/// the handler hook. Everything else is left to Apache.
struct FindRoute;

impl RequestHook for FindRoute {
    const NAME: &'static str = "header_parser";
    const ON_PANIC: c_int = DECLINED;

    fn run(r: Request<'_>) -> c_int {
        // Most requests have no Upgrade header: decide on that alone.
        if r.is_secondary() || r.header(c"Upgrade").is_none() {
            return DECLINED;
        }
        if !is_websocket_upgrade(&r.head()) {
            return DECLINED;
        }
        let Some(route) = find_route(r) else {
            ws_log!(
                Target::Request(r),
                Level::Debug,
                "WebSocket upgrade for {}: no handler, declined",
                r.decoded_path().unwrap_or("?")
            );
            return DECLINED;
        };
        ws_log!(
            Target::Request(r),
            Level::Debug,
            "WebSocket upgrade for {} goes to handler '{}'",
            route.resource,
            route.handler_name
        );
        r.set_request_config(route);
        DECLINED
    }
}

/// The handler serving this request: `WebSocketHandler` in its `<Location>`
/// first, else a handler file under the server's root.
fn find_route(r: Request<'_>) -> Option<Route> {
    let dir = r.dir_config::<DirConfig>();
    let server = r.server().config::<ServerConfig>();
    let path = r.decoded_path()?;
    let protocol = dir.protocol_config();
    let allow_draft75 = server.allow_draft75.unwrap_or(false);
    let max_connections = server.max_connections.unwrap_or(0);
    let driver = server.driver();
    let timeouts = Timeouts {
        idle: dir.idle_timeout(),
        ping_interval: dir.ping_interval(),
        // A client stalled inside a frame gets the core TimeOut, as a
        // stalled request body would.
        stalled_frame: Some(r.server().timeout()),
        // Set where the event driver parks the connection.
        transport_silence: None,
    };
    if let Some(name) = &dir.handler {
        return Some(Route {
            resource: path.to_string(),
            handler_name: name.clone(),
            handler: handlers::find(name)?,
            options: Vec::new(),
            protocol: protocol.clone(),
            allow_draft75,
            timeouts,
            origin_policy: dir.origin_policy(),
            max_connections,
            compression: dir.compression_settings(),
            driver,
        });
    }
    let resource = normalize_resource(path)?;
    let entry = server.handlers.get()?.lookup(&resource)?;
    Some(Route {
        resource,
        handler_name: entry.handler.clone(),
        handler: handlers::find(&entry.handler)?,
        options: entry.options.clone(),
        protocol,
        allow_draft75,
        timeouts,
        origin_policy: dir.origin_policy(),
        max_connections,
        compression: dir.compression_settings(),
        driver,
    })
}

/// After Apache's access checks: performs the handshake header_parser
/// marked this request for, and runs the handler.
struct Upgrade;

impl RequestHook for Upgrade {
    const NAME: &'static str = "handler";
    const ON_PANIC: c_int = SERVER_ERROR;

    fn run(r: Request<'_>) -> c_int {
        match r.request_config::<Route>() {
            Some(route) => serve_upgrade(r, route),
            None => DECLINED,
        }
    }
}
