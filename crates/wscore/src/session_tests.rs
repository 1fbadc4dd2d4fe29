//! The session without any transport: bytes and the time in, events and
//! bytes out, the clock injected.
use super::*;
use crate::extensions::deflate_stream::DeflateStream;
use crate::testing::{client_close, client_frame};

const S: Duration = Duration::from_secs(1);

fn request() -> HandshakeRequest {
    HandshakeRequest::new("/echo")
}

fn session(t0: Instant) -> Session {
    Session::new(request(), ProtocolConfig::default(), t0).unwrap()
}

/// Everything waiting to be written, as written.
fn take_output(session: &mut Session) -> Vec<u8> {
    let out = session.output().to_vec();
    session.consume_output(out.len());
    out
}

fn server_close(code: u16, reason: &str) -> Vec<u8> {
    [
        &[0x88, 2 + reason.len() as u8][..],
        &code.to_be_bytes(),
        reason.as_bytes(),
    ]
    .concat()
}

#[test]
fn a_frame_split_anywhere_gives_one_message() {
    let frame = client_frame(true, 0x1, "héllo".as_bytes());
    for split in 0..=frame.len() {
        let t0 = Instant::now();
        let mut s = session(t0);
        s.feed(&frame[..split], t0);
        if split < frame.len() {
            assert_eq!(s.poll_event(), None, "split at {split}");
        }
        s.feed(&frame[split..], t0);
        assert_eq!(
            s.poll_event(),
            Some(Event::Message(Message::Text("héllo".into())))
        );
        assert_eq!(s.poll_event(), None);
        assert_eq!(s.stats().messages_in, 1);
    }
}

#[test]
fn pings_are_answered_and_traced() {
    let t0 = Instant::now();
    let mut s = session(t0);
    s.set_tracing(true);
    s.feed(&client_frame(true, 0x9, b"p"), t0);
    assert_eq!(s.poll_event(), Some(Event::Ping(b"p".to_vec())));
    assert_eq!(take_output(&mut s), [0x8a, 0x01, b'p']);
    assert_eq!(
        Vec::from(s.take_trace()),
        ["in: ping, 1 bytes", "out: pong, 1 bytes"]
    );
}

#[test]
fn a_peer_close_answered_ends_the_session() {
    let t0 = Instant::now();
    let mut s = session(t0);
    s.feed(&client_close(1000, "bye"), t0);
    let Some(Event::Close(Some(frame))) = s.poll_event() else {
        panic!("no close");
    };
    assert_eq!((frame.code, frame.reason.as_str()), (1000, "bye"));
    assert!(!s.is_finished(), "not answered yet");
    s.close(1000, "").unwrap();
    assert_eq!(s.end(), Some(End::Closed));
    assert_eq!(take_output(&mut s), server_close(1000, ""));
    assert_eq!(s.next_wake(t0), None);
}

#[test]
fn our_close_waits_for_the_answer_then_gives_up() {
    let t0 = Instant::now();
    let mut s = session(t0);
    s.close(4000, "done").unwrap();
    s.close(4001, "twice").unwrap();
    assert_eq!(take_output(&mut s), server_close(4000, "done"));
    assert_eq!(s.next_wake(t0), Some(t0 + CLOSE_WAIT));
    s.tick(t0 + S);
    assert!(!s.is_finished());
    s.tick(t0 + S + CLOSE_WAIT);
    assert_eq!(s.end(), Some(End::Expired("close not answered")));
    assert!(take_output(&mut s).is_empty(), "no second close");
    assert!(matches!(s.end().unwrap().error(), WsError::TimedOut));
}

#[test]
fn messages_after_our_close_still_arrive_until_the_answer() {
    let t0 = Instant::now();
    let mut s = session(t0);
    s.close(1000, "").unwrap();
    s.feed(&client_frame(true, 0x2, &[7]), t0);
    s.feed(&client_close(1000, ""), t0);
    assert_eq!(
        s.poll_event(),
        Some(Event::Message(Message::Binary(vec![7])))
    );
    assert!(matches!(s.poll_event(), Some(Event::Close(_))));
    assert_eq!(s.end(), Some(End::Closed));
}

