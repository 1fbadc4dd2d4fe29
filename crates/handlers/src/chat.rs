//! `chat`: every message from one connection goes to every connection on
//! the same resource (path, query ignored) in this Apache child, the sender
//! included; joins and leaves are announced. Text is relayed as `#ID: text`,
//! binary as it came; announcements are `#ID joined` and `#ID left`.
//!
//! Messages reach other connections through their `Sender`, so one
//! connection never writes to another's socket and a slow reader
//! never blocks the others. Policy for a reader that falls behind: once its
//! queue holds `QUEUE_CAPACITY` messages, it is taken out of the room, the
//! room hears `#ID left (too slow)`, and its connection is closed with 1008
//! `too slow` after what was already queued for it.
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use wscore::close::codes;
use wscore::error::WsError;
use wscore::event::{Conn, Connection, EventHandler};
use wscore::protocol::Message;
use wscore::sender::{QueueError, Sender};

use crate::query::path_of;

/// The close reason a reader that fell behind gets (code 1008).
pub const TOO_SLOW: &str = "too slow";

struct Member {
    id: u64,
    sender: Sender,
}

/// Room (resource path) → its members, for this process.
static ROOMS: Mutex<Option<HashMap<String, Vec<Member>>>> = Mutex::new(None);
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn rooms() -> MutexGuard<'static, Option<HashMap<String, Vec<Member>>>> {
    // Nothing panics while holding the lock; if it did, the map is still whole.
    ROOMS.lock().unwrap_or_else(|e| e.into_inner())
}

pub struct Chat;

impl EventHandler for Chat {
    fn open(&self, ws: &mut Conn<'_>) -> Box<dyn Connection> {
        let membership = Membership::join(path_of(&ws.request().resource), ws.sender());
        let id = membership.id;
        broadcast(&membership.room, Message::Text(format!("#{id} joined")));
        Box::new(membership)
    }
}

/// One connection's place in a room; leaving (and announcing it) happens
/// on drop, however the connection ends.
struct Membership {
    room: String,
    id: u64,
}

impl Connection for Membership {
    fn on_message(&mut self, _ws: &mut Conn<'_>, message: Message) -> Result<(), WsError> {
        let relayed = match message {
            Message::Text(text) => Message::Text(format!("#{}: {text}", self.id)),
            binary => binary,
        };
        broadcast(&self.room, relayed);
        Ok(())
    }
}

impl Membership {
    fn join(room: &str, sender: Sender) -> Membership {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        rooms()
            .get_or_insert_with(HashMap::new)
            .entry(room.to_string())
            .or_default()
            .push(Member { id, sender });
        Membership {
            room: room.to_string(),
            id,
        }
    }
}

impl Drop for Membership {
    fn drop(&mut self) {
        if leave(&self.room, self.id).is_some() {
            broadcast(&self.room, Message::Text(format!("#{} left", self.id)));
        }
    }
}

/// Takes member `id` out of `room`; its sender if it was still there.
fn leave(room: &str, id: u64) -> Option<Sender> {
    let mut guard = rooms();
    let map = guard.as_mut()?;
    let members = map.get_mut(room)?;
    let index = members.iter().position(|m| m.id == id)?;
    let member = members.swap_remove(index);
    if members.is_empty() {
        map.remove(room);
    }
    Some(member.sender)
}

/// Queues `message` for every member of `room`; members whose queue is full
/// are dropped from the room and closed (see the module's policy).
fn broadcast(room: &str, message: Message) {
    let mut too_slow = Vec::new();
    {
        let guard = rooms();
        let Some(members) = guard.as_ref().and_then(|map| map.get(room)) else {
            return;
        };
        for member in members {
            match member.sender.send(message.clone()) {
                Ok(()) | Err(QueueError::Closed) => {}
                Err(QueueError::Full) => too_slow.push(member.id),
            }
        }
    }
    for id in too_slow {
        if let Some(sender) = leave(room, id) {
            let _ = sender.close(codes::POLICY, TOO_SLOW);
            broadcast(room, Message::Text(format!("#{id} left ({TOO_SLOW})")));
        }
    }
}
