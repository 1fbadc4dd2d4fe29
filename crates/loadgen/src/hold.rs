//! Hold mode: ramp up to N connections, keep them idle (or pinging now and
//! then), measure the server's memory, then check that each is still up.
//!
//! Several processes can share one measurement (one process may hold only
//! as many connections as it may open files): each prints a `RAMPED` line
//! when its ramp is over and holds until a release file appears, while the
//! caller measures the server.
use std::cell::Cell;
use std::io::Write;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration;

use tokio::sync::{watch, Semaphore};
use tokio::time::{sleep, timeout, Instant};

use crate::held::Opener;
use crate::procstat::{memory_bytes, process_tree};
use crate::tally::ErrorTally;

/// A ping or check must be answered within this.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);
/// The final check of every connection ends within this.
const CHECK_LIMIT: Duration = Duration::from_secs(60);

pub struct HoldConfig {
    pub connections: usize,
    /// None: no pings while holding, only the final check.
    pub ping_interval: Option<Duration>,
    /// How long to hold after the ramp (the most, with a release file).
    pub hold: Duration,
    pub ramp_limit: Duration,
    /// Handshakes in progress at once while ramping.
    pub ramp_concurrency: usize,
    /// Hold until this file exists (or `hold` has passed).
    pub release_file: Option<PathBuf>,
    pub server_pids: Vec<u32>,
}

pub struct HoldReport {
    pub attempted: usize,
    /// Open at the end of the hold, when the memory was measured.
    pub held: u64,
    /// Still up at the final check.
    pub answered: u64,
    pub failed: u64,
    pub first_error: Option<String>,
    pub ramp_seconds: f64,
    pub server_memory_before: u64,
    pub server_memory_held: u64,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Hold,
    Check,
    Stop,
}

#[derive(Default)]
struct Counts {
    open: Cell<u64>,
    answered: Cell<u64>,
    checked: Cell<u64>,
    /// Connections that failed (to open, or while held).
    failed: ErrorTally,
}

impl Counts {
    fn fail(&self, error: String) {
        self.failed.record(error);
    }

    fn lost(&self, error: String) {
        self.open.set(self.open.get() - 1);
        self.fail(format!("a held connection was lost: {error}"));
    }
}

pub async fn run(opener: Rc<Opener>, config: &HoldConfig) -> HoldReport {
    let server_memory_before = memory_bytes(&process_tree(&config.server_pids));
    let counts = Rc::new(Counts::default());
    let ramp = Rc::new(Semaphore::new(config.ramp_concurrency));
    let checks = Rc::new(Semaphore::new(config.ramp_concurrency));
    let (phase_tx, phase_rx) = watch::channel(Phase::Hold);
    let started = Instant::now();
    let local = tokio::task::LocalSet::new();
    for i in 0..config.connections {
        let (opener, counts) = (opener.clone(), counts.clone());
        let (ramp, checks) = (ramp.clone(), checks.clone());
        let mut phase = phase_rx.clone();
        let interval = config.ping_interval;
        local.spawn_local(async move {
            let permit = ramp.acquire().await.expect("never closed");
            if *phase.borrow() != Phase::Hold {
                return; // too late: the connections are being checked
            }
            let opened = opener.open(i).await;
            drop(permit);
            let mut conn = match opened {
                Ok(conn) => conn,
                Err(e) => return counts.fail(e),
            };
            counts.open.set(counts.open.get() + 1);
            // Pings (if any) spread over the interval.
            let mut next_ping = interval.map(|d| d.mul_f64((i % 1000) as f64 / 1000.0));
            while *phase.borrow() == Phase::Hold {
                let Some(wait) = next_ping else {
                    let _ = phase.changed().await;
                    continue;
                };
                tokio::select! {
                    _ = phase.changed() => continue,
                    _ = sleep(wait) => {}
                }
                match timeout(ANSWER_TIMEOUT, conn.check(i)).await {
                    Ok(Ok(())) => next_ping = interval,
                    Ok(Err(e)) => return counts.lost(e),
                    Err(_) => return counts.lost("no answer to a ping".into()),
                }
            }
            if *phase.borrow() == Phase::Check {
                // As many checks at once as handshakes while ramping: each
                // is timed alone, not behind every other connection's.
                let permit = checks.acquire().await.expect("never closed");
                let checked = timeout(ANSWER_TIMEOUT, conn.check(i)).await;
                drop(permit);
                match checked {
                    Ok(Ok(())) => counts.answered.set(counts.answered.get() + 1),
                    Ok(Err(e)) => counts.lost(e),
                    Err(_) => counts.lost("no answer at the final check".into()),
                }
                counts.checked.set(counts.checked.get() + 1);
                let _ = phase.wait_for(|p| *p == Phase::Stop).await;
            }
            conn.shutdown().await;
        });
    }
    let report = local
        .run_until(async {
            while counts.open.get() + counts.failed.count() < config.connections as u64
                && started.elapsed() < config.ramp_limit
            {
                sleep(Duration::from_millis(20)).await;
            }
            let ramp_seconds = started.elapsed().as_secs_f64();
            println!(
                "RAMPED open={} failed={} seconds={ramp_seconds:.1}",
                counts.open.get(),
                counts.failed.count()
            );
            let _ = std::io::stdout().flush();
            let hold_end = Instant::now() + config.hold;
            while Instant::now() < hold_end
                && !config.release_file.as_ref().is_some_and(|f| f.exists())
            {
                sleep(Duration::from_millis(100)).await;
            }
            let server_memory_held = memory_bytes(&process_tree(&config.server_pids));
            let held = counts.open.get();
            // Every connection open now is checked once (bounded by its
            // answer timeout); the ones still in their handshake are not.
            let to_check = held;
            phase_tx.send_replace(Phase::Check);
            let check_end = Instant::now() + CHECK_LIMIT;
            while counts.checked.get() < to_check && Instant::now() < check_end {
                sleep(Duration::from_millis(20)).await;
            }
            // Several processes share a server: one closing its connections
            // (work for the server's workers) must not disturb another one
            // still checking, so each waits a little before closing.
            sleep(Duration::from_secs(2)).await;
            phase_tx.send_replace(Phase::Stop);
            let first_error = counts.failed.first();
            HoldReport {
                attempted: config.connections,
                held,
                answered: counts.answered.get(),
                failed: counts.failed.count(),
                first_error,
                ramp_seconds,
                server_memory_before,
                server_memory_held,
            }
        })
        .await;
    drop(local); // closes every connection
    report
}