#[test]
fn keepalive_pings_then_the_idle_limit_closes_with_1001() {
    let t0 = Instant::now();
    let mut s = session(t0);
    s.set_timeouts(Timeouts {
        idle: Some(10 * S),
        ping_interval: Some(3 * S),
        ..Default::default()
    });
    assert_eq!(s.next_wake(t0), Some(t0 + 3 * S));
    s.tick(t0 + 3 * S);
    assert_eq!(take_output(&mut s), [0x89, 0x00]);
    assert_eq!(s.next_wake(t0 + 3 * S), Some(t0 + 6 * S));
    s.feed(&client_frame(true, 0xA, b""), t0 + 4 * S); // the pong is input
    assert_eq!(s.poll_event(), Some(Event::Pong(vec![])));
    assert_eq!(s.next_wake(t0 + 4 * S), Some(t0 + 7 * S));
    s.tick(t0 + 14 * S);
    assert_eq!(s.end(), Some(End::Expired("idle timeout")));
    let out = take_output(&mut s);
    assert!(
        out.ends_with(&server_close(1001, "idle timeout")),
        "{out:?}"
    );
    assert_eq!(s.next_wake(t0 + 14 * S), None);
}

#[test]
fn transport_pings_keep_a_parked_connection_but_not_an_idle_one() {
    let t0 = Instant::now();
    let mut s = session(t0);
    s.set_timeouts(Timeouts {
        idle: Some(100 * S),
        transport_silence: Some(60 * S),
        ..Default::default()
    });
    assert_eq!(s.next_wake(t0), Some(t0 + 30 * S));
    s.tick(t0 + 30 * S);
    let payload = crate::keepalive::TRANSPORT_PING;
    let ping = [&[0x89, payload.len() as u8][..], payload].concat();
    assert_eq!(take_output(&mut s), ping);
    // The pong re-arms the transport's limit, not the idle one.
    s.feed(&client_frame(true, 0xA, payload), t0 + 31 * S);
    assert_eq!(s.poll_event(), Some(Event::Pong(payload.to_vec())));
    assert_eq!(s.poll_event(), None);
    assert_eq!(s.next_wake(t0 + 31 * S), Some(t0 + 61 * S));
    s.tick(t0 + 61 * S);
    assert_eq!(take_output(&mut s), ping);
    s.feed(&client_frame(true, 0xA, payload), t0 + 62 * S);
    assert_eq!(s.poll_event(), Some(Event::Pong(payload.to_vec())));
    assert_eq!(s.poll_event(), None);
    s.tick(t0 + 100 * S);
    assert_eq!(s.end(), Some(End::Expired("idle timeout")));
}

#[test]
fn a_message_after_a_transport_pong_is_activity() {
    let t0 = Instant::now();
    let mut s = session(t0);
    s.set_timeouts(Timeouts {
        idle: Some(100 * S),
        transport_silence: Some(60 * S),
        ..Default::default()
    });
    let payload = crate::keepalive::TRANSPORT_PING;
    let input = [
        client_frame(true, 0xA, payload),
        client_frame(true, 0x1, b"hi"),
    ]
    .concat();
    s.feed(&input, t0 + 50 * S);
    // Before decoding, the input counts as activity already.
    s.tick(t0 + 120 * S);
    assert_eq!(s.end(), None);
    assert_eq!(s.poll_event(), Some(Event::Pong(payload.to_vec())));
    assert!(matches!(s.poll_event(), Some(Event::Message(_))));
    assert_eq!(s.poll_event(), None);
    s.tick(t0 + 149 * S);
    assert_eq!(s.end(), None);
    s.tick(t0 + 150 * S);
    assert_eq!(s.end(), Some(End::Expired("idle timeout")));
}

#[test]
fn a_stalled_frame_meets_its_shorter_limit() {
    let t0 = Instant::now();
    let mut s = session(t0);
    s.set_timeouts(Timeouts {
        idle: Some(300 * S),
        stalled_frame: Some(20 * S),
        ..Default::default()
    });
    s.feed(&client_frame(true, 0x1, b"half")[..3], t0);
    assert_eq!(s.poll_event(), None);
    assert_eq!(s.next_wake(t0), Some(t0 + 20 * S));
    s.tick(t0 + 20 * S);
    assert_eq!(s.end(), Some(End::Expired("frame not completed in time")));
}

