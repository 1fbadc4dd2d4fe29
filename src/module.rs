//! The exported module structure Apache looks up with `LoadModule
//! rswebsocket_module .../mod_rswebsocket.so`.
use std::cell::UnsafeCell;
use std::ptr;

use crate::ffi;
use crate::{config, directives, hooks};

/// Apache writes `module_index`, `next` and `dynamic_load_handle` into the
/// structure at load time, so it must live in writable memory: a plain
/// `static` lands in RELRO and httpd segfaults at LoadModule.
#[repr(transparent)]
pub struct ModuleCell(UnsafeCell<ffi::module>);

// SAFETY: Apache mutates the cell only while loading modules, single-threaded,
// before any worker thread exists; afterwards it is only read.
unsafe impl Sync for ModuleCell {}

impl ModuleCell {
    pub fn as_ptr(&self) -> *mut ffi::module {
        self.0.get()
    }

    /// This module's index in per-server, per-dir and per-request config vectors.
    pub fn index(&self) -> i32 {
        // SAFETY: the cell is valid for the life of the DSO; module_index is
        // written once at load time, before any call that reads it.
        unsafe { (*self.0.get()).module_index }
    }
}

#[no_mangle]
#[allow(non_upper_case_globals)]
pub static rswebsocket_module: ModuleCell = ModuleCell(UnsafeCell::new(ffi::module {
    version: ffi::MODULE_MAGIC_NUMBER_MAJOR as i32,
    minor_version: ffi::MODULE_MAGIC_NUMBER_MINOR as i32,
    module_index: -1,
    name: c"mod_rswebsocket.c".as_ptr(),
    dynamic_load_handle: ptr::null_mut(),
    next: ptr::null_mut(),
    magic: ffi::MODULE_MAGIC_COOKIE as _,
    rewrite_args: None,
    create_dir_config: Some(config::create_dir_config),
    merge_dir_config: Some(config::merge_dir_config),
    create_server_config: Some(config::create_server_config),
    merge_server_config: Some(config::merge_server_config),
    cmds: directives::COMMANDS.as_ptr(),
    register_hooks: Some(hooks::register_hooks),
    flags: 0,
}));
