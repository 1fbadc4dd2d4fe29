//! Invariant checks for the fuzz targets in `fuzz/` (cargo-fuzz), kept here
//! so the targets and the regression replay test run the same code.
//!
//! Each `check` takes the raw fuzz input and panics when an invariant does
//! not hold. Compiled only for tests and with the `fuzzing` feature.

pub mod compressed;
pub mod handshake;
pub mod hixie;
pub mod negotiation;
pub mod opening;
pub mod peer;
pub mod protocol;
pub mod sending;
pub mod split;
pub mod utf8;

#[cfg(test)]
mod replay;

/// A target's check: panics when an invariant fails on the input.
pub type Check = fn(&[u8]);

/// Every fuzz target: its name (the file in `fuzz/fuzz_targets/` and the
/// directory in `fuzz/corpus/` and `fuzz/regressions/`) and its check.
pub const TARGETS: &[(&str, Check)] = &[
    ("compressed", compressed::check),
    ("handshake", handshake::check),
    ("hixie", hixie::check),
    ("protocol", protocol::check),
    ("sending", sending::check),
    ("utf8", utf8::check),
];
