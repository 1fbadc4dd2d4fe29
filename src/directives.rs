//! The configuration directives: the native `WebSocket*` ones, and
//! mod_pywebsocket's `Python*` lines so an httpd.conf written for it runs
//! unchanged.
use std::path::Path;

use wscore::extensions::{MAX_WINDOW_BITS, MIN_WINDOW_BITS};
use wscore::settings::{parse_byte_size, parse_count, parse_on_off, parse_seconds};

use wscore::origin::check_trusted_origin;

use crate::apache::command_table::{
    flag, iterate, raw_args, take1, take12, CommandTable, ANYWHERE, END, LOCATION, SERVER,
    SERVER_OR_LOCATION,
};
use crate::apache::directive::{Arg, Directive, Outcome};
use crate::apache::log::Level;
use crate::apache::module::is_module_loaded;
use crate::config::{DirConfig, Driver, OriginCheck, ServerConfig};
use crate::ws_log;

pub static COMMANDS: CommandTable<20> = CommandTable([
    take1(
        c"WebSocketHandlerRoot",
        set_root,
        SERVER,
        c"Directory holding the WebSocket handler files (<resource>_wsh.conf)",
    ),
    take1(
        c"WebSocketHandlerScan",
        set_scan,
        SERVER,
        c"Directory under the handler root to scan for handler files (default: the root)",
    ),
    flag(
        c"WebSocketAllowHandlersOutsideRoot",
        set_allow_outside_root,
        SERVER,
        c"On to accept handler files whose real path leaves the handler root (default Off)",
    ),
    flag(
        c"WebSocketAllowDraft75",
        set_allow_draft75,
        SERVER,
        c"On to accept the Hixie-75 handshake (default Off)",
    ),
    take1(
        c"WebSocketHandler",
        set_location_handler,
        LOCATION,
        c"Serve this <Location> with the named compiled-in WebSocket handler",
    ),
    take1(
        c"WebSocketMaxMessageSize",
        set_max_message_size,
        SERVER_OR_LOCATION,
        c"Largest WebSocket message accepted, in bytes (K/M/G suffixes; default 16M)",
    ),
    take1(
        c"WebSocketMaxFramesPerMessage",
        set_max_frames,
        SERVER_OR_LOCATION,
        c"Most frames one WebSocket message may arrive in (default 1048576)",
    ),
    take1(
        c"WebSocketIdleTimeout",
        set_idle_timeout,
        SERVER_OR_LOCATION,
        c"Seconds without input before a WebSocket is closed with 1001 (0: never; default 300)",
    ),
    take1(
        c"WebSocketPingInterval",
        set_ping_interval,
        SERVER_OR_LOCATION,
        c"Seconds of silence after which the server pings the client (default 0: never)",
    ),
    take1(
        c"WebSocketOriginCheck",
        set_origin_check,
        SERVER_OR_LOCATION,
        c"Off, Same (default: only this server's own origin) or Trusted (also WebSocketTrustedOrigin)",
    ),
    iterate(
        c"WebSocketTrustedOrigin",
        add_trusted_origin,
        SERVER_OR_LOCATION,
        c"Origins (scheme://host[:port]) accepted by WebSocketOriginCheck Trusted",
    ),
    take1(
        c"WebSocketMaxConnections",
        set_max_connections,
        SERVER,
        c"Open WebSockets allowed per Apache child; more get 503 (default 0: no limit)",
    ),
    take1(
        c"WebSocketCompression",
        set_compression,
        SERVER_OR_LOCATION,
        c"On to accept permessage-deflate, deflate-frame and deflate-stream (default On)",
    ),
    take1(
        c"WebSocketCompressionMaxWindowBits",
        set_compression_max_window_bits,
        SERVER_OR_LOCATION,
        c"Largest compression window, 8-15 (2^N bytes; default 15), bounding memory per connection",
    ),
    take1(
        c"WebSocketDriver",
        set_driver,
        SERVER,
        c"event (default: idle WebSockets park in the event MPM where it can) or threaded (a thread per WebSocket)",
    ),
    take1(
        c"WebSocketBroker",
        set_broker,
        SERVER,
        c"Redis shared by Apache children and servers for chat rooms: redis://[[user]:password@]host[:port][/db], rediss://... or unix:///path[?db=N&pass=PASSWORD] (default: none)",
    ),
    take12(
        c"PythonOption",
        python_option,
        ANYWHERE,
        c"mod_pywebsocket compatibility: PythonOption mod_pywebsocket.<option> <value>",
    ),
    raw_args(
        c"PythonPath",
        python_ignored_line,
        ANYWHERE,
        c"mod_pywebsocket compatibility: not needed, ignored",
    ),
    raw_args(
        c"PythonHeaderParserHandler",
        python_ignored_line,
        ANYWHERE,
        c"mod_pywebsocket compatibility: not needed, ignored",
    ),
    END,
]);

