//! The event MPM's asynchronous connections (httpd 2.4.63+, see
//! /docs/design-event-mode.md): a WebSocket's state kept in `c->conn_config`
//! past its request, handed back to the MPM to wait for input, and byte I/O
//! that never blocks, with brigades in `c->pool`.
use std::ffi::c_void;
use std::os::fd::BorrowedFd;
use std::sync::Arc;
use std::time::Duration;

use super::conn::Conn;
use super::conn_io::{read_nonblocking, socket_fd, Read};
use super::ffi;
use super::log::Target;
use super::module_config::module_slot;
use super::panic::guard;
use super::socket::poll_ready;
use super::this_module::this_module;

const APR_SUCCESS: ffi::apr_status_t = 0;

/// The most handed to the core output filter at a time, and only when it
/// holds nothing else: with more than 64 KiB set aside it would write
/// blocking, holding the worker up to `Timeout` for a client that does not
/// read. 32 KiB (plus TLS overhead) stays well below.
pub const WRITE_SLICE: usize = 32 * 1024;

/// What a connection keeps in this module's `c->conn_config` slot (one type).
pub trait ConnStateType: Send + Sync + 'static {
    /// `c->pool` is being destroyed: the connection is gone.
    fn on_pool_cleanup(&self);
}

/// Runs later on a worker thread, through `ap_mpm_register_timed_callback`.
pub trait TimedCallback: Send + Sync + 'static {
    fn fire(self: Arc<Self>);
}

impl<'c> Conn<'c> {
    /// True when the MPM gave the connection a state it can park (event).
    pub fn has_async_state(&self) -> bool {
        // SAFETY: a plain field read on the live connection.
        unsafe { !(*self.as_ptr()).cs.is_null() }
    }

    /// Waits up to `timeout` for the client's socket to be readable (or,
    /// with `writable`, to take more output); true if it is. Reading is
    /// only meaningful once the input filters are drained (read until
    /// nothing is left), as before parking.
    pub fn wait_ready(&self, writable: bool, timeout: Duration) -> bool {
        // SAFETY: the connection is live for 'c.
        let Some(fd) = (unsafe { socket_fd(self.as_ptr()) }) else {
            return false;
        };
        // SAFETY: the socket stays open while a worker serves its
        // connection, as the caller (the process_connection hook) does.
        let socket = unsafe { BorrowedFd::borrow_raw(fd) };
        poll_ready(socket, writable, timeout)
    }

    /// Keeps `state` in this module's `c->conn_config` slot until `c->pool`
    /// is destroyed; then `on_pool_cleanup` runs and the slot is emptied.
    pub fn attach_state<T: ConnStateType>(&self, state: Arc<T>) {
        let c = self.as_ptr();
        let raw = Arc::into_raw(state) as *mut c_void;
        // SAFETY: conn_config is the live connection's config vector (in
        // c->pool); the cleanup, registered on the same pool, empties the
        // slot and releases the reference exactly once.
        unsafe {
            ffi::ap_set_module_config((*c).conn_config, this_module().as_ptr(), raw);
            ffi::apr_pool_cleanup_register(
                (*c).pool,
                c.cast(),
                Some(release_state::<T>),
                Some(ffi::apr_pool_cleanup_null),
            );
        }
    }

    /// The state `attach_state` left on this connection, if any.
    pub fn state<T: ConnStateType>(&self) -> Option<Arc<T>> {
        // SAFETY: our conn_config slot holds NULL or the pointer attach_state
        // made from an Arc<T> (one type implements ConnStateType), which holds
        // one reference until the cleanup empties the slot.
        unsafe {
            let raw = module_slot((*self.as_ptr()).conn_config).cast::<T>();
            if raw.is_null() {
                return None;
            }
            Arc::increment_strong_count(raw);
            Some(Arc::from_raw(raw))
        }
    }

    /// From the handler, after the 101: the connection goes back to the MPM,
    /// which polls it for input and then runs `process_connection` (the
    /// core would otherwise read the WebSocket bytes as the next request).
    pub fn hand_back_after_handler(&self) {
        // SAFETY: field writes on the live connection of the running
        // handler; cs is non-NULL (checked with has_async_state).
        unsafe {
            let c = self.as_ptr();
            (*c).keepalive = ffi::ap_conn_keepalive_e_AP_CONN_CLOSE;
            if !(*c).cs.is_null() {
                (*(*c).cs).sense = ffi::conn_sense_e_CONN_SENSE_WANT_READ;
            }
            (*c).set_clogging_input_filters(1);
        }
    }

