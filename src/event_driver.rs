//! The event driver (`WebSocketDriver event`, the default where the MPM
//! can park connections): after the 101
//! an event-style handler's connection goes back to the event MPM, which
//! polls it; client bytes resume it in `process_connection`, where it is
//! drained, dispatched, written without blocking and parked again. Pushes
//! (`Sender`), pings, idle limits and handler timers reach a parked
//! connection through one timing thread per child, which has the MPM run a
//! callback (`ap_mpm_register_timed_callback`, t = 0) on a worker.
//! See docs/design-event-mode.md.
use std::io::{Read as _, Write as _};
use std::os::fd::{AsFd, OwnedFd};
use std::os::raw::c_int;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use wscore::close::codes;
use wscore::event::{Dispatch, EventHandler, Failure};
use wscore::session::Session;

use crate::access_figures::{closing_summary, SharedFigures};
use crate::apache::async_conn::{call_soon, AsyncIo, ConnLog, ConnStateType, TimedCallback};
use crate::apache::conn::Conn;
use crate::apache::conn_io::Read;
use crate::apache::hooks::{PreCloseHook, ProcessConnectionHook, SuspendResumeHook};
use crate::apache::late_log::LogLine;
use crate::apache::log::{Level, Target};
use crate::apache::socket::poll_ready;
use crate::apache::status::{DECLINED, DONE, OK};
use crate::lifecycle::server_is_stopping;
use crate::registry::Registration;
use crate::ws_log;

/// Bytes read at a time (one buffer per thread, so it can be large).
const READ_CHUNK: usize = 64 * 1024;

thread_local! {
    /// The read buffer, one per thread rather than per connection: a parked
    /// connection then holds none (16 KiB each, measured in `make bench`).
    static READ_BUF: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0; READ_CHUNK]);
}
/// How often output the socket did not take is tried again while parked.
const WRITE_RETRY: Duration = Duration::from_millis(100);
/// Parts of a handler's burst (`Conn::when_written`) one round writes
/// before the connection goes back to the MPM, so one busy connection does
/// not keep its worker from the others for long.
const BURST_ROUNDS: usize = 16;
/// How long a connection that just had input waits for more on its worker
/// before going back to the MPM, and for how many rounds at most (so
/// a busy connection still lets the worker go now and then).
const LINGER: Duration = Duration::from_millis(2);
const LINGER_ROUNDS: usize = 256;
/// The timing thread looks at its list at least this often.
const TIMER_SLICE: Duration = Duration::from_secs(1);

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// One WebSocket served by the event driver: reference-counted (a timed
/// callback can outlive the connection), kept in `c->conn_config`.
pub struct EventConn {
    /// `None` once `c->pool` is gone. Whoever touches the connection's
    /// filters holds this lock: the worker that resumed it, or a callback.
    inner: Mutex<Option<Inner>>,
    /// In the MPM's poll (between suspend_connection and resume_connection).
    parked: AtomicBool,
    callback_pending: AtomicBool,
    /// Output is waiting for the socket to take it.
    retry_write: AtomicBool,
    dead: AtomicBool,
    /// When the session or the handler's timer needs a callback.
    next_wake: Mutex<Option<Instant>>,
    /// Set when a Sender queued something (see `start`), cleared when a
    /// round takes the queue.
    pushed: Arc<AtomicBool>,
    /// "resource (handler 'name')", for the log.
    name: String,
    /// The resource alone, for trace lines (as the threaded driver's).
    resource: String,
    /// For the access log.
    figures: SharedFigures,
    /// For log lines written from timed callbacks.
    log: ConnLog,
}

struct Inner {
    io: AsyncIo,
    session: Session,
    dispatch: Dispatch,
    /// The end has been logged.
    reported: bool,
    /// The last dispatch left the Sender queue alone (output was waiting).
    queue_held: bool,
    /// This round left the client's input unread (output was waiting).
    input_held: bool,
    /// This round read some input: the connection is busy.
    got_input: bool,
    /// The connection's push flag (as in EventConn), cleared by `dispatch`.
    pushed: Arc<AtomicBool>,
    /// The access-log line, written when the connection finishes.
    log_line: Option<LogLine>,
    /// Bytes read and written since the figures were last updated.
    read: u64,
    written: u64,
    _registration: Registration,
}

