//! The configuration directives: the native `WebSocket*` ones, and
//! mod_pywebsocket's `Python*` lines so an httpd.conf written for it runs
//! unchanged.
use std::ffi::c_void;
use std::os::raw::{c_char, c_int};
use std::path::{Path, PathBuf};
use std::ptr;

use wscore::extensions::{MAX_WINDOW_BITS, MIN_WINDOW_BITS};
use wscore::settings::{parse_byte_size, parse_count, parse_on_off, parse_seconds};

use wscore::origin::check_trusted_origin;

use crate::config::{server_config, DirConfig, OriginCheck, ServerConfig};
use crate::ffi;
use crate::log::{guard, Level, Target};
use crate::pool::{cstr, pstr};
use crate::ws_log;

/// The command table handed to Apache, terminated by a zeroed entry.
#[repr(transparent)]
pub struct CommandTable<const N: usize>([ffi::command_rec; N]);

// SAFETY: the table is immutable and only read by Apache's config parser.
unsafe impl<const N: usize> Sync for CommandTable<N> {}

impl<const N: usize> CommandTable<N> {
    pub const fn as_ptr(&self) -> *const ffi::command_rec {
        self.0.as_ptr()
    }
}

const SERVER: c_int = ffi::RSRC_CONF as c_int;
const LOCATION: c_int = ffi::ACCESS_CONF as c_int;
/// As broad as mod_python's own registration: when both modules are loaded,
/// each sees the line, and a narrower scope here would fail the config.
const ANYWHERE: c_int = (ffi::OR_ALL | ffi::RSRC_CONF | ffi::ACCESS_CONF) as c_int;

const fn take1(
    name: &'static std::ffi::CStr,
    f: unsafe extern "C" fn(*mut ffi::cmd_parms, *mut c_void, *const c_char) -> *const c_char,
    scope: c_int,
    help: &'static std::ffi::CStr,
) -> ffi::command_rec {
    ffi::command_rec {
        name: name.as_ptr(),
        func: ffi::cmd_func { take1: Some(f) },
        cmd_data: ptr::null_mut(),
        req_override: scope,
        args_how: ffi::cmd_how_TAKE1,
        errmsg: help.as_ptr(),
    }
}

const fn flag(
    name: &'static std::ffi::CStr,
    f: unsafe extern "C" fn(*mut ffi::cmd_parms, *mut c_void, c_int) -> *const c_char,
    help: &'static std::ffi::CStr,
) -> ffi::command_rec {
    ffi::command_rec {
        name: name.as_ptr(),
        func: ffi::cmd_func { flag: Some(f) },
        cmd_data: ptr::null_mut(),
        req_override: SERVER,
        args_how: ffi::cmd_how_FLAG,
        errmsg: help.as_ptr(),
    }
}

const fn raw_args(
    name: &'static std::ffi::CStr,
    f: unsafe extern "C" fn(*mut ffi::cmd_parms, *mut c_void, *const c_char) -> *const c_char,
    help: &'static std::ffi::CStr,
) -> ffi::command_rec {
    ffi::command_rec {
        name: name.as_ptr(),
        func: ffi::cmd_func { raw_args: Some(f) },
        cmd_data: ptr::null_mut(),
        req_override: ANYWHERE,
        args_how: ffi::cmd_how_RAW_ARGS,
        errmsg: help.as_ptr(),
    }
}

