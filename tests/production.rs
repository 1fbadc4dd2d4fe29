//! Production behaviour inside Apache: the module's own timeouts and pings,
//! Apache's request timeouts left in force only where they belong, stop and
//! restart, origin policy, connection limits and the access log.
mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{frame, upgrade_request, Apache, RawWs, Setup};
use tungstenite::Message;

#[test]
fn idle_connections_close_with_1001_after_the_idle_timeout() {
    let apache = Apache::start("idle", Setup::default().extra("WebSocketIdleTimeout 1"));
    let mut ws = RawWs::open(&apache, "/echo");
    let start = Instant::now();
    let (code, reason) = ws.expect_close();
    assert_eq!((code, reason.as_str()), (Some(1001), "idle timeout"));
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_millis(900),
        "closed too early: {waited:?}"
    );
}

#[test]
fn a_server_close_the_client_never_answers_ends_the_connection() {
    let apache = Apache::start(
        "idle-unanswered",
        Setup::default().extra("WebSocketIdleTimeout 1"),
    );
    let mut ws = RawWs::open(&apache, "/echo");
    ws.stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    assert_eq!(ws.expect_close().0, Some(1001));
    // No answer: the server waits a moment for one, then closes the TCP
    // connection (not only at Apache's TimeOut of 300 s).
    let start = Instant::now();
    let mut byte = [0u8; 1];
    match ws.stream.read(&mut byte) {
        Ok(0) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        other => panic!("expected the connection to end, got {other:?}"),
    }
    assert!(
        start.elapsed() < Duration::from_secs(15),
        "{:?}",
        start.elapsed()
    );
    let lines = apache.wait_access_log_lines("GET /echo", 1);
    assert!(
        lines.first().is_some_and(|l| l.contains("close=1001")),
        "{lines:?}"
    );
}

#[test]
fn the_server_pings_a_silent_client_and_its_pongs_keep_it_open() {
    let apache = Apache::start(
        "ping",
        Setup::default().extra("WebSocketPingInterval 1\nWebSocketIdleTimeout 3"),
    );
    let mut ws = RawWs::open(&apache, "/echo");
    // Answer three pings: 3+ s of silence from the application, still open.
    for _ in 0..3 {
        let (first, payload) = ws.read_frame().unwrap();
        assert_eq!(first, 0x89, "expected a ping");
        ws.send(&frame(true, 0, 0xa, &payload));
    }
    ws.send(&frame(true, 0, 0x1, b"alive"));
    assert_eq!(ws.read_frame().unwrap(), (0x81, b"alive".to_vec()));
    // Stop answering: the idle timeout closes it.
    loop {
        let (first, payload) = ws.read_frame().expect("closed without a close frame");
        if first == 0x88 {
            assert_eq!(&payload[..2], &1001u16.to_be_bytes());
            break;
        }
    }
}

#[test]
fn apache_request_timeouts_never_cut_a_healthy_websocket() {
    let apache = Apache::start(
        "reqtimeout",
        Setup::default().extra("TimeOut 2\nRequestReadTimeout header=2 body=2,MinRate=500"),
    );
    let mut ws = apache.connect("/echo");
    // Silent but for answering pings, as a browser is (the event driver
    // pings a parked connection before TimeOut, since the MPM would close
    // it then; the threaded driver sends none here).
    common::stay_idle(&mut ws, Duration::from_secs(5));
    ws.send(Message::text("after 5 s of silence")).unwrap();
    assert_eq!(ws.read().unwrap(), Message::text("after 5 s of silence"));
}

