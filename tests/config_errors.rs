//! Bad directive values fail `apache2 -t` with a message naming the directive.
mod common;

use common::{config_test, Setup};

fn fails_naming(name: &str, setup: Setup, directive: &str, detail: &str) {
    let (ok, output) = config_test(name, &setup);
    assert!(!ok, "config test passed:\n{output}");
    assert!(output.contains(directive), "no '{directive}' in:\n{output}");
    assert!(output.contains(detail), "no '{detail}' in:\n{output}");
}

#[test]
fn the_shipped_configuration_passes() {
    let (ok, output) = config_test("conf-ok", &Setup::default());
    assert!(ok, "{output}");
    assert!(output.contains("Syntax OK"), "{output}");
}

#[test]
fn a_missing_handler_root_fails() {
    let setup = Setup::default().handler_config("WebSocketHandlerRoot /nonexistent/handlers");
    fails_naming(
        "conf-root",
        setup,
        "WebSocketHandlerRoot",
        "is not a directory",
    );
}

#[test]
fn an_unknown_location_handler_fails() {
    let setup = Setup::default().extra("<Location /x>\n WebSocketHandler no_such\n</Location>");
    fails_naming(
        "conf-handler",
        setup,
        "WebSocketHandler",
        "unknown handler 'no_such'",
    );
}

#[test]
fn a_bad_flag_fails() {
    let setup = Setup::default().extra("WebSocketAllowDraft75 maybe");
    fails_naming("conf-flag", setup, "WebSocketAllowDraft75", "On or Off");
}

#[test]
fn a_bad_message_size_fails() {
    let setup = Setup::default().extra("WebSocketMaxMessageSize lots");
    fails_naming(
        "conf-size",
        setup,
        "WebSocketMaxMessageSize",
        "number of bytes",
    );
}

#[test]
fn a_bad_pywebsocket_option_fails() {
    let setup = Setup::default().extra("PythonOption mod_pywebsocket.allow_draft75 sometimes");
    fails_naming("conf-py", setup, "PythonOption", "On or Off");
    let setup = Setup::default().extra("PythonOption mod_pywebsocket.no_such_option x");
    fails_naming("conf-py2", setup, "PythonOption", "unknown option");
}

#[test]
fn other_python_options_are_left_alone() {
    let setup = Setup::default().extra("PythonOption myapp.setting 42");
    let (ok, output) = config_test("conf-py-other", &setup);
    assert!(ok, "{output}");
}

#[test]
fn bad_production_settings_fail() {
    for (name, line, detail) in [
        (
            "conf-idle",
            "WebSocketIdleTimeout soon",
            "whole number of seconds",
        ),
        (
            "conf-ping",
            "WebSocketPingInterval -5",
            "whole number of seconds",
        ),
        (
            "conf-origin",
            "WebSocketOriginCheck Maybe",
            "Off, Same or Trusted",
        ),
        (
            "conf-trusted",
            "WebSocketTrustedOrigin app.example.com",
            "http:// or https://",
        ),
        (
            "conf-maxconn",
            "WebSocketMaxConnections many",
            "whole number",
        ),
        (
            "conf-frames",
            "WebSocketMaxFramesPerMessage 0",
            "at least 1",
        ),
        (
            "conf-window",
            "WebSocketCompressionMaxWindowBits 16",
            "from 8 to 15",
        ),
    ] {
        let directive = line.split(' ').next().unwrap();
        fails_naming(name, Setup::default().extra(line), directive, detail);
    }
}
