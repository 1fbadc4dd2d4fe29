//! `WebSocketBroker`: the rooms of every Apache child and server sharing one
//! Redis, through its publish/subscribe. One broker per child, started in
//! child_init: it is the [`Relay`] of `wscore::channels`.
//!
//! - **Publisher thread**: fed by a bounded queue (`try_send`), so a
//!   handler never waits for Redis; a full queue, or a message that cannot
//!   be published (Redis away), is dropped and counted.
//! - **Subscriber thread**: one connection, `PSUBSCRIBE rswebsocket:*`;
//!   each message is handed to `wscore::channels::receive_relayed`, except
//!   this child's own (its local members had it at publish time).
//! - **Envelope**: the Redis channel is `rswebsocket:<channel>`; the
//!   payload is `1`, the kind (`t` text, `b` binary), the length of the
//!   origin (one byte), the origin (the child's random id), the message.
//! - **Faults**: both threads reconnect with backoff (100 ms doubling to
//!   5 s). One error line when Redis becomes unreachable (at start-up too),
//!   one notice when both threads are connected again, with how many
//!   messages were dropped meanwhile: pub/sub is at-most-once.
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use wscore::channels::{self, Relay};
use wscore::protocol::Message;

use crate::apache::log::{Level, Target};
use crate::ws_log;

/// Every Redis channel of this module starts with it.
pub const PREFIX: &str = "rswebsocket:";
/// Messages waiting for the publisher thread; more are dropped.
const QUEUE: usize = 4096;
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How long connecting, and one command, may take.
const IO_TIMEOUT: Duration = Duration::from_secs(2);
const VERSION: u8 = 1;

/// Checks a `WebSocketBroker` URL (without connecting).
pub fn check_url(url: &str) -> Result<(), String> {
    let scheme = url.split_once("://").map(|(s, _)| s).unwrap_or("");
    if !matches!(scheme, "redis" | "rediss" | "unix") {
        return Err(format!(
            "'{url}' is not a broker URL: redis://[[user]:password@]host[:port][/db], \
             rediss://... (TLS) or unix:///path/to/redis.sock"
        ));
    }
    if scheme == "unix" && !url["unix://".len()..].starts_with('/') {
        return Err(format!(
            "'{url}': a unix socket needs an absolute path (unix:///path/to/redis.sock)"
        ));
    }
    redis::Client::open(url).map_err(|e| format!("'{url}' is not a usable broker URL: {e}"))?;
    Ok(())
}

/// The URL without its password (user info, or a `pass=` query), for log
/// lines.
fn shown(url: &str) -> String {
    let url = url.split_once('?').map_or(url, |(base, _)| base);
    match (url.split_once("://"), url.rfind('@')) {
        (Some((scheme, _)), Some(at)) => format!("{scheme}://***{}", &url[at..]),
        _ => url.to_string(),
    }
}

struct Broker {
    origin: String,
    queue: SyncSender<(String, Vec<u8>)>,
    health: &'static Health,
}

/// Whether each thread is connected, and what has been said about it.
struct Health {
    url: String,
    state: Mutex<HealthState>,
    /// Messages dropped since the child started.
    dropped: AtomicU64,
}

struct HealthState {
    publisher: bool,
    subscriber: bool,
    /// The error line was logged, the notice not yet.
    down: bool,
    /// `dropped` when the error line was logged.
    dropped_before: u64,
    /// Both threads have been connected at least once.
    ever_up: bool,
}

#[derive(Clone, Copy)]
enum Side {
    Publisher,
    Subscriber,
}

