//! Write mod_rswebsocket plugins in Rust: WebSocket handlers in a shared
//! library that the module loads at start-up, with the same handler API as
//! the compiled-in handlers (`EventHandler`/`Connection`, or the blocking
//! `Handler`). Only the plugin C ABI (`include/rswebsocket_plugin.h`,
//! version 1) crosses between the two, so the plugin may be built with any
//! rustc; this crate has no dependencies.
//!
//! # How to write a plugin
//!
//! `Cargo.toml`:
//!
//! ```toml
//! [package]
//! name = "myplugin"
//! version = "0.1.0"
//! edition = "2021"
//!
//! [lib]
//! crate-type = ["cdylib"]    # builds target/release/libmyplugin.so
//!
//! [dependencies]
//! rswebsocket-sdk = { path = "/path/to/mod_rswebsocket/crates/sdk" }
//! ```
//!
//! `src/lib.rs`:
//!
//! ```ignore
//! use rswebsocket_sdk::{Conn, Connection, EventHandler, Message, WsError};
//!
//! pub struct Echo;
//! struct Echoing;
//!
//! impl EventHandler for Echo {
//!     fn open(&self, _ws: &mut Conn<'_>) -> Box<dyn Connection> {
//!         Box::new(Echoing)
//!     }
//! }
//!
//! impl Connection for Echoing {
//!     fn on_message(&mut self, ws: &mut Conn<'_>, message: Message) -> Result<(), WsError> {
//!         ws.send(&message)
//!     }
//! }
//!
//! rswebsocket_sdk::export_handlers! {
//!     event "myecho" => Echo,
//! }
//! ```
//!
//! Build with `cargo build --release`, then name the handler and the
//! library in a handler file (other `key = value` lines are options, read
//! with [`Request::option`] and checked by `check_option`):
//!
//! ```text
//! handler = myecho
//! plugin = /path/to/target/release/libmyplugin.so
//! ```
//!
//! and reload Apache. Callbacks run on Apache's threads and must not block
//! (except [`Handler::transfer_data`]); a panic is caught and closes the
//! connection with 1011 (the module logs one line with the panic's message
//! and place: the SDK installs the plugin's panic hook, so Rust's default
//! one prints nothing more); an `Err` closes it with the error's code.
mod conn;
mod error;
#[doc(hidden)]
pub mod export;
pub mod ffi;
mod handler;
mod host;
mod log;
mod message;
mod panics;
mod request;
mod sender;
mod websocket;

pub use conn::Conn;
pub use error::{QueueError, WsError};
pub use handler::{Connection, EventHandler, Handler, Rejection};
pub use log::{log, Level};
pub use message::{codes, CloseFrame, Message};
pub use request::{Handshake, Request};
pub use sender::Sender;
pub use websocket::WebSocket;
