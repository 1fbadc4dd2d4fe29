//! `bench`: the load helper benchmarks drive. Text commands:
//!
//! - `send COUNT SIZE` (or `send COUNT SIZE text`): the server sends COUNT
//!   binary (or text) messages of SIZE bytes, then the text `sent COUNT`;
//! - `count`: the server answers `count MESSAGES BYTES`, the messages and
//!   payload bytes it has echoed on this connection so far.
//!
//! Every other message is echoed as it came, and counted.
use wscore::error::WsError;
use wscore::event::{Conn, Connection, EventHandler};
use wscore::protocol::Message;

/// Largest SIZE `send` accepts.
pub const MAX_SIZE: usize = 16 * 1024 * 1024;
/// Largest COUNT `send` accepts.
pub const MAX_COUNT: u64 = 10_000_000;
/// A burst goes out in parts of about this many bytes: each waits until the
/// previous one is written, so memory stays bounded whatever COUNT × SIZE.
const BURST_PART_BYTES: usize = 256 * 1024;

pub struct Bench;

/// A text message that is a command.
#[derive(Debug, PartialEq, Eq)]
enum Command {
    Send { count: u64, size: usize, text: bool },
    Count,
}

impl EventHandler for Bench {
    fn open(&self, _ws: &mut Conn<'_>) -> Box<dyn Connection> {
        Box::new(BenchConnection::default())
    }
}

/// One connection's counts, and the burst it is sending, if any.
#[derive(Default)]
struct BenchConnection {
    messages: u64,
    bytes: u64,
    burst: Option<Burst>,
}

struct Burst {
    message: Message,
    left: u64,
    count: u64,
}

impl Connection for BenchConnection {
    fn on_message(&mut self, ws: &mut Conn<'_>, message: Message) -> Result<(), WsError> {
        let command = match &message {
            Message::Text(text) => parse_command(text),
            Message::Binary(_) => None,
        };
        match command {
            None => {
                ws.send(&message)?;
                self.messages += 1;
                self.bytes += payload_len(&message) as u64;
            }
            Some(Err(usage)) => ws.send_text(&format!("error: {usage}"))?,
            Some(Ok(Command::Count)) => {
                ws.send_text(&format!("count {} {}", self.messages, self.bytes))?
            }
            Some(Ok(Command::Send { count, size, text })) => {
                let message = if text {
                    Message::Text("x".repeat(size))
                } else {
                    Message::Binary((0..size).map(|i| i as u8).collect())
                };
                self.burst = Some(Burst {
                    message,
                    left: count,
                    count,
                });
                self.send_part(ws)?;
            }
        }
        Ok(())
    }

    fn on_written(&mut self, ws: &mut Conn<'_>) -> Result<(), WsError> {
        self.send_part(ws)
    }
}

impl BenchConnection {
    /// The next part of the burst; `sent COUNT` after its last message.
    fn send_part(&mut self, ws: &mut Conn<'_>) -> Result<(), WsError> {
        let Some(burst) = self.burst.as_mut() else {
            return Ok(());
        };
        let size = payload_len(&burst.message).max(1);
        let mut part = (BURST_PART_BYTES / size).max(1) as u64;
        while burst.left > 0 && part > 0 {
            ws.send(&burst.message)?;
            burst.left -= 1;
            part -= 1;
        }
        if burst.left > 0 {
            ws.when_written();
        } else {
            let count = burst.count;
            self.burst = None;
            ws.send_text(&format!("sent {count}"))?;
        }
        Ok(())
    }
}

fn payload_len(message: &Message) -> usize {
    match message {
        Message::Text(text) => text.len(),
        Message::Binary(data) => data.len(),
    }
}

/// `None` when `text` is no command (so it is echoed); `Some(Err(usage))`
/// for a command with bad arguments.
fn parse_command(text: &str) -> Option<Result<Command, String>> {
    let mut words = text.split_ascii_whitespace();
    match words.next()? {
        "count" if words.next().is_none() => Some(Ok(Command::Count)),
        "send" => Some(parse_send(words.collect())),
        _ => None,
    }
}

fn parse_send(args: Vec<&str>) -> Result<Command, String> {
    let usage =
        || format!("usage: send COUNT SIZE [text], COUNT <= {MAX_COUNT}, SIZE <= {MAX_SIZE}");
    let (count, size, text) = match args.as_slice() {
        [count, size] => (count, size, false),
        [count, size, "text"] => (count, size, true),
        _ => return Err(usage()),
    };
    match (count.parse::<u64>(), size.parse::<usize>()) {
        (Ok(count), Ok(size)) if count <= MAX_COUNT && size <= MAX_SIZE => {
            Ok(Command::Send { count, size, text })
        }
        _ => Err(usage()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands() {
        assert_eq!(parse_command("count"), Some(Ok(Command::Count)));
        assert_eq!(
            parse_command("send 3 10"),
            Some(Ok(Command::Send {
                count: 3,
                size: 10,
                text: false
            }))
        );
        assert_eq!(
            parse_command("send 1 0 text"),
            Some(Ok(Command::Send {
                count: 1,
                size: 0,
                text: true
            }))
        );
        for bad in [
            "send",
            "send 1",
            "send x 1",
            "send 1 99999999",
            "send 1 2 3",
        ] {
            assert!(matches!(parse_command(bad), Some(Err(_))), "{bad}");
        }
        for echoed in ["hello", "", "counting", "count 2", "sender 1 2"] {
            assert_eq!(parse_command(echoed), None, "{echoed}");
        }
    }
}
