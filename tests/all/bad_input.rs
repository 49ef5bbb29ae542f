//! Bad input gets a clear error with its stable code, a location and a
//! fix — never a panic — and the spec's exit codes.

use crate::harness::{component, redact, torvyn, Project, PROCESSOR, SINK, SOURCE};

/// No Torvyn.toml: E0001, exit 2.
#[test]
fn missing_manifest_is_e0001() {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = torvyn(dir.path(), &["run"]);
    run.expect_code(2).expect_error("E0001");
    insta::assert_snapshot!("missing_manifest", redact(&run.stderr, dir.path()));
}

/// Malformed TOML: E0002 with the line and column.
#[test]
fn malformed_toml_is_e0002_with_line_and_column() {
    let project = Project::with_manifest("[torvyn]\nname = \"x\"\nversion = \n");
    let run = project.run(&["run"]);
    run.expect_code(2).expect_error("E0002");
    assert!(run.stderr.contains("Torvyn.toml:3:"), "{}", run.stderr);
    insta::assert_snapshot!("malformed_toml", redact(&run.stderr, project.path()));
}

/// A node naming a component that is neither a file nor declared: E0210.
#[test]
fn unknown_component_name_is_e0210() {
    let sink = component("quiet-sink");
    let project = Project::linear(&[
        ("source", "no-such-component", SOURCE, ""),
        ("sink", &sink, SINK, ""),
    ]);
    let run = project.run(&["run"]);
    run.expect_code(2).expect_error("E0210");
    assert!(run.stderr.contains("no-such-component"), "{}", run.stderr);
}

/// A `file://` path to a .wasm that does not exist: E0210.
#[test]
fn missing_wasm_file_is_e0210() {
    let sink = component("quiet-sink");
    let project = Project::linear(&[
        ("source", "file://./missing.wasm", SOURCE, ""),
        ("sink", &sink, SINK, ""),
    ]);
    let run = project.run(&["run"]);
    run.expect_code(2).expect_error("E0210");
    assert!(run.stderr.contains("missing.wasm"), "{}", run.stderr);
}

/// A file that is not a WebAssembly component (text, or a core module): E0210.
#[test]
fn a_file_that_is_not_a_component_is_e0210() {
    let sink = component("quiet-sink");
    for (bytes, says) in [
        (b"hello".to_vec(), "magic number"),
        (b"\0asm\x01\0\0\0".to_vec(), "core WebAssembly module"),
    ] {
        let project = Project::linear(&[
            ("source", "file://./bogus.wasm", SOURCE, ""),
            ("sink", &sink, SINK, ""),
        ]);
        std::fs::write(project.path().join("bogus.wasm"), bytes).expect("write");
        let run = project.run(&["run"]);
        run.expect_code(2).expect_error("E0210");
        assert!(run.stderr.contains(says), "{}", run.stderr);
    }
}

/// A component that lacks the export its node's interface needs: E0203.
#[test]
fn a_component_without_the_declared_export_is_rejected() {
    let source = component("counter-source");
    let passthrough = component("passthrough");
    let project = Project::linear(&[
        ("source", &source, SOURCE, ""),
        ("sink", &passthrough, SINK, ""),
    ]);
    let run = project.run(&["run"]);
    run.expect_code(2).expect_error("E0203");
    assert!(
        run.stderr.contains("torvyn:streaming/sink"),
        "{}",
        run.stderr
    );
}

/// A flow whose edges do not form a chain: E0203 before anything runs.
#[test]
fn a_broken_topology_is_e0203() {
    let source = component("counter-source");
    let sink = component("quiet-sink");
    let manifest = format!(
        "[torvyn]\nname = \"x\"\nversion = \"0.1.0\"\ncontract_version = \"0.1.0\"\n\
         [flow.main.nodes.source]\ncomponent = \"{source}\"\ninterface = \"{SOURCE}\"\n\
         [flow.main.nodes.sink]\ncomponent = \"{sink}\"\ninterface = \"{SINK}\"\n"
    );
    let project = Project::with_manifest(&manifest);
    let run = project.run(&["run"]);
    run.expect_code(2).expect_error("E0203");
}

/// A guest whose `init` rejects its configuration stops the flow before it runs.
#[test]
fn a_rejected_config_fails_startup() {
    let source = component("counter-source");
    let sink = component("quiet-sink");
    let project = Project::linear(&[
        ("source", &source, SOURCE, "not json"),
        ("sink", &sink, SINK, ""),
    ]);
    let run = project.run(&["run"]);
    run.expect_code(1).expect_error("E0410");
    assert!(run.stderr.contains("init"), "{}", run.stderr);
}

/// A trapping guest fails the flow with a clear error, exit 1.
#[test]
fn a_trapping_guest_is_reported_not_a_panic() {
    let source = component("counter-source");
    let trap = component("trap-processor");
    let sink = component("quiet-sink");
    let project = Project::linear(&[
        ("source", &source, SOURCE, r#"{"count": 10}"#),
        ("boom", &trap, PROCESSOR, r#"{"at": 3}"#),
        ("sink", &sink, SINK, ""),
    ]);
    let run = project.run(&["run", "--config", "flow.main.supervision.max_restarts=0"]);
    run.expect_code(1).expect_error("E0410");
    assert!(run.stderr.contains("component `boom`"), "{}", run.stderr);
    assert!(run.stderr.contains("trapped"), "{}", run.stderr);
}
