//! The safe face of httpd and APR. Each raw pointer Apache hands the module
//! is wrapped here, once, at the entry point that receives it, in a type
//! whose lifetime says which pool owns it (`Request<'r>` lives no longer
//! than `r->pool`). The rest of the glue uses only these types; every
//! `unsafe` block of the module is under this folder, with a SAFETY line.
mod ffi;

pub mod async_conn;
pub mod command_table;
mod config_callbacks;
pub mod conn;
pub mod conn_io;
pub mod directive;
pub mod hooks;
pub mod late_log;
pub mod log;
pub mod module;
pub mod module_config;
pub mod mpm;
pub mod panic;
pub mod plugin;
pub mod pool;
pub mod request;
pub mod server;
pub mod socket;
pub mod state;
pub mod status;
pub mod table;
mod takeover;
mod this_module;
pub mod thread;