    /// In `process_connection`: stop clogging (the MPM set us running).
    pub fn unclog(&self) {
        // SAFETY: a field write on the live connection of the running hook.
        unsafe { (*self.as_ptr()).set_clogging_input_filters(0) }
    }

    /// In `process_connection`: park until readable (or writable).
    pub fn park(&self, want_write: bool) {
        let sense = if want_write {
            ffi::conn_sense_e_CONN_SENSE_WANT_WRITE
        } else {
            ffi::conn_sense_e_CONN_SENSE_WANT_READ
        };
        self.set_state(ffi::conn_state_e_CONN_STATE_ASYNC_WAITIO, sense);
    }

    /// In `process_connection`: the connection is done; close it.
    pub fn linger(&self) {
        self.set_state(
            ffi::conn_state_e_CONN_STATE_LINGER,
            ffi::conn_sense_e_CONN_SENSE_DEFAULT,
        );
    }

    fn set_state(&self, state: ffi::conn_state_e, sense: ffi::conn_sense_e) {
        // SAFETY: field writes on the live connection's state, which the
        // MPM gave it (cs is checked).
        unsafe {
            let cs = (*self.as_ptr()).cs;
            if !cs.is_null() {
                (*cs).state = state;
                (*cs).sense = sense;
            }
        }
    }
}

unsafe extern "C" fn release_state<T: ConnStateType>(data: *mut c_void) -> ffi::apr_status_t {
    let c = data.cast::<ffi::conn_rec>();
    // SAFETY: `data` is the connection attach_state registered on its own
    // pool; during the pool's cleanups its conn_config (pool memory) is
    // still readable. The slot's pointer carries the reference attach_state
    // took; it is emptied first so nothing can take it again.
    let state = unsafe {
        let raw = module_slot((*c).conn_config).cast::<T>();
        if raw.is_null() {
            return APR_SUCCESS;
        }
        ffi::ap_set_module_config(
            (*c).conn_config,
            this_module().as_ptr(),
            std::ptr::null_mut(),
        );
        Arc::from_raw(raw)
    };
    guard(Target::Process, "connection cleanup", (), || {
        state.on_pool_cleanup()
    });
    APR_SUCCESS
}

/// Has `state.fire()` run on a worker thread as soon as one is free
/// (`ap_mpm_register_timed_callback` with t = 0: with a delay, callbacks
/// fire late or never on 2.4.71). Safe from any thread. False when the
/// MPM refused it.
pub fn call_soon<T: TimedCallback>(state: Arc<T>) -> bool {
    let raw = Arc::into_raw(state) as *mut c_void;
    // SAFETY: the event MPM takes a mutex to queue the callback; the baton
    // carries one reference, released by the callback (or here on failure).
    let status = unsafe { ffi::ap_mpm_register_timed_callback(0, Some(fire::<T>), raw) };
    if status != APR_SUCCESS {
        // SAFETY: the callback was not registered: the reference is ours.
        drop(unsafe { Arc::from_raw(raw.cast::<T>()) });
        return false;
    }
    true
}

unsafe extern "C" fn fire<T: TimedCallback>(baton: *mut c_void) {
    // SAFETY: the baton is the reference call_soon leaked for this one call.
    let state = unsafe { Arc::from_raw(baton.cast::<T>()) };
    guard(Target::Process, "timed callback", (), || state.fire())
}

/// Bytes in and out of a connection that outlives its request; brigades
/// in `c->pool`, buckets from `c->bucket_alloc`. The owner must make sure
/// one thread at a time uses it, and none after `c->pool` is gone
/// (`ConnStateType::on_pool_cleanup`).
pub struct AsyncIo {
    c: *mut ffi::conn_rec,
    input: *mut ffi::apr_bucket_brigade,
    output: *mut ffi::apr_bucket_brigade,
}

// SAFETY: the connection may be served by a different thread at each
// resume (and by a timed callback); the owner serializes every use behind
// its lock, which is what Apache requires of c->bucket_alloc and mod_ssl.
unsafe impl Send for AsyncIo {}

/// Logs about a connection from a timed callback, so the lines carry the
/// client's address as the workers' lines do. Use it only where the
/// connection is known to be alive (its state not yet cleaned up).
pub struct ConnLog(*mut ffi::conn_rec);

// SAFETY: only the pointer moves between threads; it is dereferenced by
// `target`'s users under the same rule as AsyncIo (the owner's lock, the
// connection alive).
unsafe impl Send for ConnLog {}
// SAFETY: as for Send: `target` only reads the connection, under that rule.
unsafe impl Sync for ConnLog {}

