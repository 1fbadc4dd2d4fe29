//! The session's own clock: idle timeout, keep-alive pings, and a shorter
//! limit for a client stalled in the middle of a frame. Replaces the
//! server's request timeouts, which must not cut a healthy idle WebSocket.
//!
//! Where the transport itself drops a connection that has been silent too
//! long (the event MPM closes a parked connection at `Timeout`, and only
//! client bytes re-arm it), the clock also asks for a *transport ping* at
//! half that limit: the peer's pong re-arms the transport. Those pongs are
//! not activity, so the idle timeout means the same under every driver.
use std::time::{Duration, Instant};

/// The payload of a transport ping, so its pong can be told apart.
pub const TRANSPORT_PING: &[u8] = b"rswebsocket keep-alive";

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timeouts {
    /// Close (1001) after this long with no input at all.
    pub idle: Option<Duration>,
    /// Ping after this long without input or ping; a pong counts as input,
    /// so a peer that never answers meets the idle timeout.
    pub ping_interval: Option<Duration>,
    /// Close after this long inside a half-received frame.
    pub stalled_frame: Option<Duration>,
    /// The transport drops the connection after this long without input:
    /// ping at half of it (see the module's comment).
    pub transport_silence: Option<Duration>,
}

/// What the session should do before waiting for input again.
#[derive(Debug, PartialEq, Eq)]
pub enum Due {
    /// Wait, at most this long (None: as long as the transport allows).
    Wait(Option<Duration>),
    /// A keep-alive ping (`ping_interval`); its pong is activity.
    Ping,
    /// A ping only to keep the transport's silence limit away; its pong
    /// (payload [`TRANSPORT_PING`]) is not activity.
    TransportPing,
    /// A limit has passed; the reason goes in the close frame.
    Expired(&'static str),
}

#[derive(Debug)]
pub struct Clock {
    /// Any bytes from the peer: what the transport's limit counts from.
    last_input: Instant,
    /// Input other than pongs to transport pings: what `idle` counts from.
    last_activity: Instant,
    /// Input not yet decoded; activity until shown to be only such pongs.
    unsettled: Option<Instant>,
    last_ping: Instant,
}

impl Clock {
    pub fn new(now: Instant) -> Clock {
        Clock {
            last_input: now,
            last_activity: now,
            unsettled: None,
            last_ping: now,
        }
    }

    /// Bytes arrived (re-arming the transport).
    pub fn input(&mut self, now: Instant) {
        self.last_input = now;
        self.unsettled = Some(now);
    }

    /// The input decoded so far held more than pongs to transport pings.
    pub fn activity(&mut self) {
        if let Some(at) = self.unsettled.take() {
            self.last_activity = self.last_activity.max(at);
        }
    }

    /// Every byte of input is decoded, and whatever [`Clock::activity`]
    /// did not claim was pongs to transport pings.
    pub fn settled(&mut self) {
        self.unsettled = None;
    }

    pub fn pinged(&mut self, now: Instant) {
        self.last_ping = now;
    }

