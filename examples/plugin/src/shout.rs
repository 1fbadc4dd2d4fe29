//! `shout`: sends text back upper-cased (after the handler file's
//! `prefix = TEXT`, if set), binary as it came; after `Goodbye` it closes
//! with 1000.
use rswebsocket_sdk::{codes, Conn, Connection, EventHandler, Message, WsError};

pub struct Shout;

struct Shouting {
    prefix: String,
}

impl EventHandler for Shout {
    fn check_option(&self, key: &str, _value: &str) -> Result<(), String> {
        match key {
            "prefix" => Ok(()),
            _ => Err(format!("unknown option '{key}' (shout takes: prefix)")),
        }
    }

    fn open(&self, ws: &mut Conn<'_>) -> Box<dyn Connection> {
        let prefix = ws.request().option("prefix").unwrap_or("").to_string();
        Box::new(Shouting { prefix })
    }
}

impl Connection for Shouting {
    fn on_message(&mut self, ws: &mut Conn<'_>, message: Message) -> Result<(), WsError> {
        match &message {
            Message::Text(text) => {
                ws.send_text(&format!("{}{}", self.prefix, text.to_uppercase()))?;
                if text == "Goodbye" {
                    ws.close(codes::NORMAL, "")?;
                }
            }
            Message::Binary(data) => ws.send_binary(data)?,
        }
        Ok(())
    }
}
