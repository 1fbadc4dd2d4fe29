//! Interop through a real Apache with clients whose WebSocket and DEFLATE
//! code is not ours (issue 11): Python `websockets` (zlib via CPython),
//! Node's `ws` (Node's zlib binding) and headless Chromium each send every
//! sequence of tests/interop/sequences.rs to /echo, over ws and wss, with
//! the compression offers they allow, and check each echo byte for byte and
//! in order. Python and Node run as child processes (tests/interop/ws_client.*),
//! Chromium runs tests/interop/browser_client.js in a page of the server.
#[path = "browser/cdp.rs"]
mod cdp;
#[path = "interop/clients.rs"]
mod clients;
mod common;
#[path = "interop/sequences.rs"]
mod sequences;

use std::path::Path;
use std::process::Command;

use clients::{Run, SequenceResult};
use common::{Apache, Setup};
use sequences::Sequence;
use serde_json::{json, Value};

/// One offer a client makes, and the `Sec-WebSocket-Extensions` the server
/// must answer it with (`None`: no extension).
struct Offer {
    name: &'static str,
    options: Value,
    agreed: Option<&'static str>,
}

fn offer(name: &'static str, options: Value, agreed: Option<&'static str>) -> Offer {
    Offer {
        name,
        options,
        agreed,
    }
}

/// Everything wrong with one client's results for `sequences`.
fn check(label: &str, sequences: &[Sequence], run: &Run, agreed: Option<&str>) -> Vec<String> {
    let mut failures = Vec::new();
    for (i, sequence) in sequences.iter().enumerate() {
        let name = sequence.name;
        let Some(result) = run.results.get(i) else {
            failures.push(format!(
                "{label}: sequence {name:?}: no result\n{}",
                run.diagnostics
            ));
            break;
        };
        failures.extend(check_sequence(label, sequence, result, agreed));
    }
    failures
}

fn check_sequence(
    label: &str,
    sequence: &Sequence,
    result: &SequenceResult,
    agreed: Option<&str>,
) -> Option<String> {
    let name = sequence.name;
    let problem = if result.sequence != name {
        format!("the result is for {:?}", result.sequence)
    } else if let Some(error) = &result.error {
        error.clone()
    } else if result.echoed != sequence.messages.len() as u64 {
        format!("{} of {} echoed", result.echoed, sequence.messages.len())
    } else if result.extensions.as_deref() != agreed {
        format!("extensions {:?}, expected {agreed:?}", result.extensions)
    } else {
        return None;
    };
    Some(format!("{label}: sequence {name:?}: {problem}"))
}

/// Runs a process client (`clients::python` or `clients::node`) with each
/// offer over ws and wss; every failure, named.
fn run_client(
    apache: &Apache,
    client: &str,
    command: fn(&str, &Path, &Value) -> Command,
    offers: &[Offer],
) -> Vec<String> {
    let sequences = sequences::all();
    let file = apache.root.join("sequences.json");
    sequences::write_file(&file, &sequences);
    let mut failures = Vec::new();
    for offer in offers {
        for url in [apache.url("/echo"), apache.tls_url("/echo")] {
            let label = format!("{client}, offer {}, {url}", offer.name);
            let run = clients::run(command(&url, &file, &offer.options));
            failures.extend(check(&label, &sequences, &run, offer.agreed));
        }
    }
    failures
}

/// Fails with every failure and the server's warnings.
fn report(apache: &Apache, failures: Vec<String>) {
    if failures.is_empty() {
        return;
    }
    let warnings: Vec<String> = apache
        .error_log()
        .lines()
        .filter(|l| !l.contains(":debug]") && !l.contains(":info]") && !l.contains(":notice]"))
        .take(40)
        .map(str::to_string)
        .collect();
    panic!(
        "{} failed:\n{}\n\nthe server's error log (warnings and worse):\n{}",
        failures.len(),
        failures.join("\n"),
        warnings.join("\n")
    );
}

const PMD: Option<&str> = Some("permessage-deflate");

#[test]
fn python_websockets_default_and_no_compression() {
    let apache = Apache::start("interop-python", Setup::default());
    let offers = [
        offer("default", json!({}), PMD),
        offer("none", json!({ "compression": null }), None),
    ];
    report(
        &apache,
        run_client(&apache, "python websockets", clients::python, &offers),
    );
}

#[test]
fn python_websockets_offer_parameters() {
    let apache = Apache::start("interop-python-params", Setup::default());
    let pmd = |args: Value| json!({ "permessage_deflate": args });
    let offers = [
        offer(
            "no context takeover",
            pmd(json!({ "server_no_context_takeover": true, "client_no_context_takeover": true })),
            Some("permessage-deflate; server_no_context_takeover; client_no_context_takeover"),
        ),
        offer(
            "client no context takeover, client window 10",
            pmd(json!({ "client_no_context_takeover": true, "client_max_window_bits": 10 })),
            Some("permessage-deflate; client_no_context_takeover; client_max_window_bits=10"),
        ),
        // zlib cannot compress raw DEFLATE with 8 bits, so the client keeps 9.
        offer(
            "server window 8, client window 9",
            pmd(json!({ "server_max_window_bits": 8, "client_max_window_bits": 9 })),
            Some("permessage-deflate; server_max_window_bits=8; client_max_window_bits=9"),
        ),
        offer(
            "server window 11, client window not offered",
            pmd(json!({ "server_max_window_bits": 11, "client_max_window_bits": null })),
            Some("permessage-deflate; server_max_window_bits=11"),
        ),
    ];
    report(
        &apache,
        run_client(&apache, "python websockets", clients::python, &offers),
    );
}