/// This module's settings of the server the line configures.
fn server_config<'l>(line: &'l mut Directive<'_>) -> &'l mut ServerConfig {
    line.server_config()
}

/// This module's settings of the section the line is in.
fn dir_config<'l>(line: &'l mut Directive<'_>) -> &'l mut DirConfig {
    line.dir_config()
}

fn notice(line: &Directive<'_>, msg: &str) {
    ws_log!(
        line.log_target(),
        Level::Notice,
        "{msg} ({})",
        line.position()
    );
}

fn set_root(line: &mut Directive<'_>, value: &str) -> Outcome {
    let path = line
        .server_root_relative(value)
        .ok_or_else(|| format!("'{value}' is not a usable path"))?;
    if !path.is_dir() {
        return Err(format!("'{}' is not a directory", path.display()));
    }
    server_config(line).handler_root = Some(path);
    Ok(())
}

fn set_scan(line: &mut Directive<'_>, value: &str) -> Outcome {
    // A relative scan dir is relative to the handler root, which may be set
    // on a later line: it is resolved when the handlers are scanned.
    let path = Path::new(value);
    if path.is_absolute() && !path.is_dir() {
        return Err(format!("'{value}' is not a directory"));
    }
    server_config(line).handler_scan = Some(path.to_path_buf());
    Ok(())
}

fn set_allow_outside_root(line: &mut Directive<'_>, on: bool) -> Outcome {
    server_config(line).allow_outside_root = Some(on);
    Ok(())
}

fn set_allow_draft75(line: &mut Directive<'_>, on: bool) -> Outcome {
    server_config(line).allow_draft75 = Some(on);
    Ok(())
}

fn set_location_handler(line: &mut Directive<'_>, name: &str) -> Outcome {
    if handlers::find(name).is_none() {
        return Err(format!(
            "unknown handler '{name}'; compiled-in handlers are: {}",
            handlers::names().join(", ")
        ));
    }
    dir_config(line).handler = Some(name.to_string());
    let position = line.position();
    server_config(line)
        .location_handlers
        .push((name.to_string(), position));
    Ok(())
}

fn set_max_message_size(line: &mut Directive<'_>, value: &str) -> Outcome {
    dir_config(line).max_message_size = Some(parse_byte_size(value)?);
    Ok(())
}

fn set_max_frames(line: &mut Directive<'_>, value: &str) -> Outcome {
    dir_config(line).max_frames_per_message = Some(parse_count(value, 1, u64::MAX)?);
    Ok(())
}

fn set_idle_timeout(line: &mut Directive<'_>, value: &str) -> Outcome {
    dir_config(line).idle_timeout = Some(parse_seconds(value)?);
    Ok(())
}

fn set_ping_interval(line: &mut Directive<'_>, value: &str) -> Outcome {
    dir_config(line).ping_interval = Some(parse_seconds(value)?);
    Ok(())
}

fn set_origin_check(line: &mut Directive<'_>, value: &str) -> Outcome {
    let check = match value.to_ascii_lowercase().as_str() {
        "off" => OriginCheck::Off,
        "same" => OriginCheck::Same,
        "trusted" => OriginCheck::Trusted,
        other => return Err(format!("must be Off, Same or Trusted, not '{other}'")),
    };
    dir_config(line).origin_check = Some(check);
    Ok(())
}

/// Called once per origin on the line (ITERATE).
fn add_trusted_origin(line: &mut Directive<'_>, origin: &str) -> Outcome {
    check_trusted_origin(origin)?;
    dir_config(line)
        .trusted_origins
        .get_or_insert_with(Vec::new)
        .push(origin.to_string());
    Ok(())
}

