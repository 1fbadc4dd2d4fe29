//! `echo`: sends every message back as it came (text as text, binary as
//! binary); after echoing the text `Goodbye` it closes with 1000.
use wscore::error::WsError;
use wscore::handler::Handler;
use wscore::protocol::Message;
use wscore::websocket::WebSocket;

pub const GOODBYE: &str = "Goodbye";

pub struct Echo;

impl Handler for Echo {
    fn transfer_data(&self, ws: &mut WebSocket<'_>) -> Result<(), WsError> {
        while let Some(message) = ws.receive_message()? {
            ws.send_message(&message)?;
            if matches!(&message, Message::Text(text) if text == GOODBYE) {
                return Ok(());
            }
        }
        Ok(())
    }
}
