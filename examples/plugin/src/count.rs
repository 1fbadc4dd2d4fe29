//! `count` (blocking style): answers each message with how many messages
//! this connection has received so far (`1`, `2`, ...).
use rswebsocket_sdk::{Handler, WebSocket, WsError};

pub struct Count;

impl Handler for Count {
    fn transfer_data(&self, ws: &mut WebSocket<'_>) -> Result<(), WsError> {
        let mut received: u64 = 0;
        while ws.receive_message()?.is_some() {
            received += 1;
            ws.send_text(&received.to_string())?;
        }
        Ok(())
    }
}
