//! WebSockets over HTTP/2 (RFC 8441): each WebSocket is an extended CONNECT
//! stream (`:protocol websocket`) of an HTTP/2 connection, h2c (cleartext,
//! prior knowledge) for ws:// and h2 (TLS, ALPN "h2") for wss://. Several
//! WebSockets may share one connection (`streams_per_connection`). A stream
//! is handed out as the same [`Conn`] (byte reader and writer) a WebSocket
//! over TCP is, so the echo code serves both transports unchanged.
use std::cell::{Cell, RefCell};
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::{Buf, Bytes};
use h2::client::SendRequest;
use h2::{Ping, RecvStream, SendStream};
use http::{Method, Request, StatusCode};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::codec::Reader;
use crate::conn::Conn;
use crate::target::Target;

/// The client's receive windows: a browser's (Chromium's 6 MiB a stream,
/// 15 MiB a connection), so large echoes are not held back by the client.
const STREAM_WINDOW: u32 = 6 * 1024 * 1024;
const CONNECTION_WINDOW: u32 = 15 * 1024 * 1024;

pub struct H2Dialer {
    target: Target,
    tls: Option<tokio_native_tls::TlsConnector>,
    streams_per_connection: usize,
    /// GETs of / each new connection sends, one after another, before its
    /// first WebSocket (see [`H2Dialer::warming_up`]).
    warmup: usize,
    /// The connection new streams go to, and how many it carries.
    current: RefCell<Option<(SendRequest<Bytes>, usize)>>,
    connections: Cell<usize>,
}

impl H2Dialer {
    pub fn new(target: Target, streams_per_connection: usize) -> Result<H2Dialer, String> {
        let tls = if target.tls {
            let connector = native_tls::TlsConnector::builder()
                .danger_accept_invalid_certs(true)
                .danger_accept_invalid_hostnames(true)
                .request_alpns(&["h2"])
                .build()
                .map_err(|e| format!("TLS setup: {e}"))?;
            Some(connector.into())
        } else {
            None
        };
        Ok(H2Dialer {
            target,
            tls,
            streams_per_connection: streams_per_connection.max(1),
            warmup: 0,
            current: RefCell::new(None),
            connections: Cell::new(0),
        })
    }

    /// Each new connection first sends `gets` GETs of `/`, one at a time.
    /// mod_http2 starts at most 6 streams of a new connection at once and
    /// raises that limit (doubling, up to H2MaxWorkers) only as streams
    /// finish; WebSockets never do, so without finished requests before
    /// them, only 6 WebSockets of one connection are answered.
    pub fn warming_up(mut self, gets: usize) -> H2Dialer {
        self.warmup = gets;
        self
    }

