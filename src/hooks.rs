//! The hooks: post_config scans the handler files, header_parser spots a
//! WebSocket upgrade for a known resource, and the handler hook (after
//! Apache's access checks) performs the handshake and runs the handler.
use std::os::raw::c_int;
use std::ptr;
use std::time::Duration;

use wscore::dispatch::{normalize_resource, HandlerMap};
use wscore::handshake::is_websocket_upgrade;
use wscore::keepalive::Timeouts;

use crate::config::{dir_config, server_config};
use crate::ffi;
use crate::log::{guard, install_panic_hook, Level, Target};
use crate::module::rswebsocket_module;
use crate::pool::pool_box;
use crate::registry;
use crate::request::{decoded_path, header, is_secondary, request_head};
use crate::upgrade::{serve_upgrade, Route};
use crate::ws_log;

const OK: c_int = ffi::OK as c_int;
const DECLINED: c_int = ffi::DECLINED;
const SERVER_ERROR: c_int = ffi::HTTP_INTERNAL_SERVER_ERROR as c_int;

pub unsafe extern "C" fn register_hooks(_pool: *mut ffi::apr_pool_t) {
    guard(Target::Server(ptr::null()), "register_hooks", (), || {
        install_panic_hook();
        // SAFETY: registering hook functions during module load, as every
        // module does; the functions live as long as the DSO.
        unsafe {
            ffi::ap_hook_post_config(
                Some(post_config),
                ptr::null(),
                ptr::null(),
                ffi::APR_HOOK_MIDDLE as c_int,
            );
            ffi::ap_hook_header_parser(
                Some(header_parser),
                ptr::null(),
                ptr::null(),
                ffi::APR_HOOK_MIDDLE as c_int,
            );
            ffi::ap_hook_child_stopping(
                Some(child_stopping),
                ptr::null(),
                ptr::null(),
                ffi::APR_HOOK_MIDDLE as c_int,
            );
            ffi::ap_hook_handler(
                Some(handler),
                ptr::null(),
                ptr::null(),
                ffi::APR_HOOK_FIRST as c_int,
            );
        }
    })
}

/// The child is being stopped or restarted. Gracefully: wake every open
/// WebSocket now, so each decides (close 1001, or go on after a graceful
/// restart) without waiting for its next poll slice. At once (`apachectl
/// stop`): Apache has already closed the connections, so the plain ones get
/// their close frame from here.
unsafe extern "C" fn child_stopping(_pool: *mut ffi::apr_pool_t, graceful: c_int) {
    if graceful != 0 {
        guard(
            Target::Server(ptr::null()),
            "child_stopping",
            (),
            registry::wake_all,
        )
    } else {
        // No logging or allocation: under prefork this runs inside the
        // SIGTERM handler. Nothing in it can panic.
        registry::close_plain_connections_now()
    }
}

/// Scans each server's handler root once per configuration load; children
/// inherit the result, so requests never touch the filesystem for dispatch.
unsafe extern "C" fn post_config(
    _pconf: *mut ffi::apr_pool_t,
    _plog: *mut ffi::apr_pool_t,
    _ptemp: *mut ffi::apr_pool_t,
    main_server: *mut ffi::server_rec,
) -> c_int {
    guard(
        Target::Server(main_server),
        "post_config",
        SERVER_ERROR,
        || {
            // SAFETY: state query and walking the server list Apache built.
            unsafe {
                if ffi::ap_state_query(ffi::AP_SQ_MAIN_STATE as c_int)
                    == ffi::AP_SQ_MS_CREATE_PRE_CONFIG as c_int
                {
                    return OK; // the first, dry pass: scan only for real
                }
                let mut server = main_server;
                while !server.is_null() {
                    scan_handlers(server);
                    server = (*server).next;
                }
            }
            OK
        },
    )
}

fn scan_handlers(server: *mut ffi::server_rec) {
    // SAFETY: server is a live server_rec of the configuration being loaded.
    let config = unsafe { server_config(server) };
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
unsafe extern "C" fn header_parser(r: *mut ffi::request_rec) -> c_int {
    guard(Target::Request(r), "header_parser", DECLINED, || {
        // SAFETY: r is the live request of this hook.
        unsafe {
            // Most requests have no Upgrade header: decide on that alone.
            if is_secondary(r) || header(r, c"Upgrade").is_none() {
                return DECLINED;
            }
            if !is_websocket_upgrade(&request_head(r)) {
                return DECLINED;
            }
            let Some(route) = find_route(r) else {
                ws_log!(
                    Target::Request(r),
                    Level::Debug,
                    "WebSocket upgrade for {}: no handler, declined",
                    decoded_path(r).unwrap_or("?")
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
            let route = pool_box((*r).pool, route);
            ffi::ap_set_module_config(
                (*r).request_config,
                rswebsocket_module.as_ptr(),
                route.cast(),
            );
        }
        DECLINED
    })
}

/// The handler serving this request: `WebSocketHandler` in its `<Location>`
/// first, else a handler file under the server's root.
///
/// # Safety
/// `r` must be the live request of the current hook.
unsafe fn find_route(r: *mut ffi::request_rec) -> Option<Route> {
    // SAFETY: per_dir_config and server are live for the request.
    let (dir, server) = unsafe { (dir_config((*r).per_dir_config), server_config((*r).server)) };
    // SAFETY: r->uri lives in the request pool.
    let path = unsafe { decoded_path(r) }?;
    let protocol = dir.protocol_config();
    let allow_draft75 = server.allow_draft75.unwrap_or(false);
    let max_connections = server.max_connections.unwrap_or(0);
    let timeouts = Timeouts {
        idle: dir.idle_timeout(),
        ping_interval: dir.ping_interval(),
        // A client stalled inside a frame gets the core TimeOut, as a
        // stalled request body would.
        // SAFETY: r->server is the live server of this request.
        stalled_frame: Some(Duration::from_micros(
            unsafe { (*(*r).server).timeout } as u64
        )),
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
    })
}

unsafe extern "C" fn handler(r: *mut ffi::request_rec) -> c_int {
    guard(Target::Request(r), "handler", SERVER_ERROR, || {
        // SAFETY: the request config slot holds NULL or the Route that
        // header_parser allocated in r->pool.
        let route = unsafe {
            ffi::ap_get_module_config((*r).request_config, rswebsocket_module.as_ptr())
                .cast::<Route>()
        };
        if route.is_null() {
            return DECLINED;
        }
        // SAFETY: non-NULL, so it is our live Route.
        serve_upgrade(r, unsafe { &*route })
    })
}
