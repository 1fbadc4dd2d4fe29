//! Event handlers driven both ways: by [`Dispatch`] on a bare session with
//! an injected clock, and by [`serve`] over an in-memory transport.
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::*;
use crate::close::codes;
use crate::handler::Handler;
use crate::protocol::ProtocolConfig;
use crate::run::{run_handler, Ending};
use crate::sender::Sender;
use crate::session::{End, Session};
use crate::testing::{client_close, client_frame, MemoryTransport};
use crate::websocket::WebSocket;

const S: Duration = Duration::from_secs(1);

fn request(resource: &str) -> HandshakeRequest {
    HandshakeRequest::new(resource)
}

/// Echoes; `Goodbye` is echoed, then closes. With `?report` in the
/// resource, answers the peer's close with its own code after reporting it.
struct Echo;
struct EchoConnection;

impl EventHandler for Echo {
    fn open(&self, _ws: &mut Conn<'_>) -> Box<dyn Connection> {
        Box::new(EchoConnection)
    }
}

impl Connection for EchoConnection {
    fn on_message(&mut self, ws: &mut Conn<'_>, message: Message) -> Result<(), WsError> {
        ws.send(&message)?;
        match &message {
            Message::Text(text) if text == "Goodbye" => ws.close(codes::NORMAL, ""),
            Message::Text(text) if text == "panic" => panic!("asked to"),
            Message::Binary(_) if ws.request().resource == "/text-only" => {
                Err(WsError::unsupported("no binary here"))
            }
            _ => Ok(()),
        }
    }

    fn on_close(&mut self, ws: &mut Conn<'_>, peer: Option<&CloseFrame>) -> Result<(), WsError> {
        if ws.request().resource != "/report" {
            return Ok(());
        }
        let peer = peer.expect("a code");
        ws.send_text(&format!("{} {}", peer.code, peer.reason))?;
        ws.close(peer.code, &peer.reason)
    }
}

fn serve_on(handler: &'static dyn Handler, resource: &str, t: &mut MemoryTransport) -> Ending {
    let config = ProtocolConfig::default();
    let mut ws = WebSocket::new(t, handler, request(resource), config).unwrap();
    run_handler(handler, &mut ws)
}

static ECHO: Threaded<Echo> = Threaded(Echo);

fn close_frame(code: u16, reason: &str) -> Vec<u8> {
    [
        &[0x88, 2 + reason.len() as u8][..],
        &code.to_be_bytes(),
        reason.as_bytes(),
    ]
    .concat()
}

#[test]
fn threaded_echo_matches_the_blocking_echo_however_input_is_split() {
    let input: Vec<u8> = [
        client_frame(true, 0x1, b"Hello"),
        client_frame(false, 0x2, &[1, 2]),
        client_frame(true, 0x9, b"p"),
        client_frame(true, 0x0, &[3]),
        client_close(1000, "bye"),
    ]
    .concat();
    let expected: Vec<u8> = [
        &[0x81, 0x05][..],
        b"Hello",
        &[0x8a, 0x01, b'p'],
        &[0x82, 0x03, 1, 2, 3],
        &close_frame(1000, ""),
    ]
    .concat();
    for chunk in [1, 2, 3, 7, input.len()] {
        let mut t = MemoryTransport {
            input: input.chunks(chunk).map(<[u8]>::to_vec).collect(),
            ..Default::default()
        };
        assert!(matches!(serve_on(&ECHO, "/", &mut t), Ending::Completed));
        assert_eq!(t.output, expected, "chunks of {chunk}");
    }
}

#[test]
fn a_close_from_a_callback_waits_for_the_answer_and_discards_later_messages() {
    let mut t = MemoryTransport::with_input(&[
        &client_frame(true, 0x1, b"Goodbye"),
        &client_frame(true, 0x1, b"ignored"),
        &client_close(1000, ""),
    ]);
    assert!(matches!(serve_on(&ECHO, "/", &mut t), Ending::Completed));
    let expected: Vec<u8> = [&[0x81, 0x07][..], b"Goodbye", &close_frame(1000, "")].concat();
    assert_eq!(t.output, expected);
}

