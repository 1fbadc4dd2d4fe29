//! Rust values owned by an APR pool: dropped by a pool cleanup, so config
//! lives exactly as long as the configuration generation it belongs to.
use std::ffi::{c_void, CStr};
use std::os::raw::c_char;

use crate::ffi;

unsafe extern "C" fn drop_boxed<T>(data: *mut c_void) -> ffi::apr_status_t {
    // SAFETY: `data` is the pointer `pool_box` leaked from a Box<T>, and APR
    // runs each cleanup exactly once.
    drop(unsafe { Box::from_raw(data.cast::<T>()) });
    0
}

/// Moves `value` to the heap and ties its lifetime to `pool`.
pub fn pool_box<T>(pool: *mut ffi::apr_pool_t, value: T) -> *mut T {
    let raw = Box::into_raw(Box::new(value));
    // SAFETY: `pool` is a live pool handed to us by Apache; the cleanup frees
    // `raw` when the pool is cleared, after which Apache no longer uses it.
    unsafe {
        ffi::apr_pool_cleanup_register(
            pool,
            raw.cast(),
            Some(drop_boxed::<T>),
            Some(ffi::apr_pool_cleanup_null),
        );
    }
    raw
}

/// Copies `text` into `pool` as a C string (for messages returned to Apache).
pub fn pstr(pool: *mut ffi::apr_pool_t, text: &str) -> *const c_char {
    let bytes = text.replace('\0', " ");
    // SAFETY: apr_pstrmemdup copies `len` bytes and adds the terminating NUL.
    unsafe { ffi::apr_pstrmemdup(pool, bytes.as_ptr().cast(), bytes.len()) }
}

/// Borrows a C string from Apache; NULL and invalid UTF-8 become `None`.
///
/// # Safety
/// `ptr` must be NULL or a NUL-terminated string that outlives `'a`.
pub unsafe fn cstr<'a>(ptr: *const c_char) -> Option<&'a str> {
    if ptr.is_null() {
        return None;
    }
    // SAFETY: guaranteed by the caller.
    unsafe { CStr::from_ptr(ptr) }.to_str().ok()
}
