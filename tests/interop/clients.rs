//! The interop clients as child processes: Python `websockets` from the
//! venv and Node's `ws` from the node_modules that `make test-deps` puts
//! under target/, each run with a time limit, their JSON lines read back.
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

/// A whole client run (every sequence over one URL): far more than it
/// needs even on a busy machine, only so that a hang ends the test.
const RUN_LIMIT: Duration = Duration::from_secs(600);

/// What a client reported for one sequence.
#[derive(Debug)]
pub struct SequenceResult {
    pub sequence: String,
    pub extensions: Option<String>,
    pub echoed: u64,
    pub error: Option<String>,
}

impl SequenceResult {
    pub fn from_json(value: &Value) -> Option<SequenceResult> {
        Some(SequenceResult {
            sequence: value["sequence"].as_str()?.to_string(),
            extensions: value["extensions"].as_str().map(str::to_string),
            echoed: value["echoed"].as_u64()?,
            error: value["error"].as_str().map(str::to_string),
        })
    }
}

/// A client run: one result per line it printed, and the rest of what it
/// said, for when the results fall short.
pub struct Run {
    pub results: Vec<SequenceResult>,
    pub diagnostics: String,
}

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn script(name: &str) -> PathBuf {
    workspace().join("tests/interop").join(name)
}

fn installed(path: &Path, what: &str) -> PathBuf {
    assert!(
        path.exists(),
        "{what} is not installed ({} is missing): run `make test-deps`",
        path.display()
    );
    path.to_path_buf()
}

/// ws_client.py under the venv's Python (websockets pinned in the Makefile).
pub fn python(url: &str, sequences: &Path, offer: &Value) -> Command {
    let venv_python = workspace().join("target/interop-venv/bin/python");
    let mut command = Command::new(installed(&venv_python, "Python websockets"));
    command
        .arg(script("ws_client.py"))
        .arg(url)
        .arg(sequences)
        .arg(offer.to_string());
    command
}

/// ws_client.js under node, finding `ws` through NODE_PATH.
pub fn node(url: &str, sequences: &Path, offer: &Value) -> Command {
    let modules = workspace().join("target/interop-node/node_modules");
    installed(&modules.join("ws"), "Node ws");
    let mut command = Command::new("node");
    command
        .env("NODE_PATH", modules)
        .arg(script("ws_client.js"))
        .arg(url)
        .arg(sequences)
        .arg(offer.to_string());
    command
}

/// Runs `command` to its end (killed after RUN_LIMIT) and reads its lines.
pub fn run(mut command: Command) -> Run {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
    let pid = child.id();
    // The child is waited for on a thread, so the limit needs no polling.
    let (done, finished) = mpsc::channel();
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        let err_reader = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        let mut out = String::new();
        let _ = stdout.read_to_string(&mut out);
        let err = err_reader.join().unwrap_or_default();
        let status = child.wait();
        let _ = done.send((status, out, err));
    });
    let (status, out, err, timed_out) = match finished.recv_timeout(RUN_LIMIT) {
        Ok((status, out, err)) => (status, out, err, false),
        Err(_) => {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            let (status, out, err) = finished.recv().expect("client thread ended");
            (status, out, err, true)
        }
    };
    let mut results = Vec::new();
    let mut other = String::new();
    for line in out.lines() {
        match serde_json::from_str(line)
            .ok()
            .as_ref()
            .and_then(SequenceResult::from_json)
        {
            Some(result) => results.push(result),
            None => other.push_str(&format!("{line}\n")),
        }
    }
    let status = status
        .map(|s| s.to_string())
        .unwrap_or_else(|e| e.to_string());
    let limit = if timed_out {
        " (killed at the time limit)"
    } else {
        ""
    };
    let diagnostics =
        format!("{command:?} ended with {status}{limit}\nother output:\n{other}stderr:\n{err}");
    Run {
        results,
        diagnostics,
    }
}