/// What a round leaves the connection to do.
enum After {
    Park { want_write: bool },
    Finish,
}

impl Inner {
    /// Reads and serves input a chunk at a time until the filters have
    /// nothing more (EAGAIN: with mod_ssl the only safe condition before
    /// parking for input), or until the client stops taking its output:
    /// then the rest waits (`input_held`), as a blocked write holds a
    /// threaded connection's reading.
    fn read_input(&mut self, log: Target<'_>, name: &str) {
        self.input_held = false;
        while !self.session.is_finished() {
            // A burst going out (Conn::when_written) holds the input too.
            if self.dispatch.awaits_written() {
                self.input_held = true;
                return;
            }
            let read = READ_BUF.with_borrow_mut(|buf| match self.io.read_now(buf) {
                Read::Data(n) => {
                    self.session.feed(&buf[..n], Instant::now());
                    Read::Data(n)
                }
                other => other,
            });
            match read {
                Read::Data(n) => {
                    self.got_input = true;
                    self.read += n as u64;
                }
                Read::Nothing => return,
                Read::Eof => {
                    self.session.end_of_input();
                    return;
                }
            }
            self.dispatch(log, name);
            if !self.write() {
                self.input_held = true;
                return;
            }
        }
    }

    /// Runs what is due: callbacks, pushes, pings, limits.
    fn dispatch(&mut self, log: Target<'_>, name: &str) {
        // While the client has not taken what is already written, pushes
        // stay in the Sender queue, whose bound then reaches the handler.
        self.queue_held = self.output_waiting();
        self.dispatch.hold_queue(self.queue_held);
        if server_is_stopping() {
            self.session.stop();
        }
        self.pushed.store(false, Ordering::Release);
        self.dispatch.run(&mut self.session, Instant::now());
        match self.dispatch.take_failure() {
            Some(Failure::Error(error)) => {
                ws_log!(
                    log,
                    Level::Debug,
                    "WebSocket {name}: handler error: {error}"
                )
            }
            Some(Failure::Panicked(text)) => ws_log!(
                log,
                Level::Err,
                "WebSocket {name}: handler {text}; closed the connection with {}",
                codes::INTERNAL
            ),
            None => {}
        }
    }

    /// Output the client has not taken yet.
    fn output_waiting(&mut self) -> bool {
        !self.session.output().is_empty() || self.io.output_pending()
    }

    /// Writes without blocking; true when nothing is left to write (or
    /// nothing more can be).
    fn write(&mut self) -> bool {
        loop {
            let out = self.session.output();
            if out.is_empty() {
                break;
            }
            match self.io.write_some(out) {
                Ok(0) => return false,
                Ok(n) => {
                    self.written += n as u64;
                    self.session.consume_output(n)
                }
                Err(_) => {
                    self.session.connection_lost();
                    return true;
                }
            }
        }
        if self.io.output_pending() && self.io.flush_pending().is_err() {
            self.session.connection_lost();
            return true;
        }
        !self.io.output_pending()
    }
}

impl EventConn {
    /// One round on a worker: input, callbacks, output.
    fn round(&self, inner: &mut Inner, log: Target<'_>) -> After {
        inner.got_input = false;
        // A client that does not take its output gets no more read: its
        // input waits in the socket (and the connection for writability).
        if inner.output_waiting() {
            inner.input_held = true;
        } else {
            inner.read_input(log, &self.name);
        }
        inner.dispatch(log, &self.name);
        let after = self.after_output(inner, log);
        self.report(inner, log);
        after
    }

