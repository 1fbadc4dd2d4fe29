//! The compiled-in handlers. Adding one is one file and one line in
//! [`REGISTRY`].
use wscore::handler::Handler;

mod echo;
mod echo_noext;

/// Every handler a handler file or `WebSocketHandler` can name.
static REGISTRY: &[(&str, &dyn Handler)] = &[
    ("echo", &echo::Echo),
    ("echo_noext", &echo_noext::EchoNoExt),
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
