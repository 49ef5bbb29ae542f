//! `torvyn build`'s errors: a failing check, an unknown `--target`, a
//! compile error, a missing toolchain. (Every template's successful build
//! is in `init`.)

use crate::harness::{torvyn, torvyn_generated, torvyn_with_env};
use std::path::PathBuf;

/// A fresh transform project `name` (no git) in a temp dir.
fn project(name: &str) -> (tempfile::TempDir, PathBuf) {
    let parent = tempfile::tempdir().expect("temp dir");
    torvyn(parent.path(), &["init", name, "--no-git"]).expect_code(0);
    let dir = parent.path().join(name);
    (parent, dir)
}

#[test]
fn unknown_target_names_the_declared_components() {
    let (_parent, dir) = project("b-target");
    let run = torvyn_generated(&dir, &["build", "--target", "nosuch"]);
    run.expect_code(1).expect_error("E0210");
    assert!(run.stderr.contains("`nosuch`"), "{}", run.stderr);
    assert!(
        run.stderr.contains("declared components: b-target"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_failing_check_stops_the_build_with_exit_1() {
    let (_parent, dir) = project("b-check");
    std::fs::write(
        dir.join("wit/world.wit"),
        "package b-check:component;\nworld {",
    )
    .expect("write");
    let run = torvyn_generated(&dir, &["build"]);
    run.expect_code(1).expect_error("E0100");
    assert!(!run.stdout.contains("Built"), "{}", run.stdout);
}

#[test]
fn a_compile_error_exits_2_with_cargo_output() {
    let (_parent, dir) = project("b-broken");
    let lib = dir.join("src/lib.rs");
    let mut text = std::fs::read_to_string(&lib).expect("lib.rs");
    text.push_str("\nfn broken() -> u32 { \"not a number\" }\n");
    std::fs::write(&lib, text).expect("write");
    let run = torvyn_generated(&dir, &["build", "--target", "b-broken"]);
    run.expect_code(2).expect_error("E0210");
    assert!(run.stderr.contains("mismatched types"), "{}", run.stderr);
    assert!(run.stderr.contains("failed to build"), "{}", run.stderr);
}

#[test]
fn a_missing_cargo_is_e0010_with_the_fix() {
    let (_parent, dir) = project("b-nocargo");
    let run = torvyn_with_env(&dir, &["build"], &[("CARGO", "/nonexistent/cargo")]);
    run.expect_code(2).expect_error("E0010");
    assert!(
        run.stderr.contains("rustup target add wasm32-wasip2"),
        "{}",
        run.stderr
    );
}

/// A toolchain without the wasm32-wasip2 standard library (here: a rustc
/// that fails) is E0010 with the rustup fix, not a compile error.
#[test]
fn a_missing_wasm_target_is_e0010_with_the_fix() {
    let (_parent, dir) = project("b-notarget");
    let target = crate::harness::generated_target_dir();
    let run = torvyn_with_env(
        &dir,
        &["build"],
        &[
            ("RUSTC", "/bin/false"),
            ("CARGO_TARGET_DIR", &target.display().to_string()),
        ],
    );
    run.expect_code(2).expect_error("E0010");
    assert!(
        run.stderr.contains("`wasm32-wasip2` is not installed"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("rustup target add wasm32-wasip2"),
        "{}",
        run.stderr
    );
}