    /// Trace lines (`LogLevel rswebsocket:trace1`) and, once, the end at
    /// debug level, worded as the threaded driver's.
    fn report(&self, inner: &mut Inner, log: Target<'_>) {
        self.figures.update(
            &inner.session,
            std::mem::take(&mut inner.read),
            std::mem::take(&mut inner.written),
        );
        for line in inner.session.take_trace() {
            ws_log!(log, Level::Trace1, "WebSocket {}: {line}", self.resource);
        }
        if inner.session.is_finished() && !inner.reported {
            inner.reported = true;
            let summary = closing_summary(&self.name, &inner.session);
            ws_log!(log, Level::Debug, "{summary}");
        }
    }

    fn after_output(&self, inner: &mut Inner, log: Target<'_>) -> After {
        let mut written = inner.write();
        let mut rounds = 0;
        while written
            && (inner.queue_held || inner.input_held || inner.dispatch.awaits_written())
            && rounds < BURST_ROUNDS
        {
            // The client took everything: now what was held back (input is
            // read until EAGAIN before the connection parks for reading),
            // or the next part of a handler's burst.
            rounds += 1;
            if inner.input_held {
                inner.read_input(log, &self.name);
            }
            inner.dispatch(log, &self.name);
            written = inner.write();
        }
        // A burst that goes on comes back when the socket takes more.
        let more = inner.dispatch.awaits_written();
        self.retry_write.store(!written || more, Ordering::Release);
        *lock(&self.next_wake) = inner.dispatch.next_wake(&inner.session, Instant::now());
        match (inner.session.is_finished(), written) {
            (true, true) => After::Finish,
            // Unread input must not wait for readability (mod_ssl may hold
            // it where a poll cannot see it): a writable socket resumes it.
            (_, written) => After::Park {
                want_write: !written || inner.input_held || more,
            },
        }
    }
}

impl ConnStateType for EventConn {
    fn on_pool_cleanup(&self) {
        self.dead.store(true, Ordering::Release);
        // The handler's clean-up (its Connection's drop) runs here, outside
        // the lock.
        let inner = lock(&self.inner).take();
        drop(inner);
    }
}

impl TimedCallback for EventConn {
    /// A push, a ping, a timer or a retry for a parked connection.
    fn fire(self: Arc<Self>) {
        let mut guard = lock(&self.inner);
        self.callback_pending.store(false, Ordering::Release);
        if self.dead.load(Ordering::Acquire) || !self.parked.load(Ordering::Acquire) {
            return; // gone, or a worker has it and does the same
        }
        let Some(inner) = guard.as_mut() else {
            return;
        };
        // Alive: the pool cleanup empties `inner` before the connection goes.
        let log = self.log.target();
        inner.dispatch(log, &self.name);
        // Held input stays for a worker: the connection waits for
        // writability then, and the MPM resumes it once the client reads.
        let input_held = std::mem::take(&mut inner.input_held);
        // A callback cannot close the connection: once the session has
        // ended and its output is out, ending the socket's input has the
        // MPM resume it, and that worker closes it.
        let after = self.after_output(inner, log);
        inner.input_held = input_held;
        self.report(inner, log);
        if matches!(after, After::Finish) {
            inner.io.end_input();
        }
    }
}

/// What the upgrade hands the event driver besides the session.
pub struct Opened {
    pub registration: Registration,
    /// A duplicate of a plain connection's socket, for `apachectl stop`.
    pub stop_fd: Option<OwnedFd>,
    pub resource: String,
    /// "resource (handler 'name')".
    pub name: String,
    pub figures: SharedFigures,
    pub log_line: Option<LogLine>,
}

