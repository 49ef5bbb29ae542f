//! Per-stream backpressure policies through the real binary: a fast
//! `counter-source` into a `slow-sink` that answers `pause` every few
//! elements, over a stream of queue depth 16.

use crate::harness::{component, json_summary, stream, Project, Run, SINK, SOURCE};

const DEPTH: u64 = 16;
const STREAM: &str = "source-to-sink";

/// counter-source (`count` elements of 16 bytes) → slow-sink (`sink_config`),
/// the edge carrying `backpressure = { ... }` with `backpressure`.
fn project(count: u64, sink_config: &str, backpressure: &str) -> Project {
    let source = component("counter-source");
    let sink = component("slow-sink");
    let source_config = format!(r#"{{"count": {count}, "payload_size": 16}}"#);
    let edge = format!("backpressure = {{ {backpressure} }}");
    Project::dag(
        &[
            ("source", &source, SOURCE, &source_config),
            ("sink", &sink, SINK, sink_config),
        ],
        &[("source", "output", "sink", &edge)],
        "",
    )
}

/// The sink's own line: on stderr, since under `--format json` stdout
/// carries only the JSON.
fn sink_line(run: &Run) -> Option<&str> {
    run.stderr.lines().find(|l| l.starts_with("[slow-sink]"))
}

fn run_json(project: &Project) -> (Run, serde_json::Value) {
    let run = project.run(&["run", "flow.main", "--format", "json"]);
    run.expect_code(0);
    let json = json_summary(&run);
    (run, json)
}

/// Under `block` nothing is lost: every element is delivered, the queue never
/// holds more than its capacity, and the pauses register as backpressure.
#[test]
fn block_delivers_everything_within_the_queue_bound() {
    let (run, json) = run_json(&project(
        1000,
        r#"{"pause_every": 4}"#,
        &format!(r#"queue_depth = {DEPTH}, policy = "block""#),
    ));
    assert_eq!(sink_line(&run), Some("[slow-sink] received=1000"));
    assert_eq!(json["elements_pulled"], 1000);
    assert_eq!(json["elements_delivered"], 1000);
    assert_eq!(json["elements_dropped"], 0);
    let s = stream(&json, STREAM);
    assert_eq!(s["policy"], "block");
    assert_eq!(s["capacity"], DEPTH);
    assert_eq!(s["transferred"], 1000);
    let peak = s["peak_depth"].as_u64().expect("peak_depth");
    assert!(
        peak <= DEPTH,
        "peak depth {peak} exceeds the queue depth {DEPTH}"
    );
    assert!(
        json["peak_queue_depth"].as_u64().expect("peak_queue_depth") <= DEPTH,
        "{json}"
    );
    let events = s["backpressure_events"]
        .as_u64()
        .expect("backpressure_events");
    assert!(events >= 1, "a pausing sink must cause backpressure: {s}");
}

/// The flow-level `default_queue_depth` bounds a stream that sets none.
#[test]
fn default_queue_depth_applies_to_streams_without_their_own() {
    let source = component("counter-source");
    let sink = component("slow-sink");
    let project = Project::dag(
        &[
            (
                "source",
                &source,
                SOURCE,
                r#"{"count": 500, "payload_size": 16}"#,
            ),
            ("sink", &sink, SINK, r#"{"pause_every": 4}"#),
        ],
        &[("source", "output", "sink", "")],
        "default_queue_depth = 8",
    );
    let (_, json) = run_json(&project);
    assert_eq!(json["elements_delivered"], 500);
    let s = stream(&json, STREAM);
    assert_eq!(s["capacity"], 8);
    assert!(s["peak_depth"].as_u64().expect("peak_depth") <= 8, "{s}");
}

/// Checks the accounting every dropping policy must keep: nothing vanishes
/// (delivered + dropped = pulled), the flow's drop count is the stream's,
/// and the queue stays bounded.
fn assert_drop_accounting(json: &serde_json::Value, counter: &str, other: &str) {
    let pulled = json["elements_pulled"].as_u64().expect("elements_pulled");
    let delivered = json["elements_delivered"]
        .as_u64()
        .expect("elements_delivered");
    let dropped = json["elements_dropped"].as_u64().expect("elements_dropped");
    assert_eq!(pulled, 1000);
    assert_eq!(delivered + dropped, pulled, "{json}");
    let s = stream(json, STREAM);
    assert_eq!(s[counter].as_u64(), Some(dropped), "{s}");
    assert_eq!(s[other], 0, "{s}");
    assert!(
        s["peak_depth"].as_u64().expect("peak_depth") <= DEPTH,
        "{s}"
    );
}

/// `drop-oldest` never blocks the producer: when the queue is full the oldest
/// queued element is discarded, and every discard is counted.
#[test]
fn drop_oldest_accounts_for_every_element() {
    let (run, json) = run_json(&project(
        1000,
        r#"{"pause_every": 4}"#,
        &format!(r#"queue_depth = {DEPTH}, policy = "drop-oldest""#),
    ));
    assert_drop_accounting(&json, "dropped_oldest", "dropped_newest");
    assert_eq!(stream(&json, STREAM)["policy"], "drop-oldest");
    let delivered = &json["elements_delivered"];
    assert_eq!(
        sink_line(&run),
        Some(format!("[slow-sink] received={delivered}").as_str())
    );
}

/// `drop-newest` never blocks the producer: when the queue is full the
/// arriving element is discarded, and every discard is counted.
#[test]
fn drop_newest_accounts_for_every_element() {
    let (run, json) = run_json(&project(
        1000,
        r#"{"pause_every": 4}"#,
        &format!(r#"queue_depth = {DEPTH}, policy = "drop-newest""#),
    ));
    assert_drop_accounting(&json, "dropped_newest", "dropped_oldest");
    assert_eq!(stream(&json, STREAM)["policy"], "drop-newest");
    let delivered = &json["elements_delivered"];
    assert_eq!(
        sink_line(&run),
        Some(format!("[slow-sink] received={delivered}").as_str())
    );
}

/// `error` turns a full queue into a flow failure: exit 1 with E0402 naming
/// the stream.
#[test]
fn error_policy_fails_the_flow_when_the_queue_fills() {
    let project = project(
        1000,
        r#"{"pause_every": 4}"#,
        &format!(r#"queue_depth = {DEPTH}, policy = "error""#),
    );
    let run = project.run(&["run", "flow.main"]);
    run.expect_code(1).expect_error("E0402");
    assert!(run.stderr.contains(STREAM), "{}", run.stderr);
}

/// `rate-limit` caps the stream's throughput at `max_elements_per_second`
/// without losing elements.
#[test]
fn rate_limit_caps_throughput() {
    const RATE: f64 = 200.0;
    const COUNT: u64 = 60;
    let (_, json) = run_json(&project(
        COUNT,
        "",
        &format!(
            r#"queue_depth = {DEPTH}, policy = "rate-limit", max_elements_per_second = {RATE}"#
        ),
    ));
    assert_eq!(json["elements_delivered"], COUNT);
    assert_eq!(json["elements_dropped"], 0);
    assert_eq!(stream(&json, STREAM)["policy"], "rate-limit");
    let seconds = json["duration_us"].as_u64().expect("duration_us") as f64 / 1e6;
    let rate = COUNT as f64 / seconds;
    assert!(
        rate <= 1.1 * RATE,
        "{COUNT} elements in {seconds:.3}s = {rate:.1}/s exceeds 1.1 × {RATE}/s"
    );
    // Lenient: the machine running the tests may be busy.
    assert!(
        rate >= 0.5 * RATE,
        "{COUNT} elements in {seconds:.3}s = {rate:.1}/s is far below {RATE}/s"
    );
}
