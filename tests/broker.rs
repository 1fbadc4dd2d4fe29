//! `WebSocketBroker`: chat rooms across Apache children and servers through
//! a real redis-server started here, over ws and wss; Redis stopped
//! mid-run and unreachable at start-up; a bad URL.
mod common;

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{config_test, Apache, Client, Setup};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::Message;

const BOTH: [bool; 2] = [false, true];
const CONNECTED: &str = " connected (child ";
const UNREACHABLE: &str = "unreachable (";
const BACK: &str = "is back; ";
/// The multi-child warning of tests/broadcast_warning.rs.
const WARNING: &str = "relays messages within one Apache child";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free loopback port")
}

/// A redis-server of the test's own, on a loopback port.
struct Redis {
    port: u16,
    child: Option<Child>,
    extra: Vec<String>,
}

impl Redis {
    fn start() -> Redis {
        Redis::start_with(&[])
    }

    /// With more redis-server options.
    fn start_with(extra: &[&str]) -> Redis {
        let mut redis = Redis {
            port: free_port(),
            child: None,
            extra: extra.iter().map(|s| s.to_string()).collect(),
        };
        redis.run();
        redis
    }

    fn run(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .args(["--daemonize", "no", "--enable-debug-command", "yes"])
            .args(&self.extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cannot start redis-server (make test-deps installs it)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Makes the server sleep `seconds` (DEBUG SLEEP), answering nobody;
    /// returns at once, the server sleeping.
    fn sleep(&self, seconds: &str) -> std::thread::JoinHandle<()> {
        use std::io::{Read, Write};
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        let command = format!(
            "*3\r\n$5\r\nDEBUG\r\n$5\r\nSLEEP\r\n${}\r\n{seconds}\r\n",
            seconds.len()
        );
        stream.write_all(command.as_bytes()).unwrap();
        std::thread::spawn(move || {
            let mut reply = [0u8; 5];
            stream.read_exact(&mut reply).unwrap();
            assert_eq!(&reply, b"+OK\r\n");
        })
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One child holding every connection, sharing `url`'s rooms.
fn with_broker(url: &str) -> Setup {
    Setup::default()
        .one_child()
        .extra(&format!("WebSocketBroker {url}"))
}

/// Starts an Apache and waits until its children's brokers are connected.
fn start(name: &str, setup: Setup, children: usize) -> Apache {
    let apache = Apache::start(name, setup);
    let connected = apache.wait_log_lines(CONNECTED, children);
    assert!(
        connected.len() >= children,
        "brokers not connected:\n{}",
        apache.error_log()
    );
    apache
}

fn text(ws: &mut Client) -> String {
    match ws.read().unwrap() {
        Message::Text(text) => text.to_string(),
        other => panic!("expected a text message, got {other:?}"),
    }
}

/// Joins the chat room; the member's id (from its own join).
fn join(apache: &Apache, tls: bool) -> (Client, String) {
    let mut ws = apache.connect_over(tls, "/chat");
    let joined = text(&mut ws);
    let id = joined
        .strip_suffix(" joined")
        .unwrap_or_else(|| panic!("not a join: {joined}"))
        .to_string();
    // The join's way through Redis to the other servers' members, before
    // anyone joins there (who would hear it otherwise).
    std::thread::sleep(Duration::from_millis(300));
    (ws, id)
}

fn set_read_timeout(ws: &mut Client, timeout: Option<Duration>) {
    match ws.get_mut() {
        MaybeTlsStream::Plain(tcp) => tcp.set_read_timeout(timeout).unwrap(),
        MaybeTlsStream::NativeTls(tls) => tls.get_mut().set_read_timeout(timeout).unwrap(),
        _ => unreachable!(),
    }
}

/// Nothing arrives for `how_long`, and the connection stays open.
fn hears_nothing(ws: &mut Client, how_long: Duration) {
    set_read_timeout(ws, Some(how_long));
    match ws.read() {
        Err(tungstenite::Error::Io(e))
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) => {}
        other => panic!("expected silence, got {other:?}"),
    }
    set_read_timeout(ws, None);
}

/// `first` and `second` (members anywhere) each send `count` messages,
/// interleaved; every member of `all` hears all of them, each sender's in
/// its order.
fn chat_in_order(members: &mut [(Client, String)], count: usize) {
    for i in 0..count {
        for (ws, id) in members.iter_mut().take(2) {
            ws.send(Message::text(format!("{id} says {i}"))).unwrap();
        }
    }
    let senders: Vec<String> = members.iter().take(2).map(|(_, id)| id.clone()).collect();
    for (ws, _) in members.iter_mut() {
        let mut next = vec![0; senders.len()];
        for _ in 0..count * senders.len() {
            let got = text(ws);
            let (from, said) = got.split_once(": ").unwrap_or_else(|| panic!("{got}"));
            let s = senders
                .iter()
                .position(|id| id == from)
                .unwrap_or_else(|| panic!("from nobody expected: {got}"));
            assert_eq!(said, format!("{} says {}", senders[s], next[s]), "{got}");
            next[s] += 1;
        }
    }
}

#[test]
fn two_servers_share_a_room_over_ws_and_wss() {
    let redis = Redis::start();
    let a = start("broker-two-a", with_broker(&redis.url()), 1);
    let b = start("broker-two-b", with_broker(&redis.url()), 1);
    assert!(a.log_lines(WARNING).is_empty(), "{}", a.error_log());
    for tls in BOTH {
        let (mut on_a, id_a) = join(&a, tls);
        let (mut on_b, id_b) = join(&b, tls);
        assert_ne!(id_a, id_b);
        assert_eq!(text(&mut on_a), format!("{id_b} joined"));
        let (mut also_b, id_b2) = join(&b, tls);
        assert_eq!(text(&mut on_a), format!("{id_b2} joined"));
        assert_eq!(text(&mut on_b), format!("{id_b2} joined"));
        let mut members = vec![(on_a, id_a.clone()), (on_b, id_b.clone())];
        chat_in_order(&mut members, 20);
        // The third member, on B, heard both senders too.
        let mut next = [0, 0];
        for _ in 0..40 {
            let got = text(&mut also_b);
            let s = usize::from(got.starts_with(&format!("{id_b}:")));
            let id = [&id_a, &id_b][s];
            assert_eq!(got, format!("{id}: {id} says {}", next[s]));
            next[s] += 1;
        }
        // Binary goes as it came.
        members[1].0.send(Message::binary(vec![0, 1, 255])).unwrap();
        for ws in [&mut members[0].0, &mut also_b] {
            assert_eq!(ws.read().unwrap(), Message::binary(vec![0, 1, 255]));
        }
        assert_eq!(
            members[1].0.read().unwrap(),
            Message::binary(vec![0, 1, 255])
        );
        drop(members.pop()); // on_b goes away
        assert_eq!(text(&mut members[0].0), format!("{id_b} left"));
        assert_eq!(text(&mut also_b), format!("{id_b} left"));
        drop(also_b);
        assert_eq!(text(&mut members[0].0), format!("{id_b2} left"));
        drop(members);
        // Let on_a's leave reach B before the next round's members join.
        std::thread::sleep(Duration::from_millis(500));
    }
    // No member heard its own message twice, and no line of trouble.
    assert!(a.log_lines(UNREACHABLE).is_empty(), "{}", a.error_log());
    assert!(b.log_lines(UNREACHABLE).is_empty(), "{}", b.error_log());
}

#[test]
fn a_password_and_a_unix_socket_reach_the_same_redis() {
    let socket = format!("/tmp/rswebsocket-test-redis-{}.sock", free_port());
    let redis = Redis::start_with(&[
        "--unixsocket",
        &socket,
        "--unixsocketperm",
        "777",
        "--requirepass",
        "s3cret",
    ]);
    let a_url = format!("redis://:s3cret@127.0.0.1:{}/0", redis.port);
    let b_url = format!("unix://{socket}?db=0&pass=s3cret");
    let a = start("broker-auth-a", with_broker(&a_url), 1);
    let b = start("broker-unix-b", with_broker(&b_url), 1);
    for apache in [&a, &b] {
        assert!(
            !apache.error_log().contains("s3cret"),
            "{}",
            apache.error_log()
        );
    }
    assert!(a.error_log().contains("broker redis://***@127.0.0.1:"));
    assert!(b
        .error_log()
        .contains(&format!("broker unix://{socket} connected")));
    let (mut on_a, id_a) = join(&a, false);
    let (mut on_b, id_b) = join(&b, false);
    assert_eq!(text(&mut on_a), format!("{id_b} joined"));
    on_a.send(Message::text("hello")).unwrap();
    for ws in [&mut on_a, &mut on_b] {
        assert_eq!(text(ws), format!("{id_a}: hello"));
    }
    // A wrong password is an outage like any other: one error line.
    let wrong = format!("redis://:wrong@127.0.0.1:{}", redis.port);
    let c = Apache::start("broker-wrong-password", with_broker(&wrong));
    let down = c.wait_log_lines(UNREACHABLE, 1);
    assert_eq!(down.len(), 1, "{}", c.error_log());
    assert!(!down[0].contains("wrong"), "{}", down[0]);
    let _ = std::fs::remove_file(&socket);
}

#[test]
fn rediss_reaches_a_tls_redis() {
    let dir = common::test_root("broker-tls-redis");
    let (cert, key) = (dir.join("redis.crt"), dir.join("redis.key"));
    let made = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", "/CN=127.0.0.1", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("cannot run openssl");
    assert!(made.status.success(), "{made:?}");
    // The port the harness picks is TLS here; the plain one is off.
    let port = free_port();
    let (cert, key) = (cert.display().to_string(), key.display().to_string());
    let port_arg = port.to_string();
    let mut redis = Redis::start_with(&[
        "--tls-port",
        &port_arg,
        "--tls-cert-file",
        &cert,
        "--tls-key-file",
        &key,
        "--tls-ca-cert-file",
        &cert,
        "--tls-auth-clients",
        "no",
    ]);
    // A self-signed certificate: `#insecure` skips its check.
    let url = format!("rediss://127.0.0.1:{port}/#insecure");
    let a = start("broker-tls-a", with_broker(&url), 1);
    let b = start("broker-tls-b", with_broker(&url), 1);
    let (mut on_a, id_a) = join(&a, true);
    let (mut on_b, id_b) = join(&b, true);
    assert_eq!(text(&mut on_a), format!("{id_b} joined"));
    on_a.send(Message::text("over tls")).unwrap();
    for ws in [&mut on_a, &mut on_b] {
        assert_eq!(text(ws), format!("{id_a}: over tls"));
    }
    // Checked, the self-signed certificate is refused: one error line.
    let checked = format!("rediss://127.0.0.1:{port}");
    let c = Apache::start("broker-tls-checked", with_broker(&checked));
    let down = c.wait_log_lines(UNREACHABLE, 1);
    assert_eq!(down.len(), 1, "{}", c.error_log());
    redis.stop();
}

#[test]
fn members_in_different_prefork_children_chat() {
    let redis = Redis::start();
    let setup = Setup::default()
        .mpm("prefork")
        .extra("StartServers 4\nMinSpareServers 4\nMaxSpareServers 8")
        .extra(&format!("WebSocketBroker {}", redis.url()));
    let apache = start("broker-prefork", setup, 4);
    assert!(
        apache.log_lines(WARNING).is_empty(),
        "{}",
        apache.error_log()
    );
    let (mut first, id_1) = join(&apache, false);
    let (mut second, id_2) = join(&apache, true);
    // Prefork: a child per connection, so these are two processes.
    assert_ne!(
        id_1.split('-').next(),
        id_2.split('-').next(),
        "same child: {id_1} {id_2}"
    );
    assert_eq!(text(&mut first), format!("{id_2} joined"));
    let mut members = vec![(first, id_1), (second, id_2.clone())];
    chat_in_order(&mut members, 10);
    second = members.pop().unwrap().0;
    drop(second);
    assert_eq!(text(&mut members[0].0), format!("{id_2} left"));
}

#[test]
fn after_a_graceful_restart_old_and_new_children_share_the_room() {
    let redis = Redis::start();
    let setup = Setup::default().extra(&format!("WebSocketBroker {}", redis.url()));
    let apache = start("broker-graceful", setup, 1);
    assert!(
        apache.log_lines(WARNING).is_empty(),
        "{}",
        apache.error_log()
    );
    let (mut old, id_old) = join(&apache, false);
    let connected = apache.log_lines(CONNECTED).len();
    apache.apachectl("graceful");
    // The new generation's children have their brokers.
    let lines = apache.wait_log_lines(CONNECTED, connected + 1);
    assert!(lines.len() > connected, "{}", apache.error_log());
    std::thread::sleep(Duration::from_millis(500));
    let (mut new, id_new) = join(&apache, true);
    assert_ne!(id_old.split('-').next(), id_new.split('-').next());
    assert_eq!(text(&mut old), format!("{id_new} joined"));
    let mut members = vec![(old, id_old), (new, id_new.clone())];
    chat_in_order(&mut members, 5);
    new = members.pop().unwrap().0;
    drop(new);
    assert_eq!(text(&mut members[0].0), format!("{id_new} left"));
}

#[test]
fn redis_stopped_mid_run_harms_no_connection_and_is_logged_once_each_way() {
    let mut redis = Redis::start();
    let a = start("broker-outage-a", with_broker(&redis.url()), 1);
    let b = start("broker-outage-b", with_broker(&redis.url()), 1);
    let (mut on_a, id_a) = join(&a, false);
    let (mut on_a2, id_a2) = join(&a, true);
    assert_eq!(text(&mut on_a), format!("{id_a2} joined"));
    let (mut on_b, id_b) = join(&b, false);
    assert_eq!(text(&mut on_a), format!("{id_b} joined"));
    assert_eq!(text(&mut on_a2), format!("{id_b} joined"));

    redis.stop();
    for apache in [&a, &b] {
        let down = apache.wait_log_lines(UNREACHABLE, 1);
        assert_eq!(down.len(), 1, "{}", apache.error_log());
        assert!(down[0].contains("[rswebsocket:error]"), "{}", down[0]);
    }
    // Local delivery goes on; nothing crosses; every connection stays.
    for i in 0..3 {
        on_a.send(Message::text(format!("during {i}"))).unwrap();
    }
    for ws in [&mut on_a, &mut on_a2] {
        for i in 0..3 {
            assert_eq!(text(ws), format!("{id_a}: during {i}"));
        }
    }
    on_b.send(Message::text("alone on b")).unwrap();
    assert_eq!(text(&mut on_b), format!("{id_b}: alone on b"));
    hears_nothing(&mut on_b, Duration::from_millis(500));
    hears_nothing(&mut on_a, Duration::from_millis(200));

    redis.run();
    for (apache, dropped) in [(&a, 3), (&b, 1)] {
        let back = apache.wait_log_lines(BACK, 1);
        assert_eq!(back.len(), 1, "{}", apache.error_log());
        assert!(back[0].contains("[rswebsocket:notice]"), "{}", back[0]);
        assert!(
            back[0].contains(&format!("; {dropped} message(s) published meanwhile")),
            "{}",
            back[0]
        );
    }
    // Across servers again, both ways.
    on_a.send(Message::text("after")).unwrap();
    for ws in [&mut on_a, &mut on_a2, &mut on_b] {
        assert_eq!(text(ws), format!("{id_a}: after"));
    }
    on_b.send(Message::text("back")).unwrap();
    for ws in [&mut on_b, &mut on_a, &mut on_a2] {
        assert_eq!(text(ws), format!("{id_b}: back"));
    }
    for apache in [&a, &b] {
        assert_eq!(
            apache.log_lines(UNREACHABLE).len(),
            1,
            "{}",
            apache.error_log()
        );
        assert_eq!(apache.log_lines(BACK).len(), 1, "{}", apache.error_log());
    }
}

#[test]
fn a_slow_redis_holds_no_worker_and_delays_only_other_servers() {
    let redis = Redis::start();
    let a = start("broker-slow-a", with_broker(&redis.url()), 1);
    let b = start("broker-slow-b", with_broker(&redis.url()), 1);
    let (mut on_a, id_a) = join(&a, false);
    let (mut on_b, id_b) = join(&b, true);
    assert_eq!(text(&mut on_a), format!("{id_b} joined"));
    let asleep = redis.sleep("1.5");
    std::thread::sleep(Duration::from_millis(100));
    let sent = Instant::now();
    for i in 0..5 {
        on_a.send(Message::text(format!("slow {i}"))).unwrap();
    }
    for i in 0..5 {
        assert_eq!(text(&mut on_a), format!("{id_a}: slow {i}"));
    }
    // Other connections are served meanwhile.
    let mut echo = a.connect("/echo");
    echo.send(Message::text("still here")).unwrap();
    assert_eq!(text(&mut echo), "still here");
    assert!(
        sent.elapsed() < Duration::from_millis(1000),
        "local delivery waited for Redis: {:?}",
        sent.elapsed()
    );
    asleep.join().unwrap();
    for i in 0..5 {
        assert_eq!(text(&mut on_b), format!("{id_a}: slow {i}"));
    }
    on_b.send(Message::text("awake")).unwrap();
    assert_eq!(text(&mut on_a), format!("{id_b}: awake"));
    for apache in [&a, &b] {
        assert!(
            apache.log_lines(UNREACHABLE).is_empty(),
            "{}",
            apache.error_log()
        );
        assert!(
            apache.log_lines("exit signal").is_empty(),
            "{}",
            apache.error_log()
        );
    }
}

#[test]
fn redis_unreachable_at_start_up_leaves_apache_serving_local_rooms() {
    let url = format!("redis://127.0.0.1:{}", free_port());
    let apache = Apache::start("broker-unreachable", with_broker(&url));
    let down = apache.wait_log_lines(UNREACHABLE, 1);
    assert_eq!(down.len(), 1, "{}", apache.error_log());
    assert!(down[0].contains(&url), "{}", down[0]);
    let (mut first, id_1) = join(&apache, false);
    let (mut second, id_2) = join(&apache, true);
    assert_eq!(text(&mut first), format!("{id_2} joined"));
    second.send(Message::text("local")).unwrap();
    for ws in [&mut first, &mut second] {
        assert_eq!(text(ws), format!("{id_2}: local"));
    }
    drop(second);
    assert_eq!(text(&mut first), format!("{id_2} left"));
    assert_ne!(id_1, id_2);
    // The broker keeps trying, quietly.
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(
        apache.log_lines(UNREACHABLE).len(),
        1,
        "{}",
        apache.error_log()
    );
    assert!(apache.log_lines(BACK).is_empty());
}

#[test]
fn a_bad_broker_url_fails_the_configuration_test() {
    for (name, url, detail) in [
        (
            "broker-url-scheme",
            "http://127.0.0.1:6379",
            "is not a broker URL",
        ),
        ("broker-url-unix", "unix://relative.sock", "absolute path"),
        (
            "broker-url-port",
            "redis://127.0.0.1:notaport",
            "not a usable broker URL",
        ),
    ] {
        let setup = Setup::default().extra(&format!("WebSocketBroker {url}"));
        let (ok, output) = config_test(name, &setup);
        assert!(!ok, "config test passed:\n{output}");
        assert!(output.contains("WebSocketBroker"), "{output}");
        assert!(output.contains(detail), "no '{detail}' in:\n{output}");
    }
    let setup = Setup::default()
        .extra("<VirtualHost 127.0.0.1:1>\n  WebSocketBroker redis://127.0.0.1\n</VirtualHost>");
    let (ok, output) = config_test("broker-url-vhost", &setup);
    assert!(!ok, "config test passed:\n{output}");
    assert!(output.contains("WebSocketBroker"), "{output}");
    assert!(output.contains("not in a <VirtualHost>"), "{output}");
    let setup = Setup::default().extra("WebSocketBroker unix:///run/redis/redis.sock");
    let (ok, output) = config_test("broker-url-ok", &setup);
    assert!(ok, "{output}");
}