/// Serves an accepted upgrade on the event driver, from the handler hook
/// (the 101 is sent). Returns what the handler hook returns.
pub fn start(
    c: Conn<'_>,
    mut session: Session,
    handler: &'static dyn EventHandler,
    opened: Opened,
) -> c_int {
    let Opened {
        registration,
        stop_fd,
        resource,
        name,
        figures,
        log_line,
    } = opened;
    let log = Target::Connection(c);
    // A push flags the connection and wakes the timing thread: no
    // descriptor per connection (before any Sender is handed out).
    let pushed = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&pushed);
    session.notify_pushes_with(move || {
        flag.store(true, Ordering::Release);
        notify_timer();
    });
    registration.attach(session.sender(), stop_fd);
    let dispatch = Dispatch::open(handler, &mut session, Instant::now());
    let io = AsyncIo::new(c);
    let state = Arc::new(EventConn {
        log: io.log_handle(),
        inner: Mutex::new(Some(Inner {
            io,
            session,
            dispatch,
            reported: false,
            queue_held: false,
            input_held: false,
            got_input: false,
            pushed: Arc::clone(&pushed),
            log_line,
            read: 0,
            written: 0,
            _registration: registration,
        })),
        parked: AtomicBool::new(false),
        callback_pending: AtomicBool::new(false),
        retry_write: AtomicBool::new(false),
        dead: AtomicBool::new(false),
        next_wake: Mutex::new(None),
        pushed,
        name,
        resource,
        figures,
    });
    c.attach_state(Arc::clone(&state));
    let after = {
        let mut guard = lock(&state.inner);
        let inner = guard.as_mut().expect("just made");
        state.round(inner, log)
    };
    match after {
        // Apache closes the connection after the handler (keep-alive off).
        After::Finish => DONE,
        After::Park { .. } => {
            c.hand_back_after_handler();
            watch(state);
            OK
        }
    }
}

/// process_connection: a parked WebSocket resumed by client bytes (or by
/// its socket becoming writable).
pub struct Resume;

impl ProcessConnectionHook for Resume {
    fn run(c: Conn<'_>) -> c_int {
        let Some(state) = c.state::<EventConn>() else {
            return DECLINED;
        };
        c.unclog();
        let log = Target::Connection(c);
        let mut guard = lock(&state.inner);
        let mut rounds = 0;
        let after = loop {
            let Some(inner) = guard.as_mut() else {
                c.linger();
                return OK;
            };
            let after = state.round(inner, log);
            // A busy connection keeps its worker a moment: in a
            // conversation the next message usually comes sooner than a
            // trip through the MPM's poll and a hand-over would take. The
            // lock is let go meanwhile, so a push's callback never waits.
            // Output the socket did not take yet is waited for the same way
            // (a blocking write's cost, not a park and a resume).
            let writing = matches!(after, After::Park { want_write: true });
            let linger = matches!(after, After::Park { .. })
                && (inner.got_input || writing)
                && rounds < LINGER_ROUNDS
                && !server_is_stopping();
            if !linger {
                break after;
            }
            drop(guard);
            let more = c.wait_ready(writing, LINGER) || state.pushed.load(Ordering::Acquire);
            guard = lock(&state.inner);
            if !more {
                break after;
            }
            rounds += 1;
        };
        match after {
            After::Finish => {
                if let Some(line) = guard.as_mut().and_then(|inner| inner.log_line.take()) {
                    state.figures.write_now(line);
                }
                c.linger()
            }
            After::Park { want_write } => {
                if let Some(inner) = guard.as_mut() {
                    inner.session.release_idle_memory();
                }
                c.park(want_write)
            }
        }
        OK
    }
}

/// suspend_connection / resume_connection: who may touch the connection.
pub struct Parking;

impl SuspendResumeHook for Parking {
    fn suspend(c: Conn<'_>) {
        if let Some(state) = c.state::<EventConn>() {
            state.parked.store(true, Ordering::Release);
            notify_timer();
        }
    }

    fn resume(c: Conn<'_>) {
        if let Some(state) = c.state::<EventConn>() {
            // Waits for a callback in progress.
            let _guard = lock(&state.inner);
            state.parked.store(false, Ordering::Release);
        }
    }
}

/// pre_close_connection: the MPM closes a parked WebSocket (its Timeout,
/// a stop): a last close frame, 1001.
pub struct Closing;

