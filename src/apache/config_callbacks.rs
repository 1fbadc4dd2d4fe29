//! The configuration callbacks of the module structure: Apache creates and
//! merges the module's configuration in its pools through these.
use std::ffi::c_void;
use std::os::raw::c_char;
use std::ptr;

use super::ffi;
use super::log::Target;
use super::module_config::{DirConfigType, ServerConfigType};
use super::panic::guard;
use super::pool::Pool;
use super::server::Server;

/// Moves a new config into `pool` and hands Apache its address.
///
/// # Safety
/// `pool` must be the live configuration pool Apache passed.
unsafe fn pool_config<T: 'static>(pool: *mut ffi::apr_pool_t, value: T) -> *mut c_void {
    // SAFETY: guaranteed by the caller.
    let pool = unsafe { Pool::from_raw(pool) };
    let value: *mut T = pool.alloc(value);
    value.cast()
}

pub(super) unsafe extern "C" fn create_server_config<T: ServerConfigType>(
    pool: *mut ffi::apr_pool_t,
    server: *mut ffi::server_rec,
) -> *mut c_void {
    // SAFETY: Apache passes the server being configured.
    let target = unsafe { Server::from_raw(server) }.map_or(Target::Process, Target::Server);
    guard(target, "create_server_config", ptr::null_mut(), || {
        // SAFETY: Apache passes the live configuration pool.
        unsafe { pool_config(pool, T::default()) }
    })
}

pub(super) unsafe extern "C" fn merge_server_config<T: ServerConfigType>(
    pool: *mut ffi::apr_pool_t,
    base: *mut c_void,
    overriding: *mut c_void,
) -> *mut c_void {
    guard(Target::Process, "merge_server_config", overriding, || {
        // SAFETY: both pointers were made by create_server_config::<T> and
        // live in the config pool during the merge.
        let (base, new) = unsafe { (&*base.cast::<T>(), &*overriding.cast::<T>()) };
        let merged = T::merge(base, new);
        // SAFETY: Apache passes the live configuration pool.
        unsafe { pool_config(pool, merged) }
    })
}

pub(super) unsafe extern "C" fn create_dir_config<T: DirConfigType>(
    pool: *mut ffi::apr_pool_t,
    _dir: *mut c_char,
) -> *mut c_void {
    guard(
        Target::Process,
        "create_dir_config",
        ptr::null_mut(),
        || {
            // SAFETY: Apache passes the live configuration pool.
            unsafe { pool_config(pool, T::default()) }
        },
    )
}

pub(super) unsafe extern "C" fn merge_dir_config<T: DirConfigType>(
    pool: *mut ffi::apr_pool_t,
    base: *mut c_void,
    overriding: *mut c_void,
) -> *mut c_void {
    guard(Target::Process, "merge_dir_config", overriding, || {
        // SAFETY: both were made by create_dir_config::<T> and live in a
        // config or request pool for at least the duration of the merge.
        let (base, new) = unsafe { (&*base.cast::<T>(), &*overriding.cast::<T>()) };
        let merged = T::merge(base, new);
        // SAFETY: Apache passes a live pool (config or request).
        unsafe { pool_config(pool, merged) }
    })
}