pub static COMMANDS: CommandTable<18> = CommandTable([
    take1(
        c"WebSocketHandlerRoot",
        set_handler_root,
        SERVER,
        c"Directory holding the WebSocket handler files (<resource>_wsh.conf)",
    ),
    take1(
        c"WebSocketHandlerScan",
        set_handler_scan,
        SERVER,
        c"Directory under the handler root to scan for handler files (default: the root)",
    ),
    flag(
        c"WebSocketAllowHandlersOutsideRoot",
        set_allow_outside_root,
        c"On to accept handler files whose real path leaves the handler root (default Off)",
    ),
    flag(
        c"WebSocketAllowDraft75",
        set_allow_draft75,
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
        SERVER | LOCATION,
        c"Largest WebSocket message accepted, in bytes (K/M/G suffixes; default 16M)",
    ),
    take1(
        c"WebSocketMaxFramesPerMessage",
        set_max_frames,
        SERVER | LOCATION,
        c"Most frames one WebSocket message may arrive in (default 1048576)",
    ),
    take1(
        c"WebSocketIdleTimeout",
        set_idle_timeout,
        SERVER | LOCATION,
        c"Seconds without input before a WebSocket is closed with 1001 (0: never; default 300)",
    ),
    take1(
        c"WebSocketPingInterval",
        set_ping_interval,
        SERVER | LOCATION,
        c"Seconds of silence after which the server pings the client (default 0: never)",
    ),
    take1(
        c"WebSocketOriginCheck",
        set_origin_check,
        SERVER | LOCATION,
        c"Off, Same (default: only this server's own origin) or Trusted (also WebSocketTrustedOrigin)",
    ),
    ffi::command_rec {
        name: c"WebSocketTrustedOrigin".as_ptr(),
        func: ffi::cmd_func {
            take1: Some(add_trusted_origin),
        },
        cmd_data: ptr::null_mut(),
        req_override: SERVER | LOCATION,
        args_how: ffi::cmd_how_ITERATE,
        errmsg: c"Origins (scheme://host[:port]) accepted by WebSocketOriginCheck Trusted".as_ptr(),
    },
    take1(
        c"WebSocketMaxConnections",
        set_max_connections,
        SERVER,
        c"Open WebSockets allowed per Apache child; more get 503 (default 0: no limit)",
    ),
    take1(
        c"WebSocketCompression",
        set_compression,
        SERVER | LOCATION,
        c"On to accept permessage-deflate, deflate-frame and deflate-stream (default On)",
    ),
    take1(
        c"WebSocketCompressionMaxWindowBits",
        set_compression_max_window_bits,
        SERVER | LOCATION,
        c"Largest compression window, 8-15 (2^N bytes; default 15), bounding memory per connection",
    ),
    ffi::command_rec {
        name: c"PythonOption".as_ptr(),
        func: ffi::cmd_func {
            take2: Some(python_option),
        },
        cmd_data: ptr::null_mut(),
        req_override: ANYWHERE,
        args_how: ffi::cmd_how_TAKE12,
        errmsg: c"mod_pywebsocket compatibility: PythonOption mod_pywebsocket.<option> <value>"
            .as_ptr(),
    },
    raw_args(
        c"PythonPath",
        python_ignored_line,
        c"mod_pywebsocket compatibility: not needed, ignored",
    ),
    raw_args(
        c"PythonHeaderParserHandler",
        python_ignored_line,
        c"mod_pywebsocket compatibility: not needed, ignored",
    ),
    // SAFETY: an all-zero command_rec (NULL name) is the table terminator
    // Apache expects; every field is a pointer, integer or Option<fn>.
    unsafe { std::mem::zeroed() },
]);

/// One directive line being processed: the safe view of `cmd_parms`.
struct Line {
    cmd: *mut ffi::cmd_parms,
}

impl Line {
    fn name(&self) -> &str {
        // SAFETY: cmd->cmd points into our static table while the line is processed.
        unsafe { cstr((*(*self.cmd).cmd).name) }.unwrap_or("?")
    }

    /// "file:line", for messages that outlive the config parse.
    fn position(&self) -> String {
        // SAFETY: cmd->directive is the node being processed (NULL only for
        // directives injected by -C/-c, which have no file).
        unsafe {
            let d = (*self.cmd).directive;
            if d.is_null() {
                return "command line".to_string();
            }
            format!("{}:{}", cstr((*d).filename).unwrap_or("?"), (*d).line_num)
        }
    }

    fn server(&self) -> *mut ffi::server_rec {
        // SAFETY: cmd is valid during the call.
        unsafe { (*self.cmd).server }
    }

    fn server_config(&mut self) -> &mut ServerConfig {
        // SAFETY: cmd->server is the server (or vhost) being configured.
        unsafe { server_config(self.server()) }
    }

    fn dir_config(&mut self, mconfig: *mut c_void) -> &mut DirConfig {
        // SAFETY: for our directives Apache passes our slot of the current
        // section's per-dir config, made by create_dir_config.
        unsafe { &mut *mconfig.cast::<DirConfig>() }
    }

