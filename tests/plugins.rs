//! Handler plugins (include/rswebsocket_plugin.h) through a real httpd:
//! the Rust fixture (tests/plugins/fixture), the Rust example
//! (examples/plugin) and the C example (examples/c-plugin), each over ws
//! and wss; a panicking callback; handler-file options; the handshake side
//! of the ABI (a refusal, a chosen subprotocol, a response header, the
//! request's getters); an open a C plugin refuses with a close code; a
//! rebuilt library picked up by a graceful restart; and every configtest
//! failure of the loader. `make test-plugins` builds the libraries; the
//! tests build the C ones they need themselves (into their test root).
mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{
    close_with, config_test, raw_upgrade, server_close, upgrade_request, Apache, Client, Setup,
};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::Message;

const BOTH: [bool; 2] = [false, true];

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A library `make test-plugins` builds, under the workspace.
fn built(relative: &str) -> PathBuf {
    let path = workspace().join(relative);
    assert!(
        path.exists(),
        "{} does not exist: run make test-plugins first",
        path.display()
    );
    path
}

/// tests/plugins/fixture: echo, push, close, panic, options, blocking_echo,
/// version, guarded.
fn fixture_plugin() -> PathBuf {
    built("target/examples/release/libfixture_plugin.so")
}

/// examples/plugin: shout.
fn example_plugin() -> PathBuf {
    built("target/examples/release/libexample_plugin.so")
}

/// examples/c-plugin: c_echo, c_greeting.
fn c_plugin() -> PathBuf {
    built("target/examples/libc_echo_plugin.so")
}

/// A handler root of its own under a fresh test root, and the setup
/// serving it.
struct Handlers {
    dir: PathBuf,
}

impl Handlers {
    fn new(name: &str) -> Handlers {
        let dir = common::test_root(name).join("handlers");
        std::fs::create_dir_all(&dir).unwrap();
        Handlers { dir }
    }

    /// Writes `NAME_wsh.conf` (served at /NAME); returns its path.
    fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.join(format!("{name}_wsh.conf"));
        std::fs::write(&path, text).unwrap();
        path
    }

    /// A handler file serving `handler` of the library at `plugin`.
    fn plugin(&self, name: &str, handler: &str, plugin: &Path) -> PathBuf {
        self.file(
            name,
            &format!("handler = {handler}\nplugin = {}\n", plugin.display()),
        )
    }

    /// Checks that start-up logged nothing about these handler files (the
    /// module's `plugin` key known, each library and handler found).
    fn assert_no_warnings(&self, apache: &Apache) {
        let lines: Vec<String> = apache
            .log_lines(&self.dir.display().to_string())
            .into_iter()
            .filter(|l| {
                [":warn]", ":error]", ":crit]"]
                    .iter()
                    .any(|level| l.contains(level))
            })
            .collect();
        assert!(lines.is_empty(), "{}", lines.join("\n"));
    }

    fn setup(&self) -> Setup {
        Setup::default().handler_config(&format!("WebSocketHandlerRoot \"{}\"", self.dir.display()))
    }
}

/// Builds a shared library from C `source` with `cc` (the plugin header on
/// the include path) into `out`, through a new file renamed over it.
fn cc(out: &Path, source: &Path, defines: &[String]) {
    let tmp = out.with_extension("so.tmp");
    let status = Command::new("cc")
        .args(["-shared", "-fPIC", "-O2", "-Wall", "-Wextra"])
        .arg(format!("-I{}", workspace().join("include").display()))
        .args(defines)
        .arg("-o")
        .arg(&tmp)
        .arg(source)
        .arg("-lpthread")
        .status()
        .expect("cannot run cc");
    assert!(status.success(), "cc {} failed", source.display());
    std::fs::rename(&tmp, out).unwrap();
}

/// A tiny C library from `code`, written next to `out`.
fn cc_snippet(out: &Path, code: &str) {
    let source = out.with_extension("c");
    std::fs::write(&source, code).unwrap();
    cc(out, &source, &[]);
}

