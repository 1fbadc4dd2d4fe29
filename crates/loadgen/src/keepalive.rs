//! Plain HTTP/1.1 on loopback: `GET` requests with their responses read
//! whole, on a connection kept alive (the floor the hold rows compare a
//! WebSocket with) or on a new connection each (the site row's timed GETs).
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::head::{head_len, ResponseHead};
use crate::target::Target;

const MAX_RESPONSE_HEAD: usize = 8192;
/// Responses bigger than this are not what these tests fetch.
const MAX_BODY: usize = 1 << 20;

/// `http://127.0.0.1:PORT/PATH`, loopback only (as a WebSocket target is).
pub fn parse_url(url: &str) -> Result<Target, String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("'{url}': the URL must start with http://"))?;
    Target::parse(&format!("ws://{rest}"))
}

/// One TCP connection sending `GET`s one at a time.
pub struct HttpConn {
    stream: TcpStream,
    request: Vec<u8>,
    /// Bytes read past the last response (a server sends none unasked).
    buf: Vec<u8>,
}

impl HttpConn {
    /// Connects; `keep_alive` false asks the server to close after one
    /// response.
    pub async fn connect(target: &Target, keep_alive: bool) -> Result<HttpConn, String> {
        let stream = TcpStream::connect(target.addr)
            .await
            .map_err(|e| format!("connecting to {}: {e}", target.addr))?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        let connection = if keep_alive { "keep-alive" } else { "close" };
        let request = format!(
            "GET {} HTTP/1.1\r\nHost: {}:{}\r\nConnection: {connection}\r\n\r\n",
            target.path,
            target.host,
            target.addr.port()
        );
        Ok(HttpConn {
            stream,
            request: request.into_bytes(),
            buf: Vec::new(),
        })
    }

    /// Sends the request and reads its whole response; `Err` unless it is
    /// a 200. Returns whether the server keeps the connection open.
    pub async fn get(&mut self) -> Result<bool, String> {
        self.stream
            .write_all(&self.request)
            .await
            .map_err(|e| format!("sending the request: {e}"))?;
        let end = loop {
            if let Some(len) = head_len(&self.buf) {
                break len;
            }
            if self.buf.len() > MAX_RESPONSE_HEAD {
                return Err("the response head is too long".into());
            }
            self.fill().await?;
        };
        let head = ResponseHead::parse(&self.buf[..end]);
        if !head.status().starts_with("http/1.1 200") {
            return Err(format!("the server answered '{}'", head.status()));
        }
        let keep_alive = head.header("connection") != Some("close");
        let length: usize = head
            .header("content-length")
            .and_then(|v| v.parse().ok())
            .filter(|&n| n <= MAX_BODY)
            .ok_or("no usable Content-Length in the response")?;
        while self.buf.len() < end + length {
            self.fill().await?;
        }
        self.buf.drain(..end + length);
        Ok(keep_alive)
    }

    /// Whether the server still keeps the connection open, without sending
    /// anything (a request would wake it, and a burst of them from every
    /// held connection makes the event MPM close its keep-alive ones).
    pub fn still_open(&self) -> Result<(), String> {
        let mut byte = [0u8; 1];
        match self.stream.try_read(&mut byte) {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(()),
            Ok(0) => Err("the server closed the connection".into()),
            Ok(_) => Err("the server sent bytes unasked".into()),
            Err(e) => Err(format!("reading: {e}")),
        }
    }

    async fn fill(&mut self) -> Result<(), String> {
        let mut chunk = [0u8; 4096];
        let n = self
            .stream
            .read(&mut chunk)
            .await
            .map_err(|e| format!("reading the response: {e}"))?;
        if n == 0 {
            return Err("the server closed the connection".into());
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }
}
