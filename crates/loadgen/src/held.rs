//! One connection of hold mode: a WebSocket (optionally after one echoed
//! message, so compression contexts and buffers are as after real use) or,
//! for the floor, an idle HTTP/1.1 keep-alive connection after one `GET`.
//! `check` proves it is still up: a ping answered, or (HTTP) no end of
//! stream from the server.
use tokio::io::AsyncWriteExt;

use crate::codec::{encode_frame, Deflater, OP_PING, OP_PONG, OP_TEXT};
use crate::conn::{Conn, Connector};
use crate::keepalive::HttpConn;
use crate::payload::Payloads;
use crate::target::Target;

/// Where hold mode connects: WebSocket URLs or HTTP ones, used round robin
/// (several ports, so no destination runs out of ephemeral ports).
pub enum Opener {
    WebSocket {
        connectors: Vec<Connector>,
        /// Size of the message echoed once after the handshake.
        first_message: Option<usize>,
    },
    HttpKeepAlive(Vec<Target>),
}

pub enum Held {
    WebSocket(Conn),
    Http(HttpConn),
}

impl Opener {
    /// Opens connection number `i`.
    pub async fn open(&self, i: usize) -> Result<Held, String> {
        match self {
            Opener::WebSocket {
                connectors,
                first_message,
            } => {
                let mut conn = connectors[i % connectors.len()].connect().await?;
                if let Some(size) = first_message {
                    echo_once(&mut conn, *size, i).await?;
                }
                Ok(Held::WebSocket(conn))
            }
            Opener::HttpKeepAlive(targets) => {
                let mut conn = HttpConn::connect(&targets[i % targets.len()], true).await?;
                if !conn.get().await? {
                    return Err("the server does not keep the connection alive".into());
                }
                Ok(Held::Http(conn))
            }
        }
    }
}

impl Held {
    /// A ping answered by a pong, or an HTTP connection the server has not
    /// closed.
    pub async fn check(&mut self, i: usize) -> Result<(), String> {
        match self {
            Held::WebSocket(conn) => {
                let mut ping = Vec::new();
                encode_frame(
                    OP_PING,
                    false,
                    &(i as u64).to_be_bytes(),
                    mask(i),
                    &mut ping,
                );
                conn.writer
                    .write_all(&ping)
                    .await
                    .map_err(|e| e.to_string())?;
                loop {
                    if conn.reader.next().await?.opcode == OP_PONG {
                        return Ok(());
                    }
                }
            }
            Held::Http(conn) => conn.still_open(),
        }
    }

    pub async fn shutdown(&mut self) {
        if let Held::WebSocket(conn) = self {
            let _ = conn.writer.shutdown().await;
        }
    }
}

/// Sends one text message (compressed if negotiated) and waits for its echo.
async fn echo_once(conn: &mut Conn, size: usize, i: usize) -> Result<(), String> {
    let payloads = Payloads::new(size);
    let mut body = Vec::new();
    payloads.write(i as u64, &mut body);
    let wire_body = if conn.deflate {
        Deflater::default().compress(&body)
    } else {
        body.clone()
    };
    let mut frame = Vec::new();
    encode_frame(OP_TEXT, conn.deflate, &wire_body, mask(i), &mut frame);
    conn.writer
        .write_all(&frame)
        .await
        .map_err(|e| format!("sending the first message: {e}"))?;
    loop {
        let reply = conn.reader.next().await?;
        if reply.opcode == OP_TEXT {
            return payloads.check(i as u64, &reply.payload);
        }
    }
}

fn mask(i: usize) -> [u8; 4] {
    (i as u32 ^ 0x5bd1_e995).to_be_bytes()
}
