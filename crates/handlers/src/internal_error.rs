//! `internal_error`: panics as soon as the connection is open. It shows
//! (and the tests prove) that a failing handler closes only its own
//! connection, with 1011, and that the Apache child carries on.
use wscore::error::WsError;
use wscore::handler::Handler;
use wscore::websocket::WebSocket;

pub struct InternalError;

impl Handler for InternalError {
    fn transfer_data(&self, _ws: &mut WebSocket<'_>) -> Result<(), WsError> {
        panic!("intentional failure in the internal_error handler");
    }
}
