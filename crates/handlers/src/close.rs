//! `close`: echoes every message, and answers a client's close with the
//! client's own code and reason. Opened with `?report` in the query, it
//! first sends a text message `CODE REASON` with what the client sent
//! (`1005 ` when its close had no code).
use wscore::close::{codes, CloseFrame};
use wscore::error::WsError;
use wscore::handler::{Handler, HandshakeRequest};
use wscore::protocol::Message;
use wscore::websocket::WebSocket;

use crate::echo::Echo;
use crate::query::has_query_flag;

pub struct Close;

impl Handler for Close {
    fn transfer_data(&self, ws: &mut WebSocket<'_>) -> Result<(), WsError> {
        Echo.transfer_data(ws)
    }

    fn message_before_closing(
        &self,
        request: &HandshakeRequest,
        peer: Option<&CloseFrame>,
    ) -> Option<Message> {
        if !has_query_flag(&request.resource, "report") {
            return None;
        }
        Some(Message::Text(match peer {
            Some(frame) => format!("{} {}", frame.code, frame.reason),
            None => format!("{} ", codes::NO_STATUS),
        }))
    }

    fn passive_closing_handshake(&self, peer: Option<&CloseFrame>) -> (u16, String) {
        match peer {
            Some(frame) => (frame.code, frame.reason.clone()),
            // Nothing to mirror: 1005 may not be sent, so a plain 1000.
            None => (codes::NORMAL, String::new()),
        }
    }
}