    /// "h2c" or "h2".
    pub fn protocol(&self) -> &'static str {
        if self.tls.is_some() {
            "h2"
        } else {
            "h2c"
        }
    }

    /// HTTP/2 connections opened so far.
    pub fn connections(&self) -> usize {
        self.connections.get()
    }

    /// Opens a WebSocket on the current connection, or on a new one when
    /// the current one carries `streams_per_connection` already.
    /// `extensions`: the `sec-websocket-extensions` offer, if any.
    pub async fn open(&self, extensions: Option<&str>) -> Result<Conn, String> {
        let shared = match self.current.borrow_mut().as_mut() {
            Some((send, n)) if *n < self.streams_per_connection => {
                *n += 1;
                Some(send.clone())
            }
            _ => None,
        };
        let send = match shared {
            Some(send) => send,
            None => {
                let send = self.connect().await?;
                *self.current.borrow_mut() = Some((send.clone(), 1));
                self.connections.set(self.connections.get() + 1);
                send
            }
        };
        self.websocket(send, extensions).await
    }

    async fn connect(&self) -> Result<SendRequest<Bytes>, String> {
        let send = self.handshake().await?;
        for _ in 0..self.warmup {
            self.get(send.clone()).await?;
        }
        Ok(send)
    }

    /// One GET of / and its whole body.
    async fn get(&self, send: SendRequest<Bytes>) -> Result<(), String> {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        let uri = format!(
            "{scheme}://{}:{}/",
            self.target.host,
            self.target.addr.port()
        );
        let request = Request::get(uri).body(()).map_err(|e| e.to_string())?;
        let mut send = send
            .ready()
            .await
            .map_err(|e| format!("the HTTP/2 connection: {e}"))?;
        let (response, _) = send
            .send_request(request, true)
            .map_err(|e| format!("sending a warm-up GET: {e}"))?;
        let response = response.await.map_err(|e| format!("a warm-up GET: {e}"))?;
        if !response.status().is_success() {
            return Err(format!("a warm-up GET of / got {}", response.status()));
        }
        let mut body = response.into_body();
        while let Some(data) = body.data().await {
            let data = data.map_err(|e| format!("a warm-up GET's body: {e}"))?;
            let _ = body.flow_control().release_capacity(data.len());
        }
        Ok(())
    }

    async fn handshake(&self) -> Result<SendRequest<Bytes>, String> {
        let tcp = TcpStream::connect(self.target.addr)
            .await
            .map_err(|e| format!("connecting to {}: {e}", self.target.addr))?;
        tcp.set_nodelay(true).map_err(|e| e.to_string())?;
        match &self.tls {
            None => start(tcp).await,
            Some(tls) => {
                let stream = tls
                    .connect(&self.target.host, tcp)
                    .await
                    .map_err(|e| format!("TLS handshake: {e}"))?;
                let alpn = stream.get_ref().negotiated_alpn().ok().flatten();
                if alpn.as_deref() != Some(b"h2") {
                    return Err("the server did not choose h2 (ALPN)".into());
                }
                start(stream).await
            }
        }
    }

    /// The extended CONNECT (RFC 8441 §4, §5) on a new stream.
    async fn websocket(
        &self,
        send: SendRequest<Bytes>,
        extensions: Option<&str>,
    ) -> Result<Conn, String> {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        let uri = format!(
            "{scheme}://{}:{}{}",
            self.target.host,
            self.target.addr.port(),
            self.target.path
        );
        let mut request = Request::builder()
            .method(Method::CONNECT)
            .uri(uri)
            .header("sec-websocket-version", "13");
        if let Some(offer) = extensions {
            request = request.header("sec-websocket-extensions", offer);
        }
        let mut request = request.body(()).map_err(|e| e.to_string())?;
        request
            .extensions_mut()
            .insert(h2::ext::Protocol::from_static("websocket"));
        let mut send = send
            .ready()
            .await
            .map_err(|e| format!("the HTTP/2 connection: {e}"))?;
        let (response, stream) = send
            .send_request(request, false)
            .map_err(|e| format!("sending the CONNECT: {e}"))?;
        let response = response
            .await
            .map_err(|e| format!("awaiting the CONNECT's response: {e}"))?;
        if response.status() != StatusCode::OK {
            return Err(format!(
                "the server answered {} instead of 200",
                response.status()
            ));
        }
        let deflate = response
            .headers()
            .get("sec-websocket-extensions")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("permessage-deflate"));
        let reader = StreamRead {
            recv: response.into_body(),
            chunk: Bytes::new(),
        };
        Ok(Conn {
            reader: Reader::new(Box::new(reader), &[], deflate),
            writer: Box::new(StreamWrite {
                send: stream,
                ended: false,
            }),
            deflate,
        })
    }
}

/// The HTTP/2 handshake, then waits until the server's SETTINGS allow
/// extended CONNECT. The connection runs in its own task.
async fn start<T>(io: T) -> Result<SendRequest<Bytes>, String>
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (send, mut connection) = h2::client::Builder::new()
        .initial_window_size(STREAM_WINDOW)
        .initial_connection_window_size(CONNECTION_WINDOW)
        .handshake::<_, Bytes>(io)
        .await
        .map_err(|e| format!("the HTTP/2 handshake: {e}"))?;
    let mut ping = connection.ping_pong().expect("taken once, here");
    tokio::spawn(async move {
        // Its errors reach the streams, which report them.
        let _ = connection.await;
    });
    // The server's SETTINGS come first in its preface, and h2 applies them
    // before it reads the next frame: once the PING is answered they are in.
    ping.ping(Ping::opaque())
        .await
        .map_err(|e| format!("the HTTP/2 handshake: {e}"))?;
    if !send.is_extended_connect_protocol_enabled() {
        return Err(
            "the server did not send SETTINGS_ENABLE_CONNECT_PROTOCOL=1 (H2WebSockets off?)".into(),
        );
    }
    Ok(send)
}

/// A stream's DATA as bytes; each chunk's window is given back as it
/// arrives (the reader above buffers it).
struct StreamRead {
    recv: RecvStream,
    chunk: Bytes,
}

impl AsyncRead for StreamRead {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        while this.chunk.is_empty() {
            match ready!(this.recv.poll_data(cx)) {
                None => return Poll::Ready(Ok(())),
                Some(Ok(data)) => {
                    let _ = this.recv.flow_control().release_capacity(data.len());
                    this.chunk = data;
                }
                Some(Err(e)) => return Poll::Ready(Err(io::Error::other(e))),
            }
        }
        let n = buf.remaining().min(this.chunk.len());
        buf.put_slice(&this.chunk[..n]);
        this.chunk.advance(n);
        Poll::Ready(Ok(()))
    }
}

/// Bytes into DATA frames, as the server's window allows; shutdown ends
/// the stream (END_STREAM).
struct StreamWrite {
    send: SendStream<Bytes>,
    ended: bool,
}

