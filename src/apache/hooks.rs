//! Hook registration. The glue implements a trait per hook; the functions
//! Apache calls are here, and hand it the wrapped records, under `guard`.
use std::os::raw::c_int;
use std::ptr;

use super::async_conn::hook_conn;
use super::conn::Conn;
use super::ffi;
use super::log::Target;
use super::panic::{guard, install_panic_hook};
use super::pool::Pool;
use super::request::Request;
use super::server::Server;
use super::status::{DECLINED, SERVER_ERROR};

/// Where a hook runs among other modules' hooks of the same kind.
#[derive(Clone, Copy)]
pub enum Order {
    First,
    Middle,
}

impl Order {
    fn apr(self) -> c_int {
        match self {
            Order::First => ffi::APR_HOOK_FIRST as c_int,
            Order::Middle => ffi::APR_HOOK_MIDDLE as c_int,
        }
    }
}

/// Called at every module load: registers the module's hooks.
pub trait RegisterHooks {
    fn register();
}

/// A hook that receives the request (header_parser, handler).
pub trait RequestHook {
    /// The hook's name in a panic's log line.
    const NAME: &'static str;
    /// What Apache gets if the hook panics.
    const ON_PANIC: c_int;
    fn run(r: Request<'_>) -> c_int;
}

/// A hook on the configuration just read (check_config or post_config;
/// see their registration functions): the main server first, its virtual
/// hosts through `Server::next`, and the read's temporary pool. A result
/// other than OK stops Apache.
pub trait ConfigHook {
    /// The hook's name, for the log line of a panic.
    const NAME: &'static str;
    fn run(main_server: Server<'_>, temp: Pool<'_>) -> c_int;
}

/// child_init: once in each new child, before it serves; threads a child
/// needs are started here (never in the parent, which forks).
pub trait ChildInitHook {
    fn run(main_server: Server<'_>);
}

/// child_stopping.
pub trait ChildStoppingHook {
    /// A graceful stop or restart: runs under `guard`.
    fn graceful();
    /// A stop at once. Under prefork this runs inside the SIGTERM handler:
    /// it must not log, allocate or panic, and it runs unguarded.
    fn immediately();
}

/// process_connection: `OK` when the hook served the connection, else
/// `DECLINED` (the next module's, or the core's, turn).
pub trait ProcessConnectionHook {
    fn run(c: Conn<'_>) -> c_int;
}

/// suspend_connection and resume_connection (event MPM): the connection
/// leaves, or comes back from, the MPM's poll.
pub trait SuspendResumeHook {
    fn suspend(c: Conn<'_>);
    fn resume(c: Conn<'_>);
}

/// pre_close_connection: the connection is about to be closed.
pub trait PreCloseHook {
    fn run(c: Conn<'_>);
}

unsafe extern "C" fn process_connection<H: ProcessConnectionHook>(c: *mut ffi::conn_rec) -> c_int {
    // SAFETY: Apache passes the live connection of this hook, on this thread.
    let Some(conn) = (unsafe { hook_conn(c) }) else {
        return DECLINED;
    };
    guard(
        Target::Connection(conn),
        "process_connection",
        DECLINED,
        || H::run(conn),
    )
}

unsafe extern "C" fn suspend_connection<H: SuspendResumeHook>(
    c: *mut ffi::conn_rec,
    _r: *mut ffi::request_rec,
) {
    // SAFETY: as in process_connection.
    if let Some(conn) = unsafe { hook_conn(c) } {
        guard(Target::Process, "suspend_connection", (), || {
            H::suspend(conn)
        })
    }
}

unsafe extern "C" fn resume_connection<H: SuspendResumeHook>(
    c: *mut ffi::conn_rec,
    _r: *mut ffi::request_rec,
) {
    // SAFETY: as in process_connection.
    if let Some(conn) = unsafe { hook_conn(c) } {
        guard(Target::Process, "resume_connection", (), || H::resume(conn))
    }
}

unsafe extern "C" fn pre_close_connection<H: PreCloseHook>(c: *mut ffi::conn_rec) -> c_int {
    // SAFETY: as in process_connection.
    if let Some(conn) = unsafe { hook_conn(c) } {
        guard(Target::Process, "pre_close_connection", (), || H::run(conn))
    }
    ffi::OK as c_int
}

pub fn process_connection_hook<H: ProcessConnectionHook>(order: Order) {
    // SAFETY: as in check_config_hook.
    unsafe {
        ffi::ap_hook_process_connection(
            Some(process_connection::<H>),
            ptr::null(),
            ptr::null(),
            order.apr(),
        )
    }
}

pub fn suspend_resume_hooks<H: SuspendResumeHook>(order: Order) {
    // SAFETY: as in check_config_hook.
    unsafe {
        ffi::ap_hook_suspend_connection(
            Some(suspend_connection::<H>),
            ptr::null(),
            ptr::null(),
            order.apr(),
        );
        ffi::ap_hook_resume_connection(
            Some(resume_connection::<H>),
            ptr::null(),
            ptr::null(),
            order.apr(),
        );
    }
}

pub fn pre_close_connection_hook<H: PreCloseHook>(order: Order) {
    // SAFETY: as in check_config_hook.
    unsafe {
        ffi::ap_hook_pre_close_connection(
            Some(pre_close_connection::<H>),
            ptr::null(),
            ptr::null(),
            order.apr(),
        )
    }
}

pub(super) unsafe extern "C" fn register_hooks<H: RegisterHooks>(_pool: *mut ffi::apr_pool_t) {
    guard(Target::Process, "register_hooks", (), || {
        install_panic_hook();
        H::register();
    })
}

unsafe extern "C" fn request_hook<H: RequestHook>(r: *mut ffi::request_rec) -> c_int {
    // SAFETY: Apache passes the live request of this hook, on this thread;
    // the wrapper does not outlive the call.
    let Some(r) = (unsafe { Request::from_raw(r) }) else {
        return DECLINED;
    };
    guard(Target::Request(r), H::NAME, H::ON_PANIC, || H::run(r))
}

/// check_config and post_config share this signature.
unsafe extern "C" fn config_hook<H: ConfigHook>(
    _pconf: *mut ffi::apr_pool_t,
    _plog: *mut ffi::apr_pool_t,
    ptemp: *mut ffi::apr_pool_t,
    main_server: *mut ffi::server_rec,
) -> c_int {
    // SAFETY: Apache passes the main server of the configuration just read,
    // and its temporary pool, alive until the configuration is loaded.
    let (Some(main), temp) = (unsafe { (Server::from_raw(main_server), Pool::from_raw(ptemp)) })
    else {
        return SERVER_ERROR;
    };
    guard(Target::Server(main), H::NAME, SERVER_ERROR, || {
        H::run(main, temp)
    })
}

unsafe extern "C" fn child_init<H: ChildInitHook>(
    _pchild: *mut ffi::apr_pool_t,
    main_server: *mut ffi::server_rec,
) {
    // SAFETY: Apache passes the main server, alive as long as the child.
    if let Some(main) = unsafe { Server::from_raw(main_server) } {
        guard(Target::Server(main), "child_init", (), || H::run(main))
    }
}

unsafe extern "C" fn child_stopping<H: ChildStoppingHook>(
    _pool: *mut ffi::apr_pool_t,
    graceful: c_int,
) {
    if graceful != 0 {
        guard(Target::Process, "child_stopping", (), H::graceful)
    } else {
        H::immediately()
    }
}

/// check_config, once per configuration read (twice at start-up, once per
/// restart, once for `apache2 -t`), before `apache2 -t` reports and before
/// anything serves: a result other than OK fails both.
pub fn check_config_hook<H: ConfigHook>(order: Order) {
    // SAFETY: registering a hook function during module load, as every
    // module does; the function lives as long as the DSO.
    unsafe {
        ffi::ap_hook_check_config(
            Some(config_hook::<H>),
            ptr::null(),
            ptr::null(),
            order.apr(),
        )
    }
}

/// post_config, once per configuration read (twice at start-up, once per
/// restart; never for `apache2 -t`), after every module's check_config:
/// the MPM has worked out its limits by then.
pub fn post_config_hook<H: ConfigHook>(order: Order) {
    // SAFETY: as in check_config_hook.
    unsafe {
        ffi::ap_hook_post_config(
            Some(config_hook::<H>),
            ptr::null(),
            ptr::null(),
            order.apr(),
        )
    }
}

pub fn header_parser_hook<H: RequestHook>(order: Order) {
    // SAFETY: as in check_config_hook.
    unsafe {
        ffi::ap_hook_header_parser(
            Some(request_hook::<H>),
            ptr::null(),
            ptr::null(),
            order.apr(),
        )
    }
}

pub fn child_init_hook<H: ChildInitHook>(order: Order) {
    // SAFETY: as in check_config_hook.
    unsafe { ffi::ap_hook_child_init(Some(child_init::<H>), ptr::null(), ptr::null(), order.apr()) }
}

pub fn child_stopping_hook<H: ChildStoppingHook>(order: Order) {
    // SAFETY: as in check_config_hook.
    unsafe {
        ffi::ap_hook_child_stopping(
            Some(child_stopping::<H>),
            ptr::null(),
            ptr::null(),
            order.apr(),
        )
    }
}

pub fn handler_hook<H: RequestHook>(order: Order) {
    // SAFETY: as in check_config_hook.
    unsafe {
        ffi::ap_hook_handler(
            Some(request_hook::<H>),
            ptr::null(),
            ptr::null(),
            order.apr(),
        )
    }
}
