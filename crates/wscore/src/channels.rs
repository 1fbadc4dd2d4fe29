//! Publish/subscribe between the connections of this process: a connection
//! joins a named channel with its [`Sender`], and a message published to
//! the channel is queued for every member. Handlers of both styles use it
//! (each has a `sender()`); `chat` is built on it.
//!
//! A registry is a `static` of the handler's:
//!
//! ```
//! use wscore::channels::Channels;
//! use wscore::protocol::Message;
//! use wscore::sender::Inbox;
//!
//! // The tag names a member in publish's report: here an id.
//! static FEED: Channels<u64> = Channels::new();
//!
//! let inbox = Inbox::new().unwrap(); // a connection's, normally
//! let member = FEED.subscribe("feed:/news", inbox.sender(), 7);
//! let published = FEED.publish("feed:/news", Message::Text("hello".into()));
//! assert_eq!(published.delivered, 1);
//! assert!(published.too_slow.is_empty());
//! drop(member); // leaves the channel
//! assert_eq!(FEED.members("feed:/news"), 0);
//! ```
//!
//! - **Never blocking**: [`Channels::publish`] only queues (one clone of
//!   the message per member), under the registry's lock; a slow reader
//!   never slows the others or the publisher.
//! - **Order**: every member gets the messages of one channel in the same
//!   order, the order in which they were published (the order of the
//!   `publish` calls, whatever their threads).
//! - **Slow readers**: a member whose queue already holds
//!   [`QUEUE_CAPACITY`](crate::sender::QUEUE_CAPACITY) items is taken out
//!   of the channel and closed with 1008 `too slow` once it has what was
//!   queued before; `publish` returns its tag in
//!   [`Published::too_slow`], so the caller can tell the others.
//! - **Ended connections** (their `Sender` says
//!   [`QueueError::Closed`]) are taken out silently.
//! - **Beyond the process**: with a [`Relay`] set ([`set_relay`], the
//!   module's broker), `publish` also hands the message to it, and what
//!   other processes published comes back through [`receive_relayed`] to
//!   the receiver registered for the channel's prefix
//!   ([`receive_with`]), which delivers it with
//!   [`Channels::deliver_relayed`] (local members only). Without one,
//!   members in other Apache children, or on other servers, are not
//!   reached.
use std::cell::Cell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};

use crate::close::codes;
use crate::protocol::Message;
use crate::sender::{QueueError, Sender};

/// The close reason of a member cut off as a slow reader (code 1008).
pub const TOO_SLOW: &str = "too slow";

/// Carries what this process publishes to the other processes (children
/// or servers) sharing its channels; the module's broker. It must never
/// block: it is called on the publishing handler's thread.
pub trait Relay: Send + Sync {
    /// Hands a message published here to the others, at most once.
    fn relay(&self, channel: &str, message: &Message);
    /// This process's id among those sharing the relay, for names that
    /// must be unique across them (chat's member ids).
    fn origin(&self) -> &str;
}

static RELAY: OnceLock<&'static dyn Relay> = OnceLock::new();

/// Receivers of relayed messages, by channel prefix.
type Receiver = fn(&str, Message);
static RECEIVERS: Mutex<Vec<(&'static str, Receiver)>> = Mutex::new(Vec::new());

/// Sets this process's relay, once (later calls are ignored): from then on
/// every [`Channels::publish`] also goes to it.
pub fn set_relay(relay: &'static dyn Relay) {
    let _ = RELAY.set(relay);
}

/// This process's relay, if one is set.
pub fn relay() -> Option<&'static dyn Relay> {
    RELAY.get().copied()
}

/// Registers `receiver` for relayed messages of the channels starting with
/// `prefix` (once per prefix; a second registration is ignored). A
/// registry's owner registers before its first member joins: until then
/// there is nobody here to deliver to.
pub fn receive_with(prefix: &'static str, receiver: Receiver) {
    let mut receivers = RECEIVERS.lock().unwrap_or_else(|e| e.into_inner());
    if !receivers.iter().any(|(p, _)| *p == prefix) {
        receivers.push((prefix, receiver));
    }
}

