//! Compiled components are cached on disk by the SHA-256 of their bytes.

use crate::harness::{component, Project, SINK, SOURCE};
use std::process::Command;

/// After one run, the cache holds one artifact per component, named by the
/// SHA-256 of its .wasm; a second run reuses them and behaves the same.
#[test]
fn compiled_components_are_cached_by_sha256() {
    let source = component("counter-source");
    let sink = component("quiet-sink");
    let project = Project::linear(&[
        ("source", &source, SOURCE, r#"{"count": 3}"#),
        ("sink", &sink, SINK, ""),
    ]);
    let cache = tempfile::tempdir().expect("cache dir");
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_torvyn"))
            .args(["run"])
            .current_dir(project.path())
            .env("TORVYN_CACHE_DIR", cache.path())
            .output()
            .expect("torvyn runs")
    };
    let first = run();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let mut cached: Vec<String> = std::fs::read_dir(cache.path().join("components"))
        .expect("cache directory exists")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    cached.sort();
    assert_eq!(cached.len(), 2, "{cached:?}");
    for wasm in [
        torvyn_e2e::test_component("counter-source"),
        torvyn_e2e::test_component("quiet-sink"),
    ] {
        let digest = sha256_hex(&std::fs::read(&wasm).expect("wasm"));
        assert!(
            cached
                .iter()
                .any(|name| name.starts_with(&digest) && name.ends_with(".cwasm")),
            "{digest} not in {cached:?}"
        );
    }
    let second = run();
    assert!(second.status.success());
    assert_eq!(first.stdout, second.stdout);
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