impl AsyncWrite for StreamWrite {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        this.send.reserve_capacity(buf.len());
        let n = match ready!(this.send.poll_capacity(cx)) {
            None => {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::BrokenPipe,
                    "the HTTP/2 stream is closed",
                )))
            }
            Some(Err(e)) => return Poll::Ready(Err(io::Error::other(e))),
            Some(Ok(n)) => n.min(buf.len()),
        };
        this.send
            .send_data(Bytes::copy_from_slice(&buf[..n]), false)
            .map_err(io::Error::other)?;
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.ended {
            this.ended = true;
            let _ = this.send.send_data(Bytes::new(), true);
        }
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use bytes::Bytes;
    use http::Response;
    use tokio::net::TcpListener;
    use wscore::frame::FrameHeader;

    use crate::conn::Connector;
    use crate::echo::{self, EchoConfig};
    use crate::target::Target;

    /// A minimal RFC 8441 echo server: h2c, extended CONNECT enabled unless
    /// `refuse`; each stream's client frames come back unmasked.
    async fn server(refuse: bool) -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::task::spawn_local(async move {
            loop {
                let (tcp, _) = listener.accept().await.unwrap();
                tokio::task::spawn_local(async move {
                    let mut builder = h2::server::Builder::new();
                    if !refuse {
                        builder.enable_connect_protocol();
                    }
                    let mut conn = builder.handshake::<_, Bytes>(tcp).await.unwrap();
                    while let Some(Ok((request, mut respond))) = conn.accept().await {
                        if request.method() == http::Method::GET {
                            // A warm-up GET.
                            assert_eq!(request.uri().path(), "/");
                            let mut send = respond.send_response(Response::new(()), false).unwrap();
                            send.send_data(Bytes::from_static(b"<p>hi"), true).unwrap();
                            continue;
                        }
                        let protocol = request.extensions().get::<h2::ext::Protocol>();
                        assert_eq!(protocol.map(|p| p.as_str()), Some("websocket"));
                        assert_eq!(request.uri().path(), "/echo");
                        let mut send = respond.send_response(Response::new(()), false).unwrap();
                        let mut recv = request.into_body();
                        tokio::task::spawn_local(async move {
                            let mut buf = Vec::new();
                            while let Some(Ok(data)) = recv.data().await {
                                let _ = recv.flow_control().release_capacity(data.len());
                                buf.extend_from_slice(&data);
                                let mut out = Vec::new();
                                while let Ok(Some((h, len))) = FrameHeader::parse(&buf) {
                                    let end = len + h.payload_len as usize;
                                    if buf.len() < end {
                                        break;
                                    }
                                    let mask = h.mask.unwrap();
                                    out.extend_from_slice(&[0x80 | h.opcode, h.payload_len as u8]);
                                    out.extend(
                                        buf[len..end]
                                            .iter()
                                            .enumerate()
                                            .map(|(i, b)| b ^ mask[i % 4]),
                                    );
                                    buf.drain(..end);
                                }
                                send.send_data(Bytes::from(out), false).unwrap();
                            }
                            let _ = send.send_data(Bytes::new(), true);
                        });
                    }
                });
            }
        });
        port
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn echoes_over_shared_and_separate_connections() {
        let local = tokio::task::LocalSet::new();
        local.block_on(&runtime(), async {
            let port = server(false).await;
            let url = format!("ws://127.0.0.1:{port}/echo");
            for (streams, warmup, connections) in [(4, 0, 1), (4, 3, 1), (2, 0, 2), (1, 0, 4)] {
                let connector = Connector::new(Target::parse(&url).unwrap(), false)
                    .unwrap()
                    .over_h2(streams, warmup)
                    .unwrap();
                let config = EchoConfig {
                    connections: 4,
                    size: 32,
                    in_flight: 2,
                    duration: Duration::from_millis(300),
                    binary: false,
                    server_pids: vec![],
                };
                let report = echo::run(&connector, &config).await.unwrap();
                assert_eq!(report.errors, 0, "{:?}", report.first_error);
                assert!(report.messages > 0);
                assert_eq!(connector.tcp_connections(), connections);
            }
        });
    }

    #[test]
    fn a_server_without_extended_connect_is_an_error() {
        let local = tokio::task::LocalSet::new();
        local.block_on(&runtime(), async {
            let port = server(true).await;
            let url = format!("ws://127.0.0.1:{port}/echo");
            let connector = Connector::new(Target::parse(&url).unwrap(), false)
                .unwrap()
                .over_h2(1, 0)
                .unwrap();
            let err = connector.connect().await.err().unwrap();
            assert!(err.contains("SETTINGS_ENABLE_CONNECT_PROTOCOL"), "{err}");
        });
    }
}
