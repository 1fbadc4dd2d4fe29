//! The event driver (the default on the event MPM) in a real httpd
//! with the event MPM: echo, closes, compression, pushes and pings reach
//! parked connections, and idle WebSockets hold no worker thread.
mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{config_test, upgrade_request, Apache, Client, Setup};
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::Message;

fn event_setup() -> Setup {
    Setup::default().extra("WebSocketDriver event")
}

/// One child with few threads: parked connections must not need them.
fn small_child(setup: Setup) -> Setup {
    setup.extra(
        "StartServers 1\nServerLimit 1\nThreadsPerChild 4\nMaxRequestWorkers 4\n\
         MinSpareThreads 1\nMaxSpareThreads 4\nAsyncRequestWorkerFactor 40",
    )
}

fn read_data(ws: &mut Client) -> Message {
    loop {
        match ws.read().expect("read failed") {
            Message::Ping(_) | Message::Pong(_) => continue,
            other => return other,
        }
    }
}

fn echo_round(ws: &mut Client, tls: bool) {
    ws.send(Message::text("hello")).unwrap();
    assert_eq!(read_data(ws), Message::text("hello"), "tls={tls}");
    ws.send(Message::binary(vec![0u8, 1, 2, 255])).unwrap();
    assert_eq!(read_data(ws), Message::binary(vec![0u8, 1, 2, 255]));
}

#[test]
fn echo_text_binary_one_mebibyte_goodbye_and_client_close_over_ws_and_wss() {
    let apache = Apache::start("event-echo", event_setup());
    for tls in [false, true] {
        let mut ws = apache.connect_over(tls, "/echo");
        echo_round(&mut ws, tls);
        let big: Vec<u8> = (0..1024 * 1024).map(|i| (i * 7 % 251) as u8).collect();
        ws.send(Message::binary(big.clone())).unwrap();
        assert!(
            read_data(&mut ws) == Message::binary(big),
            "1 MiB echo, tls={tls}"
        );
        ws.send(Message::text("Goodbye")).unwrap();
        assert_eq!(read_data(&mut ws), Message::text("Goodbye"));
        match ws.read() {
            Ok(Message::Close(Some(frame))) => assert_eq!(frame.code, CloseCode::Normal),
            other => panic!("expected close 1000, got {other:?}"),
        }

        let mut ws = apache.connect_over(tls, "/echo");
        echo_round(&mut ws, tls);
        ws.close(None).unwrap();
        loop {
            match ws.read() {
                Ok(Message::Close(_)) => {}
                Ok(other) => panic!("unexpected {other:?}"),
                Err(tungstenite::Error::ConnectionClosed) => break,
                Err(e) => panic!("closing, tls={tls}: {e}"),
            }
        }
    }
    assert!(
        apache.wait_log_lines("served by the event driver", 4).len() >= 4,
        "{}",
        apache.error_log()
    );
    assert!(apache.log_lines("served by the threaded driver").is_empty());
}

#[test]
fn event_is_the_default_on_the_event_mpm_and_threaded_elsewhere_or_when_asked() {
    let cases = [
        ("event", "", "event driver (parked between messages)"),
        (
            "event",
            "WebSocketDriver threaded",
            "threaded driver (WebSocketDriver threaded)",
        ),
        (
            "worker",
            "",
            "threaded driver (this MPM cannot park connections)",
        ),
        (
            "prefork",
            "WebSocketDriver event",
            "threaded driver (this MPM cannot park connections)",
        ),
    ];
    for (mpm, extra, served_by) in cases {
        let setup = Setup::default()
            .module_default_driver()
            .mpm(mpm)
            .extra(extra);
        let apache = Apache::start(&format!("driver-{mpm}-{}", extra.len()), setup);
        let mut ws = apache.connect("/echo");
        echo_round(&mut ws, false);
        let lines = apache.wait_log_lines("served by the", 1);
        assert!(
            lines.len() == 1 && lines[0].contains(served_by),
            "{mpm} {extra:?}: {lines:?}"
        );
    }
    let (ok, text) = config_test("event-bad", &Setup::default().extra("WebSocketDriver fast"));
    assert!(!ok && text.contains("threaded or event"), "{text}");
}

#[test]
fn idle_connections_hold_no_worker_thread() {
    let apache = Apache::start("event-idle", small_child(event_setup()));
    let mut clients: Vec<(bool, Client)> = (0..40)
        .map(|i| {
            let tls = i % 2 == 1;
            let mut ws = apache.connect_over(tls, "/echo");
            echo_round(&mut ws, tls);
            (tls, ws)
        })
        .collect();
    let page = apache.get("/");
    assert_eq!(page.status, 200, "{}", apache.error_log());
    for (tls, ws) in clients.iter_mut() {
        echo_round(ws, *tls);
    }
    for (_, ws) in clients.iter_mut() {
        ws.send(Message::text("Goodbye")).unwrap();
    }
}

