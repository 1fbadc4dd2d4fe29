//! APR tables (`headers_in`, `notes`, `err_headers_out`): get, set, iterate.
use std::ffi::{CStr, CString};
use std::marker::PhantomData;
use std::ptr::NonNull;

use super::ffi;
use super::pool::{cstr, owned};

/// A live table; `'t` is the life of the pool that owns it.
#[derive(Clone, Copy)]
pub struct Table<'t> {
    raw: NonNull<ffi::apr_table_t>,
    _lives: PhantomData<&'t ffi::apr_table_t>,
}

impl<'t> Table<'t> {
    /// # Safety
    /// `raw` must be a live table whose pool outlives `'t`.
    pub(super) unsafe fn from_raw(raw: *mut ffi::apr_table_t) -> Table<'t> {
        Table {
            raw: NonNull::new(raw).expect("Apache passed a NULL table"),
            _lives: PhantomData,
        }
    }

    /// The first value of `name`, if any (and valid UTF-8).
    pub fn get(&self, name: &CStr) -> Option<&'t str> {
        // SAFETY: the table is live; the value lives in the table's pool.
        unsafe { cstr(ffi::apr_table_get(self.raw.as_ptr(), name.as_ptr())) }
    }

    /// Sets `name` to `value`, replacing earlier values. A pair with a NUL
    /// byte cannot be a C string and is skipped.
    pub fn set(&self, name: &str, value: &str) {
        let (Ok(name), Ok(value)) = (CString::new(name), CString::new(value)) else {
            return;
        };
        // SAFETY: the table is live; apr_table_set copies both strings.
        unsafe { ffi::apr_table_set(self.raw.as_ptr(), name.as_ptr(), value.as_ptr()) };
    }

    /// Every entry in order, copied out (invalid UTF-8 replaced).
    pub fn entries(&self) -> Vec<(String, String)> {
        // SAFETY: a live table's elts array holds nelts apr_table_entry_t.
        unsafe {
            let array = ffi::apr_table_elts(self.raw.as_ptr());
            let entries = std::slice::from_raw_parts(
                (*array).elts.cast::<ffi::apr_table_entry_t>(),
                (*array).nelts as usize,
            );
            entries
                .iter()
                .filter(|e| !e.key.is_null())
                .map(|e| (owned(e.key), owned(e.val)))
                .collect()
        }
    }
}
