//! Integration-test harness: a real httpd with its own config, pid file,
//! ports and logs under target/itest/, loading the built module, and real
//! WebSocket clients (tungstenite) over ws and wss.
#![allow(dead_code)] // each test file uses a different part of the harness

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tungstenite::stream::MaybeTlsStream;
use tungstenite::WebSocket;

mod driver;
#[allow(unused_imports)] // each test file uses a different part of the harness
pub use driver::event_pass;

pub type Client = WebSocket<MaybeTlsStream<TcpStream>>;

/// Lets `for_how_long` pass reading nothing but control frames, as an
/// idle browser does: pings are answered (tungstenite queues the pong and
/// writes it on the next read). Any message is a failure.
#[allow(dead_code)] // not every test file uses it
pub fn stay_idle(ws: &mut Client, for_how_long: Duration) {
    let set_timeout = |ws: &mut Client, timeout| match ws.get_mut() {
        MaybeTlsStream::Plain(tcp) => tcp.set_read_timeout(timeout).unwrap(),
        MaybeTlsStream::NativeTls(tls) => tls.get_mut().set_read_timeout(timeout).unwrap(),
        _ => unreachable!("the tests use plain and native-tls streams"),
    };
    set_timeout(ws, Some(Duration::from_millis(100)));
    let end = Instant::now() + for_how_long;
    while Instant::now() < end {
        match ws.read() {
            Ok(tungstenite::Message::Ping(_) | tungstenite::Message::Pong(_)) => {}
            Ok(other) => panic!("a message while idle: {other:?}"),
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) => panic!("the connection failed while idle: {e}"),
        }
    }
    set_timeout(ws, None);
}

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The module under test: $RSWEBSOCKET_MODULE, else the one `make build` leaves.
pub fn module_path() -> PathBuf {
    let path = std::env::var_os("RSWEBSOCKET_MODULE")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target/release/mod_rswebsocket.so"));
    assert!(
        path.exists(),
        "{} does not exist: run `make build` (or `make test`) first",
        path.display()
    );
    path
}

fn apache_binary() -> &'static str {
    if Path::new("/usr/sbin/apache2").exists() {
        "/usr/sbin/apache2"
    } else {
        "httpd"
    }
}

/// A loopback port nobody listens on right now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free loopback port")
}

/// How to configure one test server.
#[derive(Clone)]
pub struct Setup {
    pub mpm: &'static str,
    /// Replaces the default `WebSocketHandlerRoot apache-conf/handlers`.
    pub handler_config: Option<String>,
    /// Appended at server level.
    pub extra: String,
    pub log_level: &'static str,
    /// Whether the pass's driver (RSWEBSOCKET_TEST_DRIVER) is configured;
    /// false leaves the module's default.
    pub pass_driver: bool,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            mpm: "event",
            handler_config: None,
            extra: String::new(),
            log_level: "warn rswebsocket:debug",
            pass_driver: true,
        }
    }
}

impl Setup {
    pub fn mpm(mut self, mpm: &'static str) -> Self {
        self.mpm = mpm;
        self
    }

    pub fn extra(mut self, extra: &str) -> Self {
        self.extra.push_str(extra);
        self.extra.push('\n');
        self
    }

    /// One Apache child holding every connection (threaded MPMs), so
    /// per-process state such as chat rooms is shared by all clients.
    pub fn one_child(self) -> Self {
        self.extra(
            "StartServers 1\nServerLimit 1\nThreadsPerChild 64\nMaxRequestWorkers 64\n\
             MinSpareThreads 1\nMaxSpareThreads 128",
        )
    }

    /// No `WebSocketDriver` line from the pass: the module's default.
    pub fn module_default_driver(mut self) -> Self {
        self.pass_driver = false;
        self
    }

    pub fn handler_config(mut self, config: &str) -> Self {
        self.handler_config = Some(config.to_string());
        self
    }
}

pub struct Apache {
    pub root: PathBuf,
    pub port: u16,
    pub tls_port: u16,
    child: Child,
}

static SERVERS: AtomicUsize = AtomicUsize::new(0);

