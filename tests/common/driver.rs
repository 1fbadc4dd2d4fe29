//! Which driver the integration suite runs under: `threaded` (the
//! default), or `event` with RSWEBSOCKET_TEST_DRIVER=event, which adds
//! `WebSocketDriver event` to every Apache a test starts (unless the test
//! names a driver itself). `make integration-test` runs both passes.

use std::io::Write as _;

/// The environment variable that picks the pass.
const VAR: &str = "RSWEBSOCKET_TEST_DRIVER";

/// True in the event pass (RSWEBSOCKET_TEST_DRIVER=event).
pub fn event_pass() -> bool {
    match std::env::var(VAR) {
        Ok(value) => match value.to_ascii_lowercase().as_str() {
            "event" => true,
            "" | "threaded" => false,
            other => panic!("{VAR}={other}: expected threaded or event"),
        },
        Err(_) => false,
    }
}

/// The server-level extra config with this pass's driver: a test's own
/// `WebSocketDriver` line wins.
pub fn with_test_driver(extra: &str) -> String {
    if event_pass() && !extra.contains("WebSocketDriver") {
        format!("WebSocketDriver event\n{extra}")
    } else {
        extra.to_string()
    }
}

/// In the event pass, prints why a test does not run there and returns
/// true (the test then returns early); false in the threaded pass.
/// For what the event driver does not do yet, listed in
/// docs/design-event-mode.md.
pub fn skip_under_event(reason: &str) -> bool {
    if event_pass() {
        // Straight to stderr: the test harness captures println! and
        // eprintln! of passing tests, and this line must show.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED under the event driver: {reason}"
        );
        true
    } else {
        false
    }
}
