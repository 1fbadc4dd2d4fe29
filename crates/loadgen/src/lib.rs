//! Benchmark tools for mod_rswebsocket: `wsload`, a bounded WebSocket load
//! client that only talks to loopback, and `wsecho`, the plain
//! tokio-tungstenite echo server the module is compared with (which also
//! broadcasts, for `wsfanout`, the fan-out client).
pub mod args;
pub mod codec;
pub mod conn;
pub mod echo;
pub mod fanout;
pub mod fanout_message;
pub mod fanout_peer;
pub mod get;
pub mod h2ws;
pub mod head;
pub mod held;
pub mod hold;
pub mod keepalive;
pub mod payload;
pub mod procstat;
pub mod tally;
pub mod target;
