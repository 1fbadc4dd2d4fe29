//! The module's configuration in Apache's config vectors: the types kept
//! there, and the slot the wrappers read them from.
use std::ffi::c_void;

use super::ffi;
use super::this_module::this_module;

/// Configuration Apache creates and merges for the module.
pub trait MergeConfig: Default + 'static {
    /// `overriding` (a virtual host, a section) over what it inherits.
    fn merge(base: &Self, overriding: &Self) -> Self;
}

/// The per-server configuration type: implement it for exactly the type the
/// module structure is made with (`ModuleCell::new`), since the slot is read
/// back as that type.
pub trait ServerConfigType: MergeConfig {}

/// The per-directory configuration type (same rule as `ServerConfigType`).
pub trait DirConfigType: MergeConfig {}

/// What a request keeps in this module's request-config slot (one type).
pub trait RequestConfigType: 'static {}

/// The module's slot in an Apache config vector.
///
/// # Safety
/// `vector` must be a live config vector (server, dir or request config).
pub(super) unsafe fn module_slot(vector: *mut ffi::ap_conf_vector_t) -> *mut c_void {
    // SAFETY: guaranteed by the caller; the module struct is ours.
    unsafe { ffi::ap_get_module_config(vector, this_module().as_ptr()) }
}