impl Health {
    fn mark(&self, side: Side, connected: bool, error: Option<&str>) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match side {
            Side::Publisher => state.publisher = connected,
            Side::Subscriber => state.subscriber = connected,
        }
        if !connected && !state.down {
            state.down = true;
            state.dropped_before = self.dropped.load(Ordering::Relaxed);
            ws_log!(
                Target::Process,
                Level::Err,
                "mod_rswebsocket: broker {} unreachable ({}): rooms are local to this child \
                 until it answers again; messages published meanwhile are dropped",
                shown(&self.url),
                error.unwrap_or("no answer")
            );
        } else if connected && !state.ever_up && state.publisher && state.subscriber {
            state.ever_up = true;
            if !state.down {
                ws_log!(
                    Target::Process,
                    Level::Info,
                    "mod_rswebsocket: broker {} connected (child {})",
                    shown(&self.url),
                    std::process::id()
                );
            }
        }
        if connected && state.down && state.publisher && state.subscriber {
            state.down = false;
            let dropped = self.dropped.load(Ordering::Relaxed) - state.dropped_before;
            ws_log!(
                Target::Process,
                Level::Notice,
                "mod_rswebsocket: broker {} is back; {dropped} message(s) published meanwhile \
                 were dropped",
                shown(&self.url)
            );
        }
    }

    fn drop_one(&self) {
        self.dropped.fetch_add(1, Ordering::Relaxed);
    }
}

impl Relay for Broker {
    fn relay(&self, channel: &str, message: &Message) {
        let (kind, payload): (u8, &[u8]) = match message {
            Message::Text(text) => (b't', text.as_bytes()),
            Message::Binary(bytes) => (b'b', bytes),
        };
        let mut envelope = Vec::with_capacity(3 + self.origin.len() + payload.len());
        envelope.extend_from_slice(&[VERSION, kind, self.origin.len() as u8]);
        envelope.extend_from_slice(self.origin.as_bytes());
        envelope.extend_from_slice(payload);
        match self
            .queue
            .try_send((format!("{PREFIX}{channel}"), envelope))
        {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => self.health.drop_one(),
        }
    }

    fn origin(&self) -> &str {
        &self.origin
    }
}

/// (origin, channel without the prefix, message) of an envelope.
fn open_envelope<'a>(channel: &'a str, bytes: &'a [u8]) -> Option<(&'a [u8], &'a str, Message)> {
    let channel = channel.strip_prefix(PREFIX)?;
    let [VERSION, kind, len, rest @ ..] = bytes else {
        return None;
    };
    let len = usize::from(*len);
    if rest.len() < len {
        return None;
    }
    let (origin, payload) = rest.split_at(len);
    let message = match kind {
        b't' => Message::Text(String::from_utf8(payload.to_vec()).ok()?),
        b'b' => Message::Binary(payload.to_vec()),
        _ => return None,
    };
    Some((origin, channel, message))
}

static STARTED: OnceLock<()> = OnceLock::new();

/// Starts this child's broker (child_init), once.
pub fn start(url: &str) {
    if STARTED.set(()).is_err() {
        return;
    }
    let Ok(client) = redis::Client::open(url) else {
        return; // checked at configuration time
    };
    let health: &'static Health = Box::leak(Box::new(Health {
        url: url.to_string(),
        state: Mutex::new(HealthState {
            publisher: false,
            subscriber: false,
            down: false,
            dropped_before: 0,
            ever_up: false,
        }),
        dropped: AtomicU64::new(0),
    }));
    let origin = random_origin();
    let (queue, receiver) = sync_channel(QUEUE);
    let publisher_client = client.clone();
    let spawned = crate::apache::thread::without_signals(|| {
        thread::Builder::new()
            .name("rswebsocket-pub".into())
            .spawn(move || publish_loop(publisher_client, receiver, health))
            .and_then(|_| {
                let origin = origin.clone();
                thread::Builder::new()
                    .name("rswebsocket-sub".into())
                    .spawn(move || subscribe_loop(client, origin, health))
            })
    });
    if let Err(e) = spawned {
        ws_log!(
            Target::Process,
            Level::Err,
            "mod_rswebsocket: cannot start the broker threads: {e}; rooms stay local to this child"
        );
        return;
    }
    let broker: &'static Broker = Box::leak(Box::new(Broker {
        origin,
        queue,
        health,
    }));
    channels::set_relay(broker);
}

