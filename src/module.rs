//! The exported module structure Apache looks up with `LoadModule
//! rswebsocket_module .../mod_rswebsocket.so`: the composition root, the
//! one file that names the configuration types, the directives and hooks.
use crate::apache::module::ModuleCell;
use crate::config::{DirConfig, ServerConfig};
use crate::directives::COMMANDS;
use crate::hooks::Hooks;

/// `crate::apache::module` declares this symbol too: keep the name in step.
#[no_mangle]
#[allow(non_upper_case_globals)]
pub static rswebsocket_module: ModuleCell =
    ModuleCell::new::<ServerConfig, DirConfig, Hooks, _>(c"mod_rswebsocket.c", &COMMANDS);
