//! The console page in a real browser: headless Chromium loads
//! /console.html from the module's Apache and, through the page's own
//! controls, connects over ws and wss, echoes, chats between two pages and
//! closes with a code; the test reads what the page shows. A second test
//! loads the page over HTTP/2 (TLS port) and opens its wss:// WebSockets as
//! RFC 8441 streams on that same connection.
#[path = "browser/cdp.rs"]
mod cdp;
mod common;

use cdp::{Browser, Page};
use common::{Apache, Setup};
use serde_json::Value;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// Helpers every step runs with: `$`, the log lines as the page shows them
/// (`KIND: TEXT`), and `waitFor`, which fails with the log after 15 s.
const PRELUDE: &str = r##"
const $ = id => document.getElementById(id);
const logLines = () => [...document.querySelectorAll("#log li")]
    .map(li => li.dataset.kind + ": " + li.textContent);
const waitFor = (what, test) => new Promise((resolve, reject) => {
  const started = Date.now();
  const tick = () => {
    const value = test();
    if (value) return resolve(value);
    if (Date.now() - started > 15000)
      return reject(new Error("waited in vain for " + what + "; the page's log:\n" + logLines().join("\n")));
    setTimeout(tick, 20);
  };
  tick();
});
"##;

/// The browser, driving console pages through their own controls.
struct Driver {
    browser: Browser,
}

fn js(value: &str) -> String {
    Value::from(value).to_string()
}

impl Driver {
    /// Opens /console.html of `apache` in a new page.
    fn open_console(&mut self, apache: &Apache) -> Page {
        self.open_console_at(&format!("http://127.0.0.1:{}/console.html", apache.port))
    }

    /// Opens the console page at `url` in a new page.
    fn open_console_at(&mut self, url: &str) -> Page {
        let page = self.browser.open(url);
        self.step(
            &page,
            "the console page to load",
            "await waitFor('the page', () => document.readyState === 'complete' && $('connect'));",
        );
        page
    }

    /// Runs `body` (an async function body) in `page`; its return value.
    fn step(&mut self, page: &Page, what: &str, body: &str) -> Value {
        let expression = format!("(async () => {{ {PRELUDE}\n{body} }})()");
        self.browser
            .evaluate(page, &expression)
            .unwrap_or_else(|e| panic!("{what}: {e}"))
    }

    fn connect(&mut self, page: &Page, url: &str) {
        self.step(
            page,
            &format!("connecting to {url}"),
            &format!(
                "$('url').value = {url}; $('connect').click();
                 await waitFor('open', () => $('state').textContent === 'open');",
                url = js(url)
            ),
        );
    }

    /// Types `text` and clicks a send button (`send-text` or `send-binary`).
    fn send(&mut self, page: &Page, button: &str, text: &str, hex: bool) {
        self.step(
            page,
            &format!("sending {text:?}"),
            &format!(
                "$('message').value = {text}; $('hex').checked = {hex}; $({button}).click();",
                text = js(text),
                button = js(button)
            ),
        );
    }

    /// Waits until the page's log shows `line` (`KIND: TEXT`).
    fn expect_line(&mut self, page: &Page, line: &str) {
        self.step(
            page,
            &format!("the line {line:?}"),
            &format!(
                "await waitFor({line}, () => logLines().includes({line}));",
                line = js(line)
            ),
        );
    }

    /// The first log line starting with `prefix`, once there is one.
    fn line_starting(&mut self, page: &Page, prefix: &str) -> String {
        let value = self.step(
            page,
            &format!("a line starting {prefix:?}"),
            &format!(
                "return await waitFor({prefix}, () => logLines().find(l => l.startsWith({prefix})));",
                prefix = js(prefix)
            ),
        );
        value.as_str().unwrap().to_string()
    }

    /// Closes with `code` and `reason` from the page; what the page then
    /// shows about the close that came back.
    fn close(&mut self, page: &Page, code: u16, reason: &str) -> String {
        let value = self.step(
            page,
            "closing",
            &format!(
                "$('close-code').value = '{code}'; $('close-reason').value = {reason};
                 $('disconnect').click();
                 await waitFor('closed', () => $('state').textContent === 'closed');
                 return $('close-result').textContent;",
                reason = js(reason)
            ),
        );
        value.as_str().unwrap().to_string()
    }

    fn clear(&mut self, page: &Page) {
        self.step(page, "clearing the log", "$('clear').click();");
    }
}

