//! The fuzz targets' bodies (`fuzz/src/lib.rs`) compiled and run on stable
//! Rust as part of the test suite: on the checked-in seed corpus, on real
//! components, and on inputs that once made them fail. The fuzzing itself
//! (cargo-fuzz, libFuzzer) is run by hand: see fuzz/README.md.

#[path = "../../fuzz/src/lib.rs"]
mod bodies;

use std::path::PathBuf;

/// `\0asm`, component-model version 0x0d, layer 1.
const EMPTY_COMPONENT: &[u8] = b"\0asm\x0d\x00\x01\x00";

fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = torvyn_e2e::repo_root()
        .join("fuzz")
        .join("corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| Some(e.ok()?.path()))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no seeds in {}", dir.display());
    files
        .into_iter()
        .map(|f| {
            let bytes = std::fs::read(&f).expect("seed");
            (f, bytes)
        })
        .collect()
}

/// Every seed manifest loads and passes through the flow checks.
#[test]
fn manifest_seeds_load() {
    for (file, bytes) in corpus("manifest") {
        assert_eq!(bodies::manifest(&bytes), Ok(()), "{}", file.display());
    }
}

/// Every seed WIT document parses and resolves on its own.
#[test]
fn wit_seeds_load() {
    for (file, bytes) in corpus("wit") {
        assert_eq!(bodies::wit(&bytes), Ok(()), "{}", file.display());
    }
}

/// The empty component seed and real compiled guests decode.
#[test]
fn component_seeds_and_real_guests_decode() {
    // The smallest valid component: the preamble alone (magic, component
    // version 0x0d, layer 1). Generated here rather than checked in.
    assert_eq!(
        bodies::component(EMPTY_COMPONENT),
        Ok(()),
        "empty component"
    );
    for name in ["passthrough", "parity-router"] {
        let bytes = std::fs::read(torvyn_e2e::test_component(name)).expect("wasm");
        assert_eq!(bodies::component(&bytes), Ok(()), "{name}");
    }
}

/// Garbage is rejected with stable codes, never a panic.
#[test]
fn garbage_is_rejected_with_codes() {
    use torvyn_runtime::error::ErrorCode;
    let garbage: [&[u8]; 4] = [b"", b"\xff\xfe[[[", b"a = [1, \"x\"", b"[flow.x.nodes]\n"];
    for input in garbage {
        if let Err(codes) = bodies::manifest(input) {
            assert!(!codes.is_empty(), "{input:?}");
        }
        assert!(bodies::wit(input).is_err(), "{input:?}");
        assert_eq!(
            bodies::component(input),
            Err(vec![ErrorCode::ComponentNotFound]),
            "{input:?}"
        );
    }
    assert!(bodies::manifest(b"[torvyn]\nname = 1\n").is_err());
}

/// A packed artifact loads; garbage, a tar that is not a layout and a
/// layout with a corrupt blob are E0600, never a panic.
#[test]
fn artifact_bodies_accept_a_packed_artifact_and_reject_garbage() {
    use std::collections::BTreeMap;
    use torvyn_runtime::error::ErrorCode;
    use torvyn_runtime::packaging::artifact::{Artifact, ArtifactSpec};
    use torvyn_runtime::packaging::layout::deterministic_tar;
    let artifact = Artifact::build(ArtifactSpec {
        wasm: EMPTY_COMPONENT.to_vec(),
        imports: Vec::new(),
        exports: Vec::new(),
        contracts: BTreeMap::from([("wit/world.wit".to_string(), b"package a:b;".to_vec())]),
        source: None,
        annotations: BTreeMap::new(),
        created: "1970-01-01T00:00:00Z".into(),
        author: None,
        tag: "1.0.0".into(),
        signing_key: None,
    })
    .expect("packs");
    let tar = artifact.to_layout().expect("layout").to_tar();
    assert_eq!(bodies::artifact(&tar), Ok(()));
    let not_a_layout = deterministic_tar(&BTreeMap::from([("a".to_string(), b"b".to_vec())]));
    let mut corrupt = tar.clone();
    let at = corrupt
        .windows(4)
        .position(|w| w == b"\0asm")
        .expect("the wasm blob");
    corrupt[at + 5] ^= 0xff;
    for input in [
        &b""[..],
        b"garbage",
        &not_a_layout,
        &corrupt,
        &tar[..tar.len() / 2],
    ] {
        assert_eq!(
            bodies::artifact(input),
            Err(vec![ErrorCode::ArtifactInvalid]),
            "{:?}",
            &input[..input.len().min(16)]
        );
    }
}
