//! Span export from a real run: `torvyn run` with `tracing_exporter` set
//! sends OTLP to a receiver the test starts, and the span tree is the
//! flow's root span with one child per component call, all carrying the
//! flow's trace id.

use crate::harness::{component, Project, PROCESSOR, SINK, SOURCE};
use std::time::Duration;
use torvyn_e2e::otlp::{OtlpReceiver, ReceivedSpan};

const ELEMENTS: usize = 10;

/// counter-source (ELEMENTS) → passthrough → quiet-sink.
fn project() -> Project {
    let source = component("counter-source");
    let pass = component("passthrough");
    let sink = component("quiet-sink");
    Project::dag(
        &[
            (
                "source",
                &source,
                SOURCE,
                &format!(r#"{{"count": {ELEMENTS}, "payload_size": 16}}"#),
            ),
            ("pass", &pass, PROCESSOR, ""),
            ("sink", &sink, SINK, ""),
        ],
        &[
            ("source", "output", "pass", ""),
            ("pass", "output", "sink", ""),
        ],
        "",
    )
}

fn export_args(exporter: &str, endpoint: &str, sample_rate: &str) -> Vec<String> {
    vec![
        "run".into(),
        "--config".into(),
        format!("observability.tracing_exporter={exporter}"),
        "--config".into(),
        format!("observability.tracing_endpoint={endpoint}"),
        "--config".into(),
        format!("observability.sample_rate={sample_rate}"),
    ]
}

/// Asserts the tree's shape: one root (no parent), and `elements`
/// elements' calls under it — a pull, a process and a push each, plus the
/// source's last pull (the one that returned end of stream) when any call
/// is traced.
fn check_tree(spans: &[ReceivedSpan], elements: usize) {
    let calls = if elements == 0 { 0 } else { 3 * elements + 1 };
    let roots: Vec<&ReceivedSpan> = spans
        .iter()
        .filter(|s| s.parent_span_id.is_empty())
        .collect();
    assert_eq!(roots.len(), 1, "one root span: {spans:#?}");
    let root = roots[0];
    assert_eq!(root.name, "flow main");
    assert_eq!(root.trace_id.len(), 16);
    assert!(root.trace_id.iter().any(|b| *b != 0));
    let children: Vec<&ReceivedSpan> = spans
        .iter()
        .filter(|s| s.parent_span_id == root.span_id)
        .collect();
    assert_eq!(children.len(), calls, "{children:#?}");
    assert_eq!(
        children.len() + 1,
        spans.len(),
        "every span hangs off the root"
    );
    for child in &children {
        assert_eq!(child.trace_id, root.trace_id, "{child:?}");
        assert_ne!(child.span_id, root.span_id);
        assert!(
            child.start_unix_ns >= root.start_unix_ns,
            "{child:?} {root:?}"
        );
        assert!(child.end_unix_ns <= root.end_unix_ns, "{child:?} {root:?}");
        assert!(child.attribute("torvyn.element.sequence").is_some());
    }
    for (name, expected) in [
        ("source pull", elements + usize::from(elements > 0)),
        ("pass process", elements),
        ("sink push", elements),
    ] {
        let n = children.iter().filter(|s| s.name == name).count();
        assert_eq!(n, expected, "{name}: {children:#?}");
    }
    let mut ids: Vec<&Vec<u8>> = children.iter().map(|s| &s.span_id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), calls, "span ids are distinct");
}

#[test]
fn run_exports_the_span_tree_over_otlp_http() {
    let (receiver, endpoint) = OtlpReceiver::start_http();
    let args = export_args("otlp-http", &endpoint, "1.0");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = project().run(&args);
    run.expect_code(0);
    let spans = receiver.wait_for(3 * ELEMENTS + 2, Duration::from_secs(10));
    check_tree(&spans, ELEMENTS);
    // stdout still carries only the guest's line.
    assert_eq!(run.stdout.lines().count(), 1, "{}", run.stdout);
}

#[test]
fn run_exports_the_span_tree_over_otlp_grpc() {
    let (receiver, endpoint) = OtlpReceiver::start_grpc();
    let args = export_args("otlp-grpc", &endpoint, "1.0");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    project().run(&args).expect_code(0);
    let spans = receiver.wait_for(3 * ELEMENTS + 2, Duration::from_secs(10));
    check_tree(&spans, ELEMENTS);
}