/// The chat id a page was given: from its `#ID joined` line.
fn chat_id(joined: &str) -> String {
    joined
        .strip_prefix("received text: ")
        .and_then(|l| l.strip_suffix(" joined"))
        .unwrap_or_else(|| panic!("expected a join, got {joined:?}"))
        .to_string()
}

#[test]
fn the_console_page_drives_the_handlers_over_ws_and_wss_in_chromium() {
    let apache = Apache::start("browser", Setup::default().one_child());
    let mut driver = Driver {
        browser: Browser::launch(&apache.root),
    };
    let ws = |path: &str| format!("ws://127.0.0.1:{}{path}", apache.port);
    let wss = |path: &str| format!("wss://127.0.0.1:{}{path}", apache.tls_port);

    let page = driver.open_console(&apache);
    for url in [ws("/echo"), wss("/echo")] {
        driver.clear(&page);
        driver.connect(&page, &url);
        driver.send(&page, "send-text", "hello from Chromium", false);
        driver.expect_line(&page, "received text: hello from Chromium");
        driver.send(&page, "send-binary", "00 01 fe ff", true);
        driver.expect_line(&page, "received binary: 4 bytes: 00 01 fe ff");
        // Echo closes after "Goodbye", with 1000.
        driver.send(&page, "send-text", "Goodbye", false);
        driver.expect_line(&page, "closed: code 1000, reason \"\", clean");
    }

    // The close handler answers with the page's own code and reason. (Its
    // `?report` message is not shown: browsers drop messages that arrive
    // after the page called close().)
    for url in [ws("/close"), wss("/close")] {
        driver.clear(&page);
        driver.connect(&page, &url);
        let shown = driver.close(&page, 4001, "done here");
        assert_eq!(shown, "code 4001, reason \"done here\", clean", "{url}");
    }

    // Chat between two pages, one over ws and one over wss.
    driver.clear(&page);
    driver.connect(&page, &ws("/chat"));
    let first = chat_id(&driver.line_starting(&page, "received text: #"));
    let other = driver.open_console(&apache);
    driver.connect(&other, &wss("/chat"));
    let second = chat_id(&driver.line_starting(&other, "received text: #"));
    assert_ne!(first, second);
    driver.expect_line(&page, &format!("received text: {second} joined"));
    driver.send(&page, "send-text", "hi from the first page", false);
    driver.expect_line(
        &other,
        &format!("received text: {first}: hi from the first page"),
    );
    driver.send(&other, "send-text", "and back over wss", false);
    driver.expect_line(
        &page,
        &format!("received text: {second}: and back over wss"),
    );
    let shown = driver.close(&other, 1000, "bye");
    assert_eq!(shown, "code 1000, reason \"\", clean");
    driver.expect_line(&page, &format!("received text: {second} left"));
    assert!(
        apache.log_lines("exit signal").is_empty(),
        "{}",
        apache.error_log()
    );
}