/// 8 random hex digits: this child's id among all sharing the broker.
fn random_origin() -> String {
    use std::io::Read;
    let mut bytes = [0u8; 4];
    let random = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .is_ok();
    if !random {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos() as u32;
        bytes = (now ^ std::process::id().rotate_left(16)).to_be_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn next_backoff(backoff: Duration) -> Duration {
    (backoff * 2).min(MAX_BACKOFF)
}

fn connect(client: &redis::Client) -> redis::RedisResult<redis::Connection> {
    let connection = client.get_connection_with_timeout(IO_TIMEOUT)?;
    connection.set_write_timeout(Some(IO_TIMEOUT))?;
    connection.set_read_timeout(Some(IO_TIMEOUT))?;
    Ok(connection)
}

fn publish(
    connection: &mut redis::Connection,
    channel: &str,
    payload: &[u8],
) -> redis::RedisResult<()> {
    redis::cmd("PUBLISH")
        .arg(channel)
        .arg(payload)
        .query::<i64>(connection)
        .map(|_| ())
}

fn publish_loop(
    client: redis::Client,
    queue: Receiver<(String, Vec<u8>)>,
    health: &'static Health,
) {
    let mut connection: Option<redis::Connection> = None;
    let mut backoff = FIRST_BACKOFF;
    let mut next_attempt = Instant::now();
    loop {
        // Connect when due, messages or not, so recovery is noticed.
        if connection.is_none() && Instant::now() >= next_attempt {
            match connect(&client) {
                Ok(c) => {
                    connection = Some(c);
                    backoff = FIRST_BACKOFF;
                    health.mark(Side::Publisher, true, None);
                }
                Err(e) => {
                    health.mark(Side::Publisher, false, Some(&e.to_string()));
                    next_attempt = Instant::now() + backoff;
                    backoff = next_backoff(backoff);
                }
            }
        }
        let wait = match connection {
            Some(_) => Duration::from_secs(3600),
            None => next_attempt.saturating_duration_since(Instant::now()),
        };
        let (channel, payload) = match queue.recv_timeout(wait) {
            Ok(item) => item,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => return,
        };
        let Some(c) = connection.as_mut() else {
            health.drop_one();
            continue;
        };
        if publish(c, &channel, &payload).is_ok() {
            continue;
        }
        // The connection may only have gone stale: one fresh try at once.
        let retried = connect(&client).and_then(|mut fresh| {
            publish(&mut fresh, &channel, &payload)?;
            Ok(fresh)
        });
        match retried {
            Ok(fresh) => connection = Some(fresh),
            Err(e) => {
                connection = None;
                health.mark(Side::Publisher, false, Some(&e.to_string()));
                health.drop_one();
                next_attempt = Instant::now() + backoff;
                backoff = next_backoff(backoff);
            }
        }
    }
}

fn subscribe_loop(client: redis::Client, origin: String, health: &'static Health) {
    let mut backoff = FIRST_BACKOFF;
    loop {
        let error = match subscribe(&client, &origin, health, &mut backoff) {
            Ok(()) => "connection closed".to_string(),
            Err(e) => e.to_string(),
        };
        health.mark(Side::Subscriber, false, Some(&error));
        thread::sleep(backoff);
        backoff = next_backoff(backoff);
    }
}

/// One subscriber connection, for as long as it lasts.
fn subscribe(
    client: &redis::Client,
    origin: &str,
    health: &'static Health,
    backoff: &mut Duration,
) -> redis::RedisResult<()> {
    let mut connection = client.get_connection_with_timeout(IO_TIMEOUT)?;
    connection.set_write_timeout(Some(IO_TIMEOUT))?;
    let mut pubsub = connection.as_pubsub();
    pubsub.psubscribe(format!("{PREFIX}*"))?;
    // Quiet rooms are no fault: wait as long as it takes.
    pubsub.set_read_timeout(None)?;
    *backoff = FIRST_BACKOFF;
    health.mark(Side::Subscriber, true, None);
    loop {
        let message = pubsub.get_message()?;
        let Some((from, channel, message)) =
            open_envelope(message.get_channel_name(), message.get_payload_bytes())
        else {
            continue;
        };
        if from != origin.as_bytes() {
            channels::receive_relayed(channel, message);
        }
    }
}
