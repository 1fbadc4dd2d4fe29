//! Hold mode: ramp up to N idle connections that each ping now and then,
//! keep them, and report how many stayed up and the server's memory.
use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::sync::Semaphore;
use tokio::time::{sleep, timeout, Instant};

use crate::codec::{encode_frame, OP_PING, OP_PONG};
use crate::conn::Connector;
use crate::procstat::{memory_bytes, process_tree};

/// Handshakes in progress at once while ramping.
const RAMP_CONCURRENCY: usize = 128;
const PONG_TIMEOUT: Duration = Duration::from_secs(10);

pub struct HoldConfig {
    pub connections: usize,
    pub ping_interval: Duration,
    pub hold: Duration,
    pub ramp_limit: Duration,
    pub server_pids: Vec<u32>,
}

pub struct HoldReport {
    pub attempted: usize,
    pub held: u64,
    pub failed: u64,
    pub first_error: Option<String>,
    pub ramp_seconds: f64,
    pub server_memory_before: u64,
    pub server_memory_held: u64,
}

#[derive(Default)]
struct Counts {
    open: Cell<u64>,
    failed: Cell<u64>,
    stop: Cell<bool>,
    first_error: std::cell::RefCell<Option<String>>,
}

impl Counts {
    fn fail(&self, error: String) {
        self.failed.set(self.failed.get() + 1);
        self.first_error.borrow_mut().get_or_insert(error);
    }
}

pub async fn run(connector: Rc<Connector>, config: &HoldConfig) -> HoldReport {
    let server_memory_before = memory_bytes(&process_tree(&config.server_pids));
    let counts = Rc::new(Counts::default());
    let ramp = Rc::new(Semaphore::new(RAMP_CONCURRENCY));
    let started = Instant::now();
    let local = tokio::task::LocalSet::new();
    for i in 0..config.connections {
        let (connector, counts, ramp) = (connector.clone(), counts.clone(), ramp.clone());
        let interval = config.ping_interval;
        local.spawn_local(async move {
            let permit = ramp.acquire().await.expect("never closed");
            let conn = connector.connect().await;
            drop(permit);
            let mut conn = match conn {
                Ok(conn) => conn,
                Err(e) => return counts.fail(e),
            };
            counts.open.set(counts.open.get() + 1);
            // Spread the pings over the interval.
            sleep(interval.mul_f64((i % 1000) as f64 / 1000.0)).await;
            let mut ping = Vec::new();
            while !counts.stop.get() {
                ping.clear();
                encode_frame(
                    OP_PING,
                    false,
                    &(i as u64).to_be_bytes(),
                    [1, 2, 3, 4],
                    &mut ping,
                );
                let answered = async {
                    conn.writer
                        .write_all(&ping)
                        .await
                        .map_err(|e| e.to_string())?;
                    loop {
                        let frame = conn.reader.next().await?;
                        if frame.opcode == OP_PONG {
                            return Ok::<_, String>(());
                        }
                    }
                };
                match timeout(PONG_TIMEOUT, answered).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => return lost(&counts, e),
                    Err(_) => return lost(&counts, "no pong".into()),
                }
                sleep(interval).await;
            }
            let _ = conn.writer.shutdown().await;
        });
    }
    let report = local
        .run_until(async {
            // Ramp: every handshake done (or the ramp time limit passed).
            while counts.open.get() + counts.failed.get() < config.connections as u64
                && started.elapsed() < config.ramp_limit
            {
                sleep(Duration::from_millis(20)).await;
            }
            let ramp_seconds = started.elapsed().as_secs_f64();
            sleep(config.hold).await;
            let server_memory_held = memory_bytes(&process_tree(&config.server_pids));
            let first_error = counts.first_error.borrow().clone();
            HoldReport {
                attempted: config.connections,
                held: counts.open.get(),
                failed: counts.failed.get(),
                first_error,
                ramp_seconds,
                server_memory_before,
                server_memory_held,
            }
        })
        .await;
    counts.stop.set(true);
    drop(local); // closes every connection
    report
}

fn lost(counts: &Counts, error: String) {
    counts.open.set(counts.open.get() - 1);
    counts.fail(format!("a held connection was lost: {error}"));
}