#[test]
fn on_close_may_report_and_choose_the_answer() {
    let mut t = MemoryTransport::with_input(&[&client_close(4000, "ok")]);
    assert!(matches!(
        serve_on(&ECHO, "/report", &mut t),
        Ending::Completed
    ));
    let expected: Vec<u8> = [&[0x81, 0x07][..], b"4000 ok", &close_frame(4000, "ok")].concat();
    assert_eq!(t.output, expected);
}

#[test]
fn a_panicking_callback_closes_its_connection_with_1011() {
    let mut t =
        MemoryTransport::with_input(&[&client_frame(true, 0x1, b"panic"), &client_close(1011, "")]);
    match serve_on(&ECHO, "/", &mut t) {
        Ending::Panicked(text) => assert_eq!(text, "asked to"),
        other => panic!("unexpected {other:?}"),
    }
    let expected: Vec<u8> = [
        &[0x81, 0x05][..],
        b"panic",
        &close_frame(1011, "handler failure"),
    ]
    .concat();
    assert_eq!(t.output, expected);
}

#[test]
fn a_callback_error_closes_with_its_code() {
    let mut t =
        MemoryTransport::with_input(&[&client_frame(true, 0x2, &[0]), &client_close(1003, "")]);
    assert!(matches!(
        serve_on(&ECHO, "/text-only", &mut t),
        Ending::Failed(WsError::Handler { code: 1003, .. })
    ));
    let expected: Vec<u8> = [&[0x82, 0x01, 0][..], &close_frame(1003, "no binary here")].concat();
    assert_eq!(t.output, expected);
}

#[test]
fn pushes_queued_while_waiting_are_written() {
    let mut t = MemoryTransport::with_input(&[&client_close(1000, "")]);
    let mut ws = WebSocket::new(&mut t, &ECHO, request("/"), ProtocolConfig::default()).unwrap();
    let sender = ws.sender();
    std::thread::spawn(move || sender.send_text("pushed").unwrap())
        .join()
        .unwrap();
    assert!(matches!(run_handler(&ECHO, &mut ws), Ending::Completed));
    drop(ws);
    let expected: Vec<u8> = [&[0x81, 0x06][..], b"pushed", &close_frame(1000, "")].concat();
    assert_eq!(t.output, expected);
}

/// Sends `tick N` every 5 s; closes after the third.
struct Ticker;
struct TickerConnection(u32);

impl EventHandler for Ticker {
    fn open(&self, ws: &mut Conn<'_>) -> Box<dyn Connection> {
        ws.set_timer(5 * S);
        Box::new(TickerConnection(0))
    }
}

impl Connection for TickerConnection {
    fn on_message(&mut self, _ws: &mut Conn<'_>, _message: Message) -> Result<(), WsError> {
        Ok(())
    }

    fn on_timer(&mut self, ws: &mut Conn<'_>) -> Result<(), WsError> {
        self.0 += 1;
        ws.send_text(&format!("tick {}", self.0))?;
        if self.0 == 3 {
            return ws.close(codes::NORMAL, "");
        }
        ws.set_timer(5 * S);
        Ok(())
    }
}

fn take_output(session: &mut Session) -> Vec<u8> {
    let out = session.output().to_vec();
    session.consume_output(out.len());
    out
}

#[test]
fn a_held_queue_stays_queued_until_released() {
    let t0 = Instant::now();
    let mut session = Session::new(request("/"), ProtocolConfig::default(), t0).unwrap();
    let mut dispatch = Dispatch::open(&Echo, &mut session, t0);
    session.sender().send_text("pushed").unwrap();
    dispatch.hold_queue(true);
    session.feed(&client_frame(true, 0x1, b"echo"), t0);
    dispatch.run(&mut session, t0);
    // Input is still served; the push waits.
    assert_eq!(
        take_output(&mut session),
        [&[0x81, 4][..], b"echo"].concat()
    );
    dispatch.hold_queue(false);
    dispatch.run(&mut session, t0);
    assert_eq!(
        take_output(&mut session),
        [&[0x81, 6][..], b"pushed"].concat()
    );
}

