//! Sending to a connection from other threads (broadcast, server push): the
//! counterpart of mod_pywebsocket's MessageSender. Other threads never touch
//! the connection; they queue, and wake the connection's own thread, which
//! writes while it waits for input.
use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::protocol::Message;

/// Messages a connection may have waiting before `send` reports
/// [`QueueError::Full`]: a peer that does not read cannot grow memory unbounded.
pub const QUEUE_CAPACITY: usize = 1024;

#[derive(Debug)]
pub enum Outgoing {
    Message(Message),
    Ping(Vec<u8>),
    Close(u16, String),
}

#[derive(Debug, PartialEq, Eq)]
pub enum QueueError {
    /// The connection has ended; nothing more will be sent.
    Closed,
    /// [`QUEUE_CAPACITY`] items are already waiting.
    Full,
}

impl std::fmt::Display for QueueError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            QueueError::Closed => "the WebSocket connection is closed",
            QueueError::Full => "the WebSocket connection's send queue is full",
        })
    }
}

impl std::error::Error for QueueError {}

struct Shared {
    queue: Mutex<VecDeque<Outgoing>>,
    closed: AtomicBool,
    notify: Notify,
}

/// How a [`Sender`] tells the connection that something was queued.
enum Notify {
    /// A byte on a socket pair whose other end the connection's thread
    /// polls beside its socket (the threaded driver).
    Pipe(UnixStream),
    /// A function of the driver's: no descriptor per connection (the
    /// event driver, which may hold tens of thousands).
    Call(Box<dyn Fn() + Send + Sync>),
}

impl Notify {
    fn notify(&self) {
        match self {
            // One pending byte is enough to wake the reader; if the pipe
            // is full a wake-up is already pending, so WouldBlock is fine.
            Notify::Pipe(writer) => {
                let _ = (&*writer).write(&[1]);
            }
            Notify::Call(call) => call(),
        }
    }
}

impl Shared {
    fn queue(&self) -> MutexGuard<'_, VecDeque<Outgoing>> {
        // A panic while holding the lock cannot leave the deque inconsistent.
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A cloneable handle other threads use to send to one connection.
#[derive(Clone)]
pub struct Sender {
    shared: Arc<Shared>,
}

impl Sender {
    pub fn send_text(&self, text: impl Into<String>) -> Result<(), QueueError> {
        self.push(Outgoing::Message(Message::Text(text.into())))
    }

    pub fn send_binary(&self, data: impl Into<Vec<u8>>) -> Result<(), QueueError> {
        self.push(Outgoing::Message(Message::Binary(data.into())))
    }

    pub fn send(&self, message: Message) -> Result<(), QueueError> {
        self.push(Outgoing::Message(message))
    }

    pub fn send_ping(&self, payload: impl Into<Vec<u8>>) -> Result<(), QueueError> {
        self.push(Outgoing::Ping(payload.into()))
    }

    /// Asks the connection to close with this code and reason, after what
    /// is queued already. Accepted even when the queue holds
    /// [`QUEUE_CAPACITY`] messages, so a peer that stopped reading can still
    /// be cut off.
    pub fn close(&self, code: u16, reason: impl Into<String>) -> Result<(), QueueError> {
        self.push(Outgoing::Close(code, reason.into()))
    }

    /// Interrupts the connection's wait for input without sending anything,
    /// so its thread looks at the server's state (e.g. a shutdown) now.
    pub fn wake(&self) {
        self.shared.notify.notify();
    }

    /// False once the connection has ended.
    pub fn is_open(&self) -> bool {
        !self.shared.closed.load(Ordering::Acquire)
    }

    fn push(&self, item: Outgoing) -> Result<(), QueueError> {
        if !self.is_open() {
            return Err(QueueError::Closed);
        }
        let was_empty = {
            let mut queue = self.shared.queue();
            // One place more for a close, so a full queue can still be cut off.
            let limit = match item {
                Outgoing::Close(..) => QUEUE_CAPACITY + 1,
                _ => QUEUE_CAPACITY,
            };
            if queue.len() >= limit {
                return Err(QueueError::Full);
            }
            queue.push_back(item);
            queue.len() == 1
        };
        if was_empty {
            self.shared.notify.notify();
        }
        Ok(())
    }
}

/// The connection's side: the wake-up to wait on (unless the driver is
/// notified by a function) and the queue to drain.
pub struct Inbox {
    shared: Arc<Shared>,
    wakeup: Option<Wakeup>,
}

/// The readable end of the wake-up channel; the transport polls its fd.
pub struct Wakeup {
    reader: UnixStream,
}

impl AsFd for Wakeup {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.reader.as_fd()
    }
}

impl Wakeup {
    pub fn fd(&self) -> RawFd {
        self.reader.as_raw_fd()
    }

    fn drain(&self) {
        let mut sink = [0u8; 64];
        while matches!((&self.reader).read(&mut sink), Ok(n) if n > 0) {}
    }
}

impl Inbox {
    /// Woken through a socket pair: [`Inbox::wakeup`] is readable when a
    /// Sender queued something.
    pub fn new() -> io::Result<Inbox> {
        let (reader, writer) = UnixStream::pair()?;
        reader.set_nonblocking(true)?;
        writer.set_nonblocking(true)?;
        Ok(Inbox::with(Notify::Pipe(writer), Some(Wakeup { reader })))
    }

