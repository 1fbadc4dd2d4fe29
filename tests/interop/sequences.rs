//! The message sequences every interop client sends through /echo, each on
//! a connection of its own: the two from issue 11's report, then every size
//! and kind with messages after it (a compressor's history and the empty
//! messages are where clients and server fell out of step).
use base64::Engine;
use serde_json::{json, Value};

pub struct Message {
    pub binary: bool,
    pub data: Vec<u8>,
}

pub struct Sequence {
    pub name: &'static str,
    pub messages: Vec<Message>,
}

fn text(data: impl Into<Vec<u8>>) -> Message {
    let data = data.into();
    assert!(std::str::from_utf8(&data).is_ok(), "text must be UTF-8");
    Message {
        binary: false,
        data,
    }
}

fn binary(data: impl Into<Vec<u8>>) -> Message {
    Message {
        binary: true,
        data: data.into(),
    }
}

/// Deterministic bytes that do not compress (xorshift64*), so a failure
/// reproduces exactly.
fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            (state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8
        })
        .collect()
}

/// Random text of about `len` bytes: ASCII, Latin-1, Greek, CJK and emoji,
/// 1 to 4 bytes a character.
fn random_text(len: usize, seed: u64) -> Vec<u8> {
    let ranges = [
        0x20..0x7f,
        0xa0..0x100,
        0x391..0x3ca,
        0x4e00..0x9fa6,
        0x1f600..0x1f650,
    ];
    let mut out = String::new();
    for pair in random_bytes(len, seed).chunks(2) {
        if out.len() >= len {
            break;
        }
        let range = &ranges[pair[0] as usize % ranges.len()];
        let span = range.end - range.start;
        let offset = u32::from(pair[1]) * 0x101 % span;
        out.push(char::from_u32(range.start + offset).unwrap());
    }
    out.into_bytes()
}

/// Text that compresses well but is not one repeated byte.
fn compressible(len: usize) -> Vec<u8> {
    let words = [
        "apache ",
        "websocket ",
        "deflate ",
        "message ",
        "echo ",
        "frame ",
    ];
    let mut out = Vec::with_capacity(len + 16);
    let mut i = 0usize;
    while out.len() < len {
        out.extend_from_slice(words[(i * i / 3) % words.len()].as_bytes());
        i += 1;
    }
    out.truncate(len);
    out
}

pub fn all() -> Vec<Sequence> {
    const KIB: usize = 1024;
    // Each kind, followed by a text and a binary message.
    let kinds: Vec<(&str, Message)> = vec![
        ("empty text", text("")),
        ("empty binary", binary([])),
        ("1-byte text", text("z")),
        ("1-byte binary", binary([0xff])),
        ("100 KiB compressible text", text(compressible(100 * KIB))),
        (
            "100 KiB compressible binary",
            binary(compressible(100 * KIB)),
        ),
        ("64 KiB random binary", binary(random_bytes(64 * KIB, 64))),
        ("64 KiB random text", text(random_text(64 * KIB, 65))),
    ];
    let mut each_kind = Vec::new();
    for (name, message) in kinds {
        each_kind.push(message);
        each_kind.push(text(format!("after {name}")));
        each_kind.push(binary(format!("after {name}").into_bytes()));
    }
    // Empties first (nothing compressed yet) and in a row.
    let empties = vec![
        text(""),
        binary([]),
        text(""),
        text("after three empties"),
        text(""),
        text(""),
        binary([]),
        binary([]),
        text("after four empties"),
        binary([]),
        binary(*b"after one more"),
    ];
    // Similar messages back to back, so each refers into the history, with
    // an empty one now and then.
    let history = (0..60)
        .map(|i| match i % 7 {
            3 => text(""),
            5 => binary([]),
            _ => text(format!(
                "message {} of the history test: {}",
                i,
                "ab".repeat(i)
            )),
        })
        .collect();
    vec![
        // Issue 11: Python websockets' third echo failed with 1002
        // "decompression failed".
        Sequence {
            name: "issue11 text a, empty, b",
            messages: vec![text("a"), text(""), text("b")],
        },
        // Issue 11: its fourth echo was refused with 1009 "frame exceeds limit".
        Sequence {
            name: "issue11 100 KiB text, short, empty, 10000 random bytes",
            messages: vec![
                text(compressible(100 * KIB)),
                text("short"),
                text(""),
                binary(random_bytes(10_000, 11)),
            ],
        },
        Sequence {
            name: "each kind, then a text and a binary",
            messages: each_kind,
        },
        Sequence {
            name: "empties first and in a row",
            messages: empties,
        },
        Sequence {
            name: "60 similar messages with empties",
            messages: history,
        },
    ]
}

/// One sequence as the clients read it: base64 data, "text" or "binary".
pub fn to_json(sequence: &Sequence) -> Value {
    let messages: Vec<Value> = sequence
        .messages
        .iter()
        .map(|m| {
            json!({
                "type": if m.binary { "binary" } else { "text" },
                "base64": base64::engine::general_purpose::STANDARD.encode(&m.data),
            })
        })
        .collect();
    json!({ "name": sequence.name, "messages": messages })
}

/// The file ws_client.py and ws_client.js read: `{"sequences": [...]}`.
pub fn write_file(path: &std::path::Path, sequences: &[Sequence]) {
    let all: Vec<Value> = sequences.iter().map(to_json).collect();
    std::fs::write(path, json!({ "sequences": all }).to_string()).unwrap();
}
