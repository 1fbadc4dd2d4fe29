//! Opening a WebSocket to the target: TCP (and TLS, trusting any
//! certificate: the target is loopback), then the RFC 6455 handshake; or,
//! [`Connector::over_h2`], a stream of an HTTP/2 connection (RFC 8441,
//! crate::h2ws).
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::handshake::{client::generate_key, derive_accept_key};

use crate::codec::Reader;
use crate::h2ws::H2Dialer;
use crate::head::{head_len, ResponseHead};
use crate::target::Target;

pub type ReadHalf = Box<dyn AsyncRead + Unpin>;
pub type WriteHalf = Box<dyn AsyncWrite + Unpin>;

/// The handshake must finish within this, or the connection counts as failed.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_RESPONSE_HEAD: usize = 8192;

pub struct Conn {
    pub reader: Reader<ReadHalf>,
    pub writer: WriteHalf,
    /// permessage-deflate was negotiated.
    pub deflate: bool,
}

pub struct Connector {
    target: Target,
    tls: Option<tokio_native_tls::TlsConnector>,
    /// The `Sec-WebSocket-Extensions` offer, if any.
    extensions: Option<String>,
    /// WebSockets over HTTP/2 instead of HTTP/1.1 upgrades.
    h2: Option<H2Dialer>,
}

impl Connector {
    pub fn new(target: Target, offer_deflate: bool) -> Result<Connector, String> {
        let tls = if target.tls {
            let connector = native_tls::TlsConnector::builder()
                .danger_accept_invalid_certs(true)
                .danger_accept_invalid_hostnames(true)
                .build()
                .map_err(|e| format!("TLS setup: {e}"))?;
            Some(connector.into())
        } else {
            None
        };
        Ok(Connector {
            target,
            tls,
            extensions: offer_deflate
                .then(|| "permessage-deflate; client_no_context_takeover".to_string()),
            h2: None,
        })
    }

    /// Opens WebSockets as RFC 8441 streams instead: h2c for ws://, h2
    /// (TLS, ALPN) for wss://, `streams_per_connection` WebSockets on each
    /// HTTP/2 connection; each new connection first sends `warmup` GETs
    /// of / (see [`H2Dialer::warming_up`]).
    pub fn over_h2(
        mut self,
        streams_per_connection: usize,
        warmup: usize,
    ) -> Result<Connector, String> {
        self.h2 =
            Some(H2Dialer::new(self.target.clone(), streams_per_connection)?.warming_up(warmup));
        Ok(self)
    }

    /// "http/1.1", "h2c" or "h2".
    pub fn protocol(&self) -> &'static str {
        self.h2.as_ref().map_or("http/1.1", H2Dialer::protocol)
    }

    /// TCP connections opened so far: one a WebSocket over HTTP/1.1, one
    /// per `streams_per_connection` over HTTP/2 (not counted for
    /// HTTP/1.1: 0).
    pub fn tcp_connections(&self) -> usize {
        self.h2.as_ref().map_or(0, H2Dialer::connections)
    }

    /// Offers these extensions instead (e.g. Chromium's
    /// `permessage-deflate; client_max_window_bits`).
    pub fn offering(mut self, extensions: &str) -> Connector {
        self.extensions = Some(extensions.to_string());
        self
    }

    pub async fn connect(&self) -> Result<Conn, String> {
        tokio::time::timeout(HANDSHAKE_TIMEOUT, self.open())
            .await
            .map_err(|_| "the handshake timed out".to_string())?
    }

    async fn open(&self) -> Result<Conn, String> {
        if let Some(h2) = &self.h2 {
            return h2.open(self.extensions.as_deref()).await;
        }
        let tcp = TcpStream::connect(self.target.addr)
            .await
            .map_err(|e| format!("connecting to {}: {e}", self.target.addr))?;
        tcp.set_nodelay(true).map_err(|e| e.to_string())?;
        match &self.tls {
            None => {
                let (r, w) = tcp.into_split();
                self.handshake(Box::new(r), Box::new(w)).await
            }
            Some(tls) => {
                let stream = tls
                    .connect(&self.target.host, tcp)
                    .await
                    .map_err(|e| format!("TLS handshake: {e}"))?;
                let (r, w) = tokio::io::split(stream);
                self.handshake(Box::new(r), Box::new(w)).await
            }
        }
    }

    async fn handshake(&self, mut reader: ReadHalf, mut writer: WriteHalf) -> Result<Conn, String> {
        let key = generate_key();
        let extensions = match &self.extensions {
            Some(offer) => format!("Sec-WebSocket-Extensions: {offer}\r\n"),
            None => String::new(),
        };
        let request = format!(
            "GET {} HTTP/1.1\r\nHost: {}:{}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{extensions}\r\n",
            self.target.path,
            self.target.host,
            self.target.addr.port()
        );
        writer
            .write_all(request.as_bytes())
            .await
            .map_err(|e| format!("sending the handshake: {e}"))?;
        let mut head = Vec::new();
        let mut chunk = [0u8; 1024];
        let end = loop {
            if let Some(len) = head_len(&head) {
                break len;
            }
            if head.len() > MAX_RESPONSE_HEAD {
                return Err("the handshake response is too long".into());
            }
            let n = reader
                .read(&mut chunk)
                .await
                .map_err(|e| format!("reading the handshake: {e}"))?;
            if n == 0 {
                return Err("the server closed during the handshake".into());
            }
            head.extend_from_slice(&chunk[..n]);
        };
        let response = ResponseHead::parse(&head[..end]);
        if !response.status().starts_with("http/1.1 101") {
            return Err(format!(
                "the server answered '{}' instead of 101",
                response.status()
            ));
        }
        let accept = derive_accept_key(key.as_bytes()).to_ascii_lowercase();
        if response.header("sec-websocket-accept") != Some(accept.as_str()) {
            return Err("wrong Sec-WebSocket-Accept".into());
        }
        let deflate = response
            .header("sec-websocket-extensions")
            .is_some_and(|v| v.starts_with("permessage-deflate"));
        Ok(Conn {
            reader: Reader::new(reader, &head[end..], deflate),
            writer,
            deflate,
        })
    }
}
