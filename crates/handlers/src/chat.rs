//! `chat`: every message from one connection goes to every connection on
//! the same resource (path, query ignored) in this Apache child, the sender
//! included; joins and leaves are announced. Text is relayed as `#ID: text`,
//! binary as it came; announcements are `#ID joined` and `#ID left`.
//!
//! A member that joins with the query flag `quiet` (`/chat?quiet`) gets
//! every message but its own join and leave are not announced: a room of
//! N listeners then costs N deliveries per message, not N² announcements to
//! fill it (the fan-out benchmark joins 10,000 that way).
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

use crate::query::{has_query_flag, path_of};

/// The close reason a reader that fell behind gets (code 1008).
pub const TOO_SLOW: &str = "too slow";
/// The query flag of a member whose join and leave are not announced.
pub const QUIET: &str = "quiet";

struct Member {
    id: u64,
    quiet: bool,
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
        Box::new(Membership::join(&ws.request().resource, ws.sender()))
    }
}

/// One connection's place in a room; leaving (and announcing it unless
/// quiet) happens on drop, however the connection ends.
struct Membership {
    room: String,
    id: u64,
    quiet: bool,
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
    /// Enters the room of `resource` (its path) and announces it, unless
    /// the query says `quiet`.
    fn join(resource: &str, sender: Sender) -> Membership {
        let room = path_of(resource).to_string();
        let quiet = has_query_flag(resource, QUIET);
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        rooms()
            .get_or_insert_with(HashMap::new)
            .entry(room.clone())
            .or_default()
            .push(Member { id, quiet, sender });
        if !quiet {
            broadcast(&room, Message::Text(format!("#{id} joined")));
        }
        Membership { room, id, quiet }
    }
}

impl Drop for Membership {
    fn drop(&mut self) {
        if leave(&self.room, self.id).is_some() && !self.quiet {
            broadcast(&self.room, Message::Text(format!("#{} left", self.id)));
        }
    }
}

/// Takes member `id` out of `room`; the member if it was still there.
fn leave(room: &str, id: u64) -> Option<Member> {
    let mut guard = rooms();
    let map = guard.as_mut()?;
    let members = map.get_mut(room)?;
    let index = members.iter().position(|m| m.id == id)?;
    let member = members.swap_remove(index);
    if members.is_empty() {
        map.remove(room);
    }
    Some(member)
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
        if let Some(member) = leave(room, id) {
            let _ = member.sender.close(codes::POLICY, TOO_SLOW);
            if !member.quiet {
                broadcast(room, Message::Text(format!("#{id} left ({TOO_SLOW})")));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use wscore::sender::{Inbox, Outgoing};

    use super::*;

    /// The texts queued for one member so far.
    fn texts(inbox: &Inbox) -> Vec<String> {
        inbox
            .take_all()
            .into_iter()
            .map(|item| match item {
                Outgoing::Message(Message::Text(text)) => text,
                other => panic!("expected a text, got {other:?}"),
            })
            .collect()
    }

    #[test]
    fn a_quiet_member_hears_everything_and_is_never_announced() {
        // A room of its own: other tests share the process's rooms.
        let loud_inbox = Inbox::new().unwrap();
        let loud = Membership::join("/quiet-test", loud_inbox.sender());
        assert_eq!(texts(&loud_inbox), [format!("#{} joined", loud.id)]);

        let quiet_inbox = Inbox::new().unwrap();
        let quiet = Membership::join("/quiet-test?a=1&quiet", quiet_inbox.sender());
        assert!(texts(&loud_inbox).is_empty(), "a quiet join was announced");
        assert!(texts(&quiet_inbox).is_empty());

        let late_inbox = Inbox::new().unwrap();
        let late = Membership::join("/quiet-test", late_inbox.sender());
        let late_id = late.id;
        let late_joined = format!("#{late_id} joined");
        assert_eq!(texts(&quiet_inbox), std::slice::from_ref(&late_joined));
        assert_eq!(texts(&loud_inbox), [late_joined]);
        texts(&late_inbox);

        broadcast("/quiet-test", Message::Text("hello".into()));
        assert_eq!(texts(&quiet_inbox), ["hello"]);
        assert_eq!(texts(&loud_inbox), ["hello"]);

        drop(quiet);
        assert!(texts(&loud_inbox).is_empty(), "a quiet leave was announced");
        drop(late);
        assert_eq!(texts(&loud_inbox), [format!("#{late_id} left")]);
        drop(loud);
    }
}
