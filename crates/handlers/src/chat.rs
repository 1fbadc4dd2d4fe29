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
//! A room is the channel `chat:<path>` of [`wscore::channels`]; with a
//! relay (the module's `WebSocketBroker`), the room spans every Apache
//! child and server sharing it: messages, joins and leaves reach members
//! everywhere, and member ids are then `#<origin>-<n>` (the process's
//! random id and a counter), unique across them. Messages
//! reach other connections through their `Sender`, so one connection never
//! writes to another's socket and a slow reader never blocks the others.
//! Policy for a reader that falls behind (the channels' own): once its
//! queue holds `QUEUE_CAPACITY` messages, it is taken out of the room, the
//! room hears `#ID left (too slow)` (chat's part, unless it was quiet), and
//! its connection is closed with 1008 `too slow` after what was already
//! queued for it.
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Once;

use wscore::channels::{Channels, Subscription};
use wscore::error::WsError;
use wscore::event::{Conn, Connection, EventHandler};
use wscore::protocol::Message;
use wscore::sender::Sender;

use crate::query::{has_query_flag, path_of};

/// The close reason a reader that fell behind gets (code 1008).
pub const TOO_SLOW: &str = wscore::channels::TOO_SLOW;
/// The query flag of a member whose join and leave are not announced.
pub const QUIET: &str = "quiet";

/// What names a member of a room: enough to announce that it was cut off.
struct Member {
    id: String,
    quiet: bool,
}

/// The rooms of this process: channel `chat:<resource path>` each.
static ROOMS: Channels<Member> = Channels::new();
static NEXT_ID: AtomicU64 = AtomicU64::new(1);
/// The prefix of every room's channel.
const ROOM_PREFIX: &str = "chat:";

/// A new member's id: a counter, prefixed with the process's origin when
/// rooms are relayed to other processes.
fn next_id() -> String {
    let n = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    match wscore::channels::relay() {
        Some(relay) => format!("{}-{n}", relay.origin()),
        None => n.to_string(),
    }
}

/// A message another process published to `room`: for the members here.
fn receive_relayed(room: &str, message: Message) {
    announce_too_slow(room, ROOMS.deliver_relayed(room, message).too_slow);
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
    /// `None` only while dropping.
    subscription: Option<Subscription<'static, Member>>,
    id: String,
    quiet: bool,
}

impl Connection for Membership {
    fn on_message(&mut self, _ws: &mut Conn<'_>, message: Message) -> Result<(), WsError> {
        let relayed = match message {
            Message::Text(text) => Message::Text(format!("#{}: {text}", self.id)),
            binary => binary,
        };
        broadcast(self.room(), relayed);
        Ok(())
    }
}

impl Membership {
    /// Enters the room of `resource` (its path) and announces it, unless
    /// the query says `quiet`.
    fn join(resource: &str, sender: Sender) -> Membership {
        // Before the first member: relayed messages need somewhere to go.
        static RECEIVING: Once = Once::new();
        RECEIVING.call_once(|| wscore::channels::receive_with(ROOM_PREFIX, receive_relayed));
        let room = format!("{ROOM_PREFIX}{}", path_of(resource));
        let quiet = has_query_flag(resource, QUIET);
        let id = next_id();
        let subscription = ROOMS.subscribe(
            &room,
            sender,
            Member {
                id: id.clone(),
                quiet,
            },
        );
        if !quiet {
            broadcast(&room, Message::Text(format!("#{id} joined")));
        }
        Membership {
            subscription: Some(subscription),
            id,
            quiet,
        }
    }

    /// The room's channel.
    fn room(&self) -> &str {
        self.subscription.as_ref().map_or("", |s| s.channel())
    }
}

impl Drop for Membership {
    fn drop(&mut self) {
        let Some(subscription) = self.subscription.take() else {
            return;
        };
        let room = subscription.channel().to_string();
        // `None`: it was cut off as too slow, and that was announced.
        if subscription.leave().is_some() && !self.quiet {
            broadcast(&room, Message::Text(format!("#{} left", self.id)));
        }
    }
}

/// Queues `message` for every member of `room`; members whose queue is full
/// are taken out of the room and closed by `wscore::channels`, and the room
/// hears of each (see the module's policy).
fn broadcast(room: &str, message: Message) {
    announce_too_slow(room, ROOMS.publish(room, message).too_slow);
}

