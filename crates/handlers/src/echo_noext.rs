//! `echo_noext`: the echo handler, refusing every extension the client
//! offers (so no compression), as mod_pywebsocket's example of the same name.
use wscore::error::WsError;
use wscore::handler::{Handler, HandshakeRequest, Rejection};
use wscore::websocket::WebSocket;

use crate::echo::Echo;

pub struct EchoNoExt;

impl Handler for EchoNoExt {
    fn do_extra_handshake(&self, request: &mut HandshakeRequest) -> Result<(), Rejection> {
        request.allow_extensions = false;
        Ok(())
    }

    fn transfer_data(&self, ws: &mut WebSocket<'_>) -> Result<(), WsError> {
        Echo.transfer_data(ws)
    }
}