#[test]
fn a_client_stalling_in_the_handshake_is_cut_by_request_read_timeout() {
    let apache = Apache::start(
        "stall-handshake",
        Setup::default().extra("RequestReadTimeout header=1"),
    );
    let mut stream = TcpStream::connect(("127.0.0.1", apache.port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream
        .write_all(b"GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n")
        .unwrap();
    let start = Instant::now();
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    // Cut after its 1 s, not left to the client's 20 s (bounds loose
    // enough for a busy machine: not a speed measure).
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "not cut: {:?}",
        start.elapsed()
    );
    assert!(String::from_utf8_lossy(&response).starts_with("HTTP/1.1 408"));
}

#[test]
fn a_client_stalling_inside_a_frame_is_cut_by_timeout() {
    let apache = Apache::start("stall-frame", Setup::default().extra("TimeOut 1"));
    let mut ws = RawWs::open(&apache, "/echo");
    let whole = frame(true, 0, 0x1, b"never finished");
    ws.send(&whole[..8]);
    let start = Instant::now();
    assert_eq!(ws.expect_close().0, Some(1001));
    // Cut after TimeOut's 1 s (the client would wait 10 s for ever more).
    assert!(
        start.elapsed() < Duration::from_secs(8),
        "{:?}",
        start.elapsed()
    );
}

fn graceful_stop_closes_with_1001(mpm: &'static str) {
    let mut apache = Apache::start(&format!("graceful-stop-{mpm}"), Setup::default().mpm(mpm));
    let mut plain = RawWs::open(&apache, "/echo");
    let mut tls = apache.connect_tls("/echo");
    tls.send(Message::text("before")).unwrap();
    assert_eq!(tls.read().unwrap(), Message::text("before"));
    apache.apachectl("graceful-stop");
    assert_eq!(
        plain.expect_close(),
        (Some(1001), "server stopping".to_string())
    );
    match tls.read() {
        Ok(Message::Close(Some(frame))) => assert_eq!(u16::from(frame.code), 1001),
        other => panic!("wss: expected close 1001, got {other:?}"),
    }
    // Clients hang up once closed, as real ones do. Without the 1001 the
    // WebSockets would hold their children, and httpd would wait for ever
    // (GracefulShutdownTimeout 0): a bound, not a speed measure.
    drop((plain, tls));
    apache
        .wait_exit(Duration::from_secs(30))
        .unwrap_or_else(|| panic!("{mpm}: httpd did not exit"));
}

#[test]
fn graceful_stop_closes_websockets_with_1001_under_event() {
    graceful_stop_closes_with_1001("event");
}

#[test]
fn graceful_stop_closes_websockets_with_1001_under_worker() {
    graceful_stop_closes_with_1001("worker");
}

#[test]
fn graceful_stop_closes_websockets_with_1001_under_prefork() {
    graceful_stop_closes_with_1001("prefork");
}

fn stop_closes_plain_websockets_with_1001(mpm: &'static str) {
    let mut apache = Apache::start(&format!("stop-{mpm}"), Setup::default().mpm(mpm));
    let mut plain = RawWs::open(&apache, "/echo");
    let mut tls = apache.connect_tls("/echo");
    tls.send(Message::text("x")).unwrap();
    tls.read().unwrap();
    apache.apachectl("stop");
    assert_eq!(
        plain.expect_close(),
        (Some(1001), "server stopping".to_string()),
        "{mpm}"
    );
    assert!(plain.server_closed());
    // Over TLS the close frame needs mod_ssl, which an immediate stop has
    // already torn down: the connection just ends.
    assert!(!matches!(
        tls.read(),
        Ok(Message::Text(_) | Message::Binary(_))
    ));
    apache
        .wait_exit(Duration::from_secs(30))
        .unwrap_or_else(|| panic!("{mpm}: httpd did not exit"));
    // A child still held by a WebSocket is signalled again after 3 s, and
    // Apache says so: its absence, not a stopwatch, shows nobody waited.
    let held = apache.log_lines("did not exit");
    assert!(held.is_empty(), "{mpm}: {held:?}");
}

#[test]
fn stop_closes_plain_websockets_with_1001_and_does_not_wait() {
    for mpm in ["event", "worker", "prefork"] {
        stop_closes_plain_websockets_with_1001(mpm);
    }
}

fn graceful_restart_keeps_open_websockets(mpm: &'static str) {
    let apache = Apache::start(&format!("graceful-{mpm}"), Setup::default().mpm(mpm));
    let mut old = apache.connect("/echo");
    old.send(Message::text("before")).unwrap();
    assert_eq!(old.read().unwrap(), Message::text("before"));
    apache.apachectl("graceful");
    std::thread::sleep(Duration::from_millis(2500));
    old.send(Message::text("after graceful")).unwrap();
    assert_eq!(old.read().unwrap(), Message::text("after graceful"));
    let mut new = apache.connect("/echo");
    new.send(Message::text("new child")).unwrap();
    assert_eq!(new.read().unwrap(), Message::text("new child"));
}

#[test]
fn graceful_restart_lets_open_websockets_finish() {
    for mpm in ["event", "worker", "prefork"] {
        graceful_restart_keeps_open_websockets(mpm);
    }
}

fn upgrade_with_origin(apache: &Apache, path: &str, origin: &str) -> u16 {
    apache
        .raw(&upgrade_request(path, &format!("Origin: {origin}\r\n")))
        .status
}

#[test]
fn origin_policy_same_trusted_and_off() {
    let setup = Setup::default().extra(
        "WebSocketOriginCheck Same\n\
         <Location /trusting>\n  WebSocketHandler echo\n  WebSocketOriginCheck Trusted\n  \
         WebSocketTrustedOrigin https://app.example.com\n</Location>\n\
         <Location /open>\n  WebSocketHandler echo\n  WebSocketOriginCheck Off\n</Location>",
    );
    let apache = Apache::start("origin", setup);
    let own = format!("http://127.0.0.1:{}", apache.port);
    // upgrade_request sends Host: 127.0.0.1 (no port): the same origin is http://127.0.0.1.
    assert_eq!(
        upgrade_with_origin(&apache, "/echo", "http://127.0.0.1"),
        101
    );
    assert_eq!(
        upgrade_with_origin(&apache, "/echo", "http://evil.example"),
        403
    );
    assert_eq!(
        apache
            .wait_log_lines("origin 'http://evil.example' refused", 1)
            .len(),
        1
    );
    assert_eq!(
        apache.raw(&upgrade_request("/echo", "")).status,
        101,
        "no Origin: not a browser"
    );
    assert_eq!(
        upgrade_with_origin(&apache, "/trusting", "https://app.example.com"),
        101
    );
    assert_eq!(upgrade_with_origin(&apache, "/trusting", &own), 403);
    assert_eq!(
        upgrade_with_origin(&apache, "/open", "http://evil.example"),
        101
    );
}

#[test]
fn connections_over_the_limit_get_503() {
    let apache = Apache::start(
        "maxconn",
        Setup::default().mpm("worker").extra(
            "WebSocketMaxConnections 2\nStartServers 1\nMinSpareThreads 1\nMaxSpareThreads 64\nServerLimit 1\nThreadsPerChild 16",
        ),
    );
    let first = apache.connect("/echo");
    let second = apache.connect("/echo");
    let third = apache.raw(&upgrade_request("/echo", ""));
    assert_eq!(third.status, 503, "{}", third.head);
    drop((first, second));
    // The slots free up as the server notices the clients left; until
    // then an upgrade may still get 503.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut again = loop {
        match tungstenite::connect(apache.url("/echo")) {
            Ok((ws, _)) => break ws,
            Err(tungstenite::Error::Http(response))
                if response.status() == 503 && Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(50))
            }
            Err(e) => panic!("no slot freed: {e}"),
        }
    };
    again.send(Message::text("room again")).unwrap();
    assert_eq!(again.read().unwrap(), Message::text("room again"));
}

