//! Fan-out mode: N members join a room quietly and only read; one sender
//! sends M messages, each once the previous one has reached every member
//! (or `round_limit` passed). Every member checks it gets every message
//! once and in order, and times each delivery from the send time the
//! message carries. Given several servers (one room spanning them, e.g.
//! through `WebSocketBroker`), the members alternate between them and the
//! sender sits on the first.
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use hdrhistogram::Histogram;
use tokio::io::AsyncWriteExt;
use tokio::sync::{Notify, Semaphore};
use tokio::time::{sleep, timeout_at, Instant};

use crate::codec::{encode_frame, OP_CLOSE, OP_PING, OP_PONG, OP_TEXT};
use crate::conn::{Conn, Connector, WriteHalf};
use crate::fanout_message::{message, monotonic_ns, parse, warm_up, Received};
use crate::procstat::CpuMeter;
use crate::tally::ErrorTally;

/// Handshakes in progress at once while members join.
const RAMP_CONCURRENCY: usize = 128;
/// How long the sender waits for the warm-up to reach everyone before
/// sending the next one.
const WARM_UP_EVERY: Duration = Duration::from_millis(200);

pub struct FanoutConfig {
    pub members: usize,
    pub messages: u64,
    pub size: usize,
    pub ramp_limit: Duration,
    pub round_limit: Duration,
    pub server_pids: Vec<u32>,
}

pub struct FanoutReport {
    pub joined: u64,
    pub failed_to_join: u64,
    pub sent: u64,
    pub deliveries: u64,
    pub lost: u64,
    pub errors: u64,
    pub first_error: Option<String>,
    pub ramp_seconds: f64,
    /// From the first send to the last delivery.
    pub seconds: f64,
    pub latency_us: [u64; 3],
    pub client_cpu: f64,
    pub server_cpu: f64,
}

/// What the members and the sender share (one thread).
struct Room {
    joined: Cell<u64>,
    /// Members whose connection ended or broke the rules.
    dropped: Cell<u64>,
    warm: Cell<u64>,
    /// Deliveries of each message so far.
    delivered: RefCell<Vec<u64>>,
    last_delivery: Cell<Option<Instant>>,
    progress: Notify,
    latency: RefCell<Histogram<u64>>,
    errors: ErrorTally,
}

impl Room {
    fn alive(&self) -> u64 {
        self.joined.get() - self.dropped.get()
    }
}

