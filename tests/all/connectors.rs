//! Built-in connectors through the real binary: the Quickstart's
//! processor-only flow between the test source and the stdout sink,
//! `--input` / `--output` (file, stdin, generator), `builtin:` nodes in a
//! manifest, and their errors.

use crate::harness::{command, component, Project, PROCESSOR, SINK, SOURCE};
use std::io::Write;
use std::process::Stdio;

/// The Quickstart's step 7: one processor node, no edges.
fn processor_only() -> Project {
    Project::linear(&[("transform", &component("passthrough"), PROCESSOR, "")])
}

fn greetings(count: u32) -> Vec<String> {
    (1..=count)
        .map(|n| format!("Hello, Torvyn! ({n})"))
        .collect()
}

#[test]
fn a_processor_only_flow_runs_between_the_test_source_and_the_stdout_sink() {
    let project = processor_only();
    let run = project.run(&["run", "--limit", "10"]);
    run.expect_code(0);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines, greetings(10), "stderr:\n{}", run.stderr);
    assert!(
        run.stderr
            .contains("Linking components...    ok (3 components, 2 edges)"),
        "{}",
        run.stderr
    );
}

#[test]
fn input_and_output_files_replace_the_source_and_the_sink() {
    let project = processor_only();
    std::fs::write(project.path().join("in.txt"), "first\nsecond\r\nthird").expect("input");
    let run = project.run(&["run", "--input", "in.txt", "--output", "out.txt"]);
    run.expect_code(0);
    assert_eq!(run.stdout, "", "the output went to the file");
    let written = std::fs::read_to_string(project.path().join("out.txt")).expect("output");
    assert_eq!(written, "first\nsecond\nthird\n");
    assert!(
        run.stderr.contains("3 elements processed"),
        "{}",
        run.stderr
    );
}

#[test]
fn standard_input_feeds_a_flow() {
    let project = processor_only();
    let mut child = command(project.path(), &["run", "--input", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("torvyn starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"alpha\nbeta\n")
        .expect("writes");
    let out = child.wait_with_output().expect("torvyn ends");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.lines().collect::<Vec<_>>(), ["alpha", "beta"]);
}

#[test]
fn the_generator_makes_count_elements_of_size_bytes() {
    let project = processor_only();
    let run = project.run(&["run", "--input", "generator:count=4,size=16"]);
    run.expect_code(0);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{}", run.stdout);
    assert!(lines.iter().all(|l| l.len() == 16), "{lines:?}");
    assert!(lines[0].starts_with("1 "), "{lines:?}");
}

/// Connectors named in the manifest, with their settings in `config`;
/// their copies are in the copy ledger under their own node names.
#[test]
fn builtin_nodes_in_a_manifest_take_their_config() {
    let project = Project::linear(&[
        (
            "greeter",
            "builtin:test-source",
            SOURCE,
            r#"{"count": 3, "message": "Hi"}"#,
        ),
        ("transform", &component("passthrough"), PROCESSOR, ""),
        (
            "writer",
            "builtin:file-sink",
            SINK,
            r#"{"path": "greetings.txt"}"#,
        ),
    ]);
    let run = project.run(&["run", "--format", "json"]);
    run.expect_code(0);
    let written = std::fs::read_to_string(project.path().join("greetings.txt")).expect("file");
    assert_eq!(written, "Hi (1)\nHi (2)\nHi (3)\n");
    let summary = crate::harness::json_summary(&run);
    assert_eq!(summary["elements_delivered"], 3, "{summary}");
    assert_eq!(summary["leaked_buffers"], 0, "{summary}");
}

#[test]
fn a_bad_builtin_node_is_refused_before_the_flow_starts() {
    let cases = [
        ("builtin:nope", SOURCE, "", "E0210", "builtin:test-source"),
        (
            "builtin:stdout-sink",
            PROCESSOR,
            "",
            "E0203",
            "torvyn:streaming/sink",
        ),
        (
            "builtin:test-source",
            SOURCE,
            r#"{"cuont": 3}"#,
            "E0702",
            "unknown setting `cuont`",
        ),
        (
            "builtin:file-source",
            SOURCE,
            r#"{"path": "missing.txt"}"#,
            "E0702",
            "not a readable file",
        ),
    ];
    for (reference, interface, config, code, needle) in cases {
        let project = Project::linear(&[
            ("a", reference, interface, config),
            ("sink", "builtin:stdout-sink", SINK, ""),
        ]);
        let run = project.run(&["run"]);
        run.expect_code(2).expect_error(code);
        assert!(
            run.stderr.contains(needle),
            "{reference}: {needle:?} in\n{}",
            run.stderr
        );
    }
}

#[test]
fn a_bad_override_is_refused() {
    let project = processor_only();
    let run = project.run(&["run", "--input", "generator:count"]);
    run.expect_code(2).expect_error("E0702");
    assert!(run.stderr.contains("--input takes"), "{}", run.stderr);
    let run = project.run(&["run", "--input", "no-such-file.txt"]);
    run.expect_code(2).expect_error("E0702");
    assert!(run.stderr.contains("not a readable file"), "{}", run.stderr);
}

/// A paced generator hands the flow's thread back while it waits: the
/// flow finishes with every element, later than the pace allows sooner.
#[test]
fn a_paced_generator_keeps_its_rate_without_blocking_the_flow() {
    let project = processor_only();
    let started = std::time::Instant::now();
    let run = project.run(&["run", "--input", "generator:count=5,size=4,rate=50"]);
    run.expect_code(0);
    assert_eq!(run.stdout.lines().count(), 5, "{}", run.stdout);
    // Five elements at 50/s: the last is due 80 ms after the first.
    assert!(started.elapsed() >= std::time::Duration::from_millis(80));
}

/// `torvyn bench --input generator:…` replaces the flow's source, and a
/// flow with no sink is benchmarked into a discarding one (nothing printed).
#[test]
fn bench_takes_a_connector_as_input_and_prints_only_its_report() {
    let project = processor_only();
    let run = project.run(&[
        "bench",
        "--input",
        "generator:size=32",
        "--duration",
        "300ms",
        "--warmup",
        "0s",
        "--report-format",
        "json",
    ]);
    run.expect_code(0);
    let report: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("stdout is the JSON report only ({e}):\n{}", run.stdout));
    assert!(
        report["elements"].as_u64().is_some_and(|n| n > 0),
        "{report}"
    );
}