/// Opens `path` over wss when `tls`, with a read timeout so that a server
/// that never answers fails the test instead of hanging it.
fn open(apache: &Apache, tls: bool, path: &str) -> Client {
    let ws = apache.connect_over(tls, path);
    let timeout = Some(Duration::from_secs(30));
    match ws.get_ref() {
        MaybeTlsStream::Plain(tcp) => tcp.set_read_timeout(timeout).unwrap(),
        MaybeTlsStream::NativeTls(tls) => tls.get_ref().set_read_timeout(timeout).unwrap(),
        _ => unreachable!("the tests use plain and native-tls streams"),
    }
    ws
}

/// The next text message, skipping nothing.
fn text(ws: &mut Client) -> String {
    match ws.read().unwrap() {
        Message::Text(text) => text,
        other => panic!("expected a text message, got {other:?}"),
    }
}

fn echoes(ws: &mut Client, message: Message) {
    ws.send(message.clone()).unwrap();
    assert_eq!(ws.read().unwrap(), message);
}

/// Text, binary, 100 KiB of binary and 100 KiB of text come back as sent.
fn echo_round(ws: &mut Client) {
    echoes(ws, Message::text("hello, plugin"));
    echoes(ws, Message::binary(vec![0, 1, 2, 254, 255]));
    echoes(ws, Message::text(""));
    let big: Vec<u8> = (0..100 * 1024).map(|i| (i % 251) as u8).collect();
    echoes(ws, Message::binary(big));
    let big_text: String = (0..100 * 1024)
        .map(|i| (b'a' + (i % 26) as u8) as char)
        .collect();
    echoes(ws, Message::text(big_text));
}

/// `push N` answered with `push 1` .. `push N`, in order, then an echo.
fn push_round(ws: &mut Client, count: usize) {
    ws.send(Message::text(format!("push {count}"))).unwrap();
    for i in 1..=count {
        assert_eq!(text(ws), format!("push {i}"));
    }
    echoes(ws, Message::text("after the push"));
}

#[test]
fn a_rust_plugin_echoes_text_binary_and_100_kib_over_ws_and_wss() {
    let handlers = Handlers::new("plugin-echo");
    handlers.plugin("echo", "echo", &fixture_plugin());
    // A relative path is relative to the handler file's directory.
    std::fs::create_dir_all(handlers.dir.join("lib")).unwrap();
    std::fs::copy(fixture_plugin(), handlers.dir.join("lib/fixture.so")).unwrap();
    handlers.file("relative", "handler = echo\nplugin = lib/fixture.so\n");
    let apache = Apache::start("plugin-echo", handlers.setup());
    handlers.assert_no_warnings(&apache);
    for tls in BOTH {
        for path in ["/echo", "/relative"] {
            let mut ws = open(&apache, tls, path);
            echo_round(&mut ws);
            close_with(&mut ws, 1000, "");
            assert_eq!(server_close(&mut ws).0, 1000);
        }
    }
}

#[test]
fn a_rust_plugin_pushes_200_messages_in_order_from_its_own_thread() {
    let handlers = Handlers::new("plugin-push");
    handlers.plugin("push", "push", &fixture_plugin());
    let apache = Apache::start("plugin-push", handlers.setup());
    handlers.assert_no_warnings(&apache);
    for tls in BOTH {
        let mut ws = open(&apache, tls, "/push");
        push_round(&mut ws, 200);
        push_round(&mut ws, 3);
    }
}

#[test]
fn a_rust_plugin_closes_with_the_code_and_reason_it_is_asked_for() {
    let handlers = Handlers::new("plugin-close");
    handlers.plugin("close", "close", &fixture_plugin());
    let apache = Apache::start("plugin-close", handlers.setup());
    handlers.assert_no_warnings(&apache);
    for tls in BOTH {
        let mut ws = open(&apache, tls, "/close");
        ws.send(Message::text("4001 bye")).unwrap();
        assert_eq!(server_close(&mut ws), (4001, "bye".to_string()));
        let mut ws = open(&apache, tls, "/close");
        ws.send(Message::text("4999 the last code")).unwrap();
        assert_eq!(server_close(&mut ws), (4999, "the last code".to_string()));
    }
}

/// What the fixture's `panic` handler panics with.
const PANIC_TEXT: &str = "fixture panic on request";

/// What the module logs when a plugin callback fails.
const CLOSED_1011: &str = "closed the connection with 1011";

