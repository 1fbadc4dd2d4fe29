//! The hooks: check_config scans the handler files (and loads the plugins
//! they name), header_parser spots a WebSocket upgrade for a known
//! resource, and the handler hook (after Apache's access checks) performs
//! the handshake and runs the handler.
use std::os::raw::c_int;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use wscore::dispatch::{normalize_resource, HandlerEntry, HandlerMap};
use wscore::handler::Handler;
use wscore::handshake::is_websocket_upgrade;
use wscore::keepalive::Timeouts;

use crate::apache::hooks::{
    check_config_hook, child_init_hook, child_stopping_hook, handler_hook, header_parser_hook,
    post_config_hook, pre_close_connection_hook, process_connection_hook, suspend_resume_hooks,
    ChildInitHook, ChildStoppingHook, ConfigHook, Order, RegisterHooks, RequestHook,
};
use crate::apache::log::{Level, Target};
use crate::apache::mpm;
use crate::apache::plugin;
use crate::apache::pool::Pool;
use crate::apache::request::Request;
use crate::apache::server::Server;
use crate::apache::state::{is_config_test, is_dry_config_pass, runtime_dir};
use crate::apache::status::{DECLINED, OK, SERVER_ERROR};
use crate::config::{DirConfig, Handlers, ServerConfig};
use crate::event_driver;
use crate::registry;
use crate::upgrade::{serve_upgrade, Route};
use crate::ws_log;

/// The hooks this module registers, in the order they were registered.
pub struct Hooks;