/// Member `i` joins through `connectors[i % connectors.len()]`; the sender
/// through the first. `connectors` must not be empty.
pub async fn run(connectors: &[Rc<Connector>], config: &FanoutConfig) -> FanoutReport {
    assert!(!connectors.is_empty(), "fan-out needs a server");
    let room = Rc::new(Room {
        joined: Cell::new(0),
        dropped: Cell::new(0),
        warm: Cell::new(0),
        delivered: RefCell::new(vec![0; config.messages as usize]),
        last_delivery: Cell::new(None),
        progress: Notify::new(),
        latency: RefCell::new(Histogram::new(3).expect("3 digits is valid")),
        errors: ErrorTally::default(),
    });
    // The sender joins first, so a server that runs out of descriptors
    // refuses the last members rather than the sender.
    let sender = connectors[0].connect().await;
    let failed_to_join = Rc::new(Cell::new(0u64));
    let ramp = Rc::new(Semaphore::new(RAMP_CONCURRENCY));
    let started = Instant::now();
    let local = tokio::task::LocalSet::new();
    for i in 0..config.members {
        let connector = connectors[i % connectors.len()].clone();
        let (room, ramp) = (room.clone(), ramp.clone());
        let failed_to_join = failed_to_join.clone();
        let messages = config.messages;
        local.spawn_local(async move {
            let permit = ramp.acquire().await.expect("never closed");
            let conn = connector.connect().await;
            drop(permit);
            match conn {
                Ok(conn) => {
                    room.joined.set(room.joined.get() + 1);
                    if let Err(e) = member(conn, &room, messages).await {
                        room.errors.record(e);
                        room.dropped.set(room.dropped.get() + 1);
                        room.progress.notify_one();
                    }
                }
                Err(e) => {
                    failed_to_join.set(failed_to_join.get() + 1);
                    room.errors.keep_first(e);
                }
            }
        });
    }
    let report = local
        .run_until(async {
            while room.joined.get() + failed_to_join.get() < config.members as u64
                && started.elapsed() < config.ramp_limit
            {
                sleep(Duration::from_millis(20)).await;
            }
            let ramp_seconds = started.elapsed().as_secs_f64();
            let meter = CpuMeter::start(&config.server_pids);
            let sent = match sender {
                Ok(conn) => send(conn, &room, config).await,
                Err(e) => Err(e),
            };
            let (sent, first_send) = match sent {
                Ok(sent) => sent,
                Err(e) => {
                    room.errors.record(format!("sender: {e}"));
                    (0, Instant::now())
                }
            };
            let (client_cpu, server_cpu) = meter.shares();
            let deliveries: u64 = room.delivered.borrow().iter().sum();
            let end = room.last_delivery.get().unwrap_or(first_send);
            let latency = room.latency.borrow();
            let first_error = room.errors.first();
            FanoutReport {
                joined: room.joined.get(),
                failed_to_join: failed_to_join.get(),
                sent,
                deliveries,
                lost: (room.joined.get() * sent).saturating_sub(deliveries),
                errors: room.errors.count(),
                first_error,
                ramp_seconds,
                seconds: end.saturating_duration_since(first_send).as_secs_f64(),
                latency_us: [
                    latency.value_at_quantile(0.5),
                    latency.value_at_quantile(0.99),
                    latency.max(),
                ],
                client_cpu,
                server_cpu,
            }
        })
        .await;
    drop(local); // closes every member
    report
}

/// The sender: warm-ups until every member has one (so all are in the
/// room), then the messages, each once the previous one reached everyone.
/// Returns how many were sent and when the first was.
async fn send(
    conn: Conn,
    room: &Rc<Room>,
    config: &FanoutConfig,
) -> Result<(u64, Instant), String> {
    let Conn {
        mut reader,
        mut writer,
        ..
    } = conn;
    // Its own messages come back too: read and drop them.
    tokio::task::spawn_local(async move { while reader.next().await.is_ok() {} });
    let warm_deadline = Instant::now() + config.round_limit;
    let mut n = 0;
    while room.warm.get() < room.alive() {
        if Instant::now() >= warm_deadline {
            return Err(format!(
                "only {} of {} members got a warm-up message",
                room.warm.get(),
                room.alive()
            ));
        }
        write_text(&mut writer, &warm_up(n)).await?;
        n += 1;
        let next = Instant::now() + WARM_UP_EVERY;
        while room.warm.get() < room.alive() && Instant::now() < next {
            let _ = timeout_at(next, room.progress.notified()).await;
        }
    }
    let first_send = Instant::now();
    for seq in 0..config.messages {
        write_text(&mut writer, &message(seq, monotonic_ns(), config.size)).await?;
        let deadline = Instant::now() + config.round_limit;
        while room.delivered.borrow()[seq as usize] < room.alive() {
            if timeout_at(deadline, room.progress.notified())
                .await
                .is_err()
            {
                room.errors.record(format!(
                    "message {seq}: {} of {} members had it after {:?}",
                    room.delivered.borrow()[seq as usize],
                    room.alive(),
                    config.round_limit
                ));
                return Ok((seq + 1, first_send));
            }
        }
    }
    Ok((config.messages, first_send))
}

async fn write_text(writer: &mut WriteHalf, text: &str) -> Result<(), String> {
    let mut frame = Vec::with_capacity(text.len() + 14);
    encode_frame(OP_TEXT, false, text.as_bytes(), mask(), &mut frame);
    writer
        .write_all(&frame)
        .await
        .map_err(|e| format!("writing: {e}"))
}

