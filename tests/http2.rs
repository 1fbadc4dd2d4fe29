//! WebSockets over HTTP/2 (RFC 8441) through a real Apache: mod_http2
//! (`H2WebSockets on`, in every test server's config) turns an extended
//! CONNECT into an upgrade request the module answers. The client is
//! tests/h2/ws_over_h2.py (Python `h2` in the interop venv that `make
//! test-deps` makes), speaking raw HTTP/2 frames over h2 (TLS, ALPN) and
//! h2c (cleartext, prior knowledge); each scenario prints one JSON line of
//! what it saw, and these tests check it as a user would.
mod common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::sync::OnceLock;
use std::time::Duration;

use common::{Apache, Setup};
use serde_json::{json, Value};

/// The two ways to HTTP/2: over TLS (ALPN h2) or cleartext (h2c).
#[derive(Clone, Copy, Debug)]
enum Mode {
    H2,
    H2c,
}

const MODES: [Mode; 2] = [Mode::H2, Mode::H2c];

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::H2 => "h2",
            Mode::H2c => "h2c",
        }
    }

    fn port(self, apache: &Apache) -> u16 {
        match self {
            Mode::H2 => apache.tls_port,
            Mode::H2c => apache.port,
        }
    }

    /// The origin of a page served on this port.
    fn origin(self, apache: &Apache, host: &str) -> String {
        match self {
            Mode::H2 => format!("https://{host}:{}", apache.tls_port),
            Mode::H2c => format!("http://{host}:{}", apache.port),
        }
    }
}

/// Far more than any scenario needs, only so that a hang ends the test.
const RUN_LIMIT: Duration = Duration::from_secs(180);

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The venv's Python, once it is known to have `h2`.
fn python() -> &'static PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let python = workspace().join("target/interop-venv/bin/python");
        assert!(
            python.exists(),
            "{} is missing: run `make test-deps` (the interop venv with Python `h2`)",
            python.display()
        );
        let check = Command::new(&python)
            .args([
                "-c",
                "import h2.connection, h2.settings; print(h2.__version__)",
            ])
            .output()
            .expect("cannot run the venv's Python");
        assert!(
            check.status.success(),
            "the interop venv has no Python `h2` package: run `make test-deps`\n{}",
            String::from_utf8_lossy(&check.stderr)
        );
        python
    })
}

/// ws_over_h2.py SCENARIO against `apache` over `mode`.
fn command(apache: &Apache, mode: Mode, scenario: &str, args: &[&str]) -> Command {
    let mut command = Command::new(python());
    command
        .arg(workspace().join("tests/h2/ws_over_h2.py"))
        .arg(mode.name())
        .arg(mode.port(apache).to_string())
        .arg(scenario)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// A running client: its JSON lines as they come, its stderr at the end.
struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
    label: String,
}

fn spawn(apache: &Apache, mode: Mode, scenario: &str, args: &[&str]) -> Running {
    let mut child = command(apache, mode, scenario, args)
        .spawn()
        .expect("cannot start ws_over_h2.py");
    let stdout: ChildStdout = child.stdout.take().unwrap();
    let (send, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if send.send(line).is_err() {
                break;
            }
        }
    });
    Running {
        child,
        lines,
        label: format!("{} {scenario} {}", mode.name(), args.join(" ")),
    }
}

impl Running {
    /// The next JSON line; fails with the client's stderr and the server's
    /// error log when there is none, or when it reports an error.
    fn next(&mut self, apache: &Apache) -> Value {
        let line = self.lines.recv_timeout(RUN_LIMIT);
        let value = line
            .as_deref()
            .ok()
            .and_then(|l| serde_json::from_str::<Value>(l).ok());
        match value {
            Some(value) if value.get("error").is_none() => value,
            _ => {
                let _ = self.child.kill();
                let output = std::mem::replace(&mut self.child, dummy_child()).wait_with_output();
                let stderr = output
                    .map(|o| String::from_utf8_lossy(&o.stderr).to_string())
                    .unwrap_or_default();
                panic!(
                    "ws_over_h2.py {}: {line:?}\nits stderr:\n{stderr}\nthe server's error log:\n{}",
                    self.label,
                    apache.error_log()
                );
            }
        }
    }

    fn finish(mut self) {
        let _ = self.child.wait();
    }
}

/// Stands in for a child whose output was taken.
fn dummy_child() -> Child {
    Command::new("true").spawn().unwrap()
}

/// Runs one scenario to its end: the JSON line it printed.
fn run(apache: &Apache, mode: Mode, scenario: &str, args: &[&str]) -> Value {
    let mut running = spawn(apache, mode, scenario, args);
    let value = running.next(apache);
    running.finish();
    value
}