impl ConnLog {
    pub fn target(&self) -> Target<'_> {
        // SAFETY: the caller checked the connection is alive (see the type's
        // doc); logging reads the connection only.
        Target::Connection(unsafe { Conn::from_raw(self.0) })
    }
}

impl AsyncIo {
    /// Made on the thread that runs the handler, before the request ends.
    pub fn new(c: Conn<'_>) -> AsyncIo {
        let c = c.as_ptr();
        // SAFETY: c is live; the brigades live in c->pool, as long as it.
        unsafe {
            AsyncIo {
                c,
                input: ffi::apr_brigade_create((*c).pool, (*c).bucket_alloc),
                output: ffi::apr_brigade_create((*c).pool, (*c).bucket_alloc),
            }
        }
    }

    /// A handle to log about this connection from a timed callback.
    pub fn log_handle(&self) -> ConnLog {
        ConnLog(self.c)
    }

    /// One non-blocking read through the input filters.
    pub fn read_now(&mut self, buf: &mut [u8]) -> Read {
        // SAFETY: c is live and its brigades used by one thread at a time
        // (see the type's doc).
        unsafe { read_nonblocking(self.c, self.input, buf) }
    }

    /// Shuts the socket's read side: the MPM's poll then sees the parked
    /// connection readable (end of input) and resumes it, so a connection
    /// that ended in a timed callback gets closed by a worker.
    pub fn end_input(&self) {
        // SAFETY: the live connection's socket; shutdown(2) allocates
        // nothing and is safe from any thread.
        unsafe {
            let socket = ffi::ap_get_conn_socket(self.c);
            if !socket.is_null() {
                ffi::apr_socket_shutdown(socket, ffi::apr_shutdown_how_e_APR_SHUTDOWN_READ);
            }
        }
    }

    /// True while the core output filter holds bytes it could not write.
    pub fn output_pending(&self) -> bool {
        // SAFETY: a field read on the live connection.
        unsafe { (*self.c).data_in_output_filters != 0 }
    }

    /// Asks the core output filter to write what it holds, without blocking
    /// (what the MPM does in write completion: a NULL brigade).
    pub fn flush_pending(&mut self) -> Result<(), ffi::apr_status_t> {
        // SAFETY: the chain is the live connection's; its last filter is the
        // core's network filter, which takes a NULL brigade as "write what
        // you can now".
        let status = unsafe {
            let mut f = (*self.c).output_filters;
            while !(*f).next.is_null() {
                f = (*f).next;
            }
            match (*(*f).frec).filter_func.out_func {
                Some(out) => out(f, std::ptr::null_mut()),
                None => APR_SUCCESS,
            }
        };
        if status == APR_SUCCESS {
            Ok(())
        } else {
            Err(status)
        }
    }

    /// Hands at most [`WRITE_SLICE`] bytes of `data` to the output filters
    /// if they hold nothing else, and has them written without blocking;
    /// returns how many were taken (0: try later).
    pub fn write_some(&mut self, data: &[u8]) -> Result<usize, ffi::apr_status_t> {
        if self.output_pending() {
            self.flush_pending()?;
            if self.output_pending() {
                return Ok(0);
            }
        }
        let n = data.len().min(WRITE_SLICE);
        // SAFETY: apr_brigade_write copies small data into heap buckets and
        // passes large data down at once as a transient bucket through
        // ap_filter_flush (one copy less, as the threaded driver's writes);
        // the filters set aside (copy) what they keep before returning, and
        // the brigade is emptied before return, so `data` is not referenced
        // afterwards.
        let status = unsafe {
            let mut status = ffi::apr_brigade_write(
                self.output,
                Some(ffi::ap_filter_flush),
                (*self.c).output_filters.cast::<c_void>(),
                data.as_ptr().cast(),
                n,
            );
            if status == APR_SUCCESS {
                status = ffi::ap_pass_brigade((*self.c).output_filters, self.output);
            }
            ffi::apr_brigade_cleanup(self.output.cast());
            status
        };
        if status != APR_SUCCESS {
            return Err(status);
        }
        // The core keeps small writes back for coalescing: send them now.
        if self.output_pending() {
            self.flush_pending()?;
        }
        Ok(n)
    }
}

/// Hook glue: the connection a connection-level hook was called for.
///
/// # Safety
/// `c` must be NULL or the live connection of the running hook.
pub(super) unsafe fn hook_conn<'c>(c: *mut ffi::conn_rec) -> Option<Conn<'c>> {
    // SAFETY: guaranteed by the caller.
    (!c.is_null()).then(|| unsafe { Conn::from_raw(c) })
}
