//! The WebSocket protocol core of mod_rswebsocket.
//!
//! Knows WebSocket and nothing of Apache: handshakes, frame codecs, the
//! message stream, the handler API and dispatch. No `unsafe`, no I/O of its
//! own beyond the [`transport::Transport`] trait the embedding server
//! implements.
#![forbid(unsafe_code)]

pub mod channels;
pub mod close;
pub mod codec;
pub mod dispatch;
pub mod error;
pub mod event;
pub mod extensions;
pub mod frame;
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing;
pub mod handler;
pub mod handler_file;
pub mod handshake;
pub mod hixie;
pub mod keepalive;
pub mod mask;
pub mod opening;
pub mod origin;
pub mod protocol;
pub mod run;
pub mod sender;
pub mod session;
pub mod settings;
#[cfg(test)]
pub(crate) mod testing;
pub mod transport;
pub mod utf8;
pub mod websocket;
