//! This module's identity for the wrappers that need it: its index in
//! Apache's config vectors and log levels, read from the exported structure.
use std::cell::UnsafeCell;

use super::ffi;

/// Apache writes `module_index`, `next` and `dynamic_load_handle` into the
/// structure at load time, so it must live in writable memory: a plain
/// `static` lands in RELRO and httpd segfaults at LoadModule.
#[repr(transparent)]
pub struct ModuleCell(pub(super) UnsafeCell<ffi::module>);

// SAFETY: Apache mutates the cell only while loading modules, single-threaded,
// before any worker thread exists; afterwards it is only read.
unsafe impl Sync for ModuleCell {}

impl ModuleCell {
    pub(super) fn as_ptr(&self) -> *mut ffi::module {
        self.0.get()
    }

    /// This module's index in per-server, per-dir and per-request config vectors.
    pub(super) fn index(&self) -> i32 {
        // SAFETY: the cell is valid for the life of the DSO; module_index is
        // written once at load time, before any call that reads it.
        unsafe { (*self.0.get()).module_index }
    }
}

extern "C" {
    /// The exported structure, defined by `crate::module`. Declared here by
    /// its symbol, as C modules do with APLOG_USE_MODULE, so that these
    /// wrappers need not import the glue whose entry points it names.
    static rswebsocket_module: ModuleCell;
}

pub(super) fn this_module() -> &'static ModuleCell {
    // SAFETY: crate::module defines the symbol with this very type; it lives
    // as long as the DSO, and ModuleCell's interior mutability is declared.
    unsafe { &rswebsocket_module }
}
