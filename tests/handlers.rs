//! The compiled-in handlers through a real httpd, over ws and wss: what a
//! client of each one sees, handler-file options checked at start-up, and a
//! panicking handler that harms only its own connection.
mod common;

use std::path::Path;

use common::{close_with, server_close, upgrade_request, Apache, Client, Setup};
use tungstenite::Message;

const BOTH: [bool; 2] = [false, true];

/// The next text message, skipping nothing.
fn text(ws: &mut Client) -> String {
    match ws.read().unwrap() {
        Message::Text(text) => text,
        other => panic!("expected a text message, got {other:?}"),
    }
}

#[test]
fn echo_noext_echoes_and_refuses_every_extension() {
    let apache = Apache::start("echo-noext", Setup::default());
    for tls in BOTH {
        let mut ws = apache.connect_over(tls, "/echo_noext");
        ws.send(Message::text("plain")).unwrap();
        assert_eq!(ws.read().unwrap(), Message::text("plain"));
        ws.send(Message::binary(vec![0, 1, 255])).unwrap();
        assert_eq!(ws.read().unwrap(), Message::binary(vec![0, 1, 255]));
    }
    let offer = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits, \
                 x-webkit-deflate-frame\r\n";
    let response = apache.raw(&upgrade_request("/echo_noext", offer));
    assert_eq!(response.status, 101, "{}", response.head);
    assert_eq!(response.header("Sec-WebSocket-Extensions"), None);
}

#[test]
fn close_answers_with_the_clients_code_and_reason_and_reports_them_when_asked() {
    let apache = Apache::start("close", Setup::default());
    for tls in BOTH {
        let mut ws = apache.connect_over(tls, "/close");
        ws.send(Message::text("still echoes")).unwrap();
        assert_eq!(text(&mut ws), "still echoes");
        close_with(&mut ws, 4321, "my reason");
        assert_eq!(server_close(&mut ws), (4321, "my reason".to_string()));

        let mut ws = apache.connect_over(tls, "/close?report");
        close_with(&mut ws, 1001, "going away");
        assert_eq!(text(&mut ws), "1001 going away");
        assert_eq!(server_close(&mut ws), (1001, "going away".to_string()));
    }
}

#[test]
fn origin_check_accepts_only_its_configured_origin() {
    // The module's own origin policy off: the handler's check is under test.
    let apache = Apache::start(
        "origin-check",
        Setup::default().extra("WebSocketOriginCheck Off"),
    );
    for tls in BOTH {
        let mut ws = apache
            .connect_with_origin(tls, "/origin_check", "http://127.0.0.1:8080")
            .unwrap_or_else(|e| panic!("allowed origin refused: {e}\n{}", apache.error_log()));
        ws.send(Message::text("allowed")).unwrap();
        assert_eq!(text(&mut ws), "allowed");
        match apache
            .connect_with_origin(tls, "/origin_check", "http://evil.example")
            .map_err(|e| *e)
        {
            Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 403),
            other => panic!("expected 403, got {:?}", other.map(|_| "a connection")),
        }
    }
    let no_origin = apache.raw(&upgrade_request("/origin_check", ""));
    assert_eq!(no_origin.status, 403, "{}", no_origin.head);
    let refused = apache.wait_log_lines("refused by handler 'origin_check' with 403", 3);
    assert_eq!(refused.len(), 3, "{}", apache.error_log());
    assert!(refused[0].contains("origin http://evil.example is not http://127.0.0.1:8080"));
}

#[test]
fn abort_handshake_drops_the_connection_without_a_response() {
    let apache = Apache::start("abort-handshake", Setup::default());
    let response = apache.raw(&upgrade_request("/abort_handshake", ""));
    assert_eq!((response.status, response.head.as_str()), (0, ""));
    assert!(apache.connect_tls_result("/abort_handshake").is_err());
    // The server is fine afterwards.
    let mut ws = apache.connect("/echo");
    ws.send(Message::text("after abort")).unwrap();
    assert_eq!(text(&mut ws), "after abort");
}

/// The text a chat member reads next, skipping nothing.
fn joined_id(ws: &mut Client) -> String {
    let line = text(ws);
    let id = line
        .strip_suffix(" joined")
        .unwrap_or_else(|| panic!("expected a join, got {line:?}"));
    id.to_string()
}