#[test]
fn a_protocol_error_ends_with_its_close() {
    let t0 = Instant::now();
    let mut s = session(t0);
    s.feed(&[0x81, 0x02, b'h', b'i'], t0); // unmasked
    assert_eq!(s.poll_event(), None);
    let Some(End::Failed(error)) = s.end() else {
        panic!("not failed");
    };
    assert_eq!(error.code, 1002);
    assert_eq!(s.close_sent(), Some(1002));
    assert_eq!(&take_output(&mut s)[2..4], &[0x03, 0xea]);
    assert!(s.send_message(&Message::Text("late".into())).is_err());
}

#[test]
fn queued_sends_come_out_in_order_and_stop_at_our_close() {
    let t0 = Instant::now();
    let mut s = session(t0);
    let sender = s.sender();
    sender.send_text("one").unwrap();
    sender.send_ping(b"p".to_vec()).unwrap();
    sender.close(1008, "slow").unwrap();
    sender.send_text("after").unwrap();
    s.drain_queue().unwrap();
    let expected: Vec<u8> = [
        &[0x81, 0x03][..],
        b"one",
        &[0x89, 0x01, b'p'],
        &server_close(1008, "slow"),
    ]
    .concat();
    assert_eq!(take_output(&mut s), expected);
    assert_eq!(s.stats().messages_out, 1);
}

#[test]
fn senders_are_refused_once_the_connection_is_lost() {
    let t0 = Instant::now();
    let mut s = session(t0);
    let sender = s.sender();
    assert!(!s.end_of_input());
    assert_eq!(s.end(), Some(End::Lost));
    assert!(!sender.is_open());
    s.close(1000, "").unwrap();
    assert!(take_output(&mut s).is_empty(), "nothing after the loss");
}

#[test]
fn stopping_closes_with_1001_at_once() {
    let t0 = Instant::now();
    let mut s = session(t0);
    s.stop();
    assert_eq!(s.end(), Some(End::Stopping));
    assert_eq!(take_output(&mut s), server_close(1001, "server stopping"));
}

#[test]
fn hixie75_tcp_close_is_its_closing_handshake() {
    let t0 = Instant::now();
    let codec = Box::new(crate::hixie::HixieProtocol::new(
        crate::hixie::HixieDraft::Hixie75,
        1 << 20,
    ));
    let mut s = Session::with_codec(request(), codec, t0).unwrap();
    s.feed(b"\x00hi\xff", t0);
    assert_eq!(
        s.poll_event(),
        Some(Event::Message(Message::Text("hi".into())))
    );
    assert!(s.end_of_input());
    assert_eq!(s.poll_event(), Some(Event::Close(None)));
    s.close(1000, "").unwrap();
    assert_eq!(s.end(), Some(End::Closed));
}

#[test]
fn deflate_stream_inflates_input_and_deflates_output() {
    let t0 = Instant::now();
    let config = ProtocolConfig {
        compression: Some(Compression::Stream),
        ..Default::default()
    };
    let mut s = Session::new(request(), config, t0).unwrap();
    let mut client = DeflateStream::default();
    let mut wire = Vec::new();
    client.deflate(&client_frame(true, 0x1, b"squeeze"), &mut wire);
    for byte in &wire {
        s.feed(&[*byte], t0);
    }
    assert_eq!(
        s.poll_event(),
        Some(Event::Message(Message::Text("squeeze".into())))
    );
    s.send_message(&Message::Text("back".into())).unwrap();
    let deflated = take_output(&mut s);
    client.push_input(&deflated);
    let mut plain = Vec::new();
    client.inflate_some(&mut plain, 1 << 16).unwrap();
    assert_eq!(plain, [&[0x81, 0x04][..], b"back"].concat());
}

#[test]
fn a_session_can_move_between_threads() {
    fn is_send<T: Send>() {}
    is_send::<Session>();
}
