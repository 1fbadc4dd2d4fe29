//! The foundation through a real httpd: echo over ws and wss under each MPM,
//! static files untouched, access control before the handshake, dispatch
//! misses, and a mod_pywebsocket-style configuration.
mod common;

use common::{upgrade_request, Apache, Client, Setup};
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::Message;

fn echo_round_trips(ws: &mut Client) {
    ws.send(Message::text("hello, Apache")).unwrap();
    assert_eq!(ws.read().unwrap(), Message::text("hello, Apache"));
    let binary: Vec<u8> = (0..=255u8).collect();
    ws.send(Message::binary(binary.clone())).unwrap();
    assert_eq!(ws.read().unwrap(), Message::binary(binary));
    let big: Vec<u8> = (0..1024 * 1024).map(|i| (i * 7 % 251) as u8).collect();
    ws.send(Message::binary(big.clone())).unwrap();
    assert_eq!(
        &ws.read().unwrap().into_data()[..],
        &big[..],
        "1 MiB echo differs"
    );
    // "Goodbye" is echoed, then the server closes with 1000.
    ws.send(Message::text("Goodbye")).unwrap();
    assert_eq!(ws.read().unwrap(), Message::text("Goodbye"));
    match ws.read().unwrap() {
        Message::Close(Some(frame)) => assert_eq!(frame.code, CloseCode::Normal),
        other => panic!("expected a close, got {other:?}"),
    }
}

fn echo_under(mpm: &'static str) {
    let apache = Apache::start(mpm, Setup::default().mpm(mpm));
    echo_round_trips(&mut apache.connect("/echo"));
    echo_round_trips(&mut apache.connect_tls("/echo"));
    assert!(
        apache.log_lines("exit signal").is_empty(),
        "{}",
        apache.error_log()
    );
}

#[test]
fn echo_over_ws_and_wss_under_event() {
    echo_under("event");
}

#[test]
fn echo_over_ws_and_wss_under_worker() {
    echo_under("worker");
}

#[test]
fn echo_over_ws_and_wss_under_prefork() {
    echo_under("prefork");
}

#[test]
fn fifty_concurrent_connections_each_get_their_own_messages() {
    let apache = Apache::start("concurrent", Setup::default());
    let mut clients: Vec<Client> = (0..50)
        .map(|i| {
            if i % 5 == 0 {
                apache.connect_tls("/echo")
            } else {
                apache.connect("/echo")
            }
        })
        .collect();
    for round in 0..10 {
        for (i, ws) in clients.iter_mut().enumerate() {
            ws.send(Message::text(format!("client {i} message {round}")))
                .unwrap();
        }
        for (i, ws) in clients.iter_mut().enumerate() {
            assert_eq!(
                ws.read().unwrap(),
                Message::text(format!("client {i} message {round}"))
            );
        }
    }
    for ws in &mut clients {
        ws.close(None).unwrap();
        while ws.read().is_ok() {}
    }
}

#[test]
fn the_client_closing_gets_a_close_back() {
    let apache = Apache::start("client-close", Setup::default());
    let mut ws = apache.connect("/echo");
    ws.close(Some(tungstenite::protocol::CloseFrame {
        code: CloseCode::Away,
        reason: "leaving".into(),
    }))
    .unwrap();
    match ws.read() {
        Ok(Message::Close(Some(frame))) => assert_eq!(frame.code, CloseCode::Normal),
        other => panic!("expected the server's close, got {other:?}"),
    }
}

#[test]
fn static_files_are_still_served_and_plain_requests_to_handlers_declined() {
    let apache = Apache::start("static", Setup::default());
    let page = apache.get("/");
    assert_eq!(page.status, 200);
    assert!(String::from_utf8_lossy(&page.body).contains("mod_rswebsocket is running"));
    // Not an upgrade: Apache answers as for any missing file.
    assert_eq!(apache.get("/echo").status, 404);
}

#[test]
fn unknown_resources_are_404() {
    let apache = Apache::start("unknown", Setup::default());
    let response = apache.raw(&upgrade_request("/no-such-handler", ""));
    assert_eq!(response.status, 404, "{}", response.head);
}

#[test]
fn access_control_applies_before_the_handshake() {
    let setup = Setup::default().extra(
        "<Location /private>\n  WebSocketHandler echo\n  Require all denied\n</Location>\n\
         <Location /open>\n  WebSocketHandler echo\n</Location>",
    );
    let apache = Apache::start("authz", setup);
    let denied = apache.raw(&upgrade_request("/private", ""));
    assert_eq!(denied.status, 403, "{}", denied.head);
    let mut ws = apache.connect("/open");
    ws.send(Message::text("via <Location>")).unwrap();
    assert_eq!(ws.read().unwrap(), Message::text("via <Location>"));
}

#[test]
fn malformed_handshakes_get_400_and_one_log_line() {
    let apache = Apache::start("bad-handshake", Setup::default());
    let bad_key = apache.raw(
        b"GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Key: not-base64\r\nSec-WebSocket-Version: 13\r\n\r\n",
    );
    assert_eq!(bad_key.status, 400, "{}", bad_key.head);
    let lines = apache.wait_log_lines("Sec-WebSocket-Key", 1);
    assert_eq!(lines.len(), 1, "{}", apache.error_log());
    assert!(lines[0].contains("400"), "{}", lines[0]);

    let bad_version = apache.raw(&upgrade_request("/echo", "").replace_version("99"));
    assert_eq!(bad_version.status, 400, "{}", bad_version.head);
    assert_eq!(
        bad_version.header("Sec-WebSocket-Version").as_deref(),
        Some("13, 8, 7")
    );
}

trait ReplaceVersion {
    fn replace_version(self, version: &str) -> Vec<u8>;
}

impl ReplaceVersion for Vec<u8> {
    fn replace_version(self, version: &str) -> Vec<u8> {
        String::from_utf8(self)
            .unwrap()
            .replace(
                "Sec-WebSocket-Version: 13",
                &format!("Sec-WebSocket-Version: {version}"),
            )
            .into_bytes()
    }
}

#[test]
fn a_mod_pywebsocket_configuration_runs_unchanged() {
    let handlers = format!("{}/apache-conf/handlers", env!("CARGO_MANIFEST_DIR"));
    let setup = Setup::default().handler_config(&format!(
        "<IfModule python_module>\n  PythonPath \"sys.path+['/websock_lib']\"\n</IfModule>\n\
         PythonPath \"sys.path+['/websock_lib']\"\n\
         PythonOption mod_pywebsocket.handler_root {handlers}\n\
         PythonOption mod_pywebsocket.allow_draft75 Off\n\
         PythonHeaderParserHandler mod_pywebsocket.headerparserhandler"
    ));
    let apache = Apache::start("pywebsocket-conf", setup);
    let mut ws = apache.connect("/echo");
    ws.send(Message::text("old config")).unwrap();
    assert_eq!(ws.read().unwrap(), Message::text("old config"));
    let stderr = std::fs::read_to_string(apache.root.join("stderr.log")).unwrap_or_default()
        + &apache.error_log();
    assert!(
        stderr.contains(
            "PythonHeaderParserHandler mod_pywebsocket.headerparserhandler' is not needed"
        ),
        "{stderr}"
    );
}
