//! The compiled-in handlers. Adding one is one file and one line in
//! [`REGISTRY`].
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
    ("echo", &echo::Echo),
    ("echo_noext", &echo_noext::EchoNoExt),
    ("close", &close::Close),
    ("origin_check", &origin_check::OriginCheck),
    ("abort_handshake", &abort_handshake::AbortHandshake),
    ("chat", &chat::Chat),
    ("bench", &bench::Bench),
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
