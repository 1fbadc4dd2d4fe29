//! mod_rswebsocket: the Apache glue. Everything that touches httpd or APR
//! lives here; the protocol is in `wscore`, the handlers in `handlers`.
//! Raw pointers and `unsafe` stay in `apache`; the rest uses its safe types.
#![deny(clippy::undocumented_unsafe_blocks)]
mod apache;
// The glue proper: no unsafe code, so a new raw pointer has to go to `apache`.
#[deny(unsafe_code)]
mod access_figures;
#[deny(unsafe_code)]
mod broker;
#[deny(unsafe_code)]
mod config;
#[deny(unsafe_code)]
mod directives;
#[deny(unsafe_code)]
mod event_driver;
#[deny(unsafe_code)]
mod hooks;
#[deny(unsafe_code)]
mod lifecycle;
// Allowed only for its #[no_mangle], which the lint counts as unsafe.
mod module;
#[deny(unsafe_code)]
mod registry;
#[deny(unsafe_code)]
mod transport;
#[deny(unsafe_code)]
mod upgrade;
