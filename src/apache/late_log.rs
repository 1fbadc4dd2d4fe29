//! An event-driven WebSocket's access-log line, written when its connection
//! ends rather than when its handler returns: the request's EOR bucket (whose
//! destruction frees `r->pool` and runs `log_transaction`) is held back by a
//! connection output filter, so `r->pool` lives until `c->pool` goes; a
//! pre-cleanup on `r->pool` then fills in the figures just before the line
//! is written.
use std::ffi::c_void;
use std::mem::offset_of;
use std::sync::atomic::{AtomicPtr, Ordering};

use super::ffi;
use super::log::Target;
use super::panic::guard;
use super::request::Request;

const APR_SUCCESS: ffi::apr_status_t = 0;
const FILTER_NAME: &std::ffi::CStr = c"RSWEBSOCKET_HOLD_EOR";

static HOLD_EOR: AtomicPtr<ffi::ap_filter_rec_t> = AtomicPtr::new(std::ptr::null_mut());

/// From register_hooks: the filter that holds the EOR bucket back.
pub fn register_filter() {
    // SAFETY: called while Apache registers hooks (one thread); the name is
    // a static C string and the function matches ap_out_filter_func.
    let rec = unsafe {
        ffi::ap_register_output_filter(
            FILTER_NAME.as_ptr(),
            Some(hold_eor),
            None,
            ffi::ap_filter_type_AP_FTYPE_CONNECTION,
        )
    };
    HOLD_EOR.store(rec, Ordering::Release);
}

/// The brigade's sentinel (APR_BRIGADE_SENTINEL).
///
/// # Safety
/// `bb` must be a live brigade.
unsafe fn sentinel(bb: *mut ffi::apr_bucket_brigade) -> *mut ffi::apr_bucket {
    // SAFETY: the caller's; pointer arithmetic only, as the C macro does.
    unsafe {
        std::ptr::addr_of_mut!((*bb).list)
            .cast::<u8>()
            .sub(offset_of!(ffi::apr_bucket, link))
            .cast()
    }
}

/// # Safety
/// `b` must be a live bucket.
unsafe fn is_eor(b: *mut ffi::apr_bucket) -> bool {
    // SAFETY: a bucket's type and its name are static C data.
    unsafe {
        let kind = (*b).type_;
        !kind.is_null() && std::ffi::CStr::from_ptr((*kind).name) == c"EOR"
    }
}

/// The filter: passes everything but the first EOR bucket, which it keeps
/// in its context brigade (in `c->pool`) until the connection ends.
unsafe extern "C" fn hold_eor(
    f: *mut ffi::ap_filter_t,
    bb: *mut ffi::apr_bucket_brigade,
) -> ffi::apr_status_t {
    // SAFETY: Apache calls the filter with its live record and a live
    // brigade; ctx is the brigade add_hold_filter made in c->pool; the
    // split moves buckets between brigades of the same allocator.
    unsafe {
        let held = (*f).ctx.cast::<ffi::apr_bucket_brigade>();
        if bb.is_null() {
            return ffi::ap_pass_brigade((*f).next, bb);
        }
        if !held.is_null() && (*held).list.next == sentinel(held) {
            let end = sentinel(bb);
            let mut b = (*bb).list.next;
            while b != end {
                if is_eor(b) {
                    // What follows the EOR in bb, if anything (checked
                    // before the split moves it to held).
                    let after = (*b).link.next;
                    let nothing_after = after == end;
                    ffi::apr_brigade_split_ex(bb, b, held);
                    let status = ffi::ap_pass_brigade((*f).next, bb);
                    if nothing_after || status != APR_SUCCESS {
                        return status;
                    }
                    let rest = ffi::apr_brigade_split_ex(held, after, std::ptr::null_mut());
                    return ffi::ap_pass_brigade((*f).next, rest);
                }
                b = (*b).link.next;
            }
        }
        ffi::ap_pass_brigade((*f).next, bb)
    }
}

struct Late<F> {
    r: *mut ffi::request_rec,
    fill: F,
}

/// `r->pool`'s pre-cleanup: the last moment the request's notes can change
/// before mod_log_config reads them.
unsafe extern "C" fn fill_in<F: FnOnce(Request<'_>) + Send + 'static>(
    data: *mut c_void,
) -> ffi::apr_status_t {
    // SAFETY: data is the Box keep_log_line_open leaked, handed back once;
    // r->pool is being destroyed but its memory and the request still live.
    let late = unsafe { Box::from_raw(data.cast::<Late<F>>()) };
    // SAFETY: the request outlives its own pool's pre-cleanups.
    if let Some(r) = unsafe { Request::from_raw(late.r) } {
        let fill = late.fill;
        guard(Target::Process, "access-log figures", (), || fill(r));
    }
    APR_SUCCESS
}

/// The held access-log line of one connection: [`LogLine::write_now`]
/// writes it; otherwise it is written when `c->pool` goes.
pub struct LogLine {
    held: *mut ffi::apr_bucket_brigade,
    r: *mut ffi::request_rec,
}

// SAFETY: the brigade is only touched through write_now, by whoever holds
// the connection (the event driver's per-connection lock).
unsafe impl Send for LogLine {}

impl LogLine {
    /// Has `fill` set the figures, then lets the request go (the log line,
    /// then its pool): call on the thread that holds the live connection,
    /// before `c->pool` is cleared. (Deleting the EOR bucket logs before it
    /// destroys r->pool, so the pre-cleanup would come too late here.)
    pub fn write_now(self, fill: impl FnOnce(Request<'_>)) {
        // SAFETY: the EOR bucket is held, so the request and its pool live.
        if let Some(r) = unsafe { Request::from_raw(self.r) } {
            fill(r);
        }
        // SAFETY: the brigade lives in the live connection's c->pool;
        // deleting the EOR bucket runs mod_log_config, then destroys r->pool.
        unsafe { ffi::apr_brigade_cleanup(self.held.cast()) };
    }
}

impl Request<'_> {
    /// Holds this request's access-log line until [`LogLine::write_now`]
    /// (or until its connection ends) and has `fill` set its notes and byte
    /// count just before it is written. Call once, from the handler, for a
    /// connection the event MPM keeps.
    pub fn keep_log_line_open<F: FnOnce(Request<'_>) + Send + 'static>(
        &self,
        fill: F,
    ) -> Option<LogLine> {
        let rec = HOLD_EOR.load(Ordering::Acquire);
        if rec.is_null() {
            return None;
        }
        let late = Box::into_raw(Box::new(Late {
            r: self.as_ptr(),
            fill,
        }));
        // SAFETY: the live request and connection of the running handler;
        // the brigade lives in c->pool like the filter; the pre-cleanup
        // takes back the Box exactly once, when r->pool is destroyed.
        unsafe {
            let r = self.as_ptr();
            let c = (*r).connection;
            let held = ffi::apr_brigade_create((*c).pool, (*c).bucket_alloc);
            ffi::ap_add_output_filter_handle(rec, held.cast(), std::ptr::null_mut(), c);
            ffi::apr_pool_pre_cleanup_register((*r).pool, late.cast(), Some(fill_in::<F>));
            Some(LogLine { held, r })
        }
    }
}
