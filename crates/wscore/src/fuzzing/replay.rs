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
        let Ok(target_dirs) = fs::read_dir(fuzz_dir.join(kind)) else {
            continue;
        };
        for target_dir in target_dirs {
            let target_dir = target_dir.unwrap().path();
            let name = target_dir.file_name().unwrap().to_string_lossy();
            // A directory without a check would silently replay nothing.
            let Some((_, check)) = TARGETS.iter().find(|(target, _)| *target == name) else {
                panic!("{} names no target in TARGETS", target_dir.display());
            };
            for file in fs::read_dir(&target_dir).unwrap() {
                let path = file.unwrap().path();
                eprintln!("replaying {}", path.display());
                check(&fs::read(&path).unwrap());
                replayed += 1;
            }
        }
    }
    assert!(replayed > 0, "no saved inputs under {}", fuzz_dir.display());
}
