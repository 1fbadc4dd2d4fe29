//! wsecho: the plain tokio-tungstenite WebSocket echo server the benchmark
//! compares the module with (alone, and behind mod_proxy_wstunnel). Listens
//! on 127.0.0.1 only; one thread (the benchmark pins it to one core).
//! `--broadcast` sends every message to every connection instead of back
//! to its sender (the fan-out benchmark's peer of the `chat` handler).
//!
//!   wsecho --port 9100 [--broadcast] [--tls-cert cert.pem --tls-key key.pem]
use std::process::ExitCode;
use std::rc::Rc;

use futures_util::{SinkExt, StreamExt};
use loadgen::args::Args;
use loadgen::fanout_peer::Room;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio_tungstenite::WebSocketStream;

fn main() -> ExitCode {
    match serve() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wsecho: {e}");
            ExitCode::from(2)
        }
    }
}

fn serve() -> Result<(), String> {
    let args = Args::parse(std::env::args().skip(1), &["broadcast"])?;
    args.reject_unknown(&["port", "tls-cert", "tls-key"])?;
    let port = args.bounded("port", 9100, 65535)? as u16;
    let tls = match (args.text("tls-cert"), args.text("tls-key")) {
        (Some(cert), Some(key)) => {
            let read = |p: &str| std::fs::read(p).map_err(|e| format!("{p}: {e}"));
            let identity = native_tls::Identity::from_pkcs8(&read(cert)?, &read(key)?)
                .map_err(|e| format!("TLS identity: {e}"))?;
            let acceptor = native_tls::TlsAcceptor::new(identity).map_err(|e| e.to_string())?;
            Some(tokio_native_tls::TlsAcceptor::from(acceptor))
        }
        (None, None) => None,
        _ => return Err("--tls-cert and --tls-key go together".into()),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    // Broadcast shares the room between connections: one thread, local tasks.
    let room = args.switch("broadcast").then(|| Rc::new(Room::default()));
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async move {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|e| format!("listening on 127.0.0.1:{port}: {e}"))?;
        loop {
            let (tcp, _) = listener.accept().await.map_err(|e| e.to_string())?;
            let _ = tcp.set_nodelay(true);
            let (tls, room) = (tls.clone(), room.clone());
            tokio::task::spawn_local(async move {
                match tls {
                    None => serve_one(tcp, room).await,
                    Some(tls) => {
                        if let Ok(stream) = tls.accept(tcp).await {
                            serve_one(stream, room).await
                        }
                    }
                }
            });
        }
    })
}

async fn serve_one<S: AsyncRead + AsyncWrite + Unpin>(stream: S, room: Option<Rc<Room>>) {
    let Ok(ws) = tokio_tungstenite::accept_async(stream).await else {
        return;
    };
    match room {
        Some(room) => room.serve(ws).await,
        None => echo(ws).await,
    }
}

async fn echo<S: AsyncRead + AsyncWrite + Unpin>(mut ws: WebSocketStream<S>) {
    while let Some(Ok(message)) = ws.next().await {
        if (message.is_text() || message.is_binary()) && ws.send(message).await.is_err() {
            return;
        }
    }
}