fn set_max_connections(line: &mut Directive<'_>, value: &str) -> Outcome {
    server_config(line).max_connections = Some(parse_count(value, 0, u64::MAX)?);
    Ok(())
}

fn set_driver(line: &mut Directive<'_>, value: &str) -> Outcome {
    let driver = match value.to_ascii_lowercase().as_str() {
        "threaded" => Driver::Threaded,
        "event" => Driver::Event,
        other => return Err(format!("must be threaded or event, not '{other}'")),
    };
    server_config(line).driver = Some(driver);
    Ok(())
}

fn set_broker(line: &mut Directive<'_>, value: &str) -> Outcome {
    if line.in_virtual_host() {
        // One broker per child serves every virtual host.
        return Err("belongs in the main server configuration, not in a <VirtualHost>".into());
    }
    crate::broker::check_url(value)?;
    server_config(line).broker = Some(value.to_string());
    Ok(())
}

fn set_compression(line: &mut Directive<'_>, value: &str) -> Outcome {
    dir_config(line).compression = Some(parse_on_off(value)?);
    Ok(())
}

fn set_compression_max_window_bits(line: &mut Directive<'_>, value: &str) -> Outcome {
    let bits = parse_count(value, MIN_WINDOW_BITS.into(), MAX_WINDOW_BITS.into())?;
    dir_config(line).compression_max_window_bits = Some(bits as u8);
    Ok(())
}

/// True when mod_python is loaded too: then the Python* lines are its own,
/// and mod_pywebsocket's must go, or mod_python would try to run it.
fn mod_python_loaded() -> bool {
    is_module_loaded(c"mod_python.c")
}

const PYWEBSOCKET_PREFIX: &str = "mod_pywebsocket.";

fn python_option(line: &mut Directive<'_>, key: Arg<'_>, value: Option<Arg<'_>>) -> Outcome {
    let key = key.to_str()?;
    let Some(option) = key.strip_prefix(PYWEBSOCKET_PREFIX) else {
        // Someone else's option (a mod_python application): not ours.
        return Ok(());
    };
    if mod_python_loaded() {
        return Err(format!(
            "mod_python is loaded, so this line would make it run mod_pywebsocket; \
             remove 'PythonOption {key}' and the PythonHeaderParserHandler line, \
             and use the WebSocket* directives of mod_rswebsocket instead"
        ));
    }
    let value = match value {
        Some(value) => value.to_str()?,
        None => "",
    };
    match option {
        "handler_root" => set_root(line, value)?,
        "handler_scan" => set_scan(line, value)?,
        "allow_draft75" => server_config(line).allow_draft75 = Some(parse_on_off(value)?),
        "allow_handlers_outside_root_dir" => {
            server_config(line).allow_outside_root = Some(parse_on_off(value)?)
        }
        _ => {
            return Err(format!(
                "unknown option '{key}'; mod_rswebsocket understands \
                 {PYWEBSOCKET_PREFIX}handler_root, handler_scan, allow_draft75 and \
                 allow_handlers_outside_root_dir"
            ))
        }
    }
    notice(
        line,
        &format!(
            "mod_rswebsocket: 'PythonOption {key}' is read as its WebSocket* equivalent; \
             mod_python is not needed"
        ),
    );
    Ok(())
}

fn python_ignored_line(line: &mut Directive<'_>, args: &str) -> Outcome {
    let args = args.trim();
    let runs_pywebsocket = args.contains("mod_pywebsocket");
    if mod_python_loaded() {
        return if line.name() == "PythonHeaderParserHandler" && runs_pywebsocket {
            Err(format!(
                "mod_python is loaded and would run mod_pywebsocket for every request; \
                 remove 'PythonHeaderParserHandler {args}': mod_rswebsocket serves \
                 WebSockets itself"
            ))
        } else {
            Ok(()) // mod_python's own line
        };
    }
    notice(
        line,
        &format!(
            "mod_rswebsocket: '{} {args}' is not needed without mod_python and is ignored",
            line.name()
        ),
    );
    Ok(())
}
