//! `close`: echoes every message, and answers a client's close with the
//! client's own code and reason. Opened with `?report` in the query, it
//! first sends a text message `CODE REASON` with what the client sent
//! (`1005 ` when its close had no code).
use wscore::close::{codes, CloseFrame};
use wscore::error::WsError;
use wscore::event::{Conn, Connection, EventHandler};
use wscore::protocol::Message;

use crate::echo::Echoing;
use crate::query::has_query_flag;

pub struct Close;

/// Echoes, and mirrors the peer's close.
struct Mirroring;

impl EventHandler for Close {
    fn open(&self, _ws: &mut Conn<'_>) -> Box<dyn Connection> {
        Box::new(Mirroring)
    }
}

impl Connection for Mirroring {
    fn on_message(&mut self, ws: &mut Conn<'_>, message: Message) -> Result<(), WsError> {
        Echoing.on_message(ws, message)
    }

    fn on_close(&mut self, ws: &mut Conn<'_>, peer: Option<&CloseFrame>) -> Result<(), WsError> {
        if has_query_flag(&ws.request().resource, "report") {
            ws.send_text(&match peer {
                Some(frame) => format!("{} {}", frame.code, frame.reason),
                None => format!("{} ", codes::NO_STATUS),
            })?;
        }
        match peer {
            Some(frame) => ws.close(frame.code, &frame.reason),
            // Nothing to mirror: 1005 may not be sent, so a plain 1000.
            None => ws.close(codes::NORMAL, ""),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use wscore::event::Dispatch;
    use wscore::frame::encode_client_frame;
    use wscore::handler::HandshakeRequest;
    use wscore::protocol::ProtocolConfig;
    use wscore::session::Session;

    use super::*;

    fn session(resource: &str) -> Session {
        let request = HandshakeRequest::new(resource);
        Session::new(request, ProtocolConfig::default(), Instant::now()).unwrap()
    }

    /// What the server writes after the client's close carrying `payload`.
    fn answer(resource: &str, payload: &[u8]) -> Vec<u8> {
        let now = Instant::now();
        let mut session = session(resource);
        let mut dispatch = Dispatch::open(&Close, &mut session, now);
        let mut frame = Vec::new();
        encode_client_frame(true, 0, 0x8, [1, 2, 3, 4], payload, &mut frame);
        session.feed(&frame, now);
        dispatch.run(&mut session, now);
        assert!(session.is_finished());
        session.output().to_vec()
    }

    #[test]
    fn mirrors_the_clients_close_and_reports_it_when_asked() {
        let close_4000: Vec<u8> = [&[0x88, 0x04, 0x0f, 0xa0][..], b"ok"].concat();
        assert_eq!(answer("/close", b"\x0f\xa0ok"), close_4000);
        let report: Vec<u8> = [&[0x81, 0x07][..], b"4000 ok"].concat();
        assert_eq!(
            answer("/close?report", b"\x0f\xa0ok"),
            [report, close_4000].concat()
        );
        let no_code: Vec<u8> = [&[0x81, 0x05][..], b"1005 ", &[0x88, 0x02, 0x03, 0xe8]].concat();
        assert_eq!(answer("/close?report", b""), no_code);
    }
}
