//! mod_rswebsocket: the Apache glue. Everything that touches httpd or APR
//! lives here; the protocol is in `wscore`, the handlers in `handlers`.
mod config;
mod directives;
mod ffi;
mod hooks;
mod lifecycle;
mod log;
mod module;
mod pool;
mod registry;
mod request;
mod stop;
mod takeover;
mod transport;
mod upgrade;
