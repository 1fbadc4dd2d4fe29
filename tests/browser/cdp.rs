//! Just enough of the Chrome DevTools Protocol to drive headless Chromium
//! from a test: launch it, open a page, run JavaScript in it and get the
//! value back. One WebSocket (tungstenite) to the browser, flat sessions.
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

/// Longest wait for any one answer from the browser: a hung browser fails
/// the test instead of hanging it.
const ANSWER_LIMIT: Duration = Duration::from_secs(60);

pub struct Browser {
    child: Child,
    profile: PathBuf,
    socket: WebSocket<MaybeTlsStream<TcpStream>>,
    next_id: u64,
    /// Events read while waiting for an answer, oldest first.
    events: Vec<Value>,
}

/// A page (tab) of the browser.
pub struct Page {
    session: String,
}

fn chromium_binary() -> &'static str {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("Chromium is not installed: `make test-deps` (or apt-get install chromium)")
}

impl Browser {
    /// Starts headless Chromium with a fresh profile under `dir`: no
    /// sandbox (tests run as root), no network of its own, self-signed
    /// certificates accepted.
    pub fn launch(dir: &Path) -> Browser {
        let profile = dir.join("chromium-profile");
        std::fs::create_dir_all(&profile).unwrap();
        let stderr = std::fs::File::create(dir.join("chromium.log")).unwrap();
        let child = Command::new(chromium_binary())
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--no-proxy-server",
                "--ignore-certificate-errors",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .process_group(0) // so Drop can end its helper processes too
            .spawn()
            .expect("cannot start chromium");
        let mut browser = Browser {
            child,
            profile: profile.clone(),
            socket: connect_devtools(&profile, dir),
            next_id: 0,
            events: Vec::new(),
        };
        browser.socket_timeout();
        browser
    }

    fn socket_timeout(&mut self) {
        if let MaybeTlsStream::Plain(tcp) = self.socket.get_mut() {
            tcp.set_read_timeout(Some(ANSWER_LIMIT)).unwrap();
        }
    }

    /// Opens `url` in a new page, once it has loaded.
    pub fn open(&mut self, url: &str) -> Page {
        let target = self
            .call(None, "Target.createTarget", json!({ "url": "about:blank" }))
            .expect("Target.createTarget");
        let target_id = target["targetId"].as_str().expect("targetId").to_string();
        let attached = self
            .call(
                None,
                "Target.attachToTarget",
                json!({ "targetId": target_id, "flatten": true }),
            )
            .expect("Target.attachToTarget");
        let page = Page {
            session: attached["sessionId"]
                .as_str()
                .expect("sessionId")
                .to_string(),
        };
        self.call(Some(&page.session), "Page.enable", json!({}))
            .expect("Page.enable");
        self.events.clear();
        let navigated = self
            .call(Some(&page.session), "Page.navigate", json!({ "url": url }))
            .expect("Page.navigate");
        if let Some(error) = navigated.get("errorText") {
            panic!("cannot load {url}: {error}");
        }
        self.wait_event(&page, "Page.loadEventFired")
            .unwrap_or_else(|e| panic!("{url} did not load: {e}"));
        page
    }

    /// Waits for the event `method` from `page`.
    fn wait_event(&mut self, page: &Page, method: &str) -> Result<Value, String> {
        let matches = |event: &Value| {
            event["method"] == json!(method) && event["sessionId"] == json!(page.session)
        };
        loop {
            if let Some(index) = self.events.iter().position(matches) {
                return Ok(self.events.remove(index));
            }
            let message = self.read()?;
            self.events.push(message);
        }
    }

    /// The next JSON message from the browser.
    fn read(&mut self) -> Result<Value, String> {
        loop {
            let message = self
                .socket
                .read()
                .map_err(|e| format!("nothing from the browser: {e}"))?;
            if let Message::Text(text) = message {
                return serde_json::from_str(&text).map_err(|e| e.to_string());
            }
        }
    }

    /// Evaluates `expression` in `page`, awaiting it if it is a promise;
    /// its value, or the exception it threw.
    pub fn evaluate(&mut self, page: &Page, expression: &str) -> Result<Value, String> {
        let answer = self.call(
            Some(&page.session),
            "Runtime.evaluate",
            json!({ "expression": expression, "awaitPromise": true, "returnByValue": true }),
        )?;
        if let Some(details) = answer.get("exceptionDetails") {
            let description = details["exception"]["description"]
                .as_str()
                .or(details["text"].as_str())
                .unwrap_or("exception");
            return Err(description.to_string());
        }
        Ok(answer["result"]["value"].clone())
    }

    /// Sends one command and waits for its answer, keeping events.
    fn call(
        &mut self,
        session: Option<&str>,
        method: &str,
        params: Value,
    ) -> Result<Value, String> {
        self.next_id += 1;
        let id = self.next_id;
        let mut command = json!({ "id": id, "method": method, "params": params });
        if let Some(session) = session {
            command["sessionId"] = json!(session);
        }
        self.socket
            .send(Message::text(command.to_string()))
            .map_err(|e| format!("{method}: {e}"))?;
        loop {
            let answer = self.read().map_err(|e| format!("{method}: {e}"))?;
            if answer.get("id").is_none() {
                self.events.push(answer);
                continue;
            }
            if answer["id"] != json!(id) {
                continue; // an answer to a command given up on
            }
            if let Some(error) = answer.get("error") {
                return Err(format!("{method}: {error}"));
            }
            return Ok(answer["result"].clone());
        }
    }
}

/// Waits for Chromium to write the DevTools port into its profile, then
/// connects to the browser endpoint.
fn connect_devtools(profile: &Path, dir: &Path) -> WebSocket<MaybeTlsStream<TcpStream>> {
    let port_file = profile.join("DevToolsActivePort");
    let deadline = Instant::now() + ANSWER_LIMIT;
    loop {
        // Two lines: the port, then the browser's path.
        let text = std::fs::read_to_string(&port_file).unwrap_or_default();
        let mut lines = text.lines();
        if let (Some(port), Some(path)) = (lines.next(), lines.next()) {
            let url = format!("ws://127.0.0.1:{port}{path}");
            match tungstenite::connect(&url) {
                Ok((socket, _)) => return socket,
                Err(e) if Instant::now() > deadline => panic!("cannot reach {url}: {e}"),
                Err(_) => {}
            }
        }
        assert!(
            Instant::now() < deadline,
            "Chromium did not start: {}",
            std::fs::read_to_string(dir.join("chromium.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // The whole process group we started: the browser and its helpers.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}