#[test]
fn timers_fire_by_the_injected_clock() {
    let t0 = Instant::now();
    let mut session = Session::new(request("/"), ProtocolConfig::default(), t0).unwrap();
    let mut dispatch = Dispatch::open(&Ticker, &mut session, t0);
    assert_eq!(dispatch.next_wake(&session, t0), Some(t0 + 5 * S));
    dispatch.run(&mut session, t0 + 4 * S);
    assert!(take_output(&mut session).is_empty(), "early");
    for n in 1..=3 {
        let at = t0 + 5 * n * S;
        dispatch.run(&mut session, at);
        let text = format!("tick {n}");
        assert!(take_output(&mut session).starts_with(&[&[0x81, 6][..], text.as_bytes()].concat()));
    }
    let closed_at = t0 + 15 * S;
    assert_eq!(
        dispatch.next_wake(&session, closed_at),
        Some(closed_at + crate::session::CLOSE_WAIT),
        "the timer is gone; the close waits for its answer"
    );
    session.feed(&client_close(1000, ""), closed_at + S);
    dispatch.run(&mut session, closed_at + S);
    assert_eq!(session.end(), Some(End::Closed));
    assert_eq!(dispatch.next_wake(&session, closed_at + S), None);
}

#[test]
fn timers_fire_on_the_threaded_driver() {
    struct Soon;
    impl EventHandler for Soon {
        fn open(&self, ws: &mut Conn<'_>) -> Box<dyn Connection> {
            ws.set_timer(Duration::from_millis(10));
            Box::new(TickerConnection(2))
        }
    }
    static SOON: Threaded<Soon> = Threaded(Soon);
    let mut t = MemoryTransport {
        at_end: Some(crate::transport::Input::TimedOut),
        ..Default::default()
    };
    let mut ws = WebSocket::new(&mut t, &SOON, request("/"), ProtocolConfig::default()).unwrap();
    let started = Instant::now();
    // The transport times out at once: the waits are the timer's and the
    // close's own (no answer comes: the close wait expires).
    assert!(matches!(
        run_handler(&SOON, &mut ws),
        Ending::Failed(WsError::TimedOut)
    ));
    assert!(started.elapsed() >= Duration::from_millis(10));
    drop(ws);
    let expected: Vec<u8> = [&[0x81, 0x06][..], b"tick 3", &close_frame(1000, "")].concat();
    assert_eq!(t.output, expected);
}

/// Every message goes to every open connection, through their senders.
struct Room {
    members: Mutex<Vec<Sender>>,
}
struct Member;

impl EventHandler for Room {
    fn open(&self, ws: &mut Conn<'_>) -> Box<dyn Connection> {
        self.members.lock().unwrap().push(ws.sender());
        Box::new(Member)
    }
}

static ROOM: Room = Room {
    members: Mutex::new(Vec::new()),
};

impl Connection for Member {
    fn on_message(&mut self, _ws: &mut Conn<'_>, message: Message) -> Result<(), WsError> {
        for member in ROOM.members.lock().unwrap().iter() {
            let _ = member.send(message.clone());
        }
        Ok(())
    }
}

#[test]
fn pushes_reach_other_connections_and_one_panic_stays_local() {
    let t0 = Instant::now();
    let mut a = Session::new(request("/"), ProtocolConfig::default(), t0).unwrap();
    let mut b = Session::new(request("/"), ProtocolConfig::default(), t0).unwrap();
    let mut da = Dispatch::open(&ROOM, &mut a, t0);
    let mut db = Dispatch::open(&ROOM, &mut b, t0);
    a.feed(&client_frame(true, 0x1, b"hi"), t0);
    da.run(&mut a, t0);
    db.run(&mut b, t0);
    assert_eq!(take_output(&mut a), [0x81, 0x02, b'h', b'i']);
    assert_eq!(take_output(&mut b), [0x81, 0x02, b'h', b'i']);

    let mut c = Session::new(request("/"), ProtocolConfig::default(), t0).unwrap();
    let mut dc = Dispatch::open(&Echo, &mut c, t0);
    c.feed(&client_frame(true, 0x1, b"panic"), t0);
    dc.run(&mut c, t0);
    assert!(matches!(dc.take_failure(), Some(Failure::Panicked(_))));
    assert_eq!(c.close_sent(), Some(1011));
    b.feed(&client_frame(true, 0x1, b"ok"), t0);
    db.run(&mut b, t0);
    assert_eq!(take_output(&mut b), [0x81, 0x02, b'o', b'k']);
    assert!(da.take_failure().is_none() && db.take_failure().is_none());
}