#[test]
fn chat_pushes_reach_parked_connections() {
    let apache = Apache::start("event-chat", small_child(event_setup()));
    let mut a = apache.connect("/chat");
    let mut b = apache.connect_tls("/chat");
    let joined_b = read_data(&mut b); // its own join
    assert!(
        matches!(&joined_b, Message::Text(t) if t.ends_with("joined")),
        "{joined_b:?}"
    );
    // a hears b's join while parked: a push through a timed callback.
    let mut saw_join = false;
    for _ in 0..2 {
        if let Message::Text(t) = read_data(&mut a) {
            saw_join |= t.ends_with("joined");
        }
    }
    assert!(saw_join);
    b.send(Message::text("hi")).unwrap();
    let relayed = read_data(&mut a);
    assert!(
        matches!(&relayed, Message::Text(t) if t.ends_with(": hi")),
        "{relayed:?}"
    );
    assert_eq!(read_data(&mut b), relayed);
}

#[test]
fn pings_reach_a_silent_parked_connection() {
    let apache = Apache::start(
        "event-ping",
        small_child(event_setup()).extra("WebSocketPingInterval 1"),
    );
    for tls in [false, true] {
        let mut ws = apache.connect_over(tls, "/echo");
        let start = Instant::now();
        match ws.read().expect("read") {
            Message::Ping(_) => {}
            other => panic!("expected a ping, got {other:?}"),
        }
        assert!(start.elapsed() < Duration::from_secs(5));
        echo_round(&mut ws, tls);
    }
}

// ---- compression, spoken frame by frame ----

trait Stream: Read + Write {}
impl<T: Read + Write> Stream for T {}

const TAIL: [u8; 4] = [0, 0, 0xff, 0xff];

fn open_deflate(apache: &Apache, tls: bool) -> Box<dyn Stream> {
    let port = if tls { apache.tls_port } else { apache.port };
    let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut stream: Box<dyn Stream> = if tls {
        let connector = native_tls::TlsConnector::builder()
            .danger_accept_invalid_certs(true)
            .build()
            .unwrap();
        Box::new(connector.connect("127.0.0.1", tcp).unwrap())
    } else {
        Box::new(tcp)
    };
    stream
        .write_all(&upgrade_request(
            "/echo",
            "Sec-WebSocket-Extensions: permessage-deflate\r\n",
        ))
        .unwrap();
    // The response head, byte by byte (nothing after it is read).
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).unwrap();
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    assert!(head.contains("permessage-deflate"), "{head}");
    stream
}

fn send_frame(stream: &mut dyn Stream, first: u8, payload: &[u8]) {
    // `first` as on the wire: FIN, RSV bits, opcode.
    let frame = common::frame(first & 0x80 != 0, first >> 4 & 7, first & 0xf, payload);
    stream.write_all(&frame).unwrap();
}

fn read_frame(stream: &mut dyn Stream) -> (u8, Vec<u8>) {
    let mut head = [0u8; 2];
    stream.read_exact(&mut head).unwrap();
    let len = match head[1] & 0x7f {
        126 => {
            let mut b = [0u8; 2];
            stream.read_exact(&mut b).unwrap();
            u16::from_be_bytes(b) as usize
        }
        127 => {
            let mut b = [0u8; 8];
            stream.read_exact(&mut b).unwrap();
            u64::from_be_bytes(b) as usize
        }
        n => n as usize,
    };
    let mut payload = vec![0u8; len];
    stream.read_exact(&mut payload).unwrap();
    (head[0], payload)
}

fn deflate(compress: &mut Compress, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 1024);
    compress
        .compress_vec(data, &mut out, FlushCompress::Sync)
        .unwrap();
    assert!(out.ends_with(&TAIL));
    out.truncate(out.len() - 4);
    out
}

fn inflate(decompress: &mut Decompress, payload: &[u8]) -> Vec<u8> {
    let input = [payload, &TAIL].concat();
    let mut out = Vec::with_capacity(64 * 1024);
    decompress
        .decompress_vec(&input, &mut out, FlushDecompress::Sync)
        .unwrap();
    out
}

#[test]
fn permessage_deflate_echo_over_ws_and_wss() {
    let apache = Apache::start("event-deflate", event_setup());
    for tls in [false, true] {
        let mut stream = open_deflate(&apache, tls);
        let mut compress = Compress::new(Compression::default(), false);
        let mut decompress = Decompress::new(false);
        for text in ["Hello", "Hello", "compressed over the event driver"] {
            let payload = deflate(&mut compress, text.as_bytes());
            send_frame(stream.as_mut(), 0x80 | 0x40 | 0x1, &payload);
            let (first, payload) = read_frame(stream.as_mut());
            assert_eq!(first, 0x80 | 0x40 | 0x1, "tls={tls}");
            assert_eq!(inflate(&mut decompress, &payload), text.as_bytes());
        }
        send_frame(stream.as_mut(), 0x88, &1000u16.to_be_bytes());
        let (first, payload) = read_frame(stream.as_mut());
        assert_eq!(first & 0x0f, 0x8);
        assert_eq!(payload[..2], 1000u16.to_be_bytes());
    }
}

