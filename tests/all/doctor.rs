//! `torvyn doctor`: the machine and the project, each failure with its fix.

use crate::harness::{torvyn, torvyn_with_env};

/// On a machine with Rust and the wasm target (this one, CI's), outside
/// a project, every required check passes.
#[test]
fn doctor_passes_on_a_machine_with_the_wasm_target() {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = torvyn(dir.path(), &["doctor"]);
    run.expect_code(0);
    assert!(
        run.stdout.contains("✓ wasm32-wasip2 target installed"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("All checks passed!"), "{}", run.stdout);
}

/// A toolchain without wasm32-wasip2 fails, exit 1, with the command that
/// adds it.
#[test]
fn doctor_fails_without_the_wasm_target_and_says_how_to_add_it() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("temp dir");
    let sysroot = dir.path().join("sysroot");
    std::fs::create_dir_all(sysroot.join("lib/rustlib/x86_64-unknown-linux-gnu")).expect("dirs");
    let rustc = dir.path().join("rustc");
    std::fs::write(
        &rustc,
        format!(
            "#!/bin/sh\nif [ \"$1\" = --print ]; then echo {}; else echo 'rustc 1.95.0 (fake 2026-01-01)'; fi\n",
            sysroot.display()
        ),
    )
    .expect("fake rustc");
    std::fs::set_permissions(&rustc, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let rustc = rustc.display().to_string();
    let run = torvyn_with_env(dir.path(), &["doctor"], &[("RUSTC", &rustc)]);
    run.expect_code(1);
    assert!(
        run.stdout
            .contains("✗ the wasm32-wasip2 target is not installed"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("rustup target add wasm32-wasip2"),
        "{}",
        run.stdout
    );
}

/// In a project, a vendored WIT file that differs from this Torvyn's is
/// reported; `--fix` restores it.
#[test]
fn doctor_fix_re_vendors_stale_wit_dependencies() {
    let dir = tempfile::tempdir().expect("temp dir");
    torvyn(dir.path(), &["init", "demo", "--no-git"]).expect_code(0);
    let project = dir.path().join("demo");
    torvyn(&project, &["doctor"]).expect_code(0);

    let types = project.join("wit/deps/streaming/types.wit");
    let original = std::fs::read_to_string(&types).expect("vendored types.wit");
    std::fs::write(&types, "// edited by hand\n").expect("edit");
    let run = torvyn(&project, &["doctor"]);
    run.expect_code(1);
    assert!(
        run.stdout
            .contains("WIT dependencies missing or out of date"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("torvyn doctor --fix"), "{}", run.stdout);

    torvyn(&project, &["doctor", "--fix"]).expect_code(0);
    assert_eq!(std::fs::read_to_string(&types).expect("restored"), original);
}