/// A fresh server root for one test under target/itest/.
pub fn test_root(name: &str) -> PathBuf {
    let n = SERVERS.fetch_add(1, Ordering::SeqCst);
    let root = workspace()
        .join("target/itest")
        .join(format!("{name}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    root
}

/// Renders the shared template (apache-conf/render-conf.sh) for `setup`.
pub fn render_config(root: &Path, port: u16, tls_port: u16, setup: &Setup) -> std::process::Output {
    let extra = if setup.pass_driver {
        driver::with_test_driver(&setup.extra)
    } else {
        setup.extra.clone()
    };
    let mut render = Command::new(workspace().join("apache-conf/render-conf.sh"));
    render
        .arg(root)
        .env("PORT", port.to_string())
        .env("TLS_PORT", tls_port.to_string())
        .env("MPM", setup.mpm)
        .env("MODULE", module_path())
        .env("LOG_LEVEL", setup.log_level)
        .env("EXTRA", extra);
    if let Some(handler_config) = &setup.handler_config {
        render.env("HANDLER_CONFIG", handler_config);
    }
    let out = render.output().expect("cannot run render-conf.sh");
    assert!(out.status.success(), "render-conf.sh failed: {out:?}");
    out
}

/// `apache2 -t` on a rendered config: (success, what it printed).
pub fn config_test(name: &str, setup: &Setup) -> (bool, String) {
    let root = test_root(name);
    render_config(&root, free_port(), free_port(), setup);
    let out = Command::new(apache_binary())
        .arg("-t")
        .arg("-f")
        .arg(root.join("httpd.conf"))
        .output()
        .expect("cannot run apache2 -t");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

impl Apache {
    pub fn start(name: &str, setup: Setup) -> Apache {
        let mut last_error = String::new();
        // A port picked free may be taken by a parallel test before httpd binds it.
        for _ in 0..5 {
            match Apache::try_start(name, &setup) {
                Ok(apache) => return apache,
                Err(e) => last_error = e,
            }
        }
        panic!("httpd did not start: {last_error}");
    }

    fn try_start(name: &str, setup: &Setup) -> Result<Apache, String> {
        let root = test_root(name);
        let (port, tls_port) = (free_port(), free_port());
        render_config(&root, port, tls_port, setup);
        let child = Command::new(apache_binary())
            .arg("-f")
            .arg(root.join("httpd.conf"))
            .arg("-DFOREGROUND")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(root.join("stderr.log")).unwrap())
            // prefork signals its whole process group on shutdown.
            .process_group(0)
            .spawn()
            .map_err(|e| format!("cannot spawn {}: {e}", apache_binary()))?;
        let mut apache = Apache {
            root,
            port,
            tls_port,
            child,
        };
        apache.wait_ready()?;
        Ok(apache)
    }

    /// Ready once the pid file names our child and both ports accept.
    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(15);
        let pid = self.child.id().to_string();
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "httpd exited with {status}: {}{}",
                    std::fs::read_to_string(self.root.join("stderr.log")).unwrap_or_default(),
                    self.error_log()
                ));
            }
            let pid_ok = std::fs::read_to_string(self.root.join("httpd.pid"))
                .map(|p| p.trim() == pid)
                .unwrap_or(false);
            if pid_ok
                && TcpStream::connect(("127.0.0.1", self.port)).is_ok()
                && TcpStream::connect(("127.0.0.1", self.tls_port)).is_ok()
            {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(format!("httpd not ready after 15 s: {}", self.error_log()))
    }

    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.root.join("error.log")).unwrap_or_default()
    }

    pub fn access_log(&self) -> String {
        std::fs::read_to_string(self.root.join("access.log")).unwrap_or_default()
    }

    pub fn url(&self, path: &str) -> String {
        format!("ws://127.0.0.1:{}{path}", self.port)
    }

    pub fn tls_url(&self, path: &str) -> String {
        format!("wss://127.0.0.1:{}{path}", self.tls_port)
    }

    /// A WebSocket client over plain TCP.
    pub fn connect(&self, path: &str) -> Client {
        let (ws, _) = tungstenite::connect(self.url(path))
            .unwrap_or_else(|e| panic!("ws connect to {path} failed: {e}\n{}", self.error_log()));
        ws
    }

    /// A WebSocket client over TLS (trusting the test's self-signed certificate).
    pub fn connect_tls(&self, path: &str) -> Client {
        self.connect_tls_result(path)
            .unwrap_or_else(|e| panic!("wss connect to {path} failed: {e}\n{}", self.error_log()))
    }

    pub fn connect_tls_result(&self, path: &str) -> Result<Client, String> {
        let tcp = TcpStream::connect(("127.0.0.1", self.tls_port)).map_err(|e| e.to_string())?;
        tungstenite::client_tls_with_config(self.tls_url(path), tcp, None, Some(tls_connector()))
            .map(|(ws, _)| ws)
            .map_err(|e| e.to_string())
    }

    /// A WebSocket client over TLS when `tls`, else plain TCP.
    pub fn connect_over(&self, tls: bool, path: &str) -> Client {
        if tls {
            self.connect_tls(path)
        } else {
            self.connect(path)
        }
    }

    /// A handshake with an `Origin` header, over TLS when `tls`.
    pub fn connect_with_origin(
        &self,
        tls: bool,
        path: &str,
        origin: &str,
    ) -> Result<Client, Box<tungstenite::Error>> {
        use tungstenite::client::IntoClientRequest;
        let url = if tls {
            self.tls_url(path)
        } else {
            self.url(path)
        };
        let mut request = url.into_client_request().map_err(Box::new)?;
        request
            .headers_mut()
            .insert("Origin", origin.parse().expect("bad origin header value"));
        let port = if tls { self.tls_port } else { self.port };
        let tcp = TcpStream::connect(("127.0.0.1", port)).map_err(|e| Box::new(e.into()))?;
        let connector = tls.then(tls_connector);
        tungstenite::client_tls_with_config(request, tcp, None, connector)
            .map(|(ws, _)| ws)
            .map_err(|e| match e {
                tungstenite::HandshakeError::Failure(e) => Box::new(e),
                tungstenite::HandshakeError::Interrupted(_) => {
                    unreachable!("blocking handshake interrupted")
                }
            })
    }

    /// Sends raw request bytes over TCP and returns the response head and
    /// body (as far as Content-Length says, or until the server closes).
    pub fn raw(&self, request: &[u8]) -> RawResponse {
        raw_exchange(
            TcpStream::connect(("127.0.0.1", self.port)).unwrap(),
            request,
        )
    }

    pub fn get(&self, path: &str) -> RawResponse {
        self.raw(
            format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
    }

    /// `apache2 -k ACTION` on this server (graceful, graceful-stop, stop).
    pub fn apachectl(&self, action: &str) {
        let status = Command::new(apache_binary())
            .arg("-f")
            .arg(self.root.join("httpd.conf"))
            .arg("-k")
            .arg(action)
            .status()
            .expect("cannot run apache2 -k");
        assert!(status.success(), "apache2 -k {action} failed");
    }

    /// Waits up to `limit` for httpd to exit; how long it took.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<Duration> {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Ok(Some(_)) = self.child.try_wait() {
                return Some(start.elapsed());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }

    /// Error-log lines containing `needle`.
    pub fn log_lines(&self, needle: &str) -> Vec<String> {
        lines_containing(&self.error_log(), needle)
    }

    /// Error-log lines containing `needle`, once there are at least
    /// `count` (or after 20 s): Apache may write a line just after the
    /// client saw what it describes, later still on a busy machine.
    pub fn wait_log_lines(&self, needle: &str, count: usize) -> Vec<String> {
        wait_for_lines(|| self.error_log(), needle, count)
    }

    /// Access-log lines containing `needle`, once there are at least
    /// `count` (or after 20 s): a request is logged after it ends.
    pub fn wait_access_log_lines(&self, needle: &str, count: usize) -> Vec<String> {
        wait_for_lines(|| self.access_log(), needle, count)
    }
}