#[test]
fn node_ws_default_and_no_compression() {
    let apache = Apache::start("interop-node", Setup::default());
    let offers = [
        // ws's defaults: messages under 1024 bytes go out uncompressed.
        offer("default", json!({}), PMD),
        offer("none", json!({ "perMessageDeflate": false }), None),
        offer(
            "threshold 0",
            json!({ "perMessageDeflate": { "threshold": 0 } }),
            PMD,
        ),
    ];
    report(
        &apache,
        run_client(&apache, "node ws", clients::node, &offers),
    );
}

#[test]
fn node_ws_offer_parameters() {
    let apache = Apache::start("interop-node-params", Setup::default());
    // Every message compressed (threshold 0), with these parameters.
    let pmd = |mut args: Value| {
        args["threshold"] = json!(0);
        json!({ "perMessageDeflate": args })
    };
    let offers = [
        offer(
            "no context takeover",
            pmd(json!({ "serverNoContextTakeover": true, "clientNoContextTakeover": true })),
            Some("permessage-deflate; server_no_context_takeover; client_no_context_takeover"),
        ),
        offer(
            "server no context takeover",
            pmd(json!({ "serverNoContextTakeover": true })),
            Some("permessage-deflate; server_no_context_takeover"),
        ),
        offer(
            "client no context takeover, client window 9",
            pmd(json!({ "clientNoContextTakeover": true, "clientMaxWindowBits": 9 })),
            Some("permessage-deflate; client_no_context_takeover; client_max_window_bits=9"),
        ),
        offer(
            "server window 8",
            pmd(json!({ "serverMaxWindowBits": 8 })),
            Some("permessage-deflate; server_max_window_bits=8"),
        ),
        // 15 is the default, so the answer leaves client_max_window_bits out.
        offer(
            "server window 10, client window 15",
            pmd(json!({ "serverMaxWindowBits": 10, "clientMaxWindowBits": 15 })),
            Some("permessage-deflate; server_max_window_bits=10"),
        ),
    ];
    report(
        &apache,
        run_client(&apache, "node ws", clients::node, &offers),
    );
}

/// `WebSocketCompressionMaxWindowBits 9`: the server holds both clients'
/// default offers to 9 bits, and declines an offer it cannot limit.
#[test]
fn python_and_node_against_a_server_limited_to_9_window_bits() {
    let setup = Setup::default().extra("WebSocketCompressionMaxWindowBits 9");
    let apache = Apache::start("interop-window-9", setup);
    let limited = Some("permessage-deflate; server_max_window_bits=9; client_max_window_bits=9");
    let python_offers = [
        offer("default", json!({}), limited),
        offer(
            "client window not offered",
            json!({ "permessage_deflate": { "client_max_window_bits": null } }),
            None,
        ),
    ];
    let node_offers = [offer(
        "threshold 0",
        json!({ "perMessageDeflate": { "threshold": 0 } }),
        limited,
    )];
    let mut failures = run_client(
        &apache,
        "python websockets",
        clients::python,
        &python_offers,
    );
    failures.extend(run_client(&apache, "node ws", clients::node, &node_offers));
    report(&apache, failures);
}

/// Chromium offers `permessage-deflate; client_max_window_bits` and
/// compresses every message; pages cannot change that.
#[test]
fn chromium_over_ws_and_wss() {
    let apache = Apache::start("interop-chromium", Setup::default());
    let mut browser = cdp::Browser::launch(&apache.root);
    // A page of the server itself, so its origin is trusted.
    let page = browser.open(&format!("http://127.0.0.1:{}/console.html", apache.port));
    let script = include_str!("interop/browser_client.js");
    let sequences = sequences::all();
    let mut failures = Vec::new();
    for url in [apache.url("/echo"), apache.tls_url("/echo")] {
        let label = format!("chromium, {url}");
        for sequence in &sequences {
            let expression = format!(
                "({script})({url}, {sequence})",
                url = Value::from(url.as_str()),
                sequence = sequences::to_json(sequence)
            );
            let value = browser
                .evaluate(&page, &expression)
                .unwrap_or_else(|e| panic!("{label}: sequence {:?}: {e}", sequence.name));
            let result = SequenceResult::from_json(&value)
                .unwrap_or_else(|| panic!("{label}: not a result: {value}"));
            failures.extend(check_sequence(&label, sequence, &result, PMD));
        }
    }
    report(&apache, failures);
}