/// Tells the room of each member cut off as too slow, unless quiet.
fn announce_too_slow(room: &str, cut_off: Vec<Member>) {
    for member in cut_off {
        if !member.quiet {
            broadcast(
                room,
                Message::Text(format!("#{} left ({TOO_SLOW})", member.id)),
            );
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
        let late_id = late.id.clone();
        let late_joined = format!("#{late_id} joined");
        assert_eq!(texts(&quiet_inbox), std::slice::from_ref(&late_joined));
        assert_eq!(texts(&loud_inbox), [late_joined]);
        texts(&late_inbox);

        broadcast("chat:/quiet-test", Message::Text("hello".into()));
        assert_eq!(texts(&quiet_inbox), ["hello"]);
        assert_eq!(texts(&loud_inbox), ["hello"]);

        drop(quiet);
        assert!(texts(&loud_inbox).is_empty(), "a quiet leave was announced");
        drop(late);
        assert_eq!(texts(&loud_inbox), [format!("#{late_id} left")]);
        drop(loud);
    }

    /// Everything queued for one member so far, closes included.
    fn items(inbox: &Inbox) -> Vec<String> {
        inbox
            .take_all()
            .into_iter()
            .map(|item| match item {
                Outgoing::Message(Message::Text(text)) => text,
                Outgoing::Close(code, reason) => format!("close {code} {reason}"),
                other => panic!("expected a text or a close, got {other:?}"),
            })
            .collect()
    }

    #[test]
    fn a_reader_that_falls_behind_is_cut_off_and_announced_unless_quiet() {
        use wscore::sender::QUEUE_CAPACITY;
        let fast_inbox = Inbox::new().unwrap();
        let fast = Membership::join("/slow-test?quiet", fast_inbox.sender());
        let slow_inbox = Inbox::new().unwrap();
        let slow = Membership::join("/slow-test", slow_inbox.sender());
        let slow_id = slow.id.clone();
        let quiet_slow_inbox = Inbox::new().unwrap();
        let quiet_slow = Membership::join("/slow-test?quiet", quiet_slow_inbox.sender());
        let joined = format!("#{slow_id} joined");
        assert_eq!(items(&fast_inbox), std::slice::from_ref(&joined));

        // slow's own join fills its queue one message earlier.
        let numbers: Vec<String> = (0..QUEUE_CAPACITY - 1).map(|n| n.to_string()).collect();
        for n in &numbers {
            broadcast("chat:/slow-test", Message::Text(n.clone()));
            assert_eq!(items(&fast_inbox), std::slice::from_ref(n));
        }
        // slow is cut off at once; the announcement of it is what fills
        // quiet_slow, cut off in turn but never announced.
        broadcast("chat:/slow-test", Message::Text("last".into()));
        let announced = format!("#{slow_id} left ({TOO_SLOW})");
        assert_eq!(items(&fast_inbox), ["last".to_string(), announced]);
        let mut expected = vec![joined];
        expected.extend(numbers.iter().cloned());
        expected.push("close 1008 too slow".into());
        assert_eq!(items(&slow_inbox), expected);
        let mut expected = numbers.clone();
        expected.push("last".into());
        expected.push("close 1008 too slow".into());
        assert_eq!(items(&quiet_slow_inbox), expected);
        assert_eq!(ROOMS.members("chat:/slow-test"), 1);

        // Their connections end later: no second announcement.
        drop(slow);
        drop(quiet_slow);
        assert!(items(&fast_inbox).is_empty());
        drop(fast);
        assert_eq!(ROOMS.members("chat:/slow-test"), 0);
    }

    #[test]
    fn a_member_whose_connection_ended_is_announced_when_it_leaves() {
        let stay_inbox = Inbox::new().unwrap();
        let stay = Membership::join("/ended-test?quiet", stay_inbox.sender());
        let gone_inbox = Inbox::new().unwrap();
        let gone = Membership::join("/ended-test", gone_inbox.sender());
        let gone_id = gone.id.clone();
        // The connection ends; a message goes out before its state is dropped.
        gone_inbox.close();
        broadcast("chat:/ended-test", Message::Text("meanwhile".into()));
        drop(gone);
        assert_eq!(
            items(&stay_inbox),
            [
                format!("#{gone_id} joined"),
                "meanwhile".to_string(),
                format!("#{gone_id} left"),
            ]
        );
        drop(stay);
    }
}