impl PreCloseHook for Closing {
    fn run(c: Conn<'_>) {
        let Some(state) = c.state::<EventConn>() else {
            return;
        };
        let mut guard = lock(&state.inner);
        let Some(inner) = guard.as_mut() else {
            return;
        };
        if !inner.session.is_finished() {
            // Stopping, or the MPM's Timeout passed without client bytes.
            let reason = if server_is_stopping() {
                "server stopping"
            } else {
                "no answer within TimeOut"
            };
            let _ = inner.session.close(codes::GOING_AWAY, reason);
            inner.session.connection_lost();
            let _ = inner.write();
        }
        state.report(inner, Target::Connection(c));
        if let Some(line) = inner.log_line.take() {
            state.figures.write_now(line);
        }
    }
}

// ---- the timing thread ----

struct Timer {
    conns: Mutex<Vec<Arc<EventConn>>>,
    wake_tx: UnixStream,
    wake_rx: UnixStream,
}

static TIMER: OnceLock<Option<Timer>> = OnceLock::new();

fn timer() -> Option<&'static Timer> {
    TIMER
        .get_or_init(|| {
            let (wake_rx, wake_tx) = UnixStream::pair().ok()?;
            wake_rx.set_nonblocking(true).ok()?;
            wake_tx.set_nonblocking(true).ok()?;
            Some(Timer {
                conns: Mutex::new(Vec::new()),
                wake_tx,
                wake_rx,
            })
        })
        .as_ref()
}

static TIMER_THREAD: OnceLock<bool> = OnceLock::new();

/// Puts a connection under the timing thread's watch (starting it).
fn watch(state: Arc<EventConn>) {
    let Some(timer) = timer() else {
        return;
    };
    lock(&timer.conns).push(state);
    TIMER_THREAD.get_or_init(|| {
        std::thread::Builder::new()
            .name("rswebsocket-timer".into())
            .spawn(move || timer_loop(timer))
            .is_ok()
    });
    notify_timer();
}

fn notify_timer() {
    if let Some(Some(timer)) = TIMER.get() {
        let _ = (&timer.wake_tx).write(&[1]);
    }
}

fn timer_loop(timer: &'static Timer) {
    loop {
        let conns: Vec<Arc<EventConn>> = {
            let mut list = lock(&timer.conns);
            list.retain(|c| !c.dead.load(Ordering::Acquire));
            list.clone()
        };
        let watched: Vec<&Arc<EventConn>> = conns
            .iter()
            .filter(|c| {
                c.parked.load(Ordering::Acquire) && !c.callback_pending.load(Ordering::Acquire)
            })
            .collect();
        let now = Instant::now();
        let mut timeout = TIMER_SLICE;
        for c in &watched {
            if c.retry_write.load(Ordering::Acquire) {
                timeout = timeout.min(WRITE_RETRY);
            }
            if let Some(at) = *lock(&c.next_wake) {
                timeout = timeout.min(at.saturating_duration_since(now));
            }
        }
        if poll_ready(timer.wake_rx.as_fd(), false, timeout) {
            let mut sink = [0u8; 64];
            while matches!((&timer.wake_rx).read(&mut sink), Ok(n) if n > 0) {}
        }
        // Look at every connection as it is now, not only those watched
        // before the poll: a push may have woken it for one whose callback
        // was still pending then (or that was not parked yet), and its
        // wake-up is spent; left to the next pass, it would wait a whole
        // TIMER_SLICE (found by the cross-server fan-out bench: pushes from
        // the broker's thread arrived up to 1 s late).
        let conns: Vec<Arc<EventConn>> = lock(&timer.conns).clone();
        let now = Instant::now();
        for c in &conns {
            let due = c.pushed.load(Ordering::Acquire)
                || c.retry_write.load(Ordering::Acquire)
                || lock(&c.next_wake).is_some_and(|at| at <= now);
            if due
                && c.parked.load(Ordering::Acquire)
                && !c.callback_pending.swap(true, Ordering::AcqRel)
                && !call_soon(Arc::clone(c))
            {
                c.callback_pending.store(false, Ordering::Release);
            }
        }
    }
}