    pub fn due(&self, timeouts: &Timeouts, now: Instant, mid_frame: bool) -> Due {
        let active = self
            .unsettled
            .map_or(self.last_activity, |at| at.max(self.last_activity));
        let idle_end = timeouts.idle.map(|d| active + d);
        let stall_end = timeouts
            .stalled_frame
            .filter(|_| mid_frame)
            .map(|d| self.last_input + d);
        if idle_end.is_some_and(|end| now >= end) {
            return Due::Expired("idle timeout");
        }
        if stall_end.is_some_and(|end| now >= end) {
            return Due::Expired("frame not completed in time");
        }
        let ping_at = timeouts
            .ping_interval
            .map(|d| self.last_input.max(self.last_ping) + d);
        if ping_at.is_some_and(|at| now >= at) {
            return Due::Ping;
        }
        let transport_ping_at = timeouts
            .transport_silence
            .map(|d| self.last_input.max(self.last_ping) + d / 2);
        if transport_ping_at.is_some_and(|at| now >= at) {
            return Due::TransportPing;
        }
        let next = [idle_end, stall_end, ping_at, transport_ping_at]
            .into_iter()
            .flatten()
            .min();
        Due::Wait(next.map(|at| at - now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn no_timeouts_wait_forever() {
        let t0 = Instant::now();
        assert_eq!(
            Clock::new(t0).due(&Timeouts::default(), t0 + 1000 * S, true),
            Due::Wait(None)
        );
    }

    #[test]
    fn idle_timeout_counts_from_the_last_input() {
        let t0 = Instant::now();
        let timeouts = Timeouts {
            idle: Some(10 * S),
            ..Default::default()
        };
        let mut clock = Clock::new(t0);
        assert_eq!(
            clock.due(&timeouts, t0 + 4 * S, false),
            Due::Wait(Some(6 * S))
        );
        clock.input(t0 + 5 * S);
        assert_eq!(
            clock.due(&timeouts, t0 + 12 * S, false),
            Due::Wait(Some(3 * S))
        );
        assert_eq!(
            clock.due(&timeouts, t0 + 15 * S, false),
            Due::Expired("idle timeout")
        );
    }

    #[test]
    fn pings_follow_silence_and_an_unanswered_ping_meets_the_idle_limit() {
        let t0 = Instant::now();
        let timeouts = Timeouts {
            idle: Some(10 * S),
            ping_interval: Some(3 * S),
            ..Default::default()
        };
        let mut clock = Clock::new(t0);
        assert_eq!(clock.due(&timeouts, t0 + S, false), Due::Wait(Some(2 * S)));
        assert_eq!(clock.due(&timeouts, t0 + 3 * S, false), Due::Ping);
        clock.pinged(t0 + 3 * S);
        assert_eq!(
            clock.due(&timeouts, t0 + 4 * S, false),
            Due::Wait(Some(2 * S))
        );
        clock.pinged(t0 + 9 * S);
        assert_eq!(
            clock.due(&timeouts, t0 + 10 * S, false),
            Due::Expired("idle timeout")
        );
    }

    #[test]
    fn transport_pings_come_at_half_the_silence_limit_and_their_pongs_are_not_activity() {
        let t0 = Instant::now();
        let timeouts = Timeouts {
            idle: Some(100 * S),
            transport_silence: Some(60 * S),
            ..Default::default()
        };
        let mut clock = Clock::new(t0);
        assert_eq!(
            clock.due(&timeouts, t0 + 10 * S, false),
            Due::Wait(Some(20 * S))
        );
        assert_eq!(clock.due(&timeouts, t0 + 30 * S, false), Due::TransportPing);
        clock.pinged(t0 + 30 * S);
        // The pong re-arms the transport: the next ping is 30 s after it...
        clock.input(t0 + 31 * S);
        clock.settled();
        assert_eq!(
            clock.due(&timeouts, t0 + 32 * S, false),
            Due::Wait(Some(29 * S))
        );
        // ...but the idle limit still counts from t0.
        clock.input(t0 + 91 * S);
        clock.settled();
        assert_eq!(
            clock.due(&timeouts, t0 + 100 * S, false),
            Due::Expired("idle timeout")
        );
    }

    #[test]
    fn undecoded_input_counts_as_activity_until_settled() {
        let t0 = Instant::now();
        let timeouts = Timeouts {
            idle: Some(10 * S),
            ..Default::default()
        };
        let mut clock = Clock::new(t0);
        clock.input(t0 + 8 * S);
        assert_eq!(
            clock.due(&timeouts, t0 + 12 * S, false),
            Due::Wait(Some(6 * S))
        );
        clock.activity();
        clock.settled();
        assert_eq!(
            clock.due(&timeouts, t0 + 12 * S, false),
            Due::Wait(Some(6 * S))
        );
    }

    #[test]
    fn a_stalled_frame_has_its_own_shorter_limit() {
        let t0 = Instant::now();
        let timeouts = Timeouts {
            idle: Some(300 * S),
            stalled_frame: Some(20 * S),
            ..Default::default()
        };
        let clock = Clock::new(t0);
        assert_eq!(
            clock.due(&timeouts, t0 + 25 * S, false),
            Due::Wait(Some(275 * S))
        );
        assert_eq!(
            clock.due(&timeouts, t0 + 25 * S, true),
            Due::Expired("frame not completed in time")
        );
    }
}
