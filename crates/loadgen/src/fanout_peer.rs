//! `wsecho --broadcast`: the tokio-tungstenite peer of the fan-out
//! benchmark. Every message from any connection goes to every connection,
//! the sender included, as the module's `chat` handler does. Each
//! connection has a bounded queue and a writer task of its own, so a slow
//! reader never blocks the others; one whose queue is full is dropped (chat
//! closes it with 1008), the same policy as chat's.
use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc::{self, error::TrySendError};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// Messages waiting for one connection before it counts as too slow
/// (chat's `QUEUE_CAPACITY`).
pub const QUEUE_CAPACITY: usize = 1024;

/// Every open connection of this (single-threaded) server.
#[derive(Default)]
pub struct Room {
    members: RefCell<HashMap<u64, mpsc::Sender<Message>>>,
    next_id: Cell<u64>,
}

impl Room {
    /// Serves one connection until it ends or is dropped as too slow.
    pub async fn serve<S: AsyncRead + AsyncWrite + Unpin>(&self, ws: WebSocketStream<S>) {
        let (mut sink, mut stream) = ws.split();
        let (queue, mut queued) = mpsc::channel(QUEUE_CAPACITY);
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        self.members.borrow_mut().insert(id, queue);
        let write = async {
            // Everything already queued goes out with one flush.
            while let Some(message) = queued.recv().await {
                sink.feed(message).await?;
                while let Ok(message) = queued.try_recv() {
                    sink.feed(message).await?;
                }
                sink.flush().await?;
            }
            Ok::<_, tokio_tungstenite::tungstenite::Error>(())
        };
        let read = async {
            while let Some(Ok(message)) = stream.next().await {
                if message.is_text() || message.is_binary() {
                    self.broadcast(message);
                }
            }
        };
        tokio::select! {
            _ = write => {}
            () = read => {}
        }
        self.members.borrow_mut().remove(&id);
    }

    fn broadcast(&self, message: Message) {
        let mut too_slow = Vec::new();
        for (id, queue) in self.members.borrow().iter() {
            if let Err(TrySendError::Full(_)) = queue.try_send(message.clone()) {
                too_slow.push(*id);
            }
        }
        // Dropping its queue ends its writer, and so the connection.
        let mut members = self.members.borrow_mut();
        for id in too_slow {
            members.remove(&id);
        }
    }
}