#[test]
fn the_access_log_has_one_101_line_with_bytes_and_websocket_notes() {
    let apache = Apache::start("accesslog", Setup::default());
    let mut ws = RawWs::open(&apache, "/echo");
    ws.send(&frame(true, 0, 0x1, b"hello"));
    ws.read_frame().unwrap();
    ws.send(&frame(true, 0, 0x8, &1000u16.to_be_bytes()));
    ws.expect_close();
    assert!(ws.server_closed());
    let lines = apache.wait_access_log_lines("GET /echo", 1);
    assert_eq!(lines.len(), 1, "{}", apache.access_log());
    let line = &lines[0];
    assert!(line.contains("\" 101 "), "{line}");
    assert!(
        line.contains("ws=/echo v=13 in=1 out=1 close=1000"),
        "{line}"
    );
    // In: an 11-byte text frame and an 8-byte close frame.
    let sent = line
        .split("\" 101 ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap();
    assert!(sent.parse::<u64>().is_ok_and(|n| n > 100), "{line}");
    assert!(line.contains("rx=19"), "{line}");
}

#[test]
fn trace1_logs_every_frame_and_debug_each_decision() {
    let apache = Apache::start(
        "trace",
        Setup {
            log_level: "warn rswebsocket:trace1",
            ..Setup::default()
        },
    );
    let mut ws = RawWs::open(&apache, "/echo");
    ws.send(&frame(true, 0, 0x9, b"hb"));
    ws.read_frame().unwrap();
    ws.send(&frame(true, 0, 0x1, b"traced"));
    ws.read_frame().unwrap();
    ws.send(&frame(true, 0, 0x8, &1000u16.to_be_bytes()));
    ws.expect_close();
    assert!(ws.server_closed());
    for needle in [
        "goes to handler 'echo'",
        "WebSocket /echo open (version 13",
        "WebSocket /echo: in: ping, 2 bytes",
        "WebSocket /echo: out: pong, 2 bytes",
        "WebSocket /echo: in: text message, 6 bytes",
        "WebSocket /echo: out: Text message, 6 bytes",
        "WebSocket /echo: in: close 1000",
        "closed: sent close Some(1000), peer close Some(1000)",
    ] {
        assert_eq!(
            apache.wait_log_lines(needle, 1).len(),
            1,
            "{needle}:\n{}",
            apache.error_log()
        );
    }
}
