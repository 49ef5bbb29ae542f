//! `torvyn inspect` on a compiled component: its interfaces, role,
//! implied capabilities and contracts, read from the binary alone.

use crate::harness::{redact, torvyn};
use sha2::{Digest, Sha256};

/// WASI interface versions follow the Rust toolchain's; the snapshot
/// should not.
fn without_wasi_patch_versions(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("0.2.") {
        out.push_str(&rest[..at]);
        out.push_str("0.2.x");
        rest = rest[at + 4..].trim_start_matches(|c: char| c.is_ascii_digit());
    }
    out.push_str(rest);
    out
}

/// The pass-through processor: its role, exports, imports, capabilities
/// and contract versions (snapshot), and the JSON's digest and size match
/// the file.
#[test]
fn inspect_shows_a_components_interfaces_capabilities_and_contracts() {
    let wasm = torvyn_e2e::test_component("passthrough");
    let dir = wasm.parent().expect("a directory");
    let path = wasm.display().to_string();
    let run = torvyn(dir, &["inspect", &path, "--show", "interfaces"]);
    run.expect_code(0);
    let mut shown = run.stdout.clone();
    for section in ["capabilities", "contracts"] {
        let run = torvyn(dir, &["inspect", &path, "--show", section]);
        run.expect_code(0);
        shown.push_str(run.stdout.split_once('\n').map_or("", |(_, rest)| rest));
    }
    insta::assert_snapshot!(
        "inspect_passthrough",
        without_wasi_patch_versions(&redact(&shown, dir))
    );

    let run = torvyn(dir, &["--format", "json", "inspect", &path]);
    run.expect_code(0);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("one JSON document");
    let bytes = std::fs::read(&wasm).expect("the component");
    let hex: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(json["sha256"], format!("sha256:{hex}"));
    assert_eq!(json["size"]["total_bytes"], bytes.len() as u64);
    assert_eq!(json["roles"][0], "torvyn:streaming/processor");
    assert!(json["size"]["core_modules"].as_u64() >= Some(1), "{json}");
}

/// A component that reads files implies a filesystem capability.
#[test]
fn inspect_names_the_capabilities_a_components_imports_imply() {
    let wasm = torvyn_e2e::test_component("fs-reader");
    let path = wasm.display().to_string();
    let run = torvyn(
        wasm.parent().expect("a directory"),
        &["inspect", &path, "--show", "capabilities"],
    );
    run.expect_code(0);
    assert!(
        run.stdout
            .contains("wasi:filesystem/read or wasi:filesystem/write"),
        "{}",
        run.stdout
    );
}

/// A missing file and a file that is not a component are E0210, exit 1.
#[test]
fn inspect_refuses_what_is_not_a_component() {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = torvyn(dir.path(), &["inspect", "nosuch.wasm"]);
    run.expect_code(1).expect_error("E0210");
    std::fs::write(dir.path().join("module.wasm"), b"\0asm\x01\x00\x00\x00").expect("write");
    let run = torvyn(dir.path(), &["inspect", "module.wasm"]);
    run.expect_code(1).expect_error("E0210");
    assert!(
        run.stderr.contains("core WebAssembly module"),
        "{}",
        run.stderr
    );
}
