//! Replays every saved fuzz input (the seed corpus and the inputs that once
//! found a bug) through its target's check, as an ordinary test.

use std::fs;
use std::path::Path;

use super::TARGETS;

#[test]
fn saved_fuzz_inputs_pass_their_checks() {
    let fuzz_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut replayed = 0;
    for kind in ["corpus", "regressions"] {
        for (target, check) in TARGETS {
            let Ok(entries) = fs::read_dir(fuzz_dir.join(kind).join(target)) else {
                continue;
            };
            for entry in entries {
                let path = entry.unwrap().path();
                let data = fs::read(&path).unwrap();
                eprintln!("replaying {}", path.display());
                check(&data);
                replayed += 1;
            }
        }
    }
    assert!(replayed > 0, "no saved inputs under {}", fuzz_dir.display());
}