fn mask() -> [u8; 4] {
    (monotonic_ns() as u32).to_ne_bytes()
}

/// One member: reads until it has every message, checking each.
async fn member(conn: Conn, room: &Room, messages: u64) -> Result<(), String> {
    let Conn {
        mut reader,
        mut writer,
        ..
    } = conn;
    let mut warm = false;
    let mut expected = 0u64;
    while expected < messages {
        let frame = reader.next().await?;
        match frame.opcode {
            OP_PING => {
                let mut pong = Vec::new();
                encode_frame(OP_PONG, false, &frame.payload, mask(), &mut pong);
                writer.write_all(&pong).await.map_err(|e| e.to_string())?;
                continue;
            }
            OP_PONG => continue,
            OP_CLOSE => return Err("the server closed a member's WebSocket".into()),
            OP_TEXT => {}
            op => return Err(format!("a member got opcode {op}")),
        }
        let text = String::from_utf8(frame.payload).map_err(|_| "a text that is not UTF-8")?;
        let (seq, sent_ns) = match parse(&text)? {
            Received::WarmUp => {
                if !warm {
                    warm = true;
                    room.warm.set(room.warm.get() + 1);
                    room.progress.notify_one();
                }
                continue;
            }
            Received::Message { seq, sent_ns } => (seq, sent_ns),
        };
        if seq < expected || seq >= messages {
            room.errors.record(format!(
                "a member got message {seq} again or out of order (expected {expected})"
            ));
            continue;
        }
        if seq > expected {
            room.errors.record(format!(
                "a member missed messages {expected}..{seq} (got {seq})"
            ));
        }
        let micros = monotonic_ns().saturating_sub(sent_ns) / 1000;
        room.latency.borrow_mut().record(micros.max(1)).ok();
        room.delivered.borrow_mut()[seq as usize] += 1;
        room.last_delivery.set(Some(Instant::now()));
        room.progress.notify_one();
        expected = seq + 1;
    }
    // Stay in the room until the run ends, as a member would.
    std::future::pending::<()>().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fanout_peer;
    use crate::target::Target;
    use tokio::net::TcpListener;

    /// Two listeners sharing one broadcast room stand for two servers whose
    /// rooms a broker joins: members alternate between them, and every one
    /// gets every message.
    #[test]
    fn members_spread_over_several_urls_all_get_every_message() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let local = tokio::task::LocalSet::new();
        let (report, accepted) = local.block_on(&runtime, async {
            let room = Rc::new(fanout_peer::Room::default());
            let mut connectors = Vec::new();
            let mut accepted = Vec::new();
            for _ in 0..2 {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let url = format!("ws://{}/", listener.local_addr().unwrap());
                let target = Target::parse(&url).unwrap();
                connectors.push(Rc::new(Connector::new(target, false).unwrap()));
                let (room, count) = (room.clone(), Rc::new(Cell::new(0u64)));
                accepted.push(count.clone());
                tokio::task::spawn_local(async move {
                    while let Ok((tcp, _)) = listener.accept().await {
                        count.set(count.get() + 1);
                        let room = room.clone();
                        tokio::task::spawn_local(async move {
                            if let Ok(ws) = tokio_tungstenite::accept_async(tcp).await {
                                room.serve(ws).await;
                            }
                        });
                    }
                });
            }
            let config = FanoutConfig {
                members: 21,
                messages: 3,
                size: 64,
                ramp_limit: Duration::from_secs(10),
                round_limit: Duration::from_secs(10),
                server_pids: Vec::new(),
            };
            let report = run(&connectors, &config).await;
            (report, accepted.iter().map(|c| c.get()).collect::<Vec<_>>())
        });
        assert_eq!(report.first_error, None);
        assert_eq!((report.joined, report.failed_to_join), (21, 0));
        assert_eq!((report.sent, report.deliveries), (3, 63));
        assert_eq!((report.lost, report.errors), (0, 0));
        // 11 members and the sender on the first, 10 on the second.
        assert_eq!(accepted, vec![12, 10]);
    }
}
