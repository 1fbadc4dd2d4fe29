//! What the logs say of a WebSocket when it ends, under either driver: the
//! access log's `%{rswebsocket-...}n` notes and `%b`, and the debug line.
//! The event driver keeps its figures up to date in [`SharedFigures`] and
//! writes them when the connection ends (see apache::late_log).
use std::sync::{Arc, Mutex};

use wscore::session::Session;

use crate::apache::late_log::LogLine;
use crate::apache::request::Request;

#[derive(Default, Clone, Copy)]
pub struct Figures {
    pub messages_in: u64,
    pub messages_out: u64,
    /// The peer's close code, else ours.
    pub close_code: Option<u16>,
    /// WebSocket bytes from the client (after the request head).
    pub bytes_in: u64,
    /// Everything sent after the request head: the 101 response and frames.
    pub bytes_out: u64,
}

impl Figures {
    /// A session's counts, with the bytes moved so far.
    pub fn of(session: &Session, bytes_in: u64, bytes_out: u64) -> Figures {
        let stats = session.stats();
        Figures {
            messages_in: stats.messages_in,
            messages_out: stats.messages_out,
            close_code: session
                .peer_close()
                .map(|c| c.code)
                .or(session.close_sent()),
            bytes_in,
            bytes_out,
        }
    }

    /// The request's notes (`%{rswebsocket-...}n`) and `%b`.
    pub fn fill(&self, r: Request<'_>) {
        let notes = r.notes();
        for (name, value) in [
            ("rswebsocket-messages-in", self.messages_in.to_string()),
            ("rswebsocket-messages-out", self.messages_out.to_string()),
            (
                "rswebsocket-close-code",
                self.close_code.map_or("1006".into(), |c| c.to_string()),
            ),
            ("rswebsocket-bytes-in", self.bytes_in.to_string()),
            ("rswebsocket-bytes-out", self.bytes_out.to_string()),
        ] {
            notes.set(name, &value);
        }
        // %b: what went to the client after the request head.
        r.set_body_bytes_sent(self.bytes_out);
    }
}

/// The debug line of a WebSocket's end; `name` is "resource (handler 'x')".
pub fn closing_summary(name: &str, session: &Session) -> String {
    let stats = session.stats();
    format!(
        "WebSocket {name} closed: sent close {:?}, peer close {:?}, {} message(s) in, {} out",
        session.close_sent(),
        session.peer_close().map(|c| c.code),
        stats.messages_in,
        stats.messages_out
    )
}

/// Shared between the connection's state and the request's log line.
#[derive(Clone, Default)]
pub struct SharedFigures(Arc<Mutex<Figures>>);

impl SharedFigures {
    pub fn new(bytes_in: u64, bytes_out: u64) -> SharedFigures {
        SharedFigures(Arc::new(Mutex::new(Figures {
            bytes_in,
            bytes_out,
            ..Figures::default()
        })))
    }

    fn get(&self) -> Figures {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// After a round: the session's counts and the bytes moved since the last one.
    pub fn update(&self, session: &Session, read: u64, written: u64) {
        let mut f = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *f = Figures::of(session, f.bytes_in + read, f.bytes_out + written);
    }

    /// Has the request's access-log line wait for the connection's end
    /// and carry these figures.
    pub fn log_at_end(&self, r: Request<'_>) -> Option<LogLine> {
        let shared = self.clone();
        r.keep_log_line_open(move |r| shared.fill(r))
    }

    /// Writes the request's access-log line now, with these figures.
    pub fn write_now(&self, line: LogLine) {
        line.write_now(|r| self.fill(r));
    }

    fn fill(&self, r: Request<'_>) {
        self.get().fill(r);
    }
}
