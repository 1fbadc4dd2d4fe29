//! Benchmark tools for mod_rswebsocket: `wsload`, a bounded WebSocket load
//! client that only talks to loopback, and `wsecho`, the plain
//! tokio-tungstenite echo server the module is compared with.
pub mod args;
pub mod codec;
pub mod conn;
pub mod echo;
pub mod hold;
pub mod payload;
pub mod procstat;
pub mod target;