fn lines_containing(text: &str, needle: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.contains(needle))
        .map(str::to_string)
        .collect()
}

fn wait_for_lines(read: impl Fn() -> String, needle: &str, count: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let lines = lines_containing(&read(), needle);
        if lines.len() >= count || Instant::now() > deadline {
            return lines;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl Drop for Apache {
    fn drop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return; // already stopped by the test
        }
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn tls_connector() -> tungstenite::Connector {
    let connector = native_tls::TlsConnector::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    tungstenite::Connector::NativeTls(connector)
}

#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

impl RawResponse {
    /// A response header's value (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().skip(1).find_map(|line| {
            let (k, v) = line.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    }
}

pub fn raw_exchange(stream: TcpStream, request: &[u8]) -> RawResponse {
    // Longer than any wait of the server's (HyBi-00's 10 s for the key's
    // last bytes), so the server's answer always comes first.
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    exchange(stream, request)
}

/// Sends raw handshake bytes (e.g. [`upgrade_request`]'s) over wss when
/// `tls` (trusting the test's certificate), else ws, and reads the
/// response as [`raw_exchange`] does. On a 101 the
/// stream goes on as a tungstenite client (what came after the head
/// included), so a handshake tungstenite would not write (or would not
/// accept the answer to) can still carry messages; else `None`.
pub fn raw_upgrade(apache: &Apache, tls: bool, request: &[u8]) -> (RawResponse, Option<Client>) {
    let port = if tls { apache.tls_port } else { apache.port };
    let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut stream = if tls {
        let connector = native_tls::TlsConnector::builder()
            .danger_accept_invalid_certs(true)
            .build()
            .unwrap();
        MaybeTlsStream::NativeTls(
            connector
                .connect("127.0.0.1", tcp)
                .unwrap_or_else(|e| panic!("TLS handshake failed: {e}")),
        )
    } else {
        MaybeTlsStream::Plain(tcp)
    };
    let response = exchange(&mut stream, request);
    if response.status != 101 {
        return (response, None);
    }
    let ws = WebSocket::from_partially_read(
        stream,
        response.body.clone(),
        tungstenite::protocol::Role::Client,
        None,
    );
    (response, Some(ws))
}

/// Writes `request` and reads the response head, and the body unless the
/// status is 101 (as far as Content-Length says, or until the server closes).
fn exchange(mut stream: impl Read + Write, request: &[u8]) -> RawResponse {
    stream.write_all(request).unwrap();
    let mut data = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break Some(i + 4);
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break None,
            Ok(n) => data.extend_from_slice(&chunk[..n]),
        }
    };
    let Some(head_end) = head_end else {
        return RawResponse {
            status: 0,
            head: String::from_utf8_lossy(&data).to_string(),
            body: Vec::new(),
        };
    };
    let head = String::from_utf8_lossy(&data[..head_end]).to_string();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut response = RawResponse {
        status,
        head,
        body: data[head_end..].to_vec(),
    };
    if status == 101 {
        return response;
    }
    let length: Option<usize> = response
        .header("Content-Length")
        .and_then(|v| v.parse().ok());
    while length.is_none_or(|l| response.body.len() < l) {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => response.body.extend_from_slice(&chunk[..n]),
        }
    }
    response
}

