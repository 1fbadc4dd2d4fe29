//! Plugin libraries: handlers built outside the module, in Rust (against
//! crates/sdk) or C, that the module loads through the versioned C ABI of
//! include/rswebsocket_plugin.h. A plugin handler is a `wscore` handler
//! like a compiled-in one, so both drivers serve it unchanged.
//!
//! - `library`: finding, copying and loading a library; its handlers.
//! - `host`: the module's function table the plugin calls.
//! - `context`: what the table's opaque handles point at, and how a
//!   callback's result becomes a `wscore` result.
//! - `handler`: the `Handler` / `EventHandler` over a plugin's callbacks.
mod context;
mod handler;
mod host;
mod library;

pub use library::load;