/// A message another process published to `channel`: handed to the
/// receiver of the channel's prefix; false when there is none (nobody here
/// ever joined such a channel).
pub fn receive_relayed(channel: &str, message: Message) -> bool {
    let receiver = {
        let receivers = RECEIVERS.lock().unwrap_or_else(|e| e.into_inner());
        receivers
            .iter()
            .find(|(prefix, _)| channel.starts_with(prefix))
            .map(|(_, receiver)| *receiver)
    };
    match receiver {
        Some(receiver) => {
            receiver(channel, message);
            true
        }
        None => false,
    }
}

struct Member<T> {
    key: u64,
    sender: Sender,
    tag: T,
}

struct State<T> {
    /// Channel name → its members, in order of joining (while nobody left).
    channels: HashMap<String, Vec<Member<T>>>,
    /// Members taken out because their connection had ended, whose
    /// [`Subscription`] is not dropped yet: it gets its tag back.
    ended: HashMap<u64, T>,
}

/// A set of named channels and their members in this process; the tag `T`
/// (an id, or whatever names a member to its handler) comes back in
/// [`Published::too_slow`] or from [`Subscription::leave`], exactly once.
pub struct Channels<T> {
    state: Mutex<Option<State<T>>>,
    next_key: AtomicU64,
}

/// What [`Channels::publish`] did.
#[derive(Debug, PartialEq, Eq)]
#[must_use = "members cut off as too slow may need to be announced"]
pub struct Published<T> {
    /// The members the message was queued for.
    pub delivered: usize,
    /// The tags of the members cut off as too slow, in the channel's order:
    /// they are out of the channel, and close with 1008 `too slow` after
    /// what they had queued. Their [`Subscription::leave`] returns `None`.
    pub too_slow: Vec<T>,
}

/// One connection's membership of a channel; dropping it (or
/// [`Subscription::leave`]) leaves the channel.
#[must_use = "dropping a Subscription leaves the channel at once"]
pub struct Subscription<'a, T> {
    channels: &'a Channels<T>,
    channel: String,
    key: u64,
    left: bool,
}

impl<T> Published<T> {
    fn nobody() -> Published<T> {
        Published {
            delivered: 0,
            too_slow: Vec::new(),
        }
    }
}

impl<T> Default for Channels<T> {
    fn default() -> Channels<T> {
        Channels::new()
    }
}

impl<T> Channels<T> {
    /// No channels yet; `const`, for a `static`.
    pub const fn new() -> Channels<T> {
        Channels {
            state: Mutex::new(None),
            next_key: AtomicU64::new(1),
        }
    }