    /// Resolves a path against ServerRoot, as Apache's own directives do.
    fn server_root_relative(&self, path: &str) -> Option<PathBuf> {
        let c_path = std::ffi::CString::new(path).ok()?;
        // SAFETY: cmd->pool is the config pool; the result is pool-allocated
        // and copied out before we return.
        unsafe {
            let full = ffi::ap_server_root_relative((*self.cmd).pool, c_path.as_ptr());
            cstr(full).map(PathBuf::from)
        }
    }

    fn notice(&self, msg: &str) {
        ws_log!(
            Target::Server(self.server()),
            Level::Notice,
            "{msg} ({})",
            self.position()
        );
    }
}

/// Runs a directive body with panics caught; an `Err` becomes Apache's
/// config error, prefixed with the directive's name.
fn directive(
    cmd: *mut ffi::cmd_parms,
    body: impl FnOnce(&mut Line) -> Result<(), String>,
) -> *const c_char {
    let mut line = Line { cmd };
    let result = guard(
        Target::Server(line.server()),
        "directive",
        Err("internal error (see the error log)".to_string()),
        || body(&mut line),
    );
    match result {
        Ok(()) => ptr::null(),
        // SAFETY: cmd->pool outlives the error message Apache prints.
        Err(msg) => pstr(unsafe { (*cmd).pool }, &format!("{}: {msg}", line.name())),
    }
}

fn arg<'a>(value: *const c_char) -> Result<&'a str, String> {
    // SAFETY: Apache passes NUL-terminated arguments that live in the config pool.
    unsafe { cstr(value) }.ok_or_else(|| "the value is not valid UTF-8".to_string())
}

fn set_root(line: &mut Line, value: &str) -> Result<(), String> {
    let path = line
        .server_root_relative(value)
        .ok_or_else(|| format!("'{value}' is not a usable path"))?;
    if !path.is_dir() {
        return Err(format!("'{}' is not a directory", path.display()));
    }
    line.server_config().handler_root = Some(path);
    Ok(())
}

fn set_scan(line: &mut Line, value: &str) -> Result<(), String> {
    // A relative scan dir is relative to the handler root, which may be set
    // on a later line: it is resolved when the handlers are scanned.
    let path = Path::new(value);
    if path.is_absolute() && !path.is_dir() {
        return Err(format!("'{value}' is not a directory"));
    }
    line.server_config().handler_scan = Some(path.to_path_buf());
    Ok(())
}

/// Defines the `extern "C"` function of a one-argument directive: `$body`
/// gets the line, the section's per-dir config pointer and the value.
macro_rules! take1_directive {
    ($name:ident, |$line:ident, $mconfig:ident, $value:ident| $body:block) => {
        unsafe extern "C" fn $name(
            cmd: *mut ffi::cmd_parms,
            $mconfig: *mut c_void,
            value: *const c_char,
        ) -> *const c_char {
            directive(cmd, |$line| {
                let $value = arg(value)?;
                $body
            })
        }
    };
}

take1_directive!(set_handler_root, |line, _dir, value| {
    set_root(line, value)
});

take1_directive!(set_handler_scan, |line, _dir, value| {
    set_scan(line, value)
});

unsafe extern "C" fn set_allow_outside_root(
    cmd: *mut ffi::cmd_parms,
    _: *mut c_void,
    on: c_int,
) -> *const c_char {
    directive(cmd, |line| {
        line.server_config().allow_outside_root = Some(on != 0);
        Ok(())
    })
}

unsafe extern "C" fn set_allow_draft75(
    cmd: *mut ffi::cmd_parms,
    _: *mut c_void,
    on: c_int,
) -> *const c_char {
    directive(cmd, |line| {
        line.server_config().allow_draft75 = Some(on != 0);
        Ok(())
    })
}

take1_directive!(set_location_handler, |line, dir, name| {
    if handlers::find(name).is_none() {
        return Err(format!(
            "unknown handler '{name}'; compiled-in handlers are: {}",
            handlers::names().join(", ")
        ));
    }
    line.dir_config(dir).handler = Some(name.to_string());
    Ok(())
});