/// A valid RFC 6455 upgrade request for `path` with extra header lines.
pub fn upgrade_request(path: &str, extra_headers: &str) -> Vec<u8> {
    format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{extra_headers}\r\n"
    )
    .into_bytes()
}

/// A WebSocket client speaking raw frames, for sending what a well-behaved
/// client library never would.
pub struct RawWs {
    pub stream: TcpStream,
}

/// A masked client frame.
pub fn frame(fin: bool, rsv: u8, opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    wscore::frame::encode_client_frame(
        fin,
        rsv,
        opcode,
        [0x12, 0x34, 0x56, 0x78],
        payload,
        &mut out,
    );
    out
}

impl RawWs {
    /// Opens `path` with a valid RFC 6455 handshake and checks the 101.
    pub fn open(apache: &Apache, path: &str) -> RawWs {
        let mut stream = TcpStream::connect(("127.0.0.1", apache.port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stream.write_all(&upgrade_request(path, "")).unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            assert_eq!(
                stream.read(&mut byte).unwrap(),
                1,
                "closed during handshake"
            );
            head.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&head);
        assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
        RawWs { stream }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).unwrap();
    }

    /// The next server frame: (first byte, payload). Server frames are unmasked.
    pub fn read_frame(&mut self) -> Option<(u8, Vec<u8>)> {
        let mut head = [0u8; 2];
        self.stream.read_exact(&mut head).ok()?;
        assert_eq!(head[1] & 0x80, 0, "server frames must not be masked");
        let len = match head[1] & 0x7f {
            126 => {
                let mut b = [0u8; 2];
                self.stream.read_exact(&mut b).unwrap();
                u16::from_be_bytes(b) as usize
            }
            127 => {
                let mut b = [0u8; 8];
                self.stream.read_exact(&mut b).unwrap();
                u64::from_be_bytes(b) as usize
            }
            n => n as usize,
        };
        let mut payload = vec![0u8; len];
        self.stream.read_exact(&mut payload).unwrap();
        Some((head[0], payload))
    }

    /// Reads frames until a close; returns its code (None if empty) and reason.
    pub fn expect_close(&mut self) -> (Option<u16>, String) {
        loop {
            let (first, payload) = self
                .read_frame()
                .expect("connection ended without a close frame");
            if first & 0x0f == 0x8 {
                let code =
                    (payload.len() >= 2).then(|| u16::from_be_bytes([payload[0], payload[1]]));
                let reason = String::from_utf8_lossy(payload.get(2..).unwrap_or(&[])).to_string();
                return (code, reason);
            }
        }
    }

    /// True when the server has closed the TCP connection.
    pub fn server_closed(&mut self) -> bool {
        let mut byte = [0u8; 1];
        matches!(self.stream.read(&mut byte), Ok(0) | Err(_))
    }
}

/// Reads until the server's close frame arrives: its code and reason.
pub fn server_close(ws: &mut Client) -> (u16, String) {
    loop {
        match ws.read() {
            Ok(tungstenite::Message::Close(Some(frame))) => {
                return (u16::from(frame.code), frame.reason.to_string())
            }
            Ok(tungstenite::Message::Close(None)) => panic!("close frame without a code"),
            Ok(_) => continue,
            Err(e) => panic!("connection ended without a close frame: {e}"),
        }
    }
}

/// Starts the closing handshake with this code and reason.
pub fn close_with(ws: &mut Client, code: u16, reason: &'static str) {
    ws.close(Some(tungstenite::protocol::CloseFrame {
        code: tungstenite::protocol::frame::coding::CloseCode::from(code),
        reason: reason.into(),
    }))
    .unwrap();
}