    fn state(&self) -> MutexGuard<'_, Option<State<T>>> {
        // Nothing panics while holding the lock (a Sender's calls do not);
        // if something did, the maps are still whole.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds the connection behind `sender` to `channel`, named by `tag`,
    /// until the returned [`Subscription`] is dropped. It gets what is
    /// published from now on.
    pub fn subscribe(&self, channel: &str, sender: Sender, tag: T) -> Subscription<'_, T> {
        let key = self.next_key.fetch_add(1, Ordering::Relaxed);
        let mut guard = self.state();
        let state = guard.get_or_insert_with(|| State {
            channels: HashMap::new(),
            ended: HashMap::new(),
        });
        let member = Member { key, sender, tag };
        match state.channels.get_mut(channel) {
            Some(members) => members.push(member),
            None => {
                state.channels.insert(channel.to_string(), vec![member]);
            }
        }
        Subscription {
            channels: self,
            channel: channel.to_string(),
            key,
            left: false,
        }
    }

    /// Queues `message` for every member of `channel` in this process,
    /// without blocking, and hands it to the [`Relay`] if one is set (after
    /// the local members, so they never wait for it). Members whose queue is full are taken out and
    /// closed with 1008 `too slow` (after what they had queued), and
    /// named in the result; members whose connection has ended are taken
    /// out silently. A channel without members is no error.
    pub fn publish(&self, channel: &str, message: Message) -> Published<T> {
        if let Some(relay) = relay() {
            let published = self.deliver_relayed(channel, message.clone());
            relay.relay(channel, &message);
            return published;
        }
        self.deliver_relayed(channel, message)
    }

    /// Queues `message` for the members of `channel` in this process only,
    /// as [`Channels::publish`] does, without relaying it: for a message
    /// that came from another process through the [`Relay`].
    pub fn deliver_relayed(&self, channel: &str, message: Message) -> Published<T> {
        let delivered;
        let mut cut_off = Vec::new();
        {
            let mut guard = self.state();
            let Some(state) = guard.as_mut() else {
                return Published::nobody();
            };
            let Some(members) = state.channels.get_mut(channel) else {
                return Published::nobody();
            };
            // One pass, in the channel's order; a member the message cannot
            // be queued for comes out with the reason (the others stay in
            // order, and the report keeps it).
            let refused = Cell::new(None);
            let failed =
                members.extract_if(.., |member| match member.sender.send(message.clone()) {
                    Ok(()) => false,
                    Err(error) => {
                        refused.set(Some(error));
                        true
                    }
                });
            for member in failed {
                match refused.take() {
                    Some(QueueError::Full) => cut_off.push(member),
                    _ => {
                        state.ended.insert(member.key, member.tag);
                    }
                }
            }
            delivered = members.len();
            if members.is_empty() {
                state.channels.remove(channel);
            }
        }
        // Outside the lock: nobody else reaches these members any more.
        let too_slow = cut_off
            .into_iter()
            .map(|member| {
                // Accepted on a full queue; refused only if something
                // (another channel) closed it already, which is as good.
                let _ = member.sender.close(codes::POLICY, TOO_SLOW);
                member.tag
            })
            .collect();
        Published {
            delivered,
            too_slow,
        }
    }

    /// How many members `channel` has in this process now.
    pub fn members(&self, channel: &str) -> usize {
        self.state()
            .as_ref()
            .and_then(|state| state.channels.get(channel))
            .map_or(0, Vec::len)
    }

    /// Takes subscription `key` out; its tag unless it was cut off.
    fn remove(&self, channel: &str, key: u64) -> Option<T> {
        let mut guard = self.state();
        let state = guard.as_mut()?;
        if let Some(members) = state.channels.get_mut(channel) {
            if let Some(index) = members.iter().position(|m| m.key == key) {
                // Order within a channel does not matter to anyone but the
                // too-slow report; a cheap removal for leaving crowds.
                let member = members.swap_remove(index);
                if members.is_empty() {
                    state.channels.remove(channel);
                }
                return Some(member.tag);
            }
        }
        state.ended.remove(&key)
    }
}

impl<T> Subscription<'_, T> {
    /// The channel this subscription is a member of.
    pub fn channel(&self) -> &str {
        &self.channel
    }

    /// Leaves the channel now: the tag, unless the member had been cut
    /// off as too slow (its tag then came back from [`Channels::publish`]).
    /// A member taken out because its connection ended gets its tag too.
    pub fn leave(mut self) -> Option<T> {
        self.left = true;
        self.channels.remove(&self.channel, self.key)
    }
}

