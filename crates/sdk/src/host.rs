//! The module's function table, kept once `rswebsocket_plugin_v1` accepted
//! it, and the small conversions every wrapper needs.
use std::ffi::c_int;
use std::sync::atomic::{AtomicPtr, Ordering};

use crate::error::WsError;
use crate::ffi::{rsws_host, rsws_str, RSWS_ABI_VERSION, RSWS_OK};

// The latest table the module gave: Apache reloads the module (and so its
// table) when it re-reads its configuration, and calls the entry again.
static HOST: AtomicPtr<rsws_host> = AtomicPtr::new(std::ptr::null_mut());

/// Why a host table's leading fields refuse it: another ABI, or fewer
/// members than this SDK calls.
pub(crate) fn check_head(abi_version: u32, size: u32) -> Result<(), &'static str> {
    if abi_version != RSWS_ABI_VERSION {
        return Err("the module speaks another plugin ABI version");
    }
    if (size as usize) < std::mem::size_of::<rsws_host>() {
        return Err("the module's function table is smaller than this SDK's");
    }
    Ok(())
}

/// Every member is set: later calls may then rely on it.
pub(crate) fn complete(h: &rsws_host) -> bool {
    h.resource.is_some()
        && h.origin.is_some()
        && h.header.is_some()
        && h.option.is_some()
        && h.remote_addr.is_some()
        && h.secure.is_some()
        && h.version.is_some()
        && h.protocol_count.is_some()
        && h.protocol_at.is_some()
        && h.chosen_protocol.is_some()
        && h.choose_protocol.is_some()
        && h.add_response_header.is_some()
        && h.refuse_extensions.is_some()
        && h.request.is_some()
        && h.send.is_some()
        && h.send_ping.is_some()
        && h.close.is_some()
        && h.set_timer.is_some()
        && h.cancel_timer.is_some()
        && h.when_written.is_some()
        && h.receive.is_some()
        && h.sender.is_some()
        && h.sender_send.is_some()
        && h.sender_ping.is_some()
        && h.sender_close.is_some()
        && h.sender_is_open.is_some()
        && h.sender_clone.is_some()
        && h.sender_free.is_some()
        && h.log.is_some()
        && h.explain.is_some()
}

/// Keeps the latest accepted table, replacing an earlier module's.
pub(crate) fn install(host: &rsws_host) {
    HOST.store(
        host as *const rsws_host as *mut rsws_host,
        Ordering::Release,
    );
}

/// The table, if the module has loaded this plugin (not so in a plugin's
/// own unit tests, for example).
pub(crate) fn get() -> Option<&'static rsws_host> {
    let table = HOST.load(Ordering::Acquire);
    // SAFETY: a table install() checked; the module keeps it valid while it
    // is loaded, and every caller runs on the module's behalf (a callback,
    // or a Sender of one of its connections) while it is.
    unsafe { table.as_ref() }
}

/// The table; every wrapper calling the module goes through here. Only a
/// handle the module gave out exists without it, so this cannot fail in a
/// loaded plugin.
pub(crate) fn host() -> &'static rsws_host {
    get().expect("rswebsocket-sdk: the module's function table is not installed")
}

/// A function of the table; [`check`] refused tables with NULL members.
pub(crate) fn func<F: Copy>(f: Option<F>) -> F {
    f.expect("rswebsocket-sdk: checked at load: no NULL members")
}

/// A host function's result as a `Result`.
pub(crate) fn status(code: c_int) -> Result<(), WsError> {
    if code == RSWS_OK {
        Ok(())
    } else {
        Err(WsError::from_host(code))
    }
}

/// The bytes of a host string; `None` when absent.
///
/// # Safety
/// `s` must come from the module and still be valid for `'a` (the
/// callback that obtained it is running).
pub(crate) unsafe fn bytes<'a>(s: rsws_str) -> Option<&'a [u8]> {
    if s.ptr.is_null() {
        None
    } else if s.len == 0 {
        Some(&[])
    } else {
        // SAFETY: the caller guarantees ptr/len describe live module bytes.
        Some(unsafe { std::slice::from_raw_parts(s.ptr, s.len) })
    }
}

/// Gives the module the reason for the non-zero result about to be returned.
pub(crate) fn explain(reason: &str) {
    if reason.is_empty() {
        return;
    }
    if let Some(h) = get() {
        // SAFETY: a valid byte range for the duration of the call.
        unsafe { func(h.explain)(reason.as_ptr(), reason.len()) }
    }
}
