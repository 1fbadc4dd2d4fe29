//! `abort_handshake`: drops every connection during the handshake, without
//! sending any response (for testing how clients cope).
use wscore::error::WsError;
use wscore::handler::{Handler, HandshakeRequest, Rejection};
use wscore::websocket::WebSocket;

pub struct AbortHandshake;

impl Handler for AbortHandshake {
    fn do_extra_handshake(&self, _request: &mut HandshakeRequest) -> Result<(), Rejection> {
        Err(Rejection::Abort)
    }

    fn transfer_data(&self, _ws: &mut WebSocket<'_>) -> Result<(), WsError> {
        Ok(()) // never reached: every handshake is aborted
    }
}