impl RegisterHooks for Hooks {
    fn register() {
        check_config_hook::<ScanHandlers>(Order::Middle);
        post_config_hook::<WarnLocalBroadcast>(Order::Middle);
        header_parser_hook::<FindRoute>(Order::Middle);
        child_init_hook::<StartBroker>(Order::Middle);
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

/// A new child: starts its broker when `WebSocketBroker` is set (its
/// threads belong to the child; the parent, which forks, has none).
struct StartBroker;

impl ChildInitHook for StartBroker {
    fn run(main_server: Server<'_>) {
        if let Some(url) = &main_server.config::<ServerConfig>().broker {
            crate::broker::start(url);
        }
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

/// Scans each server's handler root, and loads the plugins its handler
/// files name, once per configuration read: children inherit the result, so
/// requests never touch the filesystem for dispatch. In check_config, so
/// that `apachectl configtest` fails on a plugin that cannot serve.
struct ScanHandlers;

impl ConfigHook for ScanHandlers {
    const NAME: &'static str = "check_config";

    fn run(main_server: Server<'_>, temp: Pool<'_>) -> c_int {
        let runtime_dir = runtime_dir(temp);
        // Start-up reads the configuration twice: warn in the serving pass
        // only (or when checking the configuration, which reads it once).
        let warn = !is_dry_config_pass() || is_config_test();
        let mut result = OK;
        // Virtual hosts inheriting the main server's root share its scan
        // (and its log lines are not repeated for each).
        let mut scanned: Vec<(ScanSettings, Handlers)> = Vec::new();
        let mut server = Some(main_server);
        while let Some(current) = server {
            server = current.next();
            let config = current.config::<ServerConfig>();
            let Some(settings) = ScanSettings::of(config) else {
                let _ = config.handlers.set(Handlers::default());
                continue;
            };
            let handlers = match scanned.iter().find(|(done, _)| *done == settings) {
                Some((_, handlers)) => handlers.clone(),
                None => {
                    let (handlers, ok) = scan_handlers(current, &settings, &runtime_dir, warn);
                    if !ok {
                        result = SERVER_ERROR;
                    }
                    scanned.push((settings, handlers.clone()));
                    handlers
                }
            };
            let _ = config.handlers.set(handlers);
        }
        result
    }
}

/// Warns, once per start or restart, when a handler that relays messages
/// between connections (`Handler::broadcasts`) is configured, no
/// `WebSocketBroker` is, and the MPM may run more than one child: relaying stays within one process, so
/// members in different children do not hear each other. In post_config,
/// not check_config: the MPM works out how many children it may run in its
/// own check_config hook, which may run after ours.
struct WarnLocalBroadcast;

impl ConfigHook for WarnLocalBroadcast {
    const NAME: &'static str = "post_config";

    fn run(main_server: Server<'_>, _temp: Pool<'_>) -> c_int {
        if is_dry_config_pass() || main_server.config::<ServerConfig>().broker.is_some() {
            return OK;
        }
        let configured = broadcasting_handlers(main_server);
        let Some((name, place)) = configured.first() else {
            return OK;
        };
        let children = match mpm::max_children() {
            Some(n) if n > 1 => n,
            _ => return OK,
        };
        let others = match configured.len() - 1 {
            0 => String::new(),
            1 => ", and 1 more place".to_string(),
            n => format!(", and {n} more places"),
        };
        // Under prefork a child holds one connection: ServerLimit 1 would
        // leave one member in all.
        let way_out = if mpm::is_threaded() {
            "ServerLimit 1 keeps every connection in one child"
        } else {
            "a threaded MPM such as event with ServerLimit 1 keeps every connection in one child"
        };
        ws_log!(
            Target::Server(main_server),
            Level::Warn,
            "mod_rswebsocket: handler '{name}' ({place}{others}) relays messages within one Apache child, \
             and the {mpm} MPM may run up to {children} children: members in different children do not \
             hear each other ({way_out}; WebSocketBroker shares rooms across children and servers through Redis)",
            mpm = mpm::name()
        );
        OK
    }
}

/// Every broadcasting handler configured in any server, as (handler, where:
/// its handler file, or its `WebSocketHandler` line), each place once
/// (virtual hosts share their main server's handler files).
fn broadcasting_handlers(main_server: Server<'_>) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = Vec::new();
    let mut add = |name: &str, place: String| {
        if !found.iter().any(|(n, p)| n == name && *p == place) {
            found.push((name.to_string(), place));
        }
    };
    let mut server = Some(main_server);
    while let Some(current) = server {
        server = current.next();
        let config = current.config::<ServerConfig>();
        if let Some(scanned) = config.handlers.get() {
            for entry in scanned.files.iter() {
                if scanned
                    .resolved
                    .get(&entry.resource)
                    .is_some_and(|handler| handler.broadcasts())
                {
                    add(&entry.handler, entry.file.display().to_string());
                }
            }
        }
        for (name, position) in &config.location_handlers {
            if handlers::find(name).is_some_and(|handler| handler.broadcasts()) {
                add(name, format!("WebSocketHandler at {position}"));
            }
        }
    }
    found
}

/// What decides a scan's result.
#[derive(PartialEq)]
struct ScanSettings {
    root: PathBuf,
    scan_dir: Option<PathBuf>,
    allow_outside_root: bool,
}

impl ScanSettings {
    /// `None` without a handler root.
    fn of(config: &ServerConfig) -> Option<ScanSettings> {
        Some(ScanSettings {
            root: config.handler_root.clone()?,
            scan_dir: config.handler_scan.clone(),
            allow_outside_root: config.allow_outside_root(),
        })
    }
}

/// Scans one handler root and resolves its files' handlers; false when a
/// plugin cannot serve (each such file logged as one line).
fn scan_handlers(
    server: Server<'_>,
    settings: &ScanSettings,
    runtime_dir: &Path,
    warn: bool,
) -> (Handlers, bool) {
    let target = Target::Server(server);
    let (files, mut warnings) = HandlerMap::scan(
        &settings.root,
        settings.scan_dir.as_deref(),
        settings.allow_outside_root,
    );
    let mut resolved = HashMap::new();
    let mut ok = true;
    for entry in files.iter() {
        match resolve(entry, runtime_dir) {
            Ok(Some(handler)) => {
                resolved.insert(entry.resource.clone(), handler);
            }
            Ok(None) if warn => ws_log!(
                target,
                Level::Warn,
                "mod_rswebsocket: handler file {}: unknown handler '{}' (compiled-in: {}); {} will not be served",
                entry.file.display(),
                entry.handler,
                handlers::names().join(", "),
                entry.resource
            ),
            Ok(None) => {}
            Err(message) => {
                ok = false;
                ws_log!(
                    target,
                    Level::Err,
                    "mod_rswebsocket: handler file {}: {message}",
                    entry.file.display()
                );
            }
        }
    }
    warnings.extend(files.check_options(|entry| resolved.get(&entry.resource).copied()));
    if warn {
        for warning in &warnings {
            ws_log!(
                target,
                Level::Warn,
                "mod_rswebsocket: handler file {warning}"
            );
        }
    }
    ws_log!(
        target,
        Level::Debug,
        "mod_rswebsocket: {} handler file(s) under {}",
        files.len(),
        settings.root.display()
    );
    (Handlers { files, resolved }, ok)
}

/// The handler a handler file names: compiled in (`None`: no such one), or
/// in its plugin library (Err: the library cannot serve it).
fn resolve(
    entry: &HandlerEntry,
    runtime_dir: &Path,
) -> Result<Option<&'static dyn Handler>, String> {
    let Some(library) = &entry.plugin else {
        return Ok(handlers::find(&entry.handler));
    };
    let plugin = plugin::load(library, runtime_dir)?;
    match plugin.handler(&entry.handler) {
        Some(handler) => Ok(Some(handler)),
        None => Err(format!(
            "plugin {} has no handler '{}' (it has: {})",
            plugin.path().display(),
            entry.handler,
            plugin.handler_names().join(", ")
        )),
    }
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
        // An HTTP/2 stream's request (RFC 8441) is served too: mod_http2
        // presents its extended CONNECT as an HTTP/1.1 upgrade.
        if r.is_subrequest() || r.header(c"Upgrade").is_none() {
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
    let (entry, handler) = server.handlers.get()?.lookup(&resource)?;
    Some(Route {
        resource,
        handler_name: entry.handler.clone(),
        handler,
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
