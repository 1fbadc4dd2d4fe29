//! `echo`: sends every message back as it came (text as text, binary as
//! binary); after echoing the text `Goodbye` it closes with 1000.
use wscore::close::codes;
use wscore::error::WsError;
use wscore::event::{Conn, Connection, EventHandler};
use wscore::protocol::Message;

pub const GOODBYE: &str = "Goodbye";

pub struct Echo;

/// An echo connection has no state.
pub struct Echoing;

impl EventHandler for Echo {
    fn open(&self, _ws: &mut Conn<'_>) -> Box<dyn Connection> {
        Box::new(Echoing)
    }
}

impl Connection for Echoing {
    fn on_message(&mut self, ws: &mut Conn<'_>, message: Message) -> Result<(), WsError> {
        ws.send(&message)?;
        if matches!(&message, Message::Text(text) if text == GOODBYE) {
            ws.close(codes::NORMAL, "")?;
        }
        Ok(())
    }
}
