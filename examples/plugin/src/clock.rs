//! `clock`: pushes `tick N at SECONDS` (N from 1, SECONDS since the Unix
//! epoch, to the millisecond) every `interval_ms` milliseconds (handler
//! file option, default 1000), from the connection's timer: no thread.
//! Messages from the client are ignored.
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rswebsocket_sdk::{Conn, Connection, EventHandler, Message, WsError};

const DEFAULT_INTERVAL_MS: u64 = 1000;

pub struct Clock;

struct Ticking {
    interval: Duration,
    ticks: u64,
}

fn parse_interval(value: &str) -> Result<u64, String> {
    match value.parse::<u64>() {
        Ok(ms) if ms > 0 => Ok(ms),
        _ => Err(format!(
            "interval_ms must be a whole number of milliseconds above 0, not '{value}'"
        )),
    }
}

impl EventHandler for Clock {
    fn check_option(&self, key: &str, value: &str) -> Result<(), String> {
        match key {
            "interval_ms" => parse_interval(value).map(|_| ()),
            _ => Err(format!("unknown option '{key}' (clock takes: interval_ms)")),
        }
    }

    fn open(&self, ws: &mut Conn<'_>) -> Box<dyn Connection> {
        let ms = ws
            .request()
            .option("interval_ms")
            .and_then(|v| parse_interval(v).ok())
            .unwrap_or(DEFAULT_INTERVAL_MS);
        let interval = Duration::from_millis(ms);
        // open cannot fail; a refused timer only means no ticks.
        if let Err(e) = ws.set_timer(interval) {
            rswebsocket_sdk::warn!("clock: no timer: {e}");
        }
        Box::new(Ticking { interval, ticks: 0 })
    }
}

impl Connection for Ticking {
    fn on_message(&mut self, _ws: &mut Conn<'_>, _message: Message) -> Result<(), WsError> {
        Ok(())
    }

    fn on_timer(&mut self, ws: &mut Conn<'_>) -> Result<(), WsError> {
        self.ticks += 1;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        ws.send_text(&format!(
            "tick {} at {}.{:03}",
            self.ticks,
            now.as_secs(),
            now.subsec_millis()
        ))?;
        ws.set_timer(self.interval)
    }
}