#[test]
fn chat_relays_between_connections_over_ws_and_wss_while_readers_block() {
    let setup = Setup::default()
        .one_child()
        .extra("<Location /lobby>\n  WebSocketHandler chat\n</Location>");
    let apache = Apache::start("chat", setup);
    for (a_tls, b_tls) in [(false, true), (true, false)] {
        let mut a = apache.connect_over(a_tls, "/chat");
        let a_id = joined_id(&mut a);
        let mut b = apache.connect_over(b_tls, "/chat?nick=b");
        let b_id = joined_id(&mut b);
        assert_eq!(text(&mut a), format!("{b_id} joined"));
        // B's handler thread sits in receive_message: A's message reaches
        // it through B's Sender, from A's thread.
        a.send(Message::text("hello from A")).unwrap();
        assert_eq!(text(&mut b), format!("{a_id}: hello from A"));
        assert_eq!(text(&mut a), format!("{a_id}: hello from A"));
        b.send(Message::binary(vec![7, 8, 9])).unwrap();
        assert_eq!(a.read().unwrap(), Message::binary(vec![7, 8, 9]));
        assert_eq!(b.read().unwrap(), Message::binary(vec![7, 8, 9]));
        // Another resource is another room.
        let mut other = apache.connect("/lobby");
        let other_id = joined_id(&mut other);
        other.send(Message::text("elsewhere")).unwrap();
        assert_eq!(text(&mut other), format!("{other_id}: elsewhere"));
        close_with(&mut b, 1000, "");
        server_close(&mut b);
        assert_eq!(text(&mut a), format!("{b_id} left"));
        a.send(Message::text("alone")).unwrap();
        assert_eq!(text(&mut a), format!("{a_id}: alone"));
    }
}

#[test]
fn chat_never_announces_a_quiet_member_which_still_gets_every_message() {
    let setup = Setup::default()
        .one_child()
        .extra("<Location /lobby>\n  WebSocketHandler chat\n</Location>");
    let apache = Apache::start("chat-quiet", setup);
    // A room per pass, so the first pass's leaves cannot reach the second.
    for (room, quiet_tls) in [("/chat", false), ("/lobby", true)] {
        let mut loud = apache.connect(room);
        let loud_id = joined_id(&mut loud);
        let mut quiet = apache.connect_over(quiet_tls, &format!("{room}?nick=q&quiet"));
        // The quiet member's own message, relayed, is the first thing both
        // read: no join came before it.
        quiet.send(Message::text("here")).unwrap();
        let relayed = text(&mut quiet);
        let quiet_id = relayed.strip_suffix(": here").expect("a relay").to_string();
        assert_eq!(text(&mut loud), format!("{quiet_id}: here"));
        // It hears the others' joins and messages.
        let mut other = apache.connect(room);
        let other_id = joined_id(&mut other);
        assert_eq!(text(&mut quiet), format!("{other_id} joined"));
        assert_eq!(text(&mut loud), format!("{other_id} joined"));
        loud.send(Message::text("to all")).unwrap();
        for ws in [&mut loud, &mut quiet, &mut other] {
            assert_eq!(text(ws), format!("{loud_id}: to all"));
        }
        // Its leave is not announced; the other's is.
        close_with(&mut quiet, 1000, "");
        server_close(&mut quiet);
        close_with(&mut other, 1000, "");
        server_close(&mut other);
        assert_eq!(text(&mut loud), format!("{other_id} left"));
        loud.send(Message::text("alone")).unwrap();
        assert_eq!(text(&mut loud), format!("{loud_id}: alone"));
    }
}

