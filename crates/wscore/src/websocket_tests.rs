//! The session driven through an in-memory transport, byte for byte.
use super::*;
use crate::run::{run_handler, Ending};
use crate::testing::{client_close, client_frame, MemoryTransport};

struct Echo;

impl Handler for Echo {
    fn transfer_data(&self, ws: &mut WebSocket<'_>) -> Result<(), WsError> {
        while let Some(message) = ws.receive_message()? {
            ws.send_message(&message)?;
        }
        Ok(())
    }
}

struct Panics;

impl Handler for Panics {
    fn transfer_data(&self, _ws: &mut WebSocket<'_>) -> Result<(), WsError> {
        panic!("handler bug");
    }
}

struct Unsupported;

impl Handler for Unsupported {
    fn transfer_data(&self, ws: &mut WebSocket<'_>) -> Result<(), WsError> {
        ws.receive_message()?;
        Err(WsError::unsupported("no binary here"))
    }
}

fn request() -> HandshakeRequest {
    HandshakeRequest::new("/echo")
}

fn run(handler: &dyn Handler, transport: &mut MemoryTransport) -> Ending {
    let mut ws = WebSocket::new(transport, handler, request(), ProtocolConfig::default()).unwrap();
    run_handler(handler, &mut ws)
}

#[test]
fn echoes_and_answers_the_clients_close() {
    let mut t = MemoryTransport::with_input(&[
        &client_frame(true, 0x1, b"Hello"),
        &client_frame(true, 0x2, &[1, 2, 3]),
        &client_close(1000, "bye"),
    ]);
    assert!(matches!(run(&Echo, &mut t), Ending::Completed));
    let expected: Vec<u8> = [
        &[0x81, 0x05][..],
        b"Hello",
        &[0x82, 0x03, 1, 2, 3],
        &[0x88, 0x02, 0x03, 0xe8], // passive close: 1000, no reason
    ]
    .concat();
    assert_eq!(t.output, expected);
    assert_eq!(t.writes, 3, "one write per message");
}

struct ReportsClose;

impl Handler for ReportsClose {
    fn transfer_data(&self, ws: &mut WebSocket<'_>) -> Result<(), WsError> {
        while ws.receive_message()?.is_some() {}
        Ok(())
    }

    fn message_before_closing(
        &self,
        _request: &HandshakeRequest,
        peer: Option<&CloseFrame>,
    ) -> Option<Message> {
        peer.map(|p| Message::Text(format!("{} {}", p.code, p.reason)))
    }

    fn passive_closing_handshake(&self, peer: Option<&CloseFrame>) -> (u16, String) {
        peer.map_or((codes::NORMAL, String::new()), |p| {
            (p.code, p.reason.clone())
        })
    }
}

#[test]
fn a_message_before_closing_precedes_the_close_answer() {
    let mut t = MemoryTransport::with_input(&[&client_close(4000, "ok")]);
    assert!(matches!(run(&ReportsClose, &mut t), Ending::Completed));
    let expected: Vec<u8> = [
        &[0x81, 0x07][..],
        b"4000 ok",
        &[0x88, 0x04, 0x0f, 0xa0],
        b"ok",
    ]
    .concat();
    assert_eq!(t.output, expected);
}

#[test]
fn pings_between_fragments_are_answered_in_order() {
    let mut t = MemoryTransport::with_input(&[
        &client_frame(false, 0x1, b"Hel"),
        &client_frame(true, 0x9, b"ping!"),
        &client_frame(true, 0x0, b"lo"),
        &client_close(1000, ""),
    ]);
    assert!(matches!(run(&Echo, &mut t), Ending::Completed));
    let expected: Vec<u8> = [
        &[0x8a, 0x05][..],
        b"ping!",
        &[0x81, 0x05],
        b"Hello",
        &[0x88, 0x02, 0x03, 0xe8],
    ]
    .concat();
    assert_eq!(t.output, expected);
}

#[test]
fn bytes_arriving_one_at_a_time_give_the_same_result() {
    let frame = client_frame(true, 0x1, "héllo wörld".as_bytes());
    let close = client_close(1001, "going");
    let mut chunks: Vec<Vec<u8>> = frame.iter().map(|b| vec![*b]).collect();
    chunks.extend(close.iter().map(|b| vec![*b]));
    let mut t = MemoryTransport {
        input: chunks.into(),
        ..Default::default()
    };
    assert!(matches!(run(&Echo, &mut t), Ending::Completed));
    let text = "héllo wörld".as_bytes();
    let expected: Vec<u8> = [
        &[0x81, text.len() as u8][..],
        text,
        &[0x88, 0x02, 0x03, 0xe8],
    ]
    .concat();
    assert_eq!(t.output, expected);
}

