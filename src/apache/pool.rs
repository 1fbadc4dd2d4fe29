//! APR pools: Rust values whose lifetime is the pool's (dropped by a pool
//! cleanup), and C strings copied in and out.
use std::ffi::{c_void, CStr};
use std::marker::PhantomData;
use std::os::raw::c_char;
use std::ptr::NonNull;

use super::ffi;

/// A live pool; `'p` is how long it lives (a request, a configuration).
#[derive(Clone, Copy)]
pub struct Pool<'p> {
    raw: NonNull<ffi::apr_pool_t>,
    _lives: PhantomData<&'p ffi::apr_pool_t>,
}

unsafe extern "C" fn drop_boxed<T>(data: *mut c_void) -> ffi::apr_status_t {
    // SAFETY: `data` is the pointer `Pool::alloc` leaked from a Box<T>, and
    // APR runs each cleanup exactly once.
    drop(unsafe { Box::from_raw(data.cast::<T>()) });
    0
}

impl<'p> Pool<'p> {
    /// # Safety
    /// `raw` must be a live pool that outlives `'p`.
    pub(super) unsafe fn from_raw(raw: *mut ffi::apr_pool_t) -> Pool<'p> {
        Pool {
            raw: NonNull::new(raw).expect("Apache passed a NULL pool"),
            _lives: PhantomData,
        }
    }

    pub(super) fn as_ptr(&self) -> *mut ffi::apr_pool_t {
        self.raw.as_ptr()
    }

    /// Moves `value` to the heap and ties its lifetime to the pool.
    pub fn alloc<T: 'p>(&self, value: T) -> &'p mut T {
        let raw = Box::into_raw(Box::new(value));
        // SAFETY: the pool is live; the cleanup frees `raw` when the pool is
        // cleared, after which nothing borrowed for 'p uses it.
        unsafe {
            ffi::apr_pool_cleanup_register(
                self.as_ptr(),
                raw.cast(),
                Some(drop_boxed::<T>),
                Some(ffi::apr_pool_cleanup_null),
            );
            &mut *raw
        }
    }

    /// Copies `text` into the pool as a C string (for messages returned to Apache).
    pub(super) fn pstr(&self, text: &str) -> *const c_char {
        let bytes = text.replace('\0', " ");
        // SAFETY: apr_pstrmemdup copies `len` bytes and adds the terminating NUL.
        unsafe { ffi::apr_pstrmemdup(self.as_ptr(), bytes.as_ptr().cast(), bytes.len()) }
    }
}

/// Borrows a C string from Apache; NULL and invalid UTF-8 become `None`.
///
/// # Safety
/// `ptr` must be NULL or a NUL-terminated string that outlives `'a`.
pub(super) unsafe fn cstr<'a>(ptr: *const c_char) -> Option<&'a str> {
    if ptr.is_null() {
        return None;
    }
    // SAFETY: guaranteed by the caller.
    unsafe { CStr::from_ptr(ptr) }.to_str().ok()
}

/// A C string as an owned String ("" when NULL, invalid UTF-8 replaced).
///
/// # Safety
/// `ptr` must be NULL or a NUL-terminated string.
pub(super) unsafe fn owned(ptr: *const c_char) -> String {
    if ptr.is_null() {
        return String::new();
    }
    // SAFETY: guaranteed by the caller; invalid UTF-8 is replaced, not trusted.
    unsafe { CStr::from_ptr(ptr) }
        .to_string_lossy()
        .into_owned()
}