/// A parked connection outlives the MPM's `Timeout` only through client
/// bytes: the driver pings it at half of `Timeout`; a client that never
/// answers is closed at `Timeout` with 1001.
#[test]
fn a_parked_connection_that_answers_no_ping_gets_1001_at_timeout() {
    let apache = Apache::start("event-timeout", event_setup().extra("Timeout 2"));
    for tls in [false, true] {
        let mut stream = open_deflate(&apache, tls);
        let start = Instant::now();
        let mut pings = 0;
        let code = loop {
            match read_frame(stream.as_mut()) {
                (0x89, payload) => {
                    assert_eq!(payload, b"rswebsocket keep-alive");
                    pings += 1;
                }
                (0x88, payload) => break payload,
                other => panic!("unexpected {other:?}"),
            }
        };
        assert_eq!(code[..2], 1001u16.to_be_bytes());
        assert_eq!(&code[2..], b"no answer within TimeOut");
        assert!(pings >= 1, "no ping before the close");
        let waited = start.elapsed();
        assert!(
            waited >= Duration::from_secs(1) && waited < Duration::from_secs(10),
            "{waited:?}"
        );
    }
}

/// The pongs to those pings keep it open past `Timeout`, but are not
/// activity: `WebSocketIdleTimeout` still ends it, as under threaded.
#[test]
fn a_parked_connection_answering_pings_lives_until_the_idle_timeout() {
    let apache = Apache::start(
        "event-idle-timeout",
        event_setup().extra("Timeout 2\nWebSocketIdleTimeout 5"),
    );
    for tls in [false, true] {
        let mut ws = apache.connect_over(tls, "/echo");
        echo_round(&mut ws, tls);
        let start = Instant::now();
        common::stay_idle(&mut ws, Duration::from_secs(3));
        ws.send(Message::text("still here")).unwrap();
        assert_eq!(read_data(&mut ws), Message::text("still here"));
        let since_message = Instant::now();
        match read_data(&mut ws) {
            Message::Close(Some(frame)) => {
                assert_eq!(frame.code, CloseCode::Away);
                assert_eq!(frame.reason, "idle timeout");
            }
            other => panic!("expected close 1001, got {other:?}"),
        }
        let waited = since_message.elapsed();
        assert!(
            start.elapsed() >= Duration::from_secs(6) && waited < Duration::from_secs(15),
            "{waited:?}"
        );
    }
}

/// Chat members that vanish (a reset, with pushes still queued for them)
/// are freed one by one, each with one closing line, while the members
/// that stay get every message in order and the child lives on.
#[test]
fn members_reset_with_pushes_queued_are_freed_and_the_rest_get_everything() {
    let apache = Apache::start("event-reset", small_child(event_setup()));
    let mut stayers: Vec<Client> = (0..10)
        .map(|i| apache.connect_over(i % 2 == 1, "/chat?quiet"))
        .collect();
    // Members that never read: their pushes pile up in their queues.
    let doomed: Vec<TcpStream> = (0..60)
        .map(|_| {
            let mut stream = TcpStream::connect(("127.0.0.1", apache.port)).unwrap();
            stream
                .write_all(&upgrade_request("/chat?quiet", ""))
                .unwrap();
            stream
        })
        .collect();
    let mut sender = apache.connect("/chat?quiet");
    let payload = "x".repeat(2000);
    let send = |sender: &mut Client, range: std::ops::Range<usize>| {
        for i in range {
            sender
                .send(Message::text(format!("{i} {payload}")))
                .unwrap();
        }
    };
    send(&mut sender, 0..150);
    // Unread data in their receive buffers: closing them sends resets.
    drop(doomed);
    send(&mut sender, 150..300);
    for (n, ws) in stayers.iter_mut().chain([&mut sender]).enumerate() {
        for i in 0..300 {
            match read_data(ws) {
                Message::Text(text) => {
                    let body = text.split_once(": ").map(|(_, body)| body).unwrap_or("");
                    assert!(
                        body.starts_with(&format!("{i} ")),
                        "member {n} expected message {i}, got {:.40}",
                        text
                    );
                }
                other => panic!("member {n}: {other:?}"),
            }
        }
    }
    let needle = "closed: sent close";
    assert_eq!(apache.wait_log_lines(needle, 60).len(), 60);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(apache.log_lines(needle).len(), 60, "one line each");
    let log = apache.error_log();
    assert!(!log.contains("exit signal"), "{log}");
    for ws in stayers.iter_mut() {
        ws.send(Message::text("still here")).unwrap();
    }
}