/// The handshake part of a scenario's result: status 200, and the HTTP/2
/// connection was what the mode says.
fn assert_connected(result: &Value, stream: &Value, mode: Mode) {
    assert_eq!(result["enable_connect_protocol"], 1, "{result}");
    match mode {
        Mode::H2 => assert_eq!(result["alpn"], "h2", "{result}"),
        Mode::H2c => assert_eq!(result["alpn"], Value::Null, "{result}"),
    }
    assert_eq!(stream["status"], 200, "{mode:?}: {result}");
}

#[test]
fn text_binary_empty_and_a_mebibyte_round_trip_over_h2_and_h2c() {
    let apache = Apache::start("h2-echo", Setup::default());
    for mode in MODES {
        let result = run(&apache, mode, "echo", &[]);
        assert_connected(&result, &result["stream"], mode);
        let messages = result["messages"].as_array().unwrap();
        let names: Vec<&str> = messages
            .iter()
            .map(|m| m["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "text",
                "binary",
                "empty text",
                "empty binary",
                "1 MiB binary",
                "text after"
            ],
            "{result}"
        );
        for message in messages {
            assert_eq!(message["equal"], true, "{mode:?}: {message}");
            assert_eq!(
                message["sent_opcode"], message["received_opcode"],
                "{message}"
            );
        }
        let big = &messages[4];
        assert_eq!(big["received_length"], 1 << 20, "{big}");
        // A mebibyte is far more than the server's stream window (64 KiB
        // unless it says otherwise): the client had to wait for WINDOW_UPDATEs.
        assert!(big["send_window_waits"].as_u64().unwrap() > 0, "{big}");
        assert_eq!(result["close"], json!([1000, ""]), "{result}");
    }
}

#[test]
fn closes_both_ways_answer_with_a_close_frame_and_end_the_stream() {
    let apache = Apache::start("h2-close", Setup::default());
    for mode in MODES {
        // The client closes: /close answers with its code and reason, /echo
        // with 1000 (as over HTTP/1.1).
        for (path, answer) in [
            ("/close", json!([4000, "bye"])),
            ("/echo", json!([1000, ""])),
        ] {
            let result = run(&apache, mode, "close-client", &["--path", path]);
            assert_connected(&result, &result["stream"], mode);
            assert_eq!(result["echo"], "before the close", "{result}");
            assert_eq!(result["close"], answer, "{mode:?} {path}: {result}");
            assert_eq!(result["ended"], "END_STREAM", "{mode:?} {path}: {result}");
        }
        // The server closes: `Goodbye` is echoed, then close 1000.
        let result = run(&apache, mode, "close-server", &[]);
        assert_connected(&result, &result["stream"], mode);
        assert_eq!(result["messages"], json!(["Goodbye"]), "{result}");
        assert_eq!(result["close"], json!([1000, ""]), "{mode:?}: {result}");
        assert_eq!(result["ended"], "END_STREAM", "{mode:?}: {result}");
    }
    // The access log has each as an HTTP/2 request answered 200, with the
    // client's close code (or the server's) and the transport.
    for mode in MODES {
        let t = format!(" t={}", mode.name());
        let lines: Vec<String> = apache
            .wait_access_log_lines(&t, 6)
            .into_iter()
            .filter(|l| l.ends_with(&t))
            .collect();
        let close = lines
            .iter()
            .filter(|l| l.contains("\"GET /close HTTP/2.0\" 200 ") && l.contains("close=4000"))
            .count();
        let echo = lines
            .iter()
            .filter(|l| l.contains("\"GET /echo HTTP/2.0\" 200 ") && l.contains("ws=/echo v=13"))
            .count();
        assert_eq!((close, echo), (1, 2), "{mode:?}:\n{}", apache.access_log());
    }
}

#[test]
fn the_logs_show_websockets_over_http2_streams() {
    let apache = Apache::start("h2-logs", Setup::default());
    for mode in MODES {
        let result = run(&apache, mode, "close-client", &["--path", "/echo"]);
        assert_connected(&result, &result["stream"], mode);
    }
    let lines = apache.wait_access_log_lines("\"GET /echo HTTP/2.0\" 200 ", 2);
    assert_eq!(lines.len(), 2, "{}", apache.access_log());
    for (line, mode) in lines.iter().zip(MODES) {
        // One message each way, the client's close code, and the transport.
        assert!(
            line.contains("ws=/echo v=13 in=1 out=1 close=4000"),
            "{line}"
        );
        assert!(line.ends_with(&format!(" t={}", mode.name())), "{line}");
    }
    // Streams are served by the threaded driver (each holds one of
    // mod_http2's workers), whatever WebSocketDriver says, and the debug
    // line gives that as the reason.
    let served = apache.wait_log_lines("served by the threaded driver (an HTTP/2 stream)", 2);
    assert_eq!(served.len(), 2, "{}", apache.error_log());
    assert!(
        served.iter().all(|l| l.contains("[rswebsocket:debug]")),
        "{served:?}"
    );
}

