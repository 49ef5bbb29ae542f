//! The spec's example pipelines (examples/<name>/), built from their
//! unchanged sources and run with `torvyn run flow.main`: stdout carries
//! exactly the component lines of each example's expected-output.txt, and
//! stderr its runtime lines (all but the duration).

use crate::harness::torvyn;

/// Builds `examples/<name>`, runs `torvyn run flow.main` there and checks
/// that stdout is exactly the component lines (`[...]` but not `[torvyn]`)
/// of its expected-output.txt, in order.
fn run_example(name: &str) {
    let dir = torvyn_e2e::example_dir(name);
    // Build through the test support first so concurrent tests never race
    // two cargo builds of the same example.
    torvyn_e2e::build_example(name);
    let run = torvyn(&dir, &["run", "flow.main"]);
    run.expect_code(0);
    let expected: Vec<String> = std::fs::read_to_string(dir.join("expected-output.txt"))
        .expect("expected-output.txt")
        .lines()
        .filter(|l| l.starts_with('[') && !l.starts_with("[torvyn]"))
        .map(str::to_string)
        .collect();
    assert!(
        !expected.is_empty(),
        "{name}: no component lines in expected-output.txt"
    );
    let printed: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        printed, expected,
        "{name}: stdout carries exactly the components' lines\n--- stderr\n{}",
        run.stderr
    );
    // The runtime's own lines too, but the duration and the throughput
    // (which vary).
    let runtime_lines = std::fs::read_to_string(dir.join("expected-output.txt"))
        .expect("expected-output.txt")
        .lines()
        .filter(|l| l.starts_with("[torvyn]") && !l.starts_with("[torvyn] Throughput:"))
        .map(|l| match l.split_once(" | ") {
            Some((_duration, rest)) if l.contains("Duration:") => rest.to_string(),
            _ => l.to_string(),
        })
        .collect::<Vec<_>>();
    for line in runtime_lines {
        assert!(
            run.stderr.contains(&line),
            "{name}: expected-output.txt says {line:?}, the run printed:\n{}",
            run.stderr
        );
    }
}

/// Stream Transform: source → processor → sink renames `user` and adds
/// `processed_at` to each of the three JSON events.
#[test]
fn stream_transform_prints_the_transformed_events() {
    run_example("stream-transform");
}

/// Backpressure Demo: a fast source into a slow sink over a 16-deep queue
/// loses nothing: the sink logs every 100th of all 1000 elements.
#[test]
fn backpressure_demo_delivers_all_elements() {
    run_example("backpressure-demo");
}

/// Token Streaming: the filter drops the blocked token, the aggregator
/// assembles three sentences (the last one on its own boundary, none left
/// for `flush`), and the filter reports its count on teardown.
#[test]
fn token_streaming_filters_and_assembles_sentences() {
    run_example("token-streaming");
}

/// Event Enrichment: two processors enrich and classify five events; only
/// the two high-severity ones are printed as alerts.
#[test]
fn event_enrichment_raises_two_alerts() {
    run_example("event-enrichment");
}

/// Fan-Out: the router sends metric events down the metrics branch and log
/// events down the logs branch, each tagged by its branch processor.
#[test]
fn fan_out_routes_each_event_to_its_branch() {
    run_example("fan-out");
}

/// Every `torvyn …` line of every example's Makefile uses options its
/// command accepts (as `torvyn <command> --help` lists them).
#[test]
fn example_makefiles_use_only_options_the_cli_accepts() {
    let examples = torvyn_e2e::repo_root().join("examples");
    let mut checked = 0;
    for entry in std::fs::read_dir(&examples).expect("examples/") {
        let makefile = entry.expect("entry").path().join("Makefile");
        let Ok(text) = std::fs::read_to_string(&makefile) else {
            continue;
        };
        for line in text.lines().map(str::trim) {
            let Some(rest) = line.strip_prefix("torvyn ") else {
                continue;
            };
            let mut words = rest.split_whitespace();
            let command = words.next().expect("a command");
            let help = crate::harness::torvyn(&examples, &[command, "--help"]);
            help.expect_code(0);
            for option in words.filter(|w| w.starts_with("--")) {
                let option = option.split('=').next().unwrap_or(option);
                assert!(
                    help.stdout.contains(option),
                    "{}: `torvyn {command}` has no option {option}:\n{}",
                    makefile.display(),
                    help.stdout
                );
            }
            checked += 1;
        }
    }
    assert!(
        checked >= 6,
        "only {checked} torvyn lines found in the Makefiles"
    );
}