/// The console page loaded over h2 from the TLS port: Chromium opens its
/// wss:// WebSockets as extended CONNECT streams (RFC 8441) on the page's
/// HTTP/2 connection, which Apache's mod_http2 (`H2WebSockets on`) hands
/// to the module. The page's connection carries one WebSocket at a time
/// (mod_http2 starts a connection at 6 concurrent streams).
#[test]
fn the_console_page_over_h2_opens_wss_as_http2_streams_in_chromium() {
    // A second access log with the client's port (which connection carried
    // what) and the module's rswebsocket-transport note.
    let setup = Setup::default()
        .one_child()
        .extra("CustomLog conns.log \"%{remote}p %{rswebsocket-transport}n \\\"%r\\\" %>s\"");
    let apache = Apache::start("browser-h2", setup);
    let mut driver = Driver {
        browser: Browser::launch(&apache.root),
    };
    let ws = |path: &str| format!("ws://127.0.0.1:{}{path}", apache.port);
    let wss = |path: &str| format!("wss://127.0.0.1:{}{path}", apache.tls_port);

    let page = driver.open_console_at(&format!(
        "https://127.0.0.1:{}/console.html",
        apache.tls_port
    ));
    let protocol = driver.step(
        &page,
        "the page's protocol",
        "return performance.getEntriesByType('navigation')[0].nextHopProtocol;",
    );
    assert_eq!(protocol, "h2", "the console page did not come over h2");

    driver.clear(&page);
    driver.connect(&page, &wss("/echo"));
    driver.send(&page, "send-text", "hello over h2", false);
    driver.expect_line(&page, "received text: hello over h2");
    driver.send(&page, "send-binary", "00 01 fe ff", true);
    driver.expect_line(&page, "received binary: 4 bytes: 00 01 fe ff");
    driver.send(&page, "send-text", "Goodbye", false);
    driver.expect_line(&page, "closed: code 1000, reason \"\", clean");

    driver.clear(&page);
    driver.connect(&page, &wss("/close"));
    let shown = driver.close(&page, 4001, "done here");
    assert_eq!(shown, "code 4001, reason \"done here\", clean");

    // Chat between the h2 page (wss, an HTTP/2 stream) and a page over
    // plain HTTP/1.1 (ws).
    driver.clear(&page);
    driver.connect(&page, &wss("/chat"));
    let first = chat_id(&driver.line_starting(&page, "received text: #"));
    let other = driver.open_console(&apache);
    driver.connect(&other, &ws("/chat"));
    let second = chat_id(&driver.line_starting(&other, "received text: #"));
    assert_ne!(first, second);
    driver.expect_line(&page, &format!("received text: {second} joined"));
    driver.send(&page, "send-text", "hi from the h2 page", false);
    driver.expect_line(
        &other,
        &format!("received text: {first}: hi from the h2 page"),
    );
    driver.send(&other, "send-text", "and back over ws", false);
    driver.expect_line(&page, &format!("received text: {second}: and back over ws"));
    let shown = driver.close(&other, 1000, "bye");
    assert_eq!(shown, "code 1000, reason \"\", clean");
    driver.expect_line(&page, &format!("received text: {second} left"));
    let shown = driver.close(&page, 1000, "bye");
    assert_eq!(shown, "code 1000, reason \"\", clean");

    // What the server saw: the page and its three WebSockets over HTTP/2
    // (the 101 became RFC 8441's 200), the other page's over HTTP/1.1.
    let log = || format!("{}\n{}", apache.access_log(), apache.error_log());
    for needle in [
        "\"GET /console.html HTTP/2.0\" 200",
        "\"GET /echo HTTP/2.0\" 200",
        "\"GET /close HTTP/2.0\" 200",
        "\"GET /chat HTTP/2.0\" 200",
        "\"GET /chat HTTP/1.1\" 101",
    ] {
        let lines = apache.wait_access_log_lines(needle, 1);
        assert_eq!(lines.len(), 1, "{needle}:\n{}", log());
    }
    for resource in ["/echo", "/close"] {
        let over_http1 = format!("\"GET {resource} HTTP/1.1\"");
        assert!(
            apache
                .access_log()
                .lines()
                .all(|l| !l.contains(&over_http1)),
            "{resource} went over HTTP/1.1:\n{}",
            log()
        );
    }
    // The page and its WebSockets came over one connection: one client
    // port on every HTTP/2 line, and the module saw each WebSocket on an
    // h2 stream (the second log is written just after the first, so it
    // may lag a moment).
    let h2_lines = || {
        std::fs::read_to_string(apache.root.join("conns.log"))
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains(" HTTP/2.0\" "))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let expected = [
        " - \"GET /console.html HTTP/2.0\" 200",
        " h2 \"GET /echo HTTP/2.0\" 200",
        " h2 \"GET /close HTTP/2.0\" 200",
        " h2 \"GET /chat HTTP/2.0\" 200",
    ];
    let has_all = |lines: &[String]| {
        expected
            .iter()
            .all(|e| lines.iter().any(|l| l.ends_with(e)))
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while !has_all(&h2_lines()) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let lines = h2_lines();
    assert!(has_all(&lines), "{lines:#?}");
    let ports: BTreeSet<&str> = lines.iter().filter_map(|l| l.split(' ').next()).collect();
    assert_eq!(ports.len(), 1, "more than one h2 connection: {lines:#?}");

    // Streams are served by the threaded driver, and the debug log says
    // it is for the stream, whatever WebSocketDriver the pass configured.
    let count = 3;
    let served = "served by the threaded driver (an HTTP/2 stream)";
    let lines = apache.wait_log_lines(served, count);
    assert_eq!(lines.len(), count, "{served}:\n{}", log());
    for resource in ["/echo", "/close", "/chat"] {
        let line = format!("WebSocket {resource} {served}");
        assert!(
            lines.iter().any(|l| l.contains(&line)),
            "{line}:\n{}",
            log()
        );
    }
    assert!(
        apache.log_lines("exit signal").is_empty(),
        "{}",
        apache.error_log()
    );
}
