//! The WebSockets open in this Apache child: counted for
//! `WebSocketMaxConnections`, woken when the child is told to stop, and
//! sent a last close frame when it is stopped at once.
use std::collections::HashMap;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};

use wscore::close::codes;
use wscore::frame::encode_server_close;
use wscore::sender::Sender;

use crate::apache::socket::send_and_shut;

#[derive(Default)]
struct Entry {
    sender: Option<Sender>,
    /// A duplicate of a plain (non-TLS) connection's socket: Apache closes
    /// its own descriptor on an ungraceful stop before any module hook
    /// runs, and this one still reaches the client.
    stop_fd: Option<OwnedFd>,
}

/// Each open (or opening) WebSocket.
static OPEN: Mutex<Option<HashMap<u64, Entry>>> = Mutex::new(None);
static NEXT_ID: AtomicU64 = AtomicU64::new(0);
/// The close frame an ungraceful stop sends, made before it is needed
/// (the stop may run in a signal handler, where nothing may allocate).
static STOP_FRAME: OnceLock<Vec<u8>> = OnceLock::new();

fn open() -> MutexGuard<'static, Option<HashMap<u64, Entry>>> {
    OPEN.lock().unwrap_or_else(|e| e.into_inner())
}

/// Removes its connection from the registry when dropped.
pub struct Registration {
    id: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Some(map) = open().as_mut() {
            map.remove(&self.id);
        }
    }
}

impl Registration {
    /// Attaches the connection's Sender (and, for a plain connection, a
    /// duplicate of its socket) once the WebSocket exists.
    pub fn attach(&self, sender: Sender, stop_fd: Option<OwnedFd>) {
        if let Some(entry) = open().as_mut().and_then(|map| map.get_mut(&self.id)) {
            entry.sender = Some(sender);
            entry.stop_fd = stop_fd;
        }
    }
}

/// Reserves a place for a connection about to open, unless `limit`
/// (0: none) are already open; Err carries how many are.
pub fn register(limit: u64) -> Result<Registration, usize> {
    STOP_FRAME.get_or_init(|| encode_server_close(codes::GOING_AWAY, "server stopping"));
    let mut guard = open();
    let map = guard.get_or_insert_with(HashMap::new);
    if limit > 0 && map.len() as u64 >= limit {
        return Err(map.len());
    }
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    map.insert(id, Entry::default());
    Ok(Registration { id })
}

/// Interrupts every connection's wait so each sees the shutdown at once.
pub fn wake_all() {
    if let Some(map) = open().as_ref() {
        map.values()
            .filter_map(|e| e.sender.as_ref())
            .for_each(Sender::wake);
    }
}

/// The child is stopped at once: Apache has closed (or is about to drop)
/// every connection, so write the close frame straight to the plain ones.
/// Never blocks and never allocates: it may run in a signal handler.
pub fn close_plain_connections_now() {
    let (Ok(guard), Some(frame)) = (OPEN.try_lock(), STOP_FRAME.get()) else {
        return; // held by the very thread this handler interrupted
    };
    if let Some(map) = guard.as_ref() {
        for fd in map.values().filter_map(|e| e.stop_fd.as_ref()) {
            send_and_shut(fd.as_fd(), frame);
        }
    }
}