/// With nothing sampled, only the flow's root span is exported.
#[test]
fn unsampled_elements_export_only_the_root() {
    let (receiver, endpoint) = OtlpReceiver::start_http();
    let args = export_args("otlp-http", &endpoint, "0.0");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    project().run(&args).expect_code(0);
    let spans = receiver.wait_for(1, Duration::from_secs(10));
    // Give a straggler a moment to show up before asserting there is none.
    std::thread::sleep(Duration::from_millis(300));
    let spans = if receiver.spans().len() > spans.len() {
        receiver.spans()
    } else {
        spans
    };
    check_tree(&spans, 0);
}

/// An endpoint the exporter cannot use is refused before anything runs.
#[test]
fn an_https_endpoint_is_refused_with_e0702() {
    let args = export_args("otlp-http", "https://collector:4318", "1.0");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = project().run(&args);
    run.expect_code(2).expect_error("E0702");
    assert!(run.stdout.is_empty(), "{}", run.stdout);
}

/// An unreachable collector loses spans, never the run.
#[test]
fn an_unreachable_collector_does_not_fail_the_run() {
    let args = export_args("otlp-http", "http://127.0.0.1:9", "1.0");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = project().run(&args);
    run.expect_code(0);
    assert_eq!(run.stdout.lines().count(), 1, "{}", run.stdout);
}

/// `torvyn trace --trace-format otlp --output-trace FILE` writes OTLP JSON
/// lines holding the same tree.
#[test]
fn trace_writes_otlp_json_lines() {
    let project = project();
    let path = project.path().join("spans.jsonl");
    let path_arg = path.display().to_string();
    let run = project.run(&[
        "trace",
        "--trace-format",
        "otlp",
        "--output-trace",
        &path_arg,
    ]);
    run.expect_code(0);
    let text = std::fs::read_to_string(&path).expect("the span file");
    let mut spans = 0;
    let mut trace_ids = std::collections::BTreeSet::new();
    for line in text.lines() {
        let request: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
        for resource in request["resourceSpans"].as_array().expect("resourceSpans") {
            for scope in resource["scopeSpans"].as_array().expect("scopeSpans") {
                for span in scope["spans"].as_array().expect("spans") {
                    spans += 1;
                    trace_ids.insert(span["traceId"].as_str().expect("traceId").to_string());
                }
            }
        }
    }
    // Root, three calls per element, the source's last pull.
    assert_eq!(spans, 3 * ELEMENTS + 2, "{text}");
    assert_eq!(trace_ids.len(), 1, "one trace: {trace_ids:?}");
}

/// `otlp_metrics_enabled`: the metrics catalog reaches the collector of
/// `tracing_exporter` — at least the push made when the run ends, holding
/// the run's final counts.
fn metrics_are_pushed(exporter: &str, receiver: &OtlpReceiver, endpoint: &str) {
    let mut args = export_args(exporter, endpoint, "0.0");
    args.extend([
        "--config".into(),
        "observability.otlp_metrics_enabled=true".into(),
        "--config".into(),
        "observability.otlp_metrics_interval_s=1".into(),
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    project().run(&args).expect_code(0);
    let requests = receiver.metric_requests();
    let last = requests.last().expect("at least the final push");
    let delivered = last
        .iter()
        .find(|p| p.name == "torvyn_flow_elements_total" && p.kind == "sum")
        .unwrap_or_else(|| panic!("no torvyn_flow_elements_total in {last:#?}"));
    assert_eq!(delivered.value, ELEMENTS as f64, "{delivered:?}");
    assert!(
        delivered
            .attributes
            .iter()
            .any(|(k, v)| k == "flow" && v == "main"),
        "{delivered:?}"
    );
    assert!(
        last.iter().any(|p| p.kind == "gauge"),
        "gauges are pushed too: {last:#?}"
    );
}

#[test]
fn metrics_are_pushed_over_otlp_http() {
    let (receiver, endpoint) = OtlpReceiver::start_http();
    metrics_are_pushed("otlp-http", &receiver, &endpoint);
}

#[test]
fn metrics_are_pushed_over_otlp_grpc() {
    let (receiver, endpoint) = OtlpReceiver::start_grpc();
    metrics_are_pushed("otlp-grpc", &receiver, &endpoint);
}

/// Metrics push needs an OTLP collector: with the default exporter it is
/// refused (E0702) rather than silently ignored.
#[test]
fn metrics_push_without_an_otlp_exporter_is_e0702() {
    let run = project().run(&["run", "--config", "observability.otlp_metrics_enabled=true"]);
    run.expect_code(2).expect_error("E0702");
    assert!(run.stderr.contains("otlp-http"), "{}", run.stderr);
}
