//! Copy accounting through the real binary: every payload copy a guest
//! causes is counted, and nothing else is.

use crate::harness::{component, json_summary, Project, PROCESSOR, SINK, SOURCE};

/// Source → processor → sink makes exactly 4 payload copies per element
/// (source write, processor read + write, sink read), as the spec says.
#[test]
fn source_processor_sink_makes_four_copies_per_element() {
    let source = component("counter-source");
    let passthrough = component("passthrough");
    let sink = component("quiet-sink");
    let project = Project::linear(&[
        (
            "source",
            &source,
            SOURCE,
            r#"{"count": 50, "payload_size": 100}"#,
        ),
        ("transform", &passthrough, PROCESSOR, ""),
        ("sink", &sink, SINK, ""),
    ]);
    let run = project.run(&["run", "--format", "json"]);
    run.expect_code(0);
    let json = json_summary(&run);
    assert_eq!(json["elements_delivered"], 50);
    assert_eq!(json["copies"], 200);
    assert_eq!(json["copy_bytes"], 4 * 50 * 100);
    assert_eq!(json["copy_amplification"], 2.0);
    assert_eq!(
        json["leaked_buffers"], 0,
        "every buffer went back to its pool"
    );
    let expected = torvyn_e2e::quiet_sink_line(torvyn_e2e::counter_payloads(50, 100));
    assert!(
        run.stderr.contains(&expected),
        "expected `{expected}` in\n{}",
        run.stderr
    );
}

/// Source → sink makes 2 copies per element, and sequences start at 0.
#[test]
fn source_sink_makes_two_copies_per_element() {
    let source = component("counter-source");
    let sink = component("quiet-sink");
    let project = Project::linear(&[
        (
            "source",
            &source,
            SOURCE,
            r#"{"count": 10, "payload_size": 64}"#,
        ),
        ("sink", &sink, SINK, ""),
    ]);
    let run = project.run(&["run", "--format", "json"]);
    run.expect_code(0);
    let json = json_summary(&run);
    assert_eq!(json["copies"], 20);
    assert_eq!(json["copy_bytes"], 2 * 10 * 64);
    assert_eq!(
        json["peak_queue_depth"], 1,
        "consumer-first scheduling keeps one element in flight"
    );
}

/// A never-ending source stops at `--limit`, and every pulled element arrives.
#[test]
fn limit_bounds_an_endless_source() {
    let source = component("counter-source");
    let upper = component("uppercase");
    let sink = component("quiet-sink");
    let project = Project::linear(&[
        (
            "source",
            &source,
            SOURCE,
            r#"{"count": 0, "payload_size": 16}"#,
        ),
        ("upper", &upper, PROCESSOR, ""),
        ("sink", &sink, SINK, ""),
    ]);
    let run = project.run(&["run", "--limit", "100", "--format", "json"]);
    run.expect_code(0);
    let json = json_summary(&run);
    assert_eq!(json["elements_pulled"], 100);
    assert_eq!(json["elements_delivered"], 100);
    assert!(
        run.stderr.contains("[quiet-sink] received=100 bytes=1600"),
        "{}",
        run.stderr
    );
}