#[test]
fn fifty_websockets_on_one_connection_each_echo_their_own_messages_in_order() {
    // mod_http2 runs at most H2MaxWorkers streams of a connection at once
    // (by default 1.5 × ThreadsPerChild: 37 under event), and on a new
    // connection only 6, doubling as streams it ran complete: an open
    // WebSocket never completes. So the server allows 64, and the client
    // warms the connection up with plain GETs first, as a page would.
    let apache = Apache::start("h2-fifty", Setup::default().extra("H2MaxWorkers 64"));
    for mode in MODES {
        let result = run(
            &apache,
            mode,
            "multiplex",
            &["--streams", "50", "--warm-up", "12"],
        );
        assert_eq!(result["enable_connect_protocol"], 1, "{result}");
        assert_eq!(result["statuses"], json!({"200": 50}), "{mode:?}: {result}");
        assert_eq!(result["distinct_ids"], 50, "{result}");
        assert_eq!(result["in_order"], 50, "{mode:?}: {result}");
        assert_eq!(result["failures"], json!([]), "{result}");
        assert_eq!(result["closed_1000"], 50, "{mode:?}: {result}");
    }
}

#[test]
fn websockets_mod_http2_holds_back_are_served_as_others_close() {
    // On a fresh connection mod_http2 runs 6 streams at once: the others
    // wait unanswered until one of the first closes and frees its worker.
    let apache = Apache::start("h2-queued", Setup::default());
    for mode in MODES {
        let result = run(&apache, mode, "queued", &["--streams", "8"]);
        assert_eq!(result["served"], 8, "{mode:?}: {result}");
        assert_eq!(result["statuses"], Value::from(vec![200; 8]), "{result}");
    }
}

#[test]
fn a_stalled_stream_does_not_hold_up_the_others_on_its_connection() {
    let apache = Apache::start("h2-stall", Setup::default());
    for mode in MODES {
        // A asks /bench for 256 × 16 KiB and reads none of it; B echoes.
        let result = run(
            &apache,
            mode,
            "stall",
            &["--count", "256", "--size", "16384"],
        );
        assert_connected(&result, &result["a"], mode);
        assert_connected(&result, &result["b"], mode);
        let window = result["a_window"].as_u64().unwrap();
        assert_eq!(result["a_window_exhausted"], true, "{mode:?}: {result}");
        // While B went on, A got nothing beyond its window: it stayed stalled.
        assert_eq!(
            result["a_bytes_during_b"].as_u64(),
            Some(window),
            "{result}"
        );
        assert_eq!(result["b_echoed"], 20, "{mode:?}: {result}");
        let seconds = result["b_seconds"].as_f64().unwrap();
        assert!(
            seconds < 5.0,
            "{mode:?}: 20 round trips took {seconds} s: {result}"
        );
        // A, read again, gets everything it asked for.
        assert_eq!(result["a_binary_after_resume"], 256, "{mode:?}: {result}");
        assert_eq!(result["a_sizes_ok"], true, "{result}");
        assert_eq!(result["a_last_text"], "sent 256", "{result}");
    }
}

#[test]
fn an_untrusted_origin_gets_403_and_a_trusted_one_200() {
    let apache = Apache::start("h2-origin", Setup::default());
    for mode in MODES {
        let refused = run(
            &apache,
            mode,
            "handshake",
            &["--origin", "http://evil.example"],
        );
        assert_eq!(refused["stream"]["status"], 403, "{mode:?}: {refused}");
        assert_eq!(refused["ended"], "END_STREAM", "{refused}");
        // The template trusts localhost and 127.0.0.1 on the server's ports.
        let origin = mode.origin(&apache, "localhost");
        let allowed = run(&apache, mode, "handshake", &["--origin", &origin]);
        assert_connected(&allowed, &allowed["stream"], mode);
        assert_eq!(allowed["echo"], "hello", "{allowed}");
    }
    let refusals = apache.wait_log_lines("origin 'http://evil.example' refused", 2);
    assert_eq!(refusals.len(), 2, "{}", apache.error_log());
    let lines = apache.wait_access_log_lines("\"GET /echo HTTP/2.0\" 403 ", 2);
    assert_eq!(lines.len(), 2, "{}", apache.access_log());
}

