//! The fuzzers' corpus (`fuzz/corpus/<target>/`), replayed on stable at every `cargo test`:
//! every input a fuzzer kept, and every input that once crashed one (`fuzz/regressions/`),
//! goes through the same function the fuzz target runs (`botcadence::fuzzing`).

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut replayed = 0;
    for dir in [
        root.join("corpus").join(target),
        root.join("regressions").join(target),
    ] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            let outcome = std::panic::catch_unwind(|| run(&data));
            assert!(outcome.is_ok(), "{target}: {} fails", path.display());
            replayed += 1;
        }
    }
    assert!(replayed > 0, "{target}: no corpus under {}", root.display());
}

#[test]
fn workflow_definition_corpus() {
    replay(
        "workflow_definition",
        botcadence::fuzzing::workflow_definition,
    );
}

#[test]
fn template_corpus() {
    replay("template", botcadence::fuzzing::template);
}

#[test]
fn signature_headers_corpus() {
    replay("signature_headers", botcadence::fuzzing::signature_headers);
}

#[test]
fn query_corpus() {
    replay("query", botcadence::fuzzing::query);
}

#[test]
fn record_codec_corpus() {
    replay("record_codec", botcadence::fuzzing::record_codec);
}