#[test]
fn a_panic_in_open_closes_with_1011() {
    struct Broken;
    impl EventHandler for Broken {
        fn open(&self, _ws: &mut Conn<'_>) -> Box<dyn Connection> {
            panic!("cannot open");
        }
    }
    let t0 = Instant::now();
    let mut s = Session::new(request("/"), ProtocolConfig::default(), t0).unwrap();
    let mut dispatch = Dispatch::open(&Broken, &mut s, t0);
    assert!(matches!(dispatch.take_failure(), Some(Failure::Panicked(t)) if t == "cannot open"));
    assert_eq!(take_output(&mut s), close_frame(1011, "handler failure"));
    s.feed(&client_frame(true, 0x1, b"late"), t0);
    dispatch.run(&mut s, t0); // no callback, no panic
    assert!(take_output(&mut s).is_empty());
}

/// Sends `burst N` as N messages, one per `on_written`; echoes the rest.
struct Burster;
struct BursterConnection {
    left: u32,
}

impl EventHandler for Burster {
    fn open(&self, _ws: &mut Conn<'_>) -> Box<dyn Connection> {
        Box::new(BursterConnection { left: 0 })
    }
}

impl Connection for BursterConnection {
    fn on_message(&mut self, ws: &mut Conn<'_>, message: Message) -> Result<(), WsError> {
        match &message {
            Message::Text(text) if text.starts_with("burst ") => {
                self.left = text[6..].parse().unwrap();
                self.on_written(ws)
            }
            _ => ws.send(&message),
        }
    }

    fn on_written(&mut self, ws: &mut Conn<'_>) -> Result<(), WsError> {
        if self.left > 0 {
            ws.send_text(&format!("part {}", self.left))?;
            self.left -= 1;
            ws.when_written();
        }
        Ok(())
    }
}

#[test]
fn a_burst_goes_out_a_part_per_write_and_holds_later_messages() {
    let t0 = Instant::now();
    let mut session = Session::new(request("/"), ProtocolConfig::default(), t0).unwrap();
    let mut dispatch = Dispatch::open(&Burster, &mut session, t0);
    let input = [
        client_frame(true, 0x1, b"burst 3"),
        client_frame(true, 0x1, b"after"),
    ]
    .concat();
    session.feed(&input, t0);
    dispatch.run(&mut session, t0);
    assert!(dispatch.awaits_written());
    // Nothing more while the first part is not written.
    dispatch.run(&mut session, t0);
    assert_eq!(take_output(&mut session), b"\x81\x06part 3");
    for expected in [&b"\x81\x06part 2"[..], b"\x81\x06part 1"] {
        dispatch.run(&mut session, t0);
        assert_eq!(take_output(&mut session), expected);
    }
    // The burst is over: the held message is served now.
    dispatch.run(&mut session, t0);
    assert!(!dispatch.awaits_written());
    assert_eq!(take_output(&mut session), b"\x81\x05after");
}

#[test]
fn a_burst_on_the_threaded_driver_comes_out_whole_and_in_order() {
    static BURSTER: Threaded<Burster> = Threaded(Burster);
    let input = [
        client_frame(true, 0x1, b"burst 2"),
        client_frame(true, 0x1, b"after"),
        client_close(1000, ""),
    ]
    .concat();
    let mut t = MemoryTransport {
        input: vec![input].into(),
        ..Default::default()
    };
    assert!(matches!(serve_on(&BURSTER, "/", &mut t), Ending::Completed));
    let expected = [
        &b"\x81\x06part 2\x81\x06part 1\x81\x05after"[..],
        &close_frame(1000, ""),
    ]
    .concat();
    assert_eq!(t.output, expected);
}