#[test]
fn permessage_deflate_is_agreed_on_a_stream_and_no_subprotocol_is_invented() {
    let apache = Apache::start("h2-deflate", Setup::default());
    let message = "deflate me ".repeat(20);
    for mode in MODES {
        let result = run(
            &apache,
            mode,
            "handshake",
            &["--extensions", "permessage-deflate", "--message", &message],
        );
        assert_connected(&result, &result["stream"], mode);
        let agreed = result["stream"]["extensions"].as_str().unwrap_or("");
        assert!(
            agreed.starts_with("permessage-deflate"),
            "{mode:?}: {result}"
        );
        // The echo came compressed, and the client's inflater got it back.
        assert_eq!(result["echo"].as_str(), Some(message.as_str()), "{result}");
        assert_eq!(result["compressed_messages"], 1, "{mode:?}: {result}");
        // No handler under apache-conf/handlers picks a subprotocol: one
        // offered to /echo gets none back, and the WebSocket works.
        let result = run(&apache, mode, "handshake", &["--protocol", "chat.v1"]);
        assert_connected(&result, &result["stream"], mode);
        assert_eq!(result["stream"]["protocol"], Value::Null, "{result}");
        assert_eq!(result["echo"], "hello", "{result}");
    }
}

#[test]
fn websocket_max_connections_refuses_a_second_stream_with_503() {
    let apache = Apache::start(
        "h2-maxconn",
        Setup::default()
            .one_child()
            .extra("WebSocketMaxConnections 1"),
    );
    for mode in MODES {
        let result = run(&apache, mode, "maxconn", &[]);
        assert_connected(&result, &result["first"], mode);
        assert_eq!(result["first_echo"], "first", "{result}");
        assert_eq!(result["second"]["status"], 503, "{mode:?}: {result}");
        // The first is unharmed, and once it closed the slot is free again.
        assert_eq!(result["first_echo_again"], "first again", "{result}");
        assert_eq!(result["after_close"]["status"], 200, "{mode:?}: {result}");
        assert_eq!(result["after_close_echo"], "room again", "{result}");
    }
}

#[test]
fn graceful_stop_closes_open_h2_websockets_with_1001() {
    let mut apache = Apache::start("h2-graceful-stop", Setup::default());
    let mut clients: Vec<(Mode, Running)> = MODES
        .iter()
        .map(|&mode| (mode, spawn(&apache, mode, "hold", &[])))
        .collect();
    for (mode, client) in &mut clients {
        let open = client.next(&apache);
        assert_connected(&open, &open["stream"], *mode);
        assert_eq!(open["echo"], "before", "{open}");
    }
    apache.apachectl("graceful-stop");
    for (mode, mut client) in clients {
        let closed = client.next(&apache);
        assert_eq!(
            closed["close"],
            json!([1001, "server stopping"]),
            "{mode:?}: {closed}"
        );
        // mod_http2 said it is going away, but let the stream finish.
        assert_eq!(closed["goaway"]["error_code"], 0, "{closed}");
        assert_eq!(closed["ended"], "END_STREAM", "{mode:?}: {closed}");
        client.finish();
    }
    apache
        .wait_exit(Duration::from_secs(30))
        .unwrap_or_else(|| panic!("httpd did not exit:\n{}", apache.error_log()));
}

#[test]
fn apache_access_control_refuses_a_stream_with_403_as_over_http_1_1() {
    let setup = Setup::default().extra("<Location /echo>\n    Require all denied\n</Location>");
    let apache = Apache::start("h2-access", setup);
    for mode in MODES {
        let refused = run(&apache, mode, "handshake", &[]);
        assert_eq!(refused["stream"]["status"], 403, "{mode:?}: {refused}");
        assert_eq!(refused["ended"], "END_STREAM", "{refused}");
        // Another resource is not covered by the <Location>.
        let allowed = run(&apache, mode, "handshake", &["--path", "/close"]);
        assert_connected(&allowed, &allowed["stream"], mode);
    }
    let lines = apache.wait_access_log_lines("\"GET /echo HTTP/2.0\" 403 ", 2);
    assert_eq!(lines.len(), 2, "{}", apache.access_log());
}

#[test]
fn an_idle_stream_is_closed_by_websocket_idle_timeout_with_1001() {
    let apache = Apache::start("h2-idle", Setup::default().extra("WebSocketIdleTimeout 2"));
    let mut clients: Vec<(Mode, Running)> = MODES
        .iter()
        .map(|&mode| (mode, spawn(&apache, mode, "hold", &["--wait", "20"])))
        .collect();
    for (mode, client) in &mut clients {
        let open = client.next(&apache);
        assert_connected(&open, &open["stream"], *mode);
    }
    for (mode, mut client) in clients {
        let closed = client.next(&apache);
        assert_eq!(
            closed["close"],
            json!([1001, "idle timeout"]),
            "{mode:?}: {closed}"
        );
        assert_eq!(closed["ended"], "END_STREAM", "{mode:?}: {closed}");
        client.finish();
    }
    assert!(
        apache.log_lines("exit signal").is_empty(),
        "{}",
        apache.error_log()
    );
}