take1_directive!(set_max_message_size, |line, dir, value| {
    line.dir_config(dir).max_message_size = Some(parse_byte_size(value)?);
    Ok(())
});

take1_directive!(set_max_frames, |line, dir, value| {
    line.dir_config(dir).max_frames_per_message = Some(parse_count(value, 1, u64::MAX)?);
    Ok(())
});

take1_directive!(set_idle_timeout, |line, dir, value| {
    line.dir_config(dir).idle_timeout = Some(parse_seconds(value)?);
    Ok(())
});

take1_directive!(set_ping_interval, |line, dir, value| {
    line.dir_config(dir).ping_interval = Some(parse_seconds(value)?);
    Ok(())
});

take1_directive!(set_origin_check, |line, dir, value| {
    let check = match value.to_ascii_lowercase().as_str() {
        "off" => OriginCheck::Off,
        "same" => OriginCheck::Same,
        "trusted" => OriginCheck::Trusted,
        other => return Err(format!("must be Off, Same or Trusted, not '{other}'")),
    };
    line.dir_config(dir).origin_check = Some(check);
    Ok(())
});

// Called once per origin on the line (ITERATE).
take1_directive!(add_trusted_origin, |line, dir, origin| {
    check_trusted_origin(origin)?;
    line.dir_config(dir)
        .trusted_origins
        .get_or_insert_with(Vec::new)
        .push(origin.to_string());
    Ok(())
});

take1_directive!(set_max_connections, |line, _dir, value| {
    line.server_config().max_connections = Some(parse_count(value, 0, u64::MAX)?);
    Ok(())
});

take1_directive!(set_compression, |line, dir, value| {
    line.dir_config(dir).compression = Some(parse_on_off(value)?);
    Ok(())
});

take1_directive!(set_compression_max_window_bits, |line, dir, value| {
    let bits = parse_count(value, MIN_WINDOW_BITS.into(), MAX_WINDOW_BITS.into())?;
    line.dir_config(dir).compression_max_window_bits = Some(bits as u8);
    Ok(())
});

/// True when mod_python is loaded too: then the Python* lines are its own,
/// and mod_pywebsocket's must go, or mod_python would try to run it.
fn mod_python_loaded() -> bool {
    // SAFETY: looks up a module by name in Apache's loaded-module list.
    unsafe { !ffi::ap_find_linked_module(c"mod_python.c".as_ptr()).is_null() }
}

const PYWEBSOCKET_PREFIX: &str = "mod_pywebsocket.";

unsafe extern "C" fn python_option(
    cmd: *mut ffi::cmd_parms,
    _: *mut c_void,
    key: *const c_char,
    value: *const c_char,
) -> *const c_char {
    directive(cmd, |line| {
        let key = arg(key)?;
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
        let value = if value.is_null() { "" } else { arg(value)? };
        match option {
            "handler_root" => set_root(line, value)?,
            "handler_scan" => set_scan(line, value)?,
            "allow_draft75" => line.server_config().allow_draft75 = Some(parse_on_off(value)?),
            "allow_handlers_outside_root_dir" => {
                line.server_config().allow_outside_root = Some(parse_on_off(value)?)
            }
            _ => {
                return Err(format!(
                    "unknown option '{key}'; mod_rswebsocket understands \
                     {PYWEBSOCKET_PREFIX}handler_root, handler_scan, allow_draft75 and \
                     allow_handlers_outside_root_dir"
                ))
            }
        }
        line.notice(&format!(
            "mod_rswebsocket: 'PythonOption {key}' is read as its WebSocket* equivalent; \
             mod_python is not needed"
        ));
        Ok(())
    })
}

unsafe extern "C" fn python_ignored_line(
    cmd: *mut ffi::cmd_parms,
    _: *mut c_void,
    args: *const c_char,
) -> *const c_char {
    directive(cmd, |line| {
        let args = arg(args)?.trim();
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
        line.notice(&format!(
            "mod_rswebsocket: '{} {args}' is not needed without mod_python and is ignored",
            line.name()
        ));
        Ok(())
    })
}
