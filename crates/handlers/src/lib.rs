//! The compiled-in handlers. Adding one is one file and one line in
//! [`REGISTRY`]. Event-style handlers (`wscore::event`) are registered
//! through `Threaded`: the event driver parks their connections, and the
//! threaded driver (where the MPM cannot park) serves them on a thread;
//! the others (`abort_handshake`, `internal_error`) own a thread in
//! `transfer_data`.
use wscore::event::Threaded;
use wscore::handler::Handler;

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
    ("chat", &Threaded(chat::Chat)),
    ("bench", &Threaded(bench::Bench)),
    ("internal_error", &internal_error::InternalError),
];

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