#[test]
fn a_panicking_plugin_callback_closes_only_its_connection_with_1011_and_the_child_lives() {
    for mpm in ["event", "prefork"] {
        let handlers = Handlers::new("plugin-panic");
        handlers.plugin("panic", "panic", &fixture_plugin());
        let apache = Apache::start("plugin-panic", handlers.setup().mpm(mpm));
        let mut bystander = open(&apache, false, "/panic");
        echoes(&mut bystander, Message::text("before"));
        for (n, tls) in BOTH.into_iter().enumerate() {
            let mut ws = open(&apache, tls, "/panic");
            echoes(&mut ws, Message::text("not yet"));
            ws.send(Message::text("panic")).unwrap();
            assert_eq!(server_close(&mut ws).0, 1011, "under {mpm}, tls {tls}");
            // One error line per failed connection, naming 1011 and the
            // panic's message.
            let lines = apache.wait_log_lines(CLOSED_1011, n + 1);
            let log = apache.error_log();
            assert_eq!(lines.len(), n + 1, "under {mpm}:\n{log}");
            assert!(
                lines.iter().all(|l| l.contains(PANIC_TEXT)),
                "under {mpm}:\n{log}"
            );
        }
        echoes(&mut bystander, Message::text("unharmed"));
        for tls in BOTH {
            let mut fresh = open(&apache, tls, "/panic");
            echoes(&mut fresh, Message::text("new connection"));
        }
        std::thread::sleep(Duration::from_millis(200));
        let log = apache.error_log();
        assert_eq!(
            apache.log_lines(CLOSED_1011).len(),
            2,
            "under {mpm}:\n{log}"
        );
        assert!(!log.contains("exit signal"), "under {mpm}:\n{log}");
    }
}

#[test]
fn handler_file_options_reach_the_plugin_and_an_unknown_one_is_a_warning_with_file_and_line() {
    let handlers = Handlers::new("plugin-options");
    let file = handlers.file(
        "options",
        &format!(
            "# the fixture's options handler\nhandler = options\nplugin = {}\ncolour = blue\n\
             greeting = hello from the handler file\n",
            fixture_plugin().display()
        ),
    );
    let apache = Apache::start("plugin-options", handlers.setup());
    for tls in BOTH {
        let mut ws = open(&apache, tls, "/options");
        assert_eq!(text(&mut ws), "hello from the handler file");
    }
    let warnings = apache.log_lines(&format!("{}:", file.display()));
    assert!(!warnings.is_empty(), "no warning:\n{}", apache.error_log());
    let expected = format!("{}:4: unknown option 'colour'", file.display());
    for warning in &warnings {
        assert!(warning.contains("warn"), "{warning}");
        assert!(warning.contains(&expected), "{warning}");
        assert!(warning.contains("(handler 'options')"), "{warning}");
    }
}

#[test]
fn a_blocking_plugin_handler_echoes_over_ws_and_wss() {
    let handlers = Handlers::new("plugin-blocking");
    handlers.plugin("blocking_echo", "blocking_echo", &fixture_plugin());
    let apache = Apache::start("plugin-blocking", handlers.setup());
    handlers.assert_no_warnings(&apache);
    for tls in BOTH {
        let mut ws = open(&apache, tls, "/blocking_echo");
        echo_round(&mut ws);
        close_with(&mut ws, 1000, "done");
        assert_eq!(server_close(&mut ws).0, 1000);
    }
}

#[test]
fn the_example_plugin_shouts_over_ws_and_wss() {
    let handlers = Handlers::new("plugin-example");
    handlers.plugin("shout", "shout", &example_plugin());
    let apache = Apache::start("plugin-example", handlers.setup());
    handlers.assert_no_warnings(&apache);
    for tls in BOTH {
        let mut ws = open(&apache, tls, "/shout");
        ws.send(Message::text("hello, example")).unwrap();
        assert_eq!(text(&mut ws), "HELLO, EXAMPLE");
    }
}

