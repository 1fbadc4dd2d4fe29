//! The compiled-in handlers. Adding one is one file and one line in
//! [`REGISTRY`]. Event-style handlers (`wscore::event`) are registered
//! through `Threaded`: the event driver parks their connections, and the
//! threaded driver (where the MPM cannot park) serves them on a thread;
//! the others (`abort_handshake`, `internal_error`) own a thread in
//! `transfer_data`.
use wscore::event::{Conn, Connection, EventHandler, Threaded};
use wscore::handler::{Handler, HandshakeRequest, Rejection};

mod abort_handshake;
mod bench;
mod chat;
mod close;
mod echo;
mod echo_noext;
mod internal_error;
mod origin_check;
mod query;

/// Every handler a handler file or `WebSocketHandler` can name.
static REGISTRY: &[(&str, &dyn Handler)] = &[
    ("echo", &Threaded(echo::Echo)),
    ("echo_noext", &Threaded(echo_noext::EchoNoExt)),
    ("close", &Threaded(close::Close)),
    ("origin_check", &Threaded(origin_check::OriginCheck)),
    ("abort_handshake", &abort_handshake::AbortHandshake),
    ("chat", &Threaded(Broadcasting(chat::Chat))),
    ("bench", &Threaded(bench::Bench)),
    ("internal_error", &internal_error::InternalError),
];

/// An event handler that relays messages between connections (its
/// `broadcasts` says so, for the module's start-up warning about several
/// Apache children); everything else is the wrapped handler's.
struct Broadcasting<H>(H);

impl<H: EventHandler> EventHandler for Broadcasting<H> {
    fn do_extra_handshake(&self, request: &mut HandshakeRequest) -> Result<(), Rejection> {
        self.0.do_extra_handshake(request)
    }

    fn check_option(&self, key: &str, value: &str) -> Result<(), String> {
        self.0.check_option(key, value)
    }

    fn open(&self, ws: &mut Conn<'_>) -> Box<dyn Connection> {
        self.0.open(ws)
    }

    fn broadcasts(&self) -> bool {
        true
    }
}

/// The handler registered under `name`.
pub fn find(name: &str) -> Option<&'static dyn Handler> {
    REGISTRY
        .iter()
        .find(|(registered, _)| *registered == name)
        .map(|(_, handler)| *handler)
}

/// The registered names, for error messages and documentation.
pub fn names() -> Vec<&'static str> {
    REGISTRY.iter().map(|(name, _)| *name).collect()
}

#[cfg(test)]
mod tests {
    /// The module warns at start-up about these under several children.
    #[test]
    fn only_chat_broadcasts() {
        let broadcasting: Vec<&str> = super::names()
            .into_iter()
            .filter(|name| super::find(name).is_some_and(|h| h.broadcasts()))
            .collect();
        assert_eq!(broadcasting, ["chat"]);
    }
}
