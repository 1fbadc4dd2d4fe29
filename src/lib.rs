//! mod_rswebsocket: the Apache glue. Everything that touches httpd or APR
//! lives here; the protocol is in `wscore`, the handlers in `handlers`.
//! Raw pointers and `unsafe` stay in `apache`; the rest uses its safe types.
#![deny(clippy::undocumented_unsafe_blocks)]
mod apache;
mod config;
mod directives;
mod hooks;
mod lifecycle;
mod module;
mod registry;
mod transport;
mod upgrade;
