//! Running one connection's callbacks on its session, for any driver:
//! after the driver feeds input (or the time comes), [`Dispatch::run`]
//! turns the session's events, the due timer and the [`crate::sender::Sender`]
//! queue into callbacks and output; the driver writes the output and waits
//! until input, a push or [`Dispatch::next_wake`].
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

use super::conn::Wants;
use super::{Conn, Connection, EventHandler};
use crate::close::codes;
use crate::error::WsError;
use crate::protocol::Event;
use crate::run::{panic_text, PANIC_REASON};
use crate::session::Session;

/// Why a connection's callbacks stopped before it ended.
#[derive(Debug)]
pub enum Failure {
    /// A callback returned this error (its close is queued, if it has one).
    Error(WsError),
    /// A callback panicked with this text (a 1011 close is queued).
    Panicked(String),
}

pub struct Dispatch {
    /// `None` once the connection ended or a callback failed.
    connection: Option<Box<dyn Connection>>,
    wants: Wants,
    failure: Option<Failure>,
    /// Leave the Sender queue alone (see [`Dispatch::hold_queue`]).
    queue_held: bool,
}

impl Dispatch {
    /// Opens the handler's state for this connection (its `open` callback).
    pub fn open(handler: &dyn EventHandler, session: &mut Session, now: Instant) -> Dispatch {
        let mut dispatch = Dispatch {
            connection: None,
            wants: Wants::default(),
            failure: None,
            queue_held: false,
        };
        let mut conn = Conn::new(session, &mut dispatch.wants, now);
        match catch_unwind(AssertUnwindSafe(|| handler.open(&mut conn))) {
            Ok(connection) => dispatch.connection = Some(connection),
            Err(payload) => dispatch.fail(session, Failure::Panicked(panic_text(payload.as_ref()))),
        }
        dispatch
    }

    /// Runs every callback that is due: one per session event, then the
    /// timer; queued pushes go to the output before and after them.
    pub fn run(&mut self, session: &mut Session, now: Instant) {
        session.tick(now);
        self.drain_queue(session);
        if self.awaits_written() && session.output().is_empty() {
            self.wants.written = false;
            self.call(session, now, |c, ws| c.on_written(ws));
        }
        // While a burst goes out, the client's input waits (as it would
        // behind a blocking write).
        while !self.awaits_written() {
            let Some(event) = session.poll_event() else {
                break;
            };
            match event {
                // Once this side closed, messages are discarded.
                Event::Message(message) if session.close_sent().is_none() => {
                    self.call(session, now, |c, ws| c.on_message(ws, message));
                }
                Event::Close(peer) if session.close_sent().is_none() => {
                    self.call(session, now, |c, ws| c.on_close(ws, peer.as_ref()));
                    let _ = session.close(codes::NORMAL, "");
                }
                Event::Message(_) | Event::Close(_) | Event::Ping(_) | Event::Pong(_) => {}
            }
        }
        if session.close_sent().is_some() {
            self.wants.timer = None; // closing: no callback is due any more
        } else if self.wants.timer.is_some_and(|at| now >= at) {
            self.wants.timer = None;
            self.call(session, now, |c, ws| c.on_timer(ws));
        }
        self.drain_queue(session);
        if session.is_finished() {
            self.drop_connection();
        }
    }

    /// A callback waits for its output to be written ([`Conn::when_written`]):
    /// once the driver has written it, [`Dispatch::run`] is due again.
    pub fn awaits_written(&self) -> bool {
        self.wants.written && self.connection.is_some()
    }

    /// When [`Dispatch::run`] must be called next if nothing arrives
    /// (`None`: not before input or a push).
    pub fn next_wake(&self, session: &Session, now: Instant) -> Option<Instant> {
        session.next_wake(now).into_iter().chain(self.timer()).min()
    }

    /// When the connection's timer is due, while its callbacks may run.
    pub fn timer(&self) -> Option<Instant> {
        self.wants.timer.filter(|_| self.connection.is_some())
    }

    /// Why the callbacks stopped, once (for the log).
    pub fn take_failure(&mut self) -> Option<Failure> {
        self.failure.take()
    }

    fn call(
        &mut self,
        session: &mut Session,
        now: Instant,
        callback: impl FnOnce(&mut dyn Connection, &mut Conn<'_>) -> Result<(), WsError>,
    ) {
        let Some(connection) = self.connection.as_mut() else {
            return;
        };
        let mut conn = Conn::new(session, &mut self.wants, now);
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            callback(connection.as_mut(), &mut conn)
        }));
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(error)) => self.fail(session, Failure::Error(error)),
            Err(payload) => self.fail(session, Failure::Panicked(panic_text(payload.as_ref()))),
        }
    }

    /// Ends the callbacks with the close the failure calls for.
    fn fail(&mut self, session: &mut Session, failure: Failure) {
        let close = match &failure {
            Failure::Error(error) => error.close_code().map(|code| (code, error.close_reason())),
            Failure::Panicked(_) => Some((codes::INTERNAL, PANIC_REASON)),
        };
        if let Some((code, reason)) = close {
            let _ = session.close(code, reason);
        }
        self.failure.get_or_insert(failure);
        self.drop_connection();
    }

    /// Pushes a send the session refuses (binary on an old draft) fails
    /// the connection as the same send from a callback would.
    /// While `hold` is set, [`Dispatch::run`] leaves what `Sender`s queued
    /// in the queue: a driver whose output the peer has not taken yet sets
    /// it, so the queue's bound reaches a slow reader (as a blocked write
    /// does on the threaded driver) instead of its output growing.
    pub fn hold_queue(&mut self, hold: bool) {
        self.queue_held = hold;
    }

    fn drain_queue(&mut self, session: &mut Session) {
        if self.queue_held {
            return;
        }
        if let Err(error) = session.drain_queue() {
            self.fail(session, Failure::Error(error.into()));
        }
    }

    /// The handler's clean-up runs in the state's drop; a panic there must
    /// not take down more than this connection either.
    fn drop_connection(&mut self) {
        if let Some(connection) = self.connection.take() {
            let _ = catch_unwind(AssertUnwindSafe(move || drop(connection)));
        }
    }
}
