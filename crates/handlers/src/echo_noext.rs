//! `echo_noext`: the `echo` handler, refusing every extension the client
//! offers (so compression is never negotiated).
use wscore::event::{Conn, Connection, EventHandler};
use wscore::handler::{HandshakeRequest, Rejection};

use crate::echo::Echo;

pub struct EchoNoExt;

impl EventHandler for EchoNoExt {
    fn do_extra_handshake(&self, request: &mut HandshakeRequest) -> Result<(), Rejection> {
        request.allow_extensions = false;
        Ok(())
    }

    fn open(&self, ws: &mut Conn<'_>) -> Box<dyn Connection> {
        Echo.open(ws)
    }
}
