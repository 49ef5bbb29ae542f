//! The spec's Hello World example, built from its unchanged sources.

use crate::harness::{json_summary, redact, torvyn};

/// `torvyn run flow.main` in examples/hello-world prints the spec's seven
/// `[hello-sink]` lines on stdout, and the runtime's lines on stderr.
#[test]
fn hello_world_prints_the_documented_sink_lines() {
    let dir = torvyn_e2e::hello_world_dir();
    // Build through the test support first so concurrent tests never race
    // two cargo builds of the same example.
    torvyn_e2e::build_hello_world();
    let run = torvyn(&dir, &["run", "flow.main"]);
    run.expect_code(0);
    let expected: Vec<String> = std::fs::read_to_string(dir.join("expected-output.txt"))
        .expect("expected-output.txt")
        .lines()
        .filter(|l| l.starts_with("[hello-sink]"))
        .map(str::to_string)
        .collect();
    assert_eq!(expected.len(), 7, "the spec documents seven sink lines");
    let printed: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        printed, expected,
        "stdout carries exactly the guests' output"
    );
    insta::assert_snapshot!("hello_world_stderr", redact(&run.stderr, &dir));
}

/// The flow honours `--limit`: only the first elements are pulled.
#[test]
fn limit_stops_the_source_after_n_elements() {
    let dir = torvyn_e2e::hello_world_dir();
    torvyn_e2e::build_hello_world();
    let run = torvyn(&dir, &["run", "--limit", "2", "--format", "json"]);
    run.expect_code(0);
    let json = json_summary(&run);
    assert_eq!(json["elements_delivered"], 2);
    assert_eq!(json["exit_code"], 0);
    // Under --format json the guests' lines are on stderr.
    assert!(run.stderr.contains("seq=1: Hello, World! (message 2)"));
    assert!(!run.stderr.contains("message 3"));
}