impl<T> Drop for Subscription<'_, T> {
    fn drop(&mut self) {
        if !self.left {
            self.channels.remove(&self.channel, self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::sender::{Inbox, Outgoing, QUEUE_CAPACITY};

    fn text(t: &str) -> Message {
        Message::Text(t.to_string())
    }

    /// Everything queued for one member so far, as it would go out.
    fn taken(inbox: &Inbox) -> Vec<String> {
        inbox
            .take_all()
            .into_iter()
            .map(|item| match item {
                Outgoing::Message(Message::Text(t)) => t,
                Outgoing::Message(Message::Binary(b)) => format!("binary {b:?}"),
                Outgoing::Close(code, reason) => format!("close {code} {reason}"),
                Outgoing::Ping(p) => format!("ping {p:?}"),
            })
            .collect()
    }

    /// The relay of this test binary: records what reaches it (of the
    /// relay test's channels only: other tests publish too).
    struct Recorder(Mutex<Vec<(String, Message)>>);

    impl Relay for Recorder {
        fn relay(&self, channel: &str, message: &Message) {
            if channel.starts_with("relayed:") {
                self.0
                    .lock()
                    .unwrap()
                    .push((channel.to_string(), message.clone()));
            }
        }

        fn origin(&self) -> &str {
            "test"
        }
    }

    static RECORDER: Recorder = Recorder(Mutex::new(Vec::new()));
    static RELAYED: Channels<&'static str> = Channels::new();

    fn deliver_to_relayed(channel: &str, message: Message) {
        let _ = RELAYED.deliver_relayed(channel, message);
    }

    #[test]
    fn with_a_relay_publish_goes_local_and_out_and_relayed_messages_only_local() {
        set_relay(&RECORDER);
        assert_eq!(relay().map(|r| r.origin()), Some("test"));
        receive_with("relayed:", deliver_to_relayed);
        let inbox = Inbox::new().unwrap();
        let _member = RELAYED.subscribe("relayed:room", inbox.sender(), "m");
        let r = RELAYED.publish("relayed:room", text("mine"));
        assert_eq!(r.delivered, 1);
        assert_eq!(
            *RECORDER.0.lock().unwrap(),
            [("relayed:room".to_string(), text("mine"))]
        );
        // From another process: to the local members, not out again.
        assert!(receive_relayed("relayed:room", Message::Binary(vec![1, 2])));
        assert!(!receive_relayed("nobody-registered:room", text("lost")));
        assert_eq!(RECORDER.0.lock().unwrap().len(), 1);
        assert_eq!(taken(&inbox), ["mine", "binary [1, 2]"]);
    }

    #[test]
    fn every_member_gets_every_message_in_order_byte_for_byte() {
        let channels = Channels::new();
        let inboxes: Vec<Inbox> = (0..3).map(|_| Inbox::new().unwrap()).collect();
        let subs: Vec<_> = inboxes
            .iter()
            .enumerate()
            .map(|(i, inbox)| channels.subscribe("c", inbox.sender(), i))
            .collect();
        assert_eq!(channels.members("c"), 3);
        let r = channels.publish("c", text("one"));
        assert_eq!((r.delivered, r.too_slow), (3, vec![]));
        let _ = channels.publish("c", Message::Binary(vec![0, 0xff, 7]));
        let _ = channels.publish("c", text("thrée"));
        for inbox in &inboxes {
            assert_eq!(taken(inbox), ["one", "binary [0, 255, 7]", "thrée"]);
        }
        drop(subs);
        assert_eq!(channels.members("c"), 0);
    }

    #[test]
    fn a_member_gets_only_what_is_published_while_it_is_in() {
        let channels = Channels::new();
        let (a, b) = (Inbox::new().unwrap(), Inbox::new().unwrap());
        let sub_a = channels.subscribe("c", a.sender(), 'a');
        let _ = channels.publish("c", text("before b"));
        let sub_b = channels.subscribe("c", b.sender(), 'b');
        let _ = channels.publish("c", text("both"));
        assert_eq!(sub_a.leave(), Some('a'));
        let r = channels.publish("c", text("after a"));
        assert_eq!(r.delivered, 1);
        assert_eq!(taken(&a), ["before b", "both"]);
        assert_eq!(taken(&b), ["both", "after a"]);
        assert_eq!(sub_b.channel(), "c");
        drop(sub_b);
        let r = channels.publish("c", text("nobody"));
        assert_eq!((r.delivered, r.too_slow), (0, vec![]));
        assert!(taken(&b).is_empty());
    }

    #[test]
    fn a_full_member_is_cut_off_with_1008_after_its_queue_and_reported() {
        let channels = Channels::new();
        let (fast, slow) = (Inbox::new().unwrap(), Inbox::new().unwrap());
        let sub_fast = channels.subscribe("c", fast.sender(), 1u64);
        let sub_slow = channels.subscribe("c", slow.sender(), 2u64);
        for i in 0..QUEUE_CAPACITY {
            let r = channels.publish("c", text(&i.to_string()));
            assert_eq!((r.delivered, r.too_slow), (2, vec![]));
            taken(&fast); // the fast reader keeps up
        }
        let r = channels.publish("c", text("one too many"));
        assert_eq!((r.delivered, r.too_slow), (1, vec![2]));
        assert_eq!(channels.members("c"), 1);
        assert_eq!(taken(&fast), ["one too many"]);
        let slow_got = taken(&slow);
        let expected: Vec<String> = (0..QUEUE_CAPACITY)
            .map(|i| i.to_string())
            .chain(["close 1008 too slow".to_string()])
            .collect();
        assert_eq!(slow_got, expected, "what was queued, then the close");
        // Cut off: nothing more reaches it, and its tag came back already.
        let _ = channels.publish("c", text("later"));
        assert!(taken(&slow).is_empty());
        assert_eq!(sub_slow.leave(), None);
        assert_eq!(sub_fast.leave(), Some(1));
    }

    #[test]
    fn the_too_slow_report_keeps_the_channels_order() {
        let channels = Channels::new();
        let inboxes: Vec<Inbox> = (0..5).map(|_| Inbox::new().unwrap()).collect();
        let _subs: Vec<_> = inboxes
            .iter()
            .enumerate()
            .map(|(i, inbox)| channels.subscribe("c", inbox.sender(), i))
            .collect();
        for _ in 0..QUEUE_CAPACITY {
            let _ = channels.publish("c", text("x"));
            // 0, 2 and 4 keep up; 1 and 3 never read.
            for i in [0, 2, 4] {
                inboxes[i].take_all();
            }
        }
        let r = channels.publish("c", text("y"));
        assert_eq!((r.delivered, r.too_slow), (3, vec![1, 3]));
    }

    #[test]
    fn a_member_whose_connection_ended_is_taken_out_silently() {
        let channels = Channels::new();
        let live = Inbox::new().unwrap();
        let ended = Inbox::new().unwrap();
        let _sub_live = channels.subscribe("c", live.sender(), "live");
        let sub_ended = channels.subscribe("c", ended.sender(), "ended");
        ended.close(); // the connection ended; its handler has not left yet
        let r = channels.publish("c", text("hi"));
        assert_eq!((r.delivered, r.too_slow), (1, vec![]));
        assert_eq!(channels.members("c"), 1);
        assert!(ended.take_all().is_empty());
        assert_eq!(taken(&live), ["hi"]);
        // Not cut off: leaving still hands back the tag.
        assert_eq!(sub_ended.leave(), Some("ended"));
        assert!(channels.state().as_ref().unwrap().ended.is_empty());
    }

    #[test]
    fn the_last_member_ending_removes_the_channel() {
        let channels = Channels::new();
        let ended = Inbox::new().unwrap();
        let sub = channels.subscribe("c", ended.sender(), ());
        drop(ended);
        let r = channels.publish("c", text("hi"));
        assert_eq!(r.delivered, 0);
        assert!(channels.state().as_ref().unwrap().channels.is_empty());
        drop(sub);
        assert!(channels.state().as_ref().unwrap().ended.is_empty());
    }

    #[test]
    fn dropping_a_subscription_leaves_only_that_channel() {
        let channels = Channels::new();
        let inbox = Inbox::new().unwrap();
        let in_a = channels.subscribe("a", inbox.sender(), 1);
        let in_b = channels.subscribe("b", inbox.sender(), 2);
        let _ = channels.publish("a", text("a1"));
        let _ = channels.publish("b", text("b1"));
        drop(in_a);
        assert_eq!(channels.members("a"), 0);
        assert_eq!(channels.members("b"), 1);
        let _ = channels.publish("a", text("a2"));
        let _ = channels.publish("b", text("b2"));
        assert_eq!(taken(&inbox), ["a1", "b1", "b2"]);
        drop(in_b);
        assert!(channels.state().as_ref().unwrap().channels.is_empty());
    }

    #[test]
    fn two_channels_are_independent() {
        let channels = Channels::new();
        let (a, b) = (Inbox::new().unwrap(), Inbox::new().unwrap());
        let _in_a = channels.subscribe("chat:/a", a.sender(), 'a');
        let _in_b = channels.subscribe("chat:/b", b.sender(), 'b');
        // b is slow in its own channel; a's channel never notices.
        for _ in 0..QUEUE_CAPACITY {
            let _ = channels.publish("chat:/b", text("b"));
        }
        let r = channels.publish("chat:/a", text("to a"));
        assert_eq!((r.delivered, r.too_slow), (1, vec![]));
        assert_eq!(taken(&a), ["to a"]);
        let r = channels.publish("chat:/b", text("to b"));
        assert_eq!((r.delivered, r.too_slow), (0, vec!['b']));
        assert_eq!(channels.members("chat:/a"), 1);
        assert_eq!(channels.members("chat:/b"), 0);
        assert_eq!(taken(&b).len(), QUEUE_CAPACITY + 1);
    }

    #[test]
    fn two_registries_are_independent() {
        let (one, two) = (Channels::new(), Channels::new());
        let (a, b) = (Inbox::new().unwrap(), Inbox::new().unwrap());
        let _a = one.subscribe("c", a.sender(), ());
        let _b = two.subscribe("c", b.sender(), ());
        let _ = one.publish("c", text("one"));
        assert_eq!(taken(&a), ["one"]);
        assert!(taken(&b).is_empty());
    }

    #[test]
    fn many_threads_publishing_keep_each_publishers_order_and_agree() {
        const THREADS: usize = 8;
        const EACH: usize = 100; // 800 < QUEUE_CAPACITY: nobody is cut off
        static CHANNELS: Channels<usize> = Channels::new();
        let inboxes: Vec<Inbox> = (0..4).map(|_| Inbox::new().unwrap()).collect();
        let subs: Vec<_> = inboxes
            .iter()
            .enumerate()
            .map(|(i, inbox)| CHANNELS.subscribe("threads", inbox.sender(), i))
            .collect();
        let start = Arc::new(std::sync::Barrier::new(THREADS));
        let publishers: Vec<_> = (0..THREADS)
            .map(|t| {
                let start = Arc::clone(&start);
                std::thread::spawn(move || {
                    start.wait();
                    for n in 0..EACH {
                        let r = CHANNELS.publish("threads", text(&format!("{t} {n}")));
                        assert_eq!((r.delivered, r.too_slow), (4, vec![]));
                    }
                })
            })
            .collect();
        for publisher in publishers {
            publisher.join().unwrap();
        }
        let got: Vec<Vec<String>> = inboxes.iter().map(taken).collect();
        for member in &got {
            assert_eq!(member.len(), THREADS * EACH);
            assert_eq!(member, &got[0], "every member sees one order");
            for t in 0..THREADS {
                let own: Vec<&String> = member
                    .iter()
                    .filter(|m| m.starts_with(&format!("{t} ")))
                    .collect();
                let expected: Vec<String> = (0..EACH).map(|n| format!("{t} {n}")).collect();
                assert_eq!(own, expected.iter().collect::<Vec<_>>(), "publisher {t}");
            }
        }
        drop(subs);
        assert_eq!(CHANNELS.members("threads"), 0);
    }

    #[test]
    fn members_come_and_go_while_others_publish() {
        static CHANNELS: Channels<u64> = Channels::new();
        let stay = Inbox::new().unwrap();
        let _stay = CHANNELS.subscribe("churn", stay.sender(), 0);
        let churners: Vec<_> = (1..=4u64)
            .map(|t| {
                std::thread::spawn(move || {
                    for _ in 0..200 {
                        let inbox = Inbox::new().unwrap();
                        let sub = CHANNELS.subscribe("churn", inbox.sender(), t);
                        if t % 2 == 0 {
                            drop(inbox); // ended before leaving
                        }
                        assert_eq!(sub.leave(), Some(t));
                    }
                })
            })
            .collect();
        for n in 0..500 {
            let r = CHANNELS.publish("churn", text(&n.to_string()));
            assert!(r.too_slow.is_empty());
            if n % 100 == 99 {
                stay.take_all();
            }
        }
        for churner in churners {
            churner.join().unwrap();
        }
        assert_eq!(CHANNELS.members("churn"), 1);
        assert!(CHANNELS.state().as_ref().unwrap().ended.is_empty());
    }
}
