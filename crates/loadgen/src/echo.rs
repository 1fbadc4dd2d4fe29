//! Echo mode: N connections each keep K messages in flight for a fixed time;
//! every echo is checked (sequence number and body) and timed.
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use std::time::Duration;

use hdrhistogram::Histogram;
use tokio::io::AsyncWriteExt;
use tokio::sync::{Notify, Semaphore};
use tokio::time::{timeout_at, Instant};

use crate::codec::{encode_frame, Deflater, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG, OP_TEXT};
use crate::conn::{Conn, Connector};
use crate::payload::Payloads;
use crate::procstat::CpuMeter;
use crate::tally::ErrorTally;

/// After the run, an echo still missing this long later is an error.
const DRAIN_LIMIT: Duration = Duration::from_secs(5);

pub struct EchoConfig {
    pub connections: usize,
    pub size: usize,
    pub in_flight: usize,
    pub duration: Duration,
    pub binary: bool,
    pub server_pids: Vec<u32>,
}

pub struct EchoReport {
    pub messages: u64,
    pub seconds: f64,
    pub bytes_per_message: usize,
    pub latency_us: [u64; 3],
    pub errors: u64,
    pub first_error: Option<String>,
    pub deflate: bool,
    pub client_cpu: f64,
    pub server_cpu: f64,
}

#[derive(Default)]
struct Tally {
    messages: Cell<u64>,
    errors: ErrorTally,
}

pub async fn run(connector: &Connector, config: &EchoConfig) -> Result<EchoReport, String> {
    let mut conns = Vec::with_capacity(config.connections);
    for _ in 0..config.connections {
        conns.push(connector.connect().await?);
    }
    let deflate = conns.iter().all(|c| c.deflate);
    let payloads = Rc::new(Payloads::new(config.size));
    let tally = Rc::new(Tally::default());
    let latency = Rc::new(RefCell::new(
        Histogram::<u64>::new(3).expect("3 digits is valid"),
    ));
    let meter = CpuMeter::start(&config.server_pids);
    let started = Instant::now();
    let deadline = started + config.duration;
    let local = tokio::task::LocalSet::new();
    for (i, conn) in conns.into_iter().enumerate() {
        let job = Job {
            payloads: payloads.clone(),
            tally: tally.clone(),
            latency: latency.clone(),
            deadline,
            in_flight: config.in_flight,
            opcode: if config.binary { OP_BINARY } else { OP_TEXT },
            mask_seed: 0x9e37_79b9_7f4a_7c15 ^ (i as u64 + 1),
        };
        local.spawn_local(async move {
            let tally = job.tally.clone();
            if let Err(e) = job.run(conn).await {
                tally.errors.record(e);
            }
        });
    }
    local.await;
    let seconds = config.duration.as_secs_f64();
    let (client_cpu, server_cpu) = meter.shares();
    let latency = latency.borrow();
    let first_error = tally.errors.first();
    Ok(EchoReport {
        messages: tally.messages.get(),
        seconds,
        bytes_per_message: payloads.size(),
        latency_us: [
            latency.value_at_quantile(0.5),
            latency.value_at_quantile(0.99),
            latency.max(),
        ],
        errors: tally.errors.count(),
        first_error,
        deflate,
        client_cpu,
        server_cpu,
    })
}

struct Job {
    payloads: Rc<Payloads>,
    tally: Rc<Tally>,
    latency: Rc<RefCell<Histogram<u64>>>,
    deadline: Instant,
    in_flight: usize,
    opcode: u8,
    mask_seed: u64,
}

impl Job {
    async fn run(self, conn: Conn) -> Result<(), String> {
        let Conn {
            mut reader,
            mut writer,
            deflate,
        } = conn;
        let sent_at: RefCell<VecDeque<Instant>> = RefCell::new(VecDeque::new());
        let credits = Semaphore::new(self.in_flight);
        let writer_stopped = Notify::new();
        let mut deflater = deflate.then(Deflater::default);
        let mut mask_state = self.mask_seed;

        let write = async {
            let mut seq = 0u64;
            let mut frames = Vec::new();
            let mut message = Vec::new();
            loop {
                credits.acquire().await.expect("never closed").forget();
                let mut batch = 1;
                while let Ok(permit) = credits.try_acquire() {
                    permit.forget();
                    batch += 1;
                }
                if Instant::now() >= self.deadline {
                    writer_stopped.notify_one();
                    return Ok::<_, String>(writer);
                }
                frames.clear();
                for _ in 0..batch {
                    message.clear();
                    self.payloads.write(seq, &mut message);
                    mask_state ^= mask_state << 13;
                    mask_state ^= mask_state >> 7;
                    mask_state ^= mask_state << 17;
                    let mask = (mask_state as u32).to_ne_bytes();
                    match deflater.as_mut() {
                        Some(d) => encode_frame(
                            self.opcode,
                            true,
                            &d.compress(&message),
                            mask,
                            &mut frames,
                        ),
                        None => encode_frame(self.opcode, false, &message, mask, &mut frames),
                    }
                    sent_at.borrow_mut().push_back(Instant::now());
                    seq += 1;
                }
                writer
                    .write_all(&frames)
                    .await
                    .map_err(|e| format!("writing: {e}"))?;
            }
        };

        let read = async {
            let mut expected = 0u64;
            loop {
                let idle = sent_at.borrow().is_empty();
                if idle && Instant::now() >= self.deadline {
                    return Ok::<_, String>(());
                }
                // A frame read is not cancel-safe, so it is only abandoned
                // when no echo is owed (the writer has stopped); otherwise a
                // missing echo is waited for a bounded time.
                let frame = if idle {
                    tokio::select! {
                        frame = reader.next() => frame?,
                        () = writer_stopped.notified() => continue,
                    }
                } else {
                    match timeout_at(
                        self.deadline.max(Instant::now()) + DRAIN_LIMIT,
                        reader.next(),
                    )
                    .await
                    {
                        Ok(frame) => frame?,
                        Err(_) => {
                            return Err(format!(
                                "message {expected}: no echo within {DRAIN_LIMIT:?}"
                            ))
                        }
                    }
                };
                match frame.opcode {
                    OP_PING | OP_PONG => continue,
                    OP_CLOSE => return Err("the server closed the WebSocket".into()),
                    op if op != self.opcode => {
                        return Err(format!("message {expected}: opcode {op} came back"))
                    }
                    _ => {}
                }
                let sent = sent_at
                    .borrow_mut()
                    .pop_front()
                    .ok_or_else(|| format!("an echo nobody sent (after message {expected})"))?;
                self.payloads.check(expected, &frame.payload)?;
                let received = Instant::now();
                if received <= self.deadline {
                    self.tally.messages.set(self.tally.messages.get() + 1);
                    let micros = received.duration_since(sent).as_micros() as u64;
                    self.latency.borrow_mut().record(micros.max(1)).ok();
                }
                expected += 1;
                credits.add_permits(1);
            }
        };

        let (writer, ()) = tokio::try_join!(write, read)?;
        let mut writer = writer;
        let mut close = Vec::new();
        encode_frame(
            OP_CLOSE,
            false,
            &1000u16.to_be_bytes(),
            [7, 7, 7, 7],
            &mut close,
        );
        let _ = writer.write_all(&close).await;
        let _ = writer.shutdown().await;
        Ok(())
    }
}