#[test]
fn the_c_plugin_echoes_pushes_and_closes_over_ws_and_wss() {
    let handlers = Handlers::new("c-plugin");
    handlers.plugin("c_echo", "c_echo", &c_plugin());
    handlers.plugin("c_greeting", "c_greeting", &c_plugin());
    let apache = Apache::start("c-plugin", handlers.setup());
    handlers.assert_no_warnings(&apache);
    for tls in BOTH {
        let mut ws = open(&apache, tls, "/c_echo");
        echo_round(&mut ws);
        push_round(&mut ws, 200);
        ws.send(Message::text("close 4002 from C")).unwrap();
        assert_eq!(server_close(&mut ws), (4002, "from C".to_string()));

        let mut ws = open(&apache, tls, "/c_echo");
        echoes(&mut ws, Message::text("Goodbye"));
        assert_eq!(server_close(&mut ws).0, 1000);

        let mut ws = open(&apache, tls, "/c_greeting");
        assert_eq!(text(&mut ws), "hello from C");
        echoes(&mut ws, Message::binary(vec![9; 300]));
    }
}

// --- the handshake: do_extra_handshake and open -------------------------

/// What the module logs when the fixture's `guarded` handler refuses.
const GUARDED_REFUSED: &str = "refused by handler 'guarded' with 403";

/// A server with the fixture's `guarded` handler at /guarded; the module's
/// own origin policy off, so any Origin reaches the handler.
fn guarded_server(name: &str) -> Apache {
    let handlers = Handlers::new(name);
    handlers.plugin("guarded", "guarded", &fixture_plugin());
    let apache = Apache::start(name, handlers.setup().extra("WebSocketOriginCheck Off"));
    handlers.assert_no_warnings(&apache);
    apache
}

#[test]
fn a_plugin_handshake_without_the_pass_is_refused_with_403_and_one_log_line() {
    let apache = guarded_server("plugin-guarded-refused");
    let mut refusals = 0;
    for tls in BOTH {
        for extra in ["", "X-Pass: no\r\n", "X-Pass: yes, please\r\n"] {
            let request = upgrade_request("/guarded?x=1", extra);
            let (response, ws) = raw_upgrade(&apache, tls, &request);
            assert!(ws.is_none(), "tls {tls}, {extra:?}: upgraded");
            assert_eq!(
                response.status, 403,
                "tls {tls}, {extra:?}:\n{}",
                response.head
            );
            assert_eq!(response.header("X-Plugin"), None, "{}", response.head);
            // Exactly one more line per refusal, naming the resource and
            // the handler's reason.
            refusals += 1;
            let lines = apache.wait_log_lines(GUARDED_REFUSED, refusals);
            let log = apache.error_log();
            assert_eq!(lines.len(), refusals, "tls {tls}, {extra:?}:\n{log}");
            let last = &lines[refusals - 1];
            assert!(last.contains("WebSocket handshake for /guarded "), "{last}");
            assert!(last.ends_with(": no pass"), "{last}");
        }
    }
    std::thread::sleep(Duration::from_millis(200));
    let log = apache.error_log();
    assert_eq!(apache.log_lines("no pass").len(), refusals, "{log}");
    assert!(apache.log_lines(CLOSED_1011).is_empty(), "{log}");
}

/// What `guarded` sends at open, for a handshake over wss when `tls`.
fn guarded_report(resource: &str, origin: &str, tls: bool, protocol: &str) -> String {
    format!("resource={resource} origin={origin} secure={tls} version=13 protocol={protocol}")
}

