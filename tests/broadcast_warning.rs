//! The start-up warning for a broadcasting handler (chat) under an MPM that
//! may run more than one Apache child: chat relays messages within one
//! child, so members in different children do not hear each other.
mod common;

use std::path::PathBuf;

use common::{Apache, Setup};

/// What every such warning says.
const WARNING: &str = "relays messages within one Apache child";

fn warnings(apache: &Apache) -> Vec<String> {
    apache.log_lines(WARNING)
}

/// A handler root holding only an echo handler file.
fn echo_only_root(name: &str) -> PathBuf {
    let root = common::test_root(name);
    std::fs::write(root.join("echo_wsh.conf"), "handler = echo\n").unwrap();
    root
}

/// The shipped chat handler file, as the default setup's root holds it.
fn chat_file() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("apache-conf/handlers/chat_wsh.conf")
        .display()
        .to_string()
}

/// One line, at warn level, naming the handler, its file, the MPM's limit
/// and the way out.
fn assert_one_warning(apache: &Apache, mpm: &str, place: &str, way_out: &str) {
    let lines = warnings(apache);
    let log = apache.error_log();
    assert_eq!(lines.len(), 1, "one warning, not one per server:\n{log}");
    let line = &lines[0];
    assert!(line.contains("[rswebsocket:warn]"), "{line}");
    assert!(line.contains("handler 'chat' ("), "{line}");
    assert!(line.contains(place), "{place} not named: {line}");
    assert!(line.contains(way_out), "{way_out} not said: {line}");
    let limit = format!("the {mpm} MPM may run up to ");
    let children: u32 = line
        .split_once(limit.as_str())
        .and_then(|(_, rest)| rest.split_once(' '))
        .and_then(|(n, _)| n.parse().ok())
        .unwrap_or_else(|| panic!("no child count: {line}"));
    assert!(children > 1, "{line}");
}

#[test]
fn chat_under_the_event_mpm_is_warned_about_once_per_start_and_restart() {
    let apache = Apache::start("broadcast-warning-event", Setup::default());
    assert_one_warning(&apache, "event", &chat_file(), "(ServerLimit 1 keeps");
    // A graceful restart reads the configuration again: one more line.
    apache.apachectl("graceful");
    let lines = apache.wait_log_lines(WARNING, 2);
    assert_eq!(lines.len(), 2, "{}", apache.error_log());
}

#[test]
fn chat_under_prefork_is_warned_about_once() {
    let apache = Apache::start("broadcast-warning-prefork", Setup::default().mpm("prefork"));
    // One connection per child: ServerLimit 1 alone is no way out there.
    assert_one_warning(
        &apache,
        "prefork",
        &chat_file(),
        "(a threaded MPM such as event with ServerLimit 1 keeps",
    );
}

#[test]
fn one_child_is_not_warned_about() {
    let setup = Setup::default().one_child();
    let apache = Apache::start("broadcast-warning-one-child", setup);
    assert!(warnings(&apache).is_empty(), "{}", apache.error_log());
}

#[test]
fn no_broadcasting_handler_no_warning() {
    let root = echo_only_root("broadcast-warning-echo-root");
    let setup =
        Setup::default().handler_config(&format!("WebSocketHandlerRoot \"{}\"", root.display()));
    let apache = Apache::start("broadcast-warning-echo", setup);
    assert!(warnings(&apache).is_empty(), "{}", apache.error_log());
}

#[test]
fn a_location_naming_chat_is_warned_about_with_its_line() {
    let root = echo_only_root("broadcast-warning-location-root");
    let setup = Setup::default()
        .handler_config(&format!("WebSocketHandlerRoot \"{}\"", root.display()))
        .extra("<Location /lobby>\n  WebSocketHandler chat\n</Location>");
    let apache = Apache::start("broadcast-warning-location", setup);
    let conf = apache.root.join("httpd.conf").display().to_string();
    assert_one_warning(
        &apache,
        "event",
        &format!("WebSocketHandler at {conf}:"),
        "(ServerLimit 1 keeps",
    );
}

#[test]
fn several_places_naming_chat_make_one_line_with_a_count() {
    let root = echo_only_root("broadcast-warning-several-root");
    for name in ["lobby_wsh.conf", "garden_wsh.conf"] {
        std::fs::write(root.join(name), "handler = chat\n").unwrap();
    }
    let setup = Setup::default()
        .handler_config(&format!("WebSocketHandlerRoot \"{}\"", root.display()))
        .extra("<Location /hall>\n  WebSocketHandler chat\n</Location>");
    let apache = Apache::start("broadcast-warning-several", setup);
    assert_one_warning(
        &apache,
        "event",
        "_wsh.conf, and 2 more places)",
        "(ServerLimit 1 keeps",
    );
}
