//! The WebSockets open in this Apache child: counted for
//! `WebSocketMaxConnections`, and woken when the child is told to stop.
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use wscore::sender::Sender;

/// Each open (or opening) WebSocket, with its Sender once it has one.
static OPEN: Mutex<Option<HashMap<u64, Option<Sender>>>> = Mutex::new(None);
static NEXT_ID: AtomicU64 = AtomicU64::new(0);

fn open() -> MutexGuard<'static, Option<HashMap<u64, Option<Sender>>>> {
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
    /// Attaches the connection's Sender once the WebSocket exists.
    pub fn set_sender(&self, sender: Sender) {
        if let Some(slot) = open().as_mut().and_then(|map| map.get_mut(&self.id)) {
            *slot = Some(sender);
        }
    }
}

/// Reserves a place for a connection about to open, unless `limit`
/// (0: none) are already open; Err carries how many are.
pub fn register(limit: u64) -> Result<Registration, usize> {
    let mut guard = open();
    let map = guard.get_or_insert_with(HashMap::new);
    if limit > 0 && map.len() as u64 >= limit {
        return Err(map.len());
    }
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    map.insert(id, None);
    Ok(Registration { id })
}

/// Interrupts every connection's wait so each sees the shutdown at once.
pub fn wake_all() {
    if let Some(map) = open().as_ref() {
        map.values().flatten().for_each(Sender::wake);
    }
}
