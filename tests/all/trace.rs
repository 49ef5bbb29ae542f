//! `torvyn trace`: each element's path through the stages with timings,
//! buffers, copies, drops and backpressure, then the trace summary.

use crate::harness::{component, torvyn, Project, FILTER, SINK, SOURCE};

/// Replaces every duration token (`4.2µs`, `850ns`, `1.25ms`, `2.10s`,
/// with any punctuation around it) by `[t]`, and aligns nothing else: the
/// layout around timings is right-aligned in an 8-wide column, so the
/// column's padding is normalised too.
fn redact_timings(text: &str) -> String {
    text.lines()
        .map(|line| {
            let mut out = Vec::new();
            for token in line.split(' ') {
                out.push(redact_token(token));
            }
            // Collapse the padding runs that depended on timing widths.
            let joined = out.join(" ");
            let mut collapsed = String::new();
            let mut spaces = 0;
            let leading = joined.len() - joined.trim_start().len();
            collapsed.push_str(&joined[..leading]);
            for c in joined[leading..].chars() {
                if c == ' ' {
                    spaces += 1;
                    continue;
                }
                if spaces > 0 {
                    collapsed.push_str(if spaces > 1 { "  " } else { " " });
                    spaces = 0;
                }
                collapsed.push(c);
            }
            collapsed
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn redact_token(token: &str) -> String {
    let start = token
        .find(|c: char| c.is_ascii_digit())
        .unwrap_or(token.len());
    let (prefix, rest) = token.split_at(start);
    let number_end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let (number, tail) = rest.split_at(number_end);
    for unit in ["ns", "µs", "ms", "s"] {
        if let Some(after) = tail.strip_prefix(unit) {
            if !number.is_empty() && after.chars().all(|c| matches!(c, ')' | ',' | ';')) {
                return format!("{prefix}[t]{after}");
            }
        }
    }
    token.to_string()
}

fn counter_config(count: u64, size: usize) -> String {
    format!(r#"{{"count": {count}, "payload_size": {size}}}"#)
}

/// source → even-filter → quiet-sink over `count` counter elements.
fn filter_project(count: u64) -> Project {
    let source = component("counter-source");
    let filter = component("even-filter");
    let sink = component("quiet-sink");
    Project::dag(
        &[
            ("source", &source, SOURCE, &counter_config(count, 8)),
            ("filter", &filter, FILTER, ""),
            ("sink", &sink, SINK, ""),
        ],
        &[
            ("source", "output", "filter", ""),
            ("filter", "output", "sink", ""),
        ],
        "",
    )
}

#[test]
fn redaction_replaces_only_durations() {
    assert_eq!(
        redact_timings("  elem-0  ┬─ source  pull    48.0µs  B000 (25B, new)"),
        "  elem-0  ┬─ source  pull  [t]  B000 (25B, new)"
    );
    assert_eq!(
        redact_timings("  Avg latency:      425.1µs (p50: 127.6µs, p99: 1.10ms)"),
        "  Avg latency:  [t] (p50: [t], p99: [t])"
    );
}

/// Hello World, three elements: every element is pulled by the source
/// into a new buffer and lent to the sink; the guests' lines come first,
/// then the trace.
#[test]
fn trace_hello_world_shows_each_element_path() {
    let dir = torvyn_e2e::hello_world_dir();
    torvyn_e2e::build_hello_world();
    let run = torvyn(&dir, &["trace", "--limit", "3"]);
    run.expect_code(0);
    assert!(run
        .stderr
        .contains("Tracing flow 'main' (limit: 3 elements)"));
    let trace_start = run.stdout.find("  elem-0").expect("a traced element");
    let (guests, trace) = run.stdout.split_at(trace_start);
    assert!(guests.contains("[hello-sink] seq=2: Hello, World! (message 3)"));
    assert_eq!(trace.matches("┬─ source  pull").count(), 3, "{trace}");
    assert_eq!(trace.matches("└─ sink    push").count(), 3, "{trace}");
    assert!(trace.contains("Elements traced:  3"), "{trace}");
    insta::assert_snapshot!("trace_hello_world", redact_timings(&run.stdout));
}

/// A filter pipeline: odd elements stop at the filter (`drop`), even ones
/// pass on the same buffer and reach the sink; `--show-buffers` shows each
/// payload.
#[test]
fn trace_filter_pipeline_shows_drops_and_payloads() {
    let project = filter_project(4);
    let run = project.run(&["trace", "flow.main", "--show-buffers"]);
    run.expect_code(0);
    let out = &run.stdout;
    assert_eq!(out.matches("  drop").count(), 2, "{out}");
    assert_eq!(out.matches("  pass").count(), 2, "{out}");
    assert_eq!(out.matches("└─ sink").count(), 2, "{out}");
    assert!(out.contains("payload: "), "{out}");
    assert!(out.contains("Dropped:          2"), "{out}");
    insta::assert_snapshot!("trace_filter_pipeline", redact_timings(out));
}

/// `--trace-format json` writes JSON lines: the flow with its W3C trace
/// id, one object per element with every call's span id, and a summary.
#[test]
fn trace_json_carries_ids_calls_and_summary() {
    let project = filter_project(6);
    let run = project.run(&["trace", "--trace-format", "json"]);
    run.expect_code(0);
    let lines: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    let flow = lines
        .iter()
        .find(|l| l["type"] == "flow")
        .expect("flow line");
    let trace_id = flow["trace_id"].as_str().expect("trace id");
    assert_eq!(trace_id.len(), 32);
    assert_ne!(trace_id, "0".repeat(32));
    let elements: Vec<_> = lines.iter().filter(|l| l["type"] == "element").collect();
    assert_eq!(elements.len(), 6);
    for element in &elements {
        for call in element["calls"].as_array().expect("calls") {
            assert_eq!(call["span_id"].as_str().map(str::len), Some(16), "{call}");
            assert!(call["duration_ns"].as_u64().is_some());
        }
    }
    let summary = lines.last().expect("summary");
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["elements"], 6);
    assert_eq!(summary["delivered"], 3);
    assert_eq!(summary["dropped"], 3);
}

/// A sink that pauses makes its queue fill: `--show-backpressure` prints
/// the episodes inline and the summary counts them.
#[test]
fn trace_show_backpressure_prints_episodes_inline() {
    let source = component("counter-source");
    let sink = component("slow-sink");
    let project = Project::dag(
        &[
            ("source", &source, SOURCE, &counter_config(200, 16)),
            ("sink", &sink, SINK, r#"{"pause_every": 4}"#),
        ],
        &[(
            "source",
            "output",
            "sink",
            r#"backpressure = { queue_depth = 4, policy = "block" }"#,
        )],
        "",
    );
    let run = project.run(&["trace", "--show-backpressure"]);
    run.expect_code(0);
    let out = &run.stdout;
    assert!(
        out.contains("backpressure ACTIVATED  source-to-sink  queue 4/4"),
        "{out}"
    );
    assert!(out.contains("backpressure relieved"), "{out}");
    let events: u64 = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("Backpressure:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("a Backpressure line");
    assert!(events >= 1, "{out}");
    // Without the flag the episodes are counted, not printed.
    let quiet = project.run(&["trace"]);
    quiet.expect_code(0);
    assert!(!quiet.stdout.contains("ACTIVATED"));
}

/// `--output-trace` puts the trace in a file; stdout keeps only the
/// guests' output.
#[test]
fn trace_output_file_holds_the_trace() {
    let project = filter_project(2);
    let path = project.path().join("trace.txt");
    let path_arg = path.display().to_string();
    let run = project.run(&["trace", "--output-trace", &path_arg]);
    run.expect_code(0);
    assert!(!run.stdout.contains("elem-0"), "{}", run.stdout);
    let written = std::fs::read_to_string(&path).expect("the trace file");
    assert!(written.contains("elem-0"));
    assert!(written.contains("Trace Summary"));
    assert!(run.stderr.contains("Trace written to"));
}

/// A trace file that cannot be written is a clear E0702 naming the flag,
/// not a panic; the flow itself ran.
#[test]
fn trace_output_to_a_missing_directory_is_e0702() {
    let project = filter_project(2);
    let run = project.run(&["trace", "--output-trace", "/nonexistent-dir/trace.txt"]);
    run.expect_code(2).expect_error("E0702");
    assert!(run.stderr.contains("--output-trace"), "{}", run.stderr);
}

/// A guest that traps: the trace still prints, shows the failing call, and
/// the command exits like `torvyn run` would.
#[test]
fn trace_of_a_trapping_guest_shows_the_failed_call() {
    let source = component("counter-source");
    let trap = component("trap-processor");
    let sink = component("quiet-sink");
    let project = Project::dag(
        &[
            ("source", &source, SOURCE, &counter_config(5, 8)),
            ("trap", &trap, crate::harness::PROCESSOR, r#"{"at": 2}"#),
            ("sink", &sink, SINK, ""),
        ],
        &[
            ("source", "output", "trap", ""),
            ("trap", "output", "sink", ""),
        ],
        "",
    );
    // Supervised (the default): the component restarts and the flow
    // completes; the failed call is in the trace.
    let run = project.run(&["trace"]);
    run.expect_code(0);
    assert!(run.stdout.contains("FAILED"), "{}", run.stdout);
    assert!(run.stdout.contains("Failed:           1"), "{}", run.stdout);
    // Without restarts the flow fails as under `torvyn run`, and the
    // trace up to the failure is still printed.
    let run = project.run(&["trace", "--config", "flow.main.supervision.max_restarts=0"]);
    run.expect_code(1).expect_error("E0410");
    assert!(run.stdout.contains("FAILED"), "{}", run.stdout);
}
