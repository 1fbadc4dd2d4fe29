//! `echo`: sends every message back as it came, text as text and binary as
//! binary. The smallest handler there is: copy it to start a new one.
use rswebsocket_sdk::{Conn, Connection, EventHandler, Message, WsError};

pub struct Echo;

/// An echo connection keeps no state.
struct Echoing;

impl EventHandler for Echo {
    fn open(&self, _ws: &mut Conn<'_>) -> Box<dyn Connection> {
        Box::new(Echoing)
    }
}

impl Connection for Echoing {
    fn on_message(&mut self, ws: &mut Conn<'_>, message: Message) -> Result<(), WsError> {
        ws.send(&message)
    }
}