#[test]
fn a_plugin_handshake_chooses_the_subprotocol_adds_a_header_and_open_reads_the_request() {
    let apache = guarded_server("plugin-guarded");
    for tls in BOTH {
        // The subprotocol offered second, after a space: the handler
        // chooses it.
        let request = upgrade_request(
            "/guarded?x=1",
            "X-Pass: yes\r\nSec-WebSocket-Protocol: other, chat.v1\r\nOrigin: http://app.example\r\n",
        );
        let (response, ws) = raw_upgrade(&apache, tls, &request);
        assert_eq!(response.status, 101, "tls {tls}:\n{}", response.head);
        let head = &response.head;
        assert_eq!(
            response.header("Sec-WebSocket-Protocol").as_deref(),
            Some("chat.v1"),
            "{head}"
        );
        assert_eq!(
            response.header("X-Plugin").as_deref(),
            Some("fixture"),
            "{head}"
        );
        let mut ws = ws.unwrap();
        assert_eq!(
            text(&mut ws),
            guarded_report("/guarded?x=1", "http://app.example", tls, "chat.v1")
        );
        echoes(&mut ws, Message::text("after the report"));
        echoes(&mut ws, Message::binary(vec![7; 200]));
        close_with(&mut ws, 1000, "");
        assert_eq!(server_close(&mut ws).0, 1000);

        // Without chat.v1 on offer, no Origin and no query: no subprotocol
        // (the 101 names none), `-` for what is absent.
        let request = upgrade_request(
            "/guarded",
            "X-Pass: yes\r\nSec-WebSocket-Protocol: other\r\n",
        );
        let (response, ws) = raw_upgrade(&apache, tls, &request);
        assert_eq!(response.status, 101, "tls {tls}:\n{}", response.head);
        let head = &response.head;
        assert_eq!(response.header("Sec-WebSocket-Protocol"), None, "{head}");
        assert_eq!(
            response.header("X-Plugin").as_deref(),
            Some("fixture"),
            "{head}"
        );
        let mut ws = ws.unwrap();
        assert_eq!(text(&mut ws), guarded_report("/guarded", "-", tls, "-"));
        echoes(&mut ws, Message::text("no protocol"));
    }
    let log = apache.error_log();
    assert!(apache.log_lines(GUARDED_REFUSED).is_empty(), "{log}");
    assert!(apache.log_lines(CLOSED_1011).is_empty(), "{log}");
}

/// A C plugin: `refuse_open`, whose open refuses with 4003 "not today"
/// (and whose on_message would answer "must not run"), and `counted`, an
/// echo. Every callback appends a line (`HANDLER CALLBACK`) to `trace`,
/// which the Apache children (another user) can write.
fn build_refusing_plugin(out: &Path, trace: &Path) {
    std::fs::write(trace, "").unwrap();
    std::fs::set_permissions(trace, std::fs::Permissions::from_mode(0o666)).unwrap();
    let code = r#"
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include "rswebsocket_plugin.h"

static const rsws_host *host;

static void trace(const char *line) {
    int fd = open("@TRACE@", O_WRONLY | O_APPEND | O_CREAT, 0666);
    if (fd < 0) return;
    if (write(fd, line, strlen(line)) < 0) { /* nothing to do */ }
    close(fd);
}

static int refuse_open(void *data, rsws_conn *conn, void **state) {
    (void)data; (void)conn; (void)state;
    trace("refuse_open open\n");
    host->explain((const uint8_t *)"not today", 9);
    return 4003;
}

static int refuse_message(void *state, rsws_conn *conn, int kind, const uint8_t *data, size_t len) {
    (void)state; (void)kind; (void)data; (void)len;
    trace("refuse_open on_message\n");
    return host->send(conn, RSWS_TEXT, (const uint8_t *)"must not run", 12);
}

static int refuse_close(void *state, rsws_conn *conn, int code, const uint8_t *reason, size_t len) {
    (void)state; (void)conn; (void)code; (void)reason; (void)len;
    trace("refuse_open on_close\n");
    return RSWS_CONTINUE;
}

static void refuse_drop(void *state) {
    (void)state;
    trace("refuse_open drop\n");
}

static int counted_open(void *data, rsws_conn *conn, void **state) {
    (void)data; (void)conn;
    *state = NULL;
    trace("counted open\n");
    return RSWS_CONTINUE;
}

static int counted_message(void *state, rsws_conn *conn, int kind, const uint8_t *data, size_t len) {
    (void)state;
    return host->send(conn, kind, data, len);
}

static void counted_drop(void *state) {
    (void)state;
    trace("counted drop\n");
}

static const rsws_handler handlers[] = {
    { .name = "refuse_open", .open = refuse_open, .on_message = refuse_message,
      .on_close = refuse_close, .drop = refuse_drop },
    { .name = "counted", .open = counted_open, .on_message = counted_message,
      .drop = counted_drop },
};

static const rsws_plugin plugin = {
    RSWS_ABI_VERSION, sizeof(rsws_handler), sizeof handlers / sizeof handlers[0], handlers
};

const rsws_plugin *rswebsocket_plugin_v1(const rsws_host *h) {
    host = h;
    return &plugin;
}
"#;
    let trace = trace.display().to_string();
    assert!(!trace.contains(['"', '\\']), "{trace}");
    cc_snippet(out, &code.replace("@TRACE@", &trace));
}