#[test]
fn an_unmasked_frame_fails_with_1002_and_no_wait() {
    let mut t = MemoryTransport::with_input(&[&[0x81, 0x02, b'h', b'i']]);
    match run(&Echo, &mut t) {
        Ending::Failed(WsError::Protocol(e)) => assert_eq!(e.code, 1002),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(&t.output[..4], &[0x88, t.output[1], 0x03, 0xea]);
    assert_eq!(
        t.output.len(),
        2 + t.output[1] as usize,
        "exactly one close frame"
    );
}

#[test]
fn a_panicking_handler_closes_with_1011() {
    let mut t = MemoryTransport::with_input(&[&client_close(1011, "")]);
    match run(&Panics, &mut t) {
        Ending::Panicked(text) => assert_eq!(text, "handler bug"),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(&t.output[..4], &[0x88, t.output[1], 0x03, 0xf3]);
}

#[test]
fn a_handler_error_closes_with_its_code_and_reason() {
    let mut t =
        MemoryTransport::with_input(&[&client_frame(true, 0x2, b"\x00"), &client_close(1003, "")]);
    assert!(matches!(
        run(&Unsupported, &mut t),
        Ending::Failed(WsError::Handler { code: 1003, .. })
    ));
    let expected: Vec<u8> = [&[0x88, 0x10, 0x03, 0xeb][..], b"no binary here"].concat();
    assert_eq!(t.output, expected);
}

#[test]
fn a_vanished_client_is_connection_lost_without_output() {
    let mut t = MemoryTransport::with_input(&[&client_frame(false, 0x1, b"par")]);
    assert!(matches!(
        run(&Echo, &mut t),
        Ending::Failed(WsError::ConnectionLost)
    ));
    assert!(t.output.is_empty());
}

#[test]
fn server_stop_closes_with_1001() {
    let mut t = MemoryTransport {
        at_end: Some(Input::Stopping),
        ..Default::default()
    };
    assert!(matches!(
        run(&Echo, &mut t),
        Ending::Failed(WsError::ServerStopping)
    ));
    let expected: Vec<u8> = [&[0x88, 0x11, 0x03, 0xe9][..], b"server stopping"].concat();
    assert_eq!(t.output, expected);
}

#[test]
fn messages_queued_by_other_threads_are_written_in_order() {
    let mut t = MemoryTransport::with_input(&[&client_close(1000, "")]);
    let handler = Echo;
    let mut ws = WebSocket::new(&mut t, &handler, request(), ProtocolConfig::default()).unwrap();
    let sender = ws.sender();
    std::thread::spawn(move || {
        sender.send_text("one").unwrap();
        sender.send_binary(vec![2]).unwrap();
    })
    .join()
    .unwrap();
    assert!(ws.receive_message().unwrap().is_none());
    drop(ws);
    let expected: Vec<u8> = [
        &[0x81, 0x03][..],
        b"one",
        &[0x82, 0x01, 2],
        &[0x88, 0x02, 0x03, 0xe8],
    ]
    .concat();
    assert_eq!(t.output, expected);
}

#[test]
fn sends_after_close_are_refused() {
    let mut t = MemoryTransport::with_input(&[&client_close(1000, "")]);
    let handler = Echo;
    let mut ws = WebSocket::new(&mut t, &handler, request(), ProtocolConfig::default()).unwrap();
    assert!(ws.receive_message().unwrap().is_none());
    assert_eq!(ws.close_code(), Some(1000));
    assert!(matches!(ws.send_text("late"), Err(WsError::Closed)));
}

fn run_hixie(draft: crate::hixie::HixieDraft, t: &mut MemoryTransport) -> Ending {
    let codec = Box::new(crate::hixie::HixieProtocol::new(draft, 1 << 20));
    let mut ws = WebSocket::with_codec(t, &Echo, request(), codec).unwrap();
    run_handler(&Echo, &mut ws)
}

#[test]
fn hybi00_echo_and_closing_handshake() {
    let mut t = MemoryTransport::with_input(&[b"\x00hi\xff", b"\xff\x00"]);
    assert!(matches!(
        run_hixie(crate::hixie::HixieDraft::Hybi00, &mut t),
        Ending::Completed
    ));
    assert_eq!(t.output, b"\x00hi\xff\xff\x00");
}

#[test]
fn hixie75_client_closing_tcp_ends_the_handler_cleanly() {
    let mut t = MemoryTransport::with_input(&[b"\x00hi\xff"]);
    assert!(matches!(
        run_hixie(crate::hixie::HixieDraft::Hixie75, &mut t),
        Ending::Completed
    ));
    assert_eq!(t.output, b"\x00hi\xff");
}

#[test]
fn binary_sends_on_old_drafts_are_a_clear_error() {
    let mut t = MemoryTransport::default();
    let codec = Box::new(crate::hixie::HixieProtocol::new(
        crate::hixie::HixieDraft::Hybi00,
        1 << 20,
    ));
    let mut ws = WebSocket::with_codec(&mut t, &Echo, request(), codec).unwrap();
    match ws.send_binary(b"\x01") {
        Err(WsError::InvalidSend(e)) => assert!(e.to_string().contains("only text")),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn an_idle_connection_is_closed_with_1001() {
    let mut t = MemoryTransport {
        at_end: Some(Input::TimedOut),
        ..Default::default()
    };
    let mut ws = WebSocket::new(&mut t, &Echo, request(), ProtocolConfig::default()).unwrap();
    ws.set_timeouts(crate::keepalive::Timeouts {
        idle: Some(Duration::ZERO),
        ..Default::default()
    });
    assert!(matches!(
        run_handler(&Echo, &mut ws),
        Ending::Failed(WsError::TimedOut)
    ));
    drop(ws);
    let expected: Vec<u8> = [&[0x88, 0x0e, 0x03, 0xe9][..], b"idle timeout"].concat();
    assert_eq!(t.output, expected);
}

#[test]
fn the_tracer_sees_every_message_control_frame_and_close() {
    let mut t = MemoryTransport::with_input(&[
        &client_frame(true, 0x9, b"p"),
        &client_frame(true, 0x1, b"Hello"),
        &client_close(1000, ""),
    ]);
    let lines = std::cell::RefCell::new(Vec::new());
    {
        let mut ws = WebSocket::new(&mut t, &Echo, request(), ProtocolConfig::default()).unwrap();
        ws.set_tracer(|line| lines.borrow_mut().push(line.to_string()));
        run_handler(&Echo, &mut ws);
    }
    assert_eq!(
        lines.into_inner(),
        vec![
            "in: ping, 1 bytes",
            "out: pong, 1 bytes",
            "in: text message, 5 bytes",
            "out: Text message, 5 bytes",
            "in: close 1000 \"\"",
            "out: close 1000 \"\"",
        ]
    );
}