#[test]
fn chat_cuts_off_a_reader_that_falls_behind_and_the_others_carry_on() {
    let apache = Apache::start("chat-slow", Setup::default().one_child());
    let mut fast = apache.connect("/chat");
    let fast_id = joined_id(&mut fast);
    let mut slow = apache.connect_tls("/chat");
    let slow_id = joined_id(&mut slow);
    assert_eq!(text(&mut fast), format!("{slow_id} joined"));
    // The slow client reads nothing while the fast one talks: its socket
    // buffers fill, then its queue, then it is cut off.
    let payload = vec![42u8; 16 * 1024];
    let mut cut_off = false;
    for _ in 0..20_000 {
        fast.send(Message::binary(payload.clone())).unwrap();
        loop {
            match fast.read().unwrap() {
                Message::Binary(data) => {
                    assert_eq!(data.len(), payload.len());
                    break;
                }
                Message::Text(line) => {
                    assert_eq!(line, format!("{slow_id} left (too slow)"));
                    cut_off = true;
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        if cut_off {
            break;
        }
    }
    assert!(cut_off, "the slow reader was never cut off");
    fast.send(Message::text("carry on")).unwrap();
    assert_eq!(text(&mut fast), format!("{fast_id}: carry on"));
    // The slow client gets what was queued for it, then 1008.
    assert_eq!(server_close(&mut slow), (1008, "too slow".to_string()));
}

#[test]
fn bench_sends_what_it_is_asked_and_counts_what_it_echoes() {
    let apache = Apache::start("bench", Setup::default());
    for tls in BOTH {
        let mut ws = apache.connect_over(tls, "/bench");
        ws.send(Message::text("send 3 1000")).unwrap();
        for _ in 0..3 {
            let data = ws.read().unwrap().into_data();
            assert_eq!(data.len(), 1000);
            assert_eq!(data[999], (999 % 256) as u8);
        }
        assert_eq!(text(&mut ws), "sent 3");
        ws.send(Message::text("send 2 5 text")).unwrap();
        assert_eq!(text(&mut ws), "xxxxx");
        assert_eq!(text(&mut ws), "xxxxx");
        assert_eq!(text(&mut ws), "sent 2");
        ws.send(Message::text("abc")).unwrap();
        assert_eq!(text(&mut ws), "abc");
        ws.send(Message::binary(vec![1; 10])).unwrap();
        assert_eq!(ws.read().unwrap(), Message::binary(vec![1; 10]));
        ws.send(Message::text("count")).unwrap();
        assert_eq!(text(&mut ws), "count 2 13");
        ws.send(Message::text("send lots")).unwrap();
        assert!(text(&mut ws).starts_with("error: usage: send COUNT SIZE"));
    }
}

#[test]
fn a_panicking_handler_closes_only_its_connection_with_1011_and_the_child_lives() {
    for mpm in ["event", "prefork"] {
        let apache = Apache::start("internal-error", Setup::default().mpm(mpm));
        let mut bystander = apache.connect("/echo");
        for tls in BOTH {
            let mut ws = apache.connect_over(tls, "/internal_error");
            assert_eq!(server_close(&mut ws).0, 1011, "under {mpm}");
        }
        bystander.send(Message::text("unharmed")).unwrap();
        assert_eq!(text(&mut bystander), "unharmed");
        let mut fresh = apache.connect_tls("/echo");
        fresh.send(Message::text("new connection")).unwrap();
        assert_eq!(text(&mut fresh), "new connection");
        let panics = apache.wait_log_lines("intentional failure in the internal_error handler", 2);
        let log = apache.error_log();
        assert_eq!(panics.len(), 2, "one line per failed connection:\n{log}");
        assert!(panics.iter().all(|l| l.contains("1011")), "{log}");
        assert!(!log.contains("exit signal"), "{log}");
    }
}

#[test]
fn the_shipped_handler_files_load_without_warnings() {
    let apache = Apache::start("shipped-files", Setup::default());
    let warnings = startup_warnings(&apache);
    assert!(warnings.is_empty(), "{}", warnings.join("\n"));
}

/// The distinct handler-file warnings of start-up (each server, the TLS
/// virtual host included, logs those of the root it uses).
fn startup_warnings(apache: &Apache) -> Vec<String> {
    let mut warnings: Vec<String> = Vec::new();
    for line in apache.log_lines("[rswebsocket:warn]") {
        if let Some((_, warning)) = line.split_once("mod_rswebsocket: handler file ") {
            if !warnings.iter().any(|w| w == warning) {
                warnings.push(warning.to_string());
            }
        }
    }
    warnings
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

#[test]
fn unknown_options_and_bad_values_are_start_up_warnings_with_file_and_line() {
    let root = common::test_root("option-files");
    write(
        &root,
        "echo_wsh.conf",
        "# echo\nhandler = echo\ngreeting = hello\n",
    );
    write(
        &root,
        "guarded_wsh.conf",
        "handler = origin_check\n\norigin = example.org\n",
    );
    write(
        &root,
        "good_wsh.conf",
        "handler = origin_check\norigin = https://example.org\n",
    );
    let setup =
        Setup::default().handler_config(&format!("WebSocketHandlerRoot \"{}\"", root.display()));
    let apache = Apache::start("option-warnings", setup);
    let warnings = startup_warnings(&apache);
    let echo_file = root.join("echo_wsh.conf");
    let guarded_file = root.join("guarded_wsh.conf");
    assert_eq!(warnings.len(), 2, "{}", warnings.join("\n"));
    assert!(
        warnings[0].starts_with(&format!(
            "{}:3: unknown option 'greeting' (handler 'echo')",
            echo_file.display()
        )),
        "{}",
        warnings[0]
    );
    assert!(
        warnings[1].starts_with(&format!(
            "{}:3: origin 'example.org' is not an origin",
            guarded_file.display()
        )),
        "{}",
        warnings[1]
    );
    // A warning does not stop the file from serving.
    let mut ws = apache.connect("/echo");
    ws.send(Message::text("served anyway")).unwrap();
    assert_eq!(text(&mut ws), "served anyway");
}
