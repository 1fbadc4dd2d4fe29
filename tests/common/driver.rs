//! Which driver the integration suite runs under: the module's default
//! (the event driver where the MPM can park connections), or `threaded`
//! with RSWEBSOCKET_TEST_DRIVER=threaded, which adds `WebSocketDriver
//! threaded` to every Apache a test starts (unless the test names a driver
//! itself). `make integration-test` runs both passes.

/// The environment variable that picks the pass.
const VAR: &str = "RSWEBSOCKET_TEST_DRIVER";

/// True in the event pass: the default, or RSWEBSOCKET_TEST_DRIVER=event.
pub fn event_pass() -> bool {
    match std::env::var(VAR) {
        Ok(value) => match value.to_ascii_lowercase().as_str() {
            "" | "event" => true,
            "threaded" => false,
            other => panic!("{VAR}={other}: expected threaded or event"),
        },
        Err(_) => true,
    }
}

/// The server-level extra config with this pass's driver: the event pass
/// leaves the default; a test's own `WebSocketDriver` line wins.
pub fn with_test_driver(extra: &str) -> String {
    if !event_pass() && !extra.contains("WebSocketDriver") {
        format!("WebSocketDriver threaded\n{extra}")
    } else {
        extra.to_string()
    }
}
