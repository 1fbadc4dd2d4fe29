//! The `module` structure Apache loads (`LoadModule rswebsocket_module
//! .../mod_rswebsocket.so`): the configuration callbacks, the directives
//! and the hook registration it names.
use std::cell::UnsafeCell;
use std::ffi::CStr;
use std::ptr;

use super::command_table::CommandTable;
use super::config_callbacks::{
    create_dir_config, create_server_config, merge_dir_config, merge_server_config,
};
use super::ffi;
use super::hooks::{register_hooks, RegisterHooks};
use super::module_config::{DirConfigType, ServerConfigType};
pub use super::this_module::ModuleCell;

impl ModuleCell {
    /// The structure for a module named `name` (as `LogLevel` and
    /// `<IfModule>` know it, with ".c"), keeping an `S` per server and a
    /// `D` per directory, with `commands` and the hooks `H` registers.
    pub const fn new<S: ServerConfigType, D: DirConfigType, H: RegisterHooks, const N: usize>(
        name: &'static CStr,
        commands: &'static CommandTable<N>,
    ) -> ModuleCell {
        ModuleCell(UnsafeCell::new(ffi::module {
            version: ffi::MODULE_MAGIC_NUMBER_MAJOR as i32,
            minor_version: ffi::MODULE_MAGIC_NUMBER_MINOR as i32,
            module_index: -1,
            name: name.as_ptr(),
            dynamic_load_handle: ptr::null_mut(),
            next: ptr::null_mut(),
            magic: ffi::MODULE_MAGIC_COOKIE as _,
            rewrite_args: None,
            create_dir_config: Some(create_dir_config::<D>),
            merge_dir_config: Some(merge_dir_config::<D>),
            create_server_config: Some(create_server_config::<S>),
            merge_server_config: Some(merge_server_config::<S>),
            cmds: commands.as_ptr(),
            register_hooks: Some(register_hooks::<H>),
            flags: 0,
        }))
    }
}

/// True when Apache has loaded the module of that name (e.g. "mod_python.c").
pub fn is_module_loaded(name: &CStr) -> bool {
    // SAFETY: looks up a module by name in Apache's loaded-module list.
    unsafe { !ffi::ap_find_linked_module(name.as_ptr()).is_null() }
}