/// Lines of the C plugin's trace equal to `line`, once there are `count`
/// (or after 20 s: the last callbacks run after the client saw the close).
fn wait_trace(trace: &Path, line: &str, count: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let text = std::fs::read_to_string(trace).unwrap();
        let n = text.lines().filter(|l| *l == line).count();
        if n >= count || Instant::now() > deadline {
            return n;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_c_plugin_refusing_open_closes_with_its_code_and_reason_and_no_callback_runs_after() {
    let handlers = Handlers::new("c-plugin-refuse-open");
    let lib = handlers.dir.join("librefuse.so");
    let trace = handlers.dir.join("trace.txt");
    build_refusing_plugin(&lib, &trace);
    handlers.plugin("refuse_open", "refuse_open", &lib);
    handlers.plugin("counted", "counted", &lib);
    let apache = Apache::start("c-plugin-refuse-open", handlers.setup());
    handlers.assert_no_warnings(&apache);
    for (n, tls) in BOTH.into_iter().enumerate() {
        let mut ws = open(&apache, tls, "/refuse_open");
        // A message the refused connection must not pass to on_message.
        ws.send(Message::text("hello?")).unwrap();
        // Nothing but the close: no message from on_message.
        let close = match ws.read() {
            Ok(Message::Close(Some(frame))) => (u16::from(frame.code), frame.reason.to_string()),
            Ok(other) => panic!("tls {tls}: expected only a close, got {other:?}"),
            Err(e) => panic!("tls {tls}: ended without a close frame: {e}"),
        };
        assert_eq!(close, (4003, "not today".to_string()), "tls {tls}");
        // The client answers the close; the server then ends the connection.
        match ws.read() {
            Err(tungstenite::Error::ConnectionClosed) => {}
            other => panic!("tls {tls}: expected the end after the close, got {other:?}"),
        }
        assert_eq!(wait_trace(&trace, "refuse_open open", n + 1), n + 1);

        // The other handler of the library, opened and ended normally:
        // its drop runs (so the trace would show refuse_open's too).
        let mut ws = open(&apache, tls, "/counted");
        echoes(&mut ws, Message::text("counted"));
        close_with(&mut ws, 1000, "");
        assert_eq!(server_close(&mut ws).0, 1000);
        assert_eq!(
            wait_trace(&trace, "counted drop", n + 1),
            n + 1,
            "{}",
            std::fs::read_to_string(&trace).unwrap()
        );
    }
    std::thread::sleep(Duration::from_millis(200));
    let calls = std::fs::read_to_string(&trace).unwrap();
    let refused: Vec<&str> = calls
        .lines()
        .filter(|l| l.starts_with("refuse_open"))
        .collect();
    // open once per connection; nothing after (no on_message, on_close or
    // drop: drop is owed only after an open that returned RSWS_CONTINUE).
    assert_eq!(refused, ["refuse_open open"; 2], "{calls}");
    let log = apache.error_log();
    assert!(apache.log_lines(CLOSED_1011).is_empty(), "{log}");
    assert!(!log.to_lowercase().contains("panic"), "{log}");
    assert!(apache.log_lines("failed in plugin").is_empty(), "{log}");
}

/// Builds examples/c-plugin with GREETING = `greeting` into `out`.
fn build_greeting(out: &Path, greeting: &str) {
    cc(
        out,
        &workspace().join("examples/c-plugin/echo_plugin.c"),
        &[format!("-DGREETING=\"{greeting}\"")],
    );
}

/// Connects to `path` until its first message is `expected` (the
/// children of a graceful restart come up one after the other), up to 10 s.
fn wait_for_first(apache: &Apache, tls: bool, path: &str, expected: &str) -> Client {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut ws = open(apache, tls, path);
        let first = text(&mut ws);
        if first == expected {
            return ws;
        }
        assert!(
            Instant::now() < deadline,
            "{path} still sends {first:?}, not {expected:?}, 10 s after the restart:\n{}",
            apache.error_log()
        );
        drop(ws);
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn wait_for_greeting(apache: &Apache, tls: bool, expected: &str) -> Client {
    wait_for_first(apache, tls, "/c_greeting", expected)
}

#[test]
fn a_graceful_restart_loads_a_rebuilt_plugin_and_open_connections_carry_on() {
    let handlers = Handlers::new("plugin-rebuild");
    let lib = handlers.dir.join("libgreeting.so");
    build_greeting(&lib, "v1");
    handlers.plugin("c_greeting", "c_greeting", &lib);
    let apache = Apache::start("plugin-rebuild", handlers.setup());
    let mut v1 = wait_for_greeting(&apache, false, "v1");
    let mut v1_tls = wait_for_greeting(&apache, true, "v1");

    // A new file renamed over the old one, as `install` and `make build` do.
    build_greeting(&lib, "v2");
    apache.apachectl("graceful");
    let mut v2 = wait_for_greeting(&apache, false, "v2");
    wait_for_greeting(&apache, true, "v2");
    echoes(&mut v1, Message::text("v1 after the first restart"));
    echoes(
        &mut v1_tls,
        Message::text("v1 over TLS after the first restart"),
    );

    // The same file overwritten in place (same inode): its modification
    // time, a second later, tells the new build from the old.
    std::thread::sleep(Duration::from_millis(1100));
    let v3 = handlers.dir.join("v3.so");
    build_greeting(&v3, "v3");
    let status = Command::new("cp").arg(&v3).arg(&lib).status().unwrap();
    assert!(status.success(), "cp over {} failed", lib.display());
    apache.apachectl("graceful");
    wait_for_greeting(&apache, false, "v3");
    let mut v3_tls = wait_for_greeting(&apache, true, "v3");
    echoes(&mut v3_tls, Message::binary(vec![3; 1000]));
    echoes(&mut v2, Message::text("v2 after the second restart"));
    echoes(&mut v1, Message::text("v1 after the second restart"));
    echoes(&mut v1_tls, Message::text("v1 over TLS, still"));
    let log = apache.error_log();
    assert!(!log.contains("exit signal"), "{log}");
}

/// Copies `from` to `to` as `install` does: a new file renamed over the old.
fn install(from: &Path, to: &Path) {
    let tmp = to.with_extension("so.new");
    std::fs::copy(from, &tmp).unwrap();
    std::fs::rename(&tmp, to).unwrap();
}

#[test]
fn a_graceful_restart_loads_a_rebuilt_rust_plugin() {
    let handlers = Handlers::new("plugin-rust-rebuild");
    let lib = handlers.dir.join("libversion.so");
    install(&fixture_plugin(), &lib);
    handlers.plugin("version", "version", &lib);
    let apache = Apache::start("plugin-rust-rebuild", handlers.setup());
    let mut old = wait_for_first(&apache, false, "/version", "1");
    let mut old_tls = wait_for_first(&apache, true, "/version", "1");

    // The fixture again, as another build of it (its own target directory).
    let target = handlers.dir.parent().unwrap().join("target");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args(["build", "--release", "--quiet", "--manifest-path"])
        .arg(workspace().join("tests/plugins/fixture/Cargo.toml"))
        .arg("--target-dir")
        .arg(&target)
        .env("FIXTURE_VERSION", "2")
        .output()
        .expect("cannot run cargo");
    assert!(
        output.status.success(),
        "building the fixture failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    install(&target.join("release/libfixture_plugin.so"), &lib);
    apache.apachectl("graceful");
    let mut new = wait_for_first(&apache, false, "/version", "2");
    wait_for_first(&apache, true, "/version", "2");
    echoes(&mut new, Message::text("the new build"));
    echoes(&mut old, Message::text("the old build, after the restart"));
    echoes(&mut old_tls, Message::binary(vec![1; 100]));
}

// --- configtest failures ---------------------------------------------------

/// `apache2 -t` with one handler file: fails, with one line naming the
/// file and containing `detail` (case-insensitively).
fn configtest_fails(name: &str, handler_file: &str, detail: &str) {
    let handlers = Handlers::new(name);
    let file = handlers.file("broken", handler_file);
    let (ok, output) = config_test(name, &handlers.setup());
    assert!(!ok, "config test passed:\n{output}");
    let file = file.display().to_string();
    let lines: Vec<&str> = output.lines().filter(|l| l.contains(&file)).collect();
    assert_eq!(lines.len(), 1, "not one line naming {file} in:\n{output}");
    assert!(
        lines[0].to_lowercase().contains(&detail.to_lowercase()),
        "no '{detail}' in:\n{output}"
    );
}

/// A handler file naming `handler` in a library under the test root
/// (built by `build` into the given path).
fn with_library(name: &str, build: impl FnOnce(&Path)) -> String {
    let dir = common::test_root(&format!("{name}-lib"));
    let lib = dir.join("lib.so");
    build(&lib);
    format!("handler = echo\nplugin = {}\n", lib.display())
}

#[test]
fn configtest_fails_on_a_missing_library() {
    let missing = common::test_root("conf-plugin-missing-lib").join("libnothing.so");
    configtest_fails(
        "conf-plugin-missing",
        &format!("handler = echo\nplugin = {}\n", missing.display()),
        "no such file",
    );
    // A relative path is looked for beside the handler file.
    configtest_fails(
        "conf-plugin-missing-relative",
        "handler = echo\nplugin = libnothing.so\n",
        "no such file",
    );
}

#[test]
fn configtest_fails_on_a_file_that_is_not_a_library() {
    let file = with_library("conf-plugin-text", |lib| {
        std::fs::write(lib, "this is a text file, not a shared library\n").unwrap()
    });
    configtest_fails("conf-plugin-text", &file, "not a mod_rswebsocket plugin");
}

#[test]
fn configtest_fails_on_a_library_that_is_not_a_plugin() {
    let file = with_library("conf-plugin-plain", |lib| {
        cc_snippet(lib, "int not_a_plugin(void) { return 42; }\n")
    });
    configtest_fails("conf-plugin-plain", &file, "not a mod_rswebsocket plugin");
}

#[test]
fn configtest_fails_on_another_abi_version() {
    // The version in the symbol's name.
    let file = with_library("conf-plugin-v2", |lib| {
        cc_snippet(
            lib,
            "#include <stddef.h>\n\
             const void *rswebsocket_plugin_v2(const void *host) { (void)host; return NULL; }\n",
        )
    });
    configtest_fails("conf-plugin-v2", &file, "ABI version");
    // The version in the table.
    let file = with_library("conf-plugin-table-v2", |lib| {
        cc_snippet(
            lib,
            "#include \"rswebsocket_plugin.h\"\n\
             static const rsws_plugin plugin = { 2, sizeof(rsws_handler), 0, NULL };\n\
             const rsws_plugin *rswebsocket_plugin_v1(const rsws_host *h) { (void)h; return &plugin; }\n",
        )
    });
    configtest_fails("conf-plugin-table-v2", &file, "ABI version");
}

#[test]
fn configtest_fails_on_a_handler_the_library_lacks() {
    configtest_fails(
        "conf-plugin-no-handler",
        &format!(
            "handler = no_such_handler\nplugin = {}\n",
            fixture_plugin().display()
        ),
        "has no handler 'no_such_handler'",
    );
    configtest_fails(
        "conf-plugin-c-no-handler",
        &format!("handler = echo\nplugin = {}\n", c_plugin().display()),
        "has no handler 'echo'",
    );
}

#[test]
fn configtest_passes_with_every_plugin_handler() {
    let handlers = Handlers::new("conf-plugin-ok");
    for name in [
        "echo",
        "push",
        "close",
        "panic",
        "blocking_echo",
        "version",
        "guarded",
    ] {
        handlers.plugin(name, name, &fixture_plugin());
    }
    handlers.plugin("c_echo", "c_echo", &c_plugin());
    handlers.plugin("c_greeting", "c_greeting", &c_plugin());
    handlers.plugin("shout", "shout", &example_plugin());
    let (ok, output) = config_test("conf-plugin-ok", &handlers.setup());
    assert!(ok, "{output}");
    assert!(output.contains("Syntax OK"), "{output}");
}