    /// Calls `notify` (on the sending thread) when a Sender queues into an
    /// empty queue, or wakes the connection; no descriptor.
    pub fn notifying(notify: impl Fn() + Send + Sync + 'static) -> Inbox {
        Inbox::with(Notify::Call(Box::new(notify)), None)
    }

    fn with(notify: Notify, wakeup: Option<Wakeup>) -> Inbox {
        let shared = Arc::new(Shared {
            queue: Mutex::new(VecDeque::new()),
            closed: AtomicBool::new(false),
            notify,
        });
        Inbox { shared, wakeup }
    }

    pub fn sender(&self) -> Sender {
        Sender {
            shared: Arc::clone(&self.shared),
        }
    }

    /// The descriptor to poll, unless this inbox notifies by a function.
    pub fn wakeup(&self) -> Option<&Wakeup> {
        self.wakeup.as_ref()
    }

    /// Takes everything queued so far, oldest first.
    /// Costs no system call when nothing is queued (the common case: it
    /// runs before every read).
    pub fn take_all(&self) -> VecDeque<Outgoing> {
        let mut queue = self.shared.queue();
        if queue.is_empty() {
            return VecDeque::new();
        }
        self.acknowledge_wakeup();
        std::mem::take(&mut *queue)
    }

    /// Clears a wake-up that fired; a byte written after its items were
    /// already taken would otherwise keep the wake-up readable.
    pub fn acknowledge_wakeup(&self) {
        if let Some(wakeup) = &self.wakeup {
            wakeup.drain();
        }
    }

    /// Refuses further sends; called when the connection ends.
    pub fn close(&self) {
        self.shared.closed.store(true, Ordering::Release);
        self.shared.queue().clear();
    }
}

impl Drop for Inbox {
    fn drop(&mut self) {
        self.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queued_items_come_out_in_order_from_any_thread() {
        let inbox = Inbox::new().unwrap();
        let sender = inbox.sender();
        let worker = std::thread::spawn(move || {
            for i in 0..100 {
                sender.send_text(format!("{i}")).unwrap();
            }
        });
        worker.join().unwrap();
        let texts: Vec<String> = inbox
            .take_all()
            .into_iter()
            .map(|item| match item {
                Outgoing::Message(Message::Text(t)) => t,
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(texts, (0..100).map(|i| i.to_string()).collect::<Vec<_>>());
    }

    #[test]
    fn a_send_makes_the_wakeup_readable_and_draining_clears_it() {
        let inbox = Inbox::new().unwrap();
        let mut probe = [0u8; 1];
        assert!(
            (&inbox.wakeup.as_ref().unwrap().reader)
                .read(&mut probe)
                .is_err(),
            "readable before any send"
        );
        inbox.sender().send_ping(b"x".to_vec()).unwrap();
        inbox.sender().send_ping(b"y".to_vec()).unwrap();
        assert_eq!(inbox.take_all().len(), 2);
        assert!(
            (&inbox.wakeup.as_ref().unwrap().reader)
                .read(&mut probe)
                .is_err(),
            "drained twice?"
        );
        inbox.sender().send_ping(b"z".to_vec()).unwrap();
        assert_eq!(
            (&inbox.wakeup.as_ref().unwrap().reader)
                .read(&mut probe)
                .unwrap(),
            1,
            "no wake byte"
        );
        assert_eq!(inbox.take_all().len(), 1);
        assert!(
            (&inbox.wakeup.as_ref().unwrap().reader)
                .read(&mut probe)
                .is_err(),
            "still readable after drain"
        );
    }

    #[test]
    fn full_and_closed_queues_refuse() {
        let inbox = Inbox::new().unwrap();
        let sender = inbox.sender();
        for _ in 0..QUEUE_CAPACITY {
            sender.send_binary(vec![0u8]).unwrap();
        }
        assert_eq!(sender.send_binary(vec![0u8]), Err(QueueError::Full));
        assert_eq!(sender.close(1008, "too slow"), Ok(()));
        assert_eq!(sender.close(1008, "again"), Err(QueueError::Full));
        assert_eq!(inbox.take_all().len(), QUEUE_CAPACITY + 1);
        drop(inbox);
        assert!(!sender.is_open());
        assert_eq!(sender.send_text("late"), Err(QueueError::Closed));
    }

    #[test]
    fn a_notifying_inbox_calls_its_function_once_per_empty_queue() {
        use std::sync::atomic::AtomicUsize;
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&calls);
        let inbox = Inbox::notifying(move || {
            counted.fetch_add(1, Ordering::Relaxed);
        });
        assert!(inbox.wakeup().is_none(), "no descriptor");
        let sender = inbox.sender();
        sender.send_text("a").unwrap();
        sender.send_text("b").unwrap();
        assert_eq!(calls.load(Ordering::Relaxed), 1, "once until drained");
        assert_eq!(inbox.take_all().len(), 2);
        sender.send_text("c").unwrap();
        sender.wake();
        assert_eq!(calls.load(Ordering::Relaxed), 3);
    }
}
